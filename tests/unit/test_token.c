/* SPDX-License-Identifier: MIT */
/* src/wire/token.c: exact decoding of MigrationToken, every field's range
 * edge, truncation at every length, trailing bytes, address types, and the
 * encoders. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/hex.h"
#include "saf/token.h"
#include "unit/vectors.h"

static void assert_slice_hex(saf_slice s, const char *hex)
{
	char buf[2 * 255 + 1];

	assert_true(s.len <= 255);
	saf_hex_encode(s.base, s.len, buf);
	assert_string_equal(buf, hex);
}

static void test_vectors(void **state)
{
	static char names[VEC_MAX_FILES][128];
	static uint8_t buf[SAF_TOKEN_MAX_LEN + 8], again[SAF_TOKEN_MAX_LEN + 8];
	vec_file *v = malloc(sizeof(*v));
	size_t n = vec_list("token", names, VEC_MAX_FILES);

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		char addr[SAF_ADDR_STR_LEN], num[24];
		const char *want_err;
		saf_error err;
		saf_token t;
		size_t len, len2;
		saf_addr ip;
		int rc;

		vec_load(names[i], v);
		len = vec_hex(v, "hex", buf, sizeof(buf));
		rc = saf_token_decode(buf, len, &t, &err);
		want_err = vec_get(v, "error");
		if (want_err) {
			if (rc == 0)
				fail_msg("%s: decoded, expected %s", names[i],
					 want_err);
			if (strcmp(saf_errc_name(err.code), want_err) != 0)
				fail_msg("%s: %s (%s), expected %s", names[i],
					 saf_errc_name(err.code), err.msg,
					 want_err);
			continue;
		}
		if (rc)
			fail_msg("%s: %s", names[i], err.msg);
		assert_int_equal(t.target.family, atoi(vec_get(v, "family")));
		assert_true(t.target.has_port);
		assert_int_equal(t.target.port, atoi(vec_get(v, "port")));
		ip = t.target;
		ip.has_port = false;
		assert_string_equal(saf_addr_format(&ip, addr),
				    vec_get(v, "address"));
		assert_slice_hex(t.session_id, vec_get(v, "session_id"));
		snprintf(num, sizeof(num), "%" PRIu64, t.expiry);
		assert_string_equal(num, vec_get(v, "expiry"));
		assert_slice_hex(t.nonce, vec_get(v, "nonce"));
		assert_slice_hex(t.signature, vec_get(v, "signature"));
		assert_int_equal(t.signed_len, len - 1 - t.signature.len);

		assert_int_equal(
			saf_token_encode(&t, again, sizeof(again), &len2, &err),
			0);
		assert_int_equal(len2, len);
		assert_memory_equal(again, buf, len);
		assert_int_equal(saf_token_encode_unsigned(
					 &t, again, sizeof(again), &len2, &err),
				 0);
		assert_int_equal(len2, t.signed_len);
	}
	free(v);
}

/* A token built from field lengths, for the edge cases. */
static size_t build(uint8_t *buf, size_t cap, uint8_t type, size_t sid_len,
		    size_t nonce_len, size_t sig_len)
{
	static const uint8_t fill[255];
	saf_writer w;

	saf_writer_init(&w, buf, cap);
	saf_put_u8(&w, type);
	saf_put_bytes(&w, fill, type == 1 ? 16 : 4);
	saf_put_u16(&w, 443);
	saf_put_u8(&w, (uint8_t)sid_len);
	saf_put_bytes(&w, fill, sid_len);
	saf_put_u64(&w, 1);
	saf_put_u8(&w, (uint8_t)nonce_len);
	saf_put_bytes(&w, fill, nonce_len);
	saf_put_u8(&w, (uint8_t)sig_len);
	saf_put_bytes(&w, fill, sig_len);
	assert_false(w.failed);
	return w.len;
}

static void expect_decode(const uint8_t *buf, size_t len, int want_rc,
			  saf_errc want_code)
{
	saf_error err;
	saf_token t;
	int rc = saf_token_decode(buf, len, &t, &err);

	assert_int_equal(rc, want_rc);
	if (rc)
		assert_int_equal(err.code, want_code);
}

static void test_range_edges(void **state)
{
	static uint8_t buf[SAF_TOKEN_MAX_LEN];
	size_t n;

	(void)state;
	for (uint8_t type = 0; type <= 1; type++) {
		/* session_id 32..255 */
		n = build(buf, sizeof(buf), type, 31, 16, 32);
		expect_decode(buf, n, -1, SAF_E_RANGE);
		n = build(buf, sizeof(buf), type, 32, 16, 32);
		expect_decode(buf, n, 0, SAF_OK);
		n = build(buf, sizeof(buf), type, 255, 16, 32);
		expect_decode(buf, n, 0, SAF_OK);
		n = build(buf, sizeof(buf), type, 0, 16, 32);
		expect_decode(buf, n, -1, SAF_E_RANGE);
		/* nonce 16..255 */
		n = build(buf, sizeof(buf), type, 32, 15, 32);
		expect_decode(buf, n, -1, SAF_E_RANGE);
		n = build(buf, sizeof(buf), type, 32, 255, 32);
		expect_decode(buf, n, 0, SAF_OK);
		n = build(buf, sizeof(buf), type, 32, 0, 32);
		expect_decode(buf, n, -1, SAF_E_RANGE);
		/* signature 32..255 */
		n = build(buf, sizeof(buf), type, 32, 16, 31);
		expect_decode(buf, n, -1, SAF_E_RANGE);
		n = build(buf, sizeof(buf), type, 32, 16, 255);
		expect_decode(buf, n, 0, SAF_OK);
	}
	n = build(buf, sizeof(buf), 0, 32, 16, 32);
	assert_int_equal(n, SAF_TOKEN_MIN_LEN);
	n = build(buf, sizeof(buf), 1, 255, 255, 255);
	assert_int_equal(n, SAF_TOKEN_MAX_LEN);
	{
		saf_error err;
		saf_token t;

		n = build(buf, sizeof(buf), 0, 31, 16, 32);
		assert_int_equal(saf_token_decode(buf, n, &t, &err), -1);
		assert_string_equal(err.msg,
				    "token: session_id: length 31 outside "
				    "32..255");
	}
}

static void test_truncation_and_trailing(void **state)
{
	static uint8_t buf[SAF_TOKEN_MAX_LEN + 1];

	(void)state;
	for (uint8_t type = 0; type <= 1; type++) {
		size_t n = build(buf, sizeof(buf), type, 40, 20, 32);

		expect_decode(buf, n, 0, SAF_OK);
		for (size_t cut = 0; cut < n; cut++)
			expect_decode(buf, cut, -1, SAF_E_SHORT);
		buf[n] = 0;
		expect_decode(buf, n + 1, -1, SAF_E_TRAILING);
	}
	expect_decode(NULL, 0, -1, SAF_E_SHORT);
}

static void test_address_types(void **state)
{
	static uint8_t buf[SAF_TOKEN_MAX_LEN];
	size_t n = build(buf, sizeof(buf), 0, 32, 16, 32);

	(void)state;
	for (unsigned type = 2; type <= 255; type++) {
		saf_error err;
		saf_token t;

		buf[0] = (uint8_t)type;
		assert_int_equal(saf_token_decode(buf, n, &t, &err), -1);
		assert_int_equal(err.code, SAF_E_FORMAT);
	}
	{
		saf_error err;
		saf_token t;

		buf[0] = 7;
		assert_int_equal(saf_token_decode(buf, n, &t, &err), -1);
		assert_string_equal(err.msg, "token: unknown address type 7 "
					     "(0 = IPv4, 1 = IPv6)");
	}
}

static void test_encode_errors(void **state)
{
	static const uint8_t bytes[256];
	static uint8_t buf[SAF_TOKEN_MAX_LEN];
	saf_error err;
	saf_token t;
	size_t len, full;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.target.family = 4;
	t.target.has_port = true;
	t.target.port = 443;
	t.session_id = (saf_slice){bytes, 32};
	t.nonce = (saf_slice){bytes, 16};
	t.signature = (saf_slice){bytes, 32};
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &full, &err),
			 0);
	assert_int_equal(full, SAF_TOKEN_MIN_LEN);
	for (size_t cap = 0; cap < full; cap++) {
		assert_int_equal(saf_token_encode(&t, buf, cap, &len, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_NOSPACE);
	}
	for (size_t cap = 0; cap < full - 33; cap++)
		assert_int_equal(
			saf_token_encode_unsigned(&t, buf, cap, &len, &err),
			-1);
	assert_int_equal(
		saf_token_encode_unsigned(&t, buf, full - 33, &len, &err), 0);

	t.session_id.len = 31;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	t.session_id.len = 256;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	t.session_id.len = 32;
	t.nonce.len = 15;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	t.nonce.len = 16;
	t.signature.len = 31;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	assert_string_equal(err.msg,
			    "token: signature length 31 outside 32..255");
	t.signature.len = 32;
	t.target.has_port = false;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_INVAL);
	t.target.has_port = true;
	t.target.family = 0;
	assert_int_equal(saf_token_encode(&t, buf, sizeof(buf), &len, &err),
			 -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_range_edges),
		cmocka_unit_test(test_truncation_and_trailing),
		cmocka_unit_test(test_address_types),
		cmocka_unit_test(test_encode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
