/* SPDX-License-Identifier: MIT */
/*
 * The SAF_DEBUG line, built without stdio or malloc: printf and
 * inet_ntop are not async-signal-safe, and this runs inside connect().
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

void saf_line_str(saf_line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

void saf_line_uint(saf_line *l, unsigned long v)
{
	char d[24];
	size_t n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(d));
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = d[--n];
}

static void hex16(saf_line *l, unsigned v)
{
	static const char x[] = "0123456789abcdef";
	bool started = false;

	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned nib = (v >> shift) & 0xfu;

		if (nib || started || shift == 0) {
			char c[2] = {x[nib], 0};

			saf_line_str(l, c);
			started = true;
		}
	}
}

/* RFC 5952: the longest run (>= 2) of zero groups, the first one on a
 * tie, becomes "::". */
static void ip6(saf_line *l, const uint8_t *b)
{
	unsigned g[8];
	int best = -1, best_len = 1;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			saf_line_str(l, "::");
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			saf_line_str(l, ":");
		hex16(l, g[i]);
	}
}

void saf_line_addr(saf_line *l, const saf_addr *a)
{
	if (a->family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				saf_line_str(l, ".");
			saf_line_uint(l, a->bytes[i]);
		}
	} else {
		saf_line_str(l, "[");
		ip6(l, a->bytes);
		saf_line_str(l, "]");
	}
	saf_line_str(l, ":");
	saf_line_uint(l, a->port);
}

void saf_line_errno(saf_line *l, int e)
{
	/* A pointer into a static table: no locale, no allocation. */
	const char *name = strerrorname_np(e);

	if (name) {
		saf_line_str(l, name);
	} else {
		saf_line_str(l, "errno ");
		saf_line_uint(l, (unsigned long)e);
	}
}

void saf_line_emit(saf_line *l)
{
	ssize_t n;

	l->buf[l->len++] = '\n';
	do
		n = write(2, l->buf, l->len);
	while (n < 0 && errno == EINTR);
}
