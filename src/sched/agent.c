/* SPDX-License-Identifier: MIT */
/*
 * The node agent: reports this node's compute metrics to R1 every interval
 * and answers R1's delay probes, on one UDP socket per scheduler (a
 * centralized BGP scheduler may have a standby that needs the same
 * reports). Everything it
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
#include <unistd.h>

#include "saf/sched.h"
#include "saf/clock.h"

/* Memory in use, permille, from MemTotal and MemAvailable. */
static uint16_t read_mem(void)
{
	unsigned long long total = 0, avail = 0, v;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %llu", &v) == 1)
			avail = v;
	}
	fclose(f);
	if (total == 0 || avail > total)
		return 0;
	return (uint16_t)((total - avail) * 1000u / total);
}

/* Open TCP sockets (both families), from the kernel's own counts: cheap
 * enough to read every sample, unlike walking /proc/net/tcp. */
static uint32_t read_conns(void)
{
	static const char *const files[] = {"/proc/net/sockstat",
					    "/proc/net/sockstat6"};
	unsigned long long n = 0, v;
	char line[256];

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "TCP: inuse %llu", &v) == 1 ||
			    sscanf(line, "TCP6: inuse %llu", &v) == 1)
				n += v;
		fclose(f);
	}
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* "LOAD [CAPACITY [MEM [CONNS]]] [down]": numbers in this order, then
 * optionally "down". An unreadable file reads as "fully loaded": the node
 * stays reachable but is not preferred. */
static void read_load_file(const char *path, saf_sched_msg *m)
{
	unsigned long v[4] = {1000, m->capacity, 0, 0};
	char line[128] = "", *p = line, *end;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fgets(line, sizeof(line), f)) {
			for (size_t i = 0; i < 4; i++, p = end) {
				unsigned long x = strtoul(p, &end, 10);
				if (end == p)
					break;
				v[i] = x;
			}
			if (strstr(line, "down"))
				m->available = false;
		}
		fclose(f);
	}
	m->load = (uint16_t)(v[0] > 1000 ? 1000 : v[0]);
	m->capacity = (uint16_t)(v[1] > 1000 ? 1000 : v[1]);
	m->mem = (uint16_t)(v[2] > 1000 ? 1000 : v[2]);
	m->conns = (uint32_t)(v[3] > UINT32_MAX ? UINT32_MAX : v[3]);
	m->statistics = SAF_CATS_STAT_CUR;
	m->window_ms = 0;
}

static void read_metrics(const saf_agent_opts *o, saf_sched_msg *m)
{
	m->capacity = o->capacity ? o->capacity : 1000;
	m->available = true;
	if (o->load_file) {
		read_load_file(o->load_file, m);
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
	m->mem = read_mem();
	m->conns = read_conns();
	/* the one-minute load average: a mean over about a minute */
	m->statistics = SAF_CATS_STAT_MEAN;
	m->window_ms = 60000;
}

static unsigned l2_of(const saf_agent_opts *o, const saf_sched_msg *m)
{
	saf_cats_config c = o->cats;
	saf_cats_l0 l0 = saf_sched_msg_l0(m, -1); /* R1 measures delay */

	if (c.w_computing + c.w_communication + c.w_service <= 0)
		c = saf_cats_config_default();
	return m->available ? saf_cats_score(&c, &l0).norm_fi : 0;
}

/* One socket per scheduler: its probes come in and are answered there. */
typedef struct agent_sock {
	int fd;
	struct sockaddr_storage to;
	socklen_t tolen; /* 0: no scheduler, the socket only idles */
} agent_sock;

static void close_socks(agent_sock *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(s[i].fd);
}

/* Opens a socket per scheduler (sched, then sched_more); none given (BGP
 * distributed mode): one idle socket. Returns the count or 0 on error. */
static size_t open_socks(const saf_agent_opts *o,
			 agent_sock s[SAF_AGENT_SCHED_MAX], saf_error *err)
{
	size_t more = o->n_sched_more < SAF_AGENT_SCHED_MAX - 1
			      ? o->n_sched_more
			      : SAF_AGENT_SCHED_MAX - 1;
	size_t n = o->sched.family ? 1 + more : 1;

	for (size_t i = 0; i < n; i++) {
		const saf_addr *a = i == 0 ? &o->sched : &o->sched_more[i - 1];

		s[i].tolen = a->family ? saf_addr_to_sockaddr(a, &s[i].to) : 0;
		s[i].fd = socket(s[i].tolen ? s[i].to.ss_family : AF_INET,
				 SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s[i].fd < 0) {
			(void)saf_fail(err, SAF_E_SYS, "udp socket: %s",
				       strerror(errno));
			close_socks(s, i);
			return 0;
		}
	}
	return n;
}

static int send_report(const saf_agent_opts *o, const agent_sock *s, size_t n,
		       saf_sched_msg *m, uint64_t now, saf_error *err)
{
	uint8_t buf[SAF_SCHED_MSG_MAX];
	size_t len;

	if (o->on_metrics)
		o->on_metrics(o->metrics_ctx, m, now);
	if (saf_sched_msg_encode(m, o->key, buf, sizeof(buf), &len, err))
		return -1;
	/* A scheduler may be down or unreachable for a while (a standby's
	 * partner killed): keep sending to every one. */
	for (size_t i = 0; i < n; i++)
		if (s[i].tolen)
			(void)sendto(s[i].fd, buf, len, 0,
				     (const struct sockaddr *)&s[i].to,
				     s[i].tolen);
	return 0;
}

/* Answers one scheduler's delay probe on the socket it came in on. */
static void answer_probe(const saf_agent_opts *o, int fd)
{
	uint8_t buf[SAF_SCHED_MSG_MAX + 64];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
	saf_sched_msg p;
	saf_error derr;
	size_t len;

	if (n <= 0 || saf_sched_msg_decode(buf, (size_t)n, o->key, &p, &derr) ||
	    p.type != SAF_SCHED_PROBE)
		return; /* forged or stray: nothing to answer */
	/* The probe's nonce is what binds this echo to it at R1. */
	saf_sched_msg echo = {.type = SAF_SCHED_ECHO,
			      .seq = p.seq,
			      .stamp = p.stamp,
			      .nonce = p.nonce};
	memcpy(echo.node, o->name, sizeof(echo.node));
	if (saf_sched_msg_encode(&echo, o->key, buf, sizeof(buf), &len,
				 &derr) == 0)
		(void)sendto(fd, buf, len, 0, (struct sockaddr *)&from, flen);
}

int saf_agent_run(const saf_agent_opts *o, saf_error *err)
{
	agent_sock socks[SAF_AGENT_SCHED_MAX];
	struct pollfd pfd[SAF_AGENT_SCHED_MAX];
	uint64_t start = saf_clock_mono_ms(), next = 0;
	/* Sequence numbers start at the wall clock in microseconds, so a
	 * restarted agent continues above its last report. */
	uint64_t seq = saf_clock_wall_ms() * 1000u;
	uint64_t interval = o->interval_ms ? o->interval_ms : 200;
	size_t ns = open_socks(o, socks, err);

	if (ns == 0)
		return -1;
	for (size_t i = 0; i < ns; i++)
		pfd[i] = (struct pollfd){.fd = socks[i].fd, .events = POLLIN};
	saf_cats_trigger local, *trig = o->trigger ? o->trigger : &local;
	uint64_t sample = o->sample_ms ? o->sample_ms : 5, next_sample = 0;

	saf_cats_trigger_init(trig, o->l2_threshold ? o->l2_threshold : 1,
			      o->l2_min_gap_ms ? o->l2_min_gap_ms : 20);
	while (!(o->stop && *o->stop)) {
		uint64_t now = saf_clock_mono_ms();

		if (o->duration_ms && now - start >= o->duration_ms)
			break;
		if (now >= next || now >= next_sample) {
			saf_sched_msg m = {.type = SAF_SCHED_REPORT,
					   .stamp = saf_clock_wall_ms()};
			bool periodic = now >= next, extra = false;
			unsigned l2;

			memcpy(m.node, o->name, sizeof(m.node));
			read_metrics(o, &m);
			l2 = l2_of(o, &m);
			next_sample = now + sample;
			/* A change of the score goes out at once, not at the
			 * next interval (rate-limited, counted). */
			if (!periodic)
				extra = saf_cats_trigger_check(trig, l2, now);
			if (periodic || extra) {
				m.seq = ++seq;
				if (send_report(o, socks, ns, &m, now, err)) {
					close_socks(socks, ns);
					return -1;
				}
				saf_cats_trigger_sent(trig, l2, now, extra);
				if (periodic)
					next = now + interval;
			}
		}
		uint64_t due = next < next_sample ? next : next_sample;
		int wait = (int)(due > now ? due - now : 0);
		if (poll(pfd, (nfds_t)ns, wait) <= 0)
			continue;
		for (size_t i = 0; i < ns; i++)
			if (pfd[i].revents & POLLIN)
				answer_probe(o, socks[i].fd);
	}
	close_socks(socks, ns);
	return 0;
}
