/* SPDX-License-Identifier: MIT */
/*
 * The nonce replay cache: a fixed-size open-addressing table of keyed nonce
 * hashes with their expiry. Memory is allocated once, at creation.
 *
 * Slots whose expiry has passed count as free: probing reclaims them in
 * place, so no sweep is needed and no live entry is ever evicted. A table is
 * sized to twice the capacity (rounded up to a power of two) so probe
 * sequences stay short at full load; `live` caps the entries at capacity,
 * which is what fails closed.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "saf/replay.h"

typedef struct slot {
	uint64_t hash;   /* keyed hash of the nonce; 0 = never used */
	uint64_t expiry; /* live while now < expiry */
} slot;

struct saf_replay_cache {
	size_t capacity;
	size_t mask; /* table size - 1 */
	size_t live; /* entries counted live at last touch (upper bound) */
	uint64_t key[2];
	saf_clock_fn clock;
	void *clock_arg;
	uint64_t inserted, replays, full;
	uint64_t recounted_at; /* clock second of the last recount */
	slot *table;
};

uint64_t saf_clock_realtime(void *arg)
{
	(void)arg;
	return (uint64_t)time(NULL);
}

static size_t table_size(size_t capacity)
{
	size_t n = 16;

	while (n < capacity * 2)
		n <<= 1;
	return n;
}

size_t saf_replay_cache_bytes(size_t capacity)
{
	return sizeof(saf_replay_cache) + table_size(capacity) * sizeof(slot);
}

saf_replay_cache *saf_replay_cache_new(size_t capacity, saf_clock_fn clock,
				       void *clock_arg, saf_error *err)
{
	saf_replay_cache *c;
	size_t n;

	/* The table doubles capacity; keep that from overflowing. */
	if (capacity == 0 || capacity > ((size_t)1 << 30)) {
		saf_fail(err, SAF_E_INVAL,
			 "replay cache capacity %zu outside 1..2^30", capacity);
		return NULL;
	}
	n = table_size(capacity);
	c = calloc(1, sizeof(*c));
	if (c)
		c->table = calloc(n, sizeof(slot));
	if (!c || !c->table) {
		free(c);
		saf_fail(err, SAF_E_NOMEM, "replay cache: out of memory");
		return NULL;
	}
	if (RAND_bytes((unsigned char *)c->key, sizeof(c->key)) != 1) {
		free(c->table);
		free(c);
		saf_fail(err, SAF_E_CRYPTO, "replay cache: no random key");
		return NULL;
	}
	c->capacity = capacity;
	c->mask = n - 1;
	c->clock = clock ? clock : saf_clock_realtime;
	c->clock_arg = clock_arg;
	return c;
}

void saf_replay_cache_free(saf_replay_cache *c)
{
	if (!c)
		return;
	free(c->table);
	free(c);
}

/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash, so a peer choosing
 * nonces cannot aim them at one probe chain. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1;                                                     \
		v1 = ROTL(v1, 13);                                            \
		v1 ^= v0;                                                     \
		v0 = ROTL(v0, 32);                                            \
		v2 += v3;                                                     \
		v3 = ROTL(v3, 16);                                            \
		v3 ^= v2;                                                     \
		v0 += v3;                                                     \
		v3 = ROTL(v3, 21);                                            \
		v3 ^= v0;                                                     \
		v2 += v1;                                                     \
		v1 = ROTL(v1, 17);                                            \
		v1 ^= v2;                                                     \
		v2 = ROTL(v2, 32);                                            \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t siphash24(const uint64_t key[2], const uint8_t *in,
			  size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56;
	size_t full = len & ~(size_t)7;
	uint8_t tail[8] = { 0 };

	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(in + i);

		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	memcpy(tail, in + full, len - full);
	b |= load_le64(tail);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Counts live slots. O(table), so run at most once per clock second: entries
 * expire at second granularity, so a second count in the same second could
 * find nothing new, and a flood against a full cache stays O(1) each. */
static void recount(saf_replay_cache *c, uint64_t now)
{
	size_t live = 0;

	if (c->recounted_at == now)
		return;
	c->recounted_at = now;
	for (size_t i = 0; i <= c->mask; i++)
		live += c->table[i].hash != 0 && c->table[i].expiry > now;
	c->live = live;
}

saf_replay_result saf_replay_check_and_insert(saf_replay_cache *c,
					      const uint8_t *nonce,
					      size_t nonce_len,
					      uint64_t expiry)
{
	uint64_t now = c->clock(c->clock_arg);
	uint64_t h = siphash24(c->key, nonce, nonce_len);
	slot *reuse = NULL;

	if (expiry <= now)
		return SAF_REPLAY_FRESH;
	if (h == 0)
		h = 1; /* 0 marks a never-used slot */

	/* Linear probing: a hash's chain ends at a never-used slot. Expired
	 * slots on the way are reusable but do not end the chain, since a
	 * live duplicate may sit further on. Two distinct nonces with equal
	 * 64-bit keyed hashes would be taken for a replay: a refusal, never
	 * an acceptance, with odds of 2^-64. */
	for (size_t i = (size_t)h & c->mask, n = 0; n <= c->mask;
	     i = (i + 1) & c->mask, n++) {
		slot *s = &c->table[i];

		if (s->hash == 0) {
			if (!reuse)
				reuse = s;
			break;
		}
		if (s->expiry <= now) {
			if (!reuse)
				reuse = s;
			continue;
		}
		if (s->hash == h) {
			c->replays++;
			return SAF_REPLAY_SEEN;
		}
	}
	if (c->live >= c->capacity)
		recount(c, now);
	/* Fail closed: never evict a live nonce to make room. */
	if (c->live >= c->capacity || !reuse) {
		c->full++;
		return SAF_REPLAY_FULL;
	}
	/* `live` is an upper bound: an expired slot stays counted until a
	 * recount that saw it expired, so reusing it adds an entry only if
	 * it was never used or that recount already dropped it. */
	if (reuse->hash == 0 || reuse->expiry <= c->recounted_at)
		c->live++;
	reuse->hash = h;
	reuse->expiry = expiry;
	c->inserted++;
	return SAF_REPLAY_FRESH;
}

void saf_replay_cache_stats(saf_replay_cache *c, saf_replay_stats *out)
{
	uint64_t now = c->clock(c->clock_arg);
	size_t live = 0;

	for (size_t i = 0; i <= c->mask; i++)
		live += c->table[i].hash != 0 && c->table[i].expiry > now;
	*out = (saf_replay_stats){ .capacity = c->capacity,
				   .live = live,
				   .inserted = c->inserted,
				   .replays = c->replays,
				   .full = c->full };
}
