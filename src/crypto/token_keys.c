/* SPDX-License-Identifier: MIT */
/* Key derivation, SPEC 3.3: session_id and the token key from (NK, PSK). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "saf/token_crypto.h"

#define SHA256_LEN 32u
#define SHA256_BLOCK 64u

/* HKDF-Extract (RFC 5869 2.2): PRK = HMAC-Hash(salt, IKM). */
static int hkdf_extract(const uint8_t *salt, size_t salt_len,
			const uint8_t *ikm, size_t ikm_len,
			uint8_t prk[SHA256_LEN], saf_error *err)
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n) ||
	    n != SHA256_LEN)
		return saf_fail(err, SAF_E_CRYPTO, "HKDF-Extract failed");
	return 0;
}

/* HKDF-Expand (RFC 5869 2.3) for L = 32 = HashLen: one block,
 * T(1) = HMAC-Hash(PRK, info | 0x01). */
static int hkdf_expand32(const uint8_t prk[SHA256_LEN], const char *info,
			 uint8_t out[SHA256_LEN], saf_error *err)
{
	uint8_t msg[64];
	size_t n = strlen(info);
	unsigned int outn = 0;

	if (n + 1 > sizeof(msg))
		return saf_fail(err, SAF_E_INVAL, "HKDF info too long");
	memcpy(msg, info, n);
	msg[n] = 0x01;
	if (!HMAC(EVP_sha256(), prk, SHA256_LEN, msg, n + 1, out, &outn) ||
	    outn != SHA256_LEN)
		return saf_fail(err, SAF_E_CRYPTO, "HKDF-Expand failed");
	return 0;
}

static int check_psk(size_t psk_len, saf_error *err)
{
	if (psk_len == 0 || psk_len > SAF_PSK_MAX_LEN)
		return saf_fail(err, SAF_E_INVAL,
				"PSK length %zu outside 1..%u", psk_len,
				SAF_PSK_MAX_LEN);
	return 0;
}

int saf_session_id_derive(const uint8_t *psk, size_t psk_len,
			  uint8_t out[SAF_SESSION_ID_LEN], saf_error *err)
{
	static const char salt[] = SAF_HKDF_SALT_SESSION_ID;
	uint8_t prk[SHA256_LEN];
	int rc;

	if (check_psk(psk_len, err))
		return -1;
	rc = hkdf_extract((const uint8_t *)salt, sizeof(salt) - 1, psk,
			  psk_len, prk, err);
	if (rc == 0)
		rc = hkdf_expand32(prk, "", out, err);
	OPENSSL_cleanse(prk, sizeof(prk));
	return rc;
}

/* Absorbs key ^ pad into a fresh SHA-256 state (RFC 2104); the key is at
 * most one block long here, so it is used as is. */
static EVP_MD_CTX *padded_state(const uint8_t *key, size_t key_len,
				uint8_t pad)
{
	uint8_t block[SHA256_BLOCK] = { 0 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memcpy(block, key, key_len);
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= pad;
	if (ctx && (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(ctx, block, sizeof(block)))) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return ctx;
}

int saf_token_keys_derive(const uint8_t node_key[SAF_NODE_KEY_LEN],
			  const uint8_t *psk, size_t psk_len,
			  saf_token_keys *out, saf_error *err)
{
	saf_token_keys k = { 0 };
	uint8_t prk[SHA256_LEN];

	if (check_psk(psk_len, err))
		return -1;
	if (saf_session_id_derive(psk, psk_len, k.session_id, err))
		return -1;
	/* NK as the salt: the client knows the PSK but not NK, so it cannot
	 * mint itself a token (SPEC 3.3, "Why NK"). */
	if (hkdf_extract(node_key, SAF_NODE_KEY_LEN, psk, psk_len, prk, err) ||
	    hkdf_expand32(prk, SAF_HKDF_INFO_TOKEN_KEY, k.key, err)) {
		OPENSSL_cleanse(prk, sizeof(prk));
		saf_token_keys_wipe(&k);
		return -1;
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	k.hmac_inner = padded_state(k.key, sizeof(k.key), 0x36);
	k.hmac_outer = padded_state(k.key, sizeof(k.key), 0x5c);
	if (!k.hmac_inner || !k.hmac_outer) {
		saf_token_keys_wipe(&k);
		return saf_fail(err, SAF_E_CRYPTO, "HMAC setup failed");
	}
	*out = k;
	return 0;
}

void saf_token_keys_wipe(saf_token_keys *k)
{
	if (!k)
		return;
	/* EVP_MD_CTX_free cleanses the digest state before freeing it. */
	EVP_MD_CTX_free(k->hmac_inner);
	EVP_MD_CTX_free(k->hmac_outer);
	OPENSSL_cleanse(k, sizeof(*k));
}

int saf_token_hmac(const saf_token_keys *keys, const uint8_t *msg, size_t len,
		   uint8_t out[SAF_SIGNATURE_LEN], saf_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t inner[SHA256_LEN];
	int ok;

	if (!ctx)
		return saf_fail(err, SAF_E_NOMEM, "HMAC: out of memory");
	ok = keys->hmac_inner && keys->hmac_outer &&
	     EVP_MD_CTX_copy_ex(ctx, keys->hmac_inner) &&
	     EVP_DigestUpdate(ctx, msg, len) &&
	     EVP_DigestFinal_ex(ctx, inner, NULL) &&
	     EVP_MD_CTX_copy_ex(ctx, keys->hmac_outer) &&
	     EVP_DigestUpdate(ctx, inner, sizeof(inner)) &&
	     EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(inner, sizeof(inner));
	if (!ok)
		return saf_fail(err, SAF_E_CRYPTO, "HMAC-SHA256 failed");
	return 0;
}
