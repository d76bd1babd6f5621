/* SPDX-License-Identifier: MIT */
/*
 * CATS metric levels (include/saf/cats.h, docs/sched.md): level 0 raw
 * values to level 1 categories to the level 2 norm_fi score. Integer
 * octets on the wire, so every step clamps and rounds to 0..10.
 */
#include <math.h>

#include "saf/cats.h"

saf_cats_config saf_cats_config_default(void)
{
	return (saf_cats_config){
		.w_cpu = 0.8,
		.w_mem = 0.2,
		.conns_ref = 256,
		.delay_ref_us = 10000,
		.w_computing = 0.6,
		.w_communication = 0.3,
		.w_service = 0.1,
	};
}

static uint8_t octet(double x)
{
	if (!(x > 0)) /* also NaN */
		return 0;
	if (x >= SAF_CATS_MAX)
		return SAF_CATS_MAX;
	/* Halves round up; the nudge keeps 8.4999999 (weights 0.6 + 0.3 +
	 * 0.1 do not sum to exactly 1 in binary) from rounding down. */
	return (uint8_t)floor(x + 0.5 + 1e-9);
}

static double permille(uint16_t v)
{
	return (v > 1000 ? 1000 : v) / 1000.0;
}

/* ref / (ref + x): 1 at x = 0, 1/2 at x = ref, falling towards 0. */
static double half_at(double x, double ref)
{
	if (ref <= 0)
		return x > 0 ? 0 : 1;
	return ref / (ref + x);
}

saf_cats_l1 saf_cats_level1(const saf_cats_config *c, const saf_cats_l0 *l0)
{
	double wsum = c->w_cpu + c->w_mem;
	double used = wsum > 0 ? (c->w_cpu * permille(l0->cpu_permille) +
				  c->w_mem * permille(l0->mem_permille)) /
					 wsum
			       : 0;
	double delay = l0->delay_known ? (double)l0->delay_us
				       : (double)c->delay_ref_us;
	saf_cats_l1 l1 = {
		.computing = octet(SAF_CATS_MAX * (1.0 - used) *
				   permille(l0->capacity)),
		.communication =
			octet(SAF_CATS_MAX * half_at(delay, c->delay_ref_us)),
		.service =
			octet(SAF_CATS_MAX * half_at(l0->conns, c->conns_ref)),
		.meta = {.source = SAF_CATS_SRC_NORMALIZATION,
			 .statistics = l0->cpu_meta.statistics,
			 .window_ms = l0->cpu_meta.window_ms},
	};
	return l1;
}

saf_cats_l2 saf_cats_level2(const saf_cats_config *c, const saf_cats_l1 *l1)
{
	double wsum = c->w_computing + c->w_communication + c->w_service;
	double v = wsum > 0 ? (c->w_computing * l1->computing +
			       c->w_communication * l1->communication +
			       c->w_service * l1->service) /
				      wsum
			    : 0;

	return (saf_cats_l2){.norm_fi = octet(v),
			     .meta = {.source = SAF_CATS_SRC_AGGREGATION,
				      .statistics = l1->meta.statistics,
				      .window_ms = l1->meta.window_ms}};
}

saf_cats_l2 saf_cats_score(const saf_cats_config *c, const saf_cats_l0 *l0)
{
	saf_cats_l1 l1 = saf_cats_level1(c, l0);

	return saf_cats_level2(c, &l1);
}

void saf_cats_trigger_init(saf_cats_trigger *t, unsigned threshold,
			   uint64_t min_gap_ms)
{
	*t = (saf_cats_trigger){.threshold = threshold ? threshold : 1,
				.min_gap_ms = min_gap_ms,
				.last_sent = -1};
}

bool saf_cats_trigger_check(saf_cats_trigger *t, unsigned norm_fi,
			    uint64_t now_ms)
{
	unsigned moved;

	if (t->last_sent < 0)
		return false; /* the periodic report goes first */
	moved = norm_fi > (unsigned)t->last_sent
			? norm_fi - (unsigned)t->last_sent
			: (unsigned)t->last_sent - norm_fi;
	if (moved < t->threshold)
		return false;
	if (t->any_extra && now_ms - t->last_extra_ms < t->min_gap_ms) {
		t->limited++;
		return false;
	}
	return true;
}

void saf_cats_trigger_sent(saf_cats_trigger *t, unsigned norm_fi,
			   uint64_t now_ms, bool extra)
{
	t->last_sent = (int)norm_fi;
	if (extra) {
		t->extra++;
		t->any_extra = true;
		t->last_extra_ms = now_ms;
	}
}
