/* SPDX-License-Identifier: MIT */
/*
 * The client procedure of SPEC section 2: connect to S, read the advert of
 * our own socket from the client program's per-socket storage, continue on
 * the advertised unicast address, close the first connection with RST.
 * Each connect is bounded; a unicast address that fails leaves the client
 * on S, and says why.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pins.h"
#include "saf_bpf.h"
#include "saf/clock.h"
#include "saf/sock.h"

const char *saf_tcp_outcome_name(saf_tcp_outcome o)
{
	switch (o) {
	case SAF_TCP_MIGRATED:
		return "migrated";
	case SAF_TCP_CACHED:
		return "cached";
	case SAF_TCP_NO_ADVERT:
		return "no_advert";
	case SAF_TCP_FALLBACK:
		return "fallback";
	}
	return "unknown";
}

/* A blocking-mode fd connected within timeout_ms, or -1 with err set.
 * When the connect fails with a socket error (refused, reset) and
 * `failed` is not NULL, the socket is handed back there instead of closed:
 * the caller may still read what its SYN-ACK carried. */
static int connect_bounded(const saf_addr *a, unsigned timeout_ms,
			   int *failed, const char *exempt_pin_dir,
			   saf_error *err)
{
	int soerr = 0, rc, fd = saf_sock_open(a, SOCK_STREAM, err);

	if (fd < 0)
		return -1;
	/* This library follows adverts itself: the kernel cache must let
	 * its connect to S reach S (best effort: not attached, nothing to
	 * exempt from). */
	if (exempt_pin_dir)
		(void)saf_tcp_cache_exempt(fd, exempt_pin_dir, false);
	rc = saf_sock_connect_fd(fd, a, timeout_ms, &soerr, err);
	if (rc == 0 && saf_sock_set_nonblock(fd, false, err) == 0)
		return fd;
	if (rc && failed && soerr != ETIMEDOUT)
		*failed = fd;
	else
		close(fd);
	return -1;
}

/* The caller's target policy (the default one when none), with
 * allow_loopback added when the options ask for it. */
static int check_policy(const saf_tcp_connect_opts *o, const saf_addr *target,
			const char *what, saf_error *err)
{
	saf_target_policy p;

	if (o->policy)
		p = *o->policy;
	else
		saf_target_policy_init(&p);
	if (o->allow_loopback)
		p.allow_loopback = true;
	return saf_target_policy_check(&p, target, what, err);
}

/* Reads this socket's advert; 0 with *target set, or 1 with a reason. */
static int read_advert(int fd, const saf_addr *service,
		       const saf_tcp_connect_opts *o, saf_addr *target,
		       char *reason, size_t cap)
{
	const char *dir = saf_tcp_pin_dir(o->pin_dir);
	char path[PATH_BUF];
	struct saf_sk_advert a;
	int map;
	saf_error err;

	if (saf_pin_path(path, sizeof(path), dir, "client", "saf_adverts"))
		return snprintf(reason, cap, "pin path too long"), 1;
	map = bpf_obj_get(path);
	if (map < 0) {
		snprintf(reason, cap,
			 "client program not attached (no advert map at %s)",
			 path);
		return 1;
	}
	if (bpf_map_lookup_elem(map, &fd, &a) < 0) {
		close(map);
		snprintf(reason, cap,
			 "SAF not sent: destination not configured, or this "
			 "process is outside the client program's cgroup");
		return 1;
	}
	close(map);
	switch (a.state) {
	case SAF_SK_ADVERT:
		break;
	case SAF_SK_NONE:
		snprintf(reason, cap,
			 "SAF not sent: destination not configured, no room "
			 "in the SYN, or this process is outside the client "
			 "program's cgroup");
		return 1;
	case SAF_SK_MALFORMED:
		snprintf(reason, cap,
			 "malformed advert (length %u) ignored", a.opt_len);
		return 1;
	case SAF_SK_SENT_SAF:
	case SAF_SK_NO_ADVERT:
	default:
		snprintf(reason, cap, "the node sent no advert");
		return 1;
	}
	memset(target, 0, sizeof(*target));
	target->family = a.family;
	memcpy(target->bytes, a.addr, a.family == 4 ? 4 : 16);
	target->has_port = true;
	target->port = a.has_port ? a.port : service->port;
	/* An advert for S itself would open a second connection to S and
	 * call it a migration: refused, the first connection stays.
	 * Compared normalised: "::ffff:S" is S too. */
	if (saf_addr_same_ip(target, service)) {
		char b[SAF_ADDR_STR_LEN];

		snprintf(reason, cap,
			 "advert for %s rejected: the anycast address itself",
			 saf_addr_format(target, b));
		return 1;
	}
	if (check_policy(o, target, "advert", &err)) {
		snprintf(reason, cap, "%s", err.msg);
		return 1;
	}
	return 0;
}

int saf_tcp_connect(const saf_addr *service, const saf_tcp_connect_opts *o,
		    saf_tcp_result *res, saf_error *err)
{
	unsigned timeout = o->timeout_ms ? o->timeout_ms : 3000;
	char b[SAF_ADDR_STR_LEN];
	saf_addr target;
	saf_error e2;
	int fd1, fd2;
	bool hit;

	memset(res, 0, sizeof(*res));
	if (!service->has_port)
		return saf_fail(err, SAF_E_INVAL, "service address needs a port");

	/* A cached target was checked when it was learnt; checked again, as
	 * the cache may be shared by callers with another policy. */
	hit = o->cache && saf_affinity_cache_get(o->cache, service,
						 saf_clock_mono_ms(), &target);
	if (hit && check_policy(o, &target, "cached target", &e2)) {
		saf_affinity_cache_forget(o->cache, service);
		hit = false;
	}
	if (hit) {
		fd2 = connect_bounded(&target, timeout, NULL, NULL, &e2);
		if (fd2 >= 0) {
			res->outcome = SAF_TCP_CACHED;
			res->final = target;
			res->advert = target;
			snprintf(res->reason, sizeof(res->reason),
				 "cached affinity to %s",
				 saf_addr_format(&target, b));
			return fd2;
		}
		/* A stale entry: forget it and learn afresh via S. */
		saf_affinity_cache_forget(o->cache, service);
	}

	/* s_fd is the socket to S. When its connect failed (reset_fd), it
	 * may still have been answered: R1 can change its choice between
	 * the client's SYN and its ACK, so the ACK reaches a node that never
	 * saw the SYN, and that node's RST can arrive before this process
	 * looks at the socket. The SYN-ACK's advert was recorded all the
	 * same: the node that answered is known, so go there. Without an
	 * advert, or when that node does not answer, the connect failed. */
	int reset_fd = -1, s_fd;
	bool reset;

	fd1 = connect_bounded(service, timeout, &reset_fd,
			      saf_tcp_pin_dir(o->pin_dir), err);
	reset = fd1 < 0;
	s_fd = reset ? reset_fd : fd1;
	if (s_fd < 0)
		return -1;
	res->final = *service;
	if (read_advert(s_fd, service, o, &target, res->reason,
			sizeof(res->reason))) {
		if (reset) {
			close(s_fd);
			return -1;
		}
		res->outcome = SAF_TCP_NO_ADVERT;
		return fd1;
	}
	res->advert = target;
	fd2 = connect_bounded(&target, timeout, NULL, NULL, &e2);
	if (fd2 < 0) {
		if (reset) {
			close(s_fd);
			return -1;
		}
		res->outcome = SAF_TCP_FALLBACK;
		snprintf(res->reason, sizeof(res->reason),
			 "stayed on S: %s", e2.msg);
		return fd1;
	}
	saf_sock_close_rst(s_fd); /* no TIME_WAIT, no FIN (SPEC 2) */
	res->outcome = SAF_TCP_MIGRATED;
	res->final = target;
	snprintf(res->reason, sizeof(res->reason), "advert for %s%s",
		 saf_addr_format(&target, b),
		 reset ? " (the connection to S was reset after the node "
			 "answered: R1 changed its choice during the handshake)"
		       : "");
	if (o->cache)
		saf_affinity_cache_put(o->cache, service, &target,
				       saf_clock_mono_ms());
	return fd2;
}
