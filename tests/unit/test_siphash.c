/* SPDX-License-Identifier: MIT */
/* src/crypto/siphash.c: the reference vectors of the SipHash paper
 * (key 00..0f, messages 00, 00 01, ...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "crypto/siphash.h"

static void test_reference_vectors(void **state)
{
	/* key bytes 00..0f, read little-endian as the reference does */
	const uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	uint8_t msg[16];

	(void)state;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_true(saf_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(saf_siphash24(key, msg, 1) == 0x74f839c593dc67fdULL);
	assert_true(saf_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void test_key_and_length_matter(void **state)
{
	const uint64_t k1[2] = {1, 2}, k2[2] = {1, 3};
	const uint8_t msg[16] = {0};

	(void)state;
	assert_true(saf_siphash24(k1, msg, 16) != saf_siphash24(k2, msg, 16));
	assert_true(saf_siphash24(k1, msg, 15) != saf_siphash24(k1, msg, 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_key_and_length_matter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
