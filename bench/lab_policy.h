/* SPDX-License-Identifier: MIT */
/* The benches run clients in the lab (scripts/lab), whose unicast
 * addresses are private (10.30.k.2, fd00:30:k::2): the client target policy
 * must allow them, as `--allow-target 10.30.0.0/16,fd00:30::/32` does for
 * the saf commands. */
#ifndef SAF_BENCH_LAB_POLICY_H
#define SAF_BENCH_LAB_POLICY_H

#include <stdio.h>
#include <stdlib.h>

#include "saf/policy.h"

#define SAF_BENCH_LAB_PREFIXES "10.30.0.0/16,fd00:30::/32"

static inline void saf_bench_lab_policy(saf_target_policy *p)
{
	saf_error err;

	saf_target_policy_init(p);
	if (saf_target_policy_allow(p, SAF_BENCH_LAB_PREFIXES, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(2);
	}
}

#endif /* SAF_BENCH_LAB_POLICY_H */
