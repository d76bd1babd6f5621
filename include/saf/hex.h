/* SPDX-License-Identifier: MIT */
/* Hex text <-> bytes, for the CLI, test vectors and logs of public values. */
#ifndef SAF_HEX_H
#define SAF_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "saf/error.h"

/* Decodes hex (upper or lower case, no separators) into out[cap]; sets
 * *out_len. Fails on odd length, a non-hex character (naming its position)
 * or when cap is too small. */
SAF_MUST_CHECK int saf_hex_decode(const char *text, uint8_t *out, size_t cap,
				  size_t *out_len, saf_error *err);
/* Writes 2*len lowercase hex digits and a NUL into out (size 2*len+1). */
void saf_hex_encode(const uint8_t *p, size_t len, char *out);

#endif /* SAF_HEX_H */
