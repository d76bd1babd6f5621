/* SPDX-License-Identifier: MIT */
/* src/crypto/token_keys.c: the SPEC 3.3 key schedule against a known-answer
 * vector computed outside saf (tests/vectors/token_crypto/kat1.hex). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/token_crypto.h"
#include "unit/vectors.h"

static void test_known_answer(void **state)
{
	vec_file *v = malloc(sizeof(*v));
	uint8_t psk[64], nk[64], sid[32], key[32];
	saf_token_keys k;
	saf_error err;
	size_t psk_len;

	(void)state;
	assert_non_null(v);
	vec_load("token_crypto/kat1.hex", v);
	psk_len = vec_hex(v, "psk", psk, sizeof(psk));
	assert_int_equal(vec_hex(v, "node_key", nk, sizeof(nk)), 32);
	assert_int_equal(vec_hex(v, "session_id", sid, sizeof(sid)), 32);
	assert_int_equal(vec_hex(v, "key", key, sizeof(key)), 32);

	assert_int_equal(saf_token_keys_derive(nk, psk, psk_len, &k, &err), 0);
	assert_memory_equal(k.session_id, sid, 32);
	assert_memory_equal(k.key, key, 32);
	assert_true(k.hmac_ready);

	memset(sid, 0, sizeof(sid));
	assert_int_equal(saf_session_id_derive(psk, psk_len, sid, &err), 0);
	assert_memory_equal(k.session_id, sid, 32);
	free(v);
}

static void test_node_key_changes_key_not_session_id(void **state)
{
	uint8_t psk[48], nk1[32], nk2[32];
	saf_token_keys a, b;

	(void)state;
	memset(psk, 7, sizeof(psk));
	memset(nk1, 1, sizeof(nk1));
	memset(nk2, 1, sizeof(nk2));
	nk2[31] = 2;
	assert_int_equal(saf_token_keys_derive(nk1, psk, 48, &a, NULL), 0);
	assert_int_equal(saf_token_keys_derive(nk2, psk, 48, &b, NULL), 0);
	assert_memory_equal(a.session_id, b.session_id, 32);
	assert_memory_not_equal(a.key, b.key, 32);
	/* A different PSK changes both. */
	psk[0] ^= 1;
	assert_int_equal(saf_token_keys_derive(nk1, psk, 48, &b, NULL), 0);
	assert_memory_not_equal(a.session_id, b.session_id, 32);
	assert_memory_not_equal(a.key, b.key, 32);
	/* The PSK length matters (a 32-byte prefix is another PSK). */
	assert_int_equal(saf_token_keys_derive(nk1, psk, 32, &b, NULL), 0);
	assert_memory_not_equal(a.session_id, b.session_id, 32);
}

static void test_psk_length_limits(void **state)
{
	uint8_t psk[SAF_PSK_MAX_LEN + 1], nk[32] = {0}, sid[32];
	saf_token_keys k;
	saf_error err;

	(void)state;
	memset(psk, 3, sizeof(psk));
	assert_int_equal(saf_token_keys_derive(nk, psk, 0, &k, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(err.msg, "psk: length 0 outside 1..64");
	assert_int_equal(
		saf_token_keys_derive(nk, psk, SAF_PSK_MAX_LEN + 1, &k, &err),
		-1);
	assert_int_equal(saf_session_id_derive(psk, 0, sid, &err), -1);
	assert_int_equal(saf_token_keys_derive(nk, psk, 1, &k, &err), 0);
	assert_int_equal(
		saf_token_keys_derive(nk, psk, SAF_PSK_MAX_LEN, &k, &err), 0);
}

static void test_wipe_and_prepare(void **state)
{
	static const saf_token_keys zero;
	uint8_t psk[32] = {1}, nk[32] = {2};
	saf_token_keys k, hand;

	(void)state;
	assert_int_equal(saf_token_keys_derive(nk, psk, 32, &k, NULL), 0);
	/* Keys filled by hand get the same pre-keyed state. */
	memset(&hand, 0, sizeof(hand));
	memcpy(hand.key, k.key, sizeof(k.key));
	saf_token_keys_prepare(&hand);
	assert_true(hand.hmac_ready);
	assert_memory_equal(hand.hmac_state, k.hmac_state,
			    sizeof(k.hmac_state));

	saf_token_keys_wipe(&k);
	assert_memory_equal(&k, &zero, sizeof(k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_node_key_changes_key_not_session_id),
		cmocka_unit_test(test_psk_length_limits),
		cmocka_unit_test(test_wipe_and_prepare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
