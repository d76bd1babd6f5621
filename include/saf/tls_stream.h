/* SPDX-License-Identifier: MIT */
/*
 * Continuity, client side: saf_tls_stream (docs/continuity.md).
 * Part of saf/tls.h, which includes it.
 */
#ifndef SAF_TLS_STREAM_H
#define SAF_TLS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poll.h>

#include <openssl/ssl.h>

#include "saf/addr.h"
#include "saf/cont.h"
#include "saf/constants.h"
#include "saf/error.h"
#include "saf/policy.h"
#include "saf/replay.h"
#include "saf/tlsext.h"
#include "saf/token_crypto.h"
#include "saf/tls_client.h"

/* ---- continuity: the client's stream (docs/continuity.md) --------------- */

/* A byte stream to the service that outlives its TLS connections: it
 * starts on the connection to S at once, moves to the node's unicast
 * address when the token arrives (and again on migrate_notify, either
 * form), and after a broken connection comes back to that address with
 * the newest token, a bounded number of times in a row. Nothing written
 * is lost or duplicated while the node keeps the stream.
 *
 * Nothing blocks: the next connection (TCP connect and the resumption
 * handshake, within the connect options' timeouts) is made in the
 * background while data flows on the current one; the application waits
 * only for the RESUME exchange after the switch. */
typedef struct saf_tls_stream saf_tls_stream;

typedef struct saf_tls_stream_opts {
	saf_tls_connect_opts conn;
	size_t send_buffer; /* 0: SAF_CONT_SEND_DEFAULT */
	/* tries to come back in a row; 0: SAF_CONT_COMEBACK_TRIES_DEFAULT */
	unsigned max_attempts;
	/* first pause between them, doubling; 0:
	 * SAF_CONT_COMEBACK_BACKOFF_MS_DEFAULT */
	unsigned backoff_ms;
	/* Liveness: a connection on which the node answers nothing (no
	 * keepalive answered, data unacknowledged) for this many seconds is
	 * broken, and the comeback starts; 0: SAF_CONT_LIVENESS_S_DEFAULT,
	 * at most SAF_CONT_LIVENESS_S_MAX. no_liveness: never (a silent node
	 * is then noticed only when TCP gives up on unacknowledged data). */
	unsigned liveness_s;
	bool no_liveness;
} saf_tls_stream_opts;

/* Takes over conn (from saf_tls_connect, outcome SAF_TLS_ON_S_CONTINUITY)
 * and starts the stream on it. conn is left empty. */
saf_tls_stream *saf_tls_stream_new(SSL_CTX *ctx,
				   const saf_tls_stream_opts *opts,
				   saf_tls_conn *conn, saf_error *err);
/* Closes the connection (close_notify) and frees everything. */
void saf_tls_stream_free(saf_tls_stream *s);

/* What to poll: the current connection and, while a move or comeback is
 * under way, the next one (1 or 2 entries, 0 while waiting to try again).
 * Then wait at most saf_tls_stream_timeout_ms (-1: no deadline). */
int saf_tls_stream_pollfds(const saf_tls_stream *s, struct pollfd out[2]);
int saf_tls_stream_timeout_ms(const saf_tls_stream *s);

/* Moves what can move: reads frames, sends frames, acts on tokens, notify
 * and breakage. Call after poll says the fd is ready, after writing or
 * reading, and at least once a second. Returns -1 when the stream is lost:
 * err says why in one line starting "stream lost: " and naming the node,
 * saf_tls_stream_lost which case it is. A lost stream is over: every
 * byte read before is a correct prefix of the node's stream, and no more
 * will come. */
SAF_MUST_CHECK int saf_tls_stream_step(saf_tls_stream *s, saf_error *err);

/* Why a stream was lost. The time it takes is bounded: a refusal ends it
 * at once; coming back is tried max_attempts times, each within the
 * connect and handshake timeouts, with the pauses between. */
typedef enum saf_tls_stream_loss {
	SAF_TLS_STREAM_NOT_LOST = 0,
	/* The node answered RESET unknown_session: it has no such stream
	 * (its process restarted, or it ended the stream after its linger
	 * time). Not retried: no other try can find it. */
	SAF_TLS_STREAM_UNKNOWN,
	/* The node refused every token left (an alert, no resumption, or
	 * no continuity), as a node restarted with other keys does. */
	SAF_TLS_STREAM_REFUSED,
	/* max_attempts tries in a row to come back failed (no connection,
	 * or no handshake in time): the node is gone, or the path to it. */
	SAF_TLS_STREAM_UNREACHABLE,
	/* The connection broke before any token arrived: no way back. */
	SAF_TLS_STREAM_NO_TOKEN,
	/* The node reset the stream for another reason (aborted: e.g. its
	 * backend failed, or it is full; protocol_violation). */
	SAF_TLS_STREAM_RESET,
	/* The node broke the continuity protocol: this side reset it. */
	SAF_TLS_STREAM_VIOLATION,
	/* A local failure (memory, OpenSSL). */
	SAF_TLS_STREAM_LOCAL,
} saf_tls_stream_loss;
saf_tls_stream_loss saf_tls_stream_lost(const saf_tls_stream *s);
/* "unknown_stream", "refused", "unreachable", ... ("not_lost"). */
const char *saf_tls_stream_loss_name(saf_tls_stream_loss l);

/* Application side, non-blocking: write takes what fits in the send buffer
 * (0: full, wait for the peer's acknowledgements), read copies what was
 * delivered in order. */
size_t saf_tls_stream_write(saf_tls_stream *s, const uint8_t *p, size_t n);
size_t saf_tls_stream_read(saf_tls_stream *s, uint8_t *p, size_t n);
/* Ends our side after what was written. */
void saf_tls_stream_shutdown(saf_tls_stream *s);
/* The node ended its side and everything was read. */
bool saf_tls_stream_eof(const saf_tls_stream *s);
/* Both sides ended and everything was acknowledged. */
bool saf_tls_stream_done(const saf_tls_stream *s);

typedef struct saf_tls_stream_stats {
	uint64_t moves;	     /* planned: to the target, on notify */
	uint64_t reconnects; /* after a broken connection */
	/* of those, with the early credential (no token had come yet) */
	uint64_t reattaches;
	uint64_t move_failures;
	uint64_t last_stall_us, max_stall_us; /* move start to peer RESUME */
	saf_addr peer;			      /* where the stream is now */
	saf_cont_stats cont;
} saf_tls_stream_stats;
void saf_tls_stream_stats_get(const saf_tls_stream *s,
			      saf_tls_stream_stats *out);

#endif /* SAF_TLS_STREAM_H */
