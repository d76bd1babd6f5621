/* SPDX-License-Identifier: MIT */
/* src/tcp/keepalive.c: the argument of saf tcp node attach --keepalive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tcp.h"

static void expect(const char *arg, uint32_t idle, uint32_t intvl, uint32_t cnt)
{
	saf_tcp_node_config c;
	saf_error err;

	memset(&c, 0, sizeof(c));
	assert_int_equal(saf_tcp_keepalive_parse(arg, &c, &err), 0);
	assert_int_equal(c.keepalive_idle, idle);
	assert_int_equal(c.keepalive_intvl, intvl);
	assert_int_equal(c.keepalive_cnt, cnt);
}

static void test_accepted(void **state)
{
	(void)state;
	expect("60,10,3", 60, 10, 3);
	expect("2,1,2", 2, 1, 2);
	/* IDLE alone keeps the default interval and count. */
	expect("120", 120, SAF_TCP_KEEPALIVE_INTVL_DEFAULT,
	       SAF_TCP_KEEPALIVE_CNT_DEFAULT);
	expect("32767,32767,127", 32767, 32767, 127);
	expect("1,1,1", 1, 1, 1);
	expect("off", SAF_TCP_KEEPALIVE_OFF, 0, 0);
}

static void refused(const char *arg, saf_errc code, const char *msg)
{
	saf_tcp_node_config c;
	saf_error err;

	memset(&c, 0, sizeof(c));
	c.keepalive_idle = 7;
	assert_int_equal(saf_tcp_keepalive_parse(arg, &c, &err), -1);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(c.keepalive_idle, 7); /* unchanged */
}

static void test_refused(void **state)
{
	(void)state;
	refused("0", SAF_E_RANGE, "--keepalive: IDLE seconds must be 1..32767");
	refused("32768", SAF_E_RANGE,
		"--keepalive: IDLE seconds must be 1..32767");
	refused("99999999999999999999999", SAF_E_RANGE,
		"--keepalive: IDLE seconds must be 1..32767");
	refused("5,0,3", SAF_E_RANGE,
		"--keepalive: INTVL seconds must be 1..32767");
	refused("5,32768,3", SAF_E_RANGE,
		"--keepalive: INTVL seconds must be 1..32767");
	refused("5,1,0", SAF_E_RANGE, "--keepalive: CNT probes must be 1..127");
	refused("5,1,128", SAF_E_RANGE,
		"--keepalive: CNT probes must be 1..127");
	refused("", SAF_E_FORMAT,
		"--keepalive: IDLE seconds missing or not a number "
		"(IDLE[,INTVL,CNT] or off)");
	refused("-1", SAF_E_FORMAT,
		"--keepalive: IDLE seconds missing or not a number "
		"(IDLE[,INTVL,CNT] or off)");
	refused("on", SAF_E_FORMAT,
		"--keepalive: IDLE seconds missing or not a number "
		"(IDLE[,INTVL,CNT] or off)");
	refused("5,,3", SAF_E_FORMAT,
		"--keepalive: INTVL seconds missing or not a number "
		"(IDLE[,INTVL,CNT] or off)");
	refused("5,1", SAF_E_FORMAT,
		"--keepalive: give IDLE alone or IDLE,INTVL,CNT");
	refused("5,1,3,", SAF_E_FORMAT,
		"--keepalive: unexpected ',' (IDLE[,INTVL,CNT] or off)");
	refused("5s", SAF_E_FORMAT,
		"--keepalive: unexpected 's' (IDLE[,INTVL,CNT] or off)");
	refused("5, 1, 3", SAF_E_FORMAT,
		"--keepalive: INTVL seconds missing or not a number "
		"(IDLE[,INTVL,CNT] or off)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
