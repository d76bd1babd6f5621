/* SPDX-License-Identifier: MIT */
/*
 * The node agent's distributed mode (the CATS framework's distributed
 * model): each report's metrics become the node's L2 score, and the node's
 * own speaker announces S with it. The ingress routers choose; no saf
 * process runs on them.
 */
#include "saf/bgp.h"
#include "saf/cats.h"
#include "saf/sched.h"

void saf_bgp_node_init(saf_bgp_node *n, const saf_bgp_speaker_cfg *sp,
		       const saf_bgp_steer_cfg *steer)
{
	saf_bgp_driver_init(&n->drv, sp);
	n->steer = *steer;
	n->score = -1;
	n->changes = 0;
	n->score_of = NULL;
	n->score_ctx = NULL;
}

/* The CATS level 2 score norm_fi (include/saf/cats.h, default mapping),
 * 0..10 as SAF_BGP_SCORE_MAX. The node cannot measure its delay from the
 * ingress routers: communication_comb stays neutral (5) on every node. */
static unsigned default_score(const saf_sched_msg *m)
{
	saf_cats_config c = saf_cats_config_default();
	saf_cats_l0 l0 = saf_sched_msg_l0(m, -1);

	return saf_cats_score(&c, &l0).norm_fi;
}

void saf_bgp_node_on_metrics(void *ctx, const struct saf_sched_msg *m,
			     uint64_t now_ms)
{
	saf_bgp_node *n = ctx;
	saf_bgp_route r[2];
	size_t count = 0;
	int score = -1;
	saf_error err;

	if (m->available) {
		score = (int)(n->score_of ? n->score_of(n->score_ctx, m, now_ms)
					  : default_score(m));
		count = saf_bgp_node_routes(&n->steer, (unsigned)score, r);
	}
	if (score != n->score) {
		n->score = score;
		n->changes++;
		if (saf_bgp_driver_set(&n->drv, r, count, now_ms, &err) &&
		    !n->drv.quiet)
			fprintf(stderr, "saf: bgp: %s\n", err.msg);
	}
	saf_bgp_driver_tick(&n->drv, now_ms);
}

void saf_bgp_node_stop(saf_bgp_node *n)
{
	saf_bgp_driver_stop(&n->drv);
}
