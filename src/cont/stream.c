/* SPDX-License-Identifier: MIT */
/*
 * One endpoint of a continuity stream (docs/continuity.md): what is sent
 * stays in a fixed ring until acknowledged, what arrives is delivered by
 * offset exactly once, and a RESUME exchange on each new connection tells
 * each side where to start again.
 *
 * Offsets are stream positions from 0. Like TCP's FIN, the end of a stream
 * takes one position: a receiver that has read the whole stream and its
 * FIN reports final_size + 1 in ACK and RESUME, which is how the sender
 * learns that the FIN itself arrived.
 */
#include <stdlib.h>
#include <string.h>

#include "saf/cont.h"
#include "saf/cursor.h"

struct saf_cont {
	/* send side: the ring holds stream bytes [acked, written) */
	uint8_t *ring;
	size_t cap;
	uint64_t acked;	    /* peer took everything below (bytes) */
	uint64_t sent;	    /* next byte to frame on this connection */
	uint64_t sent_high; /* highest offset ever framed */
	uint64_t written;   /* end of what the application gave */
	bool fin_written, fin_sent, fin_acked;
	bool fin_ever_sent; /* a FIN went out on some connection */
	/* receive side */
	uint64_t taken; /* the application took everything below */
	uint64_t ack_sent;
	bool peer_fin;
	uint64_t peer_final;
	/* the frame being received, and delivered bytes waiting */
	uint8_t rbuf[SAF_CONT_FRAME_MAX];
	size_t rbuf_len;
	const uint8_t *dlv;
	size_t dlv_len;
	/* connection */
	bool resuming;	/* waiting for the peer's RESUME */
	bool resume_due; /* ours is still to be sent */
	bool dead;
	bool idle; /* the transport had nothing more to read */
	unsigned reset_to_send;
	unsigned peer_reset; /* the code of the peer's RESET, 0: none */
	saf_cont_stats st;
};

saf_cont *saf_cont_new(size_t send_capacity, saf_error *err)
{
	saf_cont *c;

	if (send_capacity == 0)
		send_capacity = SAF_CONT_SEND_DEFAULT;
	if (send_capacity < SAF_CONT_SEND_MIN ||
	    send_capacity > SAF_CONT_SEND_MAX) {
		saf_fail(err, SAF_E_RANGE,
			 "continuity: send buffer of %zu bytes, must be "
			 "%u..%u",
			 send_capacity, SAF_CONT_SEND_MIN, SAF_CONT_SEND_MAX);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->ring = malloc(send_capacity);
	if (!c || !c->ring) {
		free(c);
		saf_fail(err, SAF_E_NOMEM, "continuity: out of memory");
		return NULL;
	}
	c->cap = send_capacity;
	c->st.send_capacity = send_capacity;
	return c;
}

void saf_cont_free(saf_cont *c)
{
	if (!c)
		return;
	free(c->ring);
	free(c);
}

/* What this side reports as received: bytes taken, plus one for the FIN
 * once the stream was read to its end. */
static uint64_t received(const saf_cont *c)
{
	return c->taken + (saf_cont_read_eof(c) ? 1u : 0u);
}

/* ---- application side -------------------------------------------------- */

size_t saf_cont_send_room(const saf_cont *c)
{
	if (c->fin_written || c->dead)
		return 0;
	return c->cap - (size_t)(c->written - c->acked);
}

size_t saf_cont_write(saf_cont *c, const uint8_t *p, size_t n)
{
	size_t room = saf_cont_send_room(c), done = 0;

	if (n > room)
		n = room;
	if (c->written + n >= SAF_CONT_OFFSET_LIMIT)
		return 0;
	while (done < n) {
		size_t at = (size_t)((c->written + done) % c->cap);
		size_t run = c->cap - at;

		if (run > n - done)
			run = n - done;
		memcpy(c->ring + at, p + done, run);
		done += run;
	}
	c->written += n;
	c->st.written += n;
	return n;
}

void saf_cont_close_write(saf_cont *c)
{
	c->fin_written = true;
}

size_t saf_cont_readable(const saf_cont *c, const uint8_t **p)
{
	*p = c->dlv;
	return c->dlv_len;
}

void saf_cont_consume(saf_cont *c, size_t n)
{
	if (n > c->dlv_len)
		n = c->dlv_len;
	if (n == 0)
		return; /* rbuf may hold the start of the next frame */
	c->dlv += n;
	c->dlv_len -= n;
	c->taken += n;
	c->st.delivered += n;
	if (c->dlv_len == 0)
		c->rbuf_len = 0; /* the frame is used up */
}

bool saf_cont_read_eof(const saf_cont *c)
{
	return c->peer_fin && c->taken == c->peer_final;
}

bool saf_cont_done(const saf_cont *c)
{
	return c->fin_acked && saf_cont_read_eof(c) &&
	       c->ack_sent == received(c);
}

void saf_cont_input_idle(saf_cont *c)
{
	c->idle = true;
}

bool saf_cont_resuming(const saf_cont *c)
{
	return c->resuming;
}

unsigned saf_cont_failed(const saf_cont *c)
{
	return c->dead ? c->reset_to_send : 0;
}

unsigned saf_cont_peer_reset(const saf_cont *c)
{
	return c->peer_reset;
}

void saf_cont_stats_get(const saf_cont *c, saf_cont_stats *out)
{
	*out = c->st;
	out->acked = c->acked;
}

/* ---- transport side ---------------------------------------------------- */

void saf_cont_attach(saf_cont *c, bool resume)
{
	/* Half a frame, or delivered bytes the application did not take, are
	 * dropped: `taken` is what RESUME reports, so the peer resends them. */
	c->rbuf_len = 0;
	c->dlv = NULL;
	c->dlv_len = 0;
	c->fin_sent = false;
	c->resuming = resume;
	c->resume_due = resume;
	if (resume)
		c->st.resumes++;
}

static size_t put_fixed(uint8_t *out, size_t cap, saf_cont_frame_type type,
			uint64_t value)
{
	saf_cont_frame f = {.type = type, .value = value};

	return saf_cont_frame_encode(&f, out, cap);
}

/* One DATA frame from the ring at `sent`, copied around the wrap. */
static size_t put_data(saf_cont *c, uint8_t *out, size_t cap)
{
	size_t n = (size_t)(c->written - c->sent), hdr = SAF_CONT_FRAME_HEADER + 8u;
	size_t done = 0;
	saf_writer w;

	if (n > SAF_CONT_DATA_MAX)
		n = SAF_CONT_DATA_MAX;
	if (cap <= hdr)
		return 0;
	if (n > cap - hdr)
		n = cap - hdr;
	saf_writer_init(&w, out, cap);
	saf_put_u8(&w, SAF_CONT_DATA);
	saf_put_u16(&w, (uint16_t)(8u + n));
	saf_put_u64(&w, c->sent);
	while (done < n) {
		size_t at = (size_t)((c->sent + done) % c->cap);
		size_t run = c->cap - at;

		if (run > n - done)
			run = n - done;
		saf_put_bytes(&w, c->ring + at, run);
		done += run;
	}
	if (c->sent < c->sent_high)
		c->st.retransmitted += (c->sent + n <= c->sent_high)
					       ? n
					       : (size_t)(c->sent_high - c->sent);
	c->sent += n;
	if (c->sent > c->sent_high)
		c->sent_high = c->sent;
	return w.len;
}

size_t saf_cont_output(saf_cont *c, uint8_t *out, size_t cap)
{
	size_t len = 0, n;

	if (c->dead)
		return 0;
	if (c->resume_due) {
		/* Our RESUME goes first, even when the peer's came already. */
		n = put_fixed(out, cap, SAF_CONT_RESUME, received(c));
		if (!n)
			return 0;
		c->resume_due = false;
		c->ack_sent = received(c);
		len = n;
	}
	if (c->resuming)
		return len; /* nothing else until the peer's RESUME */
	/* Acknowledge in batches of SAF_CONT_ACK_BYTES while data keeps
	 * coming; a smaller batch once the connection went idle (a sender
	 * whose buffer is full is waiting for it: SAF_CONT_ACK_IDLE_BYTES is
	 * at most the smallest buffer); and at once the end of the stream,
	 * which the peer needs to finish. */
	if (received(c) > c->ack_sent &&
	    (received(c) - c->ack_sent >= SAF_CONT_ACK_BYTES ||
	     (c->idle && received(c) - c->ack_sent >= SAF_CONT_ACK_IDLE_BYTES) ||
	     saf_cont_read_eof(c))) {
		n = put_fixed(out + len, cap - len, SAF_CONT_ACK, received(c));
		if (!n)
			return len;
		len += n;
		c->ack_sent = received(c);
		c->idle = false;
	}
	while (c->sent < c->written) {
		n = put_data(c, out + len, cap - len);
		if (!n)
			return len;
		len += n;
	}
	if (c->fin_written && !c->fin_sent && !c->fin_acked) {
		n = put_fixed(out + len, cap - len, SAF_CONT_FIN, c->written);
		if (n) {
			len += n;
			c->fin_sent = c->fin_ever_sent = true;
		}
	}
	return len;
}

static int violation(saf_cont *c, saf_error *err, const char *what,
		     uint64_t v)
{
	c->dead = true;
	c->reset_to_send = SAF_CONT_RESET_PROTOCOL;
	return saf_fail(err, SAF_E_RANGE, "continuity: peer sent %s (%llu)",
			what, (unsigned long long)v);
}

/* The peer reports it received everything below v (bytes, plus one for
 * our FIN). */
static int on_received(saf_cont *c, uint64_t v, saf_error *err)
{
	uint64_t now = c->acked + (c->fin_acked ? 1u : 0u);

	if (v < now)
		return violation(c, err, "an acknowledgement going backwards",
				 v);
	if (v <= c->written && v <= c->sent_high) {
		c->acked = v;
	} else if (v == c->written + 1u && c->fin_ever_sent) {
		c->acked = c->written;
		c->fin_acked = true;
	} else {
		return violation(c, err,
				 "an acknowledgement of bytes never sent", v);
	}
	if (c->sent < c->acked)
		c->sent = c->acked;
	return 0;
}

static int on_data(saf_cont *c, const saf_cont_frame *f, saf_error *err)
{
	uint64_t end = f->value + f->data_len;

	if (f->value > c->taken)
		return violation(c, err, "DATA past a gap at offset", f->value);
	if (c->peer_fin && end > c->peer_final)
		return violation(c, err, "DATA beyond its FIN, ending at", end);
	if (end <= c->taken) {
		c->st.duplicates += f->data_len;
		c->rbuf_len = 0;
		return 0;
	}
	c->st.duplicates += (size_t)(c->taken - f->value);
	c->dlv = f->data + (c->taken - f->value);
	c->dlv_len = (size_t)(end - c->taken);
	return 0;
}

static int on_frame(saf_cont *c, const saf_cont_frame *f, saf_error *err)
{
	if (f->type == SAF_CONT_RESET) {
		c->dead = true;
		c->reset_to_send = 0;
		c->peer_reset = f->code;
		return saf_fail(err, SAF_E_REFUSED,
				"continuity: peer reset the stream: %s",
				saf_cont_reset_name(f->code));
	}
	if (c->resuming) {
		if (f->type != SAF_CONT_RESUME)
			return violation(c, err, "a frame before RESUME, type",
					 f->type);
		if (on_received(c, f->value, err))
			return -1;
		/* Everything the peer lacks goes again, FIN included. */
		c->sent = c->acked;
		c->fin_sent = false;
		c->resuming = false;
		return 0;
	}
	switch (f->type) {
	case SAF_CONT_DATA:
		return on_data(c, f, err);
	case SAF_CONT_ACK:
		return on_received(c, f->value, err);
	case SAF_CONT_FIN:
		if (c->peer_fin && f->value != c->peer_final)
			return violation(c, err, "a second FIN at", f->value);
		if (f->value < c->taken)
			return violation(c, err, "a FIN before data it sent, at",
					 f->value);
		c->peer_fin = true;
		c->peer_final = f->value;
		return 0;
	case SAF_CONT_RESUME:
		return violation(c, err, "RESUME on a connection already "
				 "resumed, value", f->value);
	case SAF_CONT_REATTACH:
		/* Taken by the node before the stream, never inside it. */
		return violation(c, err, "REATTACH inside a stream, type",
				 f->type);
	default:
		return violation(c, err, "an unknown frame", f->type);
	}
}

int saf_cont_input(saf_cont *c, const uint8_t *in, size_t n, size_t *used,
		   saf_error *err)
{
	size_t pos = 0;

	*used = 0;
	if (c->dead)
		return saf_fail(err, SAF_E_INVAL, "continuity: stream is dead");
	while (pos < n && c->dlv_len == 0) {
		saf_cont_frame f;
		size_t take, flen = 0;
		int r;

		/* A whole frame in the input: decoded in place, and DATA is
		 * delivered from the caller's buffer (no copy). */
		if (c->rbuf_len == 0) {
			r = saf_cont_frame_decode(in + pos, n - pos, &f, &flen,
						  err);
			if (r < 0) {
				*used = pos;
				c->dead = true;
				c->reset_to_send = SAF_CONT_RESET_PROTOCOL;
				return -1;
			}
			if (r == 1) {
				pos += flen;
				if (on_frame(c, &f, err)) {
					*used = pos;
					return -1;
				}
				continue;
			}
		}

		/* Header first, then exactly the body it announces, so a
		 * frame never swallows bytes of the next one. */
		take = SAF_CONT_FRAME_HEADER > c->rbuf_len
			       ? SAF_CONT_FRAME_HEADER - c->rbuf_len
			       : 0;
		if (take == 0)
			take = SAF_CONT_FRAME_HEADER +
			       (((size_t)c->rbuf[1] << 8) | c->rbuf[2]) -
			       c->rbuf_len;
		if (take > n - pos)
			take = n - pos;
		memcpy(c->rbuf + c->rbuf_len, in + pos, take);
		c->rbuf_len += take;
		pos += take;
		r = saf_cont_frame_decode(c->rbuf, c->rbuf_len, &f, &flen, err);
		if (r < 0) {
			*used = pos;
			c->dead = true;
			c->reset_to_send = SAF_CONT_RESET_PROTOCOL;
			return -1;
		}
		if (r == 0)
			continue;
		if (on_frame(c, &f, err)) {
			*used = pos;
			return -1;
		}
		if (c->dlv_len == 0)
			c->rbuf_len = 0;
	}
	*used = pos;
	return 0;
}
