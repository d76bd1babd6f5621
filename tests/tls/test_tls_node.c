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
#include "tls/tls_harness.h"

#define MAX_ECHO 8
#define T0	 1800000000u /* the node's clock at the start, Unix s */
#define WAIT_MS	 30000u	     /* ends when met; generous for valgrind */

static harness H;

typedef struct node_job {
	saf_tls_node *n;
	atomic_bool stop;
	_Atomic uint64_t now_s; /* the node's clock */
	pthread_mutex_t mu;
	saf_tls_node_counters k; /* after the last round, under mu */
	atomic_uint rounds;	 /* rounds published */
	int echo[MAX_ECHO];
} node_job;

static uint64_t fake_clock(void *arg)
{
	node_job *j = arg;

	return atomic_load(&j->now_s);
}

/* The node's backend: a socket pair, the other end echoed by the
 * node's thread. */
static int open_echo(void *arg, SSL *ssl, saf_error *err)
{
	node_job *j = arg;
	int sv[2];

	(void)ssl;
	for (int i = 0; i < MAX_ECHO; i++) {
		if (j->echo[i] >= 0)
			continue;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
			break;
		j->echo[i] = sv[1];
		return sv[0];
	}
	return saf_fail(err, SAF_E_NOMEM, "echo: no room");
}

static void echo_all(node_job *j)
{
	uint8_t b[4096];

	for (int i = 0; i < MAX_ECHO; i++) {
		ssize_t r;

		if (j->echo[i] < 0)
			continue;
		r = read(j->echo[i], b, sizeof(b));
		/* Small writes into an empty pair: they fit. */
		if (r > 0 && write(j->echo[i], b, (size_t)r) == r)
			continue;
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			close(j->echo[i]);
			j->echo[i] = -1;
		}
	}
}

static void *node_thread(void *arg)
{
	node_job *j = arg;
	saf_error e = {0};

	while (!atomic_load(&j->stop)) {
		if (saf_tls_node_poll(j->n, 20, &e))
			break;
		echo_all(j);
		pthread_mutex_lock(&j->mu);
		saf_tls_node_counters_get(j->n, &j->k);
		pthread_mutex_unlock(&j->mu);
		atomic_fetch_add(&j->rounds, 1);
	}
	return NULL;
}

/* Two whole rounds of the node after now: the counters published then
 * include all it did for what the client did before. */
static void settle(node_job *j)
{
	unsigned r0 = atomic_load(&j->rounds);

	while (atomic_load(&j->rounds) < r0 + 2u)
		usleep(1000);
}

static uint64_t tokens_issued(node_job *j)
{
	uint64_t t;

	pthread_mutex_lock(&j->mu);
	t = j->k.server.tokens_issued;
	pthread_mutex_unlock(&j->mu);
	return t;
}

/* A node on 127.0.0.1 (S) and 127.0.0.2 (U), any ports, with continuity
 * and the given token lifetime. */
static void node_start(node_job *j, SSL_CTX *ctx, uint32_t lifetime_s)
{
	saf_tls_node_config cfg;
	saf_error e = {0};

	memset(j, 0, sizeof(*j));
	for (int i = 0; i < MAX_ECHO; i++)
		j->echo[i] = -1;
	pthread_mutex_init(&j->mu, NULL);
	atomic_store(&j->now_s, T0);
	saf_tls_node_config_init(&cfg);
	memset(cfg.server.node_key, 7, sizeof(cfg.server.node_key));
	cfg.server.token_lifetime_s = lifetime_s;
	cfg.server.clock = fake_clock;
	cfg.server.clock_arg = j;
	assert_int_equal(
		saf_addr_parse("127.0.0.1", false, &cfg.pairs[0].anycast, &e),
		0);
	assert_int_equal(
		saf_addr_parse("127.0.0.2", false, &cfg.pairs[0].unicast, &e),
		0);
	/* Any ports: the kernel's (saf_tls_node_listen_addr). */
	cfg.pairs[0].anycast.has_port = cfg.pairs[0].unicast.has_port = true;
	cfg.n_pairs = 1;
	cfg.backend_fn = open_echo;
	cfg.backend_arg = j;
	j->n = saf_tls_node_new(ctx, &cfg, &e);
	if (!j->n)
		fail_msg("saf_tls_node_new: %s", e.msg);
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

static void node_stop(node_job *j, pthread_t t)
{
	atomic_store(&j->stop, true);
	pthread_join(t, NULL);
	saf_tls_node_free(j->n);
	for (int i = 0; i < MAX_ECHO; i++)
		if (j->echo[i] >= 0)
			close(j->echo[i]);
	pthread_mutex_destroy(&j->mu);
}

/* The node's clock jumps by skip_s; whether a fresh token follows within
 * wait_ms (the node looks at its streams when its clock's second
 * changes: at once). */
static bool fresh_token_after(node_job *j, client *c, uint64_t skip_s,
			      uint64_t wait_ms)
{
	uint64_t before;
	void *arg[2] = {j, &before};

	settle(j);
	before = tokens_issued(j);
	atomic_fetch_add(&j->now_s, skip_s);
	return client_until(c, tokens_above, arg, wait_ms);
}

static void run_refresh(uint32_t lifetime_s, uint32_t effective_s)
{
	SSL_CTX *sctx = harness_server_ctx(&H);
	node_job j;
	client c;
	pthread_t t;

	node_start(&j, sctx, lifetime_s);
	assert_int_equal(pthread_create(&t, NULL, node_thread, &j), 0);
	client_start(&c, j.n);
	/* Before half the lifetime: no new token. */
	assert_false(fresh_token_after(&j, &c, effective_s / 2u - 10u, 1000));
	/* Past it: one, so the client can always come back. */
	assert_true(fresh_token_after(&j, &c, 20u, WAIT_MS));
	client_stop(&c);
	node_stop(&j, t);
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
