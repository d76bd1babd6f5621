/* SPDX-License-Identifier: MIT */
/* src/core/clock.c: the clocks agree with clock_gettime and with each
 * other, never go back, and the poll timeout is clamped. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "saf/clock.h"

static uint64_t raw_ns(clockid_t id)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(id, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_monotonic(void **state)
{
	uint64_t a = raw_ns(CLOCK_MONOTONIC);
	uint64_t ns = saf_clock_mono_ns(), us = saf_clock_mono_us(),
		 ms = saf_clock_mono_ms();
	uint64_t b = raw_ns(CLOCK_MONOTONIC);

	(void)state;
	/* Each read lies between the two raw reads, in its own unit. */
	assert_true(ns >= a && ns <= b);
	assert_true(us >= a / 1000u && us <= b / 1000u);
	assert_true(ms >= a / 1000000u && ms <= b / 1000000u);
	/* Never back, across many reads. */
	for (int i = 0; i < 10000; i++) {
		uint64_t n = saf_clock_mono_ns();

		assert_true(n >= ns);
		ns = n;
	}
}

static void test_sleep_measured(void **state)
{
	uint64_t t0 = saf_clock_mono_us(), t1;

	(void)state;
	nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	t1 = saf_clock_mono_us();
	assert_true(t1 - t0 >= 20000u);
	assert_true(t1 - t0 < 5000000u); /* a loaded machine, but not 5 s */
}

static void test_wall(void **state)
{
	uint64_t a = raw_ns(CLOCK_REALTIME);
	uint64_t ms = saf_clock_wall_ms(), s = saf_clock_wall_s();
	uint64_t b = raw_ns(CLOCK_REALTIME);

	(void)state;
	assert_true(ms >= a / 1000000u && ms <= b / 1000000u);
	assert_true(s >= a / 1000000000u && s <= b / 1000000000u);
	assert_true(s > 1600000000u); /* after 2020: the epoch, in seconds */
}

static void test_poll_timeout(void **state)
{
	(void)state;
	assert_int_equal(saf_clock_poll_timeout(0, 5), -1);
	assert_int_equal(saf_clock_poll_timeout(100, 40), 60);
	assert_int_equal(saf_clock_poll_timeout(100, 100), 0);
	assert_int_equal(saf_clock_poll_timeout(100, 200), 0);
	assert_int_equal(saf_clock_poll_timeout(UINT64_MAX, 1), INT_MAX);
	assert_int_equal(saf_clock_poll_timeout((uint64_t)INT_MAX + 1u, 1),
			 INT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monotonic),
		cmocka_unit_test(test_sleep_measured),
		cmocka_unit_test(test_wall),
		cmocka_unit_test(test_poll_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
