/* SPDX-License-Identifier: MIT */
/* src/core/sock.c on loopback: a bounded connect that succeeds, one that
 * is refused (and says so), one that times out within its bound, a
 * listener and a UDP socket that are non-blocking and close-on-exec, the
 * dual-stack switch, and a close with RST. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "saf/clock.h"
#include "saf/sock.h"

static saf_addr addr(const char *text)
{
	saf_addr a;

	assert_int_equal(saf_addr_parse(text, true, &a, NULL), 0);
	return a;
}

/* The port a bound socket got. */
static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &l), 0);
	return ntohs(ss.ss_family == AF_INET6
			     ? ((struct sockaddr_in6 *)&ss)->sin6_port
			     : ((struct sockaddr_in *)&ss)->sin_port);
}

static void assert_flags(int fd, bool nonblock)
{
	assert_int_equal(!!(fcntl(fd, F_GETFL) & O_NONBLOCK), nonblock);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void test_listen_connect(void **state)
{
	saf_addr any = addr("127.0.0.1:1"), to;
	saf_error e;
	int lfd, fd, afd;

	(void)state;
	any.port = 0;
	lfd = saf_sock_listen(&any, 8, false, &e);
	assert_true(lfd >= 0);
	assert_flags(lfd, true);
	to = addr("127.0.0.1:1");
	to.port = port_of(lfd);
	fd = saf_sock_connect(&to, 1000, &e);
	assert_true(fd >= 0);
	assert_flags(fd, false); /* blocking again */
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(afd);
	saf_sock_close_rst(fd);
	close(lfd);
}

static void test_refused(void **state)
{
	saf_addr any = addr("127.0.0.1:1"), to;
	saf_error e;
	int lfd, fd, soerr = 0;
	char want[64];

	(void)state;
	/* A port that was just free: bind, note, close. */
	any.port = 0;
	lfd = saf_sock_listen(&any, 1, false, &e);
	assert_true(lfd >= 0);
	to = addr("127.0.0.1:1");
	to.port = port_of(lfd);
	close(lfd);
	assert_int_equal(saf_sock_connect(&to, 1000, &e), -1);
	assert_int_equal(e.code, SAF_E_SYS);
	snprintf(want, sizeof(want),
		 "connect to 127.0.0.1:%u: Connection refused", to.port);
	assert_string_equal(e.msg, want);
	/* The fd form keeps the socket and reports the error. */
	fd = saf_sock_open(&to, SOCK_STREAM, &e);
	assert_true(fd >= 0);
	assert_flags(fd, true);
	assert_int_equal(saf_sock_connect_fd(fd, &to, 1000, &soerr, &e), -1);
	assert_int_equal(soerr, ECONNREFUSED);
	close(fd);
}

/* A listener whose backlog is full leaves further SYNs unanswered: the
 * connect must give up after its bound, with SAF_E_TIMEOUT. */
static void test_timeout(void **state)
{
	saf_addr any = addr("127.0.0.1:1"), to;
	saf_error e;
	int lfd, fds[8], nfd = 0, soerr = 0, fd;
	uint64_t t0, took;

	(void)state;
	any.port = 0;
	lfd = saf_sock_listen(&any, 0, false, &e);
	assert_true(lfd >= 0);
	to = addr("127.0.0.1:1");
	to.port = port_of(lfd);
	/* Fill the accept queue (backlog 0 takes one or two). */
	for (; nfd < 4; nfd++) {
		fds[nfd] = saf_sock_open(&to, SOCK_STREAM, &e);
		assert_true(fds[nfd] >= 0);
		if (saf_sock_connect_fd(fds[nfd], &to, 200, NULL, &e) &&
		    e.code == SAF_E_TIMEOUT)
			break;
	}
	assert_true(nfd < 4); /* one of them timed out already */
	fd = saf_sock_open(&to, SOCK_STREAM, &e);
	assert_true(fd >= 0);
	t0 = saf_clock_mono_ms();
	assert_int_equal(saf_sock_connect_fd(fd, &to, 150, &soerr, &e), -1);
	took = saf_clock_mono_ms() - t0;
	assert_int_equal(e.code, SAF_E_TIMEOUT);
	assert_int_equal(soerr, ETIMEDOUT);
	assert_non_null(strstr(e.msg, "no answer within 150 ms"));
	assert_true(took >= 140 && took < 1000);
	close(fd);
	for (int i = 0; i <= nfd && i < 4; i++)
		close(fds[i]);
	close(lfd);
}

static void test_udp_and_dual_stack(void **state)
{
	saf_addr v6 = addr("[::]:1"), v4 = addr("127.0.0.1:1");
	saf_error e;
	int u, l, v6only = -1;
	socklen_t sl = sizeof(v6only);

	(void)state;
	v6.port = 0;
	u = saf_sock_udp(&v6, true, &e);
	if (u < 0 && strstr(e.msg, "Cannot assign")) /* no IPv6 here */
		skip();
	assert_true(u >= 0);
	assert_flags(u, true);
	assert_int_equal(getsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl),
			 0);
	assert_int_equal(v6only, 0);
	close(u);
	l = saf_sock_listen(&v6, 4, false, &e);
	assert_true(l >= 0);
	assert_int_equal(getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl),
			 0);
	assert_int_equal(v6only, 1);
	/* Binding a port in use fails and names the address. */
	v4.port = 0;
	u = saf_sock_udp(&v4, false, &e);
	assert_true(u >= 0);
	v4.port = port_of(u);
	assert_int_equal(saf_sock_udp(&v4, false, &e), -1);
	assert_non_null(strstr(e.msg, "bind 127.0.0.1:"));
	assert_non_null(strstr(e.msg, "Address already in use"));
	close(u);
	close(l);
}

/* The started connect for a caller's own poll loop: in progress, then
 * connected; to a closed port, failed with ECONNREFUSED. */
static void test_connect_start(void **state)
{
	saf_addr any = addr("127.0.0.1:1"), to = addr("127.0.0.1:1");
	saf_error e;
	int lfd, fd, soerr = -1, r = 0;

	(void)state;
	any.port = 0;
	lfd = saf_sock_listen(&any, 8, false, &e);
	assert_true(lfd >= 0);
	to.port = port_of(lfd);
	fd = saf_sock_open(&to, SOCK_STREAM, &e);
	assert_true(fd >= 0);
	assert_int_equal(saf_sock_connect_start(fd, &to, &soerr), 0);
	assert_int_equal(soerr, 0);
	for (int i = 0; i < 1000 && r == 0; i++) {
		r = saf_sock_connect_result(fd, &soerr);
		if (r == 0)
			usleep(1000);
	}
	assert_int_equal(r, 1);
	close(fd);
	close(lfd); /* the port is free now: a connect is refused */
	fd = saf_sock_open(&to, SOCK_STREAM, &e);
	assert_true(fd >= 0);
	r = saf_sock_connect_start(fd, &to, &soerr);
	for (int i = 0; i < 1000 && r == 0; i++) {
		r = saf_sock_connect_result(fd, &soerr);
		if (r == 0)
			usleep(1000);
	}
	assert_int_equal(r, -1);
	assert_int_equal(soerr, ECONNREFUSED);
	close(fd);
}

static void test_set_nonblock(void **state)
{
	saf_addr v4 = addr("127.0.0.1:1");
	saf_error e;
	int fd = saf_sock_open(&v4, SOCK_DGRAM, &e);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(saf_sock_set_nonblock(fd, false, &e), 0);
	assert_flags(fd, false);
	assert_int_equal(saf_sock_set_nonblock(fd, true, &e), 0);
	assert_flags(fd, true);
	close(fd);
	assert_int_equal(saf_sock_set_nonblock(fd, true, &e), -1);
	assert_non_null(strstr(e.msg, "fcntl: Bad file descriptor"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_connect),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_udp_and_dual_stack),
		cmocka_unit_test(test_connect_start),
		cmocka_unit_test(test_set_nonblock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
