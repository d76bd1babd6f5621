/* SPDX-License-Identifier: MIT */
/*
 * src/cont/stream.c. Two endpoints joined by a simulated connection (a
 * bounded byte pipe each way) that is cut at random points, in-flight
 * bytes and half frames lost, and replaced by a new one: every byte of
 * both streams must arrive once, in order, and both ends must finish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/cont.h"

#define PIPE_CAP 40000u

/* Bytes [off, len) of buf are in flight; the reader compacts only when
 * its endpoint holds nothing delivered (which may point into buf). */
typedef struct pipe {
	uint8_t buf[PIPE_CAP];
	size_t off, len;
} pipe_t;

typedef struct end {
	saf_cont *c;
	uint64_t seed;
	uint64_t to_write, written, read;
	pipe_t *out, *in;
} end_t;

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? rng_state % n : 0;
}

/* The byte at offset i of a stream: known to both sides, so the reader
 * checks each byte as it arrives. */
static uint8_t stream_byte(uint64_t seed, uint64_t i)
{
	uint64_t x = (i + seed) * 0x9E3779B97F4A7C15ull;

	return (uint8_t)(x >> 56);
}

static void app_write(end_t *e)
{
	uint8_t tmp[5000];
	size_t n = (size_t)rnd(sizeof(tmp)) + 1, took;

	if (e->written == e->to_write) {
		saf_cont_close_write(e->c); /* an empty stream ends too */
		return;
	}
	if (n > e->to_write - e->written)
		n = (size_t)(e->to_write - e->written);
	for (size_t i = 0; i < n; i++)
		tmp[i] = stream_byte(e->seed, e->written + i);
	took = saf_cont_write(e->c, tmp, n);
	assert_true(took <= n);
	e->written += took;
	if (e->written == e->to_write)
		saf_cont_close_write(e->c);
}

static void transport_out(end_t *e)
{
	size_t room = PIPE_CAP - e->out->len, n, limit = 1 + (size_t)rnd(20000);

	if (room > limit)
		room = limit;
	n = saf_cont_output(e->c, e->out->buf + e->out->len, room);
	e->out->len += n;
}

/* The application takes some of what was delivered, checking each byte. */
static void app_read(end_t *e, uint64_t peer_seed)
{
	const uint8_t *p;
	size_t r = saf_cont_readable(e->c, &p), k;

	if (!r) {
		/* Taking nothing must not lose a half-received frame. */
		saf_cont_consume(e->c, 0);
		return;
	}
	k = (size_t)rnd(r) + 1;
	for (size_t i = 0; i < k; i++)
		assert_int_equal(p[i], stream_byte(peer_seed, e->read + i));
	e->read += k;
	saf_cont_consume(e->c, k);
}

static void transport_in_and_read(end_t *e, uint64_t peer_seed)
{
	pipe_t *in = e->in;
	size_t chunk = 1 + (size_t)rnd(in->len - in->off ? in->len - in->off
							 : 1);
	const uint8_t *held;

	app_read(e, peer_seed);
	while (in->off < in->len) {
		size_t used = 0, left = in->len - in->off;
		size_t take = chunk < left ? chunk : left;
		saf_error err = {0};

		if (saf_cont_input(e->c, in->buf + in->off, take, &used, &err))
			fail_msg("input: %s", err.msg);
		in->off += used;
		app_read(e, peer_seed);
		if (used == 0 || rnd(4) == 0)
			break; /* the application is slow sometimes */
	}
	if (saf_cont_readable(e->c, &held) == 0 && in->off) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->len == in->off)
		saf_cont_input_idle(e->c); /* as SSL_read's WANT_READ */
}

/* Returns the bytes sent again after breaks. */
static uint64_t run(size_t cap, uint64_t a_bytes, uint64_t b_bytes,
		    unsigned break_every)
{
	static pipe_t ab, ba;
	end_t a = {.seed = 1, .to_write = a_bytes, .out = &ab, .in = &ba};
	end_t b = {.seed = 2, .to_write = b_bytes, .out = &ba, .in = &ab};
	saf_cont_stats sa, sb;
	unsigned steps = 0, breaks = 0;

	ab.len = ba.len = ab.off = ba.off = 0;
	a.c = saf_cont_new(cap, NULL);
	b.c = saf_cont_new(cap, NULL);
	assert_non_null(a.c);
	assert_non_null(b.c);
	saf_cont_attach(a.c, false);
	saf_cont_attach(b.c, false);
	while (!(saf_cont_done(a.c) && saf_cont_done(b.c))) {
		if (++steps >= 2000000) {
			saf_cont_stats_get(a.c, &sa);
			saf_cont_stats_get(b.c, &sb);
			fail_msg("stuck: a wrote %llu/%llu acked %llu read %llu, "
				 "b wrote %llu/%llu acked %llu read %llu, "
				 "pipes %zu %zu, done %d %d",
				 (unsigned long long)a.written,
				 (unsigned long long)a_bytes,
				 (unsigned long long)sa.acked,
				 (unsigned long long)a.read,
				 (unsigned long long)b.written,
				 (unsigned long long)b_bytes,
				 (unsigned long long)sb.acked,
				 (unsigned long long)b.read, ab.len, ba.len,
				 saf_cont_done(a.c), saf_cont_done(b.c));
		}
		if (break_every && rnd(break_every) == 0) {
			/* The connection dies: what was in flight is lost,
			 * half frames included; a new one carries on. */
			ab.len = ba.len = ab.off = ba.off = 0;
			saf_cont_attach(a.c, true);
			saf_cont_attach(b.c, true);
			breaks++;
		}
		switch (rnd(6)) {
		case 0:
			app_write(&a);
			break;
		case 1:
			app_write(&b);
			break;
		case 2:
			transport_out(&a);
			break;
		case 3:
			transport_out(&b);
			break;
		case 4:
			transport_in_and_read(&b, a.seed);
			break;
		default:
			transport_in_and_read(&a, b.seed);
			break;
		}
	}
	assert_true(a.read == b_bytes);
	assert_true(b.read == a_bytes);
	assert_true(saf_cont_read_eof(a.c) && saf_cont_read_eof(b.c));
	saf_cont_stats_get(a.c, &sa);
	saf_cont_stats_get(b.c, &sb);
	assert_true(sa.acked == a_bytes && sb.acked == b_bytes);
	assert_true(sa.delivered == b_bytes && sb.delivered == a_bytes);
	assert_int_equal(sa.resumes, breaks);
	saf_cont_free(a.c);
	saf_cont_free(b.c);
	return sa.retransmitted + sb.retransmitted;
}

static void test_no_breaks(void **state)
{
	(void)state;
	assert_true(run(0, 1000000, 300000, 0) == 0);
	assert_true(run(SAF_CONT_SEND_MIN, 50000, 0, 0) == 0);
	assert_true(run(SAF_CONT_SEND_MIN, 0, 0, 0) == 0);
}

static void test_random_breaks(void **state)
{
	uint64_t again = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		again += run(SAF_CONT_SEND_MIN * (1u + (unsigned)rnd(8)),
			     rnd(600000), rnd(600000),
			     50 + (unsigned)rnd(2000));
	/* Breaks cut data in flight: some of it had to go again. */
	assert_true(again > 0);
}

static void test_very_frequent_breaks(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++)
		(void)run(SAF_CONT_SEND_MIN, rnd(100000), rnd(100000), 8);
}

static void test_backpressure(void **state)
{
	saf_cont *c = saf_cont_new(SAF_CONT_SEND_MIN, NULL);
	static uint8_t big[3 * SAF_CONT_SEND_MIN], out[2 * SAF_CONT_SEND_MIN];
	uint8_t ack[11];
	saf_cont_frame f = {.type = SAF_CONT_ACK, .value = 1000};
	size_t used;

	(void)state;
	saf_cont_attach(c, false);
	assert_int_equal(saf_cont_send_room(c), SAF_CONT_SEND_MIN);
	assert_int_equal(saf_cont_write(c, big, sizeof(big)), SAF_CONT_SEND_MIN);
	assert_int_equal(saf_cont_send_room(c), 0);
	assert_int_equal(saf_cont_write(c, big, 1), 0);
	/* Sent is not acknowledged: still no room. */
	assert_true(saf_cont_output(c, out, sizeof(out)) > SAF_CONT_SEND_MIN);
	assert_int_equal(saf_cont_send_room(c), 0);
	assert_int_equal(saf_cont_frame_encode(&f, ack, sizeof(ack)), 11);
	assert_int_equal(saf_cont_input(c, ack, sizeof(ack), &used, NULL), 0);
	assert_int_equal(saf_cont_send_room(c), 1000);
	saf_cont_close_write(c);
	assert_int_equal(saf_cont_send_room(c), 0);
	assert_int_equal(saf_cont_write(c, big, 1), 0);
	saf_cont_free(c);
}

static void test_capacity_bounds(void **state)
{
	saf_error err;

	(void)state;
	assert_null(saf_cont_new(SAF_CONT_SEND_MIN - 1, &err));
	assert_int_equal(err.code, SAF_E_RANGE);
	assert_null(saf_cont_new(SAF_CONT_SEND_MAX + 1, &err));
	assert_string_equal(err.msg, "continuity: send buffer of 67108865 "
				     "bytes, must be 65536..67108864");
}

/* Feeds one frame to a fresh endpoint after `setup` and expects a refusal
 * with this message and reset code. */
static void expect_violation(saf_cont *c, const saf_cont_frame *f,
			     const char *msg, unsigned reset)
{
	uint8_t buf[64];
	size_t n = saf_cont_frame_encode(f, buf, sizeof(buf)), used;
	saf_error err;

	assert_true(n > 0);
	assert_int_equal(saf_cont_input(c, buf, n, &used, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(saf_cont_failed(c), reset);
	/* Dead: nothing more goes out or comes in. */
	assert_int_equal(saf_cont_output(c, buf, sizeof(buf)), 0);
	assert_int_equal(saf_cont_input(c, buf, n, &used, &err), -1);
	saf_cont_free(c);
}

static saf_cont *fresh(bool resume, size_t sent)
{
	saf_cont *c = saf_cont_new(0, NULL);
	static uint8_t data[100], out[512];

	saf_cont_attach(c, false);
	assert_int_equal(saf_cont_write(c, data, sent), sent);
	(void)saf_cont_output(c, out, sizeof(out));
	if (resume)
		saf_cont_attach(c, true);
	return c;
}

static void test_violations(void **state)
{
	const uint8_t x[4] = "abc";

	(void)state;
	expect_violation(fresh(false, 10),
			 &(saf_cont_frame){.type = SAF_CONT_ACK, .value = 11},
			 "continuity: peer sent an acknowledgement of bytes "
			 "never sent (11)",
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(false, 0),
			 &(saf_cont_frame){.type = SAF_CONT_DATA,
					   .value = 5,
					   .data = x,
					   .data_len = 3},
			 "continuity: peer sent DATA past a gap at offset (5)",
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(false, 0),
			 &(saf_cont_frame){.type = SAF_CONT_RESUME, .value = 0},
			 "continuity: peer sent RESUME on a connection already "
			 "resumed, value (0)",
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(true, 10),
			 &(saf_cont_frame){.type = SAF_CONT_ACK, .value = 3},
			 "continuity: peer sent a frame before RESUME, type (2)",
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(true, 10),
			 &(saf_cont_frame){.type = SAF_CONT_RESUME, .value = 20},
			 "continuity: peer sent an acknowledgement of bytes "
			 "never sent (20)",
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(false, 0),
			 &(saf_cont_frame){.type = SAF_CONT_RESET,
					   .code = SAF_CONT_RESET_UNKNOWN_SESSION},
			 "continuity: peer reset the stream: unknown_session",
			 0);
}

static void test_ack_backwards_and_fin_rules(void **state)
{
	saf_cont *c = fresh(false, 10);
	uint8_t buf[64];
	size_t n, used;
	saf_cont_frame f = {.type = SAF_CONT_ACK, .value = 8};

	(void)state;
	n = saf_cont_frame_encode(&f, buf, sizeof(buf));
	assert_int_equal(saf_cont_input(c, buf, n, &used, NULL), 0);
	expect_violation(c, &(saf_cont_frame){.type = SAF_CONT_ACK, .value = 7},
			 "continuity: peer sent an acknowledgement going "
			 "backwards (7)",
			 SAF_CONT_RESET_PROTOCOL);

	/* FIN at 3, then data beyond it. */
	c = fresh(false, 0);
	f = (saf_cont_frame){.type = SAF_CONT_FIN, .value = 3};
	n = saf_cont_frame_encode(&f, buf, sizeof(buf));
	assert_int_equal(saf_cont_input(c, buf, n, &used, NULL), 0);
	expect_violation(c,
			 &(saf_cont_frame){.type = SAF_CONT_DATA,
					   .value = 0,
					   .data = (const uint8_t *)"abcd",
					   .data_len = 4},
			 "continuity: peer sent DATA beyond its FIN, ending "
			 "at (4)",
			 SAF_CONT_RESET_PROTOCOL);
	c = fresh(false, 0);
	assert_int_equal(saf_cont_input(c, buf, n, &used, NULL), 0);
	expect_violation(c, &(saf_cont_frame){.type = SAF_CONT_FIN, .value = 4},
			 "continuity: peer sent a second FIN at (4)",
			 SAF_CONT_RESET_PROTOCOL);
	/* Acknowledging our FIN before it was ever sent. */
	c = fresh(false, 10);
	saf_cont_close_write(c);
	expect_violation(c, &(saf_cont_frame){.type = SAF_CONT_ACK, .value = 11},
			 "continuity: peer sent an acknowledgement of bytes "
			 "never sent (11)",
			 SAF_CONT_RESET_PROTOCOL);
}

static void test_garbage_is_a_violation(void **state)
{
	saf_cont *c = fresh(false, 0);
	static const uint8_t junk[] = {0x17, 0x03, 0x03, 0x00};
	size_t used;
	saf_error err;

	(void)state;
	assert_int_equal(saf_cont_input(c, junk, sizeof(junk), &used, &err),
			 -1);
	assert_string_equal(err.msg, "continuity: unknown frame type 23");
	assert_int_equal(saf_cont_failed(c), SAF_CONT_RESET_PROTOCOL);
	saf_cont_free(c);
}

/* REATTACH (docs/continuity.md, "Early credential") is taken by the node
 * before a stream exists; the engine refuses it wherever it meets it: on
 * an attached stream, before RESUME on a resumed one, after RESUME, and
 * when it arrives one byte at a time. */
static void test_reattach_is_a_violation(void **state)
{
	static const uint8_t body[SAF_REATTACH_FRAME_BODY] = {1, 2, 3};
	const saf_cont_frame re = {.type = SAF_CONT_REATTACH,
				   .data = body,
				   .data_len = sizeof(body)};
	const char *inside =
		"continuity: peer sent REATTACH inside a stream, type (6)";
	uint8_t buf[64], out[64];
	size_t n, used, fed = 0;
	saf_error err;
	saf_cont *c;
	int r = 0;

	(void)state;
	expect_violation(fresh(false, 0), &re, inside, SAF_CONT_RESET_PROTOCOL);
	expect_violation(fresh(false, 10), &re, inside,
			 SAF_CONT_RESET_PROTOCOL);
	expect_violation(
		fresh(true, 10), &re,
		"continuity: peer sent a frame before RESUME, type (6)",
		SAF_CONT_RESET_PROTOCOL);
	assert_string_equal(saf_cont_reset_name(SAF_CONT_RESET_PROTOCOL),
			    "protocol_violation");

	/* After the peer's RESUME it is inside the stream again. */
	c = fresh(true, 10);
	n = saf_cont_frame_encode(
		&(saf_cont_frame){.type = SAF_CONT_RESUME, .value = 0}, buf,
		sizeof(buf));
	assert_int_equal(saf_cont_input(c, buf, n, &used, &err), 0);
	assert_int_equal(used, n);
	assert_false(saf_cont_resuming(c));
	expect_violation(c, &re, inside, SAF_CONT_RESET_PROTOCOL);

	/* One byte at a time: held until whole, then refused. */
	c = fresh(false, 0);
	n = saf_cont_frame_encode(&re, buf, sizeof(buf));
	assert_int_equal(n, SAF_CONT_FRAME_HEADER + SAF_REATTACH_FRAME_BODY);
	while (fed < n && r == 0) {
		r = saf_cont_input(c, buf + fed, 1, &used, &err);
		fed += used;
	}
	assert_int_equal(r, -1);
	assert_int_equal(fed, n);
	assert_string_equal(err.msg, inside);
	assert_int_equal(saf_cont_failed(c), SAF_CONT_RESET_PROTOCOL);
	assert_int_equal(saf_cont_output(c, out, sizeof(out)), 0);
	saf_cont_free(c);
}

/* A node that no longer has the stream answers RESET unknown_session,
 * perhaps right after DATA: the data before it is delivered, in order and
 * whole, then the stream is dead with the node's code, nothing to send
 * back, and the application can write no more. */
static void test_peer_reset_after_data(void **state)
{
	saf_cont *c = fresh(false, 10);
	uint8_t in[64], out[64];
	const uint8_t *p;
	size_t n, m, used;
	saf_error err;

	(void)state;
	assert_int_equal(saf_cont_peer_reset(c), 0);
	n = saf_cont_frame_encode(
		&(saf_cont_frame){.type = SAF_CONT_DATA,
				  .value = 0,
				  .data = (const uint8_t *)"prefix",
				  .data_len = 6},
		in, sizeof(in));
	m = saf_cont_frame_encode(
		&(saf_cont_frame){.type = SAF_CONT_RESET,
				  .code = SAF_CONT_RESET_UNKNOWN_SESSION},
		in + n, sizeof(in) - n);
	assert_true(n > 0 && m > 0);
	/* The DATA first: it stops there while the bytes wait. */
	assert_int_equal(saf_cont_input(c, in, n + m, &used, &err), 0);
	assert_int_equal(used, n);
	assert_int_equal(saf_cont_readable(c, &p), 6);
	assert_memory_equal(p, "prefix", 6);
	assert_int_equal(saf_cont_peer_reset(c), 0);
	saf_cont_consume(c, 6);
	/* Then the RESET. */
	assert_int_equal(
		saf_cont_input(c, in + used, n + m - used, &used, &err), -1);
	assert_int_equal(err.code, SAF_E_REFUSED);
	assert_string_equal(
		err.msg, "continuity: peer reset the stream: unknown_session");
	assert_int_equal(saf_cont_peer_reset(c),
			 SAF_CONT_RESET_UNKNOWN_SESSION);
	assert_int_equal(saf_cont_failed(c), 0); /* nothing to send back */
	assert_int_equal(saf_cont_readable(c, &p), 0);
	assert_false(saf_cont_read_eof(c)); /* no FIN: not a clean end */
	assert_false(saf_cont_done(c));
	assert_int_equal(saf_cont_output(c, out, sizeof(out)), 0);
	assert_int_equal(saf_cont_send_room(c), 0);
	assert_int_equal(saf_cont_write(c, out, 1), 0);
	saf_cont_free(c);

	/* Another code is reported as is; our own violation is not the
	 * peer's reset. */
	c = fresh(false, 0);
	n = saf_cont_frame_encode(
		&(saf_cont_frame){.type = SAF_CONT_RESET, .code = 77}, in,
		sizeof(in));
	assert_int_equal(saf_cont_input(c, in, n, &used, &err), -1);
	assert_int_equal(saf_cont_peer_reset(c), 77);
	saf_cont_free(c);
	c = fresh(false, 0);
	n = saf_cont_frame_encode(
		&(saf_cont_frame){.type = SAF_CONT_ACK, .value = 5}, in,
		sizeof(in));
	assert_int_equal(saf_cont_input(c, in, n, &used, &err), -1);
	assert_int_equal(saf_cont_peer_reset(c), 0);
	assert_int_equal(saf_cont_failed(c), SAF_CONT_RESET_PROTOCOL);
	saf_cont_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_breaks),
		cmocka_unit_test(test_random_breaks),
		cmocka_unit_test(test_very_frequent_breaks),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_capacity_bounds),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_ack_backwards_and_fin_rules),
		cmocka_unit_test(test_garbage_is_a_violation),
		cmocka_unit_test(test_reattach_is_a_violation),
		cmocka_unit_test(test_peer_reset_after_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
