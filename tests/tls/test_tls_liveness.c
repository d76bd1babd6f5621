/* SPDX-License-Identifier: MIT */
/*
 * Liveness of a client's continuity connection (src/tls/liveness.c): the
 * keepalive and user timeout derived from the bound, and set on a real
 * TCP socket as the kernel reports them back. The behaviour against a
 * silent node is tests/tls/liveness.sh (namespaces, a black hole).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls/tls_internal.h"

static void check_params(unsigned total, unsigned idle, unsigned intvl)
{
	saf_tls_liveness l;

	saf_tls_liveness_params(total, &l);
	assert_int_equal(l.idle_s, idle);
	assert_int_equal(l.intvl_s, intvl);
	assert_int_equal(l.cnt, 3);
	assert_int_equal(l.user_timeout_ms, total * 1000u);
	/* The last probe is due by the bound (1 s granularity aside). */
	assert_true(l.idle_s + l.cnt * l.intvl_s <= (total > 4 ? total : 4u));
}

static void test_params(void **state)
{
	(void)state;
	check_params(15, 5, 3);
	check_params(3, 1, 1);
	check_params(1, 1, 1);
	check_params(60, 20, 13);
	check_params(3600, 1200, 800);
}

static int opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &l), 0);
	return v;
}

static void test_set_on_tcp(void **state)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(saf_tls_liveness_set(fd, 15), 0);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 5);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 3);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 15000);
	close(fd);
}

static void test_refused_off_tcp(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(saf_tls_liveness_set(sv[0], 15), -1);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_set_on_tcp),
		cmocka_unit_test(test_refused_off_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
