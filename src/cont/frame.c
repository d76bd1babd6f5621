/* SPDX-License-Identifier: MIT */
/* Continuity frames (docs/continuity.md): an exact codec, nothing else. */
#include "saf/cont.h"
#include "saf/cursor.h"

const char *saf_cont_reset_name(unsigned code)
{
	switch (code) {
	case SAF_CONT_RESET_UNKNOWN_SESSION:
		return "unknown_session";
	case SAF_CONT_RESET_PROTOCOL:
		return "protocol_violation";
	case SAF_CONT_RESET_ABORT:
		return "aborted";
	}
	return "unknown_code";
}

static const char *frame_name(unsigned type)
{
	switch (type) {
	case SAF_CONT_DATA:
		return "DATA";
	case SAF_CONT_ACK:
		return "ACK";
	case SAF_CONT_RESUME:
		return "RESUME";
	case SAF_CONT_FIN:
		return "FIN";
	case SAF_CONT_RESET:
		return "RESET";
	case SAF_CONT_REATTACH:
		return "REATTACH";
	}
	return "unknown";
}

/* The one body length each fixed-size frame may have. */
static size_t fixed_len(unsigned type)
{
	if (type == SAF_CONT_REATTACH)
		return SAF_REATTACH_FRAME_BODY;
	return type == SAF_CONT_RESET ? 1u : 8u;
}

int saf_cont_frame_decode(const uint8_t *buf, size_t len, saf_cont_frame *f,
			  size_t *used, saf_error *err)
{
	saf_reader r;
	saf_slice body;
	uint8_t type;
	uint16_t blen;

	if (len < SAF_CONT_FRAME_HEADER)
		return 0;
	saf_reader_init(&r, buf, len);
	if (saf_get_u8(&r, &type, "frame type", err) ||
	    saf_get_u16(&r, &blen, "frame length", err))
		return -1;
	if (type < SAF_CONT_DATA || type > SAF_CONT_REATTACH)
		return saf_fail(err, SAF_E_FORMAT,
				"continuity: unknown frame type %u", type);
	if (type == SAF_CONT_DATA) {
		if (blen < 9u || blen > 8u + SAF_CONT_DATA_MAX)
			return saf_fail(err, SAF_E_RANGE,
					"continuity: DATA body of %u bytes, "
					"must be 9..%u",
					blen, 8u + SAF_CONT_DATA_MAX);
	} else if (blen != fixed_len(type)) {
		return saf_fail(err, SAF_E_RANGE,
				"continuity: %s body of %u bytes, must be %zu",
				frame_name(type), blen, fixed_len(type));
	}
	if (saf_reader_left(&r) < blen)
		return 0;
	if (saf_get_bytes(&r, blen, &body, "frame body", err))
		return -1;
	f->type = (saf_cont_frame_type)type;
	f->data = NULL;
	f->data_len = 0;
	f->code = 0;
	f->value = 0;
	if (type == SAF_CONT_REATTACH) {
		f->data = body.base;
		f->data_len = body.len;
	} else if (type == SAF_CONT_RESET) {
		f->code = body.base[0];
		if (f->code == 0)
			return saf_fail(err, SAF_E_RANGE,
					"continuity: RESET with code 0");
	} else {
		saf_reader b;

		saf_reader_init(&b, body.base, body.len);
		if (saf_get_u64(&b, &f->value, "frame value", err))
			return -1;
		if (type == SAF_CONT_DATA) {
			f->data = body.base + 8;
			f->data_len = body.len - 8u;
		}
		if (f->value >= SAF_CONT_OFFSET_LIMIT ||
		    f->data_len >= SAF_CONT_OFFSET_LIMIT - f->value)
			return saf_fail(err, SAF_E_RANGE,
					"continuity: %s offset beyond 2^62",
					frame_name(type));
	}
	*used = SAF_CONT_FRAME_HEADER + blen;
	return 1;
}

size_t saf_cont_frame_encode(const saf_cont_frame *f, uint8_t *out, size_t cap)
{
	saf_writer w;
	size_t blen;

	switch (f->type) {
	case SAF_CONT_DATA:
		if (f->data_len == 0 || f->data_len > SAF_CONT_DATA_MAX)
			return 0;
		blen = 8u + f->data_len;
		break;
	case SAF_CONT_ACK:
	case SAF_CONT_RESUME:
	case SAF_CONT_FIN:
		blen = 8u;
		break;
	case SAF_CONT_RESET:
		if (f->code == 0)
			return 0;
		blen = 1u;
		break;
	case SAF_CONT_REATTACH:
		if (!f->data || f->data_len != SAF_REATTACH_FRAME_BODY)
			return 0;
		blen = SAF_REATTACH_FRAME_BODY;
		break;
	default:
		return 0;
	}
	if (f->type != SAF_CONT_RESET && f->type != SAF_CONT_REATTACH &&
	    (f->value >= SAF_CONT_OFFSET_LIMIT ||
	     f->data_len >= SAF_CONT_OFFSET_LIMIT - f->value))
		return 0;
	saf_writer_init(&w, out, cap);
	saf_put_u8(&w, (uint8_t)f->type);
	saf_put_u16(&w, (uint16_t)blen);
	if (f->type == SAF_CONT_RESET) {
		saf_put_u8(&w, f->code);
	} else if (f->type == SAF_CONT_REATTACH) {
		saf_put_bytes(&w, f->data, f->data_len);
	} else {
		saf_put_u64(&w, f->value);
		if (f->type == SAF_CONT_DATA)
			saf_put_bytes(&w, f->data, f->data_len);
	}
	return w.failed ? 0 : w.len;
}
