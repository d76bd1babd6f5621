/* SPDX-License-Identifier: MIT */
/* src/tcp/affinity_cache.c: every function, the TTL, eviction of the
 * oldest entry when full, the size bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tcp.h"

static saf_addr addr(const char *text)
{
	saf_addr a;

	assert_int_equal(saf_addr_parse(text, false, &a, NULL), 0);
	return a;
}

static void assert_hit(saf_affinity_cache *c, const char *service, uint64_t now,
		       const char *want)
{
	saf_addr s = addr(service), t, w = addr(want);

	memset(&t, 0xa5, sizeof(t));
	assert_true(saf_affinity_cache_get(c, &s, now, &t));
	assert_true(saf_addr_equal(&t, &w));
}

static void assert_miss(saf_affinity_cache *c, const char *service,
			uint64_t now)
{
	saf_addr s = addr(service), t = addr("192.0.2.99:9");

	assert_false(saf_affinity_cache_get(c, &s, now, &t));
	/* A miss leaves the caller's target alone. */
	assert_int_equal(t.port, 9);
}

static void put(saf_affinity_cache *c, const char *service, const char *target,
		uint64_t now)
{
	saf_addr s = addr(service), t = addr(target);

	saf_affinity_cache_put(c, &s, &t, now);
}

static void test_new_bounds(void **state)
{
	saf_error err;
	saf_affinity_cache *c;

	(void)state;
	assert_null(saf_affinity_cache_new(0, 1000, &err));
	assert_int_equal(err.code, SAF_E_INVAL);
	assert_string_equal(err.msg, "affinity cache size 0 outside 1..65536");
	assert_null(saf_affinity_cache_new(65537, 1000, &err));
	assert_string_equal(err.msg,
			    "affinity cache size 65537 outside 1..65536");
	assert_null(saf_affinity_cache_new(SIZE_MAX, 1000, NULL));
	c = saf_affinity_cache_new(65536, 1000, &err);
	assert_non_null(c);
	saf_affinity_cache_free(c);
	c = saf_affinity_cache_new(1, 1000, &err);
	assert_non_null(c);
	saf_affinity_cache_free(c);
	saf_affinity_cache_free(NULL);
}

static void test_put_get(void **state)
{
	saf_affinity_cache *c = saf_affinity_cache_new(4, 1000, NULL);

	(void)state;
	assert_miss(c, "10.99.0.1:80", 0);
	put(c, "10.99.0.1:80", "10.30.2.2:80", 100);
	assert_hit(c, "10.99.0.1:80", 100, "10.30.2.2:80");
	/* The key is address and port: another port, another service. */
	assert_miss(c, "10.99.0.1:443", 100);
	assert_miss(c, "10.99.0.2:80", 100);
	put(c, "[fd00:99::1]:80", "[fd00:30:2::2]:80", 100);
	assert_hit(c, "[fd00:99::1]:80", 200, "[fd00:30:2::2]:80");
	assert_hit(c, "10.99.0.1:80", 200, "10.30.2.2:80");
	/* A second put for the service replaces its target. */
	put(c, "10.99.0.1:80", "10.30.3.2:80", 300);
	assert_hit(c, "10.99.0.1:80", 300, "10.30.3.2:80");
	saf_affinity_cache_free(c);
}

static void test_ttl(void **state)
{
	saf_affinity_cache *c = saf_affinity_cache_new(2, 1000, NULL);

	(void)state;
	put(c, "10.99.0.1:80", "10.30.2.2:80", 5000);
	assert_hit(c, "10.99.0.1:80", 5999, "10.30.2.2:80");
	/* Exactly ttl_ms after the put it is gone, and stays gone. */
	assert_miss(c, "10.99.0.1:80", 6000);
	assert_miss(c, "10.99.0.1:80", 5500);
	/* A put refreshes the time. */
	put(c, "10.99.0.1:80", "10.30.2.2:80", 7000);
	put(c, "10.99.0.1:80", "10.30.2.2:80", 7900);
	assert_hit(c, "10.99.0.1:80", 8800, "10.30.2.2:80");
	/* A time before the put (another clock) reads as expired: never a
	 * stale hit. */
	put(c, "10.99.0.2:80", "10.30.2.2:80", 9000);
	assert_miss(c, "10.99.0.2:80", 8999);
	saf_affinity_cache_free(c);

	/* TTL 0: nothing is ever served from the cache. */
	c = saf_affinity_cache_new(2, 0, NULL);
	put(c, "10.99.0.1:80", "10.30.2.2:80", 5000);
	assert_miss(c, "10.99.0.1:80", 5000);
	saf_affinity_cache_free(c);
}

static void test_evicts_oldest_when_full(void **state)
{
	saf_affinity_cache *c = saf_affinity_cache_new(3, 100000, NULL);

	(void)state;
	put(c, "10.99.0.1:80", "10.30.2.1:80", 30);
	put(c, "10.99.0.2:80", "10.30.2.2:80", 10); /* the oldest */
	put(c, "10.99.0.3:80", "10.30.2.3:80", 20);
	put(c, "10.99.0.4:80", "10.30.2.4:80", 40);
	assert_miss(c, "10.99.0.2:80", 50);
	assert_hit(c, "10.99.0.1:80", 50, "10.30.2.1:80");
	assert_hit(c, "10.99.0.3:80", 50, "10.30.2.3:80");
	assert_hit(c, "10.99.0.4:80", 50, "10.30.2.4:80");
	/* Next the one stored at 20; a refreshed entry is young again. */
	put(c, "10.99.0.3:80", "10.30.2.3:80", 60);
	put(c, "10.99.0.5:80", "10.30.2.5:80", 70);
	assert_miss(c, "10.99.0.1:80", 80);
	assert_hit(c, "10.99.0.3:80", 80, "10.30.2.3:80");
	assert_hit(c, "10.99.0.5:80", 80, "10.30.2.5:80");
	saf_affinity_cache_free(c);
}

static void test_free_slot_before_eviction(void **state)
{
	saf_affinity_cache *c = saf_affinity_cache_new(3, 1000, NULL);

	(void)state;
	put(c, "10.99.0.1:80", "10.30.2.1:80", 10);
	put(c, "10.99.0.2:80", "10.30.2.2:80", 20);
	put(c, "10.99.0.3:80", "10.30.2.3:80", 30);
	/* Forgetting (or expiring) an entry frees its slot: the next put
	 * takes it and evicts nobody, not even the oldest. */
	saf_affinity_cache_forget(c, &(saf_addr){0}); /* unknown: no-op */
	{
		saf_addr s = addr("10.99.0.3:80");

		saf_affinity_cache_forget(c, &s);
	}
	assert_miss(c, "10.99.0.3:80", 40);
	put(c, "10.99.0.4:80", "10.30.2.4:80", 40);
	assert_hit(c, "10.99.0.1:80", 50, "10.30.2.1:80");
	assert_hit(c, "10.99.0.2:80", 50, "10.30.2.2:80");
	assert_hit(c, "10.99.0.4:80", 50, "10.30.2.4:80");
	/* Expired at a get: freed the same way. */
	assert_miss(c, "10.99.0.1:80", 1010);
	put(c, "10.99.0.5:80", "10.30.2.5:80", 1015);
	assert_hit(c, "10.99.0.2:80", 1015, "10.30.2.2:80");
	assert_hit(c, "10.99.0.5:80", 1015, "10.30.2.5:80");
	saf_affinity_cache_free(c);
}

static void test_bounded_under_many_services(void **state)
{
	saf_affinity_cache *c = saf_affinity_cache_new(8, 1000000, NULL);
	unsigned hits = 0;

	(void)state;
	/* 1000 services through 8 slots: only the 8 newest remain. */
	for (unsigned i = 0; i < 1000; i++) {
		saf_addr s = addr("10.99.0.1"), t = addr("10.30.2.2:80");

		s.has_port = true;
		s.port = (uint16_t)(1000 + i);
		saf_affinity_cache_put(c, &s, &t, i);
	}
	for (unsigned i = 0; i < 1000; i++) {
		saf_addr s = addr("10.99.0.1"), t;

		s.has_port = true;
		s.port = (uint16_t)(1000 + i);
		if (saf_affinity_cache_get(c, &s, 1000, &t)) {
			hits++;
			assert_true(i >= 992);
		}
	}
	assert_int_equal(hits, 8);
	saf_affinity_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_bounds),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_evicts_oldest_when_full),
		cmocka_unit_test(test_free_slot_before_eviction),
		cmocka_unit_test(test_bounded_under_many_services),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
