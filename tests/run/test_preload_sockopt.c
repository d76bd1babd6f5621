/* SPDX-License-Identifier: MIT */
/*
 * src/preload/sockopt.c and fmt.c, over real loopback sockets: what the
 * application set before connect() reaches the socket that replaces it,
 * defaults stay defaults, a bound port is shared with the first
 * connection, a copy that fails names the option; and the debug line's
 * address text agrees with inet_ntop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "preload/preload.h"

static int opt_index(const char *name)
{
	for (size_t i = 0; saf_sockopt_name(i); i++)
		if (strcmp(saf_sockopt_name(i), name) == 0)
			return (int)i;
	fail_msg("no option %s", name);
	return -1;
}

static int geti(int fd, int level, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, level, opt, &v, &l), 0);
	return v;
}

static void seti(int fd, int level, int opt, int v)
{
	assert_int_equal(setsockopt(fd, level, opt, &v, sizeof(v)), 0);
}

static void test_options_copied(void **state)
{
	int a = socket(AF_INET, SOCK_STREAM, 0),
	    b = socket(AF_INET, SOCK_STREAM, 0);
	struct linger lg = {1, 5}, lg2;
	struct timeval tv = {3, 500000}, tv2;
	saf_sock_snapshot s;
	const char *what = NULL;
	char cc[16] = "";
	socklen_t l;
	int e = 0;

	(void)state;
	seti(a, IPPROTO_TCP, TCP_NODELAY, 1);
	seti(a, SOL_SOCKET, SO_KEEPALIVE, 1);
	seti(a, IPPROTO_TCP, TCP_KEEPIDLE, 77);
	seti(a, IPPROTO_TCP, TCP_USER_TIMEOUT, 4321);
	seti(a, SOL_SOCKET, SO_RCVBUF, 100000);
	seti(a, IPPROTO_IP, IP_TOS, 0x28);
	assert_int_equal(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
			 0);
	assert_int_equal(
		setsockopt(a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(a, IPPROTO_TCP, TCP_CONGESTION, "reno", 4),
			 0);
	saf_sockopt_snapshot(a, AF_INET, &s);
	assert_false(s.bound);
	if (saf_sockopt_apply(&s, a, b, &what, &e))
		fail_msg("%s: %s", what, strerror(e));
	assert_int_equal(geti(b, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(geti(b, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(geti(b, IPPROTO_TCP, TCP_KEEPIDLE), 77);
	assert_int_equal(geti(b, IPPROTO_TCP, TCP_USER_TIMEOUT), 4321);
	/* the kernel doubles SO_RCVBUF: the copy must not double it again */
	assert_int_equal(geti(b, SOL_SOCKET, SO_RCVBUF),
			 geti(a, SOL_SOCKET, SO_RCVBUF));
	assert_int_equal(geti(b, IPPROTO_IP, IP_TOS), 0x28);
	l = sizeof(lg2);
	assert_int_equal(getsockopt(b, SOL_SOCKET, SO_LINGER, &lg2, &l), 0);
	assert_int_equal(lg2.l_onoff, 1);
	assert_int_equal(lg2.l_linger, 5);
	l = sizeof(tv2);
	assert_int_equal(getsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv2, &l), 0);
	assert_int_equal(tv2.tv_sec, 3);
	assert_int_equal(tv2.tv_usec, 500000);
	l = sizeof(cc);
	assert_int_equal(getsockopt(b, IPPROTO_TCP, TCP_CONGESTION, cc, &l), 0);
	assert_string_equal(cc, "reno");
	close(a);
	close(b);
}

static int listener(struct sockaddr_in *sin)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(*sin);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)sin, &len), 0);
	return l;
}

/* The application bound a port; the first connection still holds it when
 * the new socket binds: shared with SO_REUSEADDR, then both sockets' own
 * SO_REUSEADDR values are back. */
static void test_bound_port_shared(void **state)
{
	struct sockaddr_in l1a, l2a, local, got;
	int l1 = listener(&l1a), l2 = listener(&l2a);
	int a = socket(AF_INET, SOCK_STREAM, 0),
	    b = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(local);
	saf_sock_snapshot s;
	const char *what = NULL;
	int e = 0;

	(void)state;
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(a, (struct sockaddr *)&local, sizeof(local)), 0);
	assert_int_equal(getsockname(a, (struct sockaddr *)&local, &len), 0);
	saf_sockopt_snapshot(a, AF_INET, &s);
	assert_true(s.bound);
	assert_int_equal(connect(a, (struct sockaddr *)&l1a, sizeof(l1a)), 0);
	assert_int_equal(saf_sockopt_apply(&s, a, b, &what, &e), 0);
	assert_int_equal(connect(b, (struct sockaddr *)&l2a, sizeof(l2a)), 0);
	len = sizeof(got);
	assert_int_equal(getsockname(b, (struct sockaddr *)&got, &len), 0);
	assert_int_equal(got.sin_port, local.sin_port);
	assert_int_equal(geti(a, SOL_SOCKET, SO_REUSEADDR), 0);
	assert_int_equal(geti(b, SOL_SOCKET, SO_REUSEADDR), 0);
	close(a);
	close(b);
	close(l1);
	close(l2);
}

/* A value the new socket refuses: the copy fails and names the option
 * (the wrapper then leaves the application on S). */
static void test_copy_failure_named(void **state)
{
	int a = socket(AF_INET, SOCK_STREAM, 0),
	    b = socket(AF_INET, SOCK_STREAM, 0);
	saf_sock_snapshot s;
	const char *what = NULL;
	int e = 0, i = opt_index("TCP_CONGESTION");

	(void)state;
	saf_sockopt_snapshot(a, AF_INET, &s);
	memcpy(s.opt[i].v, "no-such-cc", 11);
	s.opt[i].len = 16;
	assert_int_equal(saf_sockopt_apply(&s, a, b, &what, &e), -1);
	assert_string_equal(what, "TCP_CONGESTION");
	assert_int_equal(e, ENOENT);
	close(a);
	close(b);
}

static void addr_text(const char *ip, uint16_t port)
{
	saf_addr a;
	saf_line l = {.len = 0};
	char want[80], buf[INET6_ADDRSTRLEN];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	memset(&a, 0, sizeof(a));
	a.family = fam == AF_INET ? 4 : 6;
	a.port = port;
	a.has_port = true;
	assert_int_equal(inet_pton(fam, ip, a.bytes), 1);
	inet_ntop(fam, a.bytes, buf, sizeof(buf));
	snprintf(want, sizeof(want), fam == AF_INET ? "%s:%u" : "[%s]:%u", buf,
		 port);
	saf_line_addr(&l, &a);
	l.buf[l.len] = '\0';
	assert_string_equal(l.buf, want);
}

static void test_addr_text(void **state)
{
	static const char *const ips[] = {
		"10.30.2.2",
		"0.0.0.0",
		"255.255.255.255",
		"::",
		"::1",
		"fd00:30:2::2",
		"fd00:99::1",
		"1::",
		"1:0:0:1:0:0:0:1",
		"1:0:0:1:0:0:1:1",
		"0:0:1:0:0:0:0:0",
		"1:2:3:4:5:6:7:8",
		"1:0:2:0:3:0:4:0",
		"2001:db8::ff00:42:8329",
		"fe80::1:0:0:0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		addr_text(ips[i], (uint16_t)(i * 4099 + 1));
}

static void test_line_bounded(void **state)
{
	saf_line l = {.len = 0};

	(void)state;
	for (int i = 0; i < 100; i++)
		saf_line_str(&l, "0123456789");
	assert_int_equal(l.len, sizeof(l.buf) - 1); /* room for the newline */
	saf_line_uint(&l, 12345);
	assert_int_equal(l.len, sizeof(l.buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_copied),
		cmocka_unit_test(test_bound_port_shared),
		cmocka_unit_test(test_copy_failure_named),
		cmocka_unit_test(test_addr_text),
		cmocka_unit_test(test_line_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
