/* SPDX-License-Identifier: MIT */
/* libFuzzer: the scheduler's report/probe datagram parser, twice per input:
 * the bytes as received (a random MAC: never accepted), and the bytes as a
 * body sealed with the right MAC, so the parser's success path is reached
 * too. Whatever decodes must encode back to the same bytes. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[SAF_SCHED_KEY_LEN] = { 0x42 };

static void round_trip(const uint8_t *buf, size_t len)
{
	uint8_t again[SAF_SCHED_MSG_MAX + 64];
	saf_sched_msg m;
	saf_error err;
	size_t n;

	if (saf_sched_msg_decode(buf, len, key, &m, &err) != 0)
		return;
	if (saf_sched_msg_encode(&m, key, again, sizeof(again), &n, &err) != 0 ||
	    n != len || memcmp(again, buf, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sealed[SAF_SCHED_MSG_MAX + SAF_SCHED_MAC_LEN];
	unsigned int maclen = 0;

	round_trip(data, size);
	if (size > SAF_SCHED_MSG_MAX)
		return 0;
	memcpy(sealed, data, size);
	if (!HMAC(EVP_sha256(), key, sizeof(key), data, size, sealed + size,
		  &maclen) ||
	    maclen != SAF_SCHED_MAC_LEN)
		abort();
	round_trip(sealed, size + SAF_SCHED_MAC_LEN);
	return 0;
}
