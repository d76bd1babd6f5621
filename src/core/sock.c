/* SPDX-License-Identifier: MIT */
/* Non-blocking sockets, bounded connects, listeners (saf/sock.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "saf/clock.h"
#include "saf/sock.h"

int saf_sock_open(const saf_addr *for_addr, int type, saf_error *err)
{
	int fd = socket(for_addr->family == 6 ? AF_INET6 : AF_INET,
			type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return saf_fail(err, SAF_E_SYS, "socket: %s", strerror(errno));
	return fd;
}

int saf_sock_set_nonblock(int fd, bool on, saf_error *err)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 ||
	    fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
		return saf_fail(err, SAF_E_SYS, "fcntl: %s", strerror(errno));
	return 0;
}

/* Waits for POLLOUT until deadline (monotonic ms), restarting after
 * signals with the time left: 1 ready, 0 timed out, -1 poll failed. */
static int wait_writable(int fd, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	for (;;) {
		int n = poll(
			&p, 1,
			saf_clock_poll_timeout(deadline, saf_clock_mono_ms()));

		if (n >= 0)
			return n > 0;
		if (errno != EINTR)
			return -1;
	}
}

int saf_sock_connect_fd(int fd, const saf_addr *to, unsigned timeout_ms,
			int *soerr, saf_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(to, &ss);
	/* +1: a deadline of 0 would mean "none" to saf_clock_poll_timeout */
	uint64_t deadline =
		saf_clock_mono_ms() + timeout_ms + (timeout_ms == 0);
	char b[SAF_ADDR_STR_LEN];
	int e = 0, w;
	socklen_t sl = sizeof(e);

	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		e = errno;
		goto out;
	}
	w = wait_writable(fd, deadline);
	if (w == 0) {
		if (soerr)
			*soerr = ETIMEDOUT;
		return saf_fail(err, SAF_E_TIMEOUT,
				"connect to %s: no answer within %u ms",
				saf_addr_format(to, b), timeout_ms);
	}
	if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
		e = errno;
out:
	if (soerr)
		*soerr = e;
	if (e)
		return saf_fail(err, SAF_E_SYS, "connect to %s: %s",
				saf_addr_format(to, b), strerror(e));
	return 0;
}

int saf_sock_connect_start(int fd, const saf_addr *to, int *soerr)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(to, &ss);

	*soerr = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0 ||
	    errno == EINPROGRESS)
		return 0;
	*soerr = errno;
	return -1;
}

int saf_sock_connect_result(int fd, int *soerr)
{
	struct pollfd q = {.fd = fd, .events = POLLOUT};
	socklen_t sl = sizeof(*soerr);

	*soerr = 0;
	if (poll(&q, 1, 0) <= 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, soerr, &sl) || *soerr)
		return -1;
	return 1;
}

int saf_sock_connect(const saf_addr *to, unsigned timeout_ms, saf_error *err)
{
	int fd = saf_sock_open(to, SOCK_STREAM, err);

	if (fd < 0)
		return -1;
	if (saf_sock_connect_fd(fd, to, timeout_ms, NULL, err) ||
	    saf_sock_set_nonblock(fd, false, err)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A non-blocking socket of `type` bound to `at`; -1 with err. */
static int bound(const saf_addr *at, int type, bool dual_stack, saf_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(at, &ss);
	char b[SAF_ADDR_STR_LEN];
	int one = 1, v6only = !dual_stack;
	int fd = saf_sock_open(at, type, err);

	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
				 sizeof(v6only));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;

		close(fd);
		return saf_fail(err, SAF_E_SYS, "bind %s: %s",
				saf_addr_format(at, b), strerror(e));
	}
	return fd;
}

int saf_sock_listen(const saf_addr *at, int backlog, bool dual_stack,
		    saf_error *err)
{
	char b[SAF_ADDR_STR_LEN];
	int fd = bound(at, SOCK_STREAM, dual_stack, err);

	if (fd >= 0 && listen(fd, backlog) < 0) {
		int e = errno;

		close(fd);
		return saf_fail(err, SAF_E_SYS, "listen %s: %s",
				saf_addr_format(at, b), strerror(e));
	}
	return fd;
}

int saf_sock_udp(const saf_addr *at, bool dual_stack, saf_error *err)
{
	return bound(at, SOCK_DGRAM, dual_stack, err);
}

void saf_sock_close_rst(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}
