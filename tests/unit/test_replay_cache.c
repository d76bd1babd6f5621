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
	uint64_t seen[3] = { 0 };

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
