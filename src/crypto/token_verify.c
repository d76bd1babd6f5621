/* SPDX-License-Identifier: MIT */
/*
 * Verification, SPEC 3.4 step 4: "the signature verifies (constant-time
 * compare), session_id matches the resumed session, expiry_timestamp is in
 * the future, the nonce was never redeemed before ..., and target_address
 * equals the local address and port the connection arrived on."
 *
 * The checks run in a fixed order and the verdict is raised one step at a
 * time; the nonce is recorded last, only for a token that passed every
 * other check, so forged or stale tokens cannot fill the replay cache.
 */
#include "saf/token_crypto.h"

#include <inttypes.h>

#include <openssl/crypto.h>

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

static bool same_target(const saf_addr *target, const saf_addr *local)
{
	return saf_addr_equal_ip(target, local) && local->has_port &&
	       target->port == local->port;
}

saf_verdict saf_token_verify(const saf_verify_params *p, const uint8_t *buf,
			     size_t len, saf_token *decoded, saf_error *err)
{
	uint8_t mac[SAF_SIGNATURE_LEN];
	char a[SAF_ADDR_STR_LEN], b[SAF_ADDR_STR_LEN];
	saf_token t;
	int sig_ok;

	if (!p || !p->keys || !p->local) {
		saf_fail(err, SAF_E_INVAL, "verify: no keys or local address");
		return SAF_TOKEN_MALFORMED;
	}
	if (saf_token_decode(buf, len, &t, err))
		return SAF_TOKEN_MALFORMED;
	if (decoded)
		*decoded = t;

	saf_token_hmac(p->keys, buf, t.signed_len, mac);
	sig_ok = t.signature.len == sizeof(mac) &&
		 saf_ct_equal(t.signature.base, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!sig_ok) {
		saf_fail(err, SAF_E_REFUSED,
			 "token: signature does not verify under this "
			 "session's key");
		return SAF_TOKEN_BAD_SIGNATURE;
	}
	if (t.session_id.len != sizeof(p->keys->session_id) ||
	    !saf_ct_equal(t.session_id.base, p->keys->session_id,
			  sizeof(p->keys->session_id))) {
		saf_fail(err, SAF_E_REFUSED,
			 "token: session_id is not the resumed session's");
		return SAF_TOKEN_SESSION_MISMATCH;
	}
	if (p->now >= t.expiry) {
		saf_fail(err, SAF_E_REFUSED,
			 "token: expired at %" PRIu64 " (now %" PRIu64 ")",
			 t.expiry, p->now);
		return SAF_TOKEN_EXPIRED;
	}
	if (!same_target(&t.target, p->local)) {
		saf_fail(err, SAF_E_REFUSED,
			 "token: target %s is not the local address %s",
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
				 "token: nonce already redeemed");
			return SAF_TOKEN_REPLAYED;
		case SAF_REPLAY_FULL:
		default:
			saf_fail(err, SAF_E_REFUSED,
				 "token: replay cache full, refusing "
				 "(fail closed)");
			return SAF_TOKEN_REPLAY_FULL;
		}
	}
	return SAF_TOKEN_VALID;
}
