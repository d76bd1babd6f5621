/* SPDX-License-Identifier: MIT */
/* src/crypto/hmac_sha256.c: RFC 4231 vectors, and agreement with
 * libcrypto's HMAC() for every message length up to three blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/hmac_sha256.h"
#include "saf/hex.h"
#include "saf/token_crypto.h"

static void mac_hex(const uint8_t *key, size_t key_len, const uint8_t *msg,
		    size_t len, char out[65])
{
	_Alignas(16) uint8_t st[SAF_HMAC_STATE_LEN];
	uint8_t mac[32];

	saf_hmac_sha256_prekey(st, key, key_len);
	saf_hmac_sha256_final(st, msg, len, mac);
	saf_hmac_sha256_wipe(st);
	saf_hex_encode(mac, sizeof(mac), out);
}

static void test_rfc4231(void **state)
{
	uint8_t key[131], msg[152];
	char out[65];

	(void)state;
	/* Test case 1 */
	memset(key, 0x0b, 20);
	mac_hex(key, 20, (const uint8_t *)"Hi There", 8, out);
	assert_string_equal(out,
			    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833d"
			    "a726e9376c2e32cff7");
	/* Test case 2 */
	mac_hex((const uint8_t *)"Jefe", 4,
		(const uint8_t *)"what do ya want for nothing?", 28, out);
	assert_string_equal(out,
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739"
			    "839dec58b964ec3843");
	/* Test case 6: a 131-byte key is hashed first. */
	memset(key, 0xaa, sizeof(key));
	memcpy(msg, "Test Using Larger Than Block-Size Key - Hash Key First",
	       54);
	mac_hex(key, sizeof(key), msg, 54, out);
	assert_string_equal(out,
			    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5"
			    "140546040f0ee37f54");
}

static void test_matches_libcrypto(void **state)
{
	uint8_t key[32], msg[200], want[32];
	_Alignas(16) uint8_t st[SAF_HMAC_STATE_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	saf_hmac_sha256_prekey(st, key, sizeof(key));
	for (size_t len = 0; len <= sizeof(msg); len++) {
		uint8_t got[32];
		unsigned want_len = 0;

		assert_non_null(HMAC(EVP_sha256(), key, (int)sizeof(key), msg,
				     len, want, &want_len));
		saf_hmac_sha256_final(st, msg, len, got);
		assert_memory_equal(got, want, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_matches_libcrypto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
