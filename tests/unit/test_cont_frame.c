/* SPDX-License-Identifier: MIT */
/* src/cont/frame.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "saf/cont.h"

static void test_round_trip_every_type(void **state)
{
	static const uint8_t data[] = "hello";
	saf_cont_frame in[] = {
		{.type = SAF_CONT_DATA, .value = 7, .data = data, .data_len = 5},
		{.type = SAF_CONT_ACK, .value = 12345},
		{.type = SAF_CONT_RESUME, .value = 0},
		{.type = SAF_CONT_FIN, .value = SAF_CONT_OFFSET_LIMIT - 1},
		{.type = SAF_CONT_RESET, .code = SAF_CONT_RESET_UNKNOWN_SESSION},
	};
	uint8_t buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		saf_cont_frame out;
		size_t n = saf_cont_frame_encode(&in[i], buf, sizeof(buf)), used;

		assert_true(n > 0);
		assert_int_equal(saf_cont_frame_decode(buf, n, &out, &used,
						       NULL),
				 1);
		assert_int_equal(used, n);
		assert_int_equal(out.type, in[i].type);
		assert_true(out.value == in[i].value);
		assert_int_equal(out.code, in[i].code);
		assert_int_equal(out.data_len, in[i].data_len);
		if (in[i].data_len)
			assert_memory_equal(out.data, data, 5);
		/* Every proper prefix is "need more", never an error. */
		for (size_t k = 0; k < n; k++)
			assert_int_equal(saf_cont_frame_decode(buf, k, &out,
							       &used, NULL),
					 0);
	}
}

static void test_exact_bytes(void **state)
{
	static const uint8_t ack[] = {2, 0, 8, 0, 0, 0, 0, 0, 0, 1, 0};
	static const uint8_t data[] = {1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 'x'};
	saf_cont_frame f = {.type = SAF_CONT_ACK, .value = 256};
	uint8_t buf[16];

	(void)state;
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)),
			 sizeof(ack));
	assert_memory_equal(buf, ack, sizeof(ack));
	f = (saf_cont_frame){.type = SAF_CONT_DATA,
			     .value = 3,
			     .data = (const uint8_t *)"x",
			     .data_len = 1};
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)),
			 sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	/* Too small an output: nothing written, 0. */
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(data) - 1), 0);
}

static void expect_malformed(const uint8_t *b, size_t n, saf_errc code,
			     const char *msg)
{
	saf_cont_frame f;
	size_t used = 99;
	saf_error err;

	assert_int_equal(saf_cont_frame_decode(b, n, &f, &used, &err), -1);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(used, 99);
}

static void test_malformed(void **state)
{
	static const uint8_t type0[] = {0, 0, 8};
	static const uint8_t type7[] = {7, 0, 8};
	static const uint8_t reattach8[] = {6, 0, 8};
	static const uint8_t data_empty[] = {1, 0, 8};
	static const uint8_t data_big[] = {1, 0x40, 0x00};
	static const uint8_t ack7[] = {2, 0, 7};
	static const uint8_t fin9[] = {4, 0, 9};
	static const uint8_t reset2[] = {5, 0, 2};
	static const uint8_t reset0[] = {5, 0, 1, 0};
	static const uint8_t ack_huge[] = {2, 0, 8, 0x40, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t data_wrap[] = {1,	  0,	9,    0x3f, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 'x'};

	(void)state;
	expect_malformed(type0, sizeof(type0), SAF_E_FORMAT,
			 "continuity: unknown frame type 0");
	expect_malformed(type7, sizeof(type7), SAF_E_FORMAT,
			 "continuity: unknown frame type 7");
	expect_malformed(reattach8, sizeof(reattach8), SAF_E_RANGE,
			 "continuity: REATTACH body of 8 bytes, must be 48");
	expect_malformed(data_empty, sizeof(data_empty), SAF_E_RANGE,
			 "continuity: DATA body of 8 bytes, must be 9..16381");
	expect_malformed(data_big, sizeof(data_big), SAF_E_RANGE,
			 "continuity: DATA body of 16384 bytes, must be "
			 "9..16381");
	expect_malformed(ack7, sizeof(ack7), SAF_E_RANGE,
			 "continuity: ACK body of 7 bytes, must be 8");
	expect_malformed(fin9, sizeof(fin9), SAF_E_RANGE,
			 "continuity: FIN body of 9 bytes, must be 8");
	expect_malformed(reset2, sizeof(reset2), SAF_E_RANGE,
			 "continuity: RESET body of 2 bytes, must be 1");
	expect_malformed(reset0, sizeof(reset0), SAF_E_RANGE,
			 "continuity: RESET with code 0");
	expect_malformed(ack_huge, sizeof(ack_huge), SAF_E_RANGE,
			 "continuity: ACK offset beyond 2^62");
	expect_malformed(data_wrap, sizeof(data_wrap), SAF_E_RANGE,
			 "continuity: DATA offset beyond 2^62");
}

static void test_encode_refuses_invalid(void **state)
{
	uint8_t buf[32], big[1];
	saf_cont_frame f = {.type = SAF_CONT_DATA, .value = 0, .data = big};

	(void)state;
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	f.data_len = SAF_CONT_DATA_MAX + 1;
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	f = (saf_cont_frame){.type = SAF_CONT_RESET, .code = 0};
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	f = (saf_cont_frame){.type = SAF_CONT_ACK,
			     .value = SAF_CONT_OFFSET_LIMIT};
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	f = (saf_cont_frame){.type = (saf_cont_frame_type)9};
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	/* REATTACH: exactly id and proof, never another length */
	f = (saf_cont_frame){
		.type = SAF_CONT_REATTACH, .data = big, .data_len = 1};
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
	f.data = NULL;
	f.data_len = SAF_REATTACH_FRAME_BODY;
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 0);
}

/* REATTACH (docs/continuity.md, "Early credential"): type 6, length 48,
 * the id then the proof, byte for byte; the value fields stay 0. */
static void test_reattach_exact_bytes(void **state)
{
	uint8_t body[SAF_REATTACH_FRAME_BODY], buf[64];
	saf_cont_frame f = {.type = SAF_CONT_REATTACH,
			    .data = body,
			    .data_len = sizeof(body)},
		       out;
	size_t used = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(0xA0 + i);
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)), 51);
	assert_int_equal(buf[0], 6);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 48);
	assert_memory_equal(buf + 3, body, sizeof(body));
	assert_int_equal(saf_cont_frame_encode(&f, buf, 50), 0);
	assert_int_equal(saf_cont_frame_decode(buf, 51, &out, &used, NULL), 1);
	assert_int_equal(used, 51);
	assert_int_equal(out.type, SAF_CONT_REATTACH);
	assert_int_equal(out.data_len, sizeof(body));
	assert_memory_equal(out.data, body, sizeof(body));
	assert_true(out.value == 0 && out.code == 0);
	for (size_t k = 0; k < 51; k++)
		assert_int_equal(
			saf_cont_frame_decode(buf, k, &out, &used, NULL), 0);
}

static void test_largest_data_frame_is_one_record(void **state)
{
	static uint8_t data[SAF_CONT_DATA_MAX], buf[SAF_CONT_FRAME_MAX];
	saf_cont_frame f = {.type = SAF_CONT_DATA,
			    .value = 1,
			    .data = data,
			    .data_len = sizeof(data)};

	(void)state;
	assert_int_equal(saf_cont_frame_encode(&f, buf, sizeof(buf)),
			 SAF_CONT_FRAME_MAX);
	assert_string_equal(saf_cont_reset_name(1), "unknown_session");
	assert_string_equal(saf_cont_reset_name(2), "protocol_violation");
	assert_string_equal(saf_cont_reset_name(200), "unknown_code");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_reattach_exact_bytes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_refuses_invalid),
		cmocka_unit_test(test_largest_data_frame_is_one_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
