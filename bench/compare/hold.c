/* SPDX-License-Identifier: MIT */
/*
 * hold: many idle long-lived connections, to measure the state a system
 * keeps per flow.
 *   hold serve PORT                       accept and keep every connection
 *   hold connect S:PORT N plain|saf|mptcp SECONDS
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "saf/tcp.h"

#include "../lab_policy.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* The machine's hard limit may be below the 19k connections (plus, on a
 * saf node, the 19k first connections the clients reset, whose accepted
 * fds the server keeps): as root, raise it; otherwise use what there is. */
static void raise_nofile(void)
{
	struct rlimit r = { 262144, 262144 };

	if (setrlimit(RLIMIT_NOFILE, &r) && getrlimit(RLIMIT_NOFILE, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int main(int argc, char **argv)
{
	raise_nofile();
	if (argc == 3 && strcmp(argv[1], "serve") == 0) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons((uint16_t)atoi(argv[2])) };
		int one = 1, zero = 0;
		int fd = socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP);

		if (fd < 0) /* no MPTCP: a plain listener */
			fd = socket(AF_INET6, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
			perror("hold serve");
			return 1;
		}
		/* Keep every live connection open on purpose, but close the
		 * ones the peer ended: a saf client resets its first
		 * connection to S, and keeping those would spend the fd
		 * limit (often 20k, not raisable in a container) on nothing. */
		int ep = epoll_create1(0);

		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		for (;;) {
			struct epoll_event evs[256];
			int n = epoll_wait(ep, evs, 256, -1);

			for (int i = 0; i < n; i++) {
				int c = evs[i].data.fd;
				char b[512];

				if (c == fd) {
					c = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
					if (c < 0)
						continue;
					ev = (struct epoll_event){ .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				} else if (recv(c, b, sizeof(b), 0) <= 0) {
					close(c);
				}
			}
		}
	}
	if (argc != 6) {
		fprintf(stderr, "usage: hold serve PORT | hold connect S:PORT N plain|saf|mptcp SECONDS\n");
		return 2;
	}
	saf_addr s;
	saf_error err;
	long n = atol(argv[3]), ok = 0;
	int first_errno = 0;
	saf_tcp_connect_opts o = { .timeout_ms = 3000 };
	saf_target_policy lab_policy;

	saf_bench_lab_policy(&lab_policy);
	o.policy = &lab_policy;
	if (saf_addr_parse(argv[2], true, &s, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	for (long i = 0; i < n; i++) {
		int fd;

		if (strcmp(argv[4], "saf") == 0) {
			saf_tcp_result r;

			fd = saf_tcp_connect(&s, &o, &r, &err);
		} else {
			struct sockaddr_storage ss;
			socklen_t len = saf_addr_to_sockaddr(&s, &ss);

			fd = socket(ss.ss_family, SOCK_STREAM,
				    strcmp(argv[4], "mptcp") == 0 ? IPPROTO_MPTCP : 0);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd >= 0)
			ok++;
		else if (!first_errno)
			first_errno = errno ? errno : EIO;
	}
	/* connections held, failed, and why the first failure happened */
	printf("%ld %ld %s\n", ok, n - ok, first_errno ? strerror(first_errno) : "-");
	fflush(stdout);
	sleep((unsigned)atoi(argv[5]));
	return 0;
}
