/* SPDX-License-Identifier: MIT */
/*
 * bench_tcp: connection rate and time to a usable connection.
 *
 *   bench_tcp serve PORT            accept and close at once (RST)
 *   bench_tcp plain S:PORT SECONDS  connect, close with RST, repeat
 *   bench_tcp saf S:PORT SECONDS    saf_tcp_connect (follows the advert)
 *
 * Prints one JSON line: connections, per second, median and p99 time to a
 * usable connection in microseconds.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "saf/tcp.h"

#include "../lab_policy.h"

#define MAX_SAMPLES 2000000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rst_close(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int serve(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)port) };
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		perror("serve");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			rst_close(c);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static double lat[MAX_SAMPLES];
	saf_tcp_connect_opts o = { .timeout_ms = 2000 };
	saf_target_policy lab_policy;
	saf_addr s;
	saf_error err;
	size_t n = 0, migrated = 0;
	double dur, t0, end;

	saf_bench_lab_policy(&lab_policy);
	o.policy = &lab_policy;
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if (argc != 4 || saf_addr_parse(argv[2], true, &s, &err)) {
		fprintf(stderr, "usage: bench_tcp serve PORT | (plain|saf) S:PORT SECONDS\n");
		return 2;
	}
	bool use_saf = strcmp(argv[1], "saf") == 0;
	dur = atof(argv[3]);
	t0 = now_s();
	end = t0 + dur;
	while (n < MAX_SAMPLES) {
		double a = now_s();
		int fd;

		if (a >= end)
			break;
		if (use_saf) {
			saf_tcp_result r;

			fd = saf_tcp_connect(&s, &o, &r, &err);
			migrated += fd >= 0 && r.outcome == SAF_TCP_MIGRATED;
		} else {
			struct sockaddr_storage ss;
			socklen_t len = saf_addr_to_sockaddr(&s, &ss);

			fd = socket(ss.ss_family, SOCK_STREAM, 0);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0)
			continue;
		lat[n++] = (now_s() - a) * 1e6;
		rst_close(fd);
	}
	double total = now_s() - t0;
	qsort(lat, n, sizeof(lat[0]), cmp);
	printf("{\"mode\":\"%s\",\"connections\":%zu,\"per_second\":%.0f,"
	       "\"median_us\":%.1f,\"p99_us\":%.1f,\"migrated\":%zu}\n",
	       argv[1], n, (double)n / total, n ? lat[n / 2] : 0,
	       n ? lat[n * 99 / 100] : 0, migrated);
	return 0;
}
