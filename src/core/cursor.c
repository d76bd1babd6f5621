/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked big-endian reader and writer. A failed get leaves the
 * reader where it was; a failed put marks the writer failed (sticky) and
 * writes nothing, so an encoder can put everything and check once.
 */
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

static int need(const saf_reader *r, size_t n, const char *what, saf_error *err)
{
	size_t left = saf_reader_left(r);

	if (left < n)
		return saf_fail(err, SAF_E_SHORT,
				"%s: needs %zu byte%s, %zu left", what, n,
				n == 1 ? "" : "s", left);
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
	const uint8_t *p;

	if (need(r, 2, what, err))
		return -1;
	p = r->base + r->pos;
	*v = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	r->pos += 2;
	return 0;
}

int saf_get_u64(saf_reader *r, uint64_t *v, const char *what, saf_error *err)
{
	const uint8_t *p;
	uint64_t x = 0;

	if (need(r, 8, what, err))
		return -1;
	p = r->base + r->pos;
	for (size_t i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = x;
	r->pos += 8;
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
	size_t start = r->pos;
	uint8_t n;

	if (need(r, 1, what, err))
		return -1;
	n = r->base[r->pos];
	if (n < min || n > max)
		return saf_fail(err, SAF_E_RANGE,
				"%s: length %u outside %zu..%zu", what, n, min,
				max);
	r->pos++;
	if (saf_get_bytes(r, n, out, what, err)) {
		r->pos = start;
		return -1;
	}
	return 0;
}

int saf_reader_expect_end(const saf_reader *r, const char *what, saf_error *err)
{
	size_t left = saf_reader_left(r);

	if (left)
		return saf_fail(err, SAF_E_TRAILING,
				"%s: %zu trailing byte%s after the end", what,
				left, left == 1 ? "" : "s");
	return 0;
}

void saf_writer_init(saf_writer *w, uint8_t *buf, size_t cap)
{
	w->base = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->failed = false;
}

/* Reserves n bytes; NULL (and the writer failed) when they do not fit. */
static uint8_t *reserve(saf_writer *w, size_t n)
{
	uint8_t *p;

	if (w->failed || w->cap - w->len < n) {
		w->failed = true;
		return NULL;
	}
	p = w->base + w->len;
	w->len += n;
	return p;
}

void saf_put_u8(saf_writer *w, uint8_t v)
{
	uint8_t *p = reserve(w, 1);

	if (p)
		p[0] = v;
}

void saf_put_u16(saf_writer *w, uint16_t v)
{
	uint8_t *p = reserve(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void saf_put_u64(saf_writer *w, uint64_t v)
{
	uint8_t *p = reserve(w, 8);

	if (p) {
		for (size_t i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (56 - 8 * i));
	}
}

void saf_put_bytes(saf_writer *w, const uint8_t *src, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	p = reserve(w, n);
	if (p)
		memcpy(p, src, n);
}

void saf_put_vec8(saf_writer *w, const uint8_t *src, size_t n)
{
	if (n > 255) {
		w->failed = true;
		return;
	}
	if (w->failed || w->cap - w->len < n + 1) {
		w->failed = true;
		return;
	}
	saf_put_u8(w, (uint8_t)n);
	saf_put_bytes(w, src, n);
}

int saf_writer_finish(const saf_writer *w, const char *what, saf_error *err)
{
	if (w->failed)
		return saf_fail(err, SAF_E_NOSPACE,
				"%s: does not fit in %zu bytes", what, w->cap);
	return 0;
}
