/* SPDX-License-Identifier: MIT */
/*
 * saf tls serve: the TLS node proxy (saf_tls_node, saf/tls_node.h) as a
 * command. This file parses the options, loads the certificate and keys,
 * and turns signals into calls: SIGUSR1 migrate_notify, SIGUSR2 the
 * counters as one JSON line on stdout, SIGTERM/SIGINT the end. The
 * counters are formatted here (JSON, Prometheus text); the node, its
 * connections and streams are the library's.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cmd_tls.h"
#include "saf/clock.h"
#include "saf/metrics.h"
#include "saf/tls_node.h"

/* What the options say beyond the node's own config. */
typedef struct serve_opts {
	saf_tls_node_config node;
	saf_addr any[SAF_TLS_NODE_PAIRS_MAX], uni[SAF_TLS_NODE_PAIRS_MAX];
	size_t na, nu;
	bool has_backend;
	const char *cert, *key, *keys, *metrics_file;
	bool verbose;
} serve_opts;

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

/* The node's lines on stderr: failures always, the rest with -v. */
static void log_line(void *arg, saf_tls_node_log_level level, const char *line)
{
	const serve_opts *o = arg;

	if (level == SAF_TLS_NODE_LOG_ERROR || o->verbose)
		fprintf(stderr, "saf tls serve: %s\n", line);
}

/* ---- counters: JSON on stdout, Prometheus text in a file ----------------- */

/* Counters as one JSON line on stdout. */
static void print_counters(const saf_tls_node_counters *k)
{
	saf_tls_node_counters_json(stdout, k);
	fflush(stdout);
}

static void put_prometheus(FILE *f, void *k)
{
	saf_tls_node_counters_prometheus(f, k);
}

/* Counters in Prometheus' text format, the file replaced atomically for
 * node_exporter's textfile collector; best effort, tried again in a
 * second. */
static void write_prometheus(saf_tls_node_counters *n, const char *path)
{
	saf_error e;

	if (path && saf_metrics_file_replace(path, put_prometheus, n, &e)) {
		/* the old file stays; the next second tries again */
	}
}

static void usage(FILE *f)
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
	      "  --lifetime S       token lifetime in seconds (default 600; 0: "
	      "the\n"
	      "                     default). Continuity streams get a fresh "
	      "token\n"
	      "                     every half lifetime\n"
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
	      "  --metrics-file F   keep the counters in Prometheus text "
	      "format\n"
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

/* A number option in lo..max, or a usage error saying the range. */
static int opt_range(const char *opt, const char *text, unsigned lo,
		     unsigned max, const char *unit, unsigned *out)
{
	if (saf_tls_opt_uint(opt, text, max, out) || *out < lo)
		return saf_cli_usage_error("%s: %u..%u%s", opt, lo, max, unit);
	return 0;
}

/* --anycast or --unicast: the next address of its kind. */
static int opt_pair(const char *opt, const char *text, saf_addr *out, size_t *n)
{
	if (*n == SAF_TLS_NODE_PAIRS_MAX)
		return saf_cli_usage_error("too many %s", opt);
	return saf_tls_opt_addr(opt, text, &out[(*n)++]);
}

/* The node's limits: admission and continuity. */
static int parse_limit(serve_opts *s, int o)
{
	saf_tls_node_config *c = &s->node;
	saf_adm_config *a = &c->admission;
	unsigned v;
	int rc;

	switch (o) {
	case 'R':
		rc = opt_range("--handshake-rate", optarg, 1, 1000000, "", &v);
		c->server.handshakes_per_s = v;
		return rc;
	case 'm':
		return opt_range("--max-conns", optarg, 1, 16384, "",
				 &a->max_conns);
	case 'P':
		return saf_tls_opt_uint("--max-per-source", optarg, 16384,
					&a->max_per_source);
	case 'H':
		rc = opt_range("--handshake-timeout", optarg,
			       SAF_ADM_HANDSHAKE_MS_MIN,
			       SAF_ADM_HANDSHAKE_MS_MAX, " ms", &v);
		a->handshake_ms = v;
		return rc;
	case 'I':
		rc = saf_tls_opt_uint("--idle-timeout", optarg,
				      SAF_ADM_IDLE_S_MAX, &v);
		a->idle_ms = v * 1000u;
		return rc;
	case 'B':
		rc = opt_range("--stream-buffer", optarg, SAF_CONT_SEND_MIN,
			       SAF_CONT_SEND_MAX, " bytes", &v);
		c->stream_buffer = v;
		return rc;
	case 'L':
		return saf_tls_opt_uint("--stream-linger", optarg, 86400,
					&c->stream_linger_s);
	case 'l':
		/* 0: the default, for the tokens and the streams' refresh
		 * alike (the server config is the one source). */
		rc = saf_tls_opt_uint("--lifetime", optarg, 86400, &v);
		c->server.token_lifetime_s = v;
		return rc;
	default:
		return SAF_EXIT_USAGE;
	}
}

static int parse_one(serve_opts *s, int o)
{
	saf_tls_node_config *c = &s->node;

	switch (o) {
	case 'a':
		return opt_pair("--anycast", optarg, s->any, &s->na);
	case 'u':
		return opt_pair("--unicast", optarg, s->uni, &s->nu);
	case 'c':
		s->cert = optarg;
		return 0;
	case 'k':
		s->key = optarg;
		return 0;
	case 'K':
		s->keys = optarg;
		return 0;
	case 'b':
		s->has_backend = true;
		return saf_tls_opt_addr("--backend", optarg, &c->backend);
	case 'n':
		c->has_notify_target = true;
		return saf_tls_opt_addr("--notify-target", optarg,
					&c->notify_target);
	case 'M':
		s->metrics_file = optarg;
		return 0;
	case 'C':
		c->continuity = false;
		return 0;
	case 'v':
		s->verbose = true;
		return 0;
	default:
		return parse_limit(s, o);
	}
}

/* The options into s; -1 after --help, else an exit code (0: go on). */
static int parse(int argc, char **argv, serve_opts *s)
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
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (o == 'h') {
			usage(stdout);
			return -1;
		}
		if (o == '?' || parse_one(s, o))
			return SAF_EXIT_USAGE;
	}
	if (optind < argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (s->na == 0 || s->na != s->nu)
		return saf_cli_usage_error("give --anycast and --unicast in "
					   "pairs (got %zu and %zu)",
					   s->na, s->nu);
	if (!s->cert || !s->key || !s->has_backend)
		return saf_cli_usage_error(
			"--cert, --key and --backend are required");
	for (size_t i = 0; i < s->na; i++)
		s->node.pairs[i] = (saf_tls_node_pair){s->any[i], s->uni[i]};
	s->node.n_pairs = s->na;
	return 0;
}

/* The node key (and ticket keys) from --keys, or a fresh node key. */
static int load_keys(serve_opts *s)
{
	saf_tls_keys k;
	saf_error e = {0};

	if (s->keys) {
		if (saf_tls_keys_load(s->keys, &k, &e))
			return saf_cli_fail("--keys: %s", e.msg);
		saf_tls_server_config_use_keys(&s->node.server, &k);
	} else {
		if (saf_tls_keys_generate(&k, &e))
			return saf_cli_fail("%s", e.msg);
		memcpy(s->node.server.node_key, k.node_key,
		       sizeof(s->node.server.node_key));
	}
	saf_tls_keys_wipe(&k);
	return 0;
}

/* The certificate and key on a new server SSL_CTX (*out). */
static int load_cert(const serve_opts *s, SSL_CTX **out)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	*out = ctx;
	if (!ctx)
		return saf_cli_fail("SSL_CTX_new failed");
	if (SSL_CTX_use_certificate_chain_file(ctx, s->cert) != 1)
		return saf_cli_fail("--cert %s: cannot load", s->cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, s->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return saf_cli_fail("--key %s: cannot load or does not match",
				    s->key);
	if (saf_tls_keylog_setup(ctx))
		return SAF_EXIT_FAIL;
	if (saf_tls_keylog_on())
		fprintf(stderr,
			"saf tls serve: WARNING: SSLKEYLOGFILE=%s: the session "
			"keys of EVERY client connection are written there; "
			"anyone who reads it decrypts their traffic. For "
			"debugging only: unset it in production.\n",
			getenv("SSLKEYLOGFILE"));
	return 0;
}

/* Signals into calls on the node, until SIGTERM or SIGINT; the counters
 * file rewritten every second; the counters printed at the end. */
static int run(saf_tls_node *n, const serve_opts *s)
{
	struct sigaction sa = {.sa_handler = on_signal};
	saf_tls_node_counters k;
	uint64_t metrics_at = 0;
	saf_error e = {0};
	int rc = SAF_EXIT_OK;

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (s->verbose)
		fprintf(stderr, "saf tls serve: ready\n");
	while (!got_term) {
		if (got_usr2) {
			got_usr2 = 0;
			saf_tls_node_counters_get(n, &k);
			print_counters(&k);
		}
		if (s->metrics_file && saf_clock_wall_s() != metrics_at) {
			metrics_at = saf_clock_wall_s();
			saf_tls_node_counters_get(n, &k);
			write_prometheus(&k, s->metrics_file);
		}
		if (got_usr1) {
			got_usr1 = 0;
			(void)saf_tls_node_notify(n);
		}
		if (saf_tls_node_poll(n, -1, &e)) {
			rc = saf_cli_fail("%s", e.msg);
			break;
		}
	}
	saf_tls_node_close_all(n);
	saf_tls_node_counters_get(n, &k);
	print_counters(&k);
	return rc;
}

int saf_cmd_tls_serve(int argc, char **argv)
{
	serve_opts s = {0};
	saf_tls_node *n = NULL;
	SSL_CTX *ctx = NULL;
	saf_error e = {0};
	int rc;

	saf_tls_node_config_init(&s.node);
	s.node.log = log_line;
	s.node.log_arg = &s;
	rc = parse(argc, argv, &s);
	if (rc)
		return rc < 0 ? SAF_EXIT_OK : rc;
	rc = load_keys(&s);
	if (!rc)
		rc = load_cert(&s, &ctx);
	if (!rc) {
		n = saf_tls_node_new(ctx, &s.node, &e);
		rc = n ? run(n, &s) : saf_cli_fail("%s", e.msg);
	}
	OPENSSL_cleanse(&s.node.server, sizeof(s.node.server));
	saf_tls_node_free(n);
	SSL_CTX_free(ctx);
	return rc;
}
