/* SPDX-License-Identifier: MIT */
/*
 * HMAC-SHA256 with a pre-keyed state (RFC 2104): the key block is hashed
 * once, and each MAC then costs only the message blocks plus one outer
 * block. libcrypto's EVP_MAC and HMAC() rebuild their context per call,
 * which costs microseconds; a server verifying a million tokens a second
 * cannot pay that. Internal to saf_core.
 */
#ifndef SAF_CRYPTO_HMAC_SHA256_H
#define SAF_CRYPTO_HMAC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SAF_SHA256_LEN 32u

/* Writes the pre-keyed state into state[SAF_HMAC_STATE_LEN]. */
void saf_hmac_sha256_prekey(void *state, const uint8_t *key, size_t key_len);
/* MAC of msg under a state from saf_hmac_sha256_prekey. */
void saf_hmac_sha256_final(const void *state, const uint8_t *msg, size_t len,
			   uint8_t out[SAF_SHA256_LEN]);
/* Wipes a state. */
void saf_hmac_sha256_wipe(void *state);

#endif /* SAF_CRYPTO_HMAC_SHA256_H */
