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
 * `capacity` slots are occupied (or a source has used its share) does a
 * call sweep the whole table, and at most once per second of either clock
 * (the monotonic one, which no clock jump moves, and the wall clock, so
 * that an injected clock that moves is honoured at once). A full cache
 * therefore answers FULL in O(1) between sweeps.
 *
 * Per-source shares: each entry remembers its source bucket (a keyed hash
 * of the source bytes), and a count per bucket is kept in step with
 * insertions and deletions.
 *
 * Entries hold the 64-bit SipHash of the nonce under a per-cache random
 * key: a false "replayed" needs a 64-bit collision among live nonces, and a
 * peer cannot aim for one without the key.
 */
#include "saf/replay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "saf/clock.h"
#include "siphash.h"

/* Largest capacity accepted: 2^26 live nonces (3 GiB of slots). */
#define REPLAY_MAX_CAPACITY ((size_t)1 << 26)
#define REPLAY_MIN_SLOTS    16u
/* Slots checked by the rolling sweep on every call. */
#define REPLAY_SWEEP_STEP 2u
#define NO_SOURCE	  UINT32_MAX

struct replay_slot {
	uint64_t hash;
	uint64_t expiry; /* 0: empty */
	uint32_t source; /* bucket, or NO_SOURCE */
};

struct saf_replay_cache {
	pthread_mutex_t lock;
	struct replay_slot *slots;
	size_t mask;	 /* slots - 1 */
	size_t capacity; /* most occupied slots allowed */
	size_t occupied; /* slots holding an entry, live or expired */
	size_t sweep_at; /* rolling sweep cursor */
	size_t source_share;
	uint64_t max_lifetime;
	/* The last full sweep, by both clocks: at most one per second of
	 * either. */
	uint64_t swept_wall, swept_mono;
	bool swept;
	/* What the cache forgot (the clock rules in replay.h): every entry
	 * dropped as expired had expiry <= past_upto; every entry dropped as
	 * too far ahead had an expiry in [future_lo, future_hi] (empty when
	 * future_lo > future_hi). */
	uint64_t past_upto;
	uint64_t future_lo, future_hi;
	uint64_t key[2];
	saf_clock_fn clock;
	void *clock_arg;
	uint64_t inserted, replays, full, clock_back, source_full;
	uint32_t source_count[SAF_REPLAY_SOURCE_BUCKETS];
};

uint64_t saf_clock_realtime(void *arg)
{
	(void)arg;
	return saf_clock_wall_s();
}

static uint64_t mono_seconds(void)
{
	return saf_clock_mono_ms() / 1000u;
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

saf_replay_cache *saf_replay_cache_create(const saf_replay_config *cfg,
					  saf_error *err)
{
	saf_replay_cache *c;
	size_t n;

	if (cfg->capacity == 0 || cfg->capacity > REPLAY_MAX_CAPACITY) {
		saf_fail(err, SAF_E_RANGE,
			 "replay cache: capacity %zu outside 1..%zu",
			 cfg->capacity, REPLAY_MAX_CAPACITY);
		return NULL;
	}
	n = slots_for(cfg->capacity);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->slots = calloc(n, sizeof(*c->slots)))) {
		free(c);
		saf_fail(err, SAF_E_NOMEM,
			 "replay cache: cannot allocate %zu slots", n);
		return NULL;
	}
	if (RAND_bytes((unsigned char *)c->key, sizeof(c->key)) != 1 ||
	    pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->slots);
		free(c);
		saf_fail(err, SAF_E_CRYPTO,
			 "replay cache: RAND_bytes or mutex init failed");
		return NULL;
	}
	c->mask = n - 1;
	c->capacity = cfg->capacity;
	c->source_share = cfg->source_share;
	c->max_lifetime = cfg->max_lifetime;
	c->future_lo = UINT64_MAX;
	c->clock = cfg->clock ? cfg->clock : saf_clock_realtime;
	c->clock_arg = cfg->clock_arg;
	return c;
}

saf_replay_cache *saf_replay_cache_new(size_t capacity, saf_clock_fn clock,
				       void *clock_arg, saf_error *err)
{
	saf_replay_config cfg = {
		.capacity = capacity, .clock = clock, .clock_arg = clock_arg};

	return saf_replay_cache_create(&cfg, err);
}

void saf_replay_cache_free(saf_replay_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

/* Whether entry s can no longer be redeemed at wall time now: expired, or
 * (the clock went back) expiring further ahead than any token lives. */
static bool past(const struct replay_slot *s, uint64_t now)
{
	return s->expiry <= now;
}

static bool beyond(const saf_replay_cache *c, const struct replay_slot *s,
		   uint64_t now)
{
	return c->max_lifetime && s->expiry > now &&
	       s->expiry - now > c->max_lifetime;
}

/* Backward-shift deletion of slot i (Knuth 6.4, algorithm R): moves later
 * entries of the cluster back so that no probe path is broken, and leaves
 * no tombstone. */
static void delete_at(saf_replay_cache *c, size_t i)
{
	size_t j = i;

	if (c->slots[i].source != NO_SOURCE)
		c->source_count[c->slots[i].source]--;
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
	c->slots[i].source = NO_SOURCE;
	c->occupied--;
}

/* Deletes entries at slot i that can no longer be redeemed, until it is
 * empty or holds one that can, and remembers what it forgot. */
static void reclaim_at(saf_replay_cache *c, size_t i, uint64_t now)
{
	for (;;) {
		const struct replay_slot *s = &c->slots[i];

		if (s->expiry == 0)
			return;
		if (past(s, now)) {
			if (s->expiry > c->past_upto)
				c->past_upto = s->expiry;
		} else if (beyond(c, s, now)) {
			if (s->expiry < c->future_lo)
				c->future_lo = s->expiry;
			if (s->expiry > c->future_hi)
				c->future_hi = s->expiry;
		} else {
			return;
		}
		delete_at(c, i);
	}
}

/* Once the wall clock has passed every expiry forgotten as future, those
 * tokens are expired at the current time: the range folds into the past
 * bound, which then lies at or before now and refuses nothing fresh. */
static void fold_future(saf_replay_cache *c, uint64_t now)
{
	if (c->future_lo <= c->future_hi && now >= c->future_hi) {
		if (c->future_hi > c->past_upto)
			c->past_upto = c->future_hi;
		c->future_lo = UINT64_MAX;
		c->future_hi = 0;
	}
}

static bool forgotten(const saf_replay_cache *c, uint64_t expiry)
{
	return expiry <= c->past_upto ||
	       (expiry >= c->future_lo && expiry <= c->future_hi);
}

static void sweep_step(saf_replay_cache *c, uint64_t now)
{
	for (unsigned k = 0; k < REPLAY_SWEEP_STEP; k++) {
		reclaim_at(c, c->sweep_at, now);
		c->sweep_at = (c->sweep_at + 1) & c->mask;
	}
}

/* Sweeps the whole table unless it did so within this second of both
 * clocks. */
static void sweep_all(saf_replay_cache *c, uint64_t now)
{
	uint64_t mono = mono_seconds();

	if (c->swept && c->swept_wall == now && c->swept_mono == mono)
		return;
	for (size_t i = 0; i <= c->mask; i++)
		reclaim_at(c, i, now);
	c->swept = true;
	c->swept_wall = now;
	c->swept_mono = mono;
}

/* Probes for hash; deletes dead entries met on the way. Returns true and
 * *at = its slot when a live entry matches, else false and *at = the
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

static uint32_t source_bucket(const saf_replay_cache *c, const uint8_t *src,
			      size_t len)
{
	uint64_t k[2] = {c->key[1], c->key[0]};

	if (!src)
		return NO_SOURCE;
	return (uint32_t)(saf_siphash24(k, src, len) %
			  SAF_REPLAY_SOURCE_BUCKETS);
}

/* Whether a new entry for bucket b must be refused for room: the table
 * or b's share is used up, even after a full sweep. */
static saf_replay_result room_for(saf_replay_cache *c, uint32_t b, uint64_t now,
				  bool count)
{
	bool share = b != NO_SOURCE && c->source_share;

	if (c->occupied < c->capacity &&
	    (!share || c->source_count[b] < c->source_share))
		return SAF_REPLAY_FRESH;
	sweep_all(c, now);
	if (c->occupied >= c->capacity) {
		c->full += count;
		return SAF_REPLAY_FULL;
	}
	if (share && c->source_count[b] >= c->source_share) {
		c->source_full += count;
		return SAF_REPLAY_SOURCE_FULL;
	}
	return SAF_REPLAY_FRESH;
}

/* The body of check_and_insert, under the lock. */
static saf_replay_result check_insert(saf_replay_cache *c, uint64_t hash,
				      uint64_t expiry, uint32_t b, bool insert)
{
	uint64_t now = c->clock(c->clock_arg);
	saf_replay_result r;
	size_t at;

	if (expiry <= now)
		return SAF_REPLAY_FRESH; /* nothing to remember */
	fold_future(c, now);
	sweep_step(c, now);
	if (probe(c, hash, now, &at)) {
		if (insert)
			c->replays++;
		return SAF_REPLAY_SEEN;
	}
	/* Not held (any reclaiming this call does is done by now): a token
	 * whose nonce the cache may have forgotten cannot be ruled out as a
	 * replay, so it fails closed for that token. */
	if (forgotten(c, expiry)) {
		if (insert) {
			c->clock_back++;
			c->replays++;
		}
		return SAF_REPLAY_SEEN;
	}
	r = room_for(c, b, now, insert);
	if (r != SAF_REPLAY_FRESH || !insert)
		return r;
	/* A sweep may have moved entries: find the insert slot again. */
	probe(c, hash, now, &at);
	c->slots[at].hash = hash;
	c->slots[at].expiry = expiry;
	c->slots[at].source = b;
	if (b != NO_SOURCE)
		c->source_count[b]++;
	c->occupied++;
	c->inserted++;
	return SAF_REPLAY_FRESH;
}

saf_replay_result
saf_replay_check_and_insert_from(saf_replay_cache *c, const uint8_t *nonce,
				 size_t nonce_len, uint64_t expiry,
				 const uint8_t *source, size_t source_len)
{
	uint64_t hash = saf_siphash24(c->key, nonce, nonce_len);
	uint32_t b = source_bucket(c, source, source_len);
	saf_replay_result r;

	pthread_mutex_lock(&c->lock);
	r = check_insert(c, hash, expiry, b, true);
	pthread_mutex_unlock(&c->lock);
	return r;
}

saf_replay_result saf_replay_check_and_insert(saf_replay_cache *c,
					      const uint8_t *nonce,
					      size_t nonce_len, uint64_t expiry)
{
	return saf_replay_check_and_insert_from(c, nonce, nonce_len, expiry,
						NULL, 0);
}

saf_replay_result saf_replay_check_from(saf_replay_cache *c,
					const uint8_t *nonce, size_t nonce_len,
					uint64_t expiry, const uint8_t *source,
					size_t source_len)
{
	uint64_t hash = saf_siphash24(c->key, nonce, nonce_len);
	uint32_t b = source_bucket(c, source, source_len);
	saf_replay_result r;

	pthread_mutex_lock(&c->lock);
	r = check_insert(c, hash, expiry, b, false);
	pthread_mutex_unlock(&c->lock);
	return r;
}

void saf_replay_cache_stats(saf_replay_cache *c, saf_replay_stats *out)
{
	uint64_t now;
	size_t live = 0;

	pthread_mutex_lock(&c->lock);
	now = c->clock(c->clock_arg);
	for (size_t i = 0; i <= c->mask; i++)
		if (c->slots[i].expiry != 0 && !past(&c->slots[i], now) &&
		    !beyond(c, &c->slots[i], now))
			live++;
	out->capacity = c->capacity;
	out->live = live;
	out->inserted = c->inserted;
	out->replays = c->replays;
	out->full = c->full;
	out->clock_back = c->clock_back;
	out->source_full = c->source_full;
	out->source_share = c->source_share;
	pthread_mutex_unlock(&c->lock);
}
