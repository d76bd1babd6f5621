/* SPDX-License-Identifier: MIT */
/*
 * bench_route: route updates per second through saf's rtnetlink path
 * (each one acknowledged), alternating the route for S between next hops,
 * and the same through one `ip route replace` process per change.
 *   bench_route S NH1 NH2 COUNT
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "saf/sched.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	saf_route_nexthop nh[2];
	saf_addr dst;
	saf_error err;
	saf_route_sock *rs;
	long count;

	if (argc != 5 || saf_addr_parse(argv[1], false, &dst, &err) ||
	    saf_addr_parse(argv[2], false, &nh[0].gw, &err) ||
	    saf_addr_parse(argv[3], false, &nh[1].gw, &err)) {
		fprintf(stderr, "usage: bench_route S NH1 NH2 COUNT\n");
		return 2;
	}
	count = atol(argv[4]);
	nh[0].weight = nh[1].weight = 1;
	rs = saf_route_open(&err);
	if (!rs) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double t0 = now_s();
	for (long i = 0; i < count; i++)
		if (saf_route_replace(rs, &dst, &nh[i & 1], 1, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	double dt = now_s() - t0;
	printf("{\"updates\":%ld,\"per_second\":%.0f,\"us_each\":%.2f}\n", count,
	       (double)count / dt, dt * 1e6 / (double)count);
	saf_route_close(rs);
	return 0;
}
