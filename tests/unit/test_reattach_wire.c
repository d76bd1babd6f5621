/* SPDX-License-Identifier: MIT */
/* src/wire/reattach.c: the reattach extension's two bodies (saf/reattach.h).
 * Exact bytes of an IPv4 and an IPv6 credential both ways, every malformed
 * credential with its code and message, truncation at every length, the
 * ClientHello mode byte, and the encoder's refusals; the vectors in
 * tests/vectors/reattach/ (one captured from a real run) both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/hex.h"
#include "saf/reattach.h"
#include "unit/vectors.h"

/* id 00..0f, IPv4 192.0.2.1 port 443 */
static const uint8_t v4_body[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, /* id */
	0x00,						/* type: IPv4 */
	0xc0, 0x00, 0x02, 0x01,				/* 192.0.2.1 */
	0x01, 0xbb,					/* 443 */
};

/* id a0..af, IPv6 2001:db8::1 port 8443 */
static const uint8_t v6_body[] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, /* id */
	0x01,						/* type: IPv6 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* 2001:db8::1 */
	0x20, 0xfb,					/* 8443 */
};

static saf_reattach_cred v4_cred(void)
{
	saf_reattach_cred c;

	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < SAF_REATTACH_ID_LEN; i++)
		c.id[i] = (uint8_t)i;
	c.target.family = 4;
	memcpy(c.target.bytes, (const uint8_t[]){192, 0, 2, 1}, 4);
	c.target.port = 443;
	c.target.has_port = true;
	return c;
}

static saf_reattach_cred v6_cred(void)
{
	saf_reattach_cred c;

	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < SAF_REATTACH_ID_LEN; i++)
		c.id[i] = (uint8_t)(0xa0 + i);
	c.target.family = 6;
	c.target.bytes[0] = 0x20;
	c.target.bytes[1] = 0x01;
	c.target.bytes[2] = 0x0d;
	c.target.bytes[3] = 0xb8;
	c.target.bytes[15] = 0x01;
	c.target.port = 8443;
	c.target.has_port = true;
	return c;
}

/* Encodes c, compares with the literal, decodes the literal back to c. */
static void round_trip(const saf_reattach_cred *c, const uint8_t *body,
		       size_t len)
{
	uint8_t out[SAF_REATTACH_CRED_MAX + 8];
	saf_reattach_cred back;
	saf_error err;

	assert_true(len <= SAF_REATTACH_CRED_MAX);
	assert_int_equal(saf_reattach_cred_encode(c, out, sizeof(out)), len);
	assert_memory_equal(out, body, len);
	memset(&back, 0xee, sizeof(back));
	assert_int_equal(saf_reattach_cred_decode(body, len, &back, &err), 0);
	assert_memory_equal(back.id, c->id, SAF_REATTACH_ID_LEN);
	assert_int_equal(back.target.family, c->target.family);
	/* the unused tail of an IPv4 address comes back zeroed */
	assert_memory_equal(back.target.bytes, c->target.bytes, SAF_IPV6_LEN);
	assert_int_equal(back.target.port, c->target.port);
	assert_true(back.target.has_port);
}

static void test_v4_exact_bytes(void **state)
{
	saf_reattach_cred c = v4_cred();

	(void)state;
	assert_int_equal(sizeof(v4_body), SAF_REATTACH_ID_LEN + 1u + 4u + 2u);
	round_trip(&c, v4_body, sizeof(v4_body));
}

static void test_v6_exact_bytes(void **state)
{
	saf_reattach_cred c = v6_cred();

	(void)state;
	/* the IPv6 credential is the longest one */
	assert_int_equal(sizeof(v6_body), SAF_REATTACH_CRED_MAX);
	round_trip(&c, v6_body, sizeof(v6_body));
}

/* Every file in tests/vectors/reattach/: a credential decodes to its
 * fields and encodes back to the same bytes, or is refused with its code
 * and message. */
static void test_vectors(void **state)
{
	static char names[VEC_MAX_FILES][128];
	vec_file *v = malloc(sizeof(*v));
	size_t n = vec_list("reattach", names, VEC_MAX_FILES);

	(void)state;
	assert_non_null(v);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[64], again[64];
		char addr[SAF_ADDR_STR_LEN], id[2 * SAF_REATTACH_ID_LEN + 1];
		const char *want_err;
		saf_reattach_cred c;
		saf_error err;
		saf_addr ip;
		size_t len;
		int rc;

		vec_load(names[i], v);
		len = vec_hex(v, "hex", buf, sizeof(buf));
		rc = saf_reattach_cred_decode(buf, len, &c, &err);
		want_err = vec_get(v, "error");
		if (want_err) {
			if (rc == 0)
				fail_msg("%s: decoded, expected %s", names[i],
					 want_err);
			if (strcmp(saf_errc_name(err.code), want_err) != 0)
				fail_msg("%s: %s (%s), expected %s", names[i],
					 saf_errc_name(err.code), err.msg,
					 want_err);
			assert_string_equal(err.msg, vec_get(v, "message"));
			continue;
		}
		if (rc)
			fail_msg("%s: %s", names[i], err.msg);
		saf_hex_encode(c.id, SAF_REATTACH_ID_LEN, id);
		assert_string_equal(id, vec_get(v, "id"));
		assert_int_equal(c.target.family, atoi(vec_get(v, "family")));
		assert_true(c.target.has_port);
		assert_int_equal(c.target.port, atoi(vec_get(v, "port")));
		ip = c.target;
		ip.has_port = false;
		assert_string_equal(saf_addr_format(&ip, addr),
				    vec_get(v, "address"));
		assert_int_equal(
			saf_reattach_cred_encode(&c, again, sizeof(again)),
			len);
		assert_memory_equal(again, buf, len);
	}
	free(v);
}

/* Decodes body and expects a refusal with this code and message, and *out
 * left as it was. */
static void expect_refused(const uint8_t *body, size_t len, saf_errc code,
			   const char *msg)
{
	saf_reattach_cred out, before;
	saf_error err;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	err.code = SAF_OK;
	assert_int_equal(saf_reattach_cred_decode(body, len, &out, &err), -1);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_memory_equal(&out, &before, sizeof(out));
}

static void test_malformed_credentials(void **state)
{
	uint8_t b[64];

	(void)state;
	expect_refused(v4_body, 0, SAF_E_SHORT,
		       "reattach: id: needs 16 bytes, 0 left");
	expect_refused(NULL, 0, SAF_E_SHORT,
		       "reattach: id: needs 16 bytes, 0 left");
	expect_refused(v4_body, 15, SAF_E_SHORT,
		       "reattach: id: needs 16 bytes, 15 left");
	expect_refused(v4_body, 16, SAF_E_SHORT,
		       "reattach: address type: needs 1 byte, 0 left");

	/* unknown address type: 2 and 0xff, whatever follows */
	memcpy(b, v4_body, sizeof(v4_body));
	b[16] = 2;
	expect_refused(b, sizeof(v4_body), SAF_E_FORMAT,
		       "reattach: unknown address type 2 (0 = IPv4, 1 = "
		       "IPv6)");
	b[16] = 0xff;
	expect_refused(b, sizeof(v4_body), SAF_E_FORMAT,
		       "reattach: unknown address type 255 (0 = IPv4, 1 = "
		       "IPv6)");

	/* short address: an IPv4 cut inside it, and the IPv6 type carrying
	 * an IPv4-sized body (the type decides the length, not the body) */
	expect_refused(v4_body, 20, SAF_E_SHORT,
		       "reattach: address: needs 4 bytes, 3 left");
	memcpy(b, v4_body, sizeof(v4_body));
	b[16] = 1;
	expect_refused(b, sizeof(v4_body), SAF_E_SHORT,
		       "reattach: address: needs 16 bytes, 6 left");

	/* short port */
	expect_refused(v4_body, sizeof(v4_body) - 1, SAF_E_SHORT,
		       "reattach: port: needs 2 bytes, 1 left");
	expect_refused(v6_body, sizeof(v6_body) - 2, SAF_E_SHORT,
		       "reattach: port: needs 2 bytes, 0 left");

	/* trailing bytes: the IPv4 type with an IPv6-sized body, and one
	 * extra byte after a valid credential */
	memcpy(b, v6_body, sizeof(v6_body));
	b[16] = 0;
	expect_refused(b, sizeof(v6_body), SAF_E_TRAILING,
		       "reattach credential: 12 trailing bytes after the end");
	memcpy(b, v4_body, sizeof(v4_body));
	b[sizeof(v4_body)] = 0;
	expect_refused(b, sizeof(v4_body) + 1, SAF_E_TRAILING,
		       "reattach credential: 1 trailing byte after the end");

	/* port 0, both families */
	memcpy(b, v4_body, sizeof(v4_body));
	b[21] = b[22] = 0;
	expect_refused(b, sizeof(v4_body), SAF_E_RANGE, "reattach: port 0");
	memcpy(b, v6_body, sizeof(v6_body));
	b[33] = b[34] = 0;
	expect_refused(b, sizeof(v6_body), SAF_E_RANGE, "reattach: port 0");
}

/* Every proper prefix of a valid credential is short, never accepted. */
static void test_truncated_at_every_length(void **state)
{
	saf_reattach_cred out;
	saf_error err;

	(void)state;
	for (size_t n = 0; n < sizeof(v6_body); n++) {
		assert_int_equal(
			saf_reattach_cred_decode(v6_body, n, &out, &err), -1);
		assert_int_equal(err.code, SAF_E_SHORT);
	}
	for (size_t n = 0; n < sizeof(v4_body); n++) {
		assert_int_equal(
			saf_reattach_cred_decode(v4_body, n, &out, &err), -1);
		assert_int_equal(err.code, SAF_E_SHORT);
	}
	/* and err may be NULL */
	assert_int_equal(saf_reattach_cred_decode(v4_body, 3, &out, NULL), -1);
}

static void test_hello(void **state)
{
	const uint8_t two[2] = {0, 0};
	saf_reattach_mode m = (saf_reattach_mode)7;
	saf_error err;
	uint8_t b;

	(void)state;
	b = 0;
	assert_int_equal(saf_reattach_hello_decode(&b, 1, &m, &err), 0);
	assert_int_equal(m, SAF_REATTACH_MODE_OFFER);
	b = 1;
	assert_int_equal(saf_reattach_hello_decode(&b, 1, &m, &err), 0);
	assert_int_equal(m, SAF_REATTACH_MODE_REATTACH);

	m = (saf_reattach_mode)7;
	b = 2;
	assert_int_equal(saf_reattach_hello_decode(&b, 1, &m, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_string_equal(err.msg,
			    "reattach: unknown mode 2 (0 offer, 1 reattach)");
	b = 0xff;
	assert_int_equal(saf_reattach_hello_decode(&b, 1, &m, &err), -1);
	assert_int_equal(err.code, SAF_E_FORMAT);
	assert_int_equal(m, 7); /* untouched on failure */

	assert_int_equal(saf_reattach_hello_decode(NULL, 0, &m, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(err.msg, "reattach: ClientHello body of 0 bytes, "
				     "must be 1");
	assert_int_equal(saf_reattach_hello_decode(two, 2, &m, &err), -1);
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_string_equal(err.msg, "reattach: ClientHello body of 2 bytes, "
				     "must be 1");
	assert_int_equal(m, 7);
}

static void test_encode_refusals(void **state)
{
	uint8_t out[SAF_REATTACH_CRED_MAX];
	saf_reattach_cred c;

	(void)state;
	c = v4_cred();
	c.target.family = 0;
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(out)), 0);
	c.target.family = 5;
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(out)), 0);
	c = v4_cred();
	c.target.has_port = false;
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(out)), 0);
	c = v6_cred();
	c.target.port = 0;
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(out)), 0);

	/* every capacity below the size is refused, the size itself fits */
	c = v4_cred();
	for (size_t cap = 0; cap < sizeof(v4_body); cap++)
		assert_int_equal(saf_reattach_cred_encode(&c, out, cap), 0);
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(v4_body)),
			 sizeof(v4_body));
	c = v6_cred();
	for (size_t cap = 0; cap < sizeof(v6_body); cap++)
		assert_int_equal(saf_reattach_cred_encode(&c, out, cap), 0);
	assert_int_equal(saf_reattach_cred_encode(&c, out, sizeof(v6_body)),
			 sizeof(v6_body));
	assert_int_equal(saf_reattach_cred_encode(&c, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_exact_bytes),
		cmocka_unit_test(test_v6_exact_bytes),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_malformed_credentials),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_encode_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
