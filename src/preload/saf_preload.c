/* SPDX-License-Identifier: MIT */
/*
 * libsaf-preload.so (LD_PRELOAD, set up by `saf run`; docs/run.md): wraps
 * connect() so an unmodified program's TCP connection to a configured
 * anycast destination S follows the node's advert. Under the application:
 * connect to S, read this socket's advert, connect a new socket to U with
 * the application's options, move it onto the application's fd (dup3),
 * and close the first connection with RST. Any failure leaves the
 * application on its connection to S: never worse than without it.
 *
 * Runs inside connect(): async-signal-safe (system calls only, no malloc,
 * no stdio, no locks), thread-safe (the configuration is written once by
 * the constructor, before main, and only read after), and never calls
 * connect() by name, so it cannot recurse into itself; a nested call (a
 * signal handler's connect() while this thread is inside the wrapper)
 * goes straight to the real one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"
#include "saf/clock.h"
#include "saf/run.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static saf_run_config cfg;
static char map_path[SAF_RUN_PIN_DIR_MAX + 32];
static atomic_bool cfg_ready;
static _Atomic(connect_fn) real_connect;
static __thread int in_wrapper __attribute__((tls_model("initial-exec")));

/* Resolved by the constructor; a connect() from another library's
 * constructor that runs first resolves it here (dlsym is idempotent, so
 * two threads racing store the same pointer). */
static connect_fn next_connect(void)
{
	connect_fn f =
		atomic_load_explicit(&real_connect, memory_order_acquire);

	if (!f) {
		void *p = dlsym(RTLD_NEXT, "connect");

		memcpy(&f, &p, sizeof(f)); /* object to function pointer */
		atomic_store_explicit(&real_connect, f, memory_order_release);
	}
	return f;
}

__attribute__((constructor)) static void saf_preload_init(void)
{
	static const char sub[] = "/client/saf_adverts";
	saf_error err;
	saf_line l = {.len = 0};
	size_t n;

	next_connect();
	if (saf_run_config_load(&cfg, getenv, &err) && cfg.debug) {
		saf_line_str(&l, "saf: configuration ignored, following "
				 "nothing: ");
		saf_line_str(&l, err.msg);
		saf_line_emit(&l);
	}
	n = strlen(cfg.pin_dir); /* < SAF_RUN_PIN_DIR_MAX, by the parser */
	memcpy(map_path, cfg.pin_dir, n);
	memcpy(map_path + n, sub, sizeof(sub));
	atomic_store_explicit(&cfg_ready, true, memory_order_release);
}

enum wait_rc { W_CONNECTED, W_TIMEOUT, W_FAILED };

/* Waits up to timeout_ms for a non-blocking connect on fd to finish,
 * restarting after signals with the time left. *soerr gets the socket
 * error only when `consume` (our own socket): the application's socket
 * keeps its error for the application to read. */
static enum wait_rc wait_connected(int fd, unsigned timeout_ms, bool consume,
				   int *soerr)
{
	uint64_t deadline = saf_clock_mono_ms() + timeout_ms;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int n;

	for (;;) {
		n = poll(&p, 1,
			 saf_clock_poll_timeout(deadline, saf_clock_mono_ms()));
		if (n >= 0 || errno != EINTR)
			break;
	}
	*soerr = ETIMEDOUT;
	if (n <= 0)
		return W_TIMEOUT;
	if (consume) {
		socklen_t l = sizeof(*soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, soerr, &l))
			*soerr = errno;
		return *soerr ? W_FAILED : W_CONNECTED;
	}
	*soerr = 0;
	if (p.revents & (POLLERR | POLLHUP))
		return W_FAILED;
	return getpeername(fd, (struct sockaddr *)&ss, &sl) ? W_FAILED
							    : W_CONNECTED;
}

/* One connection being followed. */
typedef struct follow {
	int fd;
	saf_addr dst;  /* S, as the application asked */
	saf_addr peer; /* where fd is connected */
	int fl, fdfl;  /* F_GETFL, F_GETFD before connect() */
	saf_sock_snapshot snap;
	saf_line line;
} follow;

static void say(follow *f, const char *a, const char *b)
{
	if (!cfg.debug)
		return;
	f->line.len = 0;
	saf_line_str(&f->line, "saf: connect ");
	saf_line_addr(&f->line, &f->dst);
	saf_line_str(&f->line, a);
	if (b)
		saf_line_str(&f->line, b);
}

static void say_addr(follow *f, const char *a, const saf_addr *x, const char *b)
{
	if (!cfg.debug)
		return;
	say(f, a, NULL);
	saf_line_addr(&f->line, x);
	saf_line_str(&f->line, b);
}

static void say_errno(follow *f, int e)
{
	if (!cfg.debug)
		return;
	saf_line_str(&f->line, " (");
	saf_line_errno(&f->line, e);
	saf_line_str(&f->line, ")");
}

static void emit(follow *f)
{
	if (cfg.debug)
		saf_line_emit(&f->line);
}

static const char *advert_reason(saf_advert_rc rc)
{
	switch (rc) {
	case SAF_ADV_NO_MAP:
		return "no advert: client program not attached (no advert "
		       "map under the pin folder)";
	case SAF_ADV_NOT_SENT:
		return "no advert: SAF not sent (destination not configured "
		       "in the client program, or outside its cgroup)";
	case SAF_ADV_MALFORMED:
		return "no advert: a malformed advert was ignored";
	case SAF_ADV_NONE:
	case SAF_ADV_OK:
		break;
	}
	return "no advert: the node sent none";
}

/* The advert's target, checked like saf_tcp_connect checks it (the
 * client target policy, saf/policy.h); NULL when it may be followed, else
 * why not, in e->msg or as a constant. */
static const char *target_refusal(const follow *f, const saf_addr *t,
				  saf_error *e)
{
	if (saf_addr_equal_ip(t, &f->dst))
		return "the anycast address itself";
	if (f->snap.domain == AF_INET && t->family == 6)
		return "IPv6 target for an IPv4 socket";
	/* The policy formats its refusal with snprintf into e (a stack
	 * buffer, %s and %u only: no allocation in glibc); the one call
	 * here that is not on POSIX's async-signal-safe list. */
	if (saf_target_policy_check(&cfg.policy, t, "advert", e))
		return e->msg;
	return NULL;
}

/* A socket address for t in the application's family (IPv4 targets on
 * an AF_INET6 socket as ::ffff:a.b.c.d). */
static socklen_t target_sockaddr(int domain, const saf_addr *t,
				 struct sockaddr_storage *ss)
{
	socklen_t len = saf_addr_to_sockaddr(t, ss);

	if (domain == AF_INET6 && t->family == 4) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		memset(s6, 0, sizeof(*s6));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], t->bytes, 4);
		len = sizeof(*s6);
	}
	return len;
}

/* A new socket connected to t with the application's options, or -1
 * (f->line says why). */
static int connect_target(connect_fn next, follow *f, const saf_addr *t)
{
	struct sockaddr_storage ss;
	socklen_t len = target_sockaddr(f->snap.domain, t, &ss);
	const char *what = NULL;
	int nfd, e = 0;

	nfd = socket(f->snap.domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		     IPPROTO_TCP);
	if (nfd < 0) {
		say(f, " stayed on S: cannot open a socket for U", NULL);
		say_errno(f, errno);
		return -1;
	}
	if (saf_sockopt_apply(&f->snap, f->fd, nfd, &what, &e)) {
		say(f, " stayed on S: cannot copy ", what);
		say_errno(f, e);
		close(nfd);
		return -1;
	}
	if (next(nfd, (struct sockaddr *)&ss, len) == 0)
		return nfd;
	e = errno;
	if (e == EINPROGRESS) {
		switch (wait_connected(nfd, cfg.timeout_ms, true, &e)) {
		case W_CONNECTED:
			return nfd;
		case W_TIMEOUT:
			say_addr(f, " stayed on S: ", t,
				 " did not answer within ");
			if (cfg.debug) {
				saf_line_uint(&f->line, cfg.timeout_ms);
				saf_line_str(&f->line, " ms");
			}
			close(nfd);
			return -1;
		case W_FAILED:
			break;
		}
	}
	say_addr(f, " stayed on S: connect to ", t, " failed");
	say_errno(f, e);
	close(nfd);
	return -1;
}

/* Puts nfd where the application's fd is, with the application's fd
 * flags and file status flags, and closes the first connection with RST
 * (SO_LINGER 0: no FIN exchange, no TIME_WAIT, SPEC 2). A spare reference
 * keeps the first connection until the move succeeded, so a failure
 * leaves the application where it was. */
static int move_onto(follow *f, int nfd)
{
	static const struct linger rst = {.l_onoff = 1, .l_linger = 0};
	int keep = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);

	if (keep < 0) {
		say(f, " stayed on S: no spare descriptor for the move", NULL);
		say_errno(f, errno);
		return -1;
	}
	if (dup3(nfd, f->fd, (f->fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		say(f, " stayed on S: dup3 failed", NULL);
		say_errno(f, errno);
		close(keep);
		return -1;
	}
	close(nfd);
	fcntl(f->fd, F_SETFL, f->fl);
	setsockopt(keep, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(keep);
	return 0;
}

/* After the connection to S is up: follow its advert, or say why not. */
static void follow_advert(connect_fn next, follow *f)
{
	saf_addr t;
	saf_advert_rc rc;
	saf_error e;
	const char *why;
	int nfd;

	/* The kernel's affinity cache (cgroup/connect4/6) may already have
	 * sent this connect() to a node's unicast address: keep it. */
	if (!saf_addr_equal(&f->peer, &f->dst)) {
		say_addr(f, " -> ", &f->peer,
			 " kept: already on a unicast address (kernel "
			 "affinity cache)");
		return;
	}
	rc = saf_advert_read(map_path, f->fd, f->dst.port, &t);
	if (rc != SAF_ADV_OK) {
		say(f, " stayed on S: ", advert_reason(rc));
		return;
	}
	why = target_refusal(f, &t, &e);
	if (why == e.msg) {
		say(f, " stayed on S: ", why);
		return;
	}
	if (why) {
		say_addr(f, " stayed on S: advert for ", &t, " rejected: ");
		if (cfg.debug)
			saf_line_str(&f->line, why);
		return;
	}
	nfd = connect_target(next, f, &t);
	if (nfd < 0 || move_onto(f, nfd)) {
		if (nfd >= 0)
			close(nfd);
		return;
	}
	say_addr(f, " -> ", &t, " migrated");
}

static bool peer_of(int fd, saf_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       saf_addr_from_sockaddr((struct sockaddr *)&ss, sl, out, NULL) ==
		       0;
}

/* The seed procedure under the application's connect(). */
static int follow_connect(connect_fn next, follow *f, const struct sockaddr *sa,
			  socklen_t len)
{
	int saved = errno, e, soerr;

	f->fl = fcntl(f->fd, F_GETFL);
	f->fdfl = fcntl(f->fd, F_GETFD);
	saf_sockopt_snapshot(f->fd, f->snap.domain, &f->snap);
	if (next(f->fd, sa, len) < 0) {
		e = errno;
		if (e == EALREADY || e == EISCONN) {
			/* A second call on a socket already on its way (an
			 * application polling with connect()): no new
			 * connection, no line. */
			errno = e;
			return -1;
		}
		if (e != EINPROGRESS || !(f->fl & O_NONBLOCK)) {
			/* The application's own outcome, untouched. */
			say(f, " not followed: connect to S failed", NULL);
			say_errno(f, e);
			emit(f);
			errno = e;
			return -1;
		}
		/* Non-blocking: wait (bounded) for S here, so the advert can
		 * be followed before the application sees the socket. */
		switch (wait_connected(f->fd, cfg.timeout_ms, false, &soerr)) {
		case W_CONNECTED:
			break;
		case W_TIMEOUT:
			/* The application finishes it itself, on S. */
			say(f, " not followed: S not connected within ", NULL);
			if (cfg.debug) {
				saf_line_uint(&f->line, cfg.timeout_ms);
				saf_line_str(&f->line, " ms");
			}
			emit(f);
			errno = EINPROGRESS;
			return -1;
		case W_FAILED:
			/* Its error stays for the application (SO_ERROR). */
			say(f, " not followed: connect to S failed", NULL);
			emit(f);
			errno = EINPROGRESS;
			return -1;
		}
	}
	if (!peer_of(f->fd, &f->peer)) {
		say(f, " stayed on S: no peer address", NULL);
		emit(f);
		errno = saved;
		return 0;
	}
	follow_advert(next, f);
	emit(f);
	errno = saved;
	return 0;
}

/* Only TCP stream sockets of the IPv4/IPv6 families, to a configured
 * destination: everything else (UDP, Unix sockets, other addresses)
 * goes straight through. */
static bool wanted(int fd, const struct sockaddr *sa, socklen_t len, follow *f)
{
	int type = 0, proto = 0, domain = 0;
	socklen_t l = sizeof(int);

	if (!atomic_load_explicit(&cfg_ready, memory_order_acquire) ||
	    cfg.n_anycast == 0 || !sa || len < (socklen_t)sizeof(sa_family_t) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return false;
	if (saf_addr_from_sockaddr(sa, len, &f->dst, NULL) ||
	    !saf_run_is_anycast(&cfg, &f->dst))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) ||
	    type != SOCK_STREAM)
		return false;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) ||
	    proto != IPPROTO_TCP)
		return false;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l))
		return false;
	f->snap.domain = domain;
	f->fd = fd;
	return true;
}

/* Declared exactly as <sys/socket.h> does (a transparent union under
 * _GNU_SOURCE). */
#if defined(__USE_GNU)
#define SOCKADDR_OF(a) ((a).__sockaddr__)
#else
#define SOCKADDR_OF(a) (a)
#endif

EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	const struct sockaddr *sa = SOCKADDR_OF(addr);
	connect_fn next = next_connect();
	follow f;
	int rc, saved = errno;

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	if (in_wrapper) /* a signal handler's connect() */
		return next(fd, sa, len);
	in_wrapper = 1;
	if (!wanted(fd, sa, len, &f)) {
		in_wrapper = 0;
		errno = saved;
		return next(fd, sa, len);
	}
	rc = follow_connect(next, &f, sa, len);
	in_wrapper = 0;
	return rc;
}
