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
 * so a peer cannot aim collisions at one bucket.
 *
 * Thread-safe: every call takes the cache's own lock, and
 * saf_replay_check_and_insert tests and inserts in one step, so the
 * threads of one process may share one cache (one server object per
 * thread, all given the same cache) and a nonce is accepted at most once
 * among them.
 */
#ifndef SAF_REPLAY_H
#define SAF_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/error.h"

typedef struct saf_replay_cache saf_replay_cache;

/* Clock in Unix seconds. Injectable so tests control time. */
typedef uint64_t (*saf_clock_fn)(void *arg);
uint64_t saf_clock_realtime(void *arg);

typedef enum saf_replay_result {
	SAF_REPLAY_FRESH = 0,	/* first time seen: now recorded */
	SAF_REPLAY_SEEN,	/* recorded before and not yet expired */
	SAF_REPLAY_FULL,	/* no room: refused, nothing recorded */
	SAF_REPLAY_SOURCE_FULL, /* this source used its share: refused */
} saf_replay_result;

typedef struct saf_replay_config {
	/* The most live nonces held at once (> 0). A node sizes it from its
	 * token lifetime and the handshakes it can complete per second
	 * (docs/tls.md): an attacker then fills it only by keeping the
	 * node at full handshake load for a whole token lifetime. */
	size_t capacity;
	/* Live nonces one source (saf_replay_check_and_insert_from) may
	 * hold at once; 0: no share (a source may fill the cache). Sources
	 * are counted in SAF_REPLAY_SOURCE_BUCKETS keyed buckets, so two
	 * sources share a bucket now and then. */
	size_t source_share;
	/* Tokens are never issued for longer than this (s); 0: unknown.
	 * When the clock goes back by more than this, entries recorded at
	 * the later time are forgotten early (see the clock rules below),
	 * so that they do not hold room for the whole jump. */
	uint64_t max_lifetime;
	saf_clock_fn clock; /* NULL: realtime */
	void *clock_arg;
} saf_replay_config;

#define SAF_REPLAY_SOURCE_BUCKETS 4096u

/* Returns NULL with *err set on failure. Memory used: about
 * saf_replay_cache_bytes(capacity). */
saf_replay_cache *saf_replay_cache_create(const saf_replay_config *cfg,
					  saf_error *err);
/* The same with no source share and no max_lifetime. clock NULL =
 * realtime. */
saf_replay_cache *saf_replay_cache_new(size_t capacity, saf_clock_fn clock,
				       void *clock_arg, saf_error *err);
void saf_replay_cache_free(saf_replay_cache *c);
size_t saf_replay_cache_bytes(size_t capacity);

/* Checks and records, in one step under the cache's lock, a nonce that
 * stays live until `expiry` (Unix s). An already-expired expiry is
 * recorded nowhere and reported FRESH (the verifier refuses expired
 * tokens before it gets here).
 *
 * Clock rules. The wall clock (cfg.clock) only judges expiry; the cache's
 * own bookkeeping (how often it sweeps) uses the monotonic clock. An entry
 * is forgotten once the wall clock is past its expiry, or (max_lifetime
 * set) once its expiry lies more than max_lifetime ahead of the wall clock
 * (the clock went back over the token's whole life). Either way the cache
 * keeps a bound on what it forgot: the latest expiry forgotten as past,
 * and the range of expiries forgotten as future. A nonce whose expiry
 * falls in what was forgotten is reported SEEN (counted in replays and
 * clock_back): failing closed for those tokens only, so a clock that
 * jumps either way never lets a token in twice, and fresh tokens (whose
 * expiry lies outside those bounds) are not held up by the jump. */
saf_replay_result saf_replay_check_and_insert(saf_replay_cache *c,
					      const uint8_t *nonce,
					      size_t nonce_len,
					      uint64_t expiry);
/* The same, charged to a source (bytes naming it, e.g. the client's
 * address prefix; NULL: none, not limited by the share). */
saf_replay_result
saf_replay_check_and_insert_from(saf_replay_cache *c, const uint8_t *nonce,
				 size_t nonce_len, uint64_t expiry,
				 const uint8_t *source, size_t source_len);
/* What saf_replay_check_and_insert_from would answer now, recording and
 * counting nothing: for an early refusal before the handshake that
 * records the nonce completes (a FRESH answer may still turn into another
 * when recording, if another thread got there first). */
saf_replay_result saf_replay_check_from(saf_replay_cache *c,
					const uint8_t *nonce, size_t nonce_len,
					uint64_t expiry, const uint8_t *source,
					size_t source_len);

/* Live entries now, and counters since creation. */
typedef struct saf_replay_stats {
	size_t capacity;
	size_t live;
	uint64_t inserted;
	uint64_t replays;
	uint64_t full;
	uint64_t clock_back;  /* SEEN because of the clock rules (above) */
	uint64_t source_full; /* SOURCE_FULL answers */
	size_t source_share;
} saf_replay_stats;
void saf_replay_cache_stats(saf_replay_cache *c, saf_replay_stats *out);

#endif /* SAF_REPLAY_H */
