/* SPDX-License-Identifier: MIT */
/*
 * The client's continuity stream, private to its two files: stream.c
 * (the stream: steps, breaks and comebacks, the application's side) and
 * stream_pend.c (the next connection: offers and the early credential
 * held, connecting, the handshake, the switch).
 */
#ifndef SAF_TLS_STREAM_INTERNAL_H
#define SAF_TLS_STREAM_INTERNAL_H

#include "cont_pump.h"
#include "tls_internal.h"

/* The next connection, while it is being made. */
typedef struct pending {
	bool active;
	bool planned; /* a move (the current connection was alive) */
	int fd;
	SSL *ssl;	 /* NULL while TCP connects */
	bool want_write; /* SSL_connect wants POLLOUT */
	saf_tls_offer offer;
	/* a comeback with the early credential instead of a token */
	bool reattach;
	saf_reattach_cred cred;
	uint8_t key[SAF_REATTACH_KEY_LEN];
	uint64_t deadline_us;
} pending;

/* How a try to reach the next connection ended. */
enum {
	PEND_BUSY = 0,
	PEND_DONE = 1,
	PEND_RETRY = -1,
	PEND_REFUSED = -2,
	PEND_FATAL = -3
};

struct saf_tls_stream {
	SSL_CTX *ctx;
	saf_tls_stream_opts opts;
	saf_tls_conn conn; /* conn.ssl NULL while broken */
	saf_cont *cont;
	pending pend;
	/* engine <-> the current connection; io.timed_out: the last
	 * connection broke with ETIMEDOUT, the node said nothing (liveness,
	 * or TCP gave up on unacknowledged data) */
	saf_tls_cont_pump io;
	/* comebacks */
	unsigned attempts;	   /* tries in a row, until the node's RESUME */
	uint64_t retry_at_us;	   /* next try, 0: now */
	saf_tls_offer retry_offer; /* a token that may still be unredeemed */
	saf_tls_offer spare; /* the token before the newest, never shown */
	/* the early credential of the newest connection the node confirmed
	 * (its RESUME came; the first connection at once), with its key
	 * from that handshake: the way back before any token came. A newer
	 * connection's waits in next_* until the node confirms it: before
	 * that, the node may not know which stream it is for. */
	bool has_cred, has_next_cred;
	saf_reattach_cred cred, next_cred;
	uint8_t cred_key[SAF_REATTACH_KEY_LEN], next_key[SAF_REATTACH_KEY_LEN];
	/* the token of the last move tried: never tried twice */
	uint8_t tried[SAF_TOKEN_MAX_LEN];
	size_t tried_len;
	uint64_t stall_from_us; /* since when the application waits */
	uint64_t broken_us;	/* since when no connection carries it */
	/* the last failed try: why, and what it means if it is the end */
	char why[SAF_ERROR_MSG_LEN];
	saf_tls_stream_loss why_loss;
	saf_addr why_at;
	/* the stream as the node knows it on this connection: the first
	 * bytes of the session_id of the token it was reached with */
	char sid[2u * SAF_CONT_STREAM_ID_SHOWN + 1u];
	saf_tls_stream_loss lost;
	saf_tls_stream_stats st;
};

/* Records why a try to reach the next connection failed, and what the
 * stream's loss would be if it was the last one; returns `how`. The
 * node's address is not in it: the final message names it. */
int saf_tls_stream_try_failed(saf_tls_stream *s, int how,
			      saf_tls_stream_loss loss, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A new connection (s->conn) carries the stream. */
void saf_tls_stream_on_new_connection(saf_tls_stream *s, bool resume);
/* Keeps the early credential of ssl's handshake, if the node sent one:
 * as the one held (confirmed: the stream's first connection), else as the
 * next one, taken by saf_tls_stream_confirm_cred. */
void saf_tls_stream_capture_cred(saf_tls_stream *s, SSL *ssl, bool confirmed);
/* The node's RESUME came on the current connection: its credential
 * replaces the one held. */
void saf_tls_stream_confirm_cred(saf_tls_stream *s);
/* Drops the next connection, if any. */
void saf_tls_stream_pend_abort(saf_tls_stream *s);
/* Takes the current connection's newest tokens into the stream. */
void saf_tls_stream_refresh_offer(saf_tls_stream *s);
/* Starts the next connection with offer (taken over; planned: a move) or
 * with the early credential. -1 when it cannot even start (s->why). */
int saf_tls_stream_pend_start(saf_tls_stream *s, saf_tls_offer *offer,
			      bool planned);
int saf_tls_stream_pend_start_cred(saf_tls_stream *s);
/* Drives the next connection one step: PEND_BUSY, PEND_DONE (the stream
 * switched to it), or how the try failed. */
int saf_tls_stream_pend_drive(saf_tls_stream *s);

#endif /* SAF_TLS_STREAM_INTERNAL_H */
