/* SPDX-License-Identifier: MIT */
/*
 * CATS metrics (draft-ietf-cats-metric-definition, revision -11): a node's
 * raw measurements (level 0), normalised per category (level 1: computing,
 * communication, service) and folded into one score (level 2, norm_fi).
 * Levels 1 and 2 are one octet each, 0 (worst) .. 10 (best). Every value
 * carries the metadata the draft asks for: where it came from (Source),
 * which statistic of the window it is (Statistics) and the window it was
 * measured over (Measurement_Window).
 *
 * Pure: no I/O, no clock; the caller passes times in. The mapping from
 * level 0 to levels 1 and 2 is documented in docs/sched.md and set by
 * saf_cats_config.
 */
#ifndef SAF_CATS_H
#define SAF_CATS_H

#include <stdbool.h>
#include <stdint.h>

#define SAF_CATS_MAX 10u /* top of the level 1 and level 2 scale */

/* Source of a value (the draft's Source field). */
typedef enum saf_cats_source {
	SAF_CATS_SRC_NOMINAL = 0,	/* configured, not measured */
	SAF_CATS_SRC_ESTIMATION = 1,	/* measured or estimated */
	SAF_CATS_SRC_NORMALIZATION = 2, /* derived by normalising level 0 */
	SAF_CATS_SRC_AGGREGATION = 3,	/* folded from several values */
} saf_cats_source;

/* Statistic of the measurement window (the draft's Statistics field). */
typedef enum saf_cats_stat {
	SAF_CATS_STAT_CUR = 0, /* the latest sample */
	SAF_CATS_STAT_MEAN = 1,
	SAF_CATS_STAT_MAX = 2,
	SAF_CATS_STAT_MIN = 3,
} saf_cats_stat;

typedef struct saf_cats_meta {
	saf_cats_source source;
	saf_cats_stat statistics;
	uint32_t window_ms; /* Measurement_Window; 0: instantaneous */
} saf_cats_meta;

/* Level 0: raw values with their units. */
typedef struct saf_cats_l0 {
	uint16_t cpu_permille; /* CPU in use, 0..1000 */
	uint16_t mem_permille; /* memory in use, 0..1000 */
	uint16_t capacity;     /* permille of nominal capacity, 0..1000 */
	uint32_t conns;	       /* open connections or queued requests */
	uint32_t delay_us;     /* measured one-way delay */
	bool delay_known;      /* false: no measurement yet */
	saf_cats_meta cpu_meta, mem_meta, conns_meta, delay_meta;
} saf_cats_l0;

/* Level 1: one octet 0..10 per category (computing_comb,
 * communication_comb, service_comb), Source = normalization. */
typedef struct saf_cats_l1 {
	uint8_t computing, communication, service;
	saf_cats_meta meta;
} saf_cats_l1;

/* Level 2: one octet 0..10 (norm_fi), Source = aggregation. */
typedef struct saf_cats_l2 {
	uint8_t norm_fi;
	saf_cats_meta meta;
} saf_cats_l2;

/* The mapping (docs/sched.md, "CATS metrics"). Weights need not sum to
 * one; a weight of 0 leaves its input out. */
typedef struct saf_cats_config {
	double w_cpu, w_mem;   /* inside computing_comb */
	uint32_t conns_ref;    /* connections giving service_comb 5 */
	uint32_t delay_ref_us; /* delay giving communication_comb 5 */
	double w_computing, w_communication, w_service; /* inside norm_fi */
} saf_cats_config;

/* cpu 0.8, mem 0.2, conns_ref 256, delay_ref 10 ms; norm_fi weights
 * 0.6 computing, 0.3 communication, 0.1 service. */
saf_cats_config saf_cats_config_default(void);

/* Level 0 -> level 1. Out-of-range inputs are clamped. An unknown delay
 * reads as delay_ref (communication 5): neither preferred nor shunned. */
saf_cats_l1 saf_cats_level1(const saf_cats_config *c, const saf_cats_l0 *l0);
/* Level 1 -> level 2: the weighted mean of the three categories, rounded.
 * All weights 0: norm_fi 0. */
saf_cats_l2 saf_cats_level2(const saf_cats_config *c, const saf_cats_l1 *l1);
/* Both steps. */
saf_cats_l2 saf_cats_score(const saf_cats_config *c, const saf_cats_l0 *l0);

/* When an agent sends a report at once: the level 2 score moved by at
 * least threshold since the last report sent, and the last extra report
 * is at least min_gap_ms old (rate limit). Counted. */
typedef struct saf_cats_trigger {
	unsigned threshold;  /* default 1 point */
	uint64_t min_gap_ms; /* default 20 */
	int last_sent;	     /* norm_fi of the last report sent, -1 none */
	uint64_t last_extra_ms;
	bool any_extra;
	uint64_t extra, limited; /* sent at once; held by the rate limit */
} saf_cats_trigger;

void saf_cats_trigger_init(saf_cats_trigger *t, unsigned threshold,
			   uint64_t min_gap_ms);
/* A score was measured at now_ms: true when an extra report is due now
 * (the caller sends it and calls saf_cats_trigger_sent). */
bool saf_cats_trigger_check(saf_cats_trigger *t, unsigned norm_fi,
			    uint64_t now_ms);
/* A report carrying norm_fi was sent at now_ms; extra: by the trigger. */
void saf_cats_trigger_sent(saf_cats_trigger *t, unsigned norm_fi,
			   uint64_t now_ms, bool extra);

#endif /* SAF_CATS_H */
