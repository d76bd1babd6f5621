/* SPDX-License-Identifier: MIT */
/* src/crypto/replay_cache.c with an injected clock: expiry, reclaiming,
 * failing closed when full, stats, and agreement with a naive model under
 * a long random workload (exercises backward-shift deletion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "saf/replay.h"

static uint64_t fake_clock(void *arg)
{
	return *(const uint64_t *)arg;
}

static void nonce_of(uint32_t id, uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, &id, sizeof(id));
}

static saf_replay_result put(saf_replay_cache *c, uint32_t id, uint64_t expiry)
{
	uint8_t n[16];

	nonce_of(id, n);
	return saf_replay_check_and_insert(c, n, sizeof(n), expiry);
}

static void test_fresh_then_seen(void **state)
{
	uint64_t now = 100;
	saf_replay_cache *c = saf_replay_cache_new(8, fake_clock, &now, NULL);
	const uint8_t a[16] = {1}, b[17] = {1};
	saf_replay_stats st;

	(void)state;
	assert_non_null(c);
	assert_int_equal(saf_replay_check_and_insert(c, a, 16, 200),
			 SAF_REPLAY_FRESH);
	assert_int_equal(saf_replay_check_and_insert(c, a, 16, 200),
			 SAF_REPLAY_SEEN);
	/* A longer nonce with the same prefix is another nonce. */
	assert_int_equal(saf_replay_check_and_insert(c, b, 17, 200),
			 SAF_REPLAY_FRESH);
	/* The expiry given on a replay does not matter. */
	assert_int_equal(saf_replay_check_and_insert(c, a, 16, 999),
			 SAF_REPLAY_SEEN);
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.capacity, 8);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.inserted, 2);
	assert_int_equal(st.replays, 2);
	assert_int_equal(st.full, 0);
	saf_replay_cache_free(c);
}

static void test_expiry(void **state)
{
	uint64_t now = 100;
	saf_replay_cache *c = saf_replay_cache_new(8, fake_clock, &now, NULL);
	saf_replay_stats st;

	(void)state;
	assert_non_null(c);
	/* Already expired: nothing to remember, reported fresh. */
	assert_int_equal(put(c, 1, 100), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 1, 100), SAF_REPLAY_FRESH);
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.inserted, 0);

	assert_int_equal(put(c, 2, 150), SAF_REPLAY_FRESH);
	now = 149;
	assert_int_equal(put(c, 2, 150), SAF_REPLAY_SEEN);
	/* At now == expiry the entry is gone. */
	now = 150;
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(put(c, 2, 300), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 2, 300), SAF_REPLAY_SEEN);
	saf_replay_cache_free(c);
}

static void test_full_fails_closed_and_expiry_reclaims(void **state)
{
	uint64_t now = 1000;
	saf_replay_cache *c = saf_replay_cache_new(4, fake_clock, &now, NULL);
	saf_replay_stats st;

	(void)state;
	assert_non_null(c);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(put(c, i, 1100 + i), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 10, 2000), SAF_REPLAY_FULL);
	assert_int_equal(put(c, 11, 2000), SAF_REPLAY_FULL);
	/* A full cache still recognises what it holds. */
	assert_int_equal(put(c, 2, 2000), SAF_REPLAY_SEEN);
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.live, 4);
	assert_int_equal(st.full, 2);
	assert_int_equal(st.replays, 1);

	/* Entry 0 expires at 1100: exactly one slot comes back. */
	now = 1100;
	assert_int_equal(put(c, 10, 2000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 11, 2000), SAF_REPLAY_FULL);
	assert_int_equal(put(c, 0, 2000), SAF_REPLAY_FULL); /* 0 is gone */
	/* Everything but 10 and 11 expires by 1104. */
	now = 1104;
	assert_int_equal(put(c, 11, 2000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 0, 2000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 10, 2000), SAF_REPLAY_SEEN);
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.inserted, 7);
	assert_int_equal(st.full, 4);
	saf_replay_cache_free(c);
}

/* An entry inserted after a full sweep with an earlier expiry than every
 * older entry must still be reclaimable when it expires. */
static void test_short_lived_entry_after_sweep(void **state)
{
	uint64_t now = 0;
	saf_replay_cache *c = saf_replay_cache_new(2, fake_clock, &now, NULL);

	(void)state;
	assert_non_null(c);
	assert_int_equal(put(c, 1, 1000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 2, 1000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 3, 1000), SAF_REPLAY_FULL); /* sweeps */
	now = 1000;
	assert_int_equal(put(c, 3, 5000), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 4, 1001), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 5, 5000), SAF_REPLAY_FULL);
	now = 1001; /* 4 expires; the cache must notice */
	assert_int_equal(put(c, 5, 5000), SAF_REPLAY_FRESH);
	saf_replay_cache_free(c);
}

static void test_create_limits(void **state)
{
	saf_error err;

	(void)state;
	assert_null(saf_replay_cache_new(0, NULL, NULL, &err));
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_null(saf_replay_cache_new((size_t)1 << 40, NULL, NULL, &err));
	assert_true(saf_replay_cache_bytes(65536) >
		    saf_replay_cache_bytes(1024));
	assert_true(saf_replay_cache_bytes(65536) >= 65536 * 2 * 16);
	saf_replay_cache_free(NULL);
}

static void test_realtime_clock(void **state)
{
	saf_replay_cache *c = saf_replay_cache_new(4, NULL, NULL, NULL);
	uint64_t now = saf_clock_realtime(NULL);

	(void)state;
	assert_non_null(c);
	assert_true(now > 1600000000u);
	assert_int_equal(put(c, 1, now + 3600), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 1, now + 3600), SAF_REPLAY_SEEN);
	assert_int_equal(put(c, 2, now - 1), SAF_REPLAY_FRESH);
	saf_replay_cache_free(c);
}

/* The cache against a plain array, over many random operations with
 * random lifetimes and a moving clock, so entries expire in every order,
 * clusters are cut everywhere and the cache is often full (about 700
 * nonces would be live for 500 places). */
#define MODEL_IDS 3000u
#define MODEL_CAP 500u

static void test_matches_model(void **state)
{
	static uint64_t model[MODEL_IDS]; /* expiry per id, 0 = never seen */
	uint64_t now = 1;
	saf_replay_cache *c =
		saf_replay_cache_new(MODEL_CAP, fake_clock, &now, NULL);
	uint32_t rng = 12345;
	saf_replay_stats st;
	uint64_t seen[3] = {0};

	(void)state;
	assert_non_null(c);
	memset(model, 0, sizeof(model));
	for (unsigned op = 0; op < 200000; op++) {
		uint32_t id, life;
		size_t live = 0;
		saf_replay_result want, got;

		rng = rng * 1103515245u + 12345u;
		id = (rng >> 8) % MODEL_IDS;
		rng = rng * 1103515245u + 12345u;
		life = (rng >> 8) % 200;
		if (op % 7 == 0)
			now++;
		for (uint32_t i = 0; i < MODEL_IDS; i++)
			live += model[i] > now;
		if (now + life <= now)
			want = SAF_REPLAY_FRESH;
		else if (model[id] > now)
			want = SAF_REPLAY_SEEN;
		else if (life == 0)
			want = SAF_REPLAY_FRESH;
		else if (live >= MODEL_CAP)
			want = SAF_REPLAY_FULL;
		else
			want = SAF_REPLAY_FRESH;
		got = put(c, id, now + life);
		if (got != want)
			fail_msg("op %u id %u now %lu life %u: got %d want %d",
				 op, id, (unsigned long)now, life, got, want);
		seen[got]++;
		if (want == SAF_REPLAY_FRESH && life > 0)
			model[id] = now + life;
		if (op % 1000 == 0) {
			saf_replay_cache_stats(c, &st);
			live = 0;
			for (uint32_t i = 0; i < MODEL_IDS; i++)
				live += model[i] > now;
			assert_int_equal(st.live, live);
		}
	}
	/* The workload reached every outcome, the full cache included. */
	assert_true(seen[SAF_REPLAY_FRESH] > 10000);
	assert_true(seen[SAF_REPLAY_SEEN] > 1000);
	assert_true(seen[SAF_REPLAY_FULL] > 1000);
	saf_replay_cache_free(c);
}

/* Issue 14: one cache shared by the threads of a process (one server
 * object per thread). Every thread tries every nonce; each nonce must be
 * accepted exactly once in all. Run under TSan or ASan too. */
#define RACE_THREADS 4
#define RACE_NONCES  20000u

struct race {
	saf_replay_cache *c;
	unsigned fresh;
	unsigned start;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (uint32_t k = 0; k < RACE_NONCES; k++) {
		uint32_t id = (k + r->start) % RACE_NONCES;

		if (put(r->c, id, 1000) == SAF_REPLAY_FRESH)
			r->fresh++;
	}
	return NULL;
}

static void test_threads_accept_each_nonce_once(void **state)
{
	uint64_t now = 100;
	saf_replay_cache *c =
		saf_replay_cache_new(RACE_NONCES, fake_clock, &now, NULL);
	struct race r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	unsigned total = 0;
	saf_replay_stats st;

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct race){.c = c, .start = (unsigned)i * 7};
		assert_int_equal(
			pthread_create(&th[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		total += r[i].fresh;
	}
	saf_replay_cache_stats(c, &st);
	if (total != RACE_NONCES || st.live != RACE_NONCES)
		fail_msg("%u acceptances of %u nonces, %zu live", total,
			 RACE_NONCES, st.live);
	saf_replay_cache_free(c);
}

/* Issue 14: one redemption while the clock is a year ahead, the clock
 * set back: fresh nonces are accepted again, the nonce of a year ahead
 * never twice, whichever way the clock goes after. */
static void test_clock_year_ahead_then_back(void **state)
{
	const uint64_t year = 365ull * 24 * 3600;
	uint64_t now = 1000 + year;
	saf_replay_config cfg = {.capacity = 8,
				 .max_lifetime = 60,
				 .clock = fake_clock,
				 .clock_arg = &now};
	saf_replay_cache *plain =
		saf_replay_cache_new(8, fake_clock, &now, NULL);
	saf_replay_cache *bounded = saf_replay_cache_create(&cfg, NULL);
	saf_replay_cache *cs[2] = {plain, bounded};

	(void)state;
	for (int k = 0; k < 2; k++) {
		saf_replay_cache *c = cs[k];

		assert_non_null(c);
		now = 1000 + year;
		assert_int_equal(put(c, 1, now + 60), SAF_REPLAY_FRESH);
		now = 1005;
		for (uint32_t id = 10; id < 14; id++)
			if (put(c, id, now + 60) != SAF_REPLAY_FRESH)
				fail_msg("cache %d: fresh nonce refused after "
					 "the clock went back",
					 k);
		assert_int_equal(put(c, 1, 1000 + year + 60), SAF_REPLAY_SEEN);
		now = 1000 + year + 1;
		assert_int_equal(put(c, 1, 1000 + year + 60), SAF_REPLAY_SEEN);
		now = 1006;
		assert_int_equal(put(c, 10, 1065), SAF_REPLAY_SEEN);
		saf_replay_cache_free(c);
	}
}

/* With max_lifetime, an entry recorded a year ahead does not hold room
 * for the year once the clock is back: the cache forgets it, and still
 * refuses its nonce (the forgotten range). */
static void test_clock_back_frees_room_keeps_refusing(void **state)
{
	const uint64_t year = 365ull * 24 * 3600;
	uint64_t now = 1000 + year;
	saf_replay_config cfg = {.capacity = 2,
				 .max_lifetime = 60,
				 .clock = fake_clock,
				 .clock_arg = &now};
	saf_replay_cache *c = saf_replay_cache_create(&cfg, NULL);
	saf_replay_stats st;

	(void)state;
	assert_int_equal(put(c, 1, now + 60), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 2, now + 50), SAF_REPLAY_FRESH);
	now = 1005;
	assert_int_equal(put(c, 3, now + 60), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 4, now + 60), SAF_REPLAY_FRESH);
	assert_int_equal(put(c, 1, 1000 + year + 60), SAF_REPLAY_SEEN);
	assert_int_equal(put(c, 2, 1000 + year + 50), SAF_REPLAY_SEEN);
	/* Once the clock passes the forgotten range, the nonces are
	 * expired and the range no longer refuses anything. */
	now = 1000 + year + 61;
	assert_int_equal(put(c, 5, now + 60), SAF_REPLAY_FRESH);
	saf_replay_cache_stats(c, &st);
	assert_true(st.clock_back >= 2);
	saf_replay_cache_free(c);
}

/* Issue 14: one source fills its share; another still gets in; the
 * first gets room again as its entries expire. */
static void test_source_share(void **state)
{
	uint64_t now = 100;
	saf_replay_config cfg = {.capacity = 64,
				 .source_share = 8,
				 .clock = fake_clock,
				 .clock_arg = &now};
	saf_replay_cache *c = saf_replay_cache_create(&cfg, NULL);
	const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 9, 0, 1};
	uint8_t n[16];
	saf_replay_stats st;
	uint32_t id = 0;

	(void)state;
	assert_non_null(c);
	for (; id < 8; id++) {
		nonce_of(id, n);
		assert_int_equal(saf_replay_check_and_insert_from(
					 c, n, sizeof(n), 150, a, sizeof(a)),
				 SAF_REPLAY_FRESH);
	}
	nonce_of(id++, n);
	assert_int_equal(
		saf_replay_check_and_insert_from(c, n, sizeof(n), 150, a, 4),
		SAF_REPLAY_SOURCE_FULL);
	nonce_of(id++, n);
	assert_int_equal(
		saf_replay_check_and_insert_from(c, n, sizeof(n), 150, b, 4),
		SAF_REPLAY_FRESH);
	/* A nonce without a source is not charged to any share. */
	assert_int_equal(put(c, id++, 150), SAF_REPLAY_FRESH);
	now = 150;
	nonce_of(id++, n);
	assert_int_equal(
		saf_replay_check_and_insert_from(c, n, sizeof(n), 200, a, 4),
		SAF_REPLAY_FRESH);
	saf_replay_cache_stats(c, &st);
	assert_int_equal(st.source_full, 1);
	assert_int_equal(st.live, 1);
	saf_replay_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_then_seen),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_full_fails_closed_and_expiry_reclaims),
		cmocka_unit_test(test_short_lived_entry_after_sweep),
		cmocka_unit_test(test_create_limits),
		cmocka_unit_test(test_realtime_clock),
		cmocka_unit_test(test_matches_model),
		cmocka_unit_test(test_threads_accept_each_nonce_once),
		cmocka_unit_test(test_clock_year_ahead_then_back),
		cmocka_unit_test(test_clock_back_frees_room_keeps_refusing),
		cmocka_unit_test(test_source_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
