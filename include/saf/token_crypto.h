/* SPDX-License-Identifier: MIT */
/*
 * Token keys, signing and verification, SPEC section 3.3 and 3.4 step 4.
 * Uses libcrypto only (HKDF, HMAC-SHA256, RAND); knows nothing of SSL
 * objects.
 *
 *   session_id = HKDF-Expand(HKDF-Extract(salt="saf session id", PSK), "", 32)
 *   prk        = HKDF-Extract(salt=NK, IKM=PSK)
 *   key        = HKDF-Expand(prk, "saf token v1", 32)
 *   signature  = HMAC-SHA256(key, token bytes up to the signature vector)
 *
 * PSK: the resumption PSK of the ticket that carries the token. NK: the node
 * key (32 random bytes shared by one node's or one service's processes,
 * never sent). Key material is wiped when no longer needed.
 */
#ifndef SAF_TOKEN_CRYPTO_H
#define SAF_TOKEN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/constants.h"
#include "saf/error.h"
#include "saf/replay.h"
#include "saf/token.h"

/* Room for two SHA-256 hash states (checked at compile time). */
#define SAF_HMAC_STATE_LEN 256u

/* Everything derived from one (NK, PSK) pair. Derive once per session and
 * reuse for every token of that session; wipe with saf_token_keys_wipe. */
typedef struct saf_token_keys {
	uint8_t session_id[SAF_SESSION_ID_LEN];
	uint8_t key[SAF_TOKEN_KEY_LEN];
	/* HMAC-SHA256 keyed with `key`, precomputed by saf_token_keys_derive:
	 * the inner and outer hash states after the padded key block, so
	 * signing and verifying hash only the message (a server verifies
	 * many tokens per derived key). Opaque. When hmac_ready is false
	 * (keys filled by hand), the state is computed from `key` per call. */
	_Alignas(16) uint8_t hmac_state[SAF_HMAC_STATE_LEN];
	bool hmac_ready;
} saf_token_keys;

SAF_MUST_CHECK int saf_session_id_derive(const uint8_t *psk, size_t psk_len,
					 uint8_t out[SAF_SESSION_ID_LEN],
					 saf_error *err);

SAF_MUST_CHECK int
saf_token_keys_derive(const uint8_t node_key[SAF_NODE_KEY_LEN],
		      const uint8_t *psk, size_t psk_len, saf_token_keys *out,
		      saf_error *err);

void saf_token_keys_wipe(saf_token_keys *k);

/* Fills k->hmac_state from k->key and sets hmac_ready: for keys filled by
 * hand (tests, tools). saf_token_keys_derive does this itself. */
void saf_token_keys_prepare(saf_token_keys *k);

/* HMAC-SHA256(keys->key, msg): the token signature primitive, exposed for
 * tests and tools that build tokens field by field. */
void saf_token_hmac(const saf_token_keys *keys, const uint8_t *msg, size_t len,
		    uint8_t out[SAF_SIGNATURE_LEN]);

/* Mints a token for `target` (port required) valid until `expiry`. nonce
 * NULL draws SAF_NONCE_LEN random bytes; otherwise nonce_len must be in
 * 16..255. Writes the encoding to out[cap]. */
SAF_MUST_CHECK int saf_token_mint(const saf_token_keys *keys,
				  const saf_addr *target, uint64_t expiry,
				  const uint8_t *nonce, size_t nonce_len,
				  uint8_t *out, size_t cap, size_t *out_len,
				  saf_error *err);

/* Every outcome of verification, each with its own name. */
typedef enum saf_verdict {
	SAF_TOKEN_VALID = 0,
	SAF_TOKEN_MALFORMED,	    /* "malformed" */
	SAF_TOKEN_BAD_SIGNATURE,    /* "bad_signature" */
	SAF_TOKEN_SESSION_MISMATCH, /* "session_mismatch" */
	SAF_TOKEN_EXPIRED,	    /* "expired" */
	SAF_TOKEN_REPLAYED,	    /* "replayed" */
	SAF_TOKEN_WRONG_TARGET,	    /* "wrong_target" */
	SAF_TOKEN_REPLAY_FULL,	    /* "replay_cache_full" */
	SAF_VERDICT_COUNT
} saf_verdict;

const char *saf_verdict_name(saf_verdict v);

typedef struct saf_verify_params {
	const saf_token_keys *keys; /* of the resumed session */
	const saf_addr *local;	    /* address and port the connection
				       arrived on */
	uint64_t now;		    /* Unix seconds */
	saf_replay_cache *replay;   /* NULL: skip the replay check (only for
				       inspection tools, never a server) */
} saf_verify_params;

/* Verifies in this order, each check only after the previous passed:
 * decode (malformed), signature (constant-time compare), session_id,
 * expiry (now < expiry), target == local, then the nonce is recorded in the
 * replay cache (replayed / replay_cache_full). A nonce is recorded only for
 * a token that passed every other check, so forged tokens cannot fill the
 * cache. `decoded` (may be NULL) receives the decoded token when it
 * decoded. err (may be NULL) gets a human-readable detail. */
saf_verdict saf_token_verify(const saf_verify_params *p, const uint8_t *buf,
			     size_t len, saf_token *decoded, saf_error *err);

/* Constant-time equality of two equal-length byte strings: 1 when equal,
 * 0 otherwise. The time depends on len only. */
int saf_ct_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif /* SAF_TOKEN_CRYPTO_H */
