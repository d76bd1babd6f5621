/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the node's resumption ClientHello path (SPEC 3.4 step 4) with
 * the input as the migration_token, through real OpenSSL TLS 1.3
 * handshakes in memory (BIO pairs, no sockets) between a saf client and a
 * saf server.
 *
 * Init: one full handshake gives a ticket, its session and the good token
 * (fixed node key, ticket keys and clock). Per input, two resumptions of
 * that session at a fresh node:
 *   raw       the input bytes as the token;
 *   re-signed when the input decodes, its signed part with a correct
 *             HMAC under the session's key, so the checks past the
 *             signature (session, expiry, target, replay) are reached.
 * The saf client presents the token when saf_tls_client_present_token
 * takes it (1..SAF_TOKEN_MAX_LEN bytes); other lengths go out through a
 * plain client whose raw extension carries them.
 *
 * What must hold (abort otherwise):
 *   - the server ends its handshake: accepted, or refused with an alert;
 *   - its verdict is the one an independent oracle derives from the
 *     fields (decode, HMAC recomputed, session_id, expiry, target), and
 *     the client received decode_error for a malformed token,
 *     access_denied for any other refusal;
 *   - accepted only when that oracle says valid; the good token is always
 *     accepted; an accepted token presented again is refused as replayed;
 *   - the server's counters moved by exactly that outcome;
 *   - the same with a HelloRetryRequest (issue 14): for about half the
 *     inputs (the parity of their byte sum) the node takes only P-256
 *     while the client's first key share is X25519, so the token is parsed
 *     in two ClientHellos; the client must have sent exactly two when
 *     the token is accepted (a refusal ends the first).
 *
 * Reproducibility: OpenSSL's randomness is replaced by a fixed-seed
 * generator (re-seeded per input) and the certificate has fixed dates, so
 * the session, its PSK and the good token are the same in every process,
 * and the node is rebuilt after any acceptance, so no input sees what an
 * earlier one left in the replay cache. Set SAF_FUZZ_TLS_HELLO_DUMP=path
 * to write the good token there (how the seed corpus was made), and
 * SAF_FUZZ_TLS_HELLO_STATS=1 to print at exit how many presentations
 * reached each verdict.
 *
 * The generator is NOT random: this harness must never share a process
 * with anything that needs real keys.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD: the only hook in 3.0 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "saf/tls.h"
#include "tls/tls_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                                                               \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr,                                        \
				"fuzz_tls_hello: %s failed (line %d)\n", #x,   \
				__LINE__);                                     \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng;

static void rng_seed(uint64_t s)
{
	rng = s;
}

/* splitmix64: enough to make runs repeatable; not a secure generator. */
static int det_bytes(unsigned char *buf, int num)
{
	for (int i = 0; i < num; i += 8) {
		uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(buf + i, &z, (size_t)(num - i < 8 ? num - i : 8));
	}
	return 1;
}

static int det_seed(const void *buf, int num)
{
	(void)buf;
	(void)num;
	return 1;
}

static int det_add(const void *buf, int num, double entropy)
{
	(void)buf;
	(void)num;
	(void)entropy;
	return 1;
}

static int det_status(void)
{
	return 1;
}

static const RAND_METHOD det_rand = {
	.seed = det_seed,
	.bytes = det_bytes,
	.add = det_add,
	.pseudorand = det_bytes,
	.status = det_status,
};

/* ---- the fixed world ----------------------------------------------------- */

#define NOW	 1000u
#define LIFETIME 60u

static const uint8_t NK[SAF_NODE_KEY_LEN] = {0x4e, 0x4b, 1, 2, 3};
static const uint8_t TK[SAF_TLS_TICKET_KEYS_LEN] = {0x54, 0x4b, 9, 8, 7};

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return NOW;
}

static harness H;
static SSL_CTX *client_ctx, *raw_ctx, *node_ctx;
static saf_tls_client *client;
static saf_tls_server *node;
static saf_tls_offer offer;	 /* session + good token */
static saf_token_keys skeys;	 /* of that session, for the oracle */
static saf_addr target;		 /* tokens' target = the node's local */
static saf_tlsext_codepoints cp; /* default code points */
static uint64_t reached[SAF_VERDICT_COUNT]; /* presentations by outcome */
static bool hrr;			    /* this input goes through an HRR */
static uint64_t reached_hrr;		    /* presentations with an HRR */
static int client_hellos; /* written by the client of present() */

/* A certificate with fixed dates: its bytes are in the transcript, hence
 * in the resumption PSK. */
static void make_cert(void)
{
	X509_NAME *name;

	H.key = EVP_EC_gen("P-256");
	H.cert = X509_new();
	check(H.key && H.cert);
	X509_set_version(H.cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(H.cert), 1);
	check(ASN1_TIME_set_string(X509_getm_notBefore(H.cert),
				   "20200101000000Z") == 1);
	check(ASN1_TIME_set_string(X509_getm_notAfter(H.cert),
				   "20991231000000Z") == 1);
	X509_set_pubkey(H.cert, H.key);
	name = X509_get_subject_name(H.cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"saf.test", -1, -1,
				   0);
	X509_set_issuer_name(H.cert, name);
	check(X509_sign(H.cert, H.key, EVP_sha256()) > 0);
}

static void node_new(void)
{
	saf_tls_server_config cfg;
	saf_error e = {0};

	saf_tls_server_config_init(&cfg);
	memcpy(cfg.node_key, NK, sizeof(NK));
	memcpy(cfg.ticket_keys, TK, sizeof(TK));
	cfg.has_ticket_keys = true;
	cfg.token_lifetime_s = LIFETIME;
	cfg.replay_entries = 16;
	cfg.clock = fixed_clock;
	node_ctx = harness_server_ctx(&H);
	node = saf_tls_server_new(node_ctx, &cfg, &e);
	if (!node)
		fprintf(stderr, "fuzz_tls_hello: %s\n", e.msg);
	check(node);
}

static void node_free(void)
{
	SSL_CTX_free(node_ctx);
	saf_tls_server_free(node);
	node_ctx = NULL;
	node = NULL;
}

/* ---- the plain client: any bytes in the extension ----------------------- */

static const uint8_t *raw_token;
static size_t raw_len;

static int raw_add(SSL *s, unsigned int type, unsigned int ctx,
		   const unsigned char **out, size_t *outlen, X509 *x,
		   size_t chainidx, int *al, void *arg)
{
	(void)s;
	(void)x;
	(void)chainidx;
	(void)al;
	(void)arg;
	if (ctx != SSL_EXT_CLIENT_HELLO)
		return 0;
	if (type == cp.migration_support) {
		*out = (const unsigned char *)"";
		*outlen = 0;
		return 1;
	}
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

static SSL_CTX *raw_client_ctx(void)
{
	SSL_CTX *ctx = harness_client_ctx(&H);

	check(SSL_CTX_add_custom_ext(ctx, cp.migration_support,
				     SSL_EXT_CLIENT_HELLO, raw_add, NULL, NULL,
				     raw_parse, NULL) == 1);
	check(SSL_CTX_add_custom_ext(
		      ctx, cp.migration_token,
		      SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_NEW_SESSION_TICKET,
		      raw_add, NULL, NULL, raw_parse, NULL) == 1);
	check(SSL_CTX_add_custom_ext(ctx, cp.migrate_notify,
				     SSL_EXT_TLS1_3_NEW_SESSION_TICKET, raw_add,
				     NULL, NULL, raw_parse, NULL) == 1);
	return ctx;
}

/* ---- init: one full handshake -------------------------------------------- */

static void dump_token(void)
{
	const char *path = getenv("SAF_FUZZ_TLS_HELLO_DUMP");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "wb");
	check(f &&
	      fwrite(offer.token, 1, offer.token_len, f) == offer.token_len);
	check(fclose(f) == 0);
}

/* SAF_FUZZ_TLS_HELLO_STATS=1: which verdicts the inputs reached, at exit. */
static void print_reached(void)
{
	for (int v = 0; v < SAF_VERDICT_COUNT; v++)
		fprintf(stderr, "fuzz_tls_hello: %-18s %llu\n",
			saf_verdict_name((saf_verdict)v),
			(unsigned long long)reached[v]);
	fprintf(stderr, "fuzz_tls_hello: %-18s %llu\n", "with_hrr",
		(unsigned long long)reached_hrr);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	saf_tls_client_config ccfg;
	uint8_t psk[SAF_PSK_MAX_LEN];
	saf_addr s;
	saf_error e = {0};
	SSL *cs, *ss;
	size_t n;

	(void)argc;
	(void)argv;
	check(RAND_set_rand_method(&det_rand) == 1);
	rng_seed(1);
	cp = saf_tlsext_codepoints_default();
	check(saf_addr_parse("127.0.0.41:24001", true, &target, &e) == 0);
	check(saf_addr_parse("127.0.0.40:24443", true, &s, &e) == 0);
	make_cert();

	client_ctx = harness_client_ctx(&H);
	saf_tls_client_config_init(&ccfg);
	ccfg.allow_loopback_targets = true;
	client = saf_tls_client_new(client_ctx, &ccfg, &e);
	check(client);
	raw_ctx = raw_client_ctx();
	node_new();

	/* First contact with S: the ticket carries a token for target. */
	cs = SSL_new(client_ctx);
	ss = SSL_new(node_ctx);
	check(cs && ss);
	check(saf_tls_server_set_target(ss, &target, &e) == 0);
	check(saf_tls_server_set_local(ss, &s, &e) == 0);
	check(harness_handshake(cs, ss));
	harness_pump(cs, ss);
	check(saf_tls_client_offer(cs, &offer) == 1);
	SSL_free(cs);
	SSL_free(ss);
	node_free();

	n = SSL_SESSION_get_master_key(offer.session, psk, sizeof(psk));
	check(n > 0 && n <= sizeof(psk));
	check(saf_token_keys_derive(NK, psk, n, &skeys, &e) == 0);
	check(offer.expiry == NOW + LIFETIME);
	dump_token();
	if (getenv("SAF_FUZZ_TLS_HELLO_STATS"))
		check(atexit(print_reached) == 0);
	return 0;
}

/* ---- the oracle ------------------------------------------------------------
 */

/* The verdict SPEC 3.4 step 4 gives these bytes at a node with an empty
 * replay cache, worked out from the fields here rather than by
 * saf_token_verify. */
static saf_verdict oracle(const uint8_t *buf, size_t len)
{
	uint8_t mac[SAF_SIGNATURE_LEN];
	saf_token t;

	if (saf_token_decode(buf, len, &t, NULL))
		return SAF_TOKEN_MALFORMED;
	saf_token_hmac(&skeys, buf, t.signed_len, mac);
	if (t.signature.len != sizeof(mac) ||
	    memcmp(t.signature.base, mac, sizeof(mac)) != 0)
		return SAF_TOKEN_BAD_SIGNATURE;
	if (t.session_id.len != sizeof(skeys.session_id) ||
	    memcmp(t.session_id.base, skeys.session_id,
		   sizeof(skeys.session_id)) != 0)
		return SAF_TOKEN_SESSION_MISMATCH;
	if (t.expiry <= NOW)
		return SAF_TOKEN_EXPIRED;
	if (t.target.family != target.family || t.target.port != target.port ||
	    memcmp(t.target.bytes, target.bytes,
		   target.family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN) != 0)
		return SAF_TOKEN_WRONG_TARGET;
	return SAF_TOKEN_VALID;
}

/* ---- one resumption ------------------------------------------------------ */

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

/* Resumes the session at the node presenting buf; checks the outcome
 * against `want` and returns whether the node accepted. */
static bool present(const uint8_t *buf, size_t len, saf_verdict want)
{
	bool use_saf = len > 0 && len <= SAF_TOKEN_MAX_LEN;
	saf_tls_server_counters before, after;
	SSL_SESSION *dup = SSL_SESSION_dup(offer.session);
	SSL *cs = SSL_new(use_saf ? client_ctx : raw_ctx);
	SSL *ss = SSL_new(node_ctx);
	saf_tls_conn_info info;
	saf_error e = {0};
	bool done;
	int alert = -1;

	check(dup && cs && ss);
	check(SSL_set_session(cs, dup) == 1);
	SSL_SESSION_free(dup);
	check(saf_tls_server_set_local(ss, &target, &e) == 0);
	if (use_saf) {
		check(saf_tls_client_present_token(cs, buf, len, &e) == 0);
	} else {
		raw_token = buf;
		raw_len = len;
	}
	saf_tls_server_counters_get(node, &before);
	reached[want]++;
	client_hellos = 0;
	SSL_set_msg_callback(cs, count_client_hellos);
	if (hrr) {
		check(SSL_set1_groups_list(cs, "X25519:P-256") == 1);
		check(SSL_set1_groups_list(ss, "P-256") == 1);
		reached_hrr++;
	}

	done = harness_handshake(cs, ss);
	/* A refused token ends the handshake on the first ClientHello,
	 * before any HRR; an accepted one went through both. */
	check(client_hellos == (hrr && want == SAF_TOKEN_VALID ? 2 : 1));

	check(saf_tls_server_conn_info(ss, &info) == 0);
	check(info.offered_support);
	check(SSL_session_reused(ss));
	saf_tls_server_counters_get(node, &after);
	if (use_saf)
		alert = saf_tls_client_alert_received(cs);
	if (want == SAF_TOKEN_VALID) {
		check(done && info.migrated);
		check(info.refusal == SAF_TLS_REFUSE_NONE);
		check(memcmp(info.session_id, skeys.session_id,
			     sizeof(skeys.session_id)) == 0);
		check(after.migrations_accepted ==
		      before.migrations_accepted + 1);
	} else {
		check(!done && !info.migrated);
		check(info.refusal == SAF_TLS_REFUSE_VERDICT);
		if (info.verdict != want)
			fprintf(stderr, "fuzz_tls_hello: verdict %s, want %s\n",
				saf_verdict_name(info.verdict),
				saf_verdict_name(want));
		check(info.verdict == want);
		check(after.refused_verdict[want] ==
		      before.refused_verdict[want] + 1);
		check(after.migrations_accepted == before.migrations_accepted);
		if (use_saf)
			check((alert & 0xff) ==
			      (want == SAF_TOKEN_MALFORMED
				       ? SSL_AD_DECODE_ERROR
				       : SSL_AD_ACCESS_DENIED));
	}
	raw_token = NULL;
	raw_len = 0;
	SSL_free(cs);
	SSL_free(ss);
	return done;
}

/* Presents buf at a fresh node; an accepted token must then be refused as
 * a replay, and the node is rebuilt so the next input starts clean. */
static void present_checked(const uint8_t *buf, size_t len)
{
	saf_verdict want = oracle(buf, len);

	if (!present(buf, len, want))
		return;
	check(present(buf, len, SAF_TOKEN_REPLAYED) == false);
	node_free();
	node_new();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t resigned[SAF_TOKEN_MAX_LEN + 64];
	unsigned sum = 0;
	saf_token t;
	size_t n;

	rng_seed(2);
	if (!node)
		node_new();
	for (size_t i = 0; i < size; i++)
		sum += data[i];
	hrr = sum & 1u;
	/* The good token is accepted whatever the harness did before. */
	if (size == offer.token_len && memcmp(data, offer.token, size) == 0)
		check(oracle(data, size) == SAF_TOKEN_VALID);
	present_checked(data, size);

	if (saf_token_decode(data, size, &t, NULL) ||
	    t.signed_len + 1 + SAF_SIGNATURE_LEN > sizeof(resigned))
		return 0;
	memcpy(resigned, data, t.signed_len);
	resigned[t.signed_len] = SAF_SIGNATURE_LEN;
	saf_token_hmac(&skeys, data, t.signed_len, resigned + t.signed_len + 1);
	n = t.signed_len + 1 + SAF_SIGNATURE_LEN;
	if (n == size && memcmp(resigned, data, size) == 0)
		return 0; /* already signed right: done above */
	present_checked(resigned, n);
	return 0;
}
