/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's centralized mode: the scheduler's own speaker announces
 * S through the chosen node with a LOCAL_PREF above the nodes' own
 * announcements. When the scheduler dies its speaker's sessions close and
 * the routers fall back to the nodes' routes: no blackhole.
 */
#include <stdio.h>
#include <string.h>

#include "saf/bgp.h"
#include "saf/sched.h"

void saf_bgp_sched_init(saf_bgp_sched *b, const saf_bgp_speaker_cfg *sp,
			const saf_addr *anycast, size_t n_anycast,
			uint32_t local_pref)
{
	memset(b, 0, sizeof(*b));
	saf_bgp_driver_init(&b->drv, sp);
	b->n_anycast = n_anycast > 2 ? 2 : n_anycast;
	memcpy(b->anycast, anycast, b->n_anycast * sizeof(*anycast));
	b->local_pref = local_pref;
}

void saf_bgp_sched_on_decision(void *ctx, const struct saf_sched *s,
			       uint64_t now_ms)
{
	saf_bgp_sched *b = ctx;
	saf_bgp_route r[2];
	size_t n = 0;
	saf_error err;

	if (s->current >= 0) {
		const saf_sched_node *node = &s->nodes[s->current];

		for (size_t a = 0; a < b->n_anycast; a++) {
			const saf_addr *nh = b->anycast[a].family == 4
						     ? &node->nexthop4
						     : &node->nexthop6;
			if (nh->family)
				saf_bgp_sched_route(&b->anycast[a], nh,
						    b->local_pref, &r[n++]);
		}
	}
	/* the driver sends only what differs from what it announced */
	if (saf_bgp_driver_set(&b->drv, r, n, now_ms, &err) && !b->drv.quiet)
		fprintf(stderr, "saf sched: bgp: %s\n", err.msg);
	saf_bgp_driver_tick(&b->drv, now_ms);
}
