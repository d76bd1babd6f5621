/* SPDX-License-Identifier: MIT */
/* libFuzzer: the text parsers every command line goes through: addresses
 * with ports, prefixes, hex. A parsed address must print and parse back to
 * the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/addr.h"
#include "saf/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[128], again[SAF_ADDR_STR_LEN];
	uint8_t bytes[64];
	saf_addr a, b;
	unsigned plen;
	size_t n;
	saf_error err;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (saf_addr_parse(text, false, &a, &err) == 0) {
		saf_addr_format(&a, again);
		if (saf_addr_parse(again, false, &b, &err) != 0 ||
		    !saf_addr_equal(&a, &b))
			abort();
	}
	if (saf_addr_prefix_parse(text, &a, &plen, &err) == 0 &&
	    plen > (a.family == 4 ? 32u : 128u))
		abort();
	/* (void) does not silence warn_unused_result under gcc, and the
	 * length is worth checking anyway. */
	if (saf_hex_decode(text, bytes, sizeof(bytes), &n, &err) == 0 &&
	    n > sizeof(bytes))
		abort();
	return 0;
}
