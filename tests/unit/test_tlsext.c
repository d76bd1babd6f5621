/* SPDX-License-Identifier: MIT */
/* src/wire/tlsext.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "saf/tlsext.h"

static void test_defaults(void **state)
{
	saf_tlsext_codepoints cp = saf_tlsext_codepoints_default();

	(void)state;
	assert_int_equal(cp.migration_support, 0xFE4D);
	assert_int_equal(cp.migration_token, 0xFE50);
	assert_int_equal(cp.migrate_notify, 0xFE51);
	assert_int_equal(cp.migrate_notify_alert, 0xF0);
	assert_int_equal(cp.continuity, 0xFE52);
	assert_int_equal(cp.reattach, 0xFE53);
	assert_int_equal(saf_tlsext_codepoints_check(&cp, NULL), 0);
}

static void test_check_refuses_shared_code_points(void **state)
{
	saf_tlsext_codepoints cp = saf_tlsext_codepoints_default();
	saf_error err;

	(void)state;
	cp.migrate_notify = cp.migration_token;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
	assert_string_equal(err.msg, "tls: migration_token and migrate_notify "
				     "share code point 0xfe50");
	cp = saf_tlsext_codepoints_default();
	cp.migration_token = cp.migration_support;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
	cp = saf_tlsext_codepoints_default();
	cp.migrate_notify = cp.migration_support;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
}

/* reattach (0xFE53) is in the duplicate check too: with continuity's code
 * point, or another's, the set is refused naming both. */
static void test_check_refuses_reattach_sharing(void **state)
{
	saf_tlsext_codepoints cp = saf_tlsext_codepoints_default();
	saf_error err;

	(void)state;
	cp.reattach = cp.continuity;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
	assert_int_equal(err.code, SAF_E_INVAL);
	assert_string_equal(err.msg, "tls: continuity and reattach share code "
				     "point 0xfe52");
	cp = saf_tlsext_codepoints_default();
	cp.continuity = cp.reattach;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
	assert_string_equal(err.msg, "tls: continuity and reattach share code "
				     "point 0xfe53");
	cp = saf_tlsext_codepoints_default();
	cp.reattach = cp.migration_token;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), -1);
	assert_string_equal(err.msg, "tls: migration_token and reattach share "
				     "code point 0xfe50");
	/* a code point of its own is fine */
	cp = saf_tlsext_codepoints_default();
	cp.reattach = 0xFE60;
	assert_int_equal(saf_tlsext_codepoints_check(&cp, &err), 0);
}

static void test_codepoint_parse(void **state)
{
	saf_error err;
	unsigned v;

	(void)state;
	assert_int_equal(saf_tlsext_codepoint_parse("0xFE4D", 0xffff, &v, &err),
			 0);
	assert_int_equal(v, 0xFE4D);
	assert_int_equal(saf_tlsext_codepoint_parse("65101", 0xffff, &v, &err),
			 0);
	assert_int_equal(v, 65101);
	assert_int_equal(saf_tlsext_codepoint_parse("0xf0", 0xff, &v, &err), 0);
	assert_int_equal(v, 0xf0);

	assert_int_equal(saf_tlsext_codepoint_parse("fe4d", 0xffff, &v, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_int_equal(saf_tlsext_codepoint_parse("0x", 0xffff, &v, &err),
			 -1);
	assert_int_equal(saf_tlsext_codepoint_parse("", 0xffff, &v, &err), -1);
	assert_int_equal(
		saf_tlsext_codepoint_parse("0x10000", 0xffff, &v, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_int_equal(saf_tlsext_codepoint_parse("256", 0xff, &v, &err), -1);
	assert_string_equal(err.msg, "code point '256': outside 0..0xff");
	assert_int_equal(saf_tlsext_codepoint_parse("-1", 0xff, &v, &err), -1);
}

static void test_empty_bodies(void **state)
{
	const uint8_t junk[3] = {1, 2, 3};
	saf_error err;

	(void)state;
	assert_int_equal(
		saf_tlsext_empty_decode("migration_support", NULL, 0, &err), 0);
	assert_int_equal(
		saf_tlsext_empty_decode("migrate_notify", junk, 3, &err), -1);
	assert_int_equal(err.code, SAF_E_TRAILING);
	assert_string_equal(err.msg,
			    "migrate_notify: body of 3 bytes, must be empty");
	assert_int_equal(
		saf_tlsext_empty_decode("migrate_notify", junk, 1, &err), -1);
	assert_string_equal(err.msg,
			    "migrate_notify: body of 1 byte, must be empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_check_refuses_shared_code_points),
		cmocka_unit_test(test_check_refuses_reattach_sharing),
		cmocka_unit_test(test_codepoint_parse),
		cmocka_unit_test(test_empty_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
