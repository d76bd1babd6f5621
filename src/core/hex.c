/* SPDX-License-Identifier: MIT */
#include "saf/hex.h"

#include <string.h>

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int saf_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len,
		   saf_error *err)
{
	size_t n = strlen(text);

	if (n % 2)
		return saf_fail(err, SAF_E_FORMAT,
				"hex: odd number of digits (%zu)", n);
	if (n / 2 > cap)
		return saf_fail(err, SAF_E_RANGE,
				"hex: %zu bytes, at most %zu allowed", n / 2,
				cap);
	for (size_t i = 0; i < n; i += 2) {
		int hi = nibble(text[i]), lo = nibble(text[i + 1]);

		if (hi < 0 || lo < 0) {
			size_t at = hi < 0 ? i : i + 1;
			unsigned char c = (unsigned char)text[at];

			if (c >= 0x21 && c < 0x7f)
				return saf_fail(err, SAF_E_FORMAT,
						"hex: '%c' at position %zu is "
						"not a hex digit",
						c, at);
			return saf_fail(err, SAF_E_FORMAT,
					"hex: byte 0x%02x at position %zu is "
					"not a hex digit",
					c, at);
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = n / 2;
	return 0;
}

void saf_hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}
