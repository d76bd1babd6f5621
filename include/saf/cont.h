/* SPDX-License-Identifier: MIT */
/*
 * Continuity (SPEC 4, docs/continuity.md): a reliable byte stream in each
 * direction that outlives the TLS connection carrying it. The application
 * starts on the connection to S; when it moves to the node's unicast
 * address, or when a connection breaks and a new one is made, the stream
 * goes on with no byte lost, duplicated or reordered.
 *
 * Two layers, neither knowing sockets or OpenSSL:
 *
 *   frames  the wire codec (DATA, ACK, RESUME, FIN, RESET) carried inside
 *           TLS application data;
 *   saf_cont  one endpoint of a stream: the send buffer of bytes the peer
 *           has not acknowledged (fixed capacity: the application's writes
 *           are refused beyond it, which is its backpressure), the
 *           receive side (in-order delivery by offset, duplicates dropped),
 *           and the resume exchange on every connection after the first.
 *
 * The glue (src/tls/stream.c for the client, `saf tls serve` for the node)
 * moves bytes between a saf_cont and an SSL: saf_cont_output gives the next
 * frames to SSL_write, saf_cont_input takes what SSL_read returned.
 *
 * Memory per endpoint: the send buffer (send_capacity bytes, allocated
 * once) plus SAF_CONT_FRAME_MAX bytes for the frame being received.
 */
#ifndef SAF_CONT_H
#define SAF_CONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/constants.h"
#include "saf/error.h"

/* ---- frames ------------------------------------------------------------ */

/*
 *   struct {
 *       uint8  type;
 *       uint16 length;          bytes of body that follow
 *       opaque body[length];
 *   } Frame;
 *
 *   DATA    uint64 offset; opaque data[length - 8]   (1..SAF_CONT_DATA_MAX)
 *   ACK     uint64 received      bytes delivered in order to the application
 *   RESUME  uint64 received      first frame on a resumed connection
 *   FIN     uint64 final_size    the sender's stream ends there
 *   RESET   uint8  code          the stream cannot go on (saf_cont_reset)
 *   REATTACH opaque id[16]; opaque proof[32]
 *                                first frame of a connection that comes
 *                                back with an early credential (client to
 *                                node, before RESUME; docs/continuity.md,
 *                                "Early credential"); never inside a
 *                                stream: the engine refuses it
 *
 * Offsets and sizes are below 2^62. A frame of an unknown type, or of a
 * known type with another length, is malformed.
 */
typedef enum saf_cont_frame_type {
	SAF_CONT_DATA = 1,
	SAF_CONT_ACK = 2,
	SAF_CONT_RESUME = 3,
	SAF_CONT_FIN = 4,
	SAF_CONT_RESET = 5,
	SAF_CONT_REATTACH = 6,
} saf_cont_frame_type;

/* Why a stream was reset (RESET's code). */
typedef enum saf_cont_reset {
	SAF_CONT_RESET_UNKNOWN_SESSION = 1, /* node has no such stream */
	SAF_CONT_RESET_PROTOCOL = 2,	    /* peer broke the rules */
	SAF_CONT_RESET_ABORT = 3,	    /* application gave up */
} saf_cont_reset;
const char *saf_cont_reset_name(unsigned code);

typedef struct saf_cont_frame {
	saf_cont_frame_type type;
	uint64_t value;	     /* offset, received or final_size */
	/* DATA: the bytes; REATTACH: the body, id then proof
	 * (SAF_REATTACH_FRAME_BODY bytes); borrowed from the input */
	const uint8_t *data;
	size_t data_len;
	uint8_t code; /* RESET */
} saf_cont_frame;

/* Decodes the frame at the start of buf. Returns 1 and sets *used when a
 * whole frame is there, 0 when buf holds only part of one (more bytes
 * needed; *used untouched), -1 when it is malformed (SAF_E_FORMAT for the
 * type, SAF_E_RANGE for a length or value, naming the frame). */
SAF_MUST_CHECK int saf_cont_frame_decode(const uint8_t *buf, size_t len,
					 saf_cont_frame *f, size_t *used,
					 saf_error *err);

/* Encodes f into out; returns the bytes written, 0 when out is too small
 * or f is not a valid frame. */
size_t saf_cont_frame_encode(const saf_cont_frame *f, uint8_t *out,
			     size_t cap);

/* ---- one endpoint of a stream ------------------------------------------ */

typedef struct saf_cont saf_cont;

/* A new endpoint with a send buffer of `send_capacity` bytes (0: the
 * default, SAF_CONT_SEND_DEFAULT; at most SAF_CONT_SEND_MAX). */
saf_cont *saf_cont_new(size_t send_capacity, saf_error *err);
void saf_cont_free(saf_cont *c);

/* -- application side -- */

/* Bytes the send buffer can take now; 0 means wait for acknowledgements. */
size_t saf_cont_send_room(const saf_cont *c);
/* Copies up to saf_cont_send_room bytes; returns how many it took (0 after
 * saf_cont_close_write). The bytes stay buffered until the peer
 * acknowledges them, across any number of connections. */
size_t saf_cont_write(saf_cont *c, const uint8_t *p, size_t n);
/* How much to read from a source at once, given room for cap bytes: a
 * multiple of SAF_CONT_DATA_MAX when cap holds one DATA frame or more, so
 * each read becomes whole frames and no small frame trails it (a frame is
 * one TLS record: a trailing 100-byte frame per 64 KiB read cost 25% more
 * records, writes and wake-ups). */
static inline size_t saf_cont_read_size(size_t cap)
{
	return cap < SAF_CONT_DATA_MAX ? cap
				       : cap - cap % SAF_CONT_DATA_MAX;
}

/* Ends this side's stream after the bytes written so far (FIN). */
void saf_cont_close_write(saf_cont *c);

/* Bytes delivered in order and not yet taken: *p points into the endpoint,
 * valid until the next call on it. */
size_t saf_cont_readable(const saf_cont *c, const uint8_t **p);
/* Takes n of them (n <= saf_cont_readable). */
void saf_cont_consume(saf_cont *c, size_t n);
/* The peer ended its stream and every byte of it was taken. */
bool saf_cont_read_eof(const saf_cont *c);
/* Both directions ended: our FIN and every byte before it acknowledged,
 * and the peer's stream read to its end. Close the connection then. */
bool saf_cont_done(const saf_cont *c);

/* -- transport side -- */

/* A new connection carries the stream from now on. The first connection of
 * a stream starts with resume = false; every later one with resume = true:
 * both sides then send RESUME first, and each retransmits what the other's
 * RESUME says it lacks. Whatever was half-received on the old connection
 * is dropped (the peer sends it again). */
void saf_cont_attach(saf_cont *c, bool resume);

/* Appends the next frames to send to out (up to cap bytes, whole frames
 * only) and returns the byte count; 0 when there is nothing to send now.
 * Call again until it returns 0. */
size_t saf_cont_output(saf_cont *c, uint8_t *out, size_t cap);

/* Takes bytes read from the connection. Sets *used to what it consumed: it
 * stops early while delivered bytes wait for the application
 * (saf_cont_readable), so call again with the rest after consuming.
 * Delivered bytes may point into `in` (no copy): keep those bytes as they
 * are until saf_cont_readable returns 0.
 * Returns -1 when the peer broke the protocol or reset the stream (err
 * says which; the stream is then dead: saf_cont_failed). */
SAF_MUST_CHECK int saf_cont_input(saf_cont *c, const uint8_t *in, size_t n,
				  size_t *used, saf_error *err);

/* The connection has nothing more to read now (SSL_read wanted more):
 * acknowledgements are then sent for smaller batches, so a sender whose
 * buffer is full is never left waiting. Without it, acknowledgements go
 * every SAF_CONT_ACK_BYTES and at the end of the stream. */
void saf_cont_input_idle(saf_cont *c);

/* After saf_cont_input failed: the reset code to send to the peer, or 0
 * when the peer reset the stream itself (nothing to send). */
unsigned saf_cont_failed(const saf_cont *c);

/* After saf_cont_input failed because the peer sent RESET: its code
 * (saf_cont_reset; a code this side does not know is returned as is), or
 * 0 when the peer sent none. SAF_CONT_RESET_UNKNOWN_SESSION is the node's
 * refusal of a stream it does not have: coming back again cannot help. */
unsigned saf_cont_peer_reset(const saf_cont *c);

/* Waiting for the peer's RESUME: application bytes are held back. */
bool saf_cont_resuming(const saf_cont *c);

typedef struct saf_cont_stats {
	uint64_t written;	/* application bytes taken */
	uint64_t acked;		/* of those, acknowledged by the peer */
	uint64_t delivered;	/* peer bytes delivered in order */
	uint64_t retransmitted; /* bytes sent again after a resume */
	uint64_t duplicates;	/* received bytes dropped as already had */
	uint64_t resumes;	/* connections after the first */
	size_t send_capacity;
} saf_cont_stats;
void saf_cont_stats_get(const saf_cont *c, saf_cont_stats *out);

#endif /* SAF_CONT_H */
