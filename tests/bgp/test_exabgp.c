/* SPDX-License-Identifier: MIT */
/* ExaBGP's text API: the commands saf writes, the messages it parses,
 * the speaker's configuration and the routes a node announces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "saf/bgp.h"

static saf_addr ip(const char *s)
{
	saf_addr a;
	saf_error err;

	assert_int_equal(saf_addr_parse(s, false, &a, &err), 0);
	return a;
}

static void test_announce_every_attribute(void **st)
{
	saf_bgp_route r = {.prefix = ip("10.99.0.1"),
			   .nexthop = ip("10.30.2.2"),
			   .has_med = true,
			   .med = 3,
			   .has_local_pref = true,
			   .local_pref = 200,
			   .has_community = true,
			   .community = (65000u << 16) | 7,
			   .has_link_bw = true,
			   .link_bw_as = 65000,
			   .link_bw = 125000.0f};
	char buf[SAF_BGP_LINE_MAX];
	size_t len;
	saf_error err;

	(void)st;
	assert_int_equal(saf_exabgp_announce(&r, buf, sizeof(buf), &len, &err),
			 0);
	buf[len] = '\0';
	/* 125000.0f = 0x47f42400 */
	assert_string_equal(buf,
			    "announce route 10.99.0.1/32 next-hop 10.30.2.2"
			    " med 3 local-preference 200 community "
			    "[65000:7] extended-community "
			    "[0x4004fde847f42400]\n");
	r.prefix = ip("fd00:99::1");
	r.nexthop = ip("fd00:30:2::2");
	assert_int_equal(saf_exabgp_withdraw(&r, buf, sizeof(buf), &len, &err),
			 0);
	buf[len] = '\0';
	assert_string_equal(buf, "withdraw route fd00:99::1/128 next-hop "
				 "fd00:30:2::2\n");
}

static void test_announce_refuses(void **st)
{
	saf_bgp_route r = {.prefix = ip("10.99.0.1"),
			   .nexthop = ip("fd00:30:2::2")};
	char buf[SAF_BGP_LINE_MAX];
	size_t len;
	saf_error err;

	(void)st;
	assert_int_equal(saf_exabgp_announce(&r, buf, sizeof(buf), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_INVAL);
	r.nexthop = ip("10.30.2.2");
	assert_int_equal(saf_exabgp_announce(&r, buf, 20, &len, &err), -1);
	assert_int_equal(err.code, SAF_E_NOSPACE);
	assert_int_equal(saf_exabgp_announce(&r, buf, 0, &len, &err), -1);
}

static void test_parse_messages(void **st)
{
	static const char down[] = "neighbor 10.20.2.1 down - peer reset, "
				   "message [closing connection]";
	saf_exabgp_msg m;
	saf_error err;

	(void)st;
	assert_int_equal(saf_exabgp_parse("done", 4, &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_DONE);
	assert_int_equal(saf_exabgp_parse("error\r", 6, &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_ERROR);
	assert_int_equal(saf_exabgp_parse("", 0, &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_OTHER);
	assert_int_equal(
		saf_exabgp_parse("neighbor 10.20.2.1 up", 21, &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_UP);
	assert_int_equal(m.peer.family, 4);
	assert_int_equal(saf_exabgp_parse(down, strlen(down), &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_DOWN);
	assert_string_equal(m.reason,
			    "peer reset, message [closing connection]");
	assert_int_equal(
		saf_exabgp_parse("neighbor fd00::1 connected", 26, &m, &err),
		0);
	assert_int_equal(m.type, SAF_EXABGP_CONNECTED);
	assert_int_equal(saf_exabgp_parse("shutdown 1 2", 12, &m, &err), 0);
	assert_int_equal(m.type, SAF_EXABGP_SHUTDOWN);
	assert_int_equal(
		saf_exabgp_parse("neighbor 10.20.2.1 receive 2", 28, &m, &err),
		0);
	assert_int_equal(m.type, SAF_EXABGP_OTHER);
}

static void test_parse_refuses(void **st)
{
	char big[SAF_BGP_LINE_MAX + 2];
	saf_exabgp_msg m;
	saf_error err;

	(void)st;
	assert_int_equal(saf_exabgp_parse("neighbor  up", 12, &m, &err), -1);
	assert_int_equal(saf_exabgp_parse("neighbor 10.20.2.1", 18, &m, &err),
			 -1);
	assert_int_equal(
		saf_exabgp_parse("neighbor 300.1.1.1 up", 21, &m, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_int_equal(
		saf_exabgp_parse("neighbor 1.2.3.4:5 up", 21, &m, &err), -1);
	assert_int_equal(saf_exabgp_parse("do\0ne", 5, &m, &err), -1);
	memset(big, 'a', sizeof(big));
	assert_int_equal(saf_exabgp_parse(big, sizeof(big), &m, &err), -1);
}

static void test_config(void **st)
{
	saf_bgp_speaker_cfg c = {.local = ip("10.30.2.2"),
				 .as = 65000,
				 .peers = {ip("10.20.2.1"), ip("10.21.2.1")},
				 .n_peers = 2};
	char text[2048] = "";
	FILE *f = fmemopen(text, sizeof(text) - 1, "w");
	saf_error err;

	(void)st;
	assert_int_equal(saf_exabgp_config(&c, "/tmp/x/relay", f, &err), 0);
	fclose(f);
	assert_non_null(strstr(text, "run /tmp/x/relay;"));
	assert_non_null(strstr(text, "hold-time 3;"));
	assert_non_null(strstr(text, "neighbor 10.21.2.1 {\n  inherit saf;"));
	assert_non_null(strstr(text, "ipv6 unicast;"));
	c.n_peers = 0;
	assert_int_equal(saf_exabgp_config(&c, "r", stdout, &err), -1);
	c.n_peers = 1;
	c.local = ip("fd00::1");
	assert_int_equal(saf_exabgp_config(&c, "r", stdout, &err), -1);
}

static void test_node_routes(void **st)
{
	saf_bgp_steer_cfg c = {.anycast = {ip("10.99.0.1"), ip("fd00:99::1")},
			       .n_anycast = 2,
			       .nexthop = {ip("fd00:30:2::2"), ip("10.30.2.2")},
			       .n_nexthop = 2,
			       .as = 65000};
	saf_bgp_route r[2];
	saf_bgp_route s;

	(void)st;
	assert_int_equal(saf_bgp_node_routes(&c, 7, r), 2);
	assert_int_equal(r[0].nexthop.family, 4);
	assert_int_equal(r[1].nexthop.family, 6);
	assert_int_equal(r[0].med, 3);
	assert_int_equal(r[0].community, (65000u << 16) | 7);
	assert_false(r[0].has_link_bw);
	c.link_bw = true;
	assert_int_equal(saf_bgp_node_routes(&c, 99, r), 2);
	assert_int_equal(r[0].med, 0); /* clamped to 10 */
	assert_true(r[0].link_bw == 10 * SAF_BGP_LBW_PER_POINT);
	assert_int_equal(saf_bgp_node_routes(&c, 0, r), 2);
	assert_true(r[0].link_bw > 0); /* never zero bandwidth */
	c.n_nexthop = 1;	       /* only IPv6: no IPv4 route */
	assert_int_equal(saf_bgp_node_routes(&c, 5, r), 1);
	assert_int_equal(r[0].prefix.family, 6);
	saf_bgp_sched_route(&c.anycast[0], &c.nexthop[1], 200, &s);
	assert_int_equal(s.local_pref, 200);
	assert_false(s.has_med);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_every_attribute),
		cmocka_unit_test(test_announce_refuses),
		cmocka_unit_test(test_parse_messages),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_node_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
