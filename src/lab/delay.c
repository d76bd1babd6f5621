/* SPDX-License-Identifier: MIT */
/*
 * saf-delay: holds every packet of an NFQUEUE for a fixed time, then lets
 * it go: a one-way link delay for the lab, since this kernel has no netem.
 *
 *   saf-delay --queue N --delay MS [--max-held PACKETS]
 *
 * Packets keep their order (a FIFO: every packet waits the same time).
 * The queue of held packets is bounded; past it a packet is accepted at
 * once and counted, never dropped, so an overload shows as less delay
 * rather than loss. Runs until SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "saf/clock.h"
#include "cli/opt.h"

typedef struct held {
	uint32_t id;
	uint64_t due_us;
} held;

typedef struct delay_state {
	struct nfq_q_handle *qh;
	held *ring;
	size_t cap, head, len;
	uint64_t delay_us;
	uint64_t passed, overflow;
} delay_state;

static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
		     struct nfq_data *nfa, void *data)
{
	delay_state *d = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	(void)msg;
	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	if (d->len == d->cap) {
		d->overflow++;
		return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
	}
	d->ring[(d->head + d->len) % d->cap] =
		(held){ .id = id, .due_us = saf_clock_mono_us() + d->delay_us };
	d->len++;
	return 0;
}

static void release_due(delay_state *d)
{
	uint64_t t = saf_clock_mono_us();

	while (d->len && d->ring[d->head].due_us <= t) {
		nfq_set_verdict(d->qh, d->ring[d->head].id, NF_ACCEPT, 0, NULL);
		d->head = (d->head + 1) % d->cap;
		d->len--;
		d->passed++;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "queue", required_argument, 0, 'q' },
		{ "delay", required_argument, 0, 'd' },
		{ "max-held", required_argument, 0, 'm' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	delay_state d = { .cap = 65536 };
	long queue = -1;
	long long delay_us = -1;
	uint64_t v;
	saf_error err;
	char buf[65536 + 256];
	struct nfq_handle *h;
	int o, fd;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'q':
			if (saf_opt_uint("--queue", optarg, 10, 0, 65535, &v, &err))
				return fprintf(stderr, "saf-delay: %s\n", err.msg), 2;
			queue = (long)v;
			break;
		case 'd': /* MS, or with a unit: 0..10 s */
			if (saf_opt_duration_us("--delay", optarg, "ms", 0, 10000000u, &v, &err))
				return fprintf(stderr, "saf-delay: %s\n", err.msg), 2;
			delay_us = (long long)v;
			break;
		case 'm':
			if (saf_opt_uint("--max-held", optarg, 10, 1, 1u << 20, &v, &err))
				return fprintf(stderr, "saf-delay: %s\n", err.msg), 2;
			d.cap = (size_t)v;
			break;
		case 'h':
			puts("usage: saf-delay --queue N --delay MS [--max-held PACKETS]\n"
			     "Holds each packet of NFQUEUE N for MS milliseconds, in order.");
			return 0;
		default:
			return 2;
		}
	}
	if (queue < 0 || delay_us < 0) {
		fprintf(stderr, "saf-delay: need --queue 0..65535 and --delay 0..10000 ms "
				"(--max-held 1..1048576)\n");
		return 2;
	}
	d.delay_us = (uint64_t)delay_us;
	d.ring = calloc(d.cap, sizeof(held));
	h = nfq_open();
	if (!d.ring || !h) {
		fprintf(stderr, "saf-delay: cannot open NFQUEUE (root? nfnetlink_queue?)\n");
		return 1;
	}
	d.qh = nfq_create_queue(h, (uint16_t)queue, on_packet, &d);
	if (!d.qh || nfq_set_mode(d.qh, NFQNL_COPY_META, 0) < 0) {
		fprintf(stderr, "saf-delay: cannot bind queue %ld: %s\n", queue,
			strerror(errno));
		return 1;
	}
	nfq_set_queue_maxlen(d.qh, (uint32_t)d.cap);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = nfq_fd(h);
	while (!stop) {
		int wait_ms = 100;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (d.len) {
			uint64_t t = saf_clock_mono_us(), due = d.ring[d.head].due_us;
			wait_ms = due > t ? (int)((due - t + 999) / 1000) : 0;
		}
		if (poll(&p, 1, wait_ms) > 0) {
			for (int burst = 0; burst < 256; burst++) {
				ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (n <= 0)
					break;
				nfq_handle_packet(h, buf, (int)n);
			}
		}
		release_due(&d);
	}
	/* Let everything still held go before leaving. */
	while (d.len) {
		nfq_set_verdict(d.qh, d.ring[d.head].id, NF_ACCEPT, 0, NULL);
		d.head = (d.head + 1) % d.cap;
		d.len--;
	}
	fprintf(stderr, "saf-delay: %llu packets delayed, %llu passed at once (queue full)\n",
		(unsigned long long)d.passed, (unsigned long long)d.overflow);
	nfq_destroy_queue(d.qh);
	nfq_close(h);
	free(d.ring);
	return 0;
}
