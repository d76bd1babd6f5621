/* SPDX-License-Identifier: MIT */
/* libFuzzer: the parser of ExaBGP's text messages, on each input as one
 * line; whatever parses has a printable, terminated reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/bgp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	saf_exabgp_msg m;
	saf_error err;

	if (saf_exabgp_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	if (m.type < SAF_EXABGP_DONE || m.type > SAF_EXABGP_OTHER ||
	    memchr(m.reason, '\0', sizeof(m.reason)) == NULL)
		abort();
	for (size_t i = 0; m.reason[i]; i++)
		if (m.reason[i] < 0x20 || m.reason[i] > 0x7e)
			abort();
	return 0;
}
