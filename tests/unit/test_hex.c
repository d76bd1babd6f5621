/* SPDX-License-Identifier: MIT */
/* src/core/hex.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/hex.h"

static void test_decode_both_cases(void **state)
{
	const uint8_t want[] = {0x00, 0xab, 0xcd, 0xef, 0x19};
	uint8_t out[8];
	size_t n = 99;

	(void)state;
	assert_int_equal(
		saf_hex_decode("00aBCdeF19", out, sizeof(out), &n, NULL), 0);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(saf_hex_decode("", out, sizeof(out), &n, NULL), 0);
	assert_int_equal(n, 0);
}

static void test_decode_errors(void **state)
{
	uint8_t out[4];
	saf_error err;
	size_t n = 7;

	(void)state;
	assert_int_equal(saf_hex_decode("abc", out, sizeof(out), &n, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_string_equal(err.msg, "hex: odd number of digits (3)");
	assert_int_equal(n, 7);

	assert_int_equal(saf_hex_decode("abzd", out, sizeof(out), &n, &err),
			 -1);
	assert_string_equal(err.msg,
			    "hex: 'z' at position 2 is not a hex digit");
	assert_int_equal(saf_hex_decode("a g0", out, sizeof(out), &n, &err),
			 -1);
	assert_string_equal(err.msg,
			    "hex: byte 0x20 at position 1 is not a hex digit");
	assert_int_equal(saf_hex_decode("0x12", out, sizeof(out), &n, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_FORMAT);

	assert_int_equal(
		saf_hex_decode("0011223344", out, sizeof(out), &n, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(err.msg, "hex: 5 bytes, at most 4 allowed");
	assert_int_equal(saf_hex_decode("00112233", out, sizeof(out), &n, &err),
			 0);
	assert_int_equal(n, 4);
}

static void test_encode(void **state)
{
	const uint8_t in[] = {0x00, 0x7f, 0x80, 0xff};
	char out[2 * sizeof(in) + 1];

	(void)state;
	saf_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "007f80ff");
	saf_hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_both_cases),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
