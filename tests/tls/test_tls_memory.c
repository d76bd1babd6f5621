/* SPDX-License-Identifier: MIT */
/*
 * Real TLS 1.3 handshakes in memory (BIO pairs) through saf_tls: tokens in
 * tickets only for clients that offered support, migration accepted at the
 * right address, every refusal with its alert at the client and its
 * counter at the server, migrate_notify (ticket form), shared keys between
 * sibling nodes, the key file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "saf/tls.h"
#include "lib/key_messages.h"
#include "tls/tls_harness.h"

static harness H;
static uint64_t fake_now;

static uint64_t test_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

typedef struct node {
	SSL_CTX *ctx;
	saf_tls_server *srv;
} node;

typedef struct client {
	SSL_CTX *ctx;
	saf_tls_client *cli;
} client;

static const uint8_t NK[SAF_NODE_KEY_LEN] = {1, 2, 3, 4, 5};
static const uint8_t TK[SAF_TLS_TICKET_KEYS_LEN] = {9, 8, 7};

static saf_addr addr(const char *text)
{
	saf_addr a;
	saf_error e;

	assert_int_equal(saf_addr_parse(text, true, &a, &e), 0);
	return a;
}

static node node_new(void)
{
	saf_tls_server_config cfg;
	saf_error e = {0};
	node n;

	saf_tls_server_config_init(&cfg);
	memcpy(cfg.node_key, NK, sizeof(NK));
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

static client client_new(bool saf)
{
	saf_tls_client_config cfg;
	saf_error e = {0};
	client c = {.ctx = harness_client_ctx(&H), .cli = NULL};

	saf_tls_client_config_init(&cfg);
	cfg.allow_loopback_targets = true;
	if (saf) {
		c.cli = saf_tls_client_new(c.ctx, &cfg, &e);
		if (!c.cli)
			fail_msg("%s", e.msg);
	}
	return c;
}

static void client_free(client *c)
{
	SSL_CTX_free(c->ctx);
	saf_tls_client_free(c->cli);
}

/* A connection "to S" whose tickets carry tokens for `target`. */
static void first_contact(node *n, client *c, const char *target, SSL **cs,
			  SSL **ss)
{
	saf_addr t = addr(target), s = addr("127.0.0.40:24443");
	saf_error e;

	*cs = SSL_new(c->ctx);
	*ss = SSL_new(n->ctx);
	assert_int_equal(saf_tls_server_set_target(*ss, &t, &e), 0);
	assert_int_equal(saf_tls_server_set_local(*ss, &s, &e), 0);
	assert_true(harness_handshake(*cs, *ss));
	harness_pump(*cs, *ss);
}

/* Resumes `offer` at node n, whose connection arrived on `local`,
 * presenting `token` (NULL: the offer's own). Returns whether the
 * handshake completed; *alert gets the alert the client received. */
static bool resume(node *n, client *c, const saf_tls_offer *offer,
		   const uint8_t *token, size_t len, const char *local,
		   int *alert, saf_tls_conn_info *info)
{
	saf_addr l = addr(local);
	SSL_SESSION *dup = SSL_SESSION_dup(offer->session);
	SSL *cs = SSL_new(c->ctx), *ss = SSL_new(n->ctx);
	saf_error e;
	bool ok;

	assert_int_equal(SSL_set_session(cs, dup), 1);
	SSL_SESSION_free(dup);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	if (c->cli)
		assert_int_equal(saf_tls_client_present_token(
					 cs, token ? token : offer->token,
					 token ? len : offer->token_len, &e),
				 0);
	ok = harness_handshake(cs, ss);
	if (ok)
		assert_true(SSL_session_reused(cs));
	if (alert)
		*alert = c->cli ? saf_tls_client_alert_received(cs) : -1;
	if (info)
		assert_int_equal(saf_tls_server_conn_info(ss, info), 0);
	SSL_free(cs);
	SSL_free(ss);
	return ok;
}

static void get_offer(node *n, client *c, const char *target, saf_tls_offer *o)
{
	SSL *cs, *ss;

	first_contact(n, c, target, &cs, &ss);
	assert_int_equal(saf_tls_client_offer(cs, o), 1);
	SSL_free(cs);
	SSL_free(ss);
}

static void test_token_only_with_support(void **state)
{
	node n = node_new();
	client plain = client_new(false), c = client_new(true);
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	saf_tls_offer o;
	SSL *cs, *ss;
	char a[SAF_ADDR_STR_LEN];

	(void)state;
	fake_now = 1000;
	first_contact(&n, &plain, "127.0.0.41:24001", &cs, &ss);
	assert_int_equal(saf_tls_server_conn_info(ss, &info), 0);
	assert_false(info.offered_support);
	assert_int_equal(info.tokens_sent, 0);
	SSL_free(cs);
	SSL_free(ss);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.tokens_issued, 0);

	first_contact(&n, &c, "127.0.0.41:24001", &cs, &ss);
	assert_int_equal(saf_tls_server_conn_info(ss, &info), 0);
	assert_true(info.offered_support);
	assert_true(info.tokens_sent >= 1);
	assert_int_equal(saf_tls_client_offer(cs, &o), 1);
	assert_string_equal(saf_addr_format(&o.target, a), "127.0.0.41:24001");
	assert_int_equal(o.expiry, 1060);
	assert_false(o.notify);
	saf_tls_offer_clear(&o);
	SSL_free(cs);
	SSL_free(ss);
	client_free(&plain);
	client_free(&c);
	node_free(&n);
}

static void test_migration_accepted_once(void **state)
{
	node n = node_new();
	client c = client_new(true);
	saf_tls_server_counters k;
	saf_tls_conn_info info;
	uint8_t psk[SAF_PSK_MAX_LEN], sid[SAF_SESSION_ID_LEN];
	saf_tls_offer o;
	size_t pl;
	int alert;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, "127.0.0.41:24001", &o);
	assert_true(
		resume(&n, &c, &o, NULL, 0, "127.0.0.41:24001", &alert, &info));
	assert_true(info.migrated);
	/* The application learns which session migrated (SPEC 3.3). */
	pl = SSL_SESSION_get_master_key(o.session, psk, sizeof(psk));
	assert_int_equal(saf_session_id_derive(psk, pl, sid, NULL), 0);
	assert_memory_equal(info.session_id, sid, sizeof(sid));

	/* Same nonce again: replayed. */
	assert_false(
		resume(&n, &c, &o, NULL, 0, "127.0.0.41:24001", &alert, &info));
	assert_int_equal(alert & 0xff, SSL_AD_ACCESS_DENIED);
	assert_int_equal(info.refusal, SAF_TLS_REFUSE_VERDICT);
	assert_int_equal(info.verdict, SAF_TOKEN_REPLAYED);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.migrations_accepted, 1);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_REPLAYED], 1);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

/* Each refusal: the client sees the alert, the server counts the reason. */
static void expect_refusal(node *n, client *c, const saf_tls_offer *o,
			   const uint8_t *tok, size_t len, const char *local,
			   int want_alert, saf_tls_refusal r, saf_verdict v)
{
	saf_tls_conn_info info;
	int alert = -1;

	assert_false(resume(n, c, o, tok, len, local, &alert, &info));
	assert_int_equal(info.refusal, r);
	assert_false(info.migrated);
	if (r == SAF_TLS_REFUSE_VERDICT)
		assert_int_equal(info.verdict, v);
	if (c->cli)
		assert_int_equal(alert & 0xff, want_alert);
}

static void test_refusals(void **state)
{
	node n = node_new();
	client c = client_new(true);
	saf_tls_server_counters k;
	saf_tls_offer o, other;
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	const char *t = "127.0.0.41:24001";
	size_t sig_at;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, t, &o);
	get_offer(&n, &c, t, &other);

	/* Forged signature: flip each byte of it. */
	sig_at = o.token_len - SAF_SIGNATURE_LEN;
	for (size_t i = sig_at; i < o.token_len; i++) {
		memcpy(tok, o.token, o.token_len);
		tok[i] ^= 0x01;
		expect_refusal(&n, &c, &o, tok, o.token_len, t,
			       SSL_AD_ACCESS_DENIED, SAF_TLS_REFUSE_VERDICT,
			       SAF_TOKEN_BAD_SIGNATURE);
	}
	/* Any other byte flipped: never accepted. */
	for (size_t i = 0; i < sig_at; i++) {
		saf_tls_conn_info info;

		memcpy(tok, o.token, o.token_len);
		tok[i] ^= 0x80;
		assert_false(
			resume(&n, &c, &o, tok, o.token_len, t, NULL, &info));
		assert_false(info.migrated);
	}
	/* Wrong target: the connection arrived on another port, another
	 * address with the same port, the same IPv4 address mapped into
	 * IPv6, another family. */
	{
		static const char *const wrong[] = {
			"127.0.0.41:24002",
			"127.0.0.42:24001",
			"[::ffff:127.0.0.41]:24001",
			"[::1]:24001",
		};

		for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
			expect_refusal(&n, &c, &o, NULL, 0, wrong[i],
				       SSL_AD_ACCESS_DENIED,
				       SAF_TLS_REFUSE_VERDICT,
				       SAF_TOKEN_WRONG_TARGET);
	}
	/* Token from another session: it was signed under the other
	 * session's key, so the signature cannot verify. */
	expect_refusal(&n, &c, &o, other.token, other.token_len, t,
		       SSL_AD_ACCESS_DENIED, SAF_TLS_REFUSE_VERDICT,
		       SAF_TOKEN_BAD_SIGNATURE);
	/* Malformed: truncated, and one trailing byte. */
	expect_refusal(&n, &c, &o, o.token, o.token_len - 1, t,
		       SSL_AD_DECODE_ERROR, SAF_TLS_REFUSE_VERDICT,
		       SAF_TOKEN_MALFORMED);
	memcpy(tok, o.token, o.token_len);
	tok[o.token_len] = 0;
	expect_refusal(&n, &c, &o, tok, o.token_len + 1, t, SSL_AD_DECODE_ERROR,
		       SAF_TLS_REFUSE_VERDICT, SAF_TOKEN_MALFORMED);
	/* Expired: the node's clock passes the token's expiry. */
	fake_now = o.expiry;
	expect_refusal(&n, &c, &o, NULL, 0, t, SSL_AD_ACCESS_DENIED,
		       SAF_TLS_REFUSE_VERDICT, SAF_TOKEN_EXPIRED);
	fake_now = 1000;
	/* Still valid after all that: refusals recorded no nonce. */
	assert_true(resume(&n, &c, &o, NULL, 0, t, NULL, NULL));

	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_BAD_SIGNATURE] >=
				 SAF_SIGNATURE_LEN + 1,
			 1);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_WRONG_TARGET], 4);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_MALFORMED] >= 2, 1);
	assert_int_equal(k.refused_verdict[SAF_TOKEN_EXPIRED], 1);
	assert_int_equal(k.migrations_accepted, 1);
	saf_tls_offer_clear(&o);
	saf_tls_offer_clear(&other);
	client_free(&c);
	node_free(&n);
}

/* A client that presents a token without offering migration_support. */
static const uint8_t *raw_token;
static size_t raw_len;

static int raw_add(SSL *s, unsigned int type, unsigned int ctx,
		   const unsigned char **out, size_t *outlen, X509 *x,
		   size_t chainidx, int *al, void *arg)
{
	(void)s;
	(void)type;
	(void)x;
	(void)chainidx;
	(void)al;
	(void)arg;
	if (ctx != SSL_EXT_CLIENT_HELLO || !raw_token)
		return 0;
	*out = raw_token;
	*outlen = raw_len;
	return 1;
}

static int raw_parse(SSL *s, unsigned int type, unsigned int ctx,
		     const unsigned char *in, size_t inlen, X509 *x,
		     size_t chainidx, int *al, void *arg)
{
	(void)s;
	(void)type;
	(void)ctx;
	(void)in;
	(void)inlen;
	(void)x;
	(void)chainidx;
	(void)al;
	(void)arg;
	return 1;
}

static void test_refusal_without_support(void **state)
{
	node n = node_new();
	client c = client_new(true), raw = client_new(false);
	saf_tls_server_counters k;
	saf_tls_offer o;
	const char *t = "127.0.0.41:24001";

	(void)state;
	fake_now = 1000;
	assert_int_equal(SSL_CTX_add_custom_ext(
				 raw.ctx, SAF_TLSEXT_MIGRATION_TOKEN_DEFAULT,
				 SSL_EXT_CLIENT_HELLO |
					 SSL_EXT_TLS1_3_NEW_SESSION_TICKET,
				 raw_add, NULL, NULL, raw_parse, NULL),
			 1);
	get_offer(&n, &c, t, &o);
	raw_token = o.token;
	raw_len = o.token_len;
	expect_refusal(&n, &raw, &o, NULL, 0, t, 0, SAF_TLS_REFUSE_NO_SUPPORT,
		       0);
	raw_token = NULL;
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.refused[SAF_TLS_REFUSE_NO_SUPPORT], 1);
	saf_tls_offer_clear(&o);
	client_free(&c);
	client_free(&raw);
	node_free(&n);
}

static void test_refusal_not_resumed(void **state)
{
	node n = node_new();
	client c = client_new(true);
	saf_tls_server_counters k;
	saf_tls_offer o;
	SSL *cs, *ss;
	saf_addr l = addr("127.0.0.41:24001");
	saf_error e;

	(void)state;
	fake_now = 1000;
	get_offer(&n, &c, "127.0.0.41:24001", &o);
	/* A token on a full handshake (no ticket): nothing to resume. */
	cs = SSL_new(c.ctx);
	ss = SSL_new(n.ctx);
	assert_int_equal(saf_tls_server_set_local(ss, &l, &e), 0);
	assert_int_equal(
		saf_tls_client_present_token(cs, o.token, o.token_len, &e), 0);
	assert_false(harness_handshake(cs, ss));
	assert_int_equal(saf_tls_client_alert_received(cs) & 0xff,
			 SSL_AD_ACCESS_DENIED);
	SSL_free(cs);
	SSL_free(ss);
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.refused[SAF_TLS_REFUSE_NOT_RESUMED], 1);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&n);
}

static void test_migrate_notify_ticket_form(void **state)
{
	node n = node_new();
	client c = client_new(true), plain = client_new(false);
	saf_addr t2 = addr("127.0.0.42:24002");
	saf_tls_server_counters k;
	saf_tls_offer o;
	saf_error e;
	char buf[8], a[SAF_ADDR_STR_LEN];
	SSL *cs, *ss;

	(void)state;
	fake_now = 1000;
	first_contact(&n, &c, "127.0.0.41:24001", &cs, &ss);
	assert_int_equal(saf_tls_client_notified(cs), 0);
	assert_int_equal(saf_tls_server_migrate_notify(ss, &t2, &e), 0);
	assert_int_equal(SSL_write(ss, "x", 1), 1);
	assert_int_equal(SSL_read(cs, buf, sizeof(buf)), 1);
	assert_int_equal(saf_tls_client_notified(cs), 1);
	assert_int_equal(saf_tls_client_offer(cs, &o), 1);
	assert_true(o.notify);
	assert_string_equal(saf_addr_format(&o.target, a), "127.0.0.42:24002");
	/* The connection stays up. */
	assert_int_equal(SSL_write(cs, "y", 1), 1);
	assert_int_equal(SSL_read(ss, buf, sizeof(buf)), 1);
	/* And the fresh token migrates to the new target. */
	assert_true(
		resume(&n, &c, &o, NULL, 0, "127.0.0.42:24002", NULL, NULL));
	saf_tls_server_counters_get(n.srv, &k);
	assert_int_equal(k.notifies_sent, 1);
	saf_tls_offer_clear(&o);
	SSL_free(cs);
	SSL_free(ss);

	/* A client without support cannot be notified. */
	first_contact(&n, &plain, "127.0.0.41:24001", &cs, &ss);
	assert_int_equal(saf_tls_server_migrate_notify(ss, &t2, &e), -1);
	assert_int_equal(e.code, SAF_E_UNSUPPORTED);
	SSL_free(cs);
	SSL_free(ss);
	client_free(&c);
	client_free(&plain);
	node_free(&n);
}

/* Sibling nodes with the same key file: a token minted by one verifies at
 * the other; a node with another node key refuses it. */
static void test_sibling_nodes(void **state)
{
	node a = node_new(), b = node_new();
	client c = client_new(true);
	saf_tls_server_config cfg;
	saf_tls_offer o;
	saf_error e;
	node stranger;

	(void)state;
	fake_now = 1000;
	get_offer(&a, &c, "127.0.0.43:24003", &o);
	assert_true(
		resume(&b, &c, &o, NULL, 0, "127.0.0.43:24003", NULL, NULL));

	saf_tls_server_config_init(&cfg);
	memset(cfg.node_key, 0x55, sizeof(cfg.node_key));
	memcpy(cfg.ticket_keys, TK, sizeof(TK));
	cfg.has_ticket_keys = true;
	cfg.clock = test_clock;
	stranger.ctx = harness_server_ctx(&H);
	stranger.srv = saf_tls_server_new(stranger.ctx, &cfg, &e);
	assert_non_null(stranger.srv);
	saf_tls_offer_clear(&o);
	get_offer(&a, &c, "127.0.0.43:24003", &o);
	expect_refusal(&stranger, &c, &o, NULL, 0, "127.0.0.43:24003",
		       SSL_AD_ACCESS_DENIED, SAF_TLS_REFUSE_VERDICT,
		       SAF_TOKEN_BAD_SIGNATURE);
	saf_tls_offer_clear(&o);
	client_free(&c);
	node_free(&a);
	node_free(&b);
	node_free(&stranger);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/saf-s-keys-XXXXXX", path[64];
	saf_tls_keys k, back;
	saf_error e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(saf_tls_keys_generate(&k, &e), 0);
	assert_int_equal(saf_tls_keys_save(path, &k, &e), 0);
	assert_int_equal(saf_tls_keys_load(path, &back, &e), 0);
	assert_memory_equal(&k, &back, sizeof(k));
	/* Never overwrites. */
	assert_int_equal(saf_tls_keys_save(path, &k, &e), -1);
	/* Readable by others: refused, and the message names the fix. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(saf_tls_keys_load(path, &back, &e), -1);
	assert_non_null(strstr(e.msg, "chmod 600"));
	unlink(path);
	/* Malformed files. */
	{
		static const char *const bad[] = {
			"node_key 00\nticket_keys 00\n",
			"node_key zz\n",
			"ticket_keys 00\n",
			"bogus 00\n",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			FILE *f = fopen(path, "w");

			assert_non_null(f);
			fputs(bad[i], f);
			fclose(f);
			assert_int_equal(chmod(path, 0600), 0);
			assert_int_equal(saf_tls_keys_load(path, &back, &e),
					 -1);
			unlink(path);
		}
	}
	rmdir(dir);
	saf_tls_keys_wipe(&k);
}

/* A key file holding these n bytes (mode 0600) in dir, loaded. */
static int load_keys(const char *dir, const char *bytes, size_t n,
		     saf_tls_keys *k, saf_error *e)
{
	char path[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/keys", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	rc = saf_tls_keys_load(path, k, e);
	unlink(path);
	return rc;
}

#define NK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define TK                                                                     \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"     \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"     \
	"0123456789abcdef0123456789abcdef"

/* The documented format and nothing else: every other form is refused,
 * naming the line and what is wrong, never echoing key bytes. */
static void test_key_file_strict(void **state)
{
	static char spaces[601], long_comment[SAF_TLS_KEYS_LINE_MAX + 2];
	static char max_comment[SAF_TLS_KEYS_LINE_MAX + 1];
	static char overlong[800], too_long[1400], max_ok[1400];
	const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *why;
	} bad[] = {
		/* the finding: one line of more than 512 bytes was two */
		{overlong, 0,
		 ":1: expected 'name hexvalue', found more after "
		 "the value"},
		{too_long, 0, ":1: line longer than 1024 bytes"},
		/* the finding: CR was a separator anywhere */
		{"node_key\r" NK "\nticket_keys " TK "\n", 0,
		 ":1: column 9: CR not followed by LF"},
		{"node_key " NK "\r\r\nticket_keys " TK "\n", 0,
		 ":1: column 74: CR not followed by LF"},
		{"node_key " NK "\nticket_keys " TK "\r", 0,
		 ":2: column 173: CR not followed by LF"},
		{"# a\rb\nnode_key " NK "\nticket_keys " TK "\n", 0,
		 ":1: column 4: CR not followed by LF"},
		{"node_key " NK "\0junk\nticket_keys " TK "\n", 78,
		 ":1: column 74: NUL byte"},
		{"node_key\nticket_keys " TK "\n", 0,
		 ":1: expected 'name hexvalue', found one field"},
		{NK "\nticket_keys " TK "\n", 0,
		 ":1: expected 'name hexvalue', found one field"},
		{"node_key " NK " # the node key\nticket_keys " TK "\n", 0,
		 ":1: expected 'name hexvalue', found more after the value"},
		{"NODE_KEY " NK "\nticket_keys " TK "\n", 0,
		 ":1: unknown name (expected node_key or ticket_keys)"},
		{NK " " NK "\nticket_keys " TK "\n", 0,
		 ":1: unknown name (expected node_key or ticket_keys)"},
		{"node_key " NK "\nnode_key " NK "\nticket_keys " TK "\n", 0,
		 ":2: node_key repeated (first on line 1)"},
		{"node_key " NK "0\nticket_keys " TK "\n", 0,
		 ":1: node_key: expected 64 hex digits, found 65"},
		{"node_key " NK "\nticket_keys 00" TK "\n", 0,
		 ":2: ticket_keys: expected 160 hex digits, found 162"},
		{"node_key 0011g2" NK "\n", 0, /* length checked first */
		 ":1: node_key: expected 64 hex digits, found 70"},
		{"node_key 0011g233445566778899aabbccddeeff00112233445566778899"
		 "aabbccddeeff\n",
		 0,
		 ":1: node_key: character 5 of the value is not a hex digit"},
		{"node_key " NK "\n", 0, ": missing ticket_keys"},
		{"", 0, ": missing node_key"},
	};
	const char *good[] = {
		"# saf tls keys v1\r\nnode_key " NK "\r\nticket_keys " TK
		"\r\n",
		"\n \t\n# comment\n\tnode_key\t " NK "  \r\n\r\n"
		"ticket_keys " TK, /* no line end at the end */
		max_ok,
	};
	char dir[] = "/tmp/saf-s-keys-XXXXXX", path[64];
	saf_tls_keys k;
	saf_error e;

	(void)state;
	memset(spaces, ' ', sizeof(spaces) - 1);
	snprintf(overlong, sizeof(overlong), "node_key %s%sticket_keys %s\n",
		 NK, spaces, TK);
	memset(long_comment, 'x', sizeof(long_comment) - 1);
	long_comment[0] = '#';
	snprintf(too_long, sizeof(too_long),
		 "%s\nnode_key %s\nticket_keys %s\n", long_comment, NK, TK);
	memset(max_comment, 'x', sizeof(max_comment) - 1);
	max_comment[0] = '#';
	snprintf(max_ok, sizeof(max_ok), "%s\r\nnode_key %s\nticket_keys %s\n",
		 max_comment, NK, TK);
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (load_keys(dir, good[i], strlen(good[i]), &k, &e))
			fail_msg("good %zu refused: %s", i, e.msg);
		assert_int_equal(k.node_key[1], 0x11);
		assert_int_equal(k.node_key[31], 0xff);
		assert_int_equal(k.ticket_keys[0], 0x01);
		assert_int_equal(k.ticket_keys[79], 0xef);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = bad[i].len ? bad[i].len : strlen(bad[i].text);

		assert_int_equal(load_keys(dir, bad[i].text, n, &k, &e), -1);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("bad %zu: '%s' does not say '%s'", i, e.msg,
				 bad[i].why);
		assert_int_equal(e.code, SAF_E_FORMAT);
		assert_no_key_material(e.msg);
		/* Nothing half-loaded. */
		for (size_t j = 0; j < sizeof(k.node_key); j++)
			assert_int_equal(k.node_key[j], 0);
	}
	/* Not a regular file: a FIFO must not hang the open. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(saf_tls_keys_load(path, &k, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	unlink(path);
	rmdir(dir);
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
		cmocka_unit_test(test_token_only_with_support),
		cmocka_unit_test(test_migration_accepted_once),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_refusal_without_support),
		cmocka_unit_test(test_refusal_not_resumed),
		cmocka_unit_test(test_migrate_notify_ticket_form),
		cmocka_unit_test(test_sibling_nodes),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_key_file_strict),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
