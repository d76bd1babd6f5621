/* SPDX-License-Identifier: MIT */
/* src/core/cursor.c: bounds, big-endian order, exact vectors, sticky
 * writer failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/cursor.h"

static void test_get_integers_big_endian(void **state)
{
	const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
			       0x07, 0x08, 0x09, 0x0a, 0x0b};
	saf_reader r;
	uint8_t u8;
	uint16_t u16;
	uint64_t u64;

	(void)state;
	saf_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(saf_get_u8(&r, &u8, "a", NULL), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(saf_get_u16(&r, &u16, "b", NULL), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(saf_get_u64(&r, &u64, "c", NULL), 0);
	assert_true(u64 == 0x0405060708090a0bULL);
	assert_int_equal(saf_reader_left(&r), 0);
	assert_int_equal(saf_reader_expect_end(&r, "x", NULL), 0);
}

static void test_short_reads_fail_and_keep_position(void **state)
{
	const uint8_t buf[7] = {0};
	saf_error err;
	saf_reader r;
	saf_slice s;
	uint8_t u8;
	uint16_t u16;
	uint64_t u64;

	(void)state;
	saf_reader_init(&r, buf, 1);
	assert_int_equal(saf_get_u16(&r, &u16, "port", &err), -1);
	assert_int_equal(err.code, SAF_E_SHORT);
	assert_string_equal(err.msg, "port: needs 2 bytes, 1 left");
	assert_int_equal(r.pos, 0);

	saf_reader_init(&r, buf, 7);
	assert_int_equal(saf_get_u64(&r, &u64, "expiry", &err), -1);
	assert_int_equal(err.code, SAF_E_SHORT);
	assert_int_equal(r.pos, 0);
	assert_int_equal(saf_get_bytes(&r, 8, &s, "addr", &err), -1);
	assert_int_equal(r.pos, 0);

	saf_reader_init(&r, buf, 0);
	assert_int_equal(saf_get_u8(&r, &u8, "kind", &err), -1);
	assert_string_equal(err.msg, "kind: needs 1 byte, 0 left");
	/* A NULL error is allowed. */
	assert_int_equal(saf_get_u8(&r, &u8, "kind", NULL), -1);
	/* A NULL buffer reads as empty. */
	saf_reader_init(&r, NULL, 5);
	assert_int_equal(saf_reader_left(&r), 0);
}

static void test_get_bytes_borrows(void **state)
{
	const uint8_t buf[] = {1, 2, 3, 4};
	saf_reader r;
	saf_slice s;

	(void)state;
	saf_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(saf_get_bytes(&r, 0, &s, "none", NULL), 0);
	assert_int_equal(s.len, 0);
	assert_int_equal(saf_get_bytes(&r, 3, &s, "three", NULL), 0);
	assert_ptr_equal(s.base, buf);
	assert_int_equal(s.len, 3);
	assert_int_equal(saf_reader_left(&r), 1);
}

static void test_vec8_range_edges(void **state)
{
	uint8_t buf[1 + 40];
	saf_error err;
	saf_reader r;
	saf_slice s;

	(void)state;
	memset(buf, 0xab, sizeof(buf));
	for (unsigned n = 0; n <= 40; n++) {
		buf[0] = (uint8_t)n;
		saf_reader_init(&r, buf, 1 + n);
		int rc = saf_get_vec8(&r, 16, 32, &s, "nonce", &err);

		if (n < 16 || n > 32) {
			assert_int_equal(rc, -1);
			assert_int_equal(err.code, SAF_E_RANGE);
			assert_int_equal(r.pos, 0);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(s.len, n);
			assert_ptr_equal(s.base, buf + 1);
			assert_int_equal(saf_reader_left(&r), 0);
		}
	}
	buf[0] = 15;
	saf_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(saf_get_vec8(&r, 16, 32, &s, "nonce", &err), -1);
	assert_string_equal(err.msg, "nonce: length 15 outside 16..32");
}

static void test_vec8_short_body(void **state)
{
	uint8_t buf[20] = {20};
	saf_error err;
	saf_reader r;
	saf_slice s;

	(void)state;
	saf_reader_init(&r, buf, sizeof(buf)); /* says 20, has 19 */
	assert_int_equal(saf_get_vec8(&r, 0, 255, &s, "v", &err), -1);
	assert_int_equal(err.code, SAF_E_SHORT);
	assert_int_equal(r.pos, 0);
	saf_reader_init(&r, buf, 0);
	assert_int_equal(saf_get_vec8(&r, 0, 255, &s, "v", &err), -1);
	assert_int_equal(err.code, SAF_E_SHORT);
}

static void test_expect_end_trailing(void **state)
{
	const uint8_t buf[3] = {0};
	saf_error err;
	saf_reader r;
	uint8_t u8;

	(void)state;
	saf_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(saf_get_u8(&r, &u8, "a", NULL), 0);
	assert_int_equal(saf_reader_expect_end(&r, "token", &err), -1);
	assert_int_equal(err.code, SAF_E_TRAILING);
	assert_string_equal(err.msg, "token: 2 trailing bytes after the end");
}

static void test_writer_exact_fit(void **state)
{
	const uint8_t want[] = {0xfd, 0x53, 0x46, 0,	0, 0, 0,
				0,    0,    0,	  0x2a, 2, 9, 8};
	const uint8_t v[] = {9, 8};
	uint8_t buf[sizeof(want)];
	saf_writer w;

	(void)state;
	saf_writer_init(&w, buf, sizeof(buf));
	saf_put_u8(&w, 0xfd);
	saf_put_u16(&w, 0x5346);
	saf_put_u64(&w, 42);
	saf_put_vec8(&w, v, sizeof(v));
	saf_put_bytes(&w, NULL, 0);
	assert_int_equal(saf_writer_finish(&w, "x", NULL), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_writer_overflow_is_sticky(void **state)
{
	uint8_t buf[4] = {0};
	saf_error err;
	saf_writer w;

	(void)state;
	saf_writer_init(&w, buf, 3);
	saf_put_u16(&w, 0x0102);
	saf_put_u16(&w, 0x0304); /* does not fit */
	saf_put_u8(&w, 0x05);	 /* would fit, but the writer failed */
	assert_true(w.failed);
	assert_int_equal(w.len, 2);
	assert_int_equal(buf[2], 0);
	assert_int_equal(saf_writer_finish(&w, "tcpopt", &err), -1);
	assert_int_equal(err.code, SAF_E_NOSPACE);
	assert_string_equal(err.msg, "tcpopt: does not fit in 3 bytes");

	saf_writer_init(&w, buf, 4);
	saf_put_u64(&w, 1);
	assert_true(w.failed);
	assert_int_equal(w.len, 0);
}

static void test_writer_vec8_limits(void **state)
{
	static uint8_t big[256], buf[300];
	saf_writer w;

	(void)state;
	saf_writer_init(&w, buf, sizeof(buf));
	saf_put_vec8(&w, big, 255);
	assert_false(w.failed);
	assert_int_equal(w.len, 256);
	assert_int_equal(buf[0], 255);

	saf_writer_init(&w, buf, sizeof(buf));
	saf_put_vec8(&w, big, 256);
	assert_true(w.failed);

	/* Length byte fits but the body does not: nothing is written. */
	saf_writer_init(&w, buf, 10);
	saf_put_vec8(&w, big, 10);
	assert_true(w.failed);
	assert_int_equal(w.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_integers_big_endian),
		cmocka_unit_test(test_short_reads_fail_and_keep_position),
		cmocka_unit_test(test_get_bytes_borrows),
		cmocka_unit_test(test_vec8_range_edges),
		cmocka_unit_test(test_vec8_short_body),
		cmocka_unit_test(test_expect_end_trailing),
		cmocka_unit_test(test_writer_exact_fit),
		cmocka_unit_test(test_writer_overflow_is_sticky),
		cmocka_unit_test(test_writer_vec8_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
