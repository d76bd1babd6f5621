/* SPDX-License-Identifier: MIT */
/*
 * Liveness of a client's continuity connection (docs/continuity.md,
 * "Liveness"): a node that vanishes without a word (host down, path gone)
 * must break the connection within a bound, or an idle stream would wait
 * for it forever. TCP does the watching: keepalive probes while nothing
 * flows, TCP_USER_TIMEOUT while data (or a probe) goes unacknowledged.
 * Either ends the socket with ETIMEDOUT, and the stream's comeback runs
 * as after any other break. No frame is added to the protocol: a node
 * needs nothing new, and the probes cost nothing while data flows.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tls_internal.h"

void saf_tls_liveness_params(unsigned total_s, saf_tls_liveness *out)
{
	/* The first probe after a third of the bound, three more spread over
	 * the rest; the user timeout ends the connection at the bound itself
	 * once a probe is out (the kernel checks it on the probe timer, so
	 * the break comes at most one interval after the bound). */
	unsigned idle = total_s / 3u ? total_s / 3u : 1u;
	unsigned intvl = (total_s - (idle < total_s ? idle : total_s)) / 3u;

	out->idle_s = idle;
	out->intvl_s = intvl ? intvl : 1u;
	out->cnt = 3u;
	out->user_timeout_ms = total_s * 1000u;
}

int saf_tls_liveness_set(int fd, unsigned total_s)
{
	saf_tls_liveness l;
	int on = 1, idle, intvl, cnt;
	unsigned ut;

	saf_tls_liveness_params(total_s, &l);
	idle = (int)l.idle_s;
	intvl = (int)l.intvl_s;
	cnt = (int)l.cnt;
	ut = l.user_timeout_ms;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)))
		return -1;
	return 0;
}
