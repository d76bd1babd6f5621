/* SPDX-License-Identifier: MIT */
/* src/tcp/prefetch.c: the argument of saf tcp client attach --prefetch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tcp.h"

static void test_accepted(void **state)
{
	saf_tcp_prefetch p;
	saf_error err;
	char b[SAF_ADDR_STR_LEN];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(saf_tcp_prefetch_parse("10.99.0.1:8080", &p, &err), 0);
	assert_int_equal(
		saf_tcp_prefetch_parse("[fd00:99::1]:443,30", &p, &err), 0);
	assert_int_equal(saf_tcp_prefetch_parse("10.99.0.1:80,86400", &p, &err),
			 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(saf_addr_format(&p.service[0], b),
			    "10.99.0.1:8080");
	assert_int_equal(p.interval_s[0], 0); /* default: half the lifetime */
	assert_string_equal(saf_addr_format(&p.service[1], b),
			    "[fd00:99::1]:443");
	assert_int_equal(p.interval_s[1], 30);
	assert_int_equal(p.interval_s[2], 86400);
}

static void refused(const char *arg, const char *msg)
{
	saf_tcp_prefetch p;
	saf_error err;

	memset(&p, 0, sizeof(p));
	assert_int_equal(saf_tcp_prefetch_parse(arg, &p, &err), -1);
	assert_int_equal(p.n, 0);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("'%s': got '%s', want '%s'", arg, err.msg, msg);
}

static void test_refused(void **state)
{
	(void)state;
	refused("10.99.0.1", "--prefetch 10.99.0.1:"); /* no port */
	refused("10.99.0.1:80,", "INTERVAL must be 1..86400");
	refused("10.99.0.1:80,0", "INTERVAL must be 1..86400");
	refused("10.99.0.1:80,86401", "INTERVAL must be 1..86400");
	refused("10.99.0.1:80,5s", "INTERVAL must be 1..86400");
	refused("10.99.0.1:80,-1", "INTERVAL must be 1..86400");
	refused("nonsense:80", "--prefetch nonsense:80:");
	refused("", "--prefetch :");
}

static void test_full(void **state)
{
	saf_tcp_prefetch p;
	saf_error err;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (unsigned i = 0; i < SAF_TCP_MAX_PAIRS; i++)
		assert_int_equal(
			saf_tcp_prefetch_parse("10.99.0.1:80", &p, &err), 0);
	assert_int_equal(saf_tcp_prefetch_parse("10.99.0.1:80", &p, &err), -1);
	assert_non_null(strstr(err.msg, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
