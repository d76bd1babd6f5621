/* SPDX-License-Identifier: MIT */
/* The agent reports to more than one scheduler (an active and a standby,
 * docs/bgp.md): the real agent loop on loopback, one scheduler on IPv4
 * and one on IPv6. Each must get the periodic reports, and each one's
 * probe must be echoed back to it, not to the other. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "saf/sched.h"

static volatile int stop;
static saf_agent_opts opts;

static void *run(void *arg)
{
	saf_error err;

	(void)arg;
	if (saf_agent_run(&opts, &err))
		fprintf(stderr, "agent: %s\n", err.msg);
	return NULL;
}

/* A scheduler's socket on loopback of family 4 or 6; its address into a. */
static int sched_sock(int family, saf_addr *a)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	char spec[64];
	saf_error err;
	int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	if (family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	unsigned port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (family == 6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(spec, sizeof(spec), family == 4 ? "127.0.0.1:%u" : "[::1]:%u",
		 port);
	assert_int_equal(saf_addr_parse(spec, true, a, &err), 0);
	return fd;
}

/* The next datagram on fd within timeout_ms, decoded; its type or -1.
 * from/flen: where it came from (the agent's socket for this scheduler). */
static int next_msg(int fd, int timeout_ms, saf_sched_msg *m,
		    struct sockaddr_storage *from, socklen_t *flen)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_error err;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	*flen = sizeof(*from);
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)from, flen);
	if (n <= 0 || saf_sched_msg_decode(buf, (size_t)n, opts.key, m, &err))
		return -1;
	return (int)m->type;
}

/* Reports arrive at fd; a probe sent from fd comes back as its echo. */
static void check_sched(int fd, uint64_t nonce)
{
	struct sockaddr_storage agent;
	socklen_t alen;
	saf_sched_msg m,
		probe = {.type = SAF_SCHED_PROBE, .seq = 1, .nonce = nonce};
	uint8_t buf[SAF_SCHED_MSG_MAX];
	size_t len;
	saf_error err;
	int t;

	assert_int_equal(next_msg(fd, 2000, &m, &agent, &alen),
			 SAF_SCHED_REPORT);
	assert_string_equal(m.node, "n2");
	assert_int_equal(m.load, 300);
	assert_int_equal(saf_sched_msg_encode(&probe, opts.key, buf,
					      sizeof(buf), &len, &err),
			 0);
	assert_int_equal(
		sendto(fd, buf, len, 0, (struct sockaddr *)&agent, alen),
		(ssize_t)len);
	/* reports may come first: skip them, the echo must follow */
	for (int i = 0; i < 10; i++) {
		t = next_msg(fd, 1000, &m, &agent, &alen);
		if (t != SAF_SCHED_REPORT)
			break;
	}
	assert_int_equal(t, SAF_SCHED_ECHO);
	assert_true(m.nonce == nonce);
}

static void test_two_schedulers(void **st)
{
	char load_path[] = "/tmp/saf-agent-multi-XXXXXX";
	int lfd = mkstemp(load_path);
	int fd4 = sched_sock(4, &opts.sched);
	int fd6 = sched_sock(6, &opts.sched_more[0]);
	pthread_t th;

	(void)st;
	assert_true(lfd >= 0);
	assert_int_equal(write(lfd, "300\n", 4), 4);
	close(lfd);
	opts.n_sched_more = 1;
	strcpy(opts.name, "n2");
	memset(opts.key, 0x21, sizeof(opts.key));
	opts.load_file = load_path;
	opts.interval_ms = 50;
	opts.stop = &stop;
	assert_int_equal(pthread_create(&th, NULL, run, NULL), 0);
	check_sched(fd4, 0x4444);
	check_sched(fd6, 0x6666);
	/* both keep getting reports: neither is only the first */
	for (int i = 0; i < 3; i++) {
		struct sockaddr_storage a;
		socklen_t al;
		saf_sched_msg m;

		assert_int_equal(next_msg(fd4, 500, &m, &a, &al),
				 SAF_SCHED_REPORT);
		assert_int_equal(next_msg(fd6, 500, &m, &a, &al),
				 SAF_SCHED_REPORT);
	}
	stop = 1;
	pthread_join(th, NULL);
	close(fd4);
	close(fd6);
	unlink(load_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_schedulers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
