/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for continuity (src/cont): the frame decoder and the
 * stream endpoint fed hostile bytes.
 *
 * Properties: a frame that decodes encodes back to the same bytes; the
 * endpoint never reads or writes out of bounds, never delivers more than
 * its peer could have sent, never reports more acknowledged than written;
 * once it refuses, it stays dead. The first input byte picks the
 * endpoint's situation (fresh or resuming, with some bytes written and a
 * FIN or not) so the fuzzer reaches every state without guessing it.
 */
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

static void endpoint(const uint8_t *data, size_t size)
{
	static uint8_t junk[70000], out[2 * SAF_CONT_FRAME_MAX];
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
			break;
		}
		pos += used;
		r = saf_cont_readable(c, &p);
		if (r == 0 && used == 0)
			abort(); /* neither progress nor anything to take */
		saf_cont_consume(c, r);
		(void)saf_cont_output(c, out, sizeof(out));
	}
	saf_cont_stats_get(c, &st);
	if (st.acked > written || st.written != written)
		abort();
	saf_cont_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frames_round_trip(data, size);
	endpoint(data, size);
	return 0;
}
