/* SPDX-License-Identifier: MIT */
/*
 * Adversarial tokens (issue 8) against the real codec, crypto and replay
 * cache: saf_token_verify with a saf_replay_cache, no mocks.
 *
 *   - every bit of a valid token flipped, and every byte xor 0xff: the
 *     verdict expected for the field the byte belongs to (malformed for a
 *     type or length byte, bad_signature for any signed or signature byte);
 *   - truncated at every length, extended by 1..N bytes: malformed;
 *   - replayed at the same node: replayed, every time, counted;
 *   - replayed at a sibling node (same node key, its own replay cache):
 *     refused as wrong_target, since the sibling's address differs; only
 *     the target binding stops it (shown here, and with TLS in
 *     tests/tls/test_tls_adversarial.c);
 *   - expired by one second (injected clock): expired; the clock jumping
 *     forward past a redeemed token's expiry and back: still replayed;
 *   - for another target (address, port, family) or another session:
 *     refused;
 *   - minted under a rotated-out node key: bad_signature;
 *   - replay cache full: replay_cache_full (fails closed), counted, no
 *     live nonce evicted; accepted again once entries expire.
 *
 * None of the refusals may record a nonce: after each matrix the original
 * token still verifies once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/token_crypto.h"

#define NOW    1700000000u
#define EXPIRY (NOW + 60u)
/* Extensions tried: up to this many extra bytes. */
#define EXTEND_MAX 64u

static const uint8_t NK[SAF_NODE_KEY_LEN] = {0x4e, 0x4b, 0x01};
static const uint8_t NK_ROTATED[SAF_NODE_KEY_LEN] = {0x4e, 0x4b, 0x02};
static const uint8_t PSK[32] = {0x50, 0x53, 0x4b, 0x01};
static const uint8_t PSK_OTHER[32] = {0x50, 0x53, 0x4b, 0x02};

static uint64_t clock_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

/* One node: its address, its replay cache, the keys of the session being
 * resumed (derived from the node key and the ticket's PSK). */
typedef struct node {
	saf_addr local;
	saf_token_keys keys;
	saf_replay_cache *cache;
} node;

static saf_addr addr(const char *text)
{
	saf_addr a;

	assert_int_equal(saf_addr_parse(text, true, &a, NULL), 0);
	return a;
}

static node node_new(const char *local, const uint8_t *nk, const uint8_t *psk,
		     size_t capacity)
{
	node n;

	n.local = addr(local);
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &n.keys, NULL), 0);
	n.cache = saf_replay_cache_new(capacity, fake_clock, NULL, NULL);
	assert_non_null(n.cache);
	return n;
}

static void node_free(node *n)
{
	saf_replay_cache_free(n->cache);
	saf_token_keys_wipe(&n->keys);
}

static saf_verdict verify(node *n, const uint8_t *tok, size_t len)
{
	saf_verify_params p = {
		.keys = &n->keys,
		.local = &n->local,
		.now = clock_now,
		.replay = n->cache,
	};

	return saf_token_verify(&p, tok, len, NULL, NULL);
}

/* A token as a node mints it: keys of (nk, psk), a 16-byte nonce filled
 * with `nonce_byte`. */
static size_t mint(const uint8_t *nk, const uint8_t *psk, const char *target,
		   uint64_t expiry, uint8_t nonce_byte, uint8_t *out)
{
	saf_token_keys k;
	saf_addr t = addr(target);
	uint8_t nonce[SAF_NONCE_LEN];
	size_t len;

	memset(nonce, nonce_byte, sizeof(nonce));
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &k, NULL), 0);
	assert_int_equal(saf_token_mint(&k, &t, expiry, nonce, sizeof(nonce),
					out, SAF_TOKEN_MAX_LEN, &len, NULL),
			 0);
	saf_token_keys_wipe(&k);
	return len;
}

static uint64_t inserted(node *n)
{
	saf_replay_stats st;

	saf_replay_cache_stats(n->cache, &st);
	return st.inserted;
}

/* The verdict a one-byte change at `off` must give, from the layout of
 * SPEC 3.2 (worked out here, not by the decoder): the type byte and the
 * three length bytes are structure, everything else is covered by the
 * signature or is the signature. */
static saf_verdict expected_for_offset(size_t off, size_t addr_len)
{
	size_t sid_len_at = 1 + addr_len + SAF_PORT_LEN;
	size_t nonce_len_at = sid_len_at + 1 + SAF_SESSION_ID_LEN + 8;
	size_t sig_len_at = nonce_len_at + 1 + SAF_NONCE_LEN;

	if (off == 0 || off == sid_len_at || off == nonce_len_at ||
	    off == sig_len_at)
		return SAF_TOKEN_MALFORMED;
	return SAF_TOKEN_BAD_SIGNATURE;
}

static void flip_matrix(const char *target, size_t addr_len)
{
	node n;
	uint8_t tok[SAF_TOKEN_MAX_LEN], bad[SAF_TOKEN_MAX_LEN];
	size_t len;
	unsigned tried = 0;

	clock_now = NOW;
	n = node_new(target, NK, PSK, 16);
	len = mint(NK, PSK, target, EXPIRY, 0x5a, tok);
	assert_int_equal(len, 1 + addr_len + SAF_PORT_LEN + 1 +
				      SAF_SESSION_ID_LEN + 8 + 1 +
				      SAF_NONCE_LEN + 1 + SAF_SIGNATURE_LEN);
	for (size_t i = 0; i < len; i++) {
		saf_verdict want = expected_for_offset(i, addr_len);

		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(bad, tok, len);
			bad[i] ^= (uint8_t)(1u << bit);
			if (verify(&n, bad, len) != want)
				fail_msg("%s: byte %zu bit %u: %s, want %s",
					 target, i, bit,
					 saf_verdict_name(verify(&n, bad, len)),
					 saf_verdict_name(want));
			tried++;
		}
		memcpy(bad, tok, len);
		bad[i] ^= 0xff;
		if (verify(&n, bad, len) != want)
			fail_msg("%s: byte %zu xor 0xff: %s, want %s", target,
				 i, saf_verdict_name(verify(&n, bad, len)),
				 saf_verdict_name(want));
		tried++;
	}
	assert_int_equal(tried, len * 9);
	/* No refusal recorded a nonce: the original is still good, once. */
	assert_int_equal(inserted(&n), 0);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_REPLAYED);
	node_free(&n);
}

static void test_every_bit_and_byte_flipped_v4(void **state)
{
	(void)state;
	flip_matrix("192.0.2.10:443", SAF_IPV4_LEN);
}

static void test_every_bit_and_byte_flipped_v6(void **state)
{
	(void)state;
	flip_matrix("[2001:db8::10]:443", SAF_IPV6_LEN);
}

static void test_truncated_and_extended(void **state)
{
	static const uint8_t fills[] = {0x00, 0x20, 0xff};
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN + EXTEND_MAX];
	size_t len;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, 16);
	len = mint(NK, PSK, t, EXPIRY, 0x5a, tok);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(verify(&n, tok, cut), SAF_TOKEN_MALFORMED);
	for (size_t f = 0; f < sizeof(fills); f++) {
		memset(tok + len, fills[f], EXTEND_MAX);
		for (size_t extra = 1; extra <= EXTEND_MAX; extra++)
			assert_int_equal(verify(&n, tok, len + extra),
					 SAF_TOKEN_MALFORMED);
	}
	/* The token repeated after itself: still one token too long. */
	assert_true(2 * len <= sizeof(tok));
	memcpy(tok + len, tok, len);
	assert_int_equal(verify(&n, tok, 2 * len), SAF_TOKEN_MALFORMED);
	assert_int_equal(inserted(&n), 0);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	node_free(&n);
}

static void test_replayed_same_node(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	saf_replay_stats st;
	size_t len;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, 16);
	len = mint(NK, PSK, t, EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	for (int i = 0; i < 5; i++)
		assert_int_equal(verify(&n, tok, len), SAF_TOKEN_REPLAYED);
	/* Until its very last second of life. */
	clock_now = EXPIRY - 1;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_REPLAYED);
	saf_replay_cache_stats(n.cache, &st);
	assert_int_equal(st.inserted, 1);
	assert_int_equal(st.replays, 6);
	assert_int_equal(st.live, 1);
	node_free(&n);
}

/* Siblings share the node key (the key file), each has its own replay
 * cache and its own unicast address. The token names the first node's
 * address, so the sibling refuses it as wrong_target: the replay cache is
 * not shared, the target binding is what stops the replay. */
static void test_replayed_sibling_node(void **state)
{
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	size_t len;
	node a, b, b_same_addr;

	(void)state;
	clock_now = NOW;
	a = node_new("192.0.2.10:443", NK, PSK, 16);
	b = node_new("192.0.2.11:443", NK, PSK, 16);
	len = mint(NK, PSK, "192.0.2.10:443", EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&a, tok, len), SAF_TOKEN_VALID);
	assert_int_equal(verify(&b, tok, len), SAF_TOKEN_WRONG_TARGET);
	assert_int_equal(verify(&b, tok, len), SAF_TOKEN_WRONG_TARGET);
	assert_int_equal(inserted(&b), 0);
	/* What the target binding is worth: a process with the same keys at
	 * the same address but another replay cache (never a deployment
	 * saf supports: one node = one cache per address) would accept. */
	b_same_addr = node_new("192.0.2.10:443", NK, PSK, 16);
	assert_int_equal(verify(&b_same_addr, tok, len), SAF_TOKEN_VALID);
	node_free(&a);
	node_free(&b);
	node_free(&b_same_addr);
}

static void test_expired_by_one_second(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	size_t len;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, 16);
	len = mint(NK, PSK, t, EXPIRY, 0x5a, tok);
	clock_now = EXPIRY + 1;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_EXPIRED);
	clock_now = EXPIRY; /* "expiry_timestamp is in the future" */
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_EXPIRED);
	assert_int_equal(inserted(&n), 0);
	clock_now = EXPIRY - 1;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	/* The clock jumps back: a redeemed nonce stays redeemed. */
	clock_now = NOW - 3600;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_REPLAYED);
	node_free(&n);
}

/* The node's clock jumps forward past a redeemed token's expiry (the
 * cache drops its nonce then) and back again: the token
 * must not be redeemable a second time. */
static void test_clock_jumps_forward_and_back(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN], other[SAF_TOKEN_MAX_LEN];
	saf_replay_stats st;
	size_t len, olen;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, 4);
	len = mint(NK, PSK, t, EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	/* An hour ahead: one new token, then replays of it; every call
	 * sweeps a few slots, so the first nonce, expired by then, is
	 * dropped while the cache is far from full. */
	clock_now = NOW + 3600;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_EXPIRED);
	olen = mint(NK, PSK, t, NOW + 3660, 0x01, other);
	assert_int_equal(verify(&n, other, olen), SAF_TOKEN_VALID);
	for (int i = 0; i < 16; i++)
		assert_int_equal(verify(&n, other, olen), SAF_TOKEN_REPLAYED);
	/* Back to one second after the first redemption: the cache no
	 * longer holds that nonce, and still refuses it. */
	clock_now = NOW + 1;
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_REPLAYED);
	saf_replay_cache_stats(n.cache, &st);
	assert_int_equal(st.clock_back, 1);
	assert_int_equal(st.inserted, 2);
	assert_int_equal(st.live, 1); /* the first nonce is not held */
	node_free(&n);
}

static void test_other_target(void **state)
{
	static const char *const others[] = {
		"192.0.2.10:444",	   /* same address, other port */
		"192.0.2.11:443",	   /* other address, same port */
		"[::ffff:192.0.2.10]:443", /* the same IPv4 address, mapped */
		"[2001:db8::10]:443",	   /* another family */
		"0.0.0.0:443",
		"255.255.255.255:443",
	};
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	size_t len;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new("192.0.2.10:443", NK, PSK, 16);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		len = mint(NK, PSK, others[i], EXPIRY, (uint8_t)i, tok);
		if (verify(&n, tok, len) != SAF_TOKEN_WRONG_TARGET)
			fail_msg("token for %s accepted at 192.0.2.10:443",
				 others[i]);
	}
	assert_int_equal(inserted(&n), 0);
	node_free(&n);
}

static void test_other_session(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN], unsigned_tok[SAF_TOKEN_MAX_LEN];
	saf_token_keys other;
	saf_token dec;
	size_t len, ulen;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, 16);
	/* Minted for another session of the same node: its key differs. */
	len = mint(NK, PSK_OTHER, t, EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_BAD_SIGNATURE);
	/* Signed under this session's key but naming the other session's
	 * id: the session check on its own. */
	assert_int_equal(saf_token_keys_derive(NK, PSK_OTHER, sizeof(PSK_OTHER),
					       &other, NULL),
			 0);
	assert_int_equal(saf_token_decode(tok, len, &dec, NULL), 0);
	assert_memory_equal(dec.session_id.base, other.session_id,
			    SAF_SESSION_ID_LEN);
	assert_int_equal(saf_token_encode_unsigned(&dec, unsigned_tok,
						   sizeof(unsigned_tok), &ulen,
						   NULL),
			 0);
	unsigned_tok[ulen] = SAF_SIGNATURE_LEN;
	saf_token_hmac(&n.keys, unsigned_tok, ulen, unsigned_tok + ulen + 1);
	assert_int_equal(verify(&n, unsigned_tok, ulen + 1 + SAF_SIGNATURE_LEN),
			 SAF_TOKEN_SESSION_MISMATCH);
	assert_int_equal(inserted(&n), 0);
	saf_token_keys_wipe(&other);
	node_free(&n);
}

static void test_rotated_out_node_key(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[SAF_TOKEN_MAX_LEN];
	size_t len;
	node n;

	(void)state;
	clock_now = NOW;
	/* The node now runs with the new key; the token came from the old. */
	n = node_new(t, NK_ROTATED, PSK, 16);
	len = mint(NK, PSK, t, EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_BAD_SIGNATURE);
	assert_int_equal(inserted(&n), 0);
	/* And one minted under the new key is fine. */
	len = mint(NK_ROTATED, PSK, t, EXPIRY, 0x5a, tok);
	assert_int_equal(verify(&n, tok, len), SAF_TOKEN_VALID);
	node_free(&n);
}

#define CAP 8u

static void test_replay_cache_full_fails_closed(void **state)
{
	const char *t = "192.0.2.10:443";
	uint8_t tok[CAP][SAF_TOKEN_MAX_LEN], late[SAF_TOKEN_MAX_LEN],
		forged[SAF_TOKEN_MAX_LEN];
	size_t len[CAP], late_len;
	saf_replay_stats st;
	node n;

	(void)state;
	clock_now = NOW;
	n = node_new(t, NK, PSK, CAP);
	for (unsigned i = 0; i < CAP; i++) {
		len[i] = mint(NK, PSK, t, EXPIRY, (uint8_t)i, tok[i]);
		assert_int_equal(verify(&n, tok[i], len[i]), SAF_TOKEN_VALID);
	}
	/* A later token: refused while every slot is live, each time. */
	late_len = mint(NK, PSK, t, EXPIRY + 100, 0xee, late);
	assert_int_equal(verify(&n, late, late_len), SAF_TOKEN_REPLAY_FULL);
	assert_int_equal(verify(&n, late, late_len), SAF_TOKEN_REPLAY_FULL);
	/* No live nonce was evicted to make room. */
	for (unsigned i = 0; i < CAP; i++)
		assert_int_equal(verify(&n, tok[i], len[i]),
				 SAF_TOKEN_REPLAYED);
	/* Forged tokens do not reach the cache, so are not counted full. */
	memcpy(forged, late, late_len);
	forged[late_len - 1] ^= 1;
	assert_int_equal(verify(&n, forged, late_len), SAF_TOKEN_BAD_SIGNATURE);
	saf_replay_cache_stats(n.cache, &st);
	assert_int_equal(st.capacity, CAP);
	assert_int_equal(st.live, CAP);
	assert_int_equal(st.inserted, CAP);
	assert_int_equal(st.full, 2);
	assert_int_equal(st.replays, CAP);
	/* Once the first eight expire the late token gets in, once. */
	clock_now = EXPIRY;
	assert_int_equal(verify(&n, late, late_len), SAF_TOKEN_VALID);
	assert_int_equal(verify(&n, late, late_len), SAF_TOKEN_REPLAYED);
	node_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_bit_and_byte_flipped_v4),
		cmocka_unit_test(test_every_bit_and_byte_flipped_v6),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_replayed_same_node),
		cmocka_unit_test(test_replayed_sibling_node),
		cmocka_unit_test(test_expired_by_one_second),
		cmocka_unit_test(test_clock_jumps_forward_and_back),
		cmocka_unit_test(test_other_target),
		cmocka_unit_test(test_other_session),
		cmocka_unit_test(test_rotated_out_node_key),
		cmocka_unit_test(test_replay_cache_full_fails_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
