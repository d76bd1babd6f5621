/* SPDX-License-Identifier: MIT */
/*
 * Minting: "signature = HMAC-SHA256(key, encoding of target_address,
 * session_id, expiry_timestamp, nonce)" (SPEC 3.3).
 */
#include "saf/token_crypto.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hmac_sha256.h"

void saf_token_hmac(const saf_token_keys *keys, const uint8_t *msg, size_t len,
		    uint8_t out[SAF_SIGNATURE_LEN])
{
	_Alignas(16) uint8_t state[SAF_HMAC_STATE_LEN];

	if (keys->hmac_ready) {
		saf_hmac_sha256_final(keys->hmac_state, msg, len, out);
		return;
	}
	saf_hmac_sha256_prekey(state, keys->key, sizeof(keys->key));
	saf_hmac_sha256_final(state, msg, len, out);
	saf_hmac_sha256_wipe(state);
}

int saf_token_mint(const saf_token_keys *keys, const saf_addr *target,
		   uint64_t expiry, const uint8_t *nonce, size_t nonce_len,
		   uint8_t *out, size_t cap, size_t *out_len, saf_error *err)
{
	uint8_t random_nonce[SAF_NONCE_LEN];
	uint8_t sig[SAF_SIGNATURE_LEN];
	size_t signed_len;
	saf_writer w;
	saf_token t;

	if (!nonce) {
		if (RAND_bytes(random_nonce, sizeof(random_nonce)) != 1)
			return saf_fail(err, SAF_E_CRYPTO,
					"libcrypto: RAND_bytes failed");
		nonce = random_nonce;
		nonce_len = sizeof(random_nonce);
	}
	memset(&t, 0, sizeof(t));
	t.target = *target;
	t.session_id.base = keys->session_id;
	t.session_id.len = sizeof(keys->session_id);
	t.expiry = expiry;
	t.nonce.base = nonce;
	t.nonce.len = nonce_len;
	if (saf_token_encode_unsigned(&t, out, cap, &signed_len, err))
		return -1;
	saf_token_hmac(keys, out, signed_len, sig);
	saf_writer_init(&w, out + signed_len, cap - signed_len);
	saf_put_vec8(&w, sig, sizeof(sig));
	if (saf_writer_finish(&w, "token", err))
		return -1;
	*out_len = signed_len + w.len;
	return 0;
}
