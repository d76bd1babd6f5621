/* SPDX-License-Identifier: MIT */
/*
 * Sockets, the few ways saf makes them: non-blocking and close-on-exec
 * from the start, a connect bounded by a timeout, a listener, a UDP
 * socket, and a close that resets. One place for the details each copy
 * used to get slightly differently (EINTR during the wait, SO_ERROR after
 * it, which message says what).
 *
 * Messages name the peer or the local address and the system's reason
 * ("connect to 192.0.2.1:443: Connection refused", "connect to
 * [2001:db8::1]:443: no answer within 3000 ms"). Errors are SAF_E_SYS,
 * or SAF_E_TIMEOUT when a bounded wait ran out. No global state; every
 * call stands alone.
 */
#ifndef SAF_SOCK_H
#define SAF_SOCK_H

#include <stdbool.h>

#include "saf/addr.h"
#include "saf/error.h"

/* A new socket of `type` (SOCK_STREAM, SOCK_DGRAM) for the family of
 * `for_addr`, non-blocking and close-on-exec; -1 with err. */
SAF_MUST_CHECK int saf_sock_open(const saf_addr *for_addr, int type,
				 saf_error *err);

/* Sets (on) or clears O_NONBLOCK on fd; -1 with err. */
SAF_MUST_CHECK int saf_sock_set_nonblock(int fd, bool on, saf_error *err);

/* Connects the non-blocking socket fd to `to` (which has a port) and
 * waits up to timeout_ms for the connect to finish, across signals; fd
 * stays non-blocking and open either way (the caller closes it). 0 when
 * connected; -1 with err otherwise, and *soerr (when not NULL) the
 * socket's error: ETIMEDOUT after the wait ran out (SAF_E_TIMEOUT), or
 * the connect's own error, e.g. ECONNREFUSED (SAF_E_SYS). */
SAF_MUST_CHECK int saf_sock_connect_fd(int fd, const saf_addr *to,
				       unsigned timeout_ms, int *soerr,
				       saf_error *err);

/* For a caller's own poll loop: starts connecting the non-blocking
 * socket fd to `to`. 0 when connected or under way (wait for POLLOUT,
 * then saf_sock_connect_result); -1 with *soerr the connect's errno. */
SAF_MUST_CHECK int saf_sock_connect_start(int fd, const saf_addr *to,
					  int *soerr);

/* How a started connect on fd stands, without waiting: 1 connected, 0
 * still under way, -1 failed with *soerr its error (SO_ERROR). */
SAF_MUST_CHECK int saf_sock_connect_result(int fd, int *soerr);

/* A TCP connection to `to` within timeout_ms: saf_sock_open,
 * saf_sock_connect_fd, then back to blocking mode. The fd, or -1 with
 * err (nothing left open). */
SAF_MUST_CHECK int saf_sock_connect(const saf_addr *to, unsigned timeout_ms,
				    saf_error *err);

/* A non-blocking TCP listener on `at` (SO_REUSEADDR) with the given
 * backlog. For an IPv6 address, dual_stack says whether it also takes
 * IPv4 connections (IPV6_V6ONLY off) or not. -1 with err. */
SAF_MUST_CHECK int saf_sock_listen(const saf_addr *at, int backlog,
				   bool dual_stack, saf_error *err);

/* A non-blocking UDP socket bound to `at` (dual_stack as above). -1 with
 * err. */
SAF_MUST_CHECK int saf_sock_udp(const saf_addr *at, bool dual_stack,
				saf_error *err);

/* Closes fd with an RST instead of a FIN (SO_LINGER 0): no TIME_WAIT,
 * nothing lingers at the peer. For connections given up on purpose. */
void saf_sock_close_rst(int fd);

#endif /* SAF_SOCK_H */
