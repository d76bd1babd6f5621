/* SPDX-License-Identifier: MIT */
/*
 * Replay cache for token nonces (SPEC 3.4 step 4): "the nonce was never
 * redeemed before (replay cache held until expiry, bounded in memory,
 * failing closed when full)".
 *
 * Memory is fixed at creation (capacity entries, open addressing, no
 * allocation after create). An entry lives until the token's expiry; expired
 * entries are reclaimed lazily. When every slot holds a live entry, a new
 * nonce is refused (SAF_REPLAY_FULL): failing closed, never evicting a live
 * nonce, since eviction would let that token be replayed.
 *
 * Nonces are stored as a keyed hash (SipHash-style, random key per cache)
 * so a peer cannot aim collisions at one bucket. Not thread-safe: one cache
 * per thread, or lock around it.
 */
#ifndef SAF_REPLAY_H
#define SAF_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "saf/error.h"

typedef struct saf_replay_cache saf_replay_cache;

/* Clock in Unix seconds. Injectable so tests control time. */
typedef uint64_t (*saf_clock_fn)(void *arg);
uint64_t saf_clock_realtime(void *arg);

typedef enum saf_replay_result {
	SAF_REPLAY_FRESH = 0, /* first time seen: now recorded */
	SAF_REPLAY_SEEN,      /* recorded before and not yet expired */
	SAF_REPLAY_FULL,      /* no room: refused, nothing recorded */
} saf_replay_result;

/* capacity: the most live nonces held at once (> 0). clock NULL = realtime.
 * Returns NULL with *err set on failure. Memory used: about
 * saf_replay_cache_bytes(capacity). */
saf_replay_cache *saf_replay_cache_new(size_t capacity, saf_clock_fn clock,
				       void *clock_arg, saf_error *err);
void saf_replay_cache_free(saf_replay_cache *c);
size_t saf_replay_cache_bytes(size_t capacity);

/* Checks and records a nonce that stays live until `expiry` (Unix s).
 * An already-expired expiry is recorded nowhere and reported FRESH (the
 * verifier refuses expired tokens before it gets here).
 *
 * A clock that jumps forward and then back must not reopen a window: an
 * entry dropped as expired at the later time would be forgotten when the
 * clock returns. So a nonce whose expiry is not after the latest time at
 * which the cache reclaimed entries is reported SEEN (counted in replays
 * and clock_back), whether or not it was recorded: failing closed until
 * the clock passes that expiry again. */
saf_replay_result saf_replay_check_and_insert(saf_replay_cache *c,
					      const uint8_t *nonce,
					      size_t nonce_len,
					      uint64_t expiry);

/* Live entries now, and counters since creation. */
typedef struct saf_replay_stats {
	size_t capacity;
	size_t live;
	uint64_t inserted;
	uint64_t replays;
	uint64_t full;
	uint64_t clock_back; /* SEEN because the clock went back (above) */
} saf_replay_stats;
void saf_replay_cache_stats(saf_replay_cache *c, saf_replay_stats *out);

#endif /* SAF_REPLAY_H */
