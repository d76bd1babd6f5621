/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's event loop on R1: reports and probe echoes in over UDP,
 * one decision per tick, the route out over rtnetlink, status and metrics
 * out. Single-threaded; every table is per node, none per client or flow.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "saf/sched.h"
#include "saf/clock.h"
#include "saf/metrics.h"
#include "saf/sock.h"

#define TICK_MS 50u

/* The same address and port: an echo must come from where its probe went. */
static bool same_peer(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
					 *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
					  *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* The status file's writer for saf_metrics_file_replace. */
typedef struct state_ctx {
	const saf_sched *s;
	uint64_t now;
} state_ctx;

static void put_state(FILE *f, void *ctx)
{
	const state_ctx *c = ctx;

	saf_sched_write_status(c->s, c->now, f);
}

static void write_state(const saf_sched *s, const char *path, uint64_t now)
{
	state_ctx c = {.s = s, .now = now};

	/* Best effort: a status that cannot be written now is written on
	 * the next tick; the scheduler does not stop for it. */
	if (path && saf_metrics_file_replace(path, put_state, &c, NULL))
		return;
}

static void log_event(const saf_sched *s, FILE *events, const char *kind);

/* Programs the kernel for the current decision, for every anycast family. */
static void program(saf_sched *s, saf_route_sock *rs,
		    const saf_sched_run_opts *o, FILE *events)
{
	bool ok = true;

	for (size_t a = 0; a < o->n_anycast && !o->no_kernel; a++) {
		const saf_addr *dst = &o->anycast[a];
		saf_route_nexthop nh[SAF_SCHED_MAX_NODES];
		size_t n = 0;
		saf_error err;

		for (size_t i = 0; i < s->n_nodes; i++) {
			const saf_sched_node *node = &s->nodes[i];
			const saf_addr *gw = dst->family == 4 ? &node->nexthop4
							      : &node->nexthop6;
			bool use = s->cfg.multipath ? node->weight > 0
						    : (int)i == s->current;

			if (use && gw->family)
				nh[n++] = (saf_route_nexthop){
					.gw = *gw,
					.weight = node->weight ? node->weight
							       : 1};
		}
		if (n == 0)
			continue;
		if (saf_route_replace(rs, dst, nh, n, &err)) {
			s->ctr.route_errors++;
			fprintf(stderr, "saf sched: %s\n", err.msg);
			ok = false;
		}
	}
	if (!ok)
		return; /* route_dirty stays set: retried next tick */
	s->route_dirty = false;
	s->ctr.route_changes++;
	log_event(s, events, "change");
}

/* One JSON line per event: "start" (the choice at start, possibly read
 * back from the kernel) and "change" (every programmed route). */
static void log_event(const saf_sched *s, FILE *events, const char *kind)
{
	if (events) {
		fprintf(events,
			"{\"t_ms\":%" PRIu64 ",\"event\":\"%s\",\"choice\":",
			saf_clock_wall_ms(), kind);
		if (s->current >= 0)
			fprintf(events, "\"%s\"", s->nodes[s->current].name);
		else
			fputs("null", events);
		fputs(",\"weights\":{", events);
		for (size_t i = 0; i < s->n_nodes; i++)
			fprintf(events, "%s\"%s\":%u", i ? "," : "",
				s->nodes[i].name,
				s->cfg.multipath
					? s->nodes[i].weight
					: (unsigned)((int)i == s->current));
		fputs("}}\n", events);
		fflush(events);
	}
}

static void serve_metrics(int lfd, const saf_sched *s, uint64_t now)
{
	char req[1024];
	char *body = NULL;
	size_t body_len = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	FILE *mem;

	if (fd < 0)
		return;
	/* The request itself does not matter: every path gets the metrics.
	 * A short timeout keeps a silent client from stalling the loop. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)!read(fd, req, sizeof(req));
	mem = open_memstream(&body, &body_len);
	if (mem) {
		saf_sched_write_metrics(s, now, mem);
		fclose(mem);
		dprintf(fd,
			"HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			"version=0.0.4\r\nContent-Length: %zu\r\n\r\n",
			body_len);
		(void)!write(fd, body, body_len);
	}
	free(body);
	close(fd);
}

/* Where each node's agent reports from: probes go there, and an echo
 * counts as probed only from there. */
typedef struct agent_peers {
	struct sockaddr_storage addr[SAF_SCHED_MAX_NODES];
	socklen_t len[SAF_SCHED_MAX_NODES];
} agent_peers;

/* Recovers the kernel's current choice after a restart, so a restarted
 * scheduler does not move S for no reason. */
static void recover_current(saf_sched *s, saf_route_sock *rs,
			    const saf_sched_run_opts *o)
{
	saf_addr gw;
	saf_error ignore;

	if (saf_route_get(rs, &o->anycast[0], &gw, &ignore))
		return;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const saf_addr *h = gw.family == 4 ? &s->nodes[i].nexthop4
						   : &s->nodes[i].nexthop6;
		if (h->family && saf_addr_equal_ip(h, &gw))
			s->current = (int)i;
	}
}

/* Reports and echoes waiting on the socket, up to a burst of 64. */
static void read_datagrams(saf_sched *s, int ufd, uint64_t now,
			   agent_peers *peers)
{
	uint8_t buf[SAF_SCHED_MSG_MAX + 64];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;

	for (int burst = 0; burst < 64; burst++) {
		saf_sched_msg m;
		saf_sched_node *node;

		flen = sizeof(from);
		n = recvfrom(ufd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &flen);
		if (n < 0)
			break;
		if (saf_sched_on_datagram(s, buf, (size_t)n, now,
					  saf_clock_wall_ms(), &m, &node) ||
		    !node)
			continue; /* dropped and counted */
		size_t i = (size_t)(node - s->nodes);
		if (m.type == SAF_SCHED_REPORT) {
			/* Authenticated and fresh: probes go where this node
			 * reports from. */
			memcpy(&peers->addr[i], &from, flen);
			peers->len[i] = flen;
		} else {
			bool probed = peers->len[i] &&
				      same_peer(&from, &peers->addr[i]);
			(void)saf_sched_on_echo(s, node, &m, probed,
						saf_clock_mono_ns());
		}
	}
}

/* One delay probe to every node whose agent has reported. */
static void send_probes(saf_sched *s, int ufd, const agent_peers *peers)
{
	for (size_t i = 0; i < s->n_nodes; i++) {
		uint8_t buf[SAF_SCHED_MSG_MAX];
		uint64_t nonce = 0;
		size_t len;
		saf_error perr;

		/* An unpredictable nonce: an echo cannot be made up in
		 * advance of its probe. */
		if (!peers->len[i] ||
		    RAND_bytes((unsigned char *)&nonce, sizeof(nonce)) != 1 ||
		    saf_sched_probe(s, &s->nodes[i], nonce, saf_clock_mono_ns(),
				    buf, sizeof(buf), &len, &perr))
			continue;
		if (sendto(ufd, buf, len, 0,
			   (const struct sockaddr *)&peers->addr[i],
			   peers->len[i]) >= 0)
			s->ctr.probes_sent++;
	}
}

int saf_sched_run(saf_sched *s, const saf_sched_run_opts *o, saf_error *err)
{
	agent_peers peers;
	uint64_t start = saf_clock_mono_ms(), next_probe = 0;
	uint64_t retry_at = 0; /* after a refused update: retry once a second */
	saf_route_sock *rs;
	FILE *events = NULL;
	saf_error e;
	int ufd, mfd = -1, rc = -1;

	if (o->n_anycast == 0)
		return saf_fail(err, SAF_E_INVAL, "no anycast address");
	if (s->n_nodes == 0)
		return saf_fail(err, SAF_E_INVAL, "no nodes");
	rs = saf_route_open(err);
	if (!rs)
		return -1;
	memset(&peers, 0, sizeof(peers));
	/* [::] takes the IPv4 reports too */
	ufd = saf_sock_udp(&o->listen, true, err);
	if (ufd < 0)
		goto out;
	if (o->metrics.family &&
	    (mfd = saf_sock_listen(&o->metrics, 8, true, &e)) < 0) {
		saf_fail(err, e.code, "metrics: %s", e.msg);
		goto out;
	}
	if (o->events_path && !(events = fopen(o->events_path, "a"))) {
		saf_fail(err, SAF_E_SYS, "events file %s: %s", o->events_path,
			 strerror(errno));
		goto out;
	}
	recover_current(s, rs, o);
	/* Reports stamped before this were captured before a restart. */
	s->wall_start_ms = saf_clock_wall_ms();
	log_event(s, events, "start");
	while (!(o->stop && *o->stop)) {
		uint64_t now = saf_clock_mono_ms();
		struct pollfd pfd[2] = {{.fd = ufd, .events = POLLIN},
					{.fd = mfd, .events = POLLIN}};

		if (o->duration_ms && now - start >= o->duration_ms)
			break;
		if (poll(pfd, mfd >= 0 ? 2 : 1, (int)TICK_MS) < 0 &&
		    errno != EINTR) {
			saf_fail(err, SAF_E_SYS, "poll: %s", strerror(errno));
			goto out;
		}
		now = saf_clock_mono_ms();
		if (pfd[0].revents & POLLIN)
			read_datagrams(s, ufd, now, &peers);
		if (mfd >= 0 && (pfd[1].revents & POLLIN))
			serve_metrics(mfd, s, now);
		if (now >= next_probe) {
			next_probe = now + (o->probe_interval_ms
						    ? o->probe_interval_ms
						    : 200);
			send_probes(s, ufd, &peers);
		}
		bool changed = saf_sched_decide(s, now);

		if (o->on_decision)
			o->on_decision(o->decision_ctx, s, now);
		if (changed && now >= retry_at) {
			program(s, rs, o, events);
			if (s->route_dirty)
				retry_at = now + 1000;
		}
		write_state(s, o->state_path, now);
	}
	rc = 0;
out:
	if (events)
		fclose(events);
	if (mfd >= 0)
		close(mfd);
	if (ufd >= 0)
		close(ufd);
	saf_route_close(rs);
	return rc;
}
