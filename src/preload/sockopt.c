/* SPDX-License-Identifier: MIT */
/*
 * What the application set on its socket before connect() goes onto the
 * socket that replaces it: the options of the table below, and the local
 * address it bound. An option is copied only when the application's value
 * differs from a fresh socket's default, so untouched defaults stay
 * defaults (setting SO_RCVBUF to its own default value would still turn
 * off the kernel's buffer autotuning).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

enum opt_kind {
	K_RAW = 0, /* copied byte for byte */
	K_HALF,	   /* the kernel reports twice what was set (SO_*BUF) */
	K_STRING,  /* a name: set without the trailing NULs read back */
};

typedef struct opt_row {
	const char *name;
	int level, opt;
	int domain; /* 0: both families */
	enum opt_kind kind;
} opt_row;

#define ROW(lvl, o, d, k)                                                      \
	{                                                                      \
#o, lvl, o, d, k                                               \
	}
/* Order matters where one option constrains another: IPV6_V6ONLY and
 * IP_BIND_ADDRESS_NO_PORT before the bind, SO_BINDTODEVICE before it too. */
static const opt_row rows[] = {
	ROW(IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6, K_RAW),
	ROW(SOL_SOCKET, SO_BINDTODEVICE, 0, K_STRING),
	ROW(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0, K_RAW),
	ROW(IPPROTO_IP, IP_FREEBIND, 0, K_RAW),
	ROW(IPPROTO_IP, IP_TRANSPARENT, 0, K_RAW),
	ROW(SOL_SOCKET, SO_REUSEADDR, 0, K_RAW),
	ROW(SOL_SOCKET, SO_REUSEPORT, 0, K_RAW),
	ROW(SOL_SOCKET, SO_KEEPALIVE, 0, K_RAW),
	ROW(SOL_SOCKET, SO_LINGER, 0, K_RAW),
	ROW(SOL_SOCKET, SO_SNDBUF, 0, K_HALF),
	ROW(SOL_SOCKET, SO_RCVBUF, 0, K_HALF),
	ROW(SOL_SOCKET, SO_RCVLOWAT, 0, K_RAW),
	ROW(SOL_SOCKET, SO_SNDTIMEO, 0, K_RAW),
	ROW(SOL_SOCKET, SO_RCVTIMEO, 0, K_RAW),
	ROW(SOL_SOCKET, SO_PRIORITY, 0, K_RAW),
	ROW(SOL_SOCKET, SO_MARK, 0, K_RAW),
	ROW(SOL_SOCKET, SO_OOBINLINE, 0, K_RAW),
	ROW(SOL_SOCKET, SO_TIMESTAMP, 0, K_RAW),
	ROW(SOL_SOCKET, SO_ZEROCOPY, 0, K_RAW),
	ROW(IPPROTO_IP, IP_TOS, AF_INET, K_RAW),
	ROW(IPPROTO_IP, IP_TTL, AF_INET, K_RAW),
	ROW(IPPROTO_IP, IP_MTU_DISCOVER, AF_INET, K_RAW),
	ROW(IPPROTO_IPV6, IPV6_TCLASS, AF_INET6, K_RAW),
	ROW(IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6, K_RAW),
	ROW(IPPROTO_IPV6, IPV6_MTU_DISCOVER, AF_INET6, K_RAW),
	ROW(IPPROTO_TCP, TCP_NODELAY, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_MAXSEG, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_KEEPIDLE, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_KEEPINTVL, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_KEEPCNT, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_USER_TIMEOUT, 0, K_RAW),
	ROW(IPPROTO_TCP, TCP_CONGESTION, 0, K_STRING),
};
_Static_assert(sizeof(rows) / sizeof(rows[0]) <= SAF_SOCKOPT_COUNT,
	       "SAF_SOCKOPT_COUNT too small");
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

const char *saf_sockopt_name(size_t i)
{
	return i < N_ROWS ? rows[i].name : NULL;
}

static bool row_applies(const opt_row *r, int domain)
{
	return r->domain == 0 || r->domain == domain;
}

static void read_opt(int fd, const opt_row *r, saf_sockopt_val *v)
{
	socklen_t len = SAF_SOCKOPT_VAL_MAX;

	memset(v, 0, sizeof(*v));
	if (getsockopt(fd, r->level, r->opt, v->v, &len) == 0 &&
	    len <= SAF_SOCKOPT_VAL_MAX)
		v->len = (uint8_t)len;
}

static bool is_unspecified(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return a->sin_addr.s_addr == htonl(INADDR_ANY) && !a->sin_port;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		return IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) && !a->sin6_port;
	}
	return true;
}

void saf_sockopt_snapshot(int fd, int domain, saf_sock_snapshot *s)
{
	s->domain = domain;
	for (size_t i = 0; i < N_ROWS; i++) {
		if (row_applies(&rows[i], domain))
			read_opt(fd, &rows[i], &s->opt[i]);
		else
			s->opt[i].len = 0;
	}
	s->local_len = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->local_len))
		s->local_len = 0;
	s->bound = s->local_len && !is_unspecified(&s->local);
}

static int set_opt(int nfd, const opt_row *r, const saf_sockopt_val *want)
{
	saf_sockopt_val v = *want;

	if (r->kind == K_HALF && v.len == sizeof(int)) {
		int x;

		memcpy(&x, v.v, sizeof(x));
		x /= 2;
		memcpy(v.v, &x, sizeof(x));
	}
	/* (option numbers repeat across levels: SO_LINGER is
	 * TCP_CONGESTION's number, so the kind decides, not the number) */
	if (r->kind == K_STRING)
		v.len = (uint8_t)strnlen((const char *)v.v, v.len);
	return setsockopt(nfd, r->level, r->opt, v.v, v.len);
}

/* Shares the bound port with the first connection, which still holds it:
 * both need SO_REUSEADDR (neither listens), then the new socket's value
 * goes back to what the application chose. */
static int bind_like(const saf_sock_snapshot *s, int old_fd, int nfd)
{
	static const int one = 1;
	int app_reuse = 0, old_reuse = 0;
	socklen_t l = sizeof(int);
	int rc, e;

	getsockopt(nfd, SOL_SOCKET, SO_REUSEADDR, &app_reuse, &l);
	l = sizeof(int);
	getsockopt(old_fd, SOL_SOCKET, SO_REUSEADDR, &old_reuse, &l);
	setsockopt(old_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(nfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(nfd, (const struct sockaddr *)&s->local, s->local_len);
	e = errno;
	setsockopt(nfd, SOL_SOCKET, SO_REUSEADDR, &app_reuse, sizeof(int));
	setsockopt(old_fd, SOL_SOCKET, SO_REUSEADDR, &old_reuse, sizeof(int));
	errno = e;
	return rc;
}

int saf_sockopt_apply(const saf_sock_snapshot *s, int old_fd, int nfd,
		      const char **what, int *e)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		saf_sockopt_val def;

		if (!s->opt[i].len)
			continue;
		read_opt(nfd, &rows[i], &def);
		if (def.len == s->opt[i].len &&
		    memcmp(def.v, s->opt[i].v, def.len) == 0)
			continue;
		if (set_opt(nfd, &rows[i], &s->opt[i])) {
			*what = rows[i].name;
			*e = errno;
			return -1;
		}
	}
	if (s->bound && bind_like(s, old_fd, nfd)) {
		*what = "the bound local address";
		*e = errno;
		return -1;
	}
	return 0;
}
