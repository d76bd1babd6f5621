/* SPDX-License-Identifier: MIT */
/*
 * The node proxy as a library object (src/tls/serve*.c, saf/tls_node.h),
 * over loopback: a saf_tls_node in a thread, driven by saf_tls_node_poll,
 * its backend a socket pair this test echoes on; a saf_tls_stream client
 * in the test's thread. The node's clock is injected
 * (saf_tls_server_config.clock), so half a token lifetime passes at once.
 *
 * The token lifetime has one source: a continuity stream older than half
 * of it gets a fresh token, also with token_lifetime_s 0 (the default,
 * 600 s: before, the refresh was off while 600 s tokens were minted, so a
 * long stream outlived its way back); not before half of it. And the
 * config's refusals.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "saf/clock.h"
#include "saf/tls.h"
#include "saf/tls_node.h"
#include "tls/node_fixture.h"
#include "tls/tls_harness.h"

#define WAIT_MS 30000u /* ends when met; generous for valgrind */

static harness H;

static uint64_t tokens_issued(node_job *j)
{
	saf_tls_node_counters k;

	node_counters(j, &k);
	return k.server.tokens_issued;
}

typedef struct client {
	SSL_CTX *ctx;
	saf_tls_client *cli;
	saf_tls_stream *st;
	uint8_t got[64];
	size_t got_len;
} client;

/* Steps the stream until done(c, arg) or wait_ms pass. */
static bool client_until(client *c, bool (*done)(client *, void *), void *arg,
			 uint64_t wait_ms)
{
	uint64_t end = saf_clock_mono_ms() + wait_ms;
	saf_error e = {0};

	while (saf_clock_mono_ms() < end) {
		struct pollfd p[2];
		int np;

		if (saf_tls_stream_step(c->st, &e))
			fail_msg("stream: %s", e.msg);
		c->got_len += saf_tls_stream_read(c->st, c->got + c->got_len,
						  sizeof(c->got) - c->got_len);
		if (done(c, arg))
			return true;
		np = saf_tls_stream_pollfds(c->st, p);
		(void)poll(p, (nfds_t)np, 20);
	}
	return false;
}

static bool echoed_and_moved(client *c, void *arg)
{
	saf_tls_stream_stats k;

	(void)arg;
	saf_tls_stream_stats_get(c->st, &k);
	return c->got_len == 5 && k.moves >= 1;
}

static bool tokens_above(client *c, void *arg)
{
	(void)c;
	return tokens_issued(((void **)arg)[0]) >
	       *(uint64_t *)((void **)arg)[1];
}

/* A stream on S that moved to U and echoed "hello". */
static void client_start(client *c, const saf_tls_node *n)
{
	saf_tls_client_config ccfg;
	saf_tls_stream_opts so = {
		.conn = {.server_name = "saf.test",
			 .ticket_wait_ms = 2000,
			 .migrate = true},
	};
	saf_tls_conn conn;
	saf_addr s;
	saf_error e = {0};

	memset(c, 0, sizeof(*c));
	c->ctx = harness_client_ctx(&H);
	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	ccfg.continuity = true;
	c->cli = saf_tls_client_new(c->ctx, &ccfg, &e);
	assert_non_null(c->cli);
	assert_int_equal(saf_tls_node_listen_addr(n, 0, &s), 0);
	memset(&conn, 0, sizeof(conn));
	if (saf_tls_connect(c->ctx, &s, &so.conn, &conn, &e))
		fail_msg("saf_tls_connect: %s", e.msg);
	assert_int_equal(conn.outcome, SAF_TLS_ON_S_CONTINUITY);
	c->st = saf_tls_stream_new(c->ctx, &so, &conn, &e);
	assert_non_null(c->st);
	assert_int_equal(
		saf_tls_stream_write(c->st, (const uint8_t *)"hello", 5), 5);
	assert_true(client_until(c, echoed_and_moved, NULL, WAIT_MS));
	assert_memory_equal(c->got, "hello", 5);
}

static void client_stop(client *c)
{
	saf_tls_stream_free(c->st);
	SSL_CTX_free(c->ctx);
	saf_tls_client_free(c->cli);
}

/* The node's clock jumps by skip_s; whether a fresh token follows within
 * wait_ms (the node looks at its streams when its clock's second
 * changes: at once). */
static bool fresh_token_after(node_job *j, client *c, uint64_t skip_s,
			      uint64_t wait_ms)
{
	uint64_t before;
	void *arg[2] = {j, &before};

	node_settle(j);
	before = tokens_issued(j);
	atomic_fetch_add(&j->now_s, skip_s);
	return client_until(c, tokens_above, arg, wait_ms);
}

static void run_refresh(uint32_t lifetime_s, uint32_t effective_s)
{
	SSL_CTX *sctx = harness_server_ctx(&H);
	node_job j;
	client c;

	node_start(&j, sctx, lifetime_s);
	client_start(&c, j.n);
	/* Before half the lifetime: no new token. */
	assert_false(fresh_token_after(&j, &c, effective_s / 2u - 10u, 1000));
	/* Past it: one, so the client can always come back. */
	assert_true(fresh_token_after(&j, &c, 20u, WAIT_MS));
	client_stop(&c);
	node_stop(&j);
	SSL_CTX_free(sctx);
}

static void test_refresh_default_lifetime(void **state)
{
	(void)state;
	/* 0: the default, for the tokens and the refresh alike. */
	run_refresh(0, SAF_TOKEN_LIFETIME_DEFAULT_S);
}

static void test_refresh_given_lifetime(void **state)
{
	(void)state;
	run_refresh(100, 100);
}

static void test_config_refused(void **state)
{
	SSL_CTX *ctx = harness_server_ctx(&H);
	saf_tls_node_config cfg;
	saf_error e = {0};

	(void)state;
	saf_tls_node_config_init(&cfg);
	assert_null(saf_tls_node_new(ctx, &cfg, &e));
	assert_non_null(strstr(e.msg, "pairs"));
	assert_int_equal(
		saf_addr_parse("127.0.0.1", false, &cfg.pairs[0].anycast, &e),
		0);
	cfg.pairs[0].anycast.has_port = true;
	cfg.pairs[0].unicast = cfg.pairs[0].anycast;
	cfg.n_pairs = 1;
	assert_null(saf_tls_node_new(ctx, &cfg, &e));
	assert_non_null(strstr(e.msg, "backend"));
	SSL_CTX_free(ctx);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	harness_init(&H);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_free(&H);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_default_lifetime),
		cmocka_unit_test(test_refresh_given_lifetime),
		cmocka_unit_test(test_config_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
