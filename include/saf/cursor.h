/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked reading and writing of wire bytes. Every codec in saf goes
 * through these; no codec indexes a raw buffer.
 *
 * A reader borrows its bytes (no copy, no allocation). Every get fails, and
 * leaves the cursor unchanged, when fewer bytes remain than asked for.
 * A writer fills a caller-owned buffer and fails instead of overflowing.
 * All integers are big-endian (network order).
 */
#ifndef SAF_CURSOR_H
#define SAF_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/error.h"

/* A borrowed slice of bytes. */
typedef struct saf_slice {
	const uint8_t *base;
	size_t len;
} saf_slice;

typedef struct saf_reader {
	const uint8_t *base;
	size_t len;
	size_t pos;
} saf_reader;

typedef struct saf_writer {
	uint8_t *base;
	size_t cap;
	size_t len;
	bool failed; /* sticky: set by the first write that did not fit */
} saf_writer;

void saf_reader_init(saf_reader *r, const uint8_t *buf, size_t len);
size_t saf_reader_left(const saf_reader *r);

/* Each returns 0, or -1 with *err set to SAF_E_SHORT naming `what`. */
SAF_MUST_CHECK int saf_get_u8(saf_reader *r, uint8_t *v, const char *what,
			      saf_error *err);
SAF_MUST_CHECK int saf_get_u16(saf_reader *r, uint16_t *v, const char *what,
			       saf_error *err);
SAF_MUST_CHECK int saf_get_u64(saf_reader *r, uint64_t *v, const char *what,
			       saf_error *err);
/* Borrows the next n bytes into *out (no copy). */
SAF_MUST_CHECK int saf_get_bytes(saf_reader *r, size_t n, saf_slice *out,
				 const char *what, saf_error *err);
/* Reads a 1-byte length prefix and that many bytes; the length must lie in
 * [min, max] (SAF_E_RANGE otherwise). */
SAF_MUST_CHECK int saf_get_vec8(saf_reader *r, size_t min, size_t max,
				saf_slice *out, const char *what,
				saf_error *err);
/* Fails with SAF_E_TRAILING unless every byte was consumed. */
SAF_MUST_CHECK int saf_reader_expect_end(const saf_reader *r,
					 const char *what, saf_error *err);

void saf_writer_init(saf_writer *w, uint8_t *buf, size_t cap);
void saf_put_u8(saf_writer *w, uint8_t v);
void saf_put_u16(saf_writer *w, uint16_t v);
void saf_put_u64(saf_writer *w, uint64_t v);
void saf_put_bytes(saf_writer *w, const uint8_t *p, size_t n);
/* Writes a 1-byte length then the bytes; fails (sticky) if n > 255. */
void saf_put_vec8(saf_writer *w, const uint8_t *p, size_t n);
/* 0 if every put fitted, else -1 with SAF_E_NOSPACE naming `what`. */
SAF_MUST_CHECK int saf_writer_finish(const saf_writer *w, const char *what,
				     saf_error *err);

#endif /* SAF_CURSOR_H */
