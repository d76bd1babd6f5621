/* SPDX-License-Identifier: MIT */
/* src/wire/tcpopt.c: the five forms, every bad length, kind and ExID,
 * truncation, round trip, and the choice of advert form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tcpopt.h"
#include "unit/vectors.h"

static bool is_form_len(size_t n)
{
	return n == 4 || n == 8 || n == 10 || n == 20 || n == 22;
}

/* Every file under tests/vectors/tcpopt decodes as it says, and every
 * valid one encodes back to the same bytes. */
static void test_vectors(void **state)
{
	static char names[VEC_MAX_FILES][128];
	vec_file *v = malloc(sizeof(*v));
	size_t n = vec_list("tcpopt", names, VEC_MAX_FILES);

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[64], again[64];
		char addr[SAF_ADDR_STR_LEN];
		saf_error err;
		saf_tcpopt opt;
		size_t len, len2;
		const char *want_err;
		int rc;

		vec_load(names[i], v);
		len = vec_hex(v, "hex", buf, sizeof(buf));
		rc = saf_tcpopt_decode(buf, len, NULL, &opt, &err);
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
		if (strcmp(vec_get(v, "form"), "saf") == 0) {
			assert_int_equal(opt.form, SAF_TCPOPT_FLAG);
		} else {
			saf_addr a = opt.addr;
			const char *port = vec_get(v, "port");

			assert_int_equal(opt.form, SAF_TCPOPT_ADVERT);
			assert_int_equal(a.family, atoi(vec_get(v, "family")));
			if (strcmp(port, "null") == 0) {
				assert_false(a.has_port);
			} else {
				assert_true(a.has_port);
				assert_int_equal(a.port, atoi(port));
			}
			a.has_port = false;
			assert_string_equal(saf_addr_format(&a, addr),
					    vec_get(v, "address"));
		}
		assert_int_equal(saf_tcpopt_encoded_len(&opt), len);
		assert_int_equal(saf_tcpopt_encode(&opt, NULL, again,
						   sizeof(again), &len2, &err),
				 0);
		assert_int_equal(len2, len);
		assert_memory_equal(again, buf, len);
	}
	free(v);
}

/* Any length byte that is no form is refused, whatever follows. */
static void test_every_bad_length(void **state)
{
	uint8_t buf[SAF_TCP_OPTION_SPACE];

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	for (size_t n = 2; n <= SAF_TCP_OPTION_SPACE; n++) {
		saf_error err;
		saf_tcpopt opt;

		buf[0] = 253;
		buf[1] = (uint8_t)n;
		buf[2] = 0x53;
		buf[3] = 0x46;
		if (n < 4) {
			assert_int_equal(
				saf_tcpopt_decode(buf, n, NULL, &opt, &err),
				-1);
			continue;
		}
		if (is_form_len(n)) {
			assert_int_equal(
				saf_tcpopt_decode(buf, n, NULL, &opt, &err), 0);
			continue;
		}
		assert_int_equal(saf_tcpopt_decode(buf, n, NULL, &opt, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_RANGE);
	}
	{
		saf_error err;
		saf_tcpopt opt;

		buf[1] = 9;
		assert_int_equal(saf_tcpopt_decode(buf, 9, NULL, &opt, &err),
				 -1);
		assert_string_equal(err.msg, "tcpopt: length 9 is no SA form "
					     "(4, 8, 10, 20 or 22)");
		buf[1] = 0;
		assert_int_equal(saf_tcpopt_decode(buf, 2, NULL, &opt, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_TRAILING);
	}
}

/* For each form: truncated at every length, one trailing byte, wrong ExID
 * (each byte flipped), wrong kind. */
static void test_each_form_negative(void **state)
{
	const size_t forms[] = {4, 8, 10, 20, 22};

	(void)state;
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		size_t n = forms[f];
		uint8_t buf[SAF_TCPOPT_MAX_LEN + 1];
		saf_error err;
		saf_tcpopt opt;

		memset(buf, 0x42, sizeof(buf));
		buf[0] = 253;
		buf[1] = (uint8_t)n;
		buf[2] = 0x53;
		buf[3] = 0x46;
		assert_int_equal(saf_tcpopt_decode(buf, n, NULL, &opt, &err),
				 0);
		for (size_t cut = 0; cut < n; cut++) {
			assert_int_equal(
				saf_tcpopt_decode(buf, cut, NULL, &opt, &err),
				-1);
			assert_int_equal(err.code, SAF_E_SHORT);
		}
		assert_int_equal(
			saf_tcpopt_decode(buf, n + 1, NULL, &opt, &err), -1);
		assert_int_equal(err.code, SAF_E_TRAILING);

		for (size_t b = 2; b < 4; b++) {
			buf[b] ^= 0x01;
			assert_int_equal(
				saf_tcpopt_decode(buf, n, NULL, &opt, &err),
				-1);
			assert_int_equal(err.code, SAF_E_FORMAT);
			buf[b] ^= 0x01;
		}
		buf[0] = 254;
		assert_int_equal(saf_tcpopt_decode(buf, n, NULL, &opt, &err),
				 -1);
		assert_int_equal(err.code, SAF_E_FORMAT);
		assert_string_equal(err.msg,
				    "tcpopt: kind 254 is not the SA option "
				    "kind 253");
		buf[0] = 253;
	}
}

static void test_configured_kind_and_exid(void **state)
{
	const saf_tcpopt_cfg cfg = {.kind = 254, .exid = 0xabcd};
	const uint8_t custom[] = {254, 4, 0xab, 0xcd};
	const uint8_t deflt[] = {253, 4, 0x53, 0x46};
	uint8_t buf[8];
	saf_tcpopt opt = {.form = SAF_TCPOPT_FLAG};
	saf_error err;
	size_t len;

	(void)state;
	assert_int_equal(saf_tcpopt_decode(custom, 4, &cfg, &opt, &err), 0);
	assert_int_equal(saf_tcpopt_decode(deflt, 4, &cfg, &opt, &err), -1);
	assert_int_equal(saf_tcpopt_decode(custom, 4, NULL, &opt, &err), -1);
	assert_int_equal(
		saf_tcpopt_encode(&opt, &cfg, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, custom, 4);
	assert_int_equal(saf_tcpopt_cfg_default().kind, 253);
	assert_int_equal(saf_tcpopt_cfg_default().exid, 0x5346);
}

static void test_encode_errors(void **state)
{
	uint8_t buf[SAF_TCPOPT_MAX_LEN];
	saf_tcpopt opt;
	saf_error err;
	size_t len;

	(void)state;
	memset(&opt, 0, sizeof(opt));
	opt.form = SAF_TCPOPT_ADVERT;
	opt.addr.family = 6;
	opt.addr.has_port = true;
	opt.addr.port = 443;
	for (size_t cap = 0; cap < 22; cap++) {
		assert_int_equal(
			saf_tcpopt_encode(&opt, NULL, buf, cap, &len, &err),
			-1);
		assert_int_equal(err.code, SAF_E_NOSPACE);
	}
	assert_int_equal(saf_tcpopt_encode(&opt, NULL, buf, 22, &len, &err), 0);
	opt.addr.family = 5;
	assert_int_equal(saf_tcpopt_encoded_len(&opt), 0);
	assert_int_equal(
		saf_tcpopt_encode(&opt, NULL, buf, sizeof(buf), &len, &err),
		-1);
	assert_int_equal(err.code, SAF_E_INVAL);
	opt.form = (saf_tcpopt_form)7;
	assert_int_equal(
		saf_tcpopt_encode(&opt, NULL, buf, sizeof(buf), &len, &err),
		-1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

static void check_choice(const char *unicast, uint16_t conn_port, size_t room,
			 int want_len, bool want_port)
{
	saf_error err;
	saf_tcpopt opt;
	saf_addr a;
	int rc;

	if (saf_addr_parse(unicast, false, &a, &err))
		fail_msg("%s: %s", unicast, err.msg);
	rc = saf_tcpopt_choose_advert(&a, conn_port, room, &opt, &err);
	if (want_len < 0) {
		if (rc == 0)
			fail_msg("%s room %zu: chose %zu bytes", unicast, room,
				 saf_tcpopt_encoded_len(&opt));
		assert_int_equal(err.code, SAF_E_NOSPACE);
		return;
	}
	if (rc)
		fail_msg("%s room %zu: %s", unicast, room, err.msg);
	assert_int_equal(opt.form, SAF_TCPOPT_ADVERT);
	assert_int_equal(saf_tcpopt_encoded_len(&opt), (size_t)want_len);
	assert_int_equal(opt.addr.has_port, want_port);
	assert_true(saf_addr_equal_ip(&opt.addr, &a));
}

static void test_choose_advert(void **state)
{
	(void)state;
	/* Port equals the connection's: longest form that fits. */
	check_choice("192.0.2.1:443", 443, 40, 10, true);
	check_choice("192.0.2.1:443", 443, 10, 10, true);
	check_choice("192.0.2.1:443", 443, 9, 8, false);
	check_choice("192.0.2.1:443", 443, 8, 8, false);
	check_choice("192.0.2.1:443", 443, 7, -1, false);
	check_choice("[2001:db8::1]:443", 443, 22, 22, true);
	check_choice("[2001:db8::1]:443", 443, 21, 20, false);
	check_choice("[2001:db8::1]:443", 443, 20, 20, false);
	check_choice("[2001:db8::1]:443", 443, 19, -1, false);
	/* Port differs: only the port form will do. */
	check_choice("192.0.2.1:8443", 443, 10, 10, true);
	check_choice("192.0.2.1:8443", 443, 9, -1, false);
	check_choice("[2001:db8::1]:8443", 443, 20, -1, false);
	/* No port: "the connection's own port", port-less form always. */
	check_choice("192.0.2.1", 443, 40, 8, false);
	check_choice("2001:db8::1", 443, 20, 20, false);
	check_choice("2001:db8::1", 443, 19, -1, false);
}

static void test_choose_advert_bad_family(void **state)
{
	saf_addr a;
	saf_tcpopt opt;
	saf_error err;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(saf_tcpopt_choose_advert(&a, 1, 40, &opt, &err), -1);
	assert_int_equal(err.code, SAF_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_bad_length),
		cmocka_unit_test(test_each_form_negative),
		cmocka_unit_test(test_configured_kind_and_exid),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_choose_advert),
		cmocka_unit_test(test_choose_advert_bad_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
