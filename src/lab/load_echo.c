/* SPDX-License-Identifier: MIT */
/*
 * saf-load echo: the load test's plain epoll echo server (it knows
 * nothing of saf), dual stack on [::]:PORT, back-pressure per
 * connection, connections past --max-conns closed at once and counted.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/opt.h"
#include "load.h"
#include "saf/addr.h"
#include "saf/sock.h"

typedef struct echo_conn {
	int fd;
	size_t off, len; /* bytes of buf not yet written back */
	uint8_t buf[16384];
} echo_conn;

typedef struct echo_stats {
	uint64_t accepted, closed, refused_full, bytes;
	uint64_t active, max_active;
} echo_stats;

static void echo_close(int ep, echo_conn *c, echo_stats *st)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	st->closed++;
	st->active--;
}

/* Writes back what is buffered; then reads more. Returns false once the
 * connection is done (peer closed or failed). Back-pressure: while bytes
 * wait to be written, nothing is read. */
static bool echo_serve(int ep, echo_conn *c, echo_stats *st)
{
	for (;;) {
		while (c->len > c->off) {
			ssize_t w =
				write(c->fd, c->buf + c->off, c->len - c->off);

			if (w < 0 && errno == EAGAIN) {
				struct epoll_event ev = {.events = EPOLLOUT,
							 .data.ptr = c};
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				return true;
			}
			if (w <= 0)
				return false;
			c->off += (size_t)w;
			st->bytes += (uint64_t)w;
		}
		c->off = c->len = 0;
		ssize_t r = read(c->fd, c->buf, sizeof(c->buf));

		if (r < 0 && errno == EAGAIN) {
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.ptr = c};
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		if (r <= 0)
			return false; /* EOF: close, which answers the FIN */
		c->len = (size_t)r;
	}
}

int cmd_echo(int argc, char **argv)
{
	static const struct option lo[] = {
		{"port", required_argument, NULL, 'p'},
		{"max-conns", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	long port = 0, max_conns = 65536;
	uint64_t v;
	saf_error err;
	int o;

	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (saf_opt_uint("--port", optarg, 10, 1, 65535, &v,
					 &err))
				return fprintf(stderr, "saf-load echo: %s\n",
					       err.msg),
				       2;
			port = (long)v;
			break;
		case 'm':
			if (saf_opt_uint("--max-conns", optarg, 10, 1,
					 INT32_MAX, &v, &err))
				return fprintf(stderr, "saf-load echo: %s\n",
					       err.msg),
				       2;
			max_conns = (long)v;
			break;
		case 'h':
			printf("usage: saf-load echo --port P [--max-conns N]\n"
			       "  A plain epoll echo server on [::]:P (dual "
			       "stack).\n"
			       "  Connections past --max-conns (default 65536) "
			       "are closed at once\n"
			       "  and counted. SIGTERM prints its counters and "
			       "exits.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (port < 1 || port > 65535 || max_conns < 1) {
		fprintf(stderr, "saf-load echo: --port 1..65535 and "
				"--max-conns >= 1 needed\n");
		return 2;
	}
	raise_nofile();
	/* [::]:port, dual stack: the IPv4 clients too */
	saf_addr any = {.family = 6, .port = (uint16_t)port, .has_port = true};
	int lfd = saf_sock_listen(&any, 4096, true, &err);

	if (lfd < 0) {
		fprintf(stderr, "saf-load echo: port %ld: %s\n", port, err.msg);
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	echo_stats st = {0};
	struct epoll_event evs[256];

	while (!stop_requested) {
		int n = epoll_wait(ep, evs, 256, 500);

		for (int i = 0; i < n; i++) {
			echo_conn *c = evs[i].data.ptr;

			if (c != NULL) {
				if (!echo_serve(ep, c, &st))
					echo_close(ep, c, &st);
				continue;
			}
			for (;;) {
				int fd = accept4(lfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0)
					break;
				if (st.active >= (uint64_t)max_conns ||
				    (c = calloc(1, sizeof(*c))) == NULL) {
					close(fd);
					st.refused_full++;
					continue;
				}
				c->fd = fd;
				struct epoll_event ev = {.events = EPOLLIN,
							 .data.ptr = c};

				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				st.accepted++;
				if (++st.active > st.max_active)
					st.max_active = st.active;
			}
		}
	}
	fprintf(stderr,
		"saf-load echo: accepted %llu closed %llu active %llu "
		"max_active %llu refused_full %llu bytes %llu\n",
		(unsigned long long)st.accepted, (unsigned long long)st.closed,
		(unsigned long long)st.active,
		(unsigned long long)st.max_active,
		(unsigned long long)st.refused_full,
		(unsigned long long)st.bytes);
	return 0;
}
