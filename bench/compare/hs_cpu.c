/* SPDX-License-Identifier: MIT */
/*
 * hs_cpu: handshake CPU per connection, client and server side apart, of
 * the two ways a saf TLS client reaches a node's unicast address U:
 *
 *   tls-over-saf-tcp  the TCP advert moved the client to U before its
 *                     ClientHello: one full handshake at U (the node still
 *                     issues a ticket with a token, for migrate_notify)
 *   seed              the seed procedure: full handshake at S (ticket with
 *                     a token), then a resumption at U presenting the
 *                     token (verified, nonce recorded, psk_dhe_ke)
 *
 *   bench_hs_cpu [N] [ROUNDS]    (default 1000 connections, 5 rounds)
 *
 * In memory (BIO pairs, one thread) with the real saf_tls client and
 * server objects, so only TLS is measured: no TCP, no eBPF (those are in
 * figure 5 and bench/tcp). Each side's calls are timed with the thread's
 * CPU clock, so client and server CPU are apart. Both procedures run in
 * interleaved rounds; the medians over rounds are printed as Markdown.
 * Every ticket is delivered and read by the client, as on a real
 * connection; every migration must be accepted (checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/opensslv.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

enum { CLIENT, SERVER };

static SSL_CTX *sctx, *cctx;
static saf_addr u_addr;
static double side_us[2]; /* CPU of the current procedure, per side */

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The node: tokens for U in its tickets (as `saf tls serve` on S and on
 * U), its local address U. */
static SSL *server_new(void)
{
	SSL *s = SSL_new(sctx);

	if (!s || saf_tls_server_set_target(s, &u_addr, NULL) ||
	    saf_tls_server_set_local(s, &u_addr, NULL))
		abort();
	return s;
}

/* Runs both ends over a BIO pair until both handshakes are done and every
 * record (the tickets too) has been read; each side's time to its own
 * account. */
static void drive(SSL *c, SSL *s)
{
	BIO *bc = NULL, *bs = NULL;
	char b;

	if (BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		abort();
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	SSL_set_tlsext_host_name(c, "saf.test");
	for (int i = 0; i < 20; i++) {
		double t = cpu_us();
		int rc = SSL_do_handshake(c);

		if (rc == 1)
			(void)SSL_peek(c, &b, 1); /* reads the tickets */
		side_us[CLIENT] += cpu_us() - t;
		t = cpu_us();
		int rs = SSL_do_handshake(s);

		side_us[SERVER] += cpu_us() - t;
		if (rc == 1 && rs == 1 && BIO_ctrl_pending(bc) == 0 &&
		    BIO_ctrl_pending(bs) == 0)
			return;
	}
	abort(); /* a handshake that does not finish is a bug here */
}

static void full(saf_tls_offer *keep)
{
	SSL *c = SSL_new(cctx), *s = server_new();

	drive(c, s);
	if (keep && saf_tls_client_offer(c, keep) != 1)
		abort();
	SSL_free(c);
	SSL_free(s);
}

static void resume_with_token(const saf_tls_offer *o)
{
	SSL *c = SSL_new(cctx), *s = server_new();

	SSL_set_session(c, o->session);
	if (saf_tls_client_present_token(c, o->token, o->token_len, NULL))
		abort();
	drive(c, s);
	if (!SSL_session_reused(c))
		abort();
	SSL_free(c);
	SSL_free(s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	saf_tls_server_config scfg;
	saf_tls_client_config ccfg;
	saf_tls_server_counters k;
	saf_tls_server *srv;
	saf_tls_client *cli;
	harness h;
	double *a_c, *a_s, *b_c, *b_s;

	if (n < 1 || rounds < 1 || rounds > 99) {
		fprintf(stderr, "usage: bench_hs_cpu [N] [ROUNDS]\n");
		return 2;
	}
	a_c = calloc((size_t)rounds * 4, sizeof(double));
	if (!a_c || saf_addr_parse("127.0.0.42:7443", true, &u_addr, NULL))
		abort();
	a_s = a_c + rounds, b_c = a_s + rounds, b_s = b_c + rounds;
	harness_init(&h);
	sctx = harness_server_ctx(&h);
	cctx = harness_client_ctx(&h);
	saf_tls_server_config_init(&scfg);
	memset(scfg.node_key, 3, sizeof(scfg.node_key));
	scfg.replay_entries = (size_t)n * (size_t)rounds * 2;
	srv = saf_tls_server_new(sctx, &scfg, NULL);
	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	cli = saf_tls_client_new(cctx, &ccfg, NULL);
	if (!srv || !cli)
		abort();
	for (int r = 0; r < rounds; r++) {
		saf_tls_offer o;

		memset(side_us, 0, sizeof(side_us));
		for (int i = 0; i < n; i++)
			full(NULL);
		a_c[r] = side_us[CLIENT] / n;
		a_s[r] = side_us[SERVER] / n;
		memset(side_us, 0, sizeof(side_us));
		for (int i = 0; i < n; i++) {
			full(&o);
			resume_with_token(&o);
			saf_tls_offer_clear(&o);
		}
		b_c[r] = side_us[CLIENT] / n;
		b_s[r] = side_us[SERVER] / n;
	}
	saf_tls_server_counters_get(srv, &k);
	if (k.migrations_accepted != (uint64_t)n * (uint64_t)rounds)
		abort(); /* every seed resumption verified and accepted */
	qsort(a_c, (size_t)rounds, sizeof(double), cmp_double);
	qsort(a_s, (size_t)rounds, sizeof(double), cmp_double);
	qsort(b_c, (size_t)rounds, sizeof(double), cmp_double);
	qsort(b_s, (size_t)rounds, sizeof(double), cmp_double);
	printf("%s; P-256 certificate; %d rounds of %d connections per "
	       "procedure, interleaved; medians\n\n",
	       OPENSSL_VERSION_TEXT, rounds, n);
	printf("| procedure (CPU us per connection) | client | server | "
	       "both |\n|---|---:|---:|---:|\n");
	printf("| TLS over saf TCP: one full handshake at U | %.0f | %.0f | "
	       "%.0f |\n",
	       a_c[rounds / 2], a_s[rounds / 2],
	       a_c[rounds / 2] + a_s[rounds / 2]);
	printf("| seed: full at S + resumption with token at U | %.0f | %.0f "
	       "| %.0f |\n",
	       b_c[rounds / 2], b_s[rounds / 2],
	       b_c[rounds / 2] + b_s[rounds / 2]);
	printf("\nTLS over saf TCP / seed: client %.2f, server %.2f\n",
	       a_c[rounds / 2] / b_c[rounds / 2],
	       a_s[rounds / 2] / b_s[rounds / 2]);
	free(a_c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	saf_tls_server_free(srv);
	saf_tls_client_free(cli);
	harness_free(&h);
	return 0;
}
