/* SPDX-License-Identifier: MIT */
/*
 * The node agent: reports this node's compute metrics to R1 every interval
 * and answers R1's delay probes, all on one UDP socket. Everything it
 * sends and accepts is signed with this node's own key; a report carries
 * the wall clock, which R1 checks against its own (docs/sched.md).
 *
 * Load comes from a file when given ("LOAD [CAPACITY] [down]", permille;
 * the demo shifts load this way), otherwise from /proc/loadavg over the
 * number of CPUs.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "saf/sched.h"

static uint64_t now_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void read_metrics(const saf_agent_opts *o, saf_sched_msg *m)
{
	m->capacity = o->capacity ? o->capacity : 1000;
	m->available = true;
	if (o->load_file) {
		char line[128] = "", word[16] = "";
		unsigned load = 1000, cap = m->capacity;
		FILE *f = fopen(o->load_file, "r");

		/* An unreadable load file reads as "fully loaded": the node
		 * stays reachable but is not preferred. */
		if (f) {
			if (fgets(line, sizeof(line), f)) {
				int n = sscanf(line, "%u %u %15s", &load, &cap,
					       word);
				if (n < 2)
					cap = m->capacity;
				if (strcmp(word, "down") == 0 ||
				    strstr(line, "down"))
					m->available = false;
			}
			fclose(f);
		}
		m->load = (uint16_t)(load > 1000 ? 1000 : load);
		m->capacity = (uint16_t)(cap > 1000 ? 1000 : cap);
		return;
	}
	double avg = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &avg) != 1)
			avg = 0;
		fclose(f);
	}
	double load = avg / (double)(cpus > 0 ? cpus : 1);
	m->load = (uint16_t)(load >= 1.0 ? 1000 : load * 1000.0);
}

int saf_agent_run(const saf_agent_opts *o, saf_error *err)
{
	struct sockaddr_storage to;
	socklen_t tolen = saf_addr_to_sockaddr(&o->sched, &to);
	uint64_t start = now_ms(CLOCK_MONOTONIC), next = 0;
	/* Sequence numbers start at the wall clock in microseconds, so a
	 * restarted agent continues above its last report. */
	uint64_t seq = now_ms(CLOCK_REALTIME) * 1000u;
	uint64_t interval = o->interval_ms ? o->interval_ms : 200;
	/* no scheduler (BGP distributed mode): the socket only idles */
	int fd = socket(o->sched.family ? to.ss_family : AF_INET,
			SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "udp socket: %s",
				strerror(errno));
	while (!(o->stop && *o->stop)) {
		uint64_t now = now_ms(CLOCK_MONOTONIC);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint8_t buf[SAF_SCHED_MSG_MAX + 64];
		size_t len;

		if (o->duration_ms && now - start >= o->duration_ms)
			break;
		if (now >= next) {
			saf_sched_msg m = {.type = SAF_SCHED_REPORT,
					   .seq = ++seq,
					   .stamp = now_ms(CLOCK_REALTIME)};

			memcpy(m.node, o->name, sizeof(m.node));
			read_metrics(o, &m);
			if (o->on_metrics)
				o->on_metrics(o->metrics_ctx, &m, now);
			if (saf_sched_msg_encode(&m, o->key, buf, sizeof(buf),
						 &len, err)) {
				close(fd);
				return -1;
			}
			/* R1 may be unreachable for a while: keep trying. */
			if (o->sched.family)
				(void)sendto(fd, buf, len, 0,
					     (struct sockaddr *)&to, tolen);
			next = now + interval;
		}
		int wait = (int)(next > now ? next - now : 0);
		if (poll(&pfd, 1, wait) <= 0)
			continue;
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);
		saf_sched_msg p;
		saf_error derr;

		if (n <= 0 ||
		    saf_sched_msg_decode(buf, (size_t)n, o->key, &p, &derr) ||
		    p.type != SAF_SCHED_PROBE)
			continue; /* forged or stray: nothing to answer */
		/* The probe's nonce is what binds this echo to it at R1. */
		saf_sched_msg echo = {.type = SAF_SCHED_ECHO,
				      .seq = p.seq,
				      .stamp = p.stamp,
				      .nonce = p.nonce};
		memcpy(echo.node, o->name, sizeof(echo.node));
		if (saf_sched_msg_encode(&echo, o->key, buf, sizeof(buf), &len,
					 &derr) == 0)
			(void)sendto(fd, buf, len, 0, (struct sockaddr *)&from,
				     flen);
	}
	close(fd);
	return 0;
}
