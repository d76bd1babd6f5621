/* SPDX-License-Identifier: MIT */
/* libFuzzer: saf_prefix_parse and the target policy built from it. A parsed
 * prefix has a length within its family, contains its own address, and an
 * allow list of it never lets through what the policy always refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t never4[][4] = {
		{0, 0, 0, 0}, {224, 0, 0, 1}, {255, 255, 255, 255}};
	char text[160];
	saf_target_policy pol;
	saf_prefix p;
	saf_error err;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (saf_prefix_parse(text, &p, &err) == 0) {
		if ((p.addr.family != 4 && p.addr.family != 6) ||
		    p.len > (p.addr.family == 4 ? 32u : 128u) ||
		    !saf_prefix_contains(&p, &p.addr) ||
		    saf_target_policy_check(NULL, &p.addr, "fuzz", &err) < -1)
			abort();
	}
	saf_target_policy_init(&pol);
	if (saf_target_policy_allow(&pol, text, &err) == 0) {
		if (pol.n_allow == 0 || pol.n_allow > SAF_POLICY_MAX_ALLOW)
			abort();
		for (size_t i = 0; i < sizeof(never4) / sizeof(never4[0]);
		     i++) {
			saf_addr a;

			memset(&a, 0, sizeof(a));
			a.family = 4;
			memcpy(a.bytes, never4[i], 4);
			if (saf_target_policy_check(&pol, &a, "fuzz", &err) ==
			    0)
				abort();
		}
	} else if (pol.n_allow != 0) {
		abort(); /* a failed call leaves the policy unchanged */
	}
	return 0;
}
