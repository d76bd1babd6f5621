/* SPDX-License-Identifier: MIT */
/*
 * Key schedule of SPEC 3.3, on libcrypto's HKDF:
 *
 *   session_id = HKDF-Expand(HKDF-Extract(salt = "saf session id",
 *                                         IKM = PSK), "", 32)
 *   key        = HKDF-Expand(HKDF-Extract(salt = NK, IKM = PSK),
 *                            "saf token v1", 32)
 *
 * Both are HKDF in extract-and-expand mode (RFC 5869).
 */
#include "saf/token_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "hmac_sha256.h"

static int hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		       size_t ikm_len, const char *info, uint8_t *out,
		       size_t out_len, saf_error *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if (!kdf)
		return saf_fail(err, SAF_E_CRYPTO,
				"libcrypto: HKDF is not available");
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx) {
		rc = saf_fail(err, SAF_E_NOMEM, "libcrypto: HKDF context");
		goto out;
	}
	/* OSSL_PARAM wants non-const pointers; HKDF only reads them. */
	*p++ = OSSL_PARAM_construct_utf8_string(
		OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikm_len);
	*p++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		rc = saf_fail(err, SAF_E_CRYPTO, "libcrypto: HKDF failed");
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int check_psk(size_t psk_len, saf_error *err)
{
	if (psk_len == 0 || psk_len > SAF_PSK_MAX_LEN)
		return saf_fail(err, SAF_E_RANGE,
				"psk: length %zu outside 1..%u", psk_len,
				SAF_PSK_MAX_LEN);
	return 0;
}

int saf_session_id_derive(const uint8_t *psk, size_t psk_len,
			  uint8_t out[SAF_SESSION_ID_LEN], saf_error *err)
{
	static const char salt[] = SAF_HKDF_SALT_SESSION_ID;

	if (check_psk(psk_len, err))
		return -1;
	return hkdf_sha256((const uint8_t *)salt, sizeof(salt) - 1, psk,
			   psk_len, "", out, SAF_SESSION_ID_LEN, err);
}

void saf_token_keys_prepare(saf_token_keys *k)
{
	saf_hmac_sha256_prekey(k->hmac_state, k->key, sizeof(k->key));
	k->hmac_ready = true;
}

int saf_token_keys_derive(const uint8_t node_key[SAF_NODE_KEY_LEN],
			  const uint8_t *psk, size_t psk_len,
			  saf_token_keys *out, saf_error *err)
{
	saf_token_keys k;

	memset(&k, 0, sizeof(k));
	if (saf_session_id_derive(psk, psk_len, k.session_id, err) ||
	    hkdf_sha256(node_key, SAF_NODE_KEY_LEN, psk, psk_len,
			SAF_HKDF_INFO_TOKEN_KEY, k.key, sizeof(k.key), err)) {
		OPENSSL_cleanse(&k, sizeof(k));
		return -1;
	}
	saf_token_keys_prepare(&k);
	*out = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

void saf_token_keys_wipe(saf_token_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
