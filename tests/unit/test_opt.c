/* SPDX-License-Identifier: MIT */
/* src/cli/opt.c: option values and their messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/opt.h"

static void test_uint(void **state)
{
	uint64_t v = 7;
	saf_error err;

	(void)state;
	assert_int_equal(saf_opt_uint("--port", "443", 10, 1, 65535, &v, &err),
			 0);
	assert_int_equal(v, 443);
	assert_int_equal(saf_opt_uint("--port", "1", 10, 1, 65535, &v, &err),
			 0);
	assert_int_equal(
		saf_opt_uint("--port", "65535", 10, 1, 65535, &v, &err), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(saf_opt_uint("--n", "18446744073709551615", 10, 0,
				      UINT64_MAX, &v, &err),
			 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(
		saf_opt_uint("--port", "70000", 10, 1, 65535, &v, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(
		err.msg, "--port: '70000' is not a whole number in 1..65535");
	assert_int_equal(v, 7); /* untouched on error */
	/* Everything strtoul would let through and should not. */
	static const char *bad[] = {"",
				    "0",
				    "-1",
				    "+1",
				    " 1",
				    "1 ",
				    "1x",
				    "0x10",
				    "1.0",
				    "1e3",
				    "abc",
				    "18446744073709551616",
				    "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(saf_opt_uint("--port", bad[i], 10, 1,
					      UINT64_MAX, &v, &err),
				 -1);
		assert_int_equal(v, 7);
	}
}

static void test_uint_hex(void **state)
{
	uint64_t v = 0;
	saf_error err;

	(void)state;
	assert_int_equal(
		saf_opt_uint("--exid", "abcd", 16, 0, 0xffff, &v, &err), 0);
	assert_int_equal(v, 0xabcd);
	assert_int_equal(
		saf_opt_uint("--exid", "0x5346", 16, 0, 0xffff, &v, &err), 0);
	assert_int_equal(v, 0x5346);
	assert_int_equal(
		saf_opt_uint("--exid", "FFFF", 16, 0, 0xffff, &v, &err), 0);
	assert_int_equal(
		saf_opt_uint("--exid", "10000", 16, 0, 0xffff, &v, &err), -1);
	assert_string_equal(err.msg,
			    "--exid: '10000' is not a hex number in 0..ffff");
	assert_int_equal(saf_opt_uint("--exid", "0x", 16, 0, 0xffff, &v, &err),
			 -1);
	assert_int_equal(saf_opt_uint("--exid", "g1", 16, 0, 0xffff, &v, &err),
			 -1);
	assert_int_equal(saf_opt_uint("--x", "1", 8, 0, 9, &v, &err), -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

/* Base 0: decimal, or hex after 0x; never octal. */
static void test_uint_base0(void **state)
{
	uint64_t v = 0;
	saf_error err;

	(void)state;
	assert_int_equal(saf_opt_uint("--kind", "253", 0, 2, 255, &v, &err), 0);
	assert_int_equal(v, 253);
	assert_int_equal(saf_opt_uint("--kind", "0xfd", 0, 2, 255, &v, &err),
			 0);
	assert_int_equal(v, 253);
	assert_int_equal(saf_opt_uint("--kind", "010", 0, 2, 255, &v, &err), 0);
	assert_int_equal(v, 10);
	assert_int_equal(saf_opt_uint("--kind", "300", 0, 2, 255, &v, &err),
			 -1);
	assert_string_equal(err.msg,
			    "--kind: '300' is not a whole number in 2..255");
	assert_int_equal(saf_opt_uint("--kind", "fd", 0, 2, 255, &v, &err), -1);
	assert_int_equal(saf_opt_uint("--kind", "0x", 0, 2, 255, &v, &err), -1);
	assert_int_equal(saf_opt_uint("--kind", "-1", 0, 0, 255, &v, &err), -1);
	/* Base 10 still takes no 0x. */
	assert_int_equal(saf_opt_uint("--n", "0x10", 10, 0, 99, &v, &err), -1);
}

static void test_double(void **state)
{
	double d = 0;
	saf_error err;
	static const char *const bad[] = {
		"",    "abc", "1x", " 1",   "+1",   "-1", "nan",
		"inf", "0x1", "1e", "1e99", "1..2", "11",
	};

	(void)state;
	assert_int_equal(saf_opt_double("--w", "0.05", 0, 10, &d, &err), 0);
	assert_true(d > 0.0499 && d < 0.0501);
	assert_int_equal(saf_opt_double("--w", "10", 0, 10, &d, &err), 0);
	assert_int_equal(saf_opt_double("--w", ".5", 0, 10, &d, &err), 0);
	assert_int_equal(saf_opt_double("--w", "1e1", 0, 10, &d, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (saf_opt_double("--w", bad[i], 0, 10, &d, &err) != -1)
			fail_msg("'%s' taken", bad[i]);
	assert_string_equal(err.msg, "--w: '11' is not a number in 0..10");
	assert_int_equal(err.code, SAF_E_RANGE);
}

static void test_duration(void **state)
{
	uint64_t us = 0;
	saf_error err;
	static const struct {
		const char *text, *unit;
		uint64_t us;
	} ok[] = {
		{"250ms", "s", 250000u},     {"1.5s", "s", 1500000u},
		{"2m", "s", 120000000u},     {"1h", "ms", 3600000000u},
		{"30", "s", 30000000u},	     {"30", "ms", 30000u},
		{"0.25", "ms", 250u},	     {"7us", "s", 7u},
		{"0.000001s", "s", 1u},	     {"0", "s", 0u},
		{"1.000000", "s", 1000000u},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(saf_opt_duration_us("--delay", ok[i].text,
						     ok[i].unit, 0, UINT64_MAX,
						     &us, &err),
				 0);
		assert_true(us == ok[i].us);
	}
	us = 3;
	assert_int_equal(saf_opt_duration_us("--delay", "11s", "ms", 0,
					     10000000u, &us, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(err.msg,
			    "--delay: '11s' is not a duration in "
			    "0s..10s (a number with us, ms, s, m or h)");
	assert_int_equal(us, 3);
	assert_int_equal(saf_opt_duration_us("--wait", "1", "ms", 2000u, 5000u,
					     &us, &err),
			 -1);
	assert_string_equal(err.msg,
			    "--wait: '1' is not a duration in "
			    "2ms..5ms (a number with us, ms, s, m or h)");
	static const char *bad[] = {
		"",	      "s",	    "-1s",   "1.s",
		".5s",	      "1.0000001s", "1sec",  "1 s",
		"1e3ms",      "10d",	    "1..2s", "99999999999999999999h",
		"5124095577h"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(saf_opt_duration_us("--d", bad[i], "s", 0,
						     UINT64_MAX, &us, &err),
				 -1);
		assert_int_equal(us, 3);
	}
}

static void test_addr_port(void **state)
{
	saf_addr a;
	saf_error err;

	(void)state;
	assert_int_equal(
		saf_opt_addr_port("--backend", "127.0.0.1:8080", &a, &err), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.port, 8080);
	assert_int_equal(saf_opt_addr_port("--backend", "[::1]:443", &a, &err),
			 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(saf_opt_addr_port("--backend", "127.0.0.1", &a, &err),
			 -1);
	/* The option first, then saf_addr_parse's own words. */
	assert_true(strncmp(err.msg, "--backend: ", 11) == 0);
	assert_true(strlen(err.msg) > 11);
	assert_int_equal(saf_opt_addr_port("--backend", "nohost:1", &a, &err),
			 -1);
	assert_true(strncmp(err.msg, "--backend: ", 11) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_uint_hex),
		cmocka_unit_test(test_uint_base0),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_addr_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
