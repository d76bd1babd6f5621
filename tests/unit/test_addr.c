/* SPDX-License-Identifier: MIT */
/* src/core/addr.c: parsing, printing, socket addresses, address classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "saf/addr.h"

static saf_addr parse_ok(const char *text, bool require_port)
{
	saf_error err;
	saf_addr a;

	if (saf_addr_parse(text, require_port, &a, &err))
		fail_msg("'%s': %s", text, err.msg);
	return a;
}

static void test_parse_and_format_round_trip(void **state)
{
	static const struct {
		const char *in, *out;
		uint8_t family;
		bool has_port;
		uint16_t port;
	} cases[] = {
		{"192.0.2.1", "192.0.2.1", 4, false, 0},
		{"192.0.2.1:443", "192.0.2.1:443", 4, true, 443},
		{"10.0.0.1:65535", "10.0.0.1:65535", 4, true, 65535},
		{"10.0.0.1:1", "10.0.0.1:1", 4, true, 1},
		{"::1", "::1", 6, false, 0},
		{"2001:DB8::A", "2001:db8::a", 6, false, 0},
		{"[2001:db8::a]", "2001:db8::a", 6, false, 0},
		{"[2001:db8::a]:8443", "[2001:db8::a]:8443", 6, true, 8443},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1", 6, false, 0},
		{"10.0.0.1:080", "10.0.0.1:80", 4, true, 80},
	};
	char buf[SAF_ADDR_STR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		saf_addr a = parse_ok(cases[i].in, false);

		assert_int_equal(a.family, cases[i].family);
		assert_int_equal(a.has_port, cases[i].has_port);
		assert_int_equal(a.port, cases[i].port);
		assert_string_equal(saf_addr_format(&a, buf), cases[i].out);
	}
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *in;
		bool require_port;
		saf_errc code;
		const char *msg;
	} cases[] = {
		{"", false, SAF_E_FORMAT, "address: empty"},
		{"1.2.3", false, SAF_E_FORMAT,
		 "address '1.2.3': '1.2.3' is not an IPv4 address"},
		{"1.2.3.4:", false, SAF_E_FORMAT,
		 "address '1.2.3.4:': empty port after ':'"},
		{"1.2.3.4:0", false, SAF_E_RANGE,
		 "address '1.2.3.4:0': port 0 is not allowed"},
		{"1.2.3.4:65536", false, SAF_E_RANGE,
		 "address '1.2.3.4:65536': port 65536 outside 1..65535"},
		{"1.2.3.4:8x", false, SAF_E_FORMAT,
		 "address '1.2.3.4:8x': port '8x' is not a number"},
		{"1.2.3.4:-1", false, SAF_E_FORMAT, NULL},
		{"[::1", false, SAF_E_FORMAT, "address '[::1': missing ']'"},
		{"[::1]80", false, SAF_E_FORMAT,
		 "address '[::1]80': expected ':PORT' after ']'"},
		{"[1.2.3.4]:80", false, SAF_E_FORMAT,
		 "address '[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address"},
		{"2001:db8::g", false, SAF_E_FORMAT, NULL},
		{"host.example:80", false, SAF_E_FORMAT, NULL},
		{"1.2.3.4", true, SAF_E_FORMAT,
		 "address '1.2.3.4': a port is required (ADDR:PORT)"},
		{"::1", true, SAF_E_FORMAT,
		 "address '::1': a port is required ([ADDR]:PORT)"},
		{"[::1]", true, SAF_E_FORMAT, NULL},
		{"1111111111111111111111111111111111111111111111111111111111"
		 "111111111",
		 false, SAF_E_RANGE, NULL},
	};
	saf_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		saf_error err;

		memset(&err, 0, sizeof(err));
		if (saf_addr_parse(cases[i].in, cases[i].require_port, &a,
				   &err) == 0)
			fail_msg("'%s' parsed", cases[i].in);
		assert_int_equal(err.code, cases[i].code);
		if (cases[i].msg)
			assert_string_equal(err.msg, cases[i].msg);
	}
	assert_int_equal(saf_addr_parse(NULL, false, &a, NULL), -1);
}

static void test_prefix_parse(void **state)
{
	saf_error err;
	unsigned len;
	saf_addr a;
	char buf[SAF_ADDR_STR_LEN];

	(void)state;
	assert_int_equal(saf_addr_prefix_parse("10.0.0.0/8", &a, &len, &err), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(len, 8);
	assert_string_equal(saf_addr_format(&a, buf), "10.0.0.0");
	assert_int_equal(saf_addr_prefix_parse("0.0.0.0/0", &a, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_int_equal(saf_addr_prefix_parse("2001:db8::/32", &a, &len, &err), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(len, 32);
	assert_int_equal(saf_addr_prefix_parse("192.0.2.7", &a, &len, &err), 0);
	assert_int_equal(len, 32);
	assert_int_equal(saf_addr_prefix_parse("::1", &a, &len, &err), 0);
	assert_int_equal(len, 128);
	assert_int_equal(saf_addr_prefix_parse("::/128", &a, &len, &err), 0);

	assert_int_equal(saf_addr_prefix_parse("10.0.0.1/8", &a, &len, &err), -1);
	assert_string_equal(err.msg,
			    "prefix '10.0.0.1/8': address has bits set beyond "
			    "/8");
	assert_int_equal(saf_addr_prefix_parse("10.0.0.0/33", &a, &len, &err), -1);
	assert_string_equal(err.msg, "prefix '10.0.0.0/33': length outside "
				     "0..32");
	assert_int_equal(saf_addr_prefix_parse("::/129", &a, &len, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_int_equal(saf_addr_prefix_parse("10.0.0.0/", &a, &len, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_int_equal(saf_addr_prefix_parse("10.0.0.0/x", &a, &len, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_int_equal(saf_addr_prefix_parse("10.0.0/8", &a, &len, &err), -1);
	assert_int_equal(saf_addr_prefix_parse("", &a, &len, &err), -1);
	assert_int_equal(saf_addr_prefix_parse("10.0.0.0:80/8", &a, &len, &err), -1);
}

static void test_equal(void **state)
{
	saf_addr a = parse_ok("192.0.2.1:443", false);
	saf_addr b = parse_ok("192.0.2.1:443", false);
	saf_addr c = parse_ok("192.0.2.1:444", false);
	saf_addr d = parse_ok("192.0.2.1", false);
	saf_addr e = parse_ok("::ffff:192.0.2.1", false);
	saf_addr f = parse_ok("192.0.2.2:443", false);

	(void)state;
	assert_true(saf_addr_equal(&a, &b));
	assert_false(saf_addr_equal(&a, &c));
	assert_true(saf_addr_equal_ip(&a, &c));
	assert_false(saf_addr_equal(&a, &d));
	assert_true(saf_addr_equal_ip(&a, &d));
	assert_false(saf_addr_equal_ip(&a, &e)); /* different family */
	assert_false(saf_addr_equal_ip(&a, &f));
}

static void test_sockaddr_round_trip(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 sin6;
	saf_error err;
	socklen_t len;
	saf_addr a, b;
	char buf[SAF_ADDR_STR_LEN];

	(void)state;
	a = parse_ok("192.0.2.1:443", false);
	len = saf_addr_to_sockaddr(&a, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(
		saf_addr_from_sockaddr((struct sockaddr *)&ss, len, &b, &err),
		0);
	assert_true(saf_addr_equal(&a, &b));

	a = parse_ok("[2001:db8::1]:8443", false);
	len = saf_addr_to_sockaddr(&a, &ss);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(
		saf_addr_from_sockaddr((struct sockaddr *)&ss, len, &b, &err),
		0);
	assert_true(saf_addr_equal(&a, &b));

	/* An IPv4-mapped socket address becomes family 4. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(80);
	assert_int_equal(
		inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6.sin6_addr), 1);
	assert_int_equal(saf_addr_from_sockaddr((struct sockaddr *)&sin6,
						sizeof(sin6), &b, &err),
			 0);
	assert_int_equal(b.family, 4);
	assert_string_equal(saf_addr_format(&b, buf), "198.51.100.7:80");

	/* Too short, and a family that is not IP. */
	assert_int_equal(saf_addr_from_sockaddr((struct sockaddr *)&sin6,
						sizeof(struct sockaddr_in), &b,
						&err),
			 -1);
	assert_int_equal(err.code, SAF_E_INVAL);
	{
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		assert_int_equal(saf_addr_from_sockaddr((struct sockaddr *)&sun,
							sizeof(sun), &b, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_UNSUPPORTED);
	}
	assert_int_equal(saf_addr_from_sockaddr(NULL, 0, &b, &err), -1);

	/* No port: 0 in the socket address. Bad family: length 0. */
	a = parse_ok("192.0.2.1", false);
	assert_int_equal(saf_addr_to_sockaddr(&a, &ss),
			 sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, 0);
	a.family = 5;
	assert_int_equal(saf_addr_to_sockaddr(&a, &ss), 0);
}

static void test_classify(void **state)
{
	static const struct {
		const char *in;
		saf_addr_class c;
	} cases[] = {
		{"192.0.2.1", SAF_ADDR_UNICAST},
		{"0.0.0.0", SAF_ADDR_UNSPECIFIED},
		{"0.1.2.3", SAF_ADDR_UNSPECIFIED},
		{"127.0.0.1", SAF_ADDR_LOOPBACK},
		{"127.255.0.9", SAF_ADDR_LOOPBACK},
		{"224.0.0.1", SAF_ADDR_MULTICAST},
		{"239.255.255.255", SAF_ADDR_MULTICAST},
		{"223.255.255.255", SAF_ADDR_UNICAST},
		{"240.0.0.1", SAF_ADDR_UNICAST},
		{"255.255.255.255", SAF_ADDR_BROADCAST},
		{"2001:db8::1", SAF_ADDR_UNICAST},
		{"::", SAF_ADDR_UNSPECIFIED},
		{"::1", SAF_ADDR_LOOPBACK},
		{"::2", SAF_ADDR_UNICAST},
		{"ff02::1", SAF_ADDR_MULTICAST},
		{"::ffff:224.0.0.5", SAF_ADDR_MULTICAST},
		{"::ffff:127.0.0.1", SAF_ADDR_LOOPBACK},
		{"::ffff:192.0.2.1", SAF_ADDR_UNICAST},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		saf_addr a = parse_ok(cases[i].in, false);

		if (saf_addr_classify(&a) != cases[i].c)
			fail_msg("%s: %s, expected %s", cases[i].in,
				 saf_addr_class_name(saf_addr_classify(&a)),
				 saf_addr_class_name(cases[i].c));
	}
	assert_string_equal(saf_addr_class_name(SAF_ADDR_BROADCAST),
			    "broadcast");
	assert_string_equal(saf_addr_class_name((saf_addr_class)99), "unknown");
}

static void test_check_target(void **state)
{
	saf_error err;
	saf_addr a;

	(void)state;
	a = parse_ok("224.0.0.1", false);
	assert_int_equal(saf_addr_check_target(&a, false, "advert", &err), -1);
	assert_int_equal(err.code, SAF_E_REFUSED);
	assert_string_equal(err.msg,
			    "advert for 224.0.0.1 rejected: multicast");

	a = parse_ok("[::]:443", false);
	assert_int_equal(saf_addr_check_target(&a, true, "token target", &err),
			 -1);
	assert_string_equal(err.msg,
			    "token target for :: rejected: unspecified");
	a = parse_ok("255.255.255.255:80", false);
	assert_int_equal(saf_addr_check_target(&a, true, "advert", &err), -1);
	assert_string_equal(err.msg,
			    "advert for 255.255.255.255 rejected: broadcast");

	a = parse_ok("127.0.0.1:80", false);
	assert_int_equal(saf_addr_check_target(&a, false, "advert", &err), -1);
	assert_string_equal(err.msg, "advert for 127.0.0.1 rejected: loopback");
	assert_int_equal(saf_addr_check_target(&a, true, "advert", &err), 0);
	a = parse_ok("::1", false);
	assert_int_equal(saf_addr_check_target(&a, false, "advert", &err), -1);
	assert_int_equal(saf_addr_check_target(&a, true, "advert", &err), 0);

	a = parse_ok("192.0.2.1", false);
	assert_int_equal(saf_addr_check_target(&a, false, "advert", &err), 0);
	a.family = 0;
	assert_int_equal(saf_addr_check_target(&a, true, "advert", &err), -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format_round_trip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_sockaddr_round_trip),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_check_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
