/* SPDX-License-Identifier: MIT */
#include "saf/cursor.h"

#include <string.h>

void saf_reader_init(saf_reader *r, const uint8_t *buf, size_t len)
{
	r->base = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
}

size_t saf_reader_left(const saf_reader *r)
{
	return r->len - r->pos;
}

static int need(const saf_reader *r, size_t n, const char *what,
		saf_error *err)
{
	if (saf_reader_left(r) < n)
		return saf_fail(err, SAF_E_SHORT,
				"%s: needs %zu bytes, %zu left", what, n,
				saf_reader_left(r));
	return 0;
}

int saf_get_u8(saf_reader *r, uint8_t *v, const char *what, saf_error *err)
{
	if (need(r, 1, what, err))
		return -1;
	*v = r->base[r->pos++];
	return 0;
}

int saf_get_u16(saf_reader *r, uint16_t *v, const char *what, saf_error *err)
{
	if (need(r, 2, what, err))
		return -1;
	*v = (uint16_t)((unsigned)r->base[r->pos] << 8 | r->base[r->pos + 1]);
	r->pos += 2;
	return 0;
}

int saf_get_u64(saf_reader *r, uint64_t *v, const char *what, saf_error *err)
{
	uint64_t x = 0;

	if (need(r, 8, what, err))
		return -1;
	for (size_t i = 0; i < 8; i++)
		x = x << 8 | r->base[r->pos + i];
	r->pos += 8;
	*v = x;
	return 0;
}

int saf_get_bytes(saf_reader *r, size_t n, saf_slice *out, const char *what,
		  saf_error *err)
{
	if (need(r, n, what, err))
		return -1;
	out->base = r->base + r->pos;
	out->len = n;
	r->pos += n;
	return 0;
}

int saf_get_vec8(saf_reader *r, size_t min, size_t max, saf_slice *out,
		 const char *what, saf_error *err)
{
	saf_reader save = *r;
	uint8_t n;

	if (saf_get_u8(r, &n, what, err))
		return -1;
	if (n < min || n > max) {
		*r = save;
		return saf_fail(err, SAF_E_RANGE,
				"%s: length %u outside %zu..%zu", what, n, min,
				max);
	}
	if (saf_get_bytes(r, n, out, what, err)) {
		*r = save;
		return -1;
	}
	return 0;
}

int saf_reader_expect_end(const saf_reader *r, const char *what,
			  saf_error *err)
{
	if (saf_reader_left(r) != 0)
		return saf_fail(err, SAF_E_TRAILING, "%s: %zu trailing bytes",
				what, saf_reader_left(r));
	return 0;
}

void saf_writer_init(saf_writer *w, uint8_t *buf, size_t cap)
{
	w->base = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->failed = false;
}

static bool room(saf_writer *w, size_t n)
{
	if (w->failed || w->cap - w->len < n) {
		w->failed = true;
		return false;
	}
	return true;
}

void saf_put_u8(saf_writer *w, uint8_t v)
{
	if (room(w, 1))
		w->base[w->len++] = v;
}

void saf_put_u16(saf_writer *w, uint16_t v)
{
	if (!room(w, 2))
		return;
	w->base[w->len++] = (uint8_t)(v >> 8);
	w->base[w->len++] = (uint8_t)v;
}

void saf_put_u64(saf_writer *w, uint64_t v)
{
	if (!room(w, 8))
		return;
	for (int shift = 56; shift >= 0; shift -= 8)
		w->base[w->len++] = (uint8_t)(v >> shift);
}

void saf_put_bytes(saf_writer *w, const uint8_t *p, size_t n)
{
	if (n == 0 || !room(w, n))
		return;
	memcpy(w->base + w->len, p, n);
	w->len += n;
}

void saf_put_vec8(saf_writer *w, const uint8_t *p, size_t n)
{
	if (n > 255) {
		w->failed = true;
		return;
	}
	saf_put_u8(w, (uint8_t)n);
	saf_put_bytes(w, p, n);
}

int saf_writer_finish(const saf_writer *w, const char *what, saf_error *err)
{
	if (w->failed)
		return saf_fail(err, SAF_E_NOSPACE,
				"%s: does not fit in %zu bytes", what, w->cap);
	return 0;
}
