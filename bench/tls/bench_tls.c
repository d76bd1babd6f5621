/* SPDX-License-Identifier: MIT */
/*
 * TLS variant benchmark, in memory (BIO pairs), one thread, both ends:
 *
 *  1. handshakes per CPU second: full handshake (tokens issued), plain
 *     resumption, migration resumption (token presented and verified,
 *     nonce recorded), measured in interleaved rounds in one run; the
 *     migration path's extra CPU over plain resumption (target <= 5%).
 *  2. round trips to the first application byte: the seed procedure
 *     (TCP + full handshake to S, wait for the ticket, TCP + resumption to
 *     the target, request/response) against plain TLS to S, counted as
 *     client/server exchanges of the real handshakes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

static harness H;
static SSL_CTX *sctx, *cctx;

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const saf_addr *target(void)
{
	static saf_addr a;

	if (!a.family && saf_addr_parse("127.0.0.41:24001", true, &a, NULL))
		abort();
	return &a;
}

/* One handshake; with_target: tokens in tickets (a connection to S). */
static SSL *server_new(bool with_target)
{
	SSL *s = SSL_new(sctx);

	if (with_target && saf_tls_server_set_target(s, target(), NULL))
		abort();
	if (saf_tls_server_set_local(s, target(), NULL))
		abort();
	return s;
}

static void full(saf_tls_offer *keep)
{
	SSL *c = SSL_new(cctx), *s = server_new(true);

	if (!harness_handshake(c, s))
		abort();
	harness_pump(c, s);
	if (keep && saf_tls_client_offer(c, keep) != 1)
		abort();
	SSL_free(c);
	SSL_free(s);
}

static void resume(const saf_tls_offer *o, bool token)
{
	SSL *c = SSL_new(cctx), *s = server_new(false);
	/* Sessions are single use after a resumption: each run gets a copy
	 * (the copy is made in both paths, so it is not a difference). */
	SSL_SESSION *d = SSL_SESSION_dup(o->session);

	SSL_set_session(c, d);
	SSL_SESSION_free(d);
	if (token &&
	    saf_tls_client_present_token(c, o->token, o->token_len, NULL))
		abort();
	if (!harness_handshake(c, s) || !SSL_session_reused(c))
		abort();
	SSL_free(c);
	SSL_free(s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- round trips -------------------------------------------------------- */

/* Runs client and server alternately; each time the client waits for the
 * server's answer counts one round trip. The client finishes the
 * handshake, then either waits for a ticket with a token or sends one
 * request and waits for the first byte of the answer. */
static int rounds(SSL *c, SSL *s, bool wait_ticket)
{
	bool sent = false;
	char b;
	int n = 0;

	for (;;) {
		/* client */
		if (SSL_do_handshake(c) == 1) {
			saf_tls_offer o;

			if (wait_ticket) {
				(void)SSL_peek(c, &b, 1);
				if (saf_tls_client_offer(c, &o)) {
					saf_tls_offer_clear(&o);
					return n;
				}
			} else if (!sent) {
				if (SSL_write(c, "?", 1) != 1)
					abort();
				sent = true;
			} else if (SSL_read(c, &b, 1) == 1) {
				return n;
			}
		}
		/* server, then its answer reaches the client */
		if (SSL_do_handshake(s) == 1 && SSL_read(s, &b, 1) == 1)
			(void)SSL_write(s, "!", 1);
		n++;
		if (n > 10)
			abort();
	}
}

static int pair_rounds(SSL *c, SSL *s, bool wait_ticket)
{
	BIO *bc = NULL, *bs = NULL;

	if (BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		abort();
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	SSL_set_tlsext_host_name(c, "saf.test");
	return rounds(c, s, wait_ticket);
}

int main(int argc, char **argv)
{
	int n = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 200 : 1000;
	enum { ROUNDS = 5 };
	saf_tls_server_config scfg;
	saf_tls_client_config ccfg;
	saf_tls_server *srv;
	saf_tls_client *cli;
	saf_tls_offer *offers = calloc((size_t)n * ROUNDS, sizeof(*offers));
	double tf[ROUNDS], tp[ROUNDS], tm[ROUNDS], ratio[ROUNDS];
	saf_tls_server_counters k;

	harness_init(&H);
	sctx = harness_server_ctx(&H);
	cctx = harness_client_ctx(&H);
	SSL_CTX_set_num_tickets(sctx, 1);
	saf_tls_server_config_init(&scfg);
	memset(scfg.node_key, 3, sizeof(scfg.node_key));
	scfg.replay_entries = (size_t)n * ROUNDS * 2;
	srv = saf_tls_server_new(sctx, &scfg, NULL);
	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	cli = saf_tls_client_new(cctx, &ccfg, NULL);
	if (!srv || !cli || !offers)
		abort();

	/* Tokens are single use: one fresh offer per migration resumption,
	 * made by full handshakes that are timed as the full-handshake
	 * rate. */
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = cpu_now();

		for (int i = 0; i < n; i++)
			full(&offers[r * n + i]);
		tf[r] = cpu_now() - t0;
	}
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = cpu_now();

		for (int i = 0; i < n; i++)
			resume(&offers[r * n + i], false);
		tp[r] = cpu_now() - t0;
		t0 = cpu_now();
		for (int i = 0; i < n; i++)
			resume(&offers[r * n + i], true);
		tm[r] = cpu_now() - t0;
		ratio[r] = tm[r] / tp[r];
	}
	saf_tls_server_counters_get(srv, &k);
	if (k.migrations_accepted != (uint64_t)n * ROUNDS)
		abort(); /* every migration verified and accepted */
	qsort(tf, ROUNDS, sizeof(double), cmp_double);
	qsort(tp, ROUNDS, sizeof(double), cmp_double);
	qsort(tm, ROUNDS, sizeof(double), cmp_double);
	qsort(ratio, ROUNDS, sizeof(double), cmp_double);

	printf("| path (client and server, one thread) | handshakes/s | CPU "
	       "us/handshake |\n");
	printf("|---|---:|---:|\n");
	printf("| full handshake, token issued | %.0f | %.1f |\n",
	       n / tf[ROUNDS / 2], tf[ROUNDS / 2] / n * 1e6);
	printf("| plain resumption (baseline) | %.0f | %.1f |\n",
	       n / tp[ROUNDS / 2], tp[ROUNDS / 2] / n * 1e6);
	printf("| migration resumption, token verified | %.0f | %.1f |\n",
	       n / tm[ROUNDS / 2], tm[ROUNDS / 2] / n * 1e6);
	printf("\nMigration over plain resumption: %+.1f%% CPU (median of %d "
	       "interleaved rounds of %d; range %+.1f%% .. %+.1f%%; target <= "
	       "+5%%)\n",
	       (ratio[ROUNDS / 2] - 1) * 100, ROUNDS, n, (ratio[0] - 1) * 100,
	       (ratio[ROUNDS - 1] - 1) * 100);

	/* Round trips. TCP adds one per connection (SYN, SYN-ACK). */
	{
		saf_tls_offer o;
		SSL *c = SSL_new(cctx), *s = server_new(true);
		int plain_tls, s_tls, u_tls;

		plain_tls = pair_rounds(c, s, false);
		SSL_free(c);
		SSL_free(s);
		c = SSL_new(cctx);
		s = server_new(true);
		s_tls = pair_rounds(c, s, true);
		if (saf_tls_client_offer(c, &o) != 1)
			abort();
		SSL_free(c);
		SSL_free(s);
		c = SSL_new(cctx);
		s = server_new(false);
		SSL_set_session(c, o.session);
		if (saf_tls_client_present_token(c, o.token, o.token_len, NULL))
			abort();
		u_tls = pair_rounds(c, s, false);
		SSL_free(c);
		SSL_free(s);
		saf_tls_offer_clear(&o);
		printf("\n| to the first application byte | round trips |\n");
		printf("|---|---:|\n");
		printf("| plain TLS 1.3 to S (TCP 1 + TLS and request %d) | %d "
		       "|\n",
		       plain_tls, 1 + plain_tls);
		printf("| seed procedure: TCP 1 + TLS to S until the token %d "
		       "+ "
		       "TCP 1 + resumption and request %d | %d |\n",
		       s_tls, u_tls, 2 + s_tls + u_tls);
	}
	for (int i = 0; i < n * ROUNDS; i++)
		saf_tls_offer_clear(&offers[i]);
	free(offers);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	saf_tls_server_free(srv);
	saf_tls_client_free(cli);
	harness_free(&H);
	return 0;
}
