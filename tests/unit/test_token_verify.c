/* SPDX-License-Identifier: MIT */
/* src/crypto/token_verify.c: every verdict, in the documented order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/token_crypto.h"

#define NOW    1700000000u
#define EXPIRY (NOW + 600u)

struct fixture {
	saf_token_keys keys;
	saf_addr local;
	uint8_t tok[300];
	size_t len;
	uint64_t clock;
	saf_replay_cache *cache;
	saf_verify_params p;
};

static uint64_t fake_clock(void *arg)
{
	return *(const uint64_t *)arg;
}

static int setup(void **state)
{
	static struct fixture f;
	uint8_t psk[32], nk[32], nonce[16];

	memset(&f, 0, sizeof(f));
	memset(psk, 0x31, sizeof(psk));
	memset(nk, 0x42, sizeof(nk));
	memset(nonce, 0x53, sizeof(nonce));
	if (saf_token_keys_derive(nk, psk, sizeof(psk), &f.keys, NULL) ||
	    saf_addr_parse("192.0.2.10:443", true, &f.local, NULL) ||
	    saf_token_mint(&f.keys, &f.local, EXPIRY, nonce, sizeof(nonce),
			   f.tok, sizeof(f.tok), &f.len, NULL))
		return -1;
	f.clock = NOW;
	f.cache = saf_replay_cache_new(16, fake_clock, &f.clock, NULL);
	if (!f.cache)
		return -1;
	f.p.keys = &f.keys;
	f.p.local = &f.local;
	f.p.now = NOW;
	f.p.replay = f.cache;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	saf_replay_cache_free(f->cache);
	saf_token_keys_wipe(&f->keys);
	return 0;
}

static saf_verdict verify(struct fixture *f, const uint8_t *tok, size_t len,
			  saf_error *err)
{
	return saf_token_verify(&f->p, tok, len, NULL, err);
}

static void test_valid_then_replayed(void **state)
{
	struct fixture *f = *state;
	saf_replay_stats st;
	saf_error err;
	saf_token t;

	assert_int_equal(saf_token_verify(&f->p, f->tok, f->len, &t, &err),
			 SAF_TOKEN_VALID);
	assert_true(t.expiry == EXPIRY);
	assert_true(saf_addr_equal(&t.target, &f->local));
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_REPLAYED);
	assert_string_equal(err.msg, "token: nonce already redeemed");
	saf_replay_cache_stats(f->cache, &st);
	assert_int_equal(st.inserted, 1);
	assert_int_equal(st.replays, 1);
}

static void test_without_cache_no_replay_check(void **state)
{
	struct fixture *f = *state;

	f->p.replay = NULL;
	assert_int_equal(verify(f, f->tok, f->len, NULL), SAF_TOKEN_VALID);
	assert_int_equal(verify(f, f->tok, f->len, NULL), SAF_TOKEN_VALID);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[301];
	saf_error err;

	for (size_t cut = 0; cut < f->len; cut++)
		assert_int_equal(verify(f, f->tok, cut, &err),
				 SAF_TOKEN_MALFORMED);
	memcpy(buf, f->tok, f->len);
	buf[f->len] = 0;
	assert_int_equal(verify(f, buf, f->len + 1, &err), SAF_TOKEN_MALFORMED);
	assert_int_equal(err.code, SAF_E_TRAILING);
	buf[0] = 2;
	assert_int_equal(verify(f, buf, f->len, &err), SAF_TOKEN_MALFORMED);
	{
		saf_verify_params none = {0};

		assert_int_equal(
			saf_token_verify(&none, f->tok, f->len, NULL, &err),
			SAF_TOKEN_MALFORMED);
	}
}

/* Flipping any one byte gives bad_signature, or malformed when the flip
 * broke the structure; never valid. Nothing reaches the replay cache. */
static void test_each_flipped_byte(void **state)
{
	struct fixture *f = *state;
	size_t bad_sig = 0;
	saf_replay_stats st;
	uint8_t buf[300];

	for (size_t i = 0; i < f->len; i++) {
		saf_token t;
		saf_error err;
		saf_verdict v;

		memcpy(buf, f->tok, f->len);
		buf[i] ^= 0x01;
		v = verify(f, buf, f->len, &err);
		if (saf_token_decode(buf, f->len, &t, NULL) == 0) {
			if (v != SAF_TOKEN_BAD_SIGNATURE)
				fail_msg("byte %zu: %s", i,
					 saf_verdict_name(v));
			bad_sig++;
		} else {
			assert_int_equal(v, SAF_TOKEN_MALFORMED);
		}
	}
	/* Only the type and the four length bytes can break the structure. */
	assert_true(bad_sig >= f->len - 4);
	saf_replay_cache_stats(f->cache, &st);
	assert_int_equal(st.inserted, 0);
}

static void test_wrong_keys_and_signature_length(void **state)
{
	struct fixture *f = *state;
	uint8_t psk[32], nk[32], buf[300];
	saf_token_keys other;
	saf_error err;
	saf_token t;
	size_t len;

	memset(psk, 0x31, sizeof(psk));
	memset(nk, 0x43, sizeof(nk)); /* another node key */
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &other, NULL), 0);
	f->p.keys = &other;
	assert_int_equal(verify(f, f->tok, f->len, &err),
			 SAF_TOKEN_BAD_SIGNATURE);
	assert_string_equal(err.msg, "token: signature does not verify under "
				     "this session's key");
	f->p.keys = &f->keys;

	/* A 33-byte signature vector (the right MAC plus a byte) decodes but
	 * cannot be HMAC-SHA256. */
	assert_int_equal(saf_token_decode(f->tok, f->len, &t, NULL), 0);
	memcpy(buf, f->tok, f->len);
	buf[t.signed_len] = 33;
	buf[f->len] = 0;
	len = f->len + 1;
	assert_int_equal(verify(f, buf, len, &err), SAF_TOKEN_BAD_SIGNATURE);
}

/* A correctly signed token for another session id. */
static void test_session_mismatch(void **state)
{
	struct fixture *f = *state;
	uint8_t other_sid[32], nonce[16], buf[300];
	saf_writer w;
	saf_error err;
	saf_token t;
	size_t len;

	memset(other_sid, 0x77, sizeof(other_sid));
	memset(nonce, 1, sizeof(nonce));
	memset(&t, 0, sizeof(t));
	t.target = f->local;
	t.session_id = (saf_slice){other_sid, sizeof(other_sid)};
	t.expiry = EXPIRY;
	t.nonce = (saf_slice){nonce, sizeof(nonce)};
	assert_int_equal(
		saf_token_encode_unsigned(&t, buf, sizeof(buf), &len, NULL), 0);
	{
		uint8_t sig[32];

		saf_token_hmac(&f->keys, buf, len, sig);
		saf_writer_init(&w, buf + len, sizeof(buf) - len);
		saf_put_vec8(&w, sig, sizeof(sig));
		len += w.len;
	}
	assert_int_equal(verify(f, buf, len, &err), SAF_TOKEN_SESSION_MISMATCH);
	assert_string_equal(err.msg,
			    "token: session_id is not the resumed session's");
}

static void test_expired_edges(void **state)
{
	struct fixture *f = *state;
	saf_error err;

	f->p.now = EXPIRY;
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_EXPIRED);
	assert_string_equal(err.msg, "token: expired at 1700000600 (now "
				     "1700000600)");
	f->p.now = EXPIRY + 1;
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_EXPIRED);
	f->p.now = EXPIRY - 1;
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_VALID);
}

static void test_wrong_target(void **state)
{
	struct fixture *f = *state;
	const char *const others[] = {"192.0.2.10:444", "192.0.2.11:443",
				      "[::ffff:192.0.2.10]:443",
				      "[2001:db8::a]:443"};
	saf_error err;
	saf_addr local;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(saf_addr_parse(others[i], true, &local, NULL),
				 0);
		f->p.local = &local;
		assert_int_equal(verify(f, f->tok, f->len, &err),
				 SAF_TOKEN_WRONG_TARGET);
	}
	assert_int_equal(saf_addr_parse("192.0.2.10:444", true, &local, NULL),
			 0);
	assert_int_equal(verify(f, f->tok, f->len, &err),
			 SAF_TOKEN_WRONG_TARGET);
	assert_string_equal(err.msg, "token: target 192.0.2.10:443 is not the "
				     "local address 192.0.2.10:444");
	/* A local address without a port never matches. */
	local.has_port = false;
	local.port = 443;
	assert_int_equal(verify(f, f->tok, f->len, &err),
			 SAF_TOKEN_WRONG_TARGET);
	f->p.local = &f->local;
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_VALID);
}

/* Order: expired beats wrong target; neither records the nonce. */
static void test_order_and_no_record_on_failure(void **state)
{
	struct fixture *f = *state;
	saf_replay_stats st;
	saf_addr local;

	assert_int_equal(saf_addr_parse("192.0.2.99:443", true, &local, NULL),
			 0);
	f->p.local = &local;
	f->p.now = EXPIRY;
	assert_int_equal(verify(f, f->tok, f->len, NULL), SAF_TOKEN_EXPIRED);
	f->p.now = NOW;
	assert_int_equal(verify(f, f->tok, f->len, NULL),
			 SAF_TOKEN_WRONG_TARGET);
	saf_replay_cache_stats(f->cache, &st);
	assert_int_equal(st.inserted, 0);
	f->p.local = &f->local;
	assert_int_equal(verify(f, f->tok, f->len, NULL), SAF_TOKEN_VALID);
}

static void test_replay_cache_full(void **state)
{
	struct fixture *f = *state;
	saf_replay_cache *small =
		saf_replay_cache_new(1, fake_clock, &f->clock, NULL);
	uint8_t nonce[16], tok2[300];
	saf_error err;
	size_t len2;

	assert_non_null(small);
	f->p.replay = small;
	memset(nonce, 0x99, sizeof(nonce));
	assert_int_equal(saf_token_mint(&f->keys, &f->local, EXPIRY, nonce,
					sizeof(nonce), tok2, sizeof(tok2),
					&len2, NULL),
			 0);
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_VALID);
	assert_int_equal(verify(f, tok2, len2, &err), SAF_TOKEN_REPLAY_FULL);
	assert_string_equal(err.msg,
			    "token: replay cache full, refusing (fail closed)");
	/* Still full for the same token, still replayed for the first. */
	assert_int_equal(verify(f, tok2, len2, &err), SAF_TOKEN_REPLAY_FULL);
	assert_int_equal(verify(f, f->tok, f->len, &err), SAF_TOKEN_REPLAYED);
	saf_replay_cache_free(small);
}

static void test_verdict_names(void **state)
{
	static const char *const want[SAF_VERDICT_COUNT] = {
		"valid",   "malformed", "bad_signature", "session_mismatch",
		"expired", "replayed",	"wrong_target",	 "replay_cache_full",
	};

	(void)state;
	for (int v = 0; v < (int)SAF_VERDICT_COUNT; v++)
		assert_string_equal(saf_verdict_name((saf_verdict)v), want[v]);
	assert_string_equal(saf_verdict_name(SAF_VERDICT_COUNT), "unknown");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid_then_replayed),
		T(test_without_cache_no_replay_check),
		T(test_malformed),
		T(test_each_flipped_byte),
		T(test_wrong_keys_and_signature_length),
		T(test_session_mismatch),
		T(test_expired_edges),
		T(test_wrong_target),
		T(test_order_and_no_record_on_failure),
		T(test_replay_cache_full),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
