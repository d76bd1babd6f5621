/* SPDX-License-Identifier: MIT */
/* The report/probe datagram: round trips, forged MACs, every truncation,
 * bad fields, key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saf/sched.h"

static const uint8_t key[SAF_SCHED_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_round_trip_every_type(void **st)
{
	saf_sched_msg in[3] = {
		{ .type = SAF_SCHED_REPORT, .node = "n2", .seq = 7, .stamp = 99,
		  .load = 1000, .capacity = 500, .available = true },
		{ .type = SAF_SCHED_PROBE, .seq = 8, .stamp = 123456789 },
		{ .type = SAF_SCHED_ECHO, .node = "node-with-a-name", .seq = 8,
		  .stamp = 123456789 },
	};
	(void)st;
	for (int i = 0; i < 3; i++) {
		uint8_t buf[SAF_SCHED_MSG_MAX];
		saf_sched_msg out;
		size_t n;
		saf_error err;

		assert_int_equal(saf_sched_msg_encode(&in[i], key, buf, sizeof(buf), &n, &err), 0);
		assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err), 0);
		assert_int_equal(out.type, in[i].type);
		assert_string_equal(out.node, in[i].node);
		assert_int_equal(out.seq, in[i].seq);
		assert_int_equal(out.stamp, in[i].stamp);
		assert_int_equal(out.load, in[i].load);
		assert_int_equal(out.capacity, in[i].capacity);
		assert_int_equal(out.available, in[i].available);
	}
}

static void test_forged_and_truncated(void **st)
{
	saf_sched_msg m = { .type = SAF_SCHED_REPORT, .node = "n3", .seq = 1,
			    .load = 10, .capacity = 1000, .available = true };
	uint8_t buf[SAF_SCHED_MSG_MAX], other[SAF_SCHED_KEY_LEN] = { 9 };
	saf_sched_msg out;
	saf_error err;
	size_t n;

	(void)st;
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), 0);
	/* Another key: refused as forged. */
	assert_int_equal(saf_sched_msg_decode(buf, n, other, &out, &err), -1);
	assert_int_equal(err.code, SAF_E_REFUSED);
	/* Every single flipped bit: refused (MAC or field check). */
	for (size_t i = 0; i < n; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err), -1);
		buf[i] ^= 0x10;
	}
	/* Every truncation and an extra byte. */
	for (size_t len = 0; len < n; len++)
		assert_int_equal(saf_sched_msg_decode(buf, len, key, &out, &err), -1);
	buf[n] = 0;
	assert_int_equal(saf_sched_msg_decode(buf, n + 1, key, &out, &err), -1);
	assert_int_equal(saf_sched_msg_decode(buf, n, key, &out, &err), 0);
}

static void test_encode_refuses_bad_fields(void **st)
{
	saf_sched_msg m = { .type = SAF_SCHED_REPORT, .node = "", .seq = 1 };
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_error err;
	size_t n;

	(void)st;
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	strcpy(m.node, "n2");
	m.load = 1001;
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, sizeof(buf), &n, &err), -1);
	assert_non_null(strstr(err.msg, "permille"));
	m.load = 0;
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, 20, &n, &err), -1);
}

static void test_key_file(void **st)
{
	char path[] = "/tmp/saf-sched-key-XXXXXX";
	uint8_t k[SAF_SCHED_KEY_LEN];
	saf_error err;
	int fd = mkstemp(path);
	FILE *f;

	(void)st;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(saf_sched_key_load(path, k, &err), 0);
	assert_int_equal(k[31], 0x1f);
	chmod(path, 0644);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 600"));
	chmod(path, 0600);
	f = fopen(path, "w");
	fputs("abcd\n", f);
	fclose(f);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	unlink(path);
	assert_int_equal(saf_sched_key_load(path, k, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_forged_and_truncated),
		cmocka_unit_test(test_encode_refuses_bad_fields),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
