/* SPDX-License-Identifier: MIT */
/* Minting and verifying MigrationTokens (SPEC 3.3, 3.4 step 4). */
#include <openssl/rand.h>
#include <string.h>

#include "saf/token_crypto.h"

int saf_token_mint(const saf_token_keys *keys, const saf_addr *target,
		   uint64_t expiry, const uint8_t *nonce, size_t nonce_len,
		   uint8_t *out, size_t cap, size_t *out_len, saf_error *err)
{
	uint8_t random_nonce[SAF_NONCE_LEN];
	uint8_t sig[SAF_SIGNATURE_LEN];
	saf_token t = { 0 };
	size_t signed_len;

	if (!target->has_port)
		return saf_fail(err, SAF_E_INVAL,
				"token target needs a port");
	if (!nonce) {
		if (RAND_bytes(random_nonce, sizeof(random_nonce)) != 1)
			return saf_fail(err, SAF_E_CRYPTO,
					"no random bytes for the nonce");
		nonce = random_nonce;
		nonce_len = sizeof(random_nonce);
	}
	t.target = *target;
	t.session_id = (saf_slice){ keys->session_id, SAF_SESSION_ID_LEN };
	t.expiry = expiry;
	t.nonce = (saf_slice){ nonce, nonce_len };
	if (saf_token_encode_unsigned(&t, out, cap, &signed_len, err))
		return -1;
	/* "the token's bytes up to, not including, the signature vector" */
	if (saf_token_hmac(keys, out, signed_len, sig, err))
		return -1;
	if (cap - signed_len < 1 + sizeof(sig))
		return saf_fail(err, SAF_E_NOSPACE,
				"token: does not fit in %zu bytes", cap);
	out[signed_len] = SAF_SIGNATURE_LEN;
	memcpy(out + signed_len + 1, sig, sizeof(sig));
	*out_len = signed_len + 1 + sizeof(sig);
	return 0;
}

const char *saf_verdict_name(saf_verdict v)
{
	static const char *const names[SAF_VERDICT_COUNT] = {
		[SAF_TOKEN_VALID] = "valid",
		[SAF_TOKEN_MALFORMED] = "malformed",
		[SAF_TOKEN_BAD_SIGNATURE] = "bad_signature",
		[SAF_TOKEN_SESSION_MISMATCH] = "session_mismatch",
		[SAF_TOKEN_EXPIRED] = "expired",
		[SAF_TOKEN_REPLAYED] = "replayed",
		[SAF_TOKEN_WRONG_TARGET] = "wrong_target",
		[SAF_TOKEN_REPLAY_FULL] = "replay_cache_full",
	};

	if ((unsigned)v < SAF_VERDICT_COUNT)
		return names[v];
	return "unknown";
}

saf_verdict saf_token_verify(const saf_verify_params *p, const uint8_t *buf,
			     size_t len, saf_token *decoded, saf_error *err)
{
	uint8_t expect[SAF_SIGNATURE_LEN];
	char a[SAF_ADDR_STR_LEN], b[SAF_ADDR_STR_LEN];
	saf_token t;

	if (saf_token_decode(buf, len, &t, err))
		return SAF_TOKEN_MALFORMED;
	if (decoded)
		*decoded = t;

	/* Any signature length other than HMAC-SHA256's cannot be ours. */
	if (t.signature.len != SAF_SIGNATURE_LEN) {
		saf_fail(err, SAF_E_REFUSED,
			 "signature is %zu bytes, expected %u",
			 t.signature.len, SAF_SIGNATURE_LEN);
		return SAF_TOKEN_BAD_SIGNATURE;
	}
	if (saf_token_hmac(p->keys, buf, t.signed_len, expect, err))
		return SAF_TOKEN_BAD_SIGNATURE;
	if (!saf_ct_equal(expect, t.signature.base, SAF_SIGNATURE_LEN)) {
		saf_fail(err, SAF_E_REFUSED, "signature does not verify");
		return SAF_TOKEN_BAD_SIGNATURE;
	}
	/* A valid signature over another session id is possible only with
	 * this node's key, but the seed binds token and session anyway. */
	if (t.session_id.len != SAF_SESSION_ID_LEN ||
	    !saf_ct_equal(t.session_id.base, p->keys->session_id,
			  SAF_SESSION_ID_LEN)) {
		saf_fail(err, SAF_E_REFUSED,
			 "session_id is not that of the resumed session");
		return SAF_TOKEN_SESSION_MISMATCH;
	}
	if (p->now >= t.expiry) {
		saf_fail(err, SAF_E_REFUSED,
			 "expired at %llu, now %llu",
			 (unsigned long long)t.expiry,
			 (unsigned long long)p->now);
		return SAF_TOKEN_EXPIRED;
	}
	if (!saf_addr_equal(&t.target, p->local)) {
		saf_fail(err, SAF_E_REFUSED,
			 "token is for %s, connection arrived on %s",
			 saf_addr_format(&t.target, a),
			 saf_addr_format(p->local, b));
		return SAF_TOKEN_WRONG_TARGET;
	}
	if (p->replay) {
		switch (saf_replay_check_and_insert(p->replay, t.nonce.base,
						    t.nonce.len, t.expiry)) {
		case SAF_REPLAY_FRESH:
			break;
		case SAF_REPLAY_SEEN:
			saf_fail(err, SAF_E_REFUSED,
				 "nonce was redeemed before");
			return SAF_TOKEN_REPLAYED;
		case SAF_REPLAY_FULL:
			saf_fail(err, SAF_E_REFUSED,
				 "replay cache full: refusing (fail closed)");
			return SAF_TOKEN_REPLAY_FULL;
		}
	}
	return SAF_TOKEN_VALID;
}
