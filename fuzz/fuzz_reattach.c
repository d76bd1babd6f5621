/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the reattach extension's bodies (src/wire/reattach.c):
 * the ClientHello mode byte and the EncryptedExtensions credential.
 *
 * Properties: decoding never reads out of bounds; the hello decodes only
 * from exactly one byte 0 or 1, to that mode; a credential that decodes
 * encodes back to exactly the input bytes, in no more than
 * SAF_REATTACH_CRED_MAX, carries a port, and does not fit in one byte less;
 * a refused input leaves the output as it was and says why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/reattach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void hello(const uint8_t *data, size_t size)
{
	saf_reattach_mode m = (saf_reattach_mode)0x55;
	saf_error err;
	int r = saf_reattach_hello_decode(data, size, &m, &err);
	bool valid = size == 1 && data[0] <= SAF_REATTACH_MODE_REATTACH;

	if ((r == 0) != valid)
		abort();
	if (r == 0 && (unsigned)m != data[0])
		abort();
	if (r != 0 && ((unsigned)m != 0x55 || err.msg[0] == '\0'))
		abort();
}

static void credential(const uint8_t *data, size_t size)
{
	uint8_t out[SAF_REATTACH_CRED_MAX + 16];
	saf_reattach_cred c, untouched;
	saf_error err;
	size_t n;

	memset(&c, 0xa5, sizeof(c));
	untouched = c;
	if (saf_reattach_cred_decode(data, size, &c, &err)) {
		if (memcmp(&c, &untouched, sizeof(c)) != 0 ||
		    err.msg[0] == '\0')
			abort();
		return;
	}
	if (!c.target.has_port || c.target.port == 0 ||
	    (c.target.family != 4 && c.target.family != 6))
		abort();
	n = saf_reattach_cred_encode(&c, out, sizeof(out));
	if (n == 0 || n > SAF_REATTACH_CRED_MAX)
		abort();
	if (n != size || memcmp(out, data, size) != 0)
		abort();
	if (saf_reattach_cred_encode(&c, out, n - 1) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hello(data, size);
	credential(data, size);
	return 0;
}
