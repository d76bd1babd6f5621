/* SPDX-License-Identifier: MIT */
/* The agent's fast report (issue 18): the real agent loop on loopback,
 * periodic interval 10 s, so any report after the first is the trigger's.
 * A load change must reach the socket within a few samples (5 ms each),
 * and a second change inside the 20 ms rate limit must wait it out. */
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
#include <time.h>
#include <unistd.h>

#include "saf/sched.h"

static volatile int stop;
static saf_agent_opts opts;
static saf_cats_trigger trig;
static char load_path[] = "/tmp/saf-agent-fast-XXXXXX";

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *run(void *arg)
{
	saf_error err;

	(void)arg;
	if (saf_agent_run(&opts, &err))
		fprintf(stderr, "agent: %s\n", err.msg);
	return NULL;
}

static void set_load(unsigned load)
{
	char tmp[64];
	FILE *f;

	/* rename: the agent never reads a half-written file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", load_path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%u\n", load);
	fclose(f);
	assert_int_equal(rename(tmp, load_path), 0);
}

/* The next report within timeout_ms; its load, or -1. */
static int next_report(int fd, int timeout_ms, uint64_t *at)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_sched_msg m;
	saf_error err;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	*at = mono_ms();
	if (n <= 0 ||
	    saf_sched_msg_decode(buf, (size_t)n, opts.key, &m, &err) != 0)
		return -1;
	return m.load;
}

static void test_fast_report(void **st)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), lfd = mkstemp(load_path);
	uint64_t t_change, t_first, t_second, t0;
	char spec[64];
	pthread_t th;
	saf_error err;

	(void)st;
	assert_true(fd >= 0 && lfd >= 0);
	close(lfd);
	set_load(100);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(saf_addr_parse(spec, true, &opts.sched, &err), 0);
	strcpy(opts.name, "n2");
	memset(opts.key, 0x12, sizeof(opts.key));
	opts.load_file = load_path;
	opts.interval_ms = 10000;
	opts.stop = &stop;
	opts.trigger = &trig;
	assert_int_equal(pthread_create(&th, NULL, run, NULL), 0);

	assert_int_equal(next_report(fd, 2000, &t0), 100); /* periodic */
	/* no change: nothing more (the score is unchanged) */
	assert_int_equal(next_report(fd, 100, &t0), -1);

	t_change = mono_ms();
	set_load(900); /* L2 7 -> 4 */
	assert_int_equal(next_report(fd, 200, &t_first), 900);
	print_message("fast report %llu ms after the change\n",
		      (unsigned long long)(t_first - t_change));
	assert_true(t_first - t_change <= 50);
	set_load(100); /* back at once: held by the 20 ms limit */
	assert_int_equal(next_report(fd, 200, &t_second), 100);
	print_message("second report %llu ms after the first\n",
		      (unsigned long long)(t_second - t_first));
	assert_true(t_second - t_first >= 19);
	stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(trig.extra, 2);
	assert_true(trig.limited >= 1);
	close(fd);
	unlink(load_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
