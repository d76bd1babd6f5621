/* SPDX-License-Identifier: MIT */
/* CATS metric levels: a table of level 0 inputs and the levels 1 and 2
 * they must give, the 0..10 bounds, monotonicity, the metadata, and the
 * agent's rate-limited trigger. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>

#include "saf/cats.h"

static saf_cats_l0 l0(unsigned cpu, unsigned mem, unsigned cap, unsigned conns,
		      long delay_us)
{
	saf_cats_l0 v = {.cpu_permille = (uint16_t)cpu,
			 .mem_permille = (uint16_t)mem,
			 .capacity = (uint16_t)cap,
			 .conns = conns,
			 .delay_us = delay_us < 0 ? 0 : (uint32_t)delay_us,
			 .delay_known = delay_us >= 0};
	v.cpu_meta = (saf_cats_meta){SAF_CATS_SRC_ESTIMATION,
				     SAF_CATS_STAT_MEAN, 200};
	return v;
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		unsigned cpu, mem, cap, conns;
		long delay_us;
		unsigned comp, comm, svc, l2;
	} t[] = {
		/* idle, full capacity, no delay, no connections */
		{0, 0, 1000, 0, 0, 10, 10, 10, 10},
		/* fully loaded: computing 0 */
		{1000, 1000, 1000, 0, 0, 0, 10, 10, 4},
		/* half cpu, delay = ref, conns = ref */
		{500, 500, 1000, 256, 10000, 5, 5, 5, 5},
		/* unknown delay reads as the reference */
		{0, 0, 1000, 0, -1, 10, 5, 10, 9},
		/* half capacity halves computing */
		{0, 0, 500, 0, 0, 5, 10, 10, 7},
		/* memory weighs 0.2: full memory alone costs 2 points */
		{0, 1000, 1000, 0, 0, 8, 10, 10, 9},
		/* out of range inputs clamp */
		{5000, 5000, 5000, 0, 0, 0, 10, 10, 4},
		/* huge delay and queue */
		{0, 0, 1000, 100000, 100000000, 10, 0, 0, 6},
	};
	saf_cats_config c = saf_cats_config_default();

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		saf_cats_l0 in = l0(t[i].cpu, t[i].mem, t[i].cap, t[i].conns,
				    t[i].delay_us);
		saf_cats_l1 l1 = saf_cats_level1(&c, &in);
		saf_cats_l2 l2 = saf_cats_level2(&c, &l1);

		print_message("row %zu: %u %u %u -> %u\n", i, l1.computing,
			      l1.communication, l1.service, l2.norm_fi);
		assert_int_equal(l1.computing, t[i].comp);
		assert_int_equal(l1.communication, t[i].comm);
		assert_int_equal(l1.service, t[i].svc);
		assert_int_equal(l2.norm_fi, t[i].l2);
		assert_int_equal(saf_cats_score(&c, &in).norm_fi, t[i].l2);
	}
}

static void test_meta(void **state)
{
	(void)state;
	saf_cats_config c = saf_cats_config_default();
	saf_cats_l0 in = l0(300, 0, 1000, 0, 0);
	saf_cats_l1 l1 = saf_cats_level1(&c, &in);
	saf_cats_l2 l2 = saf_cats_level2(&c, &l1);

	assert_int_equal(l1.meta.source, SAF_CATS_SRC_NORMALIZATION);
	assert_int_equal(l2.meta.source, SAF_CATS_SRC_AGGREGATION);
	assert_int_equal(l2.meta.statistics, SAF_CATS_STAT_MEAN);
	assert_int_equal(l2.meta.window_ms, 200);
}

/* More load, delay or connections never raise a level; bounds hold. */
static void test_monotone_bounded(void **state)
{
	(void)state;
	saf_cats_config c = saf_cats_config_default();
	unsigned prev_comp = 11, prev_l2 = 11, prev_comm = 11, prev_svc = 11;

	for (unsigned x = 0; x <= 1200; x += 7) {
		saf_cats_l0 a = l0(x, x, 1000, x * 3, (long)x * 97);
		saf_cats_l1 l1 = saf_cats_level1(&c, &a);
		saf_cats_l2 l2 = saf_cats_level2(&c, &l1);

		assert_true(l1.computing <= SAF_CATS_MAX);
		assert_true(l1.communication <= SAF_CATS_MAX);
		assert_true(l1.service <= SAF_CATS_MAX);
		assert_true(l2.norm_fi <= SAF_CATS_MAX);
		assert_true(l1.computing <= prev_comp);
		assert_true(l1.communication <= prev_comm);
		assert_true(l1.service <= prev_svc);
		assert_true(l2.norm_fi <= prev_l2);
		prev_comp = l1.computing;
		prev_comm = l1.communication;
		prev_svc = l1.service;
		prev_l2 = l2.norm_fi;
	}
	assert_int_equal(prev_comp, 0);
	/* more capacity never lowers computing */
	prev_comp = 0;
	for (unsigned cap = 0; cap <= 1000; cap += 10) {
		saf_cats_l0 a = l0(400, 0, cap, 0, 0);
		unsigned v = saf_cats_level1(&c, &a).computing;

		assert_true(v >= prev_comp);
		prev_comp = v;
	}
	assert_int_equal(prev_comp, 7); /* 10 * (1 - 0.8 * 0.4) */
}

static void test_config(void **state)
{
	(void)state;
	saf_cats_config c = saf_cats_config_default();
	saf_cats_l0 in = l0(0, 0, 1000, 0, 40000);

	/* default: communication 2 of 10 weighs 0.3 */
	assert_int_equal(saf_cats_score(&c, &in).norm_fi, 8);
	c.w_communication = 0;
	assert_int_equal(saf_cats_score(&c, &in).norm_fi, 10);
	c.delay_ref_us = 40000;
	c.w_computing = 0;
	c.w_service = 0;
	c.w_communication = 1;
	assert_int_equal(saf_cats_score(&c, &in).norm_fi, 5);
	c.w_communication = 0; /* no weights at all: 0, not NaN */
	assert_int_equal(saf_cats_score(&c, &in).norm_fi, 0);
	c = saf_cats_config_default();
	c.w_cpu = 0;
	c.w_mem = 0; /* computing from capacity alone */
	in = l0(1000, 1000, 700, 0, 0);
	assert_int_equal(saf_cats_level1(&c, &in).computing, 7);
}

static void test_trigger(void **state)
{
	(void)state;
	saf_cats_trigger t;

	saf_cats_trigger_init(&t, 1, 20);
	assert_false(saf_cats_trigger_check(&t, 3, 0)); /* nothing sent yet */
	saf_cats_trigger_sent(&t, 8, 0, false);
	assert_false(saf_cats_trigger_check(&t, 8, 1));
	assert_true(saf_cats_trigger_check(&t, 7, 2));
	saf_cats_trigger_sent(&t, 7, 2, true);
	/* within 20 ms of the extra report: held, counted */
	assert_false(saf_cats_trigger_check(&t, 3, 10));
	assert_int_equal(t.limited, 1);
	assert_true(saf_cats_trigger_check(&t, 3, 22));
	saf_cats_trigger_sent(&t, 3, 22, true);
	assert_int_equal(t.extra, 2);
	/* threshold 3: a move of 2 does not trigger */
	saf_cats_trigger_init(&t, 3, 20);
	saf_cats_trigger_sent(&t, 5, 0, false);
	assert_false(saf_cats_trigger_check(&t, 7, 100));
	assert_true(saf_cats_trigger_check(&t, 8, 100));
	assert_true(saf_cats_trigger_check(&t, 2, 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_monotone_bounded),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_trigger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
