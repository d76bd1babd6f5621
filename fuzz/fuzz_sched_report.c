/* SPDX-License-Identifier: MIT */
/* libFuzzer: the scheduler's report/probe datagram parser. Whatever
 * decodes (under the fixed key) must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[SAF_SCHED_KEY_LEN] = { 0x42 };
	uint8_t again[SAF_SCHED_MSG_MAX + 64];
	saf_sched_msg m;
	saf_error err;
	size_t n;

	if (saf_sched_msg_decode(data, size, key, &m, &err) != 0)
		return 0;
	if (saf_sched_msg_encode(&m, key, again, sizeof(again), &n, &err) != 0 ||
	    n != size || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
