/* SPDX-License-Identifier: MIT */
/*
 * saf tls connect and forward: their options, the client context, and the
 * copy between the application's descriptors and the node, the plain TLS
 * variant (following migrate_notify) or a continuity stream
 * (saf_tls_stream_*).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cmd_tls.h"
#include "saf/cont.h"
#include "saf/sock.h"

#define CLIENT_BUF_LEN 16384u

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

static int client_context(saf_tls_client_setup *s, const char *ca);

/* The name to verify: --name, else the address given. */
static void client_name(saf_tls_client_setup *s, const char *name)
{
	saf_addr ip = s->remote;
	char t[SAF_ADDR_STR_LEN];

	ip.has_port = false;
	snprintf(s->name, sizeof(s->name), "%s",
		 name ? name : saf_addr_format(&ip, t));
}

/* Option values beyond s itself, for the checks after getopt. */
typedef struct client_args {
	const char *ca, *name, *remote;
	bool has_local;
	unsigned wait, stream_buffer, liveness;
} client_args;

/* One option (getopt's o, its optarg). 0, -1 after --help, or an exit
 * code. */
static int client_opt(saf_tls_client_setup *s, client_args *a, int o,
		      bool forward)
{
	saf_error e = {0};

	switch (o) {
	case 'c':
		a->ca = optarg;
		break;
	case 'n':
		a->name = optarg;
		break;
	case 'N':
		s->opts.migrate = false;
		break;
	case 'w':
		if (saf_tls_opt_uint("--ticket-wait", optarg, 60000, &a->wait))
			return SAF_EXIT_USAGE;
		break;
	case 'l':
		if (!forward)
			return saf_cli_usage_error("--local: forward only");
		if (saf_tls_opt_addr("--local", optarg, &s->local))
			return SAF_EXIT_USAGE;
		a->has_local = true;
		break;
	case 'r':
		a->remote = optarg;
		break;
	case 'm':
		if (saf_tls_opt_uint("--max-conns", optarg, 4096,
				     &s->max_conns) ||
		    s->max_conns == 0)
			return saf_cli_usage_error("--max-conns: 1..4096");
		break;
	case 'C':
		s->continuity = false;
		break;
	case 'B':
		if (saf_tls_opt_uint("--stream-buffer", optarg,
				     SAF_CONT_SEND_MAX, &a->stream_buffer) ||
		    a->stream_buffer < SAF_CONT_SEND_MIN)
			return saf_cli_usage_error(
				"--stream-buffer: %u..%u bytes",
				SAF_CONT_SEND_MIN, SAF_CONT_SEND_MAX);
		break;
	case 'K':
		/* seconds, 0: off */
		if (saf_tls_opt_uint("--liveness", optarg,
				     SAF_CONT_LIVENESS_S_MAX, &a->liveness))
			return SAF_EXIT_USAGE;
		break;
	case 'T':
		if (saf_target_policy_allow(&s->policy, optarg, &e))
			return saf_cli_usage_error("--allow-target: %s", e.msg);
		break;
	case 'V':
		if (saf_tls_tcp_variant_parse(optarg, &s->opts.tcp_variant, &e))
			return saf_cli_usage_error("--tcp-variant: %s", e.msg);
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
	return 0;
}

int saf_tls_client_parse(int argc, char **argv, bool forward,
			 saf_tls_client_setup *s)
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
	client_args a = {.wait = 1000,
			 .stream_buffer = SAF_CONT_SEND_DEFAULT,
			 .liveness = SAF_CONT_LIVENESS_S_DEFAULT};
	int o;

	memset(s, 0, sizeof(*s));
	saf_target_policy_init(&s->policy);
	s->opts.migrate = true;
	s->continuity = true;
	s->max_conns = 64;
	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		int rc = client_opt(s, &a, o, forward);

		if (rc)
			return rc;
	}
	if (!forward) {
		if (optind + 1 != argc)
			return saf_cli_usage_error("give one S:PORT (see 'saf "
						   "tls connect --help')");
		a.remote = argv[optind];
	} else {
		if (optind != argc)
			return saf_cli_usage_error("unexpected argument '%s'",
						   argv[optind]);
		if (!a.has_local || !a.remote)
			return saf_cli_usage_error(
				"--local and --remote are required");
	}
	if (saf_tls_opt_addr(forward ? "--remote" : "address", a.remote,
			     &s->remote))
		return SAF_EXIT_USAGE;
	client_name(s, a.name);
	s->opts.server_name = s->name;
	s->opts.ticket_wait_ms = a.wait ? a.wait : 1;
	s->sopts.conn = s->opts;
	s->sopts.send_buffer = a.stream_buffer;
	s->sopts.liveness_s = a.liveness;
	s->sopts.no_liveness = a.liveness == 0;
	return client_context(s, a.ca);
}

/* The SSL_CTX (trust anchors from ca, or the system's) and the saf client
 * on it, for s->remote. */
static int client_context(saf_tls_client_setup *s, const char *ca)
{
	saf_tls_client_config cfg;
	saf_error e = {0};

	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx)
		return saf_cli_fail("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(s->ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(s->ctx) != 1)
		return saf_cli_fail("--ca %s: cannot load",
				    ca ? ca : "(system)");
	if (saf_tls_keylog_setup(s->ctx))
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

void saf_tls_client_teardown(saf_tls_client_setup *s)
{
	SSL_CTX_free(s->ctx);
	saf_tls_client_free(s->cli);
}

void saf_tls_client_report(const saf_tls_client_setup *s, const saf_tls_conn *c)
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

/* Best effort: a socket that refuses shows at the next SSL call. */
static void nonblock(int fd)
{
	if (saf_sock_set_nonblock(fd, true, NULL)) {
		/* nothing more to do here */
	}
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
static int pump(const saf_tls_client_setup *s, saf_tls_conn *c, int in_fd,
		int out_fd)
{
	uint8_t buf[CLIENT_BUF_LEN];
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
				saf_tls_client_report(s, c);
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

static void report_stream(const saf_tls_client_setup *s,
			  const saf_tls_stream *st, const char *what)
{
	saf_tls_stream_stats k;
	char a[SAF_ADDR_STR_LEN];

	if (!s->verbose)
		return;
	saf_tls_stream_stats_get(st, &k);
	fprintf(stderr,
		"saf tls: stream %s at %s: moves %" PRIu64
		", reconnects %" PRIu64 " (%" PRIu64 " with the early "
		"credential), failed moves %" PRIu64 ", last stall %" PRIu64
		" us, retransmitted %" PRIu64 " bytes\n",
		what, saf_addr_format(&k.peer, a), k.moves, k.reconnects,
		k.reattaches, k.move_failures, k.last_stall_us,
		k.cont.retransmitted);
}

/* The continuity stream between in_fd/out_fd and the node: non-blocking
 * both ways; ends when both sides ended and everything was acknowledged. */
static int stream_pump(const saf_tls_client_setup *s, saf_tls_conn *c,
		       int in_fd, int out_fd)
{
	static _Thread_local uint8_t in[4u * CLIENT_BUF_LEN],
		out[4u * CLIENT_BUF_LEN];
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
			report_stream(s, st,
				      k.reconnects != reconnects ? "resumed"
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
		if (!shut &&
		    ((in_eof && in_len == 0) || saf_tls_stream_eof(st))) {
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
			ssize_t r =
				read(in_fd, in, saf_cont_read_size(sizeof(in)));

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
int saf_tls_client_run(const saf_tls_client_setup *s, saf_tls_conn *c,
		       int in_fd, int out_fd)
{
	if (c->outcome == SAF_TLS_ON_S_CONTINUITY)
		return stream_pump(s, c, in_fd, out_fd);
	return pump(s, c, in_fd, out_fd);
}
