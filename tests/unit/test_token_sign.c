/* SPDX-License-Identifier: MIT */
/* src/crypto/token_sign.c: minting reproduces the known-answer token, the
 * signature is HMAC-SHA256 over the signed bytes, and bad input fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "saf/token_crypto.h"
#include "unit/vectors.h"

static void kat_keys(vec_file *v, saf_token_keys *k)
{
	uint8_t psk[64], nk[32];
	size_t psk_len;

	vec_load("token_crypto/kat1.hex", v);
	psk_len = vec_hex(v, "psk", psk, sizeof(psk));
	assert_int_equal(vec_hex(v, "node_key", nk, sizeof(nk)), 32);
	assert_int_equal(saf_token_keys_derive(nk, psk, psk_len, k, NULL), 0);
}

static void test_known_answer_token(void **state)
{
	vec_file *v = malloc(sizeof(*v));
	uint8_t nonce[32], want[256], got[256], sig[32];
	size_t nonce_len, want_len, len;
	saf_token_keys k;
	saf_error err;
	saf_addr target;

	(void)state;
	assert_non_null(v);
	kat_keys(v, &k);
	nonce_len = vec_hex(v, "nonce", nonce, sizeof(nonce));
	want_len = vec_hex(v, "token", want, sizeof(want));
	assert_int_equal(
		saf_addr_parse(vec_get(v, "target"), true, &target, &err), 0);
	assert_int_equal(
		saf_token_mint(&k, &target,
			       strtoull(vec_get(v, "expiry"), NULL, 10), nonce,
			       nonce_len, got, sizeof(got), &len, &err),
		0);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, want, len);
	assert_int_equal(vec_hex(v, "signature", sig, sizeof(sig)), 32);
	assert_memory_equal(got + len - 32, sig, 32);
	free(v);
}

static void test_signature_is_hmac_of_signed_bytes(void **state)
{
	uint8_t psk[32] = {9}, nk[32] = {8}, out[300], mac[32];
	unsigned mac_len = 0;
	saf_token_keys k, hand;
	saf_token t;
	saf_addr target;
	size_t len;

	(void)state;
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &k, NULL), 0);
	assert_int_equal(
		saf_addr_parse("[2001:db8::5]:443", true, &target, NULL), 0);
	assert_int_equal(saf_token_mint(&k, &target, 12345, NULL, 0, out,
					sizeof(out), &len, NULL),
			 0);
	assert_int_equal(saf_token_decode(out, len, &t, NULL), 0);
	assert_int_equal(t.nonce.len, SAF_NONCE_LEN);
	assert_int_equal(t.signature.len, SAF_SIGNATURE_LEN);
	assert_memory_equal(t.session_id.base, k.session_id, 32);
	assert_non_null(HMAC(EVP_sha256(), k.key, 32, out, t.signed_len, mac,
			     &mac_len));
	assert_memory_equal(t.signature.base, mac, 32);

	/* Keys without the pre-keyed state sign the same. */
	memset(&hand, 0, sizeof(hand));
	memcpy(hand.key, k.key, 32);
	saf_token_hmac(&hand, out, t.signed_len, mac);
	assert_memory_equal(t.signature.base, mac, 32);
}

static void test_random_nonces_differ(void **state)
{
	uint8_t psk[32] = {1}, nk[32] = {2}, a[200], b[200];
	saf_token_keys k;
	saf_addr target;
	size_t la, lb;

	(void)state;
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &k, NULL), 0);
	assert_int_equal(saf_addr_parse("192.0.2.1:443", true, &target, NULL),
			 0);
	assert_int_equal(saf_token_mint(&k, &target, 1, NULL, 0, a, sizeof(a),
					&la, NULL),
			 0);
	assert_int_equal(saf_token_mint(&k, &target, 1, NULL, 0, b, sizeof(b),
					&lb, NULL),
			 0);
	assert_int_equal(la, lb);
	assert_memory_not_equal(a, b, la);
}

static void test_mint_errors(void **state)
{
	static uint8_t nonce[256], out[600];
	uint8_t psk[32] = {1}, nk[32] = {2};
	saf_token_keys k;
	saf_error err;
	saf_addr target;
	size_t len, full;

	(void)state;
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &k, NULL), 0);
	assert_int_equal(saf_addr_parse("192.0.2.1:443", true, &target, NULL),
			 0);
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 15, out,
					sizeof(out), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 256, out,
					sizeof(out), &len, &err),
			 -1);
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 255, out,
					sizeof(out), &len, &err),
			 0);
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 16, out,
					sizeof(out), &full, &err),
			 0);
	for (size_t cap = 0; cap < full; cap++) {
		assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 16, out,
						cap, &len, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_NOSPACE);
	}
	target.has_port = false;
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 16, out,
					sizeof(out), &len, &err),
			 -1);
	assert_string_equal(err.msg, "token: target needs a port");
	target.has_port = true;
	target.family = 9;
	assert_int_equal(saf_token_mint(&k, &target, 1, nonce, 16, out,
					sizeof(out), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer_token),
		cmocka_unit_test(test_signature_is_hmac_of_signed_bytes),
		cmocka_unit_test(test_random_nonces_differ),
		cmocka_unit_test(test_mint_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
