/* SPDX-License-Identifier: MIT */
/*
 * saf-load: the two ends of the hardening load test (scripts/load).
 *
 *   saf-load echo --port P
 *       an unmodified epoll echo server (it knows nothing of saf);
 *   saf-load run --service S:PORT --count N --rate R --duration SEC ...
 *       holds N long-lived connections opened with saf_tcp_connect (each
 *       one a migration from S to a node's unicast address), sends every
 *       connection a checked chunk each --interval, and replaces R of them
 *       per second (a graceful close, every byte verified, then a new
 *       migration). It counts every connection lost, every byte that came
 *       back wrong or not at all, and what each connect did.
 *
 * This file: the runner and the command line; load_echo.c: the echo
 * server.
 *
 * One thread, one epoll set: the connects are blocking (saf_tcp_connect is
 * the library users call) and short on the lab, so the loop stays simple.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "saf/addr.h"
#include "saf/clock.h"
#include "cli/opt.h"
#include "checked_bytes.h"
#include "load.h"
#include "saf/sock.h"
#include "saf/tcp.h"

#define MAX_CHUNK 1024u
#define MAX_TARGETS 16u
#define MAX_REASONS 8u
#define TICK_MS 10u
#define DRAIN_MS 10000u

volatile sig_atomic_t stop_requested;

void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* A saf node resets nothing, but the client side holds count + closing
 * sockets and each node's echo server a third of them: raise the fd limit
 * as far as the hard limit allows. */
rlim_t raise_nofile(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return 0;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		return 0;
	return r.rlim_cur;
}

/* ---- run ---------------------------------------------------------------- */

typedef enum conn_state { C_FREE = 0, C_OPEN, C_CLOSING } conn_state;

typedef struct conn {
	int fd;
	conn_state state;
	uint8_t target;          /* index into run_stats.targets */
	uint64_t tx_state, rx_state;
	uint64_t sent, received;
	uint64_t opened_us;
	uint16_t pending_off, pending_len;
	uint8_t pending[MAX_CHUNK];
} conn;

typedef struct run_config {
	saf_addr service;
	size_t count;
	double rate;       /* replacements (and, at first, opens) per second */
	unsigned duration_s;
	unsigned interval_ms;
	size_t chunk;
	unsigned timeout_ms;
	const char *pin_dir, *json_path, *progress_path;
	bool allow_loopback;
	saf_target_policy policy; /* --allow-target */
} run_config;

typedef struct run_stats {
	uint64_t opened, migrated, not_migrated, connect_errors;
	uint64_t lost, mismatches, bytes_sent, bytes_verified, bytes_missing;
	uint64_t closed_clean, replaced, live, closing, max_fds_in_use;
	char targets[MAX_TARGETS][SAF_ADDR_STR_LEN];
	uint64_t target_count[MAX_TARGETS];
	size_t n_targets;
	char reasons[MAX_REASONS][160];
	size_t n_reasons;
	uint64_t connect_us_hist[64]; /* bucket b: [2^b, 2^(b+1)) µs */
	uint64_t connect_us_max;
} run_stats;

typedef struct runner {
	run_config cfg;
	run_stats st;
	conn *slots;
	size_t n_slots;
	size_t *free_list, n_free;
	size_t victim_cursor;
	int ep;
	uint64_t seed_counter;
} runner;

static void note_reason(run_stats *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note_reason(run_stats *st, const char *fmt, ...)
{
	va_list ap;

	if (st->n_reasons >= MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(st->reasons[st->n_reasons++], sizeof(st->reasons[0]), fmt, ap);
	va_end(ap);
}

static uint8_t target_index(run_stats *st, const saf_addr *a)
{
	char buf[SAF_ADDR_STR_LEN];

	saf_addr_format(a, buf);
	for (size_t i = 0; i < st->n_targets; i++)
		if (strcmp(st->targets[i], buf) == 0)
			return (uint8_t)i;
	if (st->n_targets == MAX_TARGETS)
		return MAX_TARGETS - 1; /* the lab has three; lump any excess */
	snprintf(st->targets[st->n_targets], SAF_ADDR_STR_LEN, "%s", buf);
	return (uint8_t)st->n_targets++;
}

static void record_connect_time(run_stats *st, uint64_t us)
{
	unsigned b = 0;

	while (b < 63 && (us >> (b + 1)) != 0)
		b++;
	st->connect_us_hist[b]++;
	if (us > st->connect_us_max)
		st->connect_us_max = us;
}

/* Upper bound of the bucket holding the q-quantile. */
static uint64_t connect_quantile(const run_stats *st, double q)
{
	uint64_t total = 0, seen = 0;

	for (unsigned b = 0; b < 64; b++)
		total += st->connect_us_hist[b];
	if (total == 0)
		return 0;
	for (unsigned b = 0; b < 64; b++) {
		seen += st->connect_us_hist[b];
		if ((double)seen >= q * (double)total)
			return (uint64_t)1 << (b + 1);
	}
	return st->connect_us_max;
}

static void release(runner *r, size_t i)
{
	conn *c = &r->slots[i];

	epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->state == C_OPEN)
		r->st.live--;
	else
		r->st.closing--;
	c->state = C_FREE;
	c->fd = -1;
	r->free_list[r->n_free++] = i;
}

static void lose(runner *r, size_t i, const char *why)
{
	conn *c = &r->slots[i];

	r->st.lost++;
	r->st.bytes_missing += c->sent - c->received;
	note_reason(&r->st, "connection to %s lost after %.1f s: %s",
		    r->st.targets[c->target],
		    (double)(saf_clock_mono_us() - c->opened_us) / 1e6, why);
	release(r, i);
}

/* Opens one connection the way a saf client does: to S, then to the
 * unicast address the node advertised. Returns false when no slot or no
 * connection could be had (counted). */
static bool open_one(runner *r)
{
	if (r->n_free == 0)
		return false;
	saf_tcp_connect_opts o = { .timeout_ms = r->cfg.timeout_ms,
				   .allow_loopback = r->cfg.allow_loopback,
				   .pin_dir = r->cfg.pin_dir,
				   .policy = &r->cfg.policy };
	saf_tcp_result res;
	saf_error err = { 0 };
	uint64_t t0 = saf_clock_mono_us();
	int fd = saf_tcp_connect(&r->cfg.service, &o, &res, &err);

	record_connect_time(&r->st, saf_clock_mono_us() - t0);
	if (fd < 0) {
		r->st.connect_errors++;
		note_reason(&r->st, "connect to the service failed: %s", err.msg);
		return false;
	}
	if (res.outcome == SAF_TCP_MIGRATED) { /* no cache: every one via S */
		r->st.migrated++;
	} else {
		r->st.not_migrated++;
		note_reason(&r->st, "not migrated (%s): %s",
			    saf_tcp_outcome_name(res.outcome), res.reason);
	}
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (saf_sock_set_nonblock(fd, true, &err)) {
		r->st.connect_errors++;
		note_reason(&r->st, "%s", err.msg);
		close(fd);
		return false;
	}
	size_t i = r->free_list[--r->n_free];
	conn *c = &r->slots[i];

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->state = C_OPEN;
	c->target = target_index(&r->st, &res.final);
	r->st.target_count[c->target]++;
	c->tx_state = c->rx_state = 0x9E3779B97F4A7C15ULL * ++r->seed_counter;
	c->opened_us = saf_clock_mono_us();
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
				  .data.u64 = i };

	epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
	r->st.opened++;
	r->st.live++;
	uint64_t in_use = r->st.live + r->st.closing;

	if (in_use > r->st.max_fds_in_use)
		r->st.max_fds_in_use = in_use;
	return true;
}

/* Writes what is pending; with nothing pending and `fresh`, a new chunk. */
static void send_chunk(runner *r, size_t i, bool fresh)
{
	conn *c = &r->slots[i];

	if (c->pending_len == 0 && fresh) {
		for (size_t k = 0; k < r->cfg.chunk; k++)
			c->pending[k] = checked_next_byte(&c->tx_state);
		c->pending_len = (uint16_t)r->cfg.chunk;
		c->pending_off = 0;
	}
	while (c->pending_off < c->pending_len) {
		ssize_t w = write(c->fd, c->pending + c->pending_off,
				  (size_t)(c->pending_len - c->pending_off));

		if (w < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP,
						  .data.u64 = i };
			epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
			return;
		}
		if (w < 0) {
			lose(r, i, strerror(errno));
			return;
		}
		c->pending_off = (uint16_t)(c->pending_off + w);
		c->sent += (uint64_t)w;
		r->st.bytes_sent += (uint64_t)w;
	}
	c->pending_len = c->pending_off = 0;
}

static void on_readable(runner *r, size_t i)
{
	conn *c = &r->slots[i];
	uint8_t buf[8192];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			lose(r, i, strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->state != C_CLOSING) {
				lose(r, i, "closed by the peer");
				return;
			}
			if (c->received == c->sent) {
				r->st.closed_clean++;
			} else {
				r->st.bytes_missing += c->sent - c->received;
				note_reason(&r->st, "closed with %llu bytes not echoed",
					    (unsigned long long)(c->sent - c->received));
			}
			release(r, i);
			return;
		}
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != checked_next_byte(&c->rx_state))
				r->st.mismatches++;
		c->received += (uint64_t)n;
		r->st.bytes_verified += (uint64_t)n;
		if (c->received > c->sent) {
			r->st.mismatches += c->received - c->sent;
			lose(r, i, "more bytes came back than were sent");
			return;
		}
	}
}

/* Begins a graceful close of one connection whose every byte came back:
 * FIN now, the slot is released when the echo server's FIN arrives. */
static bool close_one(runner *r)
{
	for (size_t tries = 0; tries < 256; tries++) {
		size_t i = r->victim_cursor++ % r->n_slots;
		conn *c = &r->slots[i];

		if (c->state != C_OPEN || c->pending_len != 0 ||
		    c->received != c->sent)
			continue;
		shutdown(c->fd, SHUT_WR);
		c->state = C_CLOSING;
		r->st.live--;
		r->st.closing++;
		r->st.replaced++;
		return true;
	}
	return false;
}

static void handle_events(runner *r, int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(r->ep, evs, 512, timeout_ms);

	for (int k = 0; k < n; k++) {
		size_t i = (size_t)evs[k].data.u64;

		if (r->slots[i].state == C_FREE)
			continue; /* released earlier in this batch */
		if (evs[k].events & EPOLLOUT) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
						  .data.u64 = i };
			epoll_ctl(r->ep, EPOLL_CTL_MOD, r->slots[i].fd, &ev);
			send_chunk(r, i, false);
			if (r->slots[i].state == C_FREE)
				continue;
		}
		if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			on_readable(r, i);
	}
}

static void write_progress(const runner *r, uint64_t elapsed_ms)
{
	FILE *f;
	char tmp[4096];

	if (r->cfg.progress_path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->cfg.progress_path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "t=%llus live=%llu opened=%llu migrated=%llu lost=%llu mismatches=%llu\n",
		(unsigned long long)(elapsed_ms / 1000),
		(unsigned long long)r->st.live,
		(unsigned long long)r->st.opened,
		(unsigned long long)r->st.migrated,
		(unsigned long long)r->st.lost,
		(unsigned long long)r->st.mismatches);
	fclose(f);
	rename(tmp, r->cfg.progress_path);
}

static void write_json(const runner *r, FILE *f, double seconds)
{
	const run_stats *st = &r->st;

	fprintf(f, "{\"count\":%zu,\"rate\":%.0f,\"duration_s\":%.1f,\"interval_ms\":%u,\"chunk\":%zu,",
		r->cfg.count, r->cfg.rate, seconds, r->cfg.interval_ms, r->cfg.chunk);
	fprintf(f, "\"opened\":%llu,\"migrated\":%llu,\"not_migrated\":%llu,\"connect_errors\":%llu,"
		"\"replaced\":%llu,\"closed_clean\":%llu,\"lost\":%llu,\"mismatches\":%llu,"
		"\"bytes_sent\":%llu,\"bytes_verified\":%llu,\"bytes_missing\":%llu,\"max_fds_in_use\":%llu,",
		(unsigned long long)st->opened, (unsigned long long)st->migrated,
		(unsigned long long)st->not_migrated, (unsigned long long)st->connect_errors,
		(unsigned long long)st->replaced, (unsigned long long)st->closed_clean,
		(unsigned long long)st->lost, (unsigned long long)st->mismatches,
		(unsigned long long)st->bytes_sent, (unsigned long long)st->bytes_verified,
		(unsigned long long)st->bytes_missing, (unsigned long long)st->max_fds_in_use);
	fprintf(f, "\"connect_us\":{\"p50\":%llu,\"p99\":%llu,\"max\":%llu},\"targets\":{",
		(unsigned long long)connect_quantile(st, 0.5),
		(unsigned long long)connect_quantile(st, 0.99),
		(unsigned long long)st->connect_us_max);
	for (size_t i = 0; i < st->n_targets; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", st->targets[i],
			(unsigned long long)st->target_count[i]);
	fprintf(f, "},\"reasons\":[");
	for (size_t i = 0; i < st->n_reasons; i++) {
		fputs(i ? ",\"" : "\"", f);
		for (const char *p = st->reasons[i]; *p; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				fputc(*p, f);
		fputc('"', f);
	}
	fprintf(f, "]}\n");
}

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: saf-load run --service S:PORT [options]\n"
		"  Holds --count long-lived connections opened with saf_tcp_connect, sends\n"
		"  each a checked chunk every --interval, and replaces --rate of them per\n"
		"  second (graceful close with every byte verified, then a new migration).\n"
		"  The first --count connections are opened at --rate too.\n"
		"  --count N        connections held (default 1000)\n"
		"  --rate R         replacements per second (default 100; 0: none)\n"
		"  --duration SEC   how long (default 30), the ramp included\n"
		"  --interval MS    per-connection send interval (default 1000, >= 10)\n"
		"  --chunk BYTES    bytes per send (default 64, 1..%u)\n"
		"  --timeout MS     per connect step (default 3000)\n"
		"  --pin-dir DIR    the saf client's pins (default: saf's default)\n"
		"  --allow-loopback accept adverts for loopback addresses\n"
		"  --allow-target PREFIX  advertised addresses to follow (repeatable or\n"
		"                   a comma list; default: global unicast only)\n"
		"  --json FILE      the summary (default: stdout)\n"
		"  --progress FILE  a one-line status, rewritten every second\n"
		"Exit 0 when no connection was lost, no byte differs or is missing and\n"
		"every connect migrated; 1 otherwise; 2 on bad usage.\n",
		MAX_CHUNK);
}

static int parse_run(int argc, char **argv, run_config *c)
{
	static const struct option lo[] = {
		{ "service", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", required_argument, NULL, 'j' },
		{ "progress", required_argument, NULL, 'g' },
		{ "allow-loopback", no_argument, NULL, 'l' },
		{ "allow-target", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool have_service = false;
	uint64_t v = 0;
	saf_error err = { 0 };
	int o;

	*c = (run_config){ .count = 1000, .rate = 100, .duration_s = 30,
			   .interval_ms = 1000, .chunk = 64, .timeout_ms = 3000 };
	saf_target_policy_init(&c->policy);
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char *bad = NULL;

		switch (o) {
		case 's':
			if (saf_addr_parse(optarg, true, &c->service, &err)) {
				fprintf(stderr, "saf-load run: --service: %s\n", err.msg);
				return 2;
			}
			have_service = true;
			break;
		case 'n':
			if (saf_opt_uint("--count", optarg, 10, 1, 1000000, &v, &err))
				bad = err.msg;
			c->count = v;
			break;
		case 'r':
			if (saf_opt_uint("--rate", optarg, 10, 0, 100000, &v, &err))
				bad = err.msg;
			c->rate = (double)v;
			break;
		case 'd':
			if (saf_opt_uint("--duration", optarg, 10, 1, 86400, &v, &err))
				bad = err.msg;
			c->duration_s = (unsigned)v;
			break;
		case 'i':
			if (saf_opt_uint("--interval", optarg, 10, TICK_MS, 3600000, &v, &err))
				bad = err.msg;
			c->interval_ms = (unsigned)v;
			break;
		case 'c':
			if (saf_opt_uint("--chunk", optarg, 10, 1, MAX_CHUNK, &v, &err))
				bad = err.msg;
			c->chunk = v;
			break;
		case 't':
			if (saf_opt_uint("--timeout", optarg, 10, 1, 600000, &v, &err))
				bad = err.msg;
			c->timeout_ms = (unsigned)v;
			break;
		case 'p':
			c->pin_dir = optarg;
			break;
		case 'j':
			c->json_path = optarg;
			break;
		case 'g':
			c->progress_path = optarg;
			break;
		case 'l':
			c->allow_loopback = true;
			break;
		case 'T':
			if (saf_target_policy_allow(&c->policy, optarg, &err)) {
				fprintf(stderr, "saf-load run: --allow-target: %s\n",
					err.msg);
				return 2;
			}
			break;
		case 'h':
			run_usage(stdout);
			exit(0);
		default:
			run_usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "saf-load run: %s\n", bad);
			return 2;
		}
	}
	if (!have_service || optind != argc) {
		fprintf(stderr, "saf-load run: --service S:PORT is required and nothing else may follow\n");
		return 2;
	}
	return 0;
}

/* Drain: every byte back, then a graceful close of every connection
 * (a connection still writing its last chunk is closed once it has). */
static void drain(runner *r)
{
	uint64_t drain_end = saf_clock_mono_us() + DRAIN_MS * 1000u;

	while (r->st.live + r->st.closing > 0 && saf_clock_mono_us() < drain_end) {
		for (size_t i = 0; i < r->n_slots; i++) {
			conn *c = &r->slots[i];

			if (c->state != C_OPEN || c->pending_len != 0)
				continue;
			shutdown(c->fd, SHUT_WR);
			c->state = C_CLOSING;
			r->st.live--;
			r->st.closing++;
		}
		handle_events(r, 100);
	}
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i].state != C_FREE)
			lose(r, i, "no FIN from the echo server within the drain time");
}

static int cmd_run(int argc, char **argv)
{
	runner r = { 0 };

	if (parse_run(argc, argv, &r.cfg))
		return 2;
	/* count live + up to one second of closings + the listening margin */
	size_t closing_max = (size_t)r.cfg.rate + 64;
	rlim_t lim = raise_nofile();

	r.n_slots = r.cfg.count + closing_max;
	if (lim != 0 && lim < r.n_slots + 64) {
		fprintf(stderr, "saf-load run: the fd limit (%llu) is below %zu connections plus closings; lower --count or --rate\n",
			(unsigned long long)lim, r.cfg.count);
		return 2;
	}
	r.slots = calloc(r.n_slots, sizeof(*r.slots));
	r.free_list = calloc(r.n_slots, sizeof(*r.free_list));
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	if (r.slots == NULL || r.free_list == NULL || r.ep < 0) {
		fprintf(stderr, "saf-load run: out of memory\n");
		return 1;
	}
	for (size_t i = r.n_slots; i-- > 0;)
		r.free_list[r.n_free++] = i;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	const size_t buckets = r.cfg.interval_ms / TICK_MS;
	const uint64_t t0 = saf_clock_mono_us(), end = t0 + (uint64_t)r.cfg.duration_s * 1000000u;
	uint64_t last_credit = t0, next_tick = t0, next_progress = t0;
	uint64_t tick = 0;
	double credit = 0;
	bool ramped = false;

	while (!stop_requested && saf_clock_mono_us() < end) {
		uint64_t now = saf_clock_mono_us();

		/* Opens (ramp) and replacements, at the configured rate. */
		credit += (double)(now - last_credit) / 1e6 * (r.cfg.rate > 0 ? r.cfg.rate : 1e9);
		last_credit = now;
		if (credit > r.cfg.rate / 10 + 1)
			credit = r.cfg.rate / 10 + 1; /* at most 100 ms of catch-up */
		while (credit >= 1 && !stop_requested) {
			if (r.st.live < r.cfg.count) {
				if (!open_one(&r))
					break;
			} else if (ramped && r.cfg.rate > 0 && r.st.closing < closing_max) {
				if (!close_one(&r))
					break;
				open_one(&r);
			} else {
				break;
			}
			credit -= 1;
		}
		if (r.st.live >= r.cfg.count)
			ramped = true;
		/* One bucket of connections sends per tick. */
		while (now >= next_tick) {
			size_t b = tick++ % buckets;

			for (size_t i = b; i < r.n_slots; i += buckets)
				if (r.slots[i].state == C_OPEN)
					send_chunk(&r, i, true);
			next_tick += TICK_MS * 1000u;
		}
		if (now >= next_progress) {
			write_progress(&r, (now - t0) / 1000u);
			next_progress += 1000000u;
		}
		handle_events(&r, 1);
	}

	drain(&r);
	write_progress(&r, (saf_clock_mono_us() - t0) / 1000u);

	double seconds = (double)(saf_clock_mono_us() - t0) / 1e6;
	FILE *out = stdout;

	if (r.cfg.json_path && (out = fopen(r.cfg.json_path, "w")) == NULL) {
		fprintf(stderr, "saf-load run: %s: %s\n", r.cfg.json_path, strerror(errno));
		out = stdout;
	}
	write_json(&r, out, seconds);
	if (out != stdout)
		fclose(out);
	bool ok = r.st.lost == 0 && r.st.mismatches == 0 && r.st.bytes_missing == 0 &&
		  r.st.not_migrated == 0 && r.st.connect_errors == 0 &&
		  r.st.bytes_verified == r.st.bytes_sent && !stop_requested;

	fprintf(stderr, "saf-load run: %s: %llu opened (%llu migrated), %llu lost, %llu bytes sent, %llu verified, %llu mismatches\n",
		ok ? "ok" : "FAILED", (unsigned long long)r.st.opened,
		(unsigned long long)r.st.migrated, (unsigned long long)r.st.lost,
		(unsigned long long)r.st.bytes_sent,
		(unsigned long long)r.st.bytes_verified,
		(unsigned long long)r.st.mismatches);
	free(r.slots);
	free(r.free_list);
	close(r.ep);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "echo") == 0)
		return cmd_echo(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	FILE *out = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
				  strcmp(argv[1], "-h") == 0) ? stdout : stderr;

	fprintf(out, "usage: saf-load echo --port P | saf-load run --service S:PORT ...\n"
		     "  'saf-load echo --help' and 'saf-load run --help' say more.\n");
	return out == stdout ? 0 : 2;
}
