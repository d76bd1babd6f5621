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
#include <pthread.h>

#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

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
 * its own replay cache of `replay` entries, or shares `shared`. */
static node node_new_with(size_t replay, saf_replay_cache *shared)
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
	cfg.replay = shared;
	cfg.clock = test_clock;
	n.ctx = harness_server_ctx(&H);
	n.srv = saf_tls_server_new(n.ctx, &cfg, &e);
	if (!n.srv)
		fail_msg("%s", e.msg);
	return n;
}

static node node_new(size_t replay)
{
	return node_new_with(replay, NULL);
}

static node node_new_shared(saf_replay_cache *shared)
{
	return node_new_with(0, shared);
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
static bool resume_from(node *n, client *c, const saf_tls_offer *o,
			const char *local, const char *peer,
			saf_tls_conn_info *info, int *alert)
{
	saf_addr l = addr(local);
	SSL_SESSION *dup = SSL_SESSION_dup(o->session);
	SSL *cs = SSL_new(c->ctx), *ss = SSL_new(n->ctx);
	saf_error e;
	bool ok;

	assert_int_equal(SSL_set_session(cs, dup), 1);
	SSL_SESSION_free(dup);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	if (peer) {
		saf_addr p = addr(peer);

		assert_int_equal(saf_tls_server_set_peer(ss, &p, &e), 0);
	}
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

static bool resume(node *n, client *c, const saf_tls_offer *o,
		   const char *local, saf_tls_conn_info *info, int *alert)
{
	return resume_from(n, c, o, local, NULL, info, alert);
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

/* Counts the ClientHellos a client writes: two means a HelloRetryRequest
 * came between them. */
static int client_hellos;

static void count_client_hellos(int write_p, int version, int content_type,
				const void *buf, size_t len, SSL *ssl,
				void *arg)
{
	(void)version;
	(void)ssl;
	(void)arg;
	if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
	    ((const uint8_t *)buf)[0] == SSL3_MT_CLIENT_HELLO)
		client_hellos++;
}

/* Issue 14: a node restricted to another key-share group answers the
 * client's first ClientHello with a HelloRetryRequest; OpenSSL parses the
 * token again in the second ClientHello. The migration must be accepted,
 * once, with exact counters. */
static void test_hrr_migration_accepted_once(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer o;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, A_ADDR, &o);
	/* The client's first key share is X25519 (OpenSSL's default). */
	assert_int_equal(SSL_CTX_set1_groups_list(n.ctx, "P-256"), 1);
	assert_int_equal(SSL_CTX_set1_groups_list(c.ctx, "X25519:P-256"), 1);
	SSL_CTX_set_msg_callback(c.ctx, count_client_hellos);
	client_hellos = 0;
	if (!resume(&n, &c, &o, A_ADDR, &info, &alert))
		fail_msg(
			"HRR migration refused: refusal %s verdict %s alert %d",
			saf_tls_refusal_name(info.refusal),
			saf_verdict_name(info.verdict), alert);
	assert_true(info.migrated);
	assert_int_equal(client_hellos, 2); /* there was an HRR */
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.migrations_accepted, 1);
	for (int r = 0; r < SAF_TLS_REFUSE_COUNT; r++)
		assert_int_equal(k.refused[r], 0);
	/* Replayed, still through an HRR: refused once, counted once. */
	expect_verdict(&n, &c, &o, A_ADDR, SAF_TOKEN_REPLAYED);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.migrations_accepted, 1);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_REPLAYED], 1);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* Moves what one BIO pair end holds into another. */
static size_t relay(BIO *from, BIO *to)
{
	uint8_t buf[16384];
	size_t moved = 0;
	int r;

	while ((r = BIO_read(from, buf, sizeof(buf))) > 0) {
		assert_int_equal(BIO_write(to, buf, r), r);
		moved += (size_t)r;
	}
	return moved;
}

/* Issue 14 (low): an observer copies the client's resumption ClientHello
 * and sends it to U first. The node answers, the copy never finishes (the
 * observer has no key), and the real client, whose ClientHello is the
 * same bytes, must still migrate: the nonce is recorded only once a
 * handshake completes. */
static void test_observed_client_hello_replayed_first(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_addr l = addr(A_ADDR);
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer o;
	SSL_SESSION *dup;
	SSL *cs, *ss, *evil;
	BIO *c_near, *c_far, *s_near, *s_far, *e_near, *e_far;
	bool cdone = false, sdone = false;
	saf_error e;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, A_ADDR, &o);
	cs = SSL_new(c.ctx);
	ss = SSL_new(n.ctx);
	evil = SSL_new(n.ctx);
	dup = SSL_SESSION_dup(o.session);
	assert_int_equal(SSL_set_session(cs, dup), 1);
	SSL_SESSION_free(dup);
	assert_int_equal(
		saf_tls_client_present_token(cs, o.token, o.token_len, &e), 0);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	assert_int_equal(saf_tls_server_set_local(evil, &l, &e), 0);
	assert_int_equal(BIO_new_bio_pair(&c_near, 0, &c_far, 0), 1);
	assert_int_equal(BIO_new_bio_pair(&s_near, 0, &s_far, 0), 1);
	assert_int_equal(BIO_new_bio_pair(&e_near, 0, &e_far, 0), 1);
	SSL_set_bio(cs, c_near, c_near);
	SSL_set_bio(ss, s_near, s_near);
	SSL_set_bio(evil, e_near, e_near);
	SSL_set_connect_state(cs);
	SSL_set_accept_state(ss);
	SSL_set_accept_state(evil);
	SSL_set_tlsext_host_name(cs, "saf.test");
	SSL_set1_host(cs, "saf.test");
	/* The client's first flight, copied to the observer's connection
	 * first, then delivered. */
	assert_int_equal(SSL_do_handshake(cs), -1);
	{
		uint8_t ch[16384];
		int len = BIO_read(c_far, ch, sizeof(ch));

		assert_true(len > 0);
		assert_int_equal(BIO_write(e_far, ch, len), len);
		(void)SSL_do_handshake(evil); /* answers; never finishes */
		assert_int_equal(BIO_write(s_far, ch, len), len);
	}
	for (int i = 0; i < 50 && !(cdone && sdone); i++) {
		if (!sdone && SSL_do_handshake(ss) == 1)
			sdone = true;
		relay(s_far, c_far);
		if (!cdone && SSL_do_handshake(cs) == 1)
			cdone = true;
		relay(c_far, s_far);
	}
	assert_int_equal(saf_tls_server_conn_info(ss, &info), 0);
	if (!(cdone && sdone))
		fail_msg("real client refused after an observed copy: refusal "
			 "%s verdict %s",
			 saf_tls_refusal_name(info.refusal),
			 saf_verdict_name(info.verdict));
	assert_true(info.migrated);
	assert_int_equal(saf_tls_server_conn_info(evil, &info), 0);
	assert_false(info.migrated);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.migrations_accepted, 1);
	SSL_free(cs);
	SSL_free(ss);
	SSL_free(evil);
	BIO_free(c_far);
	BIO_free(s_far);
	BIO_free(e_far);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* Issue 14: one migration while the node's clock is a year ahead, then
 * the clock is set back. Fresh tokens must migrate again; the token
 * redeemed a year ahead must never be accepted a second time, whichever
 * way the clock goes next. */
static void test_clock_year_ahead_then_back(void **state)
{
	const uint64_t year = 365ull * 24 * 3600;
	node n = node_new(64);
	client c = client_new();
	saf_tls_conn_info info;
	saf_tls_offer ahead, fresh;
	int alert;

	(void)state;
	fake_now = 1000 + year;
	get_offer(&n, &c, A_ADDR, &ahead);
	assert_true(resume(&n, &c, &ahead, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	fake_now = 1005; /* set back */
	get_offer(&n, &c, A_ADDR, &fresh);
	if (!resume(&n, &c, &fresh, A_ADDR, &info, &alert))
		fail_msg("fresh token after the clock went back: refusal %s "
			 "verdict %s",
			 saf_tls_refusal_name(info.refusal),
			 saf_verdict_name(info.verdict));
	assert_true(info.migrated);
	/* The token of a year ahead, now and after the clock jumps
	 * forward again. */
	expect_verdict(&n, &c, &ahead, A_ADDR, SAF_TOKEN_REPLAYED);
	fake_now = 1000 + year + 1;
	expect_verdict(&n, &c, &ahead, A_ADDR, SAF_TOKEN_REPLAYED);
	fake_now = 1006;
	expect_verdict(&n, &c, &fresh, A_ADDR, SAF_TOKEN_REPLAYED);
	saf_tls_offer_clear(&ahead);
	saf_tls_offer_clear(&fresh);
	client_free(&c);
	node_free(&n);
}

/* Issue 14: a full handshake earns an anonymous client one token, not one
 * per ticket (OpenSSL sends two tickets). */
static void test_one_token_per_handshake(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_tls_server_counters k;
	saf_tls_offer o;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, A_ADDR, &o);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.tokens_issued, 1);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* ---- issue 17: psk_dhe_ke for every migration ------------------------ */

/* HKDF-Expand-Label (RFC 8446 7.1) with SHA-256. */
static void expand_label(const uint8_t secret[32], const char *label,
			 const uint8_t *ctx, size_t ctx_len, uint8_t out[32])
{
	uint8_t info[2 + 1 + 64 + 1 + 64];
	size_t n = 0, ll = 6 + strlen(label);
	EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t outlen = 32;

	info[n++] = 0;
	info[n++] = 32;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll - 6);
	n += ll;
	info[n++] = (uint8_t)ctx_len;
	if (ctx_len)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_derive_init(k), 1);
	assert_int_equal(
		EVP_PKEY_CTX_set_hkdf_mode(k, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY),
		1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(k, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(k, secret, 32), 1);
	assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(k, info, (int)n), 1);
	assert_int_equal(EVP_PKEY_derive(k, out, &outlen), 1);
	EVP_PKEY_CTX_free(k);
}

/* The PSK binder (RFC 8446 4.2.11.2) of a resumption ClientHello whose
 * first `trunc` bytes (handshake header included) it covers. */
static void binder(SSL_SESSION *sess, const uint8_t *ch, size_t trunc,
		   uint8_t out[32])
{
	uint8_t psk[64], zeros[32] = {0}, early[32], bkey[32], fkey[32];
	uint8_t empty_hash[32], th[32];
	size_t psk_len = SSL_SESSION_get_master_key(sess, psk, sizeof(psk));
	unsigned int ml = 32;
	size_t el = 32;
	EVP_PKEY_CTX *k = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);

	assert_int_equal(psk_len, 32);
	assert_int_equal(EVP_PKEY_derive_init(k), 1);
	assert_int_equal(
		EVP_PKEY_CTX_set_hkdf_mode(k, EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY),
		1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(k, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(k, zeros, 32), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(k, psk, (int)psk_len), 1);
	assert_int_equal(EVP_PKEY_derive(k, early, &el), 1);
	EVP_PKEY_CTX_free(k);
	SHA256(NULL, 0, empty_hash);
	expand_label(early, "res binder", empty_hash, 32, bkey);
	expand_label(bkey, "finished", NULL, 0, fkey);
	SHA256(ch, trunc, th);
	assert_non_null(HMAC(EVP_sha256(), fkey, 32, th, 32, out, &ml));
}

/* Finds extension `type` in a ClientHello record; *body and *len its
 * contents. Returns the offset of its type field, or 0. */
static size_t find_ext(uint8_t *rec, size_t rec_len, uint16_t type,
		       uint8_t **body, size_t *len)
{
	size_t p =
		5 + 4 + 2 + 32; /* record, handshake header, version, random */
	size_t end;

	p += 1 + rec[p];			     /* session id */
	p += 2 + (size_t)(rec[p] << 8 | rec[p + 1]); /* cipher suites */
	p += 1 + rec[p];			     /* compression */
	end = p + 2 + (size_t)(rec[p] << 8 | rec[p + 1]);
	assert_true(end <= rec_len);
	for (p += 2; p + 4 <= end;) {
		uint16_t t = (uint16_t)(rec[p] << 8 | rec[p + 1]);
		size_t l = (size_t)(rec[p + 2] << 8 | rec[p + 3]);

		if (t == type) {
			*body = rec + p + 4;
			*len = l;
			return p;
		}
		p += 4 + l;
	}
	return 0;
}

/* Resumes o at n presenting its token, with the ClientHello rewritten to
 * offer psk_ke only (and its binder made again, as a client that offers
 * psk_ke only would). accept_ke: the client takes a psk_ke answer (it
 * set SSL_OP_ALLOW_NO_DHE_KEX after presenting the token, as a client
 * other than saf's may); otherwise the saf client's ClientHello is
 * checked to offer psk_dhe_ke only. The handshake cannot complete (the
 * client hashed its own ClientHello, not the rewritten one, so the keys
 * differ after the ServerHello): what is checked is the node's decision
 * on the ClientHello, *info. Returns whether both handshakes completed. */
static bool resume_psk_ke(node *n, client *c, const saf_tls_offer *o,
			  bool accept_ke, saf_tls_conn_info *info)
{
	saf_addr l = addr(A_ADDR);
	SSL_SESSION *dup = SSL_SESSION_dup(o->session);
	SSL *cs = SSL_new(c->ctx), *ss = SSL_new(n->ctx);
	BIO *c_near, *c_far, *s_near, *s_far;
	uint8_t ch[16384], *modes, *psk;
	size_t modes_len, psk_len, ids, trunc;
	bool cdone = false, sdone = false;
	saf_error e;
	int len;

	assert_int_equal(SSL_set_session(cs, dup), 1);
	assert_int_equal(
		saf_tls_client_present_token(cs, o->token, o->token_len, &e),
		0);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	if (accept_ke)
		SSL_set_options(cs, SSL_OP_ALLOW_NO_DHE_KEX);
	assert_int_equal(BIO_new_bio_pair(&c_near, 0, &c_far, 0), 1);
	assert_int_equal(BIO_new_bio_pair(&s_near, 0, &s_far, 0), 1);
	SSL_set_bio(cs, c_near, c_near);
	SSL_set_bio(ss, s_near, s_near);
	SSL_set_connect_state(cs);
	SSL_set_accept_state(ss);
	SSL_set_tlsext_host_name(cs, "saf.test");
	SSL_set1_host(cs, "saf.test");
	assert_int_equal(SSL_do_handshake(cs), -1);
	len = BIO_read(c_far, ch, sizeof(ch));
	assert_true(len > 9);
	assert_true(find_ext(ch, (size_t)len, 45, &modes, &modes_len));
	if (!accept_ke) {
		/* The saf client offers psk_dhe_ke only when it presents a
		 * token (even with SSL_OP_ALLOW_NO_DHE_KEX on its context). */
		assert_int_equal(modes_len, 2);
		assert_int_equal(modes[0], 1);
		assert_int_equal(modes[1], 1);
	}
	for (size_t i = 1; i < modes_len; i++)
		modes[i] = 0; /* psk_ke */
	assert_true(find_ext(ch, (size_t)len, 41, &psk, &psk_len));
	ids = 2 + (size_t)(psk[0] << 8 | psk[1]);
	assert_int_equal(psk_len, ids + 2 + 1 + 32);
	trunc = (size_t)(psk + ids - ch) - 5;
	binder(dup, ch + 5, trunc, psk + ids + 3);
	SSL_SESSION_free(dup);
	assert_int_equal(BIO_write(s_far, ch, len), len);
	for (int i = 0; i < 50 && !(cdone && sdone); i++) {
		int r = SSL_do_handshake(ss);

		if (r == 1)
			sdone = true;
		else if (SSL_get_error(ss, r) != SSL_ERROR_WANT_READ)
			break;
		relay(s_far, c_far);
		r = SSL_do_handshake(cs);
		if (r == 1)
			cdone = true;
		else if (SSL_get_error(cs, r) != SSL_ERROR_WANT_READ)
			break;
		relay(c_far, s_far);
	}
	relay(s_far, c_far);
	(void)SSL_do_handshake(cs);
	assert_int_equal(saf_tls_server_conn_info(ss, info), 0);
	SSL_free(cs);
	SSL_free(ss);
	BIO_free(c_far);
	BIO_free(s_far);
	return cdone && sdone;
}

/* A node that allows psk_ke resumptions (SSL_OP_ALLOW_NO_DHE_KEX) still
 * refuses a token on one, counted as psk_ke; the same token then migrates
 * with psk_dhe_ke. */
static void test_psk_ke_resumption_refused(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer o;
	int alert;

	(void)state;
	fake_now = 1000;
	/* SHA-256 suites only, so that the test's binder matches. */
	assert_int_equal(
		SSL_CTX_set_ciphersuites(c.ctx, "TLS_AES_128_GCM_SHA256"), 1);
	SSL_CTX_set_options(c.ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_CTX_set_options(n.ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	get_offer(&n, &c, A_ADDR, &o);
	/* The saf client's own ClientHello, made psk_ke: refused. */
	assert_false(resume_psk_ke(&n, &c, &o, false, &info));
	assert_false(info.migrated);
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_PSK_KE);
	/* A client that would complete a psk_ke resumption: refused. */
	assert_false(resume_psk_ke(&n, &c, &o, true, &info));
	if (info.refusal != SAF_TLS_REFUSE_PSK_KE)
		fail_msg("token on a psk_ke resumption not refused (refusal "
			 "%s)",
			 saf_tls_refusal_name(info.refusal));
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.refused[SAF_TLS_REFUSE_PSK_KE], 2);
	assert_int_equal(k.migrations_accepted, 0);
	assert_true(resume(&n, &c, &o, A_ADDR, &info, &alert));
	assert_true(info.migrated);
	/* A node that does not allow psk_ke does not resume at all. */
	SSL_CTX_clear_options(n.ctx, SSL_OP_ALLOW_NO_DHE_KEX);
	saf_tls_offer_clear(&o);
	get_offer(&n, &c, A_ADDR, &o);
	assert_false(resume_psk_ke(&n, &c, &o, true, &info));
	assert_false(info.migrated);
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_NOT_RESUMED);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* Issue 14: one client (one address prefix) redeems tokens as fast as it
 * can; it is held to its share of the replay cache, and another client
 * still migrates. */
static void test_one_source_fills_its_share_other_migrates(void **state)
{
	node n = node_new(64);
	client c = client_new();
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer o;
	int alert, accepted = 0;

	(void)state;
	fake_now = 1000;
	/* Default share: 64 / 8 = 8 live nonces per /24. */
	for (int i = 0; i < 12; i++) {
		get_offer(&n, &c, A_ADDR, &o);
		if (resume_from(&n, &c, &o, A_ADDR, "198.51.100.7:40000", &info,
				&alert))
			accepted++;
		else
			assert_int_equal(info.refusal,
					 SAF_TLS_REFUSE_SOURCE_SHARE);
		saf_tls_offer_clear(&o);
	}
	assert_int_equal(accepted, 8);
	/* Same /24, another address: the same share. */
	get_offer(&n, &c, A_ADDR, &o);
	assert_false(resume_from(&n, &c, &o, A_ADDR, "198.51.100.200:40000",
				 &info, &alert));
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_SOURCE_SHARE);
	assert_int_equal(alert & 0xff, SSL_AD_ACCESS_DENIED);
	saf_tls_offer_clear(&o);
	/* Another client, elsewhere, still migrates. */
	get_offer(&n, &c, A_ADDR, &o);
	assert_true(resume_from(&n, &c, &o, A_ADDR, "203.0.113.9:40000", &info,
				&alert));
	assert_true(info.migrated);
	saf_tls_offer_clear(&o);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.migrations_accepted, 9);
	assert_int_equal(k.refused[SAF_TLS_REFUSE_SOURCE_SHARE], 5);
	/* Once the first tokens expire, the first client gets in again. */
	fake_now = 1000 + 61;
	get_offer(&n, &c, A_ADDR, &o);
	assert_true(resume_from(&n, &c, &o, A_ADDR, "198.51.100.7:40000", &info,
				&alert));
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* Issue 14 (low): threads of one process, each with its own server object
 * and SSL_CTX for the same address, share one replay cache. Both present
 * the same token at the same moment, round after round: exactly one is
 * accepted each time. Run under ASan/TSan too. */
#define RACE_ROUNDS 40

struct racer {
	node *n;
	client *c;
	const saf_tls_offer *o;
	SSL_SESSION *sess;
	pthread_barrier_t *go;
	bool accepted;
};

static void *race_resume(void *arg)
{
	struct racer *r = arg;
	saf_addr l;
	SSL *cs = SSL_new(r->c->ctx), *ss = SSL_new(r->n->ctx);
	saf_tls_conn_info info;
	bool ready = saf_addr_parse(A_ADDR, true, &l, NULL) == 0 &&
		     SSL_set_session(cs, r->sess) == 1 &&
		     saf_tls_server_set_local(ss, &l, NULL) == 0 &&
		     saf_tls_client_present_token(cs, r->o->token,
						  r->o->token_len, NULL) == 0;

	pthread_barrier_wait(r->go);
	(void)harness_handshake(cs, ss);
	r->accepted = ready && saf_tls_server_conn_info(ss, &info) == 0 &&
		      info.migrated;
	SSL_free(cs);
	SSL_free(ss);
	return NULL;
}

static void test_threads_share_one_cache(void **state)
{
	saf_replay_config rc = {.capacity = 4 * RACE_ROUNDS,
				.max_lifetime = 60,
				.clock = test_clock};
	saf_replay_cache *shared = saf_replay_cache_create(&rc, NULL);
	node a = node_new_shared(shared), b = node_new_shared(shared);
	client c = client_new();
	saf_tls_server_counters ka, kb;
	pthread_barrier_t go;

	(void)state;
	fake_now = 1000;
	assert_non_null(shared);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		saf_tls_offer o;
		struct racer r[2] = {{.n = &a, .c = &c}, {.n = &b, .c = &c}};
		pthread_t th[2];

		get_offer(&a, &c, A_ADDR, &o);
		assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
		for (int i = 0; i < 2; i++) {
			r[i].o = &o;
			r[i].go = &go;
			r[i].sess = SSL_SESSION_dup(o.session);
			assert_int_equal(pthread_create(&th[i], NULL,
							race_resume, &r[i]),
					 0);
		}
		for (int i = 0; i < 2; i++) {
			assert_int_equal(pthread_join(th[i], NULL), 0);
			SSL_SESSION_free(r[i].sess);
		}
		pthread_barrier_destroy(&go);
		if (r[0].accepted + r[1].accepted != 1)
			fail_msg("round %d: %d acceptances of one token", round,
				 r[0].accepted + r[1].accepted);
		saf_tls_offer_clear(&o);
	}
	saf_tls_server_counters_get(a.srv, &ka);
	saf_tls_server_counters_get(b.srv, &kb);
	assert_int_equal(ka.migrations_accepted + kb.migrations_accepted,
			 RACE_ROUNDS);
	client_free(&c);
	node_free(&a);
	node_free(&b);
	saf_replay_cache_free(shared);
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
		cmocka_unit_test(test_replay_cache_full_at_node),
		cmocka_unit_test(test_hrr_migration_accepted_once),
		cmocka_unit_test(test_observed_client_hello_replayed_first),
		cmocka_unit_test(test_clock_year_ahead_then_back),
		cmocka_unit_test(test_one_token_per_handshake),
		cmocka_unit_test(test_psk_ke_resumption_refused),
		cmocka_unit_test(
			test_one_source_fills_its_share_other_migrates),
		cmocka_unit_test(test_threads_share_one_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
