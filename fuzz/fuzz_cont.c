/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for continuity (src/cont): the frame decoder and the
 * stream endpoint fed hostile bytes.
 *
 * Properties: a frame that decodes encodes back to the same bytes; the
 * endpoint never reads or writes out of bounds, never delivers more than
 * its peer could have sent, never reports more acknowledged than written;
 * once it refuses, it stays dead; a REATTACH frame (taken by the node
 * before any stream) is always refused. The first input byte picks the
 * endpoint's situation (fresh or resuming, with some bytes written and a
 * FIN or not) so the fuzzer reaches every state without guessing it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/cont.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void frames_round_trip(const uint8_t *data, size_t size)
{
	uint8_t out[SAF_CONT_FRAME_MAX];
	size_t pos = 0;

	while (pos < size) {
		saf_cont_frame f;
		size_t used = 0, n;

		if (saf_cont_frame_decode(data + pos, size - pos, &f, &used,
					  NULL) != 1)
			return;
		n = saf_cont_frame_encode(&f, out, sizeof(out));
		if (n != used || memcmp(out, data + pos, n) != 0)
			abort();
		pos += used;
	}
}

/* What the peer sent, read from the input again on its own: the DATA
 * frames' payload bytes and the highest stream offset they reach, and
 * whether a REATTACH frame comes among the well-formed ones before any
 * RESET. The endpoint dies at the first bad frame or at a RESET, so
 * frames after it count for nothing; counting up to it is an upper
 * bound. */
static void peer_sent(const uint8_t *data, size_t size, uint64_t *payload,
		      uint64_t *max_end, bool *reattach)
{
	size_t pos = 0;

	*payload = *max_end = 0;
	*reattach = false;
	while (pos < size) {
		saf_cont_frame f;
		size_t used = 0;

		if (saf_cont_frame_decode(data + pos, size - pos, &f, &used,
					  NULL) != 1 ||
		    used == 0)
			return;
		if (f.type == SAF_CONT_RESET)
			return; /* the endpoint dies there, with no code */
		if (f.type == SAF_CONT_REATTACH)
			*reattach = true;
		if (f.type == SAF_CONT_DATA) {
			*payload += f.data_len;
			if (f.value + f.data_len > *max_end)
				*max_end = f.value + f.data_len;
		}
		pos += used;
	}
}

static void endpoint(const uint8_t *data, size_t size)
{
	uint64_t taken = 0, fed = 0, sent_payload = 0, sent_end = 0;
	static uint8_t junk[70000], out[2 * SAF_CONT_FRAME_MAX];
	bool refused = false, reattach;
	uint8_t mode;
	size_t pos = 1, written;
	saf_cont *c;
	saf_cont_stats st;

	if (size < 1)
		return;
	mode = data[0];
	c = saf_cont_new(SAF_CONT_SEND_MIN * (1u + (mode & 3u)), NULL);
	if (!c)
		abort();
	saf_cont_attach(c, false);
	written = saf_cont_write(c, junk, (size_t)(mode >> 3) * 512u);
	(void)saf_cont_output(c, out, sizeof(out));
	if (mode & 4u)
		saf_cont_close_write(c);
	if (mode & 128u)
		saf_cont_attach(c, true);
	while (pos < size) {
		const uint8_t *p;
		size_t used = 0, r;

		if (saf_cont_input(c, data + pos, size - pos, &used, NULL)) {
			if (saf_cont_output(c, out, sizeof(out)) != 0)
				abort(); /* dead: silent */
			refused = true;
			break;
		}
		pos += used;
		fed += used;
		r = saf_cont_readable(c, &p);
		if (r == 0 && used == 0)
			abort(); /* neither progress nor anything to take */
		saf_cont_consume(c, r);
		taken += r;
		(void)saf_cont_output(c, out, sizeof(out));
	}
	saf_cont_stats_get(c, &st);
	if (st.acked > written || st.written != written)
		abort();
	/* Never more delivered than the peer sent: not more than the bytes
	 * fed in, the DATA payload in them, or the stream offset they reach;
	 * and the count says what the application took. */
	peer_sent(data + 1, size - 1, &sent_payload, &sent_end, &reattach);
	if (taken > fed || taken > sent_payload || taken > sent_end ||
	    st.delivered != taken)
		abort();
	/* REATTACH never passes inside a stream, resumed or not: the stream
	 * dies with protocol_violation at it or at a bad frame before it. */
	if (reattach &&
	    (!refused || saf_cont_failed(c) != SAF_CONT_RESET_PROTOCOL))
		abort();
	saf_cont_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frames_round_trip(data, size);
	endpoint(data, size);
	return 0;
}
