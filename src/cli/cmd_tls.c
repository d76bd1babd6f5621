/* SPDX-License-Identifier: MIT */
/*
 * saf tls serve|connect|forward|keygen: the TLS variant as tools.
 *
 *   serve    TLS-terminating proxy to a plain TCP backend, listening on
 *            anycast/unicast pairs; tokens for the pair's unicast address
 *            to clients that reached the anycast one. One poll loop,
 *            a bounded number of connections. SIGUSR1: migrate_notify
 *            (ticket form) to every live connection on an anycast
 *            address; SIGUSR2: counters as one JSON line on stdout.
 *   connect  stdio client (like nc) running the seed procedure.
 *   forward  stunnel-style client: plain TCP in, saf TLS out.
 *   keygen   a key file for the nodes of one service.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "saf/admission.h"
#include "saf/cont.h"
#include "saf/tls.h"
#include "tls_serve.h"

#define BUF_LEN	  16384u
#define MAX_PAIRS 16u

/* ---- shared: SSLKEYLOGFILE ---------------------------------------------- */

static FILE *keylog;

static void keylog_cb(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (keylog) {
		fprintf(keylog, "%s\n", line);
		fflush(keylog);
	}
}

/* NSS key log format for Wireshark, when SSLKEYLOGFILE is set. */
static int keylog_setup(SSL_CTX *ctx)
{
	const char *path = getenv("SSLKEYLOGFILE");
	int fd;

	if (!path || !*path)
		return 0;
	if (!keylog) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);
		if (fd < 0 || !(keylog = fdopen(fd, "a"))) {
			if (fd >= 0)
				close(fd);
			return saf_cli_fail("SSLKEYLOGFILE %s: %s", path,
					    strerror(errno));
		}
	}
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

static int parse_addr(const char *opt, const char *text, saf_addr *out)
{
	saf_error e;

	if (saf_addr_parse(text, true, out, &e))
		return saf_cli_usage_error("%s: %s", opt, e.msg);
	return 0;
}

static int parse_uint(const char *opt, const char *text, unsigned max,
		      unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || end == text || v > max)
		return saf_cli_usage_error("%s: '%s' is not a number in 0..%u",
					   opt, text, max);
	*out = (unsigned)v;
	return 0;
}

static int listen_on(const saf_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(a, &ss);
	char t[SAF_ADDR_STR_LEN];
	int one = 1;
	int fd = socket(ss.ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
		fprintf(stderr, "saf: listen %s: %s\n", saf_addr_format(a, t),
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- serve ------------------------------------------------------------- */

/* Continuity streams of this process (docs/continuity.md); NULL when
 * --no-continuity. */
static cont_table *conts;

static volatile sig_atomic_t got_usr1, got_usr2, got_term;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

static void pconn_close(pconn *c)
{
	if (c->sess)
		cont_detach(conts, c); /* the client may come back */
	if (c->ssl) {
		if (c->hs_done)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->bfd >= 0)
		close(c->bfd);
	memset(c, 0, sizeof(*c));
	c->cfd = c->bfd = -1;
}

int serve_backend_connect(const saf_addr *b)
{
	struct sockaddr_storage ss;
	socklen_t len = saf_addr_to_sockaddr(b, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* The backend sits next to the node: a blocking connect. */
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Moves what can move; returns -1 when the connection is finished. */
static int pconn_step(pconn *c, const saf_addr *backend, bool verbose)
{
	bool progress = true;

	if (c->sess)
		return cont_step(conts, c, verbose);
	c->want_write = false;
	if (!c->hs_done) {
		int r;

		ERR_clear_error();
		r = SSL_accept(c->ssl);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);

			if (e == SSL_ERROR_WANT_READ)
				return 0;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = true;
				return 0;
			}
			if (verbose) {
				saf_tls_conn_info info;

				if (saf_tls_server_conn_info(c->ssl, &info) ==
					    0 &&
				    info.refusal)
					fprintf(stderr,
						"saf tls serve: refused: "
						"%s%s%s\n",
						saf_tls_refusal_name(
							info.refusal),
						info.refusal == SAF_TLS_REFUSE_VERDICT
							? " "
							: "",
						info.refusal == SAF_TLS_REFUSE_VERDICT
							? saf_verdict_name(
								  info.verdict)
							: "");
			}
			return -1;
		}
		c->hs_done = true;
		if (conts && saf_tls_continuity(c->ssl))
			return cont_on_handshake(conts, c, backend, verbose);
		c->bfd = serve_backend_connect(backend);
		if (c->bfd < 0) {
			fprintf(stderr, "saf tls serve: backend: %s\n",
				strerror(errno));
			return -1;
		}
	}
	while (progress) {
		progress = false;
		if (c->c2b_len == 0 && !c->client_eof) {
			int r;

			/* One thread serves every connection: an error left
			 * by another one must not be read as this one's. */
			ERR_clear_error();
			r = SSL_read(c->ssl, c->c2b, BUF_LEN);

			if (r > 0) {
				c->c2b_off = 0;
				c->c2b_len = (size_t)r;
				c->moved++;
				progress = true;
			} else {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE)
					c->want_write = true;
				else if (e == SSL_ERROR_ZERO_RETURN) {
					/* close_notify: half-close the backend
					 */
					c->client_eof = true;
					shutdown(c->bfd, SHUT_WR);
					progress = true;
				} else if (e != SSL_ERROR_WANT_READ)
					return -1;
			}
		}
		if (c->c2b_len) {
			ssize_t n =
				write(c->bfd, c->c2b + c->c2b_off, c->c2b_len);

			if (n > 0) {
				c->c2b_off += (size_t)n;
				c->c2b_len -= (size_t)n;
				progress = true;
			} else if (n < 0 && errno != EAGAIN) {
				return -1;
			}
		}
		if (c->b2c_len == 0 && !c->backend_eof) {
			ssize_t n = read(c->bfd, c->b2c, BUF_LEN);

			if (n > 0) {
				c->b2c_off = 0;
				c->b2c_len = (size_t)n;
				progress = true;
			} else if (n == 0) {
				c->backend_eof = true;
				progress = true;
			} else if (errno != EAGAIN) {
				return -1;
			}
		}
		if (c->b2c_len) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->b2c + c->b2c_off,
				      (int)c->b2c_len);

			if (r > 0) {
				c->b2c_off += (size_t)r;
				c->b2c_len -= (size_t)r;
				c->moved++;
				progress = true;
			} else {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE)
					c->want_write = true;
				else if (e != SSL_ERROR_WANT_READ)
					return -1;
			}
		}
	}
	if (c->backend_eof && c->b2c_len == 0)
		return -1; /* backend done: close_notify to the client */
	return 0;
}

static void print_counters(const saf_tls_server *srv, size_t live,
			   const saf_adm *adm)
{
	saf_tls_server_counters k;
	saf_adm_counters a;

	saf_tls_server_counters_get(srv, &k);
	printf("{\"connections\":%zu,\"handshakes_with_support\":%" PRIu64
	       ",\"tokens_issued\":%" PRIu64 ",\"notifies_sent\":%" PRIu64
	       ",\"migrations_accepted\":%" PRIu64 ",\"refused\":{",
	       live, k.handshakes_with_support, k.tokens_issued,
	       k.notifies_sent, k.migrations_accepted);
	for (int r = SAF_TLS_REFUSE_NO_SUPPORT; r < SAF_TLS_REFUSE_COUNT; r++)
		printf("\"%s\":%" PRIu64 ",",
		       saf_tls_refusal_name((saf_tls_refusal)r), k.refused[r]);
	for (int v = SAF_TOKEN_MALFORMED; v < SAF_VERDICT_COUNT; v++)
		printf("\"%s\":%" PRIu64 "%s", saf_verdict_name((saf_verdict)v),
		       k.refused_verdict[v],
		       v + 1 < SAF_VERDICT_COUNT ? "," : "");
	printf("}");
	if (conts) {
		cont_counters q;

		cont_counters_get(conts, &q);
		printf(",\"continuity\":{\"streams\":%zu,\"away\":%zu,"
		       "\"opened\":%" PRIu64 ",\"resumed\":%" PRIu64
		       ",\"unknown\":%" PRIu64 ",\"expired\":%" PRIu64
		       ",\"finished\":%" PRIu64 ",\"violations\":%" PRIu64 "}",
		       q.live, q.orphaned, q.opened, q.resumed, q.unknown,
		       q.expired, q.finished, q.violations);
	}
	saf_adm_counters_get(adm, &a);
	printf(",\"admission\":{\"handshaking\":%zu,\"open\":%zu,"
	       "\"streams\":%zu,\"sources\":%zu,\"handshake_timeouts\":%" PRIu64
	       ",\"idle_timeouts\":%" PRIu64 ",\"per_source_refused\":%" PRIu64
	       ",\"evicted\":%" PRIu64 ",\"full_refused\":%" PRIu64 "}",
	       a.handshaking, a.open, a.streams, a.sources,
	       a.handshake_timeouts, a.idle_timeouts, a.per_source_refused,
	       a.evicted, a.full_refused);
	printf("}\n");
	fflush(stdout);
}

/* Counters in Prometheus' text format, written atomically (tmp + rename)
 * for node_exporter's textfile collector. */
static void write_prometheus(const saf_tls_server *srv, size_t live,
			     const saf_adm *adm, const char *path)
{
	saf_tls_server_counters k;
	saf_adm_counters a;
	char tmp[4096];
	FILE *f;

	if (!path || (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (!f)
		return;
	saf_tls_server_counters_get(srv, &k);
	fprintf(f,
		"# TYPE saf_tls_server_connections gauge\n"
		"saf_tls_server_connections %zu\n"
		"# TYPE saf_tls_server_handshakes_with_support_total counter\n"
		"saf_tls_server_handshakes_with_support_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_tokens_issued_total counter\n"
		"saf_tls_server_tokens_issued_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_notifies_sent_total counter\n"
		"saf_tls_server_notifies_sent_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_migrations_accepted_total counter\n"
		"saf_tls_server_migrations_accepted_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_migrations_refused_total counter\n",
		live, k.handshakes_with_support, k.tokens_issued,
		k.notifies_sent, k.migrations_accepted);
	for (int r = SAF_TLS_REFUSE_NO_SUPPORT; r < SAF_TLS_REFUSE_COUNT; r++)
		fprintf(f, "saf_tls_server_migrations_refused_total{reason=\"%s\"} %" PRIu64 "\n",
			saf_tls_refusal_name((saf_tls_refusal)r), k.refused[r]);
	for (int v = SAF_TOKEN_MALFORMED; v < SAF_VERDICT_COUNT; v++)
		fprintf(f, "saf_tls_server_migrations_refused_total{reason=\"%s\"} %" PRIu64 "\n",
			saf_verdict_name((saf_verdict)v), k.refused_verdict[v]);
	if (conts) {
		cont_counters q;

		cont_counters_get(conts, &q);
		fprintf(f,
			"# TYPE saf_tls_server_streams gauge\n"
			"saf_tls_server_streams{state=\"attached\"} %zu\n"
			"saf_tls_server_streams{state=\"away\"} %zu\n"
			"# TYPE saf_tls_server_stream_events_total counter\n"
			"saf_tls_server_stream_events_total{event=\"opened\"} %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"resumed\"} %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"unknown\"} %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"expired\"} %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"finished\"} %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"violation\"} %" PRIu64 "\n",
			q.live - q.orphaned, q.orphaned, q.opened, q.resumed,
			q.unknown, q.expired, q.finished, q.violations);
	}
	saf_adm_counters_get(adm, &a);
	fprintf(f,
		"# TYPE saf_tls_server_connections_by_state gauge\n"
		"saf_tls_server_connections_by_state{state=\"handshake\"} %zu\n"
		"saf_tls_server_connections_by_state{state=\"open\"} %zu\n"
		"saf_tls_server_connections_by_state{state=\"stream\"} %zu\n"
		"# TYPE saf_tls_server_sources gauge\n"
		"saf_tls_server_sources %zu\n"
		"# TYPE saf_tls_server_admission_total counter\n"
		"saf_tls_server_admission_total{event=\"handshake_timeout\"} %" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"idle_timeout\"} %" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"per_source_refused\"} %" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"evicted\"} %" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"full_refused\"} %" PRIu64 "\n",
		a.handshaking, a.open, a.streams, a.sources,
		a.handshake_timeouts, a.idle_timeouts, a.per_source_refused,
		a.evicted, a.full_refused);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void serve_usage(FILE *f)
{
	fputs("usage: saf tls serve --anycast S:PORT --unicast U:PORT "
	      "[--anycast ... --unicast ...]\n"
	      "         --cert FILE --key FILE --backend HOST:PORT\n"
	      "         [--keys FILE] [--lifetime S] [--max-conns N]\n"
	      "         [--handshake-rate N]\n"
	      "         [--max-per-source N] [--handshake-timeout MS]\n"
	      "         [--idle-timeout S]\n"
	      "         [--notify-target ADDR:PORT] [--metrics-file F]\n"
	      "         [--no-continuity] [--stream-buffer BYTES]\n"
	      "         [--stream-linger S] [-v]\n\n"
	      "TLS 1.3 terminating proxy to a plain TCP backend. Listens on "
	      "every\n"
	      "anycast and unicast address; clients that reach an anycast "
	      "address\n"
	      "and offer migration_support get tokens for the paired unicast "
	      "one.\n"
	      "  --keys FILE        node key + ticket keys shared by sibling "
	      "nodes\n"
	      "                     (saf tls keygen; mode 0600). Default: "
	      "random.\n"
	      "  --lifetime S       token lifetime in seconds (default 600)\n"
	      "  --handshake-rate N handshakes/s this node completes; the "
	      "replay\n"
	      "                     cache holds lifetime x N nonces "
	      "(default 1000)\n"
	      "  --max-conns N      live connections at most (default 256). "
	      "When all\n"
	      "                     are taken, a newcomer evicts the oldest "
	      "connection\n"
	      "                     still in its handshake (silent ones "
	      "first), else\n"
	      "                     the one without a stream quiet longest "
	      "(1 s at\n"
	      "                     least), else it is closed: accept never "
	      "stops\n"
	      "  --max-per-source N live connections per IPv4 address or "
	      "IPv6 /64\n"
	      "                     (default 32; 0: no cap; 0..16384)\n"
	      "  --handshake-timeout MS  a connection still in its handshake "
	      "after\n"
	      "                     MS is closed (default 5000; "
	      "100..120000)\n"
	      "  --idle-timeout S   a connection without a continuity "
	      "stream that\n"
	      "                     moved no data for S seconds is closed "
	      "(default\n"
	      "                     300; 0: never; 0..86400)\n"
	      "  --notify-target A  target of migrate_notify (default: each\n"
	      "                     connection's paired unicast address)\n"
	      "  --no-continuity    never answer the continuity extension "
	      "(plain\n"
	      "                     TLS variant for every client)\n"
	      "  --stream-buffer B  continuity: send buffer per stream in "
	      "bytes\n"
	      "                     (default 262144; 65536..67108864)\n"
	      "  --stream-linger S  continuity: how long a stream whose "
	      "connection\n"
	      "                     broke waits for its client (default 30)\n"
	      "  --metrics-file F   keep the counters in Prometheus text format\n"
	      "                     in F, rewritten every second (textfile\n"
	      "                     collector)\n"
	      "Signals: SIGUSR1 sends migrate_notify (ticket form) on every "
	      "live\n"
	      "connection that arrived on an anycast address, and on every "
	      "continuity\n"
	      "stream (to the address it is on, unless --notify-target); "
	      "SIGUSR2 prints the\n"
	      "counters as one JSON line on stdout (also printed at exit).\n"
	      "The admission counters (handshake_timeouts, idle_timeouts,\n"
	      "per_source_refused, evicted, full_refused) are in that JSON "
	      "line and in --metrics-file.\n"
	      "SSLKEYLOGFILE is honoured, with a warning on stderr: it writes "
	      "every\n"
	      "client's session keys to that file.\n",
	      f);
}

/* Milliseconds on CLOCK_MONOTONIC: deadlines must not move with the
 * wall clock. */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Accepted per listener per poll round: drains a flood's backlog quickly
 * while the other listeners and connections still get their turn. */
#define SERVE_ACCEPT_BATCH 32u

/* The poll loop's connections; slot i of the admission unit is conns[i]. */
typedef struct serve_state {
	SSL_CTX *ctx;
	saf_adm *adm;
	pconn *conns;
	unsigned max_conns;
	size_t live;
} serve_state;

/* conns[i] is closed; release: its slot is still the admission unit's
 * (not when the unit itself timed it out or evicted it). */
static void serve_drop(serve_state *st, unsigned i, bool release)
{
	pconn_close(&st->conns[i]);
	if (release)
		saf_adm_release(st->adm, i);
	st->live--;
}

/* Tells the admission unit what conns[i] did in its last step. */
static void serve_note(serve_state *st, unsigned i, bool was_done,
		       uint64_t moved, uint64_t now)
{
	const pconn *c = &st->conns[i];

	if (!c->hs_done) {
		/* Past TLS_ST_BEFORE: a ClientHello came, the peer spoke. */
		if (SSL_get_state(c->ssl) != TLS_ST_BEFORE)
			saf_adm_activity(st->adm, i, now);
	} else if (!was_done) {
		saf_adm_established(st->adm, i, c->sess != NULL, now);
	} else if (c->moved != moved) {
		saf_adm_activity(st->adm, i, now);
	}
}

/* Accepts what waits on l, a batch at most. Each newcomer gets a slot
 * from the admission unit (perhaps by evicting a silent handshake or a
 * quiet connection) or is closed at once: listeners are always polled,
 * so peers that hold connections open can never stop accept. The
 * newcomer takes its first step at once. */
static void serve_accept(serve_state *st, const listener *l,
			 const saf_addr *backend, bool verbose)
{
	for (unsigned b = 0; b < SERVE_ACCEPT_BATCH; b++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		saf_addr src;
		saf_error e;
		unsigned slot;
		pconn *c;
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			return;
		if (saf_addr_from_sockaddr((struct sockaddr *)&ss, sl, &src,
					   &e)) {
			close(fd);
			continue;
		}
		switch (saf_adm_admit(st->adm, &src, mono_ms(), &slot)) {
		case SAF_ADM_EVICT:
			serve_drop(st, slot, false);
			break;
		case SAF_ADM_ACCEPT:
			break;
		default: /* counted by the unit */
			close(fd);
			continue;
		}
		/* Whole TLS records: no Nagle (tickets then a reply would
		 * wait a round trip for an ACK). */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1},
				 sizeof(int));
		c = &st->conns[slot];
		c->used = true;
		c->cfd = fd;
		c->bfd = -1;
		c->l = l;
		st->live++;
		c->ssl = SSL_new(st->ctx);
		if (!c->ssl) {
			serve_drop(st, slot, true);
			continue;
		}
		SSL_set_fd(c->ssl, fd);
		SSL_set_app_data(c->ssl, c); /* cont_on_token */
		if (l->anycast &&
		    saf_tls_server_set_target(c->ssl, &l->unicast, &e))
			fprintf(stderr, "saf tls serve: %s\n", e.msg);
		/* The local address is read back from the socket
		 * (getsockname) when a token arrives. */
		/* A real client's ClientHello is usually there already:
		 * read it now, so the slot counts as one that spoke before
		 * the rest of this batch looks for silent ones to evict. */
		if (pconn_step(c, backend, verbose))
			serve_drop(st, slot, true);
		else
			serve_note(st, slot, false, 0, mono_ms());
	}
}

/* SIGUSR1: migrate_notify on every connection that may move. */
static void serve_notify_all(serve_state *st, const saf_addr *notify_target,
			     bool verbose)
{
	for (unsigned i = 0; i < st->max_conns; i++) {
		pconn *c = &st->conns[i];
		const saf_addr *to;
		saf_error e;

		/* Continuity streams move on any address (by default to the
		 * one they are on): the move is underneath, nothing is lost. */
		if (!c->used || !c->hs_done || (!c->l->anycast && !c->sess))
			continue;
		to = notify_target    ? notify_target
		     : c->l->anycast ? &c->l->unicast
				     : &c->l->addr;
		if (saf_tls_server_migrate_notify(c->ssl, to, &e)) {
			if (verbose)
				fprintf(stderr, "saf tls serve: %s\n", e.msg);
			continue;
		}
		(void)SSL_do_handshake(c->ssl); /* flush */
	}
}

/* The poll set: listeners (always), then two entries per slot. */
static size_t serve_pollset(const serve_state *st, const listener *ls,
			    size_t nls, struct pollfd *pfd)
{
	size_t n = 0;

	for (size_t i = 0; i < nls; i++)
		pfd[n++] = (struct pollfd){.fd = ls[i].fd, .events = POLLIN};
	for (unsigned i = 0; i < st->max_conns; i++) {
		const pconn *c = &st->conns[i];

		if (c->used && c->sess) {
			short cev, bev;
			int bfd;

			cont_events(c, &cev, &bfd, &bev);
			pfd[n++] = (struct pollfd){.fd = c->cfd, .events = cev};
			pfd[n++] = (struct pollfd){.fd = bfd, .events = bev};
			continue;
		}
		pfd[n++] = (struct pollfd){
			.fd = c->used ? c->cfd : -1,
			.events = (short)(POLLIN |
					  (c->want_write ? POLLOUT : 0))};
		pfd[n++] = (struct pollfd){
			.fd = c->used && c->bfd >= 0 ? c->bfd : -1,
			.events = (short)((c->b2c_len ? 0 : POLLIN) |
					  (c->c2b_len ? POLLOUT : 0))};
	}
	return n;
}

/* One round over the connections: deadlines first, then what moved. */
static void serve_conns(serve_state *st, const struct pollfd *pfd,
			const saf_addr *backend, bool verbose)
{
	uint64_t now = mono_ms();

	for (unsigned i = 0; i < st->max_conns; i++) {
		pconn *c = &st->conns[i];
		short ev = (short)(pfd[2u * i].revents |
				   pfd[2u * i + 1].revents);
		bool was_done = c->hs_done;
		uint64_t moved = c->moved;
		saf_adm_expiry x;

		if (!c->used)
			continue;
		if (c->kill) { /* its stream moved to a newer one */
			serve_drop(st, i, true);
			continue;
		}
		x = saf_adm_check(st->adm, i, now);
		if (x != SAF_ADM_KEEP) { /* released and counted */
			serve_drop(st, i, false);
			continue;
		}
		/* Continuity: records already decrypted, or bytes the engine
		 * holds, need no event. */
		if (c->sess && (SSL_pending(c->ssl) > 0))
			ev = POLLIN;
		/* A fresh connection has no events yet: try it. */
		if (!ev && c->hs_done)
			continue;
		if (pconn_step(c, backend, verbose)) {
			serve_drop(st, i, true);
			continue;
		}
		serve_note(st, i, was_done, moved, now);
	}
}

static int serve_loop(serve_state *st, saf_tls_server *srv, listener *ls,
		      size_t nls, const saf_addr *backend,
		      const saf_addr *notify_target, bool verbose,
		      const char *metrics_file, unsigned lifetime_s)
{
	time_t metrics_at = 0;
	struct pollfd *pfd = calloc(nls + 2u * st->max_conns, sizeof(*pfd));

	st->conns = calloc(st->max_conns, sizeof(*st->conns));
	if (!st->conns || !pfd) {
		free(st->conns);
		free(pfd);
		return saf_cli_fail("out of memory");
	}
	for (unsigned i = 0; i < st->max_conns; i++)
		st->conns[i].cfd = st->conns[i].bfd = -1;
	while (!got_term) {
		uint64_t next;

		if (got_usr2) {
			got_usr2 = 0;
			print_counters(srv, st->live, st->adm);
		}
		if (time(NULL) != metrics_at) {
			metrics_at = time(NULL);
			if (metrics_file)
				write_prometheus(srv, st->live, st->adm,
						 metrics_file);
			if (conts)
				cont_tick(conts, lifetime_s);
		}
		if (got_usr1) {
			got_usr1 = 0;
			serve_notify_all(st, notify_target, verbose);
		}
		/* Wake for the next deadline, at least once a second. */
		next = saf_adm_next_ms(st->adm, mono_ms());
		if (poll(pfd, serve_pollset(st, ls, nls, pfd),
			 next < 1000 ? (int)next : 1000) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < nls; i++)
			if (pfd[i].revents & POLLIN)
				serve_accept(st, &ls[i], backend, verbose);
		serve_conns(st, pfd + nls, backend, verbose);
	}
	for (unsigned i = 0; i < st->max_conns; i++)
		if (st->conns[i].used)
			serve_drop(st, i, true);
	print_counters(srv, 0, st->adm);
	free(st->conns);
	st->conns = NULL;
	free(pfd);
	return SAF_EXIT_OK;
}

/* How long the kernel keeps a connection that sent nothing out of accept
 * (TCP_DEFER_ACCEPT, seconds; it retransmits the SYN-ACK meanwhile and
 * hands the connection over on the next bare ACK after that). A client
 * sends its ClientHello with the handshake's last ACK, so it is accepted
 * with it: the admission unit sees it speak on its first step, and only
 * silent peers, later, are the ones evicted first. */
#define SERVE_DEFER_ACCEPT_S 1

static int serve_listen(const saf_addr *a)
{
	int fd = listen_on(a);

	if (fd >= 0 &&
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT,
		       &(int){SERVE_DEFER_ACCEPT_S}, sizeof(int)))
		fprintf(stderr, "saf tls serve: TCP_DEFER_ACCEPT: %s\n",
			strerror(errno));
	return fd;
}

/* The admission unit of this process (docs/tls.md, "Admission"). */
static int serve_admission(serve_state *st, unsigned max_conns,
			   unsigned per_source, unsigned hs_ms, unsigned idle_s)
{
	saf_adm_config cfg;
	saf_error e = {0};

	saf_adm_config_init(&cfg);
	cfg.max_conns = max_conns;
	cfg.max_per_source = per_source;
	cfg.handshake_ms = hs_ms;
	cfg.idle_ms = idle_s * 1000u;
	/* A key per process: a peer cannot aim its /64s at one bucket. */
	if (RAND_bytes((unsigned char *)cfg.hash_key, sizeof(cfg.hash_key)) !=
	    1)
		return saf_cli_fail("admission: no random bytes for its key");
	st->adm = saf_adm_new(&cfg, &e);
	if (!st->adm)
		return saf_cli_fail("%s", e.msg);
	st->max_conns = max_conns;
	return 0;
}

static int tls_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"anycast", required_argument, NULL, 'a'},
		{"unicast", required_argument, NULL, 'u'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"backend", required_argument, NULL, 'b'},
		{"keys", required_argument, NULL, 'K'},
		{"lifetime", required_argument, NULL, 'l'},
		{"handshake-rate", required_argument, NULL, 'R'},
		{"max-conns", required_argument, NULL, 'm'},
		{"max-per-source", required_argument, NULL, 'P'},
		{"handshake-timeout", required_argument, NULL, 'H'},
		{"idle-timeout", required_argument, NULL, 'I'},
		{"notify-target", required_argument, NULL, 'n'},
		{"metrics-file", required_argument, NULL, 'M'},
		{"no-continuity", no_argument, NULL, 'C'},
		{"stream-buffer", required_argument, NULL, 'B'},
		{"stream-linger", required_argument, NULL, 'L'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *metrics_file = NULL;
	bool continuity = true;
	unsigned stream_buffer = SAF_CONT_SEND_DEFAULT, linger = 30;
	saf_addr any[MAX_PAIRS], uni[MAX_PAIRS], backend, notify;
	size_t na = 0, nu = 0, nls = 0;
	const char *cert = NULL, *key = NULL, *keys = NULL;
	bool has_backend = false, has_notify = false, verbose = false;
	unsigned lifetime = SAF_TOKEN_LIFETIME_DEFAULT_S, max_conns = 256;
	unsigned rate = SAF_NODE_HANDSHAKES_PER_S_DEFAULT;
	unsigned per_source = SAF_ADM_PER_SOURCE_DEFAULT;
	unsigned hs_ms = SAF_ADM_HANDSHAKE_MS_DEFAULT;
	unsigned idle_s = SAF_ADM_IDLE_S_DEFAULT;
	serve_state st = {0};
	listener ls[2 * MAX_PAIRS];
	saf_tls_server_config cfg;
	saf_tls_server *srv = NULL;
	SSL_CTX *ctx = NULL;
	saf_error e = {0};
	int o, rc = SAF_EXIT_FAIL;

	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			if (na == MAX_PAIRS)
				return saf_cli_usage_error(
					"too many --anycast");
			if (parse_addr("--anycast", optarg, &any[na++]))
				return SAF_EXIT_USAGE;
			break;
		case 'u':
			if (nu == MAX_PAIRS)
				return saf_cli_usage_error(
					"too many --unicast");
			if (parse_addr("--unicast", optarg, &uni[nu++]))
				return SAF_EXIT_USAGE;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'K':
			keys = optarg;
			break;
		case 'b':
			if (parse_addr("--backend", optarg, &backend))
				return SAF_EXIT_USAGE;
			has_backend = true;
			break;
		case 'n':
			if (parse_addr("--notify-target", optarg, &notify))
				return SAF_EXIT_USAGE;
			has_notify = true;
			break;
		case 'M':
			metrics_file = optarg;
			break;
		case 'C':
			continuity = false;
			break;
		case 'B':
			if (parse_uint("--stream-buffer", optarg,
				       SAF_CONT_SEND_MAX, &stream_buffer) ||
			    stream_buffer < SAF_CONT_SEND_MIN)
				return saf_cli_usage_error(
					"--stream-buffer: %u..%u bytes",
					SAF_CONT_SEND_MIN, SAF_CONT_SEND_MAX);
			break;
		case 'L':
			if (parse_uint("--stream-linger", optarg, 86400,
				       &linger))
				return SAF_EXIT_USAGE;
			break;
		case 'l':
			if (parse_uint("--lifetime", optarg, 86400, &lifetime))
				return SAF_EXIT_USAGE;
			break;
		case 'R':
			if (parse_uint("--handshake-rate", optarg, 1000000,
				       &rate) ||
			    rate == 0)
				return saf_cli_usage_error(
					"--handshake-rate: 1..1000000");
			break;
		case 'm':
			if (parse_uint("--max-conns", optarg, 16384,
				       &max_conns) ||
			    max_conns == 0)
				return saf_cli_usage_error(
					"--max-conns: 1..16384");
			break;
		case 'P':
			if (parse_uint("--max-per-source", optarg, 16384,
				       &per_source))
				return SAF_EXIT_USAGE;
			break;
		case 'H':
			if (parse_uint("--handshake-timeout", optarg,
				       SAF_ADM_HANDSHAKE_MS_MAX, &hs_ms) ||
			    hs_ms < SAF_ADM_HANDSHAKE_MS_MIN)
				return saf_cli_usage_error(
					"--handshake-timeout: %u..%u ms",
					SAF_ADM_HANDSHAKE_MS_MIN,
					SAF_ADM_HANDSHAKE_MS_MAX);
			break;
		case 'I':
			if (parse_uint("--idle-timeout", optarg,
				       SAF_ADM_IDLE_S_MAX, &idle_s))
				return SAF_EXIT_USAGE;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			serve_usage(stdout);
			return SAF_EXIT_OK;
		default:
			return SAF_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (na == 0 || na != nu)
		return saf_cli_usage_error("give --anycast and --unicast in "
					   "pairs (got %zu and %zu)",
					   na, nu);
	if (!cert || !key || !has_backend)
		return saf_cli_usage_error(
			"--cert, --key and --backend are required");

	saf_tls_server_config_init(&cfg);
	cfg.token_lifetime_s = lifetime;
	cfg.handshakes_per_s = rate;
	if (keys) {
		saf_tls_keys k;

		if (saf_tls_keys_load(keys, &k, &e))
			return saf_cli_fail("--keys: %s", e.msg);
		saf_tls_server_config_use_keys(&cfg, &k);
		saf_tls_keys_wipe(&k);
	} else {
		saf_tls_keys k;

		if (saf_tls_keys_generate(&k, &e))
			return saf_cli_fail("%s", e.msg);
		memcpy(cfg.node_key, k.node_key, sizeof(cfg.node_key));
		saf_tls_keys_wipe(&k);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return saf_cli_fail("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		rc = saf_cli_fail("--cert %s: cannot load", cert);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		rc = saf_cli_fail("--key %s: cannot load or does not match",
				  key);
		goto out;
	}
	if (keylog_setup(ctx))
		goto out;
	if (keylog)
		fprintf(stderr,
			"saf tls serve: WARNING: SSLKEYLOGFILE=%s: the session "
			"keys of EVERY client connection are written there; "
			"anyone who reads it decrypts their traffic. For "
			"debugging only: unset it in production.\n",
			getenv("SSLKEYLOGFILE"));
	if (serve_admission(&st, max_conns, per_source, hs_ms, idle_s))
		goto out;
	st.ctx = ctx;
	if (continuity) {
		conts = cont_table_new(max_conns, stream_buffer, linger, &e);
		if (!conts) {
			rc = saf_cli_fail("%s", e.msg);
			goto out;
		}
		cfg.continuity = true;
		cfg.on_token = cont_on_token;
		cfg.on_token_arg = conts;
	}
	srv = saf_tls_server_new(ctx, &cfg, &e);
	OPENSSL_cleanse(&cfg, sizeof(cfg));
	if (!srv) {
		rc = saf_cli_fail("%s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < na; i++) {
		ls[nls] = (listener){
			.addr = any[i], .anycast = true, .unicast = uni[i]};
		ls[nls].fd = serve_listen(&any[i]);
		if (ls[nls++].fd < 0)
			goto out;
		/* A unicast address may serve several anycast ones. */
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= saf_addr_equal(&uni[j], &uni[i]);
		if (dup)
			continue;
		ls[nls] = (listener){.addr = uni[i], .anycast = false};
		ls[nls].fd = serve_listen(&uni[i]);
		if (ls[nls++].fd < 0)
			goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (verbose)
		fprintf(stderr, "saf tls serve: ready\n");
	rc = serve_loop(&st, srv, ls, nls, &backend,
			has_notify ? &notify : NULL, verbose, metrics_file,
			lifetime);
out:
	for (size_t i = 0; i < nls; i++)
		if (ls[i].fd >= 0)
			close(ls[i].fd);
	cont_table_free(conts);
	conts = NULL;
	saf_adm_free(st.adm);
	SSL_CTX_free(ctx);
	saf_tls_server_free(srv);
	return rc;
}

/* ---- client side: connect and forward ---------------------------------- */

typedef struct client_setup {
	SSL_CTX *ctx;
	saf_tls_client *cli;
	saf_tls_connect_opts opts;
	saf_addr remote;
	char name[256];
	bool verbose;
	unsigned max_conns;
	saf_addr local;
	saf_tls_stream_opts sopts;
	bool continuity;
	saf_target_policy policy; /* --allow-target */
} client_setup;

static void client_usage(FILE *f, bool forward)
{
	if (forward)
		fputs("usage: saf tls forward --local ADDR:PORT --remote "
		      "S:PORT\n"
		      "         [--ca FILE] [--name NAME] [--no-migrate]\n"
		      "         [--ticket-wait MS] [--max-conns N]\n"
		      "         [--allow-target PREFIX[,PREFIX]...]\n"
		      "         [--no-continuity] [--stream-buffer BYTES]\n"
		      "         [--liveness S] [--tcp-variant auto|on|off] "
		      "[-v]\n\n"
		      "stunnel-style client: every plain TCP connection "
		      "accepted on\n"
		      "--local is carried over saf TLS to --remote (the "
		      "anycast\n"
		      "address), migrating to the node's unicast address.\n",
		      f);
	else
		fputs("usage: saf tls connect S:PORT [--ca FILE] [--name "
		      "NAME]\n"
		      "         [--no-migrate] [--ticket-wait MS]\n"
		      "         [--allow-target PREFIX[,PREFIX]...]\n"
		      "         [--no-continuity] [--stream-buffer BYTES]\n"
		      "         [--liveness S] [--tcp-variant auto|on|off] "
		      "[-v]\n\n"
		      "stdio client (like nc): runs the seed procedure and "
		      "copies\n"
		      "stdin to the connection and the connection to stdout.\n",
		      f);
	fputs("  --ca FILE          trust anchors (default: the system store)\n"
	      "  --name NAME        name to verify (default: the host given)\n"
	      "  --no-migrate       stay on S (plain TLS)\n"
	      "  --ticket-wait MS   how long to wait for a token (default "
	      "1000)\n"
	      "  --allow-target PREFIX  token targets the client may use "
	      "(repeatable,\n"
	      "                     or a comma list, e.g. "
	      "10.30.0.0/16,fd00:30::/32).\n"
	      "                     Without it: global unicast only; every "
	      "IANA\n"
	      "                     special-purpose range is refused "
	      "(private, CGN,\n"
	      "                     link-local, ...). Loopback only when S "
	      "is loopback.\n"
	      "                     A refused token leaves the client on "
	      "S.\n"
	      "  --no-continuity    do not offer continuity. With it (the "
	      "default,\n"
	      "                     when the node answers), data flows on S "
	      "at once\n"
	      "                     and moves to the unicast address "
	      "underneath,\n"
	      "                     nothing lost; a broken connection is "
	      "resumed\n"
	      "  --stream-buffer B  continuity: send buffer in bytes "
	      "(default 262144)\n"
	      "  --liveness S       continuity: a node silent this long "
	      "(host down,\n"
	      "                     path gone; TCP keepalive unanswered or "
	      "data\n"
	      "                     unacknowledged) breaks the connection "
	      "and the\n"
	      "                     stream comes back or is lost (default "
	      "15; 0: off,\n"
	      "                     only TCP's own retransmission limit; "
	      "max 3600)\n"
	      "  --tcp-variant M    TLS over saf TCP (default auto): when "
	      "the client\n"
	      "                     program is attached for this process's "
	      "cgroup\n"
	      "                     (pins: $SAF_BPF_PIN_DIR, else "
	      "/run/saf/bpf)\n"
	      "                     and the node advertises, the advert in "
	      "the\n"
	      "                     SYN-ACK moves the client to the node's "
	      "unicast\n"
	      "                     address U before its ClientHello: one "
	      "full\n"
	      "                     handshake at U (-v: \"via TCP advert at "
	      "U\").\n"
	      "                     auto: no usable advert (not attached, "
	      "node\n"
	      "                     without the program, advert refused by\n"
	      "                     --allow-target, U unreachable) keeps the\n"
	      "                     connection to S and runs the seed "
	      "procedure;\n"
	      "                     on: that is an error; off: never\n"
	      "  -v                 tell on stderr where it ended and why\n"
	      "The certificate is always verified. SSLKEYLOGFILE is "
	      "honoured.\n",
	      f);
	if (forward)
		fputs("A continuity stream that is lost (see connect's exit "
		      "status 3)\n"
		      "ends its TCP connection with a reset, not a clean "
		      "close.\n",
		      f);
	else
		fputs("\nExit status:\n"
		      "  0  the exchange ended cleanly\n"
		      "  1  failure: no connection to S, certificate "
		      "refused, or (without\n"
		      "     continuity) the connection lost\n"
		      "  2  bad usage\n"
		      "  3  the continuity stream was lost before its end; "
		      "\"stream lost: ...\"\n"
		      "     on stderr says why: the node no longer knows it "
		      "(restarted), or\n"
		      "     could not be reached again (5 tries, about a "
		      "second when it\n"
		      "     refuses connections), or went silent for "
		      "--liveness S first\n"
		      "     (\"silent for S s, then ...\"). stdout then "
		      "holds a correct prefix of the\n"
		      "     node's stream, and only a prefix.\n",
		      f);
}

static int client_parse(int argc, char **argv, bool forward, client_setup *s)
{
	static const struct option opts[] = {
		{"ca", required_argument, NULL, 'c'},
		{"name", required_argument, NULL, 'n'},
		{"no-migrate", no_argument, NULL, 'N'},
		{"ticket-wait", required_argument, NULL, 'w'},
		{"local", required_argument, NULL, 'l'},
		{"remote", required_argument, NULL, 'r'},
		{"max-conns", required_argument, NULL, 'm'},
		{"no-continuity", no_argument, NULL, 'C'},
		{"stream-buffer", required_argument, NULL, 'B'},
		{"liveness", required_argument, NULL, 'K'},
		{"allow-target", required_argument, NULL, 'T'},
		{"tcp-variant", required_argument, NULL, 'V'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	saf_tls_client_config cfg;
	unsigned stream_buffer = SAF_CONT_SEND_DEFAULT;
	unsigned liveness = SAF_CONT_LIVENESS_S_DEFAULT;
	const char *ca = NULL, *name = NULL, *remote = NULL;
	bool has_local = false;
	saf_error e = {0};
	unsigned wait = 1000;
	int o;

	memset(s, 0, sizeof(*s));
	saf_target_policy_init(&s->policy);
	s->opts.migrate = true;
	s->continuity = true;
	s->max_conns = 64;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			ca = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'N':
			s->opts.migrate = false;
			break;
		case 'w':
			if (parse_uint("--ticket-wait", optarg, 60000, &wait))
				return SAF_EXIT_USAGE;
			break;
		case 'l':
			if (!forward)
				return saf_cli_usage_error(
					"--local: forward only");
			if (parse_addr("--local", optarg, &s->local))
				return SAF_EXIT_USAGE;
			has_local = true;
			break;
		case 'r':
			remote = optarg;
			break;
		case 'm':
			if (parse_uint("--max-conns", optarg, 4096,
				       &s->max_conns) ||
			    s->max_conns == 0)
				return saf_cli_usage_error(
					"--max-conns: 1..4096");
			break;
		case 'C':
			s->continuity = false;
			break;
		case 'B':
			if (parse_uint("--stream-buffer", optarg,
				       SAF_CONT_SEND_MAX, &stream_buffer) ||
			    stream_buffer < SAF_CONT_SEND_MIN)
				return saf_cli_usage_error(
					"--stream-buffer: %u..%u bytes",
					SAF_CONT_SEND_MIN, SAF_CONT_SEND_MAX);
			break;
		case 'K':
			/* seconds, 0: off */
			if (parse_uint("--liveness", optarg,
				       SAF_CONT_LIVENESS_S_MAX, &liveness))
				return SAF_EXIT_USAGE;
			break;
		case 'T':
			if (saf_target_policy_allow(&s->policy, optarg, &e))
				return saf_cli_usage_error("--allow-target: %s",
							   e.msg);
			break;
		case 'V':
			if (saf_tls_tcp_variant_parse(optarg,
						      &s->opts.tcp_variant, &e))
				return saf_cli_usage_error("--tcp-variant: %s",
							   e.msg);
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'h':
			client_usage(stdout, forward);
			return -1;
		default:
			return SAF_EXIT_USAGE;
		}
	}
	if (!forward) {
		if (optind + 1 != argc)
			return saf_cli_usage_error("give one S:PORT (see 'saf "
						   "tls connect --help')");
		remote = argv[optind];
	} else {
		if (optind != argc)
			return saf_cli_usage_error("unexpected argument '%s'",
						   argv[optind]);
		if (!has_local || !remote)
			return saf_cli_usage_error(
				"--local and --remote are required");
	}
	if (parse_addr(forward ? "--remote" : "address", remote, &s->remote))
		return SAF_EXIT_USAGE;
	if (name) {
		snprintf(s->name, sizeof(s->name), "%s", name);
	} else {
		saf_addr ip = s->remote;
		char t[SAF_ADDR_STR_LEN];

		ip.has_port = false;
		snprintf(s->name, sizeof(s->name), "%s",
			 saf_addr_format(&ip, t));
	}
	s->opts.server_name = s->name;
	s->opts.ticket_wait_ms = wait ? wait : 1;
	s->sopts.conn = s->opts;
	s->sopts.send_buffer = stream_buffer;
	s->sopts.liveness_s = liveness;
	s->sopts.no_liveness = liveness == 0;

	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx)
		return saf_cli_fail("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(s->ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(s->ctx) != 1)
		return saf_cli_fail("--ca %s: cannot load",
				    ca ? ca : "(system)");
	if (keylog_setup(s->ctx))
		return SAF_EXIT_FAIL;
	saf_tls_client_config_init(&cfg);
	/* Loopback targets make sense only when S itself is loopback (tests,
	 * one-host labs); otherwise a token for 127.0.0.1 is refused. */
	cfg.allow_loopback_targets =
		saf_addr_classify(&s->remote) == SAF_ADDR_LOOPBACK;
	cfg.policy = &s->policy;
	/* Continuity only makes sense when the client may move. */
	cfg.continuity = s->continuity && s->opts.migrate;
	s->cli = saf_tls_client_new(s->ctx, &cfg, &e);
	if (!s->cli)
		return saf_cli_fail("%s", e.msg);
	return 0;
}

static void client_teardown(client_setup *s)
{
	SSL_CTX_free(s->ctx);
	saf_tls_client_free(s->cli);
}

static void report(const client_setup *s, const saf_tls_conn *c)
{
	char a[SAF_ADDR_STR_LEN];

	if (s->verbose)
		fprintf(stderr, "saf tls: %s at %s: %s\n",
			saf_tls_outcome_name(c->outcome),
			saf_addr_format(&c->peer, a), c->why);
}

static ssize_t write_all(int fd, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* SSL_write on a non-blocking socket, waiting for room as needed. */
static int ssl_write_all(SSL *ssl, int fd, const uint8_t *p, size_t n)
{
	while (n) {
		int r;

		ERR_clear_error();
		r = SSL_write(ssl, p, (int)n);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
		case SSL_ERROR_WANT_READ: {
			struct pollfd q = {.fd = fd,
					   .events = POLLIN | POLLOUT};
			(void)poll(&q, 1, 1000);
			break;
		}
		default:
			return -1;
		}
	}
	return 0;
}

/* Copies in_fd -> TLS and TLS -> out_fd until both directions end, acting
 * on migrate_notify in both forms. The TLS socket is non-blocking here:
 * a blocking SSL_read would hang after consuming a lone ticket. */
static int pump(const client_setup *s, saf_tls_conn *c, int in_fd, int out_fd)
{
	uint8_t buf[BUF_LEN];
	bool in_eof = false;

	nonblock(c->fd);
	for (;;) {
		struct pollfd p[2] = {
			{.fd = c->fd, .events = POLLIN},
			{.fd = in_eof ? -1 : in_fd, .events = POLLIN},
		};
		int r;

		if (SSL_pending(c->ssl) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return SAF_EXIT_FAIL;
		}
		if (SSL_pending(c->ssl) ||
		    (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ERR_clear_error();
			r = SSL_read(c->ssl, buf, sizeof(buf));
			if (r > 0 && write_all(out_fd, buf, (size_t)r) < 0)
				return SAF_EXIT_FAIL;
			if (saf_tls_client_notified(c->ssl)) {
				saf_error e = {0};
				int form = saf_tls_client_notified(c->ssl);

				if (s->verbose)
					fprintf(stderr,
						"saf tls: migrate_notify (%s "
						"form)\n",
						form == 2 ? "alert" : "ticket");
				if (saf_tls_conn_follow_notify(s->ctx, &s->opts,
							       c, &e)) {
					fprintf(stderr, "saf: %s\n", e.msg);
					return SAF_EXIT_FAIL;
				}
				report(s, c);
				nonblock(c->fd);
				if (in_eof)
					SSL_shutdown(c->ssl);
				continue;
			}
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					continue;
				if (e == SSL_ERROR_ZERO_RETURN)
					return SAF_EXIT_OK;
				return saf_cli_fail("connection lost");
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(in_fd, buf, sizeof(buf));

			if (n <= 0) {
				in_eof = true;
				/* TLS 1.3 half-close: we can still read. */
				SSL_shutdown(c->ssl);
				if (out_fd == in_fd)
					continue;
			} else if (ssl_write_all(c->ssl, c->fd, buf,
						 (size_t)n)) {
				return saf_cli_fail("connection lost");
			}
		}
	}
}

static void report_stream(const client_setup *s, const saf_tls_stream *st,
			  const char *what)
{
	saf_tls_stream_stats k;
	char a[SAF_ADDR_STR_LEN];

	if (!s->verbose)
		return;
	saf_tls_stream_stats_get(st, &k);
	fprintf(stderr,
		"saf tls: stream %s at %s: moves %" PRIu64 ", reconnects %" PRIu64
		", failed moves %" PRIu64 ", last stall %" PRIu64
		" us, retransmitted %" PRIu64 " bytes\n",
		what, saf_addr_format(&k.peer, a), k.moves, k.reconnects,
		k.move_failures, k.last_stall_us, k.cont.retransmitted);
}

/* The continuity stream between in_fd/out_fd and the node: non-blocking
 * both ways; ends when both sides ended and everything was acknowledged. */
static int stream_pump(const client_setup *s, saf_tls_conn *c, int in_fd,
		       int out_fd)
{
	static _Thread_local uint8_t in[4u * BUF_LEN], out[4u * BUF_LEN];
	size_t in_off = 0, in_len = 0;
	bool in_eof = false, shut = false;
	uint64_t moves = 0, reconnects = 0;
	saf_error e = {0};
	saf_tls_stream *st = saf_tls_stream_new(s->ctx, &s->sopts, c, &e);
	int rc = SAF_EXIT_OK;

	if (!st)
		return saf_cli_fail("%s", e.msg);
	for (;;) {
		saf_tls_stream_stats k;
		struct pollfd p[3];
		int np, tmo;
		size_t n;

		/* Input first, so this very step sends it. */
		if (in_len) {
			n = saf_tls_stream_write(st, in + in_off, in_len);
			in_off += n;
			in_len -= n;
		}
		if (saf_tls_stream_step(st, &e)) {
			/* Bytes delivered before the loss are in order and
			 * correct: they go out, then the loss is said. */
			while ((n = saf_tls_stream_read(st, out, sizeof(out))) >
				       0 &&
			       write_all(out_fd, out, n) == (ssize_t)n)
				;
			(void)saf_cli_fail("%s", e.msg);
			rc = SAF_EXIT_LOST;
			break;
		}
		saf_tls_stream_stats_get(st, &k);
		if (k.moves != moves || k.reconnects != reconnects) {
			report_stream(s, st, k.reconnects != reconnects
						     ? "resumed"
						     : "moved");
			moves = k.moves;
			reconnects = k.reconnects;
		}
		while ((n = saf_tls_stream_read(st, out, sizeof(out))) > 0)
			if (write_all(out_fd, out, n) < 0) {
				rc = saf_cli_fail("output: %s",
						  strerror(errno));
				goto done;
			}
		/* Acknowledgements read by the step made room: use it now,
		 * not after a poll that nothing may end. */
		if (in_len) {
			n = saf_tls_stream_write(st, in + in_off, in_len);
			in_off += n;
			in_len -= n;
			if (n)
				continue;
		}
		/* The node ended its side: so do we (like plain TLS's
		 * close_notify, which ends `connect`). */
		if (!shut && ((in_eof && in_len == 0) ||
			      saf_tls_stream_eof(st))) {
			saf_tls_stream_shutdown(st);
			shut = true;
			continue;
		}
		if (saf_tls_stream_done(st))
			break;
		/* After the step: a move changes the fds. */
		p[0] = (struct pollfd){.fd = in_eof || in_len ? -1 : in_fd,
				       .events = POLLIN};
		np = 1 + saf_tls_stream_pollfds(st, &p[1]);
		tmo = saf_tls_stream_timeout_ms(st);
		if (tmo < 0 || tmo > 1000)
			tmo = 1000;
		if (poll(p, (nfds_t)np, tmo) < 0 && errno != EINTR) {
			rc = saf_cli_fail("poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(in_fd, in,
					 saf_cont_read_size(sizeof(in)));

			if (r <= 0) {
				in_eof = true;
			} else {
				in_off = 0;
				in_len = (size_t)r;
			}
		}
	}
done:
	report_stream(s, st, rc == SAF_EXIT_OK ? "done" : "lost");
	saf_tls_stream_free(st);
	return rc;
}

/* Plain TLS variant or continuity, as the node answered. */
static int client_run(const client_setup *s, saf_tls_conn *c, int in_fd,
		      int out_fd)
{
	if (c->outcome == SAF_TLS_ON_S_CONTINUITY)
		return stream_pump(s, c, in_fd, out_fd);
	return pump(s, c, in_fd, out_fd);
}

static int tls_connect(int argc, char **argv)
{
	client_setup s;
	saf_tls_conn c;
	saf_error e = {0};
	int rc = client_parse(argc, argv, false, &s);

	if (rc) {
		client_teardown(&s);
		return rc < 0 ? SAF_EXIT_OK : rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (saf_tls_connect(s.ctx, &s.remote, &s.opts, &c, &e)) {
		client_teardown(&s);
		return saf_cli_fail("%s", e.msg);
	}
	report(&s, &c);
	rc = client_run(&s, &c, STDIN_FILENO, STDOUT_FILENO);
	saf_tls_conn_close(&c);
	client_teardown(&s);
	return rc;
}

typedef struct fwd_job {
	const client_setup *s;
	int fd;
} fwd_job;

static atomic_uint fwd_live;

static void *fwd_thread(void *arg)
{
	fwd_job *j = arg;
	saf_tls_conn c;
	saf_error e = {0};
	int rc = SAF_EXIT_FAIL;

	if (saf_tls_connect(j->s->ctx, &j->s->remote, &j->s->opts, &c, &e)) {
		fprintf(stderr, "saf tls forward: %s\n", e.msg);
	} else {
		report(j->s, &c);
		rc = client_run(j->s, &c, j->fd, j->fd);
		saf_tls_conn_close(&c);
	}
	if (rc != SAF_EXIT_OK) {
		/* What the application received is only part of the
		 * stream: a reset says so, where a FIN would pass it off
		 * as the whole. */
		struct linger rst = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(j->fd, SOL_SOCKET, SO_LINGER, &rst,
				 sizeof(rst));
	}
	close(j->fd);
	free(j);
	atomic_fetch_sub(&fwd_live, 1);
	return NULL;
}

static int tls_forward(int argc, char **argv)
{
	client_setup s;
	int lfd, rc = client_parse(argc, argv, true, &s);

	if (rc) {
		client_teardown(&s);
		return rc < 0 ? SAF_EXIT_OK : rc;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(&s.local);
	if (lfd < 0) {
		client_teardown(&s);
		return SAF_EXIT_FAIL;
	}
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;
		fwd_job *j;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (atomic_load(&fwd_live) >= s.max_conns ||
		    !(j = malloc(sizeof(*j)))) {
			close(fd);
			continue;
		}
		j->s = &s;
		j->fd = fd;
		atomic_fetch_add(&fwd_live, 1);
		if (pthread_create(&t, NULL, fwd_thread, j)) {
			atomic_fetch_sub(&fwd_live, 1);
			close(fd);
			free(j);
			continue;
		}
		pthread_detach(t);
	}
	close(lfd);
	client_teardown(&s);
	return SAF_EXIT_FAIL;
}

/* ---- keygen ------------------------------------------------------------ */

static int tls_keygen(int argc, char **argv)
{
	saf_tls_keys k;
	saf_error e = {0};
	int rc;

	if (argc == 2 && saf_cli_is_help(argv[1])) {
		puts("usage: saf tls keygen FILE\n\n"
		     "Writes a new key file (node key and ticket keys, mode "
		     "0600)\n"
		     "for the nodes of one service; never overwrites.");
		return SAF_EXIT_OK;
	}
	if (argc != 2)
		return saf_cli_usage_error("usage: saf tls keygen FILE");
	if (saf_tls_keys_generate(&k, &e))
		return saf_cli_fail("%s", e.msg);
	rc = saf_tls_keys_save(argv[1], &k, &e);
	saf_tls_keys_wipe(&k);
	return rc ? saf_cli_fail("%s", e.msg) : SAF_EXIT_OK;
}

int saf_cmd_tls(int argc, char **argv)
{
	static const saf_cmd table[] = {
		{"serve", tls_serve, "TLS proxy node with migration support"},
		{"connect", tls_connect,
		 "stdio client running the seed procedure"},
		{"forward", tls_forward, "stunnel-style client forwarder"},
		{"keygen", tls_keygen, "key file shared by sibling nodes"},
	};
	return saf_cli_dispatch("saf tls", table,
				sizeof(table) / sizeof(table[0]), argc, argv);
}
