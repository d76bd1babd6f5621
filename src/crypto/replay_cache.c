/* SPDX-License-Identifier: MIT */
/*
 * Replay cache: a fixed-size open-addressing table (linear probing) of
 * keyed nonce hashes with their expiry.
 *
 * Sizing: the table has at least twice `capacity` slots (a power of two),
 * so probes stay short even when every one of `capacity` entries is live.
 *
 * Expiry is lazy and keeps the table free of tombstones: an expired entry
 * met on a probe is deleted on the spot with backward-shift deletion (the
 * entries after it in the cluster move back where their home slot allows),
 * and every call also sweeps two slots at a rolling cursor, so expired
 * entries off the probe paths drain at the rate new ones arrive. Only when
 * `capacity` slots are occupied does a call sweep the whole table, and it
 * does so only if some entry can have expired since the last full sweep
 * (now >= the smallest live expiry seen then). A full cache therefore
 * answers FULL in O(1) until something expires, and sweeps whole at most
 * once per clock second.
 *
 * Entries hold the 64-bit SipHash of the nonce under a per-cache random
 * key: a false "replayed" needs a 64-bit collision among live nonces, and a
 * peer cannot aim for one without the key.
 */
#include "saf/replay.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "siphash.h"

/* Largest capacity accepted: 2^26 live nonces (2 GiB of slots). */
#define REPLAY_MAX_CAPACITY ((size_t)1 << 26)
#define REPLAY_MIN_SLOTS    16u
/* Slots checked by the rolling sweep on every call. */
#define REPLAY_SWEEP_STEP 2u

struct replay_slot {
	uint64_t hash;
	uint64_t expiry; /* 0: empty */
};

struct saf_replay_cache {
	struct replay_slot *slots;
	size_t mask;	 /* slots - 1 */
	size_t capacity; /* most occupied slots allowed */
	size_t occupied; /* slots holding an entry, live or expired */
	size_t sweep_at; /* rolling sweep cursor */
	/* No entry expires before this: the smallest expiry recorded since
	 * the last full sweep (0 before the first), so a full sweep earlier
	 * would reclaim nothing. */
	uint64_t full_sweep_useful_at;
	/* The latest clock reading at which entries were reclaimed: every
	 * entry dropped so far expired at or before it. */
	uint64_t reclaimed_upto;
	uint64_t key[2];
	saf_clock_fn clock;
	void *clock_arg;
	uint64_t inserted, replays, full, clock_back;
};

uint64_t saf_clock_realtime(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec;
}

static size_t slots_for(size_t capacity)
{
	size_t n = REPLAY_MIN_SLOTS;

	while (n < 2 * capacity)
		n <<= 1;
	return n;
}

size_t saf_replay_cache_bytes(size_t capacity)
{
	return sizeof(struct saf_replay_cache) +
	       slots_for(capacity) * sizeof(struct replay_slot);
}

saf_replay_cache *saf_replay_cache_new(size_t capacity, saf_clock_fn clock,
				       void *clock_arg, saf_error *err)
{
	saf_replay_cache *c;
	size_t n;

	if (capacity == 0 || capacity > REPLAY_MAX_CAPACITY) {
		saf_fail(err, SAF_E_RANGE,
			 "replay cache: capacity %zu outside 1..%zu", capacity,
			 REPLAY_MAX_CAPACITY);
		return NULL;
	}
	n = slots_for(capacity);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->slots = calloc(n, sizeof(*c->slots)))) {
		free(c);
		saf_fail(err, SAF_E_NOMEM,
			 "replay cache: cannot allocate %zu slots", n);
		return NULL;
	}
	if (RAND_bytes((unsigned char *)c->key, sizeof(c->key)) != 1) {
		free(c->slots);
		free(c);
		saf_fail(err, SAF_E_CRYPTO, "libcrypto: RAND_bytes failed");
		return NULL;
	}
	c->mask = n - 1;
	c->capacity = capacity;
	c->clock = clock ? clock : saf_clock_realtime;
	c->clock_arg = clock_arg;
	return c;
}

void saf_replay_cache_free(saf_replay_cache *c)
{
	if (!c)
		return;
	free(c->slots);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

static bool is_live(const struct replay_slot *s, uint64_t now)
{
	return s->expiry > now;
}

/* Backward-shift deletion of slot i (Knuth 6.4, algorithm R): moves later
 * entries of the cluster back so that no probe path is broken, and leaves
 * no tombstone. */
static void delete_at(saf_replay_cache *c, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & c->mask;
		if (c->slots[j].expiry == 0)
			break;
		home = (size_t)c->slots[j].hash & c->mask;
		/* Entry j may fill hole i unless its home lies cyclically
		 * in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i].expiry = 0;
	c->slots[i].hash = 0;
	c->occupied--;
}

/* Deletes expired entries at slot i until it is empty or live. */
static void reclaim_at(saf_replay_cache *c, size_t i, uint64_t now)
{
	while (c->slots[i].expiry != 0 && !is_live(&c->slots[i], now))
		delete_at(c, i);
}

static void sweep_step(saf_replay_cache *c, uint64_t now)
{
	for (unsigned k = 0; k < REPLAY_SWEEP_STEP; k++) {
		reclaim_at(c, c->sweep_at, now);
		c->sweep_at = (c->sweep_at + 1) & c->mask;
	}
}

static void sweep_all(saf_replay_cache *c, uint64_t now)
{
	uint64_t min_live = UINT64_MAX;

	for (size_t i = 0; i <= c->mask; i++) {
		reclaim_at(c, i, now);
		if (c->slots[i].expiry && c->slots[i].expiry < min_live)
			min_live = c->slots[i].expiry;
	}
	c->full_sweep_useful_at = min_live;
}

/* Probes for hash; deletes expired entries met on the way. Returns true
 * and *at = its slot when a live entry matches, else false and *at = the
 * empty slot that ends the probe (where an insert goes). */
static bool probe(saf_replay_cache *c, uint64_t hash, uint64_t now, size_t *at)
{
	size_t i = (size_t)hash & c->mask;

	for (;;) {
		reclaim_at(c, i, now);
		if (c->slots[i].expiry == 0) {
			*at = i;
			return false;
		}
		if (c->slots[i].hash == hash) {
			*at = i;
			return true;
		}
		i = (i + 1) & c->mask;
	}
}

saf_replay_result saf_replay_check_and_insert(saf_replay_cache *c,
					      const uint8_t *nonce,
					      size_t nonce_len, uint64_t expiry)
{
	uint64_t now = c->clock(c->clock_arg);
	uint64_t hash = saf_siphash24(c->key, nonce, nonce_len);
	size_t at;

	if (expiry <= now)
		return SAF_REPLAY_FRESH; /* nothing to remember */
	/* The clock went back below a time at which this nonce, had it been
	 * recorded, could already have been dropped as expired: the cache
	 * cannot rule out a replay, so it fails closed until the clock has
	 * passed the nonce's expiry again. */
	if (expiry <= c->reclaimed_upto) {
		c->clock_back++;
		c->replays++;
		return SAF_REPLAY_SEEN;
	}
	if (now > c->reclaimed_upto)
		c->reclaimed_upto = now;
	sweep_step(c, now);
	if (probe(c, hash, now, &at)) {
		c->replays++;
		return SAF_REPLAY_SEEN;
	}
	if (c->occupied >= c->capacity) {
		if (now < c->full_sweep_useful_at) {
			c->full++;
			return SAF_REPLAY_FULL;
		}
		sweep_all(c, now);
		if (c->occupied >= c->capacity) {
			c->full++;
			return SAF_REPLAY_FULL;
		}
		/* The sweep moved entries: find the insert slot again. */
		probe(c, hash, now, &at);
	}
	c->slots[at].hash = hash;
	c->slots[at].expiry = expiry;
	c->occupied++;
	/* Keep the full-sweep gate honest: this entry may expire first. */
	if (expiry < c->full_sweep_useful_at)
		c->full_sweep_useful_at = expiry;
	c->inserted++;
	return SAF_REPLAY_FRESH;
}

void saf_replay_cache_stats(saf_replay_cache *c, saf_replay_stats *out)
{
	uint64_t now = c->clock(c->clock_arg);
	size_t live = 0;

	for (size_t i = 0; i <= c->mask; i++)
		if (c->slots[i].expiry != 0 && is_live(&c->slots[i], now))
			live++;
	out->capacity = c->capacity;
	out->live = live;
	out->inserted = c->inserted;
	out->replays = c->replays;
	out->full = c->full;
	out->clock_back = c->clock_back;
}
