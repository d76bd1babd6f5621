/* SPDX-License-Identifier: MIT */
/*
 * Pre-keyed HMAC-SHA256 on libcrypto's SHA256_CTX. The low-level SHA-256
 * calls are deprecated in OpenSSL 3 in favour of EVP, but they are the only
 * libcrypto interface whose state can be copied without an allocation, and
 * they use the same assembly (SHA-NI where the CPU has it). The deprecation
 * is silenced for this file alone.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "hmac_sha256.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "saf/token_crypto.h"

#define SHA256_BLOCK 64u

struct hmac_state {
	SHA256_CTX inner; /* after H(key ^ ipad) */
	SHA256_CTX outer; /* after H(key ^ opad) */
};

_Static_assert(sizeof(struct hmac_state) <= SAF_HMAC_STATE_LEN,
	       "SAF_HMAC_STATE_LEN too small for two SHA256_CTX");

void saf_hmac_sha256_prekey(void *state, const uint8_t *key, size_t key_len)
{
	uint8_t block[SHA256_BLOCK], pad[SHA256_BLOCK];
	struct hmac_state st;

	memset(block, 0, sizeof(block));
	if (key_len > SHA256_BLOCK)
		SHA256(key, key_len, block); /* RFC 2104: hash long keys */
	else if (key_len)
		memcpy(block, key, key_len);

	for (size_t i = 0; i < SHA256_BLOCK; i++)
		pad[i] = block[i] ^ 0x36;
	SHA256_Init(&st.inner);
	SHA256_Update(&st.inner, pad, sizeof(pad));
	for (size_t i = 0; i < SHA256_BLOCK; i++)
		pad[i] = block[i] ^ 0x5c;
	SHA256_Init(&st.outer);
	SHA256_Update(&st.outer, pad, sizeof(pad));

	memcpy(state, &st, sizeof(st));
	OPENSSL_cleanse(&st, sizeof(st));
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(pad, sizeof(pad));
}

void saf_hmac_sha256_final(const void *state, const uint8_t *msg, size_t len,
			   uint8_t out[SAF_SHA256_LEN])
{
	struct hmac_state st;
	uint8_t inner[SAF_SHA256_LEN];

	memcpy(&st, state, sizeof(st));
	SHA256_Update(&st.inner, msg, len);
	SHA256_Final(inner, &st.inner);
	SHA256_Update(&st.outer, inner, sizeof(inner));
	SHA256_Final(out, &st.outer);
	OPENSSL_cleanse(&st, sizeof(st));
	OPENSSL_cleanse(inner, sizeof(inner));
}

void saf_hmac_sha256_wipe(void *state)
{
	OPENSSL_cleanse(state, sizeof(struct hmac_state));
}
