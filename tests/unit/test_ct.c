/* SPDX-License-Identifier: MIT */
/* src/crypto/ct.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "saf/token_crypto.h"

static void test_ct_equal(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	(void)state;
	assert_int_equal(saf_ct_equal(a, b, sizeof(a)), 1);
	assert_int_equal(saf_ct_equal(a, b, 0), 1);
	for (size_t i = 0; i < sizeof(b); i++) {
		b[i] = 0x80;
		assert_int_equal(saf_ct_equal(a, b, sizeof(a)), 0);
		b[i] = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ct_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
