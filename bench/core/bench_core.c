/* SPDX-License-Identifier: MIT */
/*
 * bench_core: throughput of the core on one thread, in operations per
 * second of thread CPU time (the machine may be shared; CPU time is what
 * one core delivered).
 *
 *   mint            saf_token_mint, caller nonce / random nonce
 *   verify          saf_token_verify with the replay cache: every token a
 *                   distinct nonce, keys derived beforehand (a server
 *                   derives them once per connection, from the resumed
 *                   session, then verifies)
 *   derive+verify   the same with saf_token_keys_derive in the loop
 *   baseline        verify as with libcrypto's one-shot HMAC() per token
 *   decode          saf_tcpopt_decode over the five forms,
 *                   saf_token_decode of an IPv4 token
 *
 * Output: Markdown table rows on stdout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "saf/tcpopt.h"
#include "saf/token.h"
#include "saf/token_crypto.h"

#define NOW    1700000000u
#define EXPIRY (NOW + 600u)

static volatile uint64_t sink;

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return NOW;
}

static void row(const char *what, uint64_t ops, double secs, const char *note)
{
	double rate = (double)ops / secs;

	printf("| %s | %.0f | %.1f | %s |\n", what, rate, 1e9 / rate, note);
	fflush(stdout);
}

struct tokens {
	uint8_t *buf; /* n tokens of `len` bytes */
	size_t n, len;
};

static void mint_all(const saf_token_keys *k, const saf_addr *target,
		     struct tokens *t, size_t n)
{
	uint8_t nonce[SAF_NONCE_LEN];

	memset(nonce, 0, sizeof(nonce));
	t->n = n;
	t->len = 0;
	t->buf = NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t one[SAF_TOKEN_MAX_LEN];
		size_t len;

		memcpy(nonce, &i, sizeof(i));
		if (saf_token_mint(k, target, EXPIRY, nonce, sizeof(nonce), one,
				   sizeof(one), &len, NULL))
			abort();
		if (!t->buf) {
			t->len = len;
			t->buf = malloc(n * len);
			if (!t->buf)
				abort();
		}
		memcpy(t->buf + i * t->len, one, len);
	}
}

/* Verify every token once against a fresh replay cache sized for them. */
static double verify_round(const saf_token_keys *k, const saf_addr *local,
			   const struct tokens *t)
{
	saf_replay_cache *c =
		saf_replay_cache_new(t->n, fixed_clock, NULL, NULL);
	saf_verify_params p = {
		.keys = k, .local = local, .now = NOW, .replay = c};
	double t0;
	uint64_t bad = 0;

	if (!c)
		abort();
	t0 = cpu_seconds();
	for (size_t i = 0; i < t->n; i++)
		bad += saf_token_verify(&p, t->buf + i * t->len, t->len, NULL,
					NULL) != SAF_TOKEN_VALID;
	t0 = cpu_seconds() - t0;
	if (bad)
		abort();
	saf_replay_cache_free(c);
	return t0;
}

/* The baseline: the same checks with libcrypto's one-shot HMAC(), which
 * sets up a MAC context per call. */
static double baseline_round(const saf_token_keys *k, const saf_addr *local,
			     const struct tokens *t)
{
	saf_replay_cache *c =
		saf_replay_cache_new(t->n, fixed_clock, NULL, NULL);
	double t0;
	uint64_t bad = 0;

	if (!c)
		abort();
	t0 = cpu_seconds();
	for (size_t i = 0; i < t->n; i++) {
		const uint8_t *tok = t->buf + i * t->len;
		uint8_t mac[32];
		unsigned mac_len = 0;
		saf_token d;

		if (saf_token_decode(tok, t->len, &d, NULL) ||
		    !HMAC(EVP_sha256(), k->key, sizeof(k->key), tok,
			  d.signed_len, mac, &mac_len) ||
		    d.signature.len != 32 ||
		    CRYPTO_memcmp(mac, d.signature.base, 32) != 0 ||
		    CRYPTO_memcmp(d.session_id.base, k->session_id, 32) != 0 ||
		    d.expiry <= NOW || !saf_addr_equal(&d.target, local) ||
		    saf_replay_check_and_insert(c, d.nonce.base, d.nonce.len,
						d.expiry) != SAF_REPLAY_FRESH)
			bad++;
	}
	t0 = cpu_seconds() - t0;
	if (bad)
		abort();
	saf_replay_cache_free(c);
	return t0;
}

int main(int argc, char **argv)
{
	const bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	const size_t n = quick ? 1u << 14 : 1u << 18;
	const unsigned rounds = quick ? 1 : 4;
	uint8_t psk[32], nk[32], out[SAF_TOKEN_MAX_LEN];
	saf_token_keys k;
	saf_addr target;
	struct tokens t;
	double secs, base_secs, t0;
	size_t len;

	memset(psk, 0x11, sizeof(psk));
	memset(nk, 0x22, sizeof(nk));
	if (saf_token_keys_derive(nk, psk, sizeof(psk), &k, NULL) ||
	    saf_addr_parse("192.0.2.10:443", true, &target, NULL))
		abort();

	printf("| operation | ops/s (one core) | ns/op | note |\n");
	printf("|---|---:|---:|---|\n");

	/* mint, caller-supplied nonce */
	{
		uint8_t nonce[SAF_NONCE_LEN] = {0};
		const uint64_t ops = n * 2;

		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			memcpy(nonce, &i, sizeof(i));
			if (saf_token_mint(&k, &target, EXPIRY, nonce,
					   sizeof(nonce), out, sizeof(out),
					   &len, NULL))
				abort();
			sink += out[len - 1];
		}
		row("token mint (given nonce)", ops, cpu_seconds() - t0,
		    "IPv4 target, 16-byte nonce");
	}
	/* mint, random nonce */
	{
		const uint64_t ops = n;

		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			if (saf_token_mint(&k, &target, EXPIRY, NULL, 0, out,
					   sizeof(out), &len, NULL))
				abort();
			sink += out[len - 1];
		}
		row("token mint (random nonce)", ops, cpu_seconds() - t0,
		    "nonce from RAND_bytes");
	}

	mint_all(&k, &target, &t, n);

	secs = 0;
	base_secs = 0;
	for (unsigned r = 0; r < rounds; r++) {
		secs += verify_round(&k, &target, &t);
		base_secs += baseline_round(&k, &target, &t);
	}
	{
		char note[160];

		snprintf(note, sizeof(note),
			 "replay cache of %zu, every nonce fresh; %.1fx the "
			 "baseline",
			 t.n, base_secs / secs);
		row("token verify", (uint64_t)t.n * rounds, secs, note);
	}
	row("baseline: verify with one-shot HMAC()", (uint64_t)t.n * rounds,
	    base_secs, "libcrypto HMAC() per token, same checks and cache");

	/* derive + verify: a connection that brings one token */
	{
		const uint64_t ops = quick ? 2000 : 20000;
		saf_replay_cache *c =
			saf_replay_cache_new(ops, fixed_clock, NULL, NULL);
		saf_verify_params p = {
			.local = &target, .now = NOW, .replay = c};
		saf_token_keys kk;
		uint64_t bad = 0;

		if (!c)
			abort();
		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			if (saf_token_keys_derive(nk, psk, sizeof(psk), &kk,
						  NULL))
				abort();
			p.keys = &kk;
			bad += saf_token_verify(&p, t.buf + (i % t.n) * t.len,
						t.len, NULL,
						NULL) != SAF_TOKEN_VALID;
			saf_token_keys_wipe(&kk);
		}
		secs = cpu_seconds() - t0;
		if (bad)
			abort();
		row("keys derive + token verify", ops, secs,
		    "HKDF x2 (EVP_KDF) + pre-keying per token");
		saf_replay_cache_free(c);

		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			if (saf_token_keys_derive(nk, psk, sizeof(psk), &kk,
						  NULL))
				abort();
			sink += kk.key[0];
		}
		row("keys derive alone", ops, cpu_seconds() - t0,
		    "saf_token_keys_derive");
	}

	/* decoders */
	{
		uint8_t opts[5][SAF_TCPOPT_MAX_LEN];
		size_t lens[5];
		const uint64_t ops = quick ? 1000000 : 20000000;
		saf_tcpopt o;
		saf_token d;
		uint64_t bytes = 0;

		for (int i = 0; i < 5; i++) {
			saf_tcpopt src;

			memset(&src, 0, sizeof(src));
			src.form = i == 0 ? SAF_TCPOPT_FLAG : SAF_TCPOPT_ADVERT;
			src.addr.family = i < 3 ? 4 : 6;
			src.addr.has_port = i == 2 || i == 4;
			src.addr.port = 443;
			if (saf_tcpopt_encode(&src, NULL, opts[i],
					      sizeof(opts[i]), &lens[i], NULL))
				abort();
		}
		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			unsigned f = (unsigned)(i % 5);

			if (saf_tcpopt_decode(opts[f], lens[f], NULL, &o, NULL))
				abort();
			sink += o.addr.port;
			bytes += lens[f];
		}
		secs = cpu_seconds() - t0;
		{
			char note[96];

			snprintf(note, sizeof(note),
				 "the five forms in turn; %.0f MB/s",
				 (double)bytes / secs / 1e6);
			row("tcpopt decode", ops, secs, note);
		}
		t0 = cpu_seconds();
		for (uint64_t i = 0; i < ops; i++) {
			if (saf_token_decode(t.buf + (i % 1024) * t.len, t.len,
					     &d, NULL))
				abort();
			sink += d.expiry;
		}
		secs = cpu_seconds() - t0;
		{
			char note[96];

			snprintf(note, sizeof(note),
				 "%zu-byte IPv4 token; %.0f MB/s", t.len,
				 (double)(ops * t.len) / secs / 1e6);
			row("token decode", ops, secs, note);
		}
	}
	free(t.buf);
	saf_token_keys_wipe(&k);
	return 0;
}
