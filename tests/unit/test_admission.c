/* SPDX-License-Identifier: MIT */
/* src/tls/admission.c with an injected clock (now_ms is an argument):
 * configuration checks, the per-source cap (IPv4 /32, IPv6 /64), the
 * handshake deadline, the idle bound, eviction when full, the poll bound,
 * and the per-source table against a naive model under a long random
 * workload (exercises backward-shift deletion and eviction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/admission.h"

static saf_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	saf_addr x = {.family = 4};

	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

/* 2001:db8:0:<net>::<host> */
static saf_addr v6(uint8_t net, uint8_t host)
{
	saf_addr x = {.family = 6};

	x.bytes[0] = 0x20;
	x.bytes[1] = 0x01;
	x.bytes[2] = 0x0d;
	x.bytes[3] = 0xb8;
	x.bytes[7] = net;
	x.bytes[15] = host;
	return x;
}

static saf_adm *mk(unsigned max_conns, unsigned per_source, uint32_t hs_ms,
		   uint32_t idle_ms)
{
	saf_adm_config cfg;
	saf_error e = {0};
	saf_adm *a;

	saf_adm_config_init(&cfg);
	cfg.max_conns = max_conns;
	cfg.max_per_source = per_source;
	cfg.handshake_ms = hs_ms;
	cfg.idle_ms = idle_ms;
	a = saf_adm_new(&cfg, &e);
	assert_non_null(a);
	return a;
}

static saf_adm_counters counters(const saf_adm *a)
{
	saf_adm_counters k;

	saf_adm_counters_get(a, &k);
	return k;
}

static void test_config(void **state)
{
	saf_adm_config cfg;
	saf_error e = {0};

	(void)state;
	saf_adm_config_init(&cfg);
	assert_int_equal(cfg.max_conns, 256);
	assert_int_equal(cfg.max_per_source, SAF_ADM_PER_SOURCE_DEFAULT);
	assert_int_equal(cfg.handshake_ms, SAF_ADM_HANDSHAKE_MS_DEFAULT);
	assert_int_equal(cfg.idle_ms, SAF_ADM_IDLE_S_DEFAULT * 1000u);
	assert_int_equal(cfg.evict_quiet_ms, SAF_ADM_EVICT_QUIET_MS);
	cfg.max_conns = 0;
	assert_null(saf_adm_new(&cfg, &e));
	assert_int_equal(e.code, SAF_E_RANGE);
	assert_non_null(strstr(e.msg, "max_conns 0"));
	cfg.max_conns = SAF_ADM_MAX_CONNS + 1u;
	assert_null(saf_adm_new(&cfg, &e));
	assert_int_equal(e.code, SAF_E_RANGE);
	cfg.max_conns = 4;
	cfg.handshake_ms = 0;
	assert_null(saf_adm_new(&cfg, &e));
	assert_non_null(strstr(e.msg, "handshake deadline"));
	saf_adm_free(NULL);
	assert_string_equal(saf_adm_verdict_name(SAF_ADM_ACCEPT), "accept");
	assert_string_equal(saf_adm_verdict_name(SAF_ADM_EVICT), "evict");
	assert_string_equal(saf_adm_verdict_name(SAF_ADM_REFUSE_SOURCE),
			    "per_source_refused");
	assert_string_equal(saf_adm_verdict_name(SAF_ADM_REFUSE_FULL),
			    "full_refused");
	assert_string_equal(saf_adm_verdict_name((saf_adm_verdict)99), "?");
}

static void test_accept_and_release(void **state)
{
	saf_adm *a = mk(3, 0, 1000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned slot;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(saf_adm_admit(a, &s, 0, &slot),
				 SAF_ADM_ACCEPT);
		assert_int_equal(slot, i); /* lowest free first */
		assert_int_equal(saf_adm_slot_state(a, slot),
				 SAF_ADM_HANDSHAKE);
	}
	assert_int_equal(counters(a).handshaking, 3);
	assert_int_equal(counters(a).sources, 1);
	saf_adm_release(a, 1);
	saf_adm_release(a, 1);	/* idempotent */
	saf_adm_release(a, 99); /* out of range: ignored */
	assert_int_equal(saf_adm_slot_state(a, 1), SAF_ADM_FREE);
	assert_int_equal(saf_adm_slot_state(a, 99), SAF_ADM_FREE);
	assert_int_equal(counters(a).handshaking, 2);
	assert_int_equal(saf_adm_admit(a, &s, 0, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(slot, 1);
	saf_adm_established(a, 0, false, 5);
	saf_adm_established(a, 1, true, 5);
	saf_adm_established(a, 1, false, 6); /* not in handshake: ignored */
	saf_adm_established(a, 77, false, 6);
	assert_int_equal(saf_adm_slot_state(a, 0), SAF_ADM_OPEN);
	assert_int_equal(saf_adm_slot_state(a, 1), SAF_ADM_STREAM);
	assert_int_equal(counters(a).open, 1);
	assert_int_equal(counters(a).streams, 1);
	assert_int_equal(counters(a).handshaking, 1);
	for (unsigned i = 0; i < 3; i++)
		saf_adm_release(a, i);
	assert_int_equal(counters(a).open, 0);
	assert_int_equal(counters(a).streams, 0);
	assert_int_equal(counters(a).handshaking, 0);
	assert_int_equal(counters(a).sources, 0);
	saf_adm_free(a);
}

static void test_per_source_v4(void **state)
{
	saf_adm *a = mk(16, 2, 1000, 0);
	saf_addr s1 = v4(10, 0, 0, 1), s2 = v4(10, 0, 0, 2);
	unsigned slot, first;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s1, 0, &first), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s1, 0, &slot), SAF_ADM_ACCEPT);
	slot = 1234;
	assert_int_equal(saf_adm_admit(a, &s1, 0, &slot),
			 SAF_ADM_REFUSE_SOURCE);
	assert_int_equal(slot, 1234); /* untouched */
	/* The neighbour /32 is another source. */
	assert_int_equal(saf_adm_admit(a, &s2, 0, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(counters(a).per_source_refused, 1);
	assert_int_equal(counters(a).sources, 2);
	/* A slot freed by the source lets it in again. */
	saf_adm_release(a, first);
	assert_int_equal(saf_adm_admit(a, &s1, 0, &slot), SAF_ADM_ACCEPT);
	saf_adm_free(a);
}

static void test_per_source_v6_64(void **state)
{
	saf_adm *a = mk(16, 2, 1000, 0);
	saf_addr h1 = v6(1, 1), h2 = v6(1, 2), h3 = v6(1, 3), o = v6(2, 1);
	unsigned slot;

	(void)state;
	/* Hosts of one /64 share the cap. */
	assert_int_equal(saf_adm_admit(a, &h1, 0, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &h2, 0, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &h3, 0, &slot),
			 SAF_ADM_REFUSE_SOURCE);
	assert_int_equal(saf_adm_admit(a, &o, 0, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(counters(a).sources, 2);
	saf_adm_free(a);
}

static void test_no_cap(void **state)
{
	saf_adm *a = mk(40, 0, 1000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned slot;

	(void)state;
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(saf_adm_admit(a, &s, 0, &slot),
				 SAF_ADM_ACCEPT);
	assert_int_equal(counters(a).per_source_refused, 0);
	saf_adm_free(a);
}

static void test_handshake_deadline(void **state)
{
	saf_adm *a = mk(4, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 1000, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_next_ms(a, 1000), 5000);
	assert_int_equal(saf_adm_check(a, slot, 5999), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_next_ms(a, 5999), 1);
	assert_int_equal(saf_adm_next_ms(a, 6000), 0);
	assert_int_equal(saf_adm_check(a, slot, 6000),
			 SAF_ADM_HANDSHAKE_TIMEOUT);
	assert_int_equal(saf_adm_slot_state(a, slot), SAF_ADM_FREE);
	assert_int_equal(saf_adm_check(a, slot, 9000), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_check(a, 99, 9000), SAF_ADM_KEEP);
	assert_int_equal(counters(a).handshake_timeouts, 1);
	assert_int_equal(counters(a).handshaking, 0);
	assert_int_equal(counters(a).sources, 0);
	assert_true(saf_adm_next_ms(a, 9000) == UINT64_MAX);
	/* A clock that went back counts as no time passed. */
	assert_int_equal(saf_adm_admit(a, &s, 9000, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_check(a, slot, 100), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_next_ms(a, 100), 5000);
	saf_adm_free(a);
}

static void test_idle_bound(void **state)
{
	saf_adm *a = mk(4, 0, 5000, 60000);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned open, stream;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 0, &open), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 0, &stream), SAF_ADM_ACCEPT);
	saf_adm_established(a, open, false, 100);
	saf_adm_established(a, stream, true, 100);
	/* The handshake's deadline no longer applies. */
	assert_int_equal(saf_adm_check(a, open, 5100), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_next_ms(a, 100), 60000);
	/* Data resets the bound; an older time does not move it back. */
	saf_adm_activity(a, open, 30000);
	saf_adm_activity(a, open, 20000);
	saf_adm_activity(a, stream, 30000); /* streams: nothing to do */
	saf_adm_activity(a, 99, 30000);
	assert_int_equal(saf_adm_check(a, open, 60100), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_next_ms(a, 60100), 29900);
	assert_int_equal(saf_adm_check(a, open, 90000), SAF_ADM_IDLE_TIMEOUT);
	assert_int_equal(counters(a).idle_timeouts, 1);
	assert_int_equal(counters(a).open, 0);
	/* A stream is never timed out from here. */
	assert_int_equal(saf_adm_check(a, stream, 10000000), SAF_ADM_KEEP);
	assert_true(saf_adm_next_ms(a, 10000000) == UINT64_MAX);
	saf_adm_free(a);
}

static void test_idle_off(void **state)
{
	saf_adm *a = mk(2, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 0, &slot), SAF_ADM_ACCEPT);
	saf_adm_established(a, slot, false, 0);
	assert_int_equal(saf_adm_check(a, slot, 100000000), SAF_ADM_KEEP);
	assert_true(saf_adm_next_ms(a, 0) == UINT64_MAX);
	saf_adm_free(a);
}

/* Full of handshakes: the oldest gives its slot up, whoever it is. */
static void test_evict_oldest_handshake(void **state)
{
	saf_adm *a = mk(3, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1), n = v4(10, 0, 0, 9);
	unsigned slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 30, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 10, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 20, &slot), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &n, 40, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, 1); /* the one from t=10 */
	assert_int_equal(saf_adm_slot_state(a, 1), SAF_ADM_HANDSHAKE);
	assert_int_equal(counters(a).evicted, 1);
	assert_int_equal(counters(a).handshaking, 3);
	assert_int_equal(counters(a).sources, 2);
	/* The newcomer got t=40: the next victim is t=20, slot 2. */
	assert_int_equal(saf_adm_admit(a, &n, 41, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, 2);
	saf_adm_free(a);
}

/* A silent handshake goes before an older one whose peer spoke; the
 * deadline of one that spoke still runs from accept. */
static void test_evict_silent_first(void **state)
{
	saf_adm *a = mk(3, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned h0, h1, h2, slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 10, &h0), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 20, &h1), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 30, &h2), SAF_ADM_ACCEPT);
	saf_adm_activity(a, h0, 40);
	saf_adm_activity(a, h1, 40);
	assert_int_equal(saf_adm_admit(a, &s, 50, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, h2); /* the only silent one */
	saf_adm_activity(a, h2, 60);
	/* All spoke: the oldest (t=10) goes. */
	assert_int_equal(saf_adm_admit(a, &s, 70, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, h0);
	/* h1 spoke but its deadline is 20 + 5000. */
	assert_int_equal(saf_adm_check(a, h1, 5019), SAF_ADM_KEEP);
	assert_int_equal(saf_adm_check(a, h1, 5020), SAF_ADM_HANDSHAKE_TIMEOUT);
	saf_adm_free(a);
}

/* A handshake goes before a quiet open connection. */
static void test_evict_prefers_handshake(void **state)
{
	saf_adm *a = mk(2, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned o, h, slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 0, &o), SAF_ADM_ACCEPT);
	saf_adm_established(a, o, false, 0);
	assert_int_equal(saf_adm_admit(a, &s, 3000, &h), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 4000, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, h);
	saf_adm_free(a);
}

/* No handshakes: the stream-less connection quiet longest, once quiet for
 * evict_quiet_ms; streams never. */
static void test_evict_quiet_open(void **state)
{
	saf_adm *a = mk(3, 0, 5000, 0);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned o1, o2, st, slot;

	(void)state;
	assert_int_equal(saf_adm_admit(a, &s, 0, &o1), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 0, &o2), SAF_ADM_ACCEPT);
	assert_int_equal(saf_adm_admit(a, &s, 0, &st), SAF_ADM_ACCEPT);
	saf_adm_established(a, o1, false, 100);
	saf_adm_established(a, o2, false, 100);
	saf_adm_established(a, st, true, 100);
	saf_adm_activity(a, o1, 600);
	/* Both moved data less than a second ago: refused. */
	assert_int_equal(saf_adm_admit(a, &s, 1000, &slot),
			 SAF_ADM_REFUSE_FULL);
	assert_int_equal(counters(a).full_refused, 1);
	assert_int_equal(counters(a).sources, 1);
	/* o2 (quiet since 100) is quiet long enough, o1 not yet. */
	assert_int_equal(saf_adm_admit(a, &s, 1100, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, o2);
	assert_int_equal(saf_adm_slot_state(a, o2), SAF_ADM_HANDSHAKE);
	saf_adm_established(a, o2, true, 1100);
	/* Both quiet enough later: the stalest goes (o1, since 600). */
	saf_adm_release(a, o2);
	assert_int_equal(saf_adm_admit(a, &s, 5000, &slot), SAF_ADM_ACCEPT);
	saf_adm_established(a, slot, false, 1200);
	assert_int_equal(saf_adm_admit(a, &s, 5000, &slot), SAF_ADM_EVICT);
	assert_int_equal(slot, o1);
	saf_adm_free(a);
}

static void test_full_of_streams(void **state)
{
	saf_adm *a = mk(2, 0, 5000, 1000);
	saf_addr s = v4(10, 0, 0, 1);
	unsigned slot;

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(saf_adm_admit(a, &s, 0, &slot),
				 SAF_ADM_ACCEPT);
		saf_adm_established(a, slot, true, 0);
	}
	assert_int_equal(saf_adm_admit(a, &s, 1000000, &slot),
			 SAF_ADM_REFUSE_FULL);
	saf_adm_free(a);
}

/* The per-source table against a model: random admits (many sources, a
 * small table so probes collide and wrap), releases, timeouts, evictions.
 * Each source's count must match, so the cap holds exactly. */
static void test_random_model(void **state)
{
	enum { N = 16, SRCS = 40, CAP = 3, STEPS = 200000 };
	saf_adm *a = mk(N, CAP, 50, 0);
	int owner[N], count[SRCS] = {0};
	uint64_t now = 0;
	unsigned seed = 12345;

	(void)state;
	for (unsigned i = 0; i < N; i++)
		owner[i] = -1;
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned r, slot;
		int src;

		seed = seed * 1103515245u + 12345u;
		r = seed >> 8;
		now += r % 10;
		if (r % 4) {
			saf_addr x;
			saf_adm_verdict v;

			src = (int)((r >> 4) % SRCS);
			x = src % 2 ? v4(10, 1, (uint8_t)(src >> 8),
					 (uint8_t)src)
				    : v6((uint8_t)src, (uint8_t)r);
			v = saf_adm_admit(a, &x, now, &slot);
			if (count[src] >= CAP) {
				assert_int_equal(v, SAF_ADM_REFUSE_SOURCE);
				continue;
			}
			assert_true(v == SAF_ADM_ACCEPT || v == SAF_ADM_EVICT);
			if (v == SAF_ADM_EVICT) {
				assert_true(owner[slot] >= 0);
				count[owner[slot]]--;
			} else {
				assert_int_equal(owner[slot], -1);
			}
			owner[slot] = src;
			count[src]++;
		} else {
			slot = (r >> 4) % N;
			if ((r >> 12) % 2) {
				saf_adm_release(a, slot);
			} else if (saf_adm_check(a, slot, now) ==
				   SAF_ADM_KEEP) {
				continue;
			}
			if (owner[slot] >= 0)
				count[owner[slot]]--;
			owner[slot] = -1;
		}
	}
	{
		size_t live = 0, srcs = 0;

		for (unsigned i = 0; i < SRCS; i++)
			srcs += count[i] > 0;
		for (unsigned i = 0; i < N; i++)
			live += owner[i] >= 0;
		assert_int_equal(counters(a).sources, srcs);
		assert_int_equal(counters(a).handshaking, live);
		assert_true(counters(a).evicted > 0);
		assert_true(counters(a).handshake_timeouts > 0);
		assert_true(counters(a).per_source_refused > 0);
	}
	saf_adm_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_accept_and_release),
		cmocka_unit_test(test_per_source_v4),
		cmocka_unit_test(test_per_source_v6_64),
		cmocka_unit_test(test_no_cap),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_idle_bound),
		cmocka_unit_test(test_idle_off),
		cmocka_unit_test(test_evict_oldest_handshake),
		cmocka_unit_test(test_evict_silent_first),
		cmocka_unit_test(test_evict_prefers_handshake),
		cmocka_unit_test(test_evict_quiet_open),
		cmocka_unit_test(test_full_of_streams),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
