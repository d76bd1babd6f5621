/* SPDX-License-Identifier: MIT */
/* src/core/policy.c: the client target policy, range by range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "saf/policy.h"

static saf_addr addr(const char *text)
{
	saf_error err;
	saf_addr a;

	if (saf_addr_parse(text, false, &a, &err))
		fail_msg("'%s': %s", text, err.msg);
	return a;
}

/* Checks `text` against `p`: want == NULL means allowed, else refused
 * with `want` inside the message. */
static void expect(const saf_target_policy *p, const char *text,
		   const char *want)
{
	saf_addr a = addr(text);
	saf_error err;
	int rc = saf_target_policy_check(p, &a, "advert", &err);

	if (!want && rc != 0)
		fail_msg("'%s' refused, expected allowed: %s", text, err.msg);
	if (want && rc == 0)
		fail_msg("'%s' allowed, expected refused (%s)", text, want);
	if (want && err.code != SAF_E_REFUSED)
		fail_msg("'%s': code %d, expected refused", text, err.code);
	if (want && !strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want);
}

/* One refused address and its allowed neighbour(s), per range. A NULL
 * neighbour: the next address is itself special (another row covers it). */
static const struct range_case {
	const char *refused, *reason, *neighbour;
} ranges[] = {
	{"0.1.2.3", "this network (RFC 791)", "1.0.0.1"},
	{"10.255.255.255", "private-use (RFC 1918)", "11.0.0.0"},
	{"9.255.255.255", NULL, NULL}, /* below 10/8: allowed */
	{"100.64.0.1", "CGN (RFC 6598)", "100.63.255.255"},
	{"100.127.255.254", "CGN (RFC 6598)", "100.128.0.0"},
	{"127.0.0.1", "loopback (RFC 1122)", "128.0.0.1"},
	{"127.255.255.255", "loopback (RFC 1122)", "126.255.255.255"},
	{"169.254.169.254", "link-local (RFC 3927)", "169.255.0.0"},
	{"169.254.0.1", "link-local (RFC 3927)", "169.253.255.255"},
	{"172.16.0.1", "private-use (RFC 1918)", "172.15.255.255"},
	{"172.31.255.254", "private-use (RFC 1918)", "172.32.0.0"},
	{"192.0.0.9", "IETF protocol assignments (RFC 6890)", "192.0.1.0"},
	{"192.0.0.170", "IETF protocol assignments (RFC 6890)",
	 "191.255.255.255"},
	{"192.0.2.1", "documentation (RFC 5737)", "192.0.3.0"},
	{"192.88.99.1", "6to4 relay anycast (RFC 7526)", "192.88.98.255"},
	{"192.88.99.255", "6to4 relay anycast (RFC 7526)", "192.88.100.0"},
	{"192.168.0.1", "private-use (RFC 1918)", "192.167.255.255"},
	{"192.168.255.255", "private-use (RFC 1918)", "192.169.0.0"},
	{"198.18.0.1", "benchmarking (RFC 2544)", "198.17.255.255"},
	{"198.19.255.255", "benchmarking (RFC 2544)", "198.20.0.0"},
	{"198.51.100.7", "documentation (RFC 5737)", "198.51.101.0"},
	{"203.0.113.7", "documentation (RFC 5737)", "203.0.112.255"},
	{"224.0.0.1", "multicast (RFC 5771)", "223.255.255.255"},
	{"239.255.255.250", "multicast (RFC 5771)", NULL},
	{"240.0.0.1", "reserved (RFC 1112)", NULL},
	{"255.255.255.254", "reserved (RFC 1112)", NULL},
	{"255.255.255.255", "limited broadcast (RFC 919)", NULL},
	/* IPv6 */
	{"::", "unspecified (RFC 4291)", NULL},
	{"::1", "loopback (RFC 4291)", NULL},
	{"::ffff:10.1.2.3", "private-use (RFC 1918)", "::ffff:11.1.2.3"},
	{"::ffff:169.254.169.254", "link-local (RFC 3927)", "::ffff:8.8.8.8"},
	{"::ffff:127.0.0.1", "loopback (RFC 1122)", "::ffff:128.0.0.1"},
	{"::127.0.0.1", "loopback (RFC 1122)", "::128.0.0.1"},
	{"::169.254.169.254", "link-local (RFC 3927)", "::8.8.4.4"},
	{"::2", "IPv4-compatible, deprecated (RFC 4291)", NULL},
	{"::0.1.0.0", "this network (RFC 791)", "::1.0.0.0"},
	{"64:ff9b::7f00:1", "loopback (RFC 1122) via NAT64 (RFC 6052)",
	 "64:ff9b::808:808"},
	{"64:ff9b::a9fe:a9fe", "link-local (RFC 3927) via NAT64",
	 "64:ff9b::a9ff:1"},
	{"64:ff9b::a00:1", "private-use (RFC 1918) via NAT64",
	 "64:ff9b::b00:1"},
	{"64:ff9b::6440:1", "CGN (RFC 6598) via NAT64", "64:ff9b::6480:1"},
	{"64:ff9b::f000:1", "reserved (RFC 1112) via NAT64", NULL},
	{"64:ff9b:1::1", "local-use NAT64 (RFC 8215)", NULL},
	{"64:ff9b:1:ffff::1", "local-use NAT64 (RFC 8215)", NULL},
	{"100::1", "discard-only (RFC 6666)", NULL},
	{"100:0:0:1::1", "dummy prefix (RFC 9780)", NULL},
	{"100:0:0:2::1", "IETF-reserved, outside 2000::/3", NULL},
	{"2001::1", "IETF protocol assignments (RFC 2928)", "2001:200::1"},
	{"2001:1ff:ffff::1", "IETF protocol assignments (RFC 2928)",
	 "2000:ffff::1"},
	{"2001:db8::1", "documentation (RFC 3849)", "2001:db9::1"},
	{"2001:db8:ffff::1", "documentation (RFC 3849)", "2001:db7::1"},
	{"2002:a00:1::1", "private-use (RFC 1918) via 6to4 (RFC 3056)",
	 "2002:808:808::1"},
	{"2002:a9fe:a9fe::1", "link-local (RFC 3927) via 6to4", "2003::1"},
	{"2002:7f00:1::1", "loopback (RFC 1122) via 6to4", "2001:ffff::1"},
	{"3fff::1", "documentation (RFC 9637)", "3fff:1000::1"},
	{"3fff:fff::1", "documentation (RFC 9637)", "3ffe:ffff::1"},
	{"5f00::1", "segment routing SIDs (RFC 9602)", NULL},
	{"4000::1", "IETF-reserved, outside 2000::/3", "3fff:f000::1"},
	{"1fff::1", "IETF-reserved, outside 2000::/3", "2000::1"},
	{"fc00::1", "unique-local (RFC 4193)", NULL},
	{"fd00:30:1::2", "unique-local (RFC 4193)", NULL},
	{"fe80::1", "link-local (RFC 4291)", NULL},
	{"febf::1", "link-local (RFC 4291)", NULL},
	{"fec0::1", "site-local, deprecated (RFC 3879)", NULL},
	{"ff02::1", "multicast (RFC 4291)", NULL},
};

static void test_default_refuses_each_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		expect(NULL, ranges[i].refused, ranges[i].reason);
		if (ranges[i].neighbour)
			expect(NULL, ranges[i].neighbour, NULL);
	}
}

static void test_default_allows_global_unicast(void **state)
{
	static const char *const ok[] = {
		"8.8.8.8",	   "1.1.1.1",	      "192.0.1.1",
		"223.255.255.254", "2001:4860::8888", "2a00:1450::1",
		"2606:4700::1111", "3ffe::1",	      "64:ff9b::101:101",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect(NULL, ok[i], NULL);
}

/* Every entry of the table refuses its own first address, and the message
 * names the entry (or, for a translator prefix, 0.0.0.0 inside it). */
static void test_table_entries_refused(void **state)
{
	const saf_prefix *t;
	size_t n = saf_special_prefixes(&t);
	saf_error err;

	(void)state;
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		saf_addr a = t[i].addr;

		assert_true(t[i].len <= (a.family == 4 ? 32 : 128));
		if (saf_target_policy_check(NULL, &a, "advert", &err) == 0)
			fail_msg("entry %zu (%s) allowed", i,
				 saf_special_prefix_describe(i));
		assert_non_null(strstr(err.msg, "(RFC "));
	}
	assert_string_equal(saf_special_prefix_describe(n), "unknown");
}

static void test_message_format(void **state)
{
	saf_addr a = addr("169.254.169.254");
	saf_error err;

	(void)state;
	assert_int_equal(saf_target_policy_check(NULL, &a, "advert", &err), -1);
	assert_string_equal(err.msg,
			    "advert for 169.254.169.254 rejected: link-local "
			    "(RFC 3927) not allowed by the target policy");
	a = addr("[64:ff9b::7f00:1]:443");
	assert_int_equal(
		saf_target_policy_check(NULL, &a, "token target", &err), -1);
	assert_string_equal(err.msg,
			    "token target for 64:ff9b::7f00:1 rejected: "
			    "loopback (RFC 1122) via NAT64 (RFC 6052) not "
			    "allowed by the target policy");
	a.family = 5;
	assert_int_equal(saf_target_policy_check(NULL, &a, "advert", &err), -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

static void test_loopback_flag(void **state)
{
	saf_target_policy p;

	(void)state;
	saf_target_policy_init(&p);
	expect(&p, "127.0.0.1", "loopback");
	expect(&p, "::1", "loopback");
	p.allow_loopback = true;
	expect(&p, "127.0.0.1", NULL);
	expect(&p, "127.0.0.2", NULL);
	expect(&p, "::1", NULL);
	expect(&p, "::ffff:127.0.0.1", NULL);
	/* still refused: the other classes */
	expect(&p, "0.0.0.0", "this network");
	expect(&p, "10.0.0.1", "private-use");
	/* with an allow list, loopback still needs the flag only */
	assert_int_equal(saf_target_policy_allow(&p, "10.30.0.0/16", NULL), 0);
	expect(&p, "127.0.0.1", NULL);
	p.allow_loopback = false;
	expect(&p, "127.0.0.1", "loopback");
}

static void test_allow_list(void **state)
{
	saf_target_policy p;
	saf_error err;

	(void)state;
	saf_target_policy_init(&p);
	assert_int_equal(
		saf_target_policy_allow(&p, "10.30.0.0/16,fd00:30::/32", &err),
		0);
	assert_int_equal(p.n_allow, 2);
	expect(&p, "10.30.1.2", NULL);
	expect(&p, "10.30.255.255", NULL);
	expect(&p, "::ffff:10.30.1.2", NULL);
	expect(&p, "fd00:30:1::2", NULL);
	expect(&p, "10.31.0.1", "outside the 2 allowed prefixes");
	expect(&p, "fd00:31::2", "outside the 2 allowed prefixes");
	/* global unicast is not implied by an allow list */
	expect(&p, "8.8.8.8", "outside the 2 allowed prefixes");
	/* the metadata service, named, with a list that does not cover it */
	expect(&p, "169.254.169.254",
	       "link-local (RFC 3927), outside the 2 allowed prefixes");
	expect(&p, "64:ff9b::a9fe:a9fe", "link-local (RFC 3927), outside");
	/* NAT64 of an allowed IPv4 address reaches that address */
	expect(&p, "64:ff9b::a1e:102", NULL);
	/* never, whatever the list */
	assert_int_equal(saf_target_policy_allow(&p, "0.0.0.0/0", &err), 0);
	assert_int_equal(saf_target_policy_allow(&p, "::/0", &err), 0);
	expect(&p, "169.254.169.254", NULL); /* covered now: the user's call */
	expect(&p, "0.0.0.0", "this network");
	expect(&p, "224.0.0.1", "multicast");
	expect(&p, "255.255.255.255", "limited broadcast");
	expect(&p, "::", "unspecified");
	expect(&p, "ff02::1", "multicast");
	expect(&p, "127.0.0.1", "loopback");
	expect(&p, "::1", "loopback");
	expect(&p, "64:ff9b::7f00:1", "loopback (RFC 1122) via NAT64");
}

static void test_allow_list_errors(void **state)
{
	saf_target_policy p;
	saf_error err;
	char many[32 * 16];

	(void)state;
	saf_target_policy_init(&p);
	assert_int_equal(saf_target_policy_allow(&p, "10.0.0.0/8,", &err), -1);
	assert_non_null(strstr(err.msg, "empty entry"));
	assert_int_equal(saf_target_policy_allow(&p, ",10.0.0.0/8", &err), -1);
	assert_int_equal(saf_target_policy_allow(&p, "", &err), -1);
	assert_int_equal(saf_target_policy_allow(&p, NULL, &err), -1);
	assert_int_equal(
		saf_target_policy_allow(&p, "10.0.0.0/8,10.0.0.1/8", &err), -1);
	assert_int_equal(p.n_allow, 0); /* unchanged on failure */
	assert_int_equal(saf_target_policy_allow(&p, "10.0.0.0/8:80", &err),
			 -1);
	many[0] = '\0';
	for (int i = 0; i < SAF_POLICY_MAX_ALLOW + 1; i++) {
		char one[16];

		snprintf(one, sizeof(one), "%s10.%d.0.0/16", i ? "," : "", i);
		strcat(many, one);
	}
	assert_int_equal(saf_target_policy_allow(&p, many, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_int_equal(p.n_allow, 0);
	for (int i = 0; i < SAF_POLICY_MAX_ALLOW; i++)
		assert_int_equal(
			saf_target_policy_allow(&p, "10.0.0.0/8", &err), 0);
	assert_int_equal(saf_target_policy_allow(&p, "10.0.0.0/8", &err), -1);
	assert_int_equal(p.n_allow, SAF_POLICY_MAX_ALLOW);
}

static void test_prefix_parse(void **state)
{
	saf_prefix p;
	saf_error err;
	char buf[SAF_ADDR_STR_LEN];

	(void)state;
	assert_int_equal(saf_prefix_parse("10.30.0.0/16", &p, &err), 0);
	assert_int_equal(p.addr.family, 4);
	assert_int_equal(p.len, 16);
	assert_int_equal(saf_prefix_parse("fd00::/8", &p, &err), 0);
	assert_int_equal(p.addr.family, 6);
	assert_int_equal(p.len, 8);
	assert_int_equal(saf_prefix_parse("192.0.2.7", &p, &err), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(saf_prefix_parse("2001:db8::7", &p, &err), 0);
	assert_int_equal(p.len, 128);
	assert_int_equal(saf_prefix_parse("::ffff:10.0.0.0/104", &p, &err), 0);
	assert_int_equal(p.addr.family, 4);
	assert_int_equal(p.len, 8);
	assert_string_equal(saf_addr_format(&p.addr, buf), "10.0.0.0");
	assert_int_equal(saf_prefix_parse("::ffff:0:0/96", &p, &err), 0);
	assert_int_equal(p.addr.family, 4);
	assert_int_equal(p.len, 0);
	assert_int_equal(saf_prefix_parse("::ffff:0:0/95", &p, &err), -1);
	assert_int_equal(saf_prefix_parse("0.0.0.0/0", &p, &err), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(saf_prefix_parse("10.0.0.1/8", &p, &err), -1);
	assert_int_equal(saf_prefix_parse("10.0.0.0/33", &p, &err), -1);
	assert_int_equal(saf_prefix_parse("::/129", &p, &err), -1);
	assert_int_equal(saf_prefix_parse("[::1]:80", &p, &err), -1);
	assert_int_equal(saf_prefix_parse("", &p, &err), -1);
}

static void test_prefix_contains(void **state)
{
	saf_prefix p;
	saf_addr a;

	(void)state;
	assert_int_equal(saf_prefix_parse("100.64.0.0/10", &p, NULL), 0);
	a = addr("100.64.0.0");
	assert_true(saf_prefix_contains(&p, &a));
	a = addr("100.127.255.255");
	assert_true(saf_prefix_contains(&p, &a));
	a = addr("100.128.0.0");
	assert_false(saf_prefix_contains(&p, &a));
	a = addr("::ffff:100.100.1.1");
	assert_true(saf_prefix_contains(&p, &a));
	a = addr("64::1");
	assert_false(saf_prefix_contains(&p, &a));
	assert_int_equal(saf_prefix_parse("0.0.0.0/0", &p, NULL), 0);
	a = addr("::1");
	assert_false(saf_prefix_contains(&p, &a));
}

static void test_normalize(void **state)
{
	saf_addr a, n;
	char buf[SAF_ADDR_STR_LEN];

	(void)state;
	a = addr("[::ffff:192.0.2.1]:443");
	assert_int_equal(saf_addr_normalize(&a, &n), 0);
	assert_int_equal(n.family, 4);
	assert_string_equal(saf_addr_format(&n, buf), "192.0.2.1:443");
	a = addr("::10.0.0.1");
	assert_int_equal(saf_addr_normalize(&a, &a), 0);
	assert_string_equal(saf_addr_format(&a, buf), "10.0.0.1");
	a = addr("::1");
	assert_int_equal(saf_addr_normalize(&a, &n), 0);
	assert_int_equal(n.family, 6);
	a = addr("::");
	assert_int_equal(saf_addr_normalize(&a, &n), 0);
	assert_int_equal(n.family, 6);
	a = addr("64:ff9b::a00:1"); /* NAT64 is judged, not rewritten */
	assert_int_equal(saf_addr_normalize(&a, &n), 0);
	assert_int_equal(n.family, 6);
	a = addr("::ffff:1:0:0"); /* not mapped: bytes 8..9 non-zero */
	assert_int_equal(saf_addr_normalize(&a, &n), 0);
	assert_int_equal(n.family, 6);
	a.family = 0;
	assert_int_equal(saf_addr_normalize(&a, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_refuses_each_range),
		cmocka_unit_test(test_default_allows_global_unicast),
		cmocka_unit_test(test_table_entries_refused),
		cmocka_unit_test(test_message_format),
		cmocka_unit_test(test_loopback_flag),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_allow_list_errors),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
