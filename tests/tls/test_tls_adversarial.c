/* SPDX-License-Identifier: MIT */
/*
 * Adversarial token cases that need the TLS layer (issue 8), over real
 * in-memory TLS 1.3 handshakes: a token replayed at a sibling node (same
 * key file, its own replay cache), expired by one second at the node's
 * injected clock, and a full replay cache at the node (fails closed,
 * counted). The byte-level matrix is tests/unit/test_token_adversarial.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

static harness H;
static uint64_t fake_now;

static uint64_t test_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static const uint8_t NK[SAF_NODE_KEY_LEN] = {0x61, 0x64, 0x76};
static const uint8_t TK[SAF_TLS_TICKET_KEYS_LEN] = {0x74, 0x6b};

/* Node A and sibling B: each reached on its own unicast address. */
#define S_ADDR "127.0.0.50:25443"
#define A_ADDR "127.0.0.51:25443"
#define B_ADDR "127.0.0.52:25443"

typedef struct node {
	SSL_CTX *ctx;
	saf_tls_server *srv;
} node;

static saf_addr addr(const char *text)
{
	saf_addr a;

	assert_int_equal(saf_addr_parse(text, true, &a, NULL), 0);
	return a;
}

/* Every node loads the same key file (same node and ticket keys) and has
 * its own replay cache of `replay` entries. */
static node node_new(size_t replay)
{
	saf_tls_server_config cfg;
	saf_error e = {0};
	node n;

	saf_tls_server_config_init(&cfg);
	memcpy(cfg.node_key, NK, sizeof(NK));
	memcpy(cfg.ticket_keys, TK, sizeof(TK));
	cfg.has_ticket_keys = true;
	cfg.token_lifetime_s = 60;
	cfg.replay_entries = replay;
	cfg.clock = test_clock;
	n.ctx = harness_server_ctx(&H);
	n.srv = saf_tls_server_new(n.ctx, &cfg, &e);
	if (!n.srv)
		fail_msg("%s", e.msg);
	return n;
}

/* A node after a key rotation: a new node key NK2, the old NK kept as a
 * previous key until `retire` (n_prev 0: no overlap at all). */
static const uint8_t NK2[SAF_NODE_KEY_LEN] = {0x6e, 0x6b, 0x32};

static node node_rotated(size_t n_prev, uint64_t retire)
{
	saf_tls_server_config cfg;
	saf_error e = {0};
	node n;

	saf_tls_server_config_init(&cfg);
	memcpy(cfg.node_key, NK2, sizeof(NK2));
	memcpy(cfg.prev_node_keys[0].node_key, NK, sizeof(NK));
	cfg.prev_node_keys[0].retire = retire;
	cfg.n_prev_node_keys = n_prev;
	memcpy(cfg.ticket_keys, TK, sizeof(TK));
	cfg.has_ticket_keys = true;
	cfg.token_lifetime_s = 60;
	cfg.replay_entries = 64;
	cfg.clock = test_clock;
	n.ctx = harness_server_ctx(&H);
	n.srv = saf_tls_server_new(n.ctx, &cfg, &e);
	if (!n.srv)
		fail_msg("%s", e.msg);
	return n;
}

static void node_free(node *n)
{
	SSL_CTX_free(n->ctx);
	saf_tls_server_free(n->srv);
}

typedef struct client {
	SSL_CTX *ctx;
	saf_tls_client *cli;
} client;

static client client_new(void)
{
	saf_tls_client_config cfg;
	saf_error e = {0};
	client c = {.ctx = harness_client_ctx(&H)};

	saf_tls_client_config_init(&cfg);
	cfg.allow_loopback_targets = true;
	c.cli = saf_tls_client_new(c.ctx, &cfg, &e);
	if (!c.cli)
		fail_msg("%s", e.msg);
	return c;
}

static void client_free(client *c)
{
	SSL_CTX_free(c->ctx);
	saf_tls_client_free(c->cli);
}

/* First contact on S at node n: a ticket with a token for `target`. */
static void get_offer(node *n, client *c, const char *target, saf_tls_offer *o)
{
	saf_addr t = addr(target), s = addr(S_ADDR);
	SSL *cs = SSL_new(c->ctx), *ss = SSL_new(n->ctx);
	saf_error e;

	assert_int_equal(saf_tls_server_set_target(ss, &t, &e), 0);
	assert_int_equal(saf_tls_server_set_local(ss, &s, &e), 0);
	assert_true(harness_handshake(cs, ss));
	harness_pump(cs, ss);
	assert_int_equal(saf_tls_client_offer(cs, o), 1);
	SSL_free(cs);
	SSL_free(ss);
}

/* Resumes o at node n reached on `local`, presenting o's token. Returns
 * whether the node accepted; *info is the node's view, *alert what the
 * client received. */
static bool resume(node *n, client *c, const saf_tls_offer *o,
		   const char *local, saf_tls_conn_info *info, int *alert)
{
	saf_addr l = addr(local);
	SSL_SESSION *dup = SSL_SESSION_dup(o->session);
	SSL *cs = SSL_new(c->ctx), *ss = SSL_new(n->ctx);
	saf_error e;
	bool ok;

	assert_int_equal(SSL_set_session(cs, dup), 1);
	SSL_SESSION_free(dup);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	assert_int_equal(
		saf_tls_client_present_token(cs, o->token, o->token_len, &e),
		0);
	ok = harness_handshake(cs, ss);
	/* The ticket resumed either way: a refusal is the token's. */
	assert_true(SSL_session_reused(ss));
	assert_int_equal(saf_tls_server_conn_info(ss, info), 0);
	*alert = saf_tls_client_alert_received(cs);
	SSL_free(cs);
	SSL_free(ss);
	return ok;
}

static void expect_verdict(node *n, client *c, const saf_tls_offer *o,
			   const char *local, saf_verdict v)
{
	saf_tls_conn_info info;
	int alert;

	assert_false(resume(n, c, o, local, &info, &alert));
	assert_false(info.migrated);
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_VERDICT);
	if (info.verdict != v)
		fail_msg("verdict %s, want %s", saf_verdict_name(info.verdict),
			 saf_verdict_name(v));
	assert_int_equal(alert & 0xff, SSL_AD_ACCESS_DENIED);
}

/* A token redeemed at A, replayed at sibling B: B shares the key file, so
 * the ticket resumes and the signature verifies, but B's replay cache has
 * never seen the nonce. B refuses because the token names A's address,
 * not the one the connection reached B on. */
static void test_replay_at_sibling_refused_by_target(void **state)
{
	node a = node_new(64), b = node_new(64);
	client c = client_new();
	saf_tls_server_counters ka, kb;
	saf_tls_conn_info info;
	saf_tls_offer o;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&a, &c, A_ADDR, &o);
	assert_true(resume(&a, &c, &o, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	/* Replayed at A: its cache knows the nonce. */
	expect_verdict(&a, &c, &o, A_ADDR, SAF_TOKEN_REPLAYED);
	/* Replayed at B, reached on B's own address. */
	expect_verdict(&b, &c, &o, B_ADDR, SAF_TOKEN_WRONG_TARGET);
	expect_verdict(&b, &c, &o, B_ADDR, SAF_TOKEN_WRONG_TARGET);
	saf_tls_server_counters_get(a.srv, &ka);
	saf_tls_server_counters_get(b.srv, &kb);
	assert_int_equal(ka.migrations_accepted, 1);
	assert_int_equal(ka.refused_verdict[SAF_TOKEN_REPLAYED], 1);
	assert_int_equal(kb.migrations_accepted, 0);
	assert_int_equal(kb.refused_verdict[SAF_TOKEN_WRONG_TARGET], 2);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&a);
	node_free(&b);
}

/* Node key rotation while a client holds a token minted with the old key:
 * within the overlap it still migrates (and the token is then spent);
 * after the overlap it is refused as retired_node_key, not as a forgery;
 * without an overlap (the old behaviour) every such token was a bad
 * signature. Tokens minted after the rotation use the new key. */
static void test_node_key_rotation_overlap(void **state)
{
	node old = node_new(64), during = node_rotated(1, 1060),
	     after = node_rotated(1, 1020), none = node_rotated(0, 0);
	client c = client_new();
	saf_tls_conn_info info;
	saf_tls_offer o, fresh;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&old, &c, A_ADDR, &o);
	fake_now = 1030;
	expect_verdict(&none, &c, &o, A_ADDR, SAF_TOKEN_BAD_SIGNATURE);
	assert_false(resume(&after, &c, &o, A_ADDR, &info, &alert));
	assert_false(info.migrated);
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_RETIRED_KEY);
	assert_string_equal(saf_tls_refusal_name(info.refusal),
			    "retired_node_key");
	assert_int_equal(alert & 0xff, SSL_AD_ACCESS_DENIED);
	assert_true(resume(&during, &c, &o, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	/* Spent: the previous key's tokens go through the replay cache. */
	expect_verdict(&during, &c, &o, A_ADDR, SAF_TOKEN_REPLAYED);
	/* New tokens: signed with NK2, refused by a node that only has NK. */
	get_offer(&during, &c, A_ADDR, &fresh);
	assert_true(resume(&after, &c, &fresh, A_ADDR, &info, &alert));
	expect_verdict(&old, &c, &fresh, A_ADDR, SAF_TOKEN_BAD_SIGNATURE);
	saf_tls_offer_clear(&o);
	saf_tls_offer_clear(&fresh);
	client_free(&c);
	node_free(&old);
	node_free(&during);
	node_free(&after);
	node_free(&none);
}

static void test_expired_by_one_second(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_tls_conn_info info;
	saf_tls_offer o;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, A_ADDR, &o);
	assert_int_equal(o.expiry, 1060);
	fake_now = o.expiry + 1;
	expect_verdict(&n, &c, &o, A_ADDR, SAF_TOKEN_EXPIRED);
	fake_now = o.expiry;
	expect_verdict(&n, &c, &o, A_ADDR, SAF_TOKEN_EXPIRED);
	fake_now = o.expiry - 1;
	assert_true(resume(&n, &c, &o, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* A node whose replay cache holds one live nonce: the second migration is
 * refused (fail closed) and counted, until the first nonce expires. */
static void test_replay_cache_full_at_node(void **state)
{
	node n = node_new(1);
	client c = client_new();
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer first, second;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, A_ADDR, &first);
	fake_now = 1010; /* the second expires ten seconds later */
	get_offer(&n, &c, A_ADDR, &second);
	assert_true(resume(&n, &c, &first, A_ADDR, &info, &alert));
	expect_verdict(&n, &c, &second, A_ADDR, SAF_TOKEN_REPLAY_FULL);
	expect_verdict(&n, &c, &second, A_ADDR, SAF_TOKEN_REPLAY_FULL);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_REPLAY_FULL], 2);
	assert_int_equal(k.migrations_accepted, 1);
	/* The first nonce expires: room again, and the second gets in. */
	fake_now = first.expiry;
	assert_true(resume(&n, &c, &second, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	saf_tls_offer_clear(&first);
	saf_tls_offer_clear(&second);
	client_free(&c);
	node_free(&n);
}

static int setup(void **state)
{
	(void)state;
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
		cmocka_unit_test(test_replay_at_sibling_refused_by_target),
		cmocka_unit_test(test_expired_by_one_second),
		cmocka_unit_test(test_node_key_rotation_overlap),
		cmocka_unit_test(test_replay_cache_full_at_node),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
