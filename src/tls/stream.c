/* SPDX-License-Identifier: MIT */
/*
 * The client's continuity stream (docs/continuity.md): a saf_cont endpoint
 * carried by one TLS connection at a time.
 *
 * Nothing blocks. A move (the first token while on S, a migrate_notify
 * ticket) opens the next connection in the background: TCP connect and
 * the resumption handshake presenting the token run while data still
 * flows on the current one; only when the new connection is up does the
 * stream switch, and the RESUME exchange resends what either side lacks.
 * A broken connection starts the same way back to the node's unicast
 * address (a "comeback"), a bounded number of times in a row.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "saf/clock.h"
#include "saf/hex.h"
#include "saf/sock.h"
#include "saf/token.h"
#include "stream_internal.h"

/* The stream is lost: err gets "stream lost: node A <what>". */
static int lose(saf_tls_stream *s, saf_tls_stream_loss loss,
		const saf_addr *node, saf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int lose(saf_tls_stream *s, saf_tls_stream_loss loss,
		const saf_addr *node, saf_error *err, const char *fmt, ...)
{
	static const saf_errc code[] = {
		[SAF_TLS_STREAM_UNKNOWN] = SAF_E_REFUSED,
		[SAF_TLS_STREAM_REFUSED] = SAF_E_REFUSED,
		[SAF_TLS_STREAM_UNREACHABLE] = SAF_E_TIMEOUT,
		[SAF_TLS_STREAM_NO_TOKEN] = SAF_E_REFUSED,
		[SAF_TLS_STREAM_RESET] = SAF_E_REFUSED,
		[SAF_TLS_STREAM_VIOLATION] = SAF_E_RANGE,
		[SAF_TLS_STREAM_LOCAL] = SAF_E_SYS,
	};
	char what[SAF_ERROR_MSG_LEN], a[SAF_ADDR_STR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	s->lost = loss;
	return saf_fail(err, code[loss], "stream lost: node %s %s",
			saf_addr_format(node, a), what);
}

saf_tls_stream_loss saf_tls_stream_lost(const saf_tls_stream *s)
{
	return s->lost;
}

const char *saf_tls_stream_loss_name(saf_tls_stream_loss l)
{
	switch (l) {
	case SAF_TLS_STREAM_NOT_LOST:
		return "not_lost";
	case SAF_TLS_STREAM_UNKNOWN:
		return "unknown_stream";
	case SAF_TLS_STREAM_REFUSED:
		return "refused";
	case SAF_TLS_STREAM_UNREACHABLE:
		return "unreachable";
	case SAF_TLS_STREAM_NO_TOKEN:
		return "no_token";
	case SAF_TLS_STREAM_RESET:
		return "reset";
	case SAF_TLS_STREAM_VIOLATION:
		return "violation";
	case SAF_TLS_STREAM_LOCAL:
		return "local";
	}
	return "unknown";
}

saf_tls_stream *saf_tls_stream_new(SSL_CTX *ctx,
				   const saf_tls_stream_opts *opts,
				   saf_tls_conn *conn, saf_error *err)
{
	saf_tls_stream *s;

	if (!conn->ssl || !saf_tls_continuity(conn->ssl)) {
		saf_fail(err, SAF_E_INVAL,
			 "stream: the connection did not negotiate continuity");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		saf_fail(err, SAF_E_NOMEM, "stream: out of memory");
		return NULL;
	}
	s->cont = saf_cont_new(opts->send_buffer, err);
	if (!s->cont) {
		free(s);
		return NULL;
	}
	s->ctx = ctx;
	s->opts = *opts;
	if (!s->opts.max_attempts)
		s->opts.max_attempts = SAF_CONT_COMEBACK_TRIES_DEFAULT;
	if (!s->opts.backoff_ms)
		s->opts.backoff_ms = SAF_CONT_COMEBACK_BACKOFF_MS_DEFAULT;
	if (!s->opts.liveness_s)
		s->opts.liveness_s = SAF_CONT_LIVENESS_S_DEFAULT;
	if (s->opts.liveness_s > SAF_CONT_LIVENESS_S_MAX)
		s->opts.liveness_s = SAF_CONT_LIVENESS_S_MAX;
	if (!s->opts.conn.connect_timeout_ms)
		s->opts.conn.connect_timeout_ms = 3000;
	if (!s->opts.conn.handshake_timeout_ms)
		s->opts.conn.handshake_timeout_ms = 5000;
	s->pend.fd = -1;
	s->conn = *conn;
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
	saf_tls_stream_capture_cred(s, s->conn.ssl, true);
	saf_tls_stream_on_new_connection(s, false);
	return s;
}

void saf_tls_stream_free(saf_tls_stream *s)
{
	if (!s)
		return;
	saf_tls_stream_pend_abort(s);
	saf_tls_conn_close(&s->conn);
	saf_tls_offer_clear(&s->spare);
	saf_tls_offer_clear(&s->retry_offer);
	saf_cont_free(s->cont);
	OPENSSL_cleanse(s->cred_key, sizeof(s->cred_key));
	OPENSSL_cleanse(s->next_key, sizeof(s->next_key));
	free(s);
}

int saf_tls_stream_pollfds(const saf_tls_stream *s, struct pollfd out[2])
{
	int n = 0;

	if (s->conn.ssl)
		out[n++] = (struct pollfd){
			.fd = s->conn.fd,
			.events = (short)(POLLIN |
					  (s->io.want_write ? POLLOUT : 0))};
	if (s->pend.active)
		out[n++] = (struct pollfd){
			.fd = s->pend.fd,
			.events = (short)(!s->pend.ssl || s->pend.want_write
						  ? POLLOUT
						  : POLLIN)};
	return n;
}

int saf_tls_stream_timeout_ms(const saf_tls_stream *s)
{
	uint64_t t = saf_clock_mono_us(), at = 0;

	if (s->pend.active)
		at = s->pend.deadline_us;
	else if (!s->conn.ssl && s->retry_at_us)
		at = s->retry_at_us;
	if (!at)
		return -1;
	return at <= t ? 0 : (int)((at - t + 999u) / 1000u);
}

/* The current connection is gone: free it, keep its newest token. */
static void mark_broken(saf_tls_stream *s)
{
	saf_tls_stream_refresh_offer(s);
	/* Never confirmed by the node: its credential may name nothing. */
	s->has_next_cred = false;
	if (s->conn.ssl) {
		SSL_free(s->conn.ssl);
		s->conn.ssl = NULL;
		ERR_clear_error();
	}
	if (s->conn.fd >= 0) {
		close(s->conn.fd);
		s->conn.fd = -1;
	}
	if (!s->stall_from_us)
		s->stall_from_us = saf_clock_mono_us();
	if (!s->broken_us)
		s->broken_us = saf_clock_mono_us();
}

/* "silent for N s, then " when the node's silence broke the connection
 * (the message's reason for the break), else "". */
static const char *silence(const saf_tls_stream *s, char *b, size_t n)
{
	if (!s->io.timed_out)
		b[0] = '\0';
	else if (s->opts.no_liveness)
		snprintf(b, n, "silent until TCP gave up, then ");
	else
		snprintf(b, n, "silent for %u s, then ", s->opts.liveness_s);
	return b;
}

/* A try to come back failed (how: PEND_RETRY, PEND_REFUSED, PEND_FATAL;
 * s->why says why): when to try again, and with which token (`again`, one
 * that may still be unredeemed, taken over); -1 when the stream is lost.
 * A try counts as failed until the node's RESUME arrives: a node that
 * takes the token and then drops every connection ends the stream too. */
static int try_lost(saf_tls_stream *s, int how, saf_tls_offer *again,
		    saf_error *err)
{
	++s->attempts;
	if (how == PEND_FATAL || how == PEND_REFUSED ||
	    s->attempts >= s->opts.max_attempts)
		saf_tls_offer_clear(again);
	if (how == PEND_FATAL)
		return lose(s, s->why_loss, &s->why_at, err, "%s", s->why);
	if (how == PEND_REFUSED &&
	    ((!s->spare.session && !s->conn.offer.session) ||
	     s->attempts >= s->opts.max_attempts))
		return lose(s, SAF_TLS_STREAM_REFUSED, &s->why_at, err,
			    "%s: no token left (node restarted with other "
			    "keys?)",
			    s->why);
	if (s->attempts >= s->opts.max_attempts)
		return lose(s, SAF_TLS_STREAM_UNREACHABLE, &s->why_at, err,
			    "%scould not be reached again: %u tries in %.1f s "
			    "failed (last: %s)",
			    silence(s, (char[64]){0}, 64), s->attempts,
			    (double)(saf_clock_mono_us() - s->broken_us) / 1e6,
			    s->why);
	saf_tls_offer_clear(&s->retry_offer);
	s->retry_offer = *again;
	memset(again, 0, sizeof(*again));
	s->retry_at_us =
		saf_clock_mono_us() +
		((uint64_t)s->opts.backoff_ms * 1000u << (s->attempts - 1u));
	return 0;
}

/* A comeback try ended without a connection. */
static int comeback_failed(saf_tls_stream *s, int how, saf_error *err)
{
	saf_tls_offer again = {0};

	if (how == PEND_RETRY && s->pend.offer.session) {
		/* A connect that never reached the node leaves the token
		 * unredeemed: the same one may serve again. */
		again = s->pend.offer;
		memset(&s->pend.offer, 0, sizeof(s->pend.offer));
	}
	saf_tls_stream_pend_abort(s);
	return try_lost(s, how, &again, err);
}

/* The current connection broke. If it was a move or comeback the node
 * never confirmed with its RESUME, that try failed. */
static int broke(saf_tls_stream *s, saf_error *err)
{
	saf_tls_offer none = {0};
	bool unconfirmed = saf_cont_resuming(s->cont);
	saf_addr at = s->conn.peer;

	mark_broken(s);
	if (!unconfirmed)
		return 0;
	s->why_at = at;
	(void)saf_tls_stream_try_failed(
		s, PEND_RETRY, SAF_TLS_STREAM_UNREACHABLE,
		"closed the connection before its RESUME");
	return try_lost(s, PEND_RETRY, &none, err);
}

/* Broken, nothing pending: start the next comeback when it is time. */
static int comeback(saf_tls_stream *s, saf_error *err)
{
	saf_tls_offer o = {0};

	if (s->retry_at_us && saf_clock_mono_us() < s->retry_at_us)
		return 0;
	s->retry_at_us = 0;
	if (s->retry_offer.session) {
		o = s->retry_offer;
		memset(&s->retry_offer, 0, sizeof(s->retry_offer));
	} else if (s->conn.offer.session) {
		o = s->conn.offer;
		memset(&s->conn.offer, 0, sizeof(s->conn.offer));
	} else if (s->spare.session) {
		o = s->spare;
		memset(&s->spare, 0, sizeof(s->spare));
	} else if (s->has_cred) {
		/* No token came before the break: the credential of the
		 * node's first flight is the way back. */
		if (saf_tls_stream_pend_start_cred(s))
			return comeback_failed(s, PEND_RETRY, err);
		return 0;
	} else {
		return lose(s, SAF_TLS_STREAM_NO_TOKEN, &s->conn.peer, err,
			    "%sbroke the connection before a token came: no "
			    "way back%s%s",
			    silence(s, (char[64]){0}, 64),
			    s->why[0] ? "; last: " : "", s->why);
	}
	if (saf_tls_stream_pend_start(s, &o, false))
		return comeback_failed(s, PEND_RETRY, err);
	return 0;
}

/* Reads what TLS has (one record at most). 1 read, 0 nothing now, -1
 * the connection is gone (broken, reset, alert, or closed by the node
 * before the stream ended). */
static int tls_read(saf_tls_stream *s)
{
	int e, r = saf_tls_cont_pump_read(&s->io, s->conn.ssl, s->cont, &e);

	if (r == 0 && e == SSL_ERROR_WANT_READ &&
	    saf_tls_client_notified(s->conn.ssl) == 2)
		return -1;
	if (r < 0 && e == SSL_ERROR_ZERO_RETURN && saf_cont_done(s->cont))
		return 0;
	return r;
}

/* The engine refused the input or the node reset the stream: which loss
 * it is, in the words of the node's RESET when it sent one. */
static int stream_refused(saf_tls_stream *s, saf_error *err)
{
	unsigned peer = saf_cont_peer_reset(s->cont);
	char why[SAF_ERROR_MSG_LEN];

	snprintf(why, sizeof(why), "%s", err ? err->msg : "");
	if (peer == SAF_CONT_RESET_UNKNOWN_SESSION)
		/* What a node answers a valid token when the stream is not
		 * in its process: it restarted, or ended the stream after
		 * --stream-linger. No other try can find it. */
		return lose(s, SAF_TLS_STREAM_UNKNOWN, &s->conn.peer, err,
			    "no longer knows stream%s%s (unknown_session: "
			    "node restarted, or stream expired there)",
			    s->sid[0] ? " " : "", s->sid);
	if (peer)
		return lose(s, SAF_TLS_STREAM_RESET, &s->conn.peer, err,
			    "reset the stream (%s)", saf_cont_reset_name(peer));
	return lose(s, SAF_TLS_STREAM_VIOLATION, &s->conn.peer, err,
		    "broke the protocol (%s)", why);
}

/* Feeds buffered input to the engine; a protocol error or a RESET from
 * the node ends the stream (a violation is answered with RESET). */
static int feed(saf_tls_stream *s, saf_error *err)
{
	bool was_resuming = saf_cont_resuming(s->cont);
	size_t used;

	if (!s->io.in_len)
		return 0;
	if (saf_tls_cont_pump_feed(&s->io, s->cont, &used, err)) {
		unsigned code = saf_cont_failed(s->cont);

		if (code)
			saf_tls_cont_send_reset(s->conn.ssl, code);
		return stream_refused(s, err);
	}
	if (was_resuming && !saf_cont_resuming(s->cont)) {
		/* The node has the stream: the way back worked, and this
		 * connection's credential names it now. */
		saf_tls_stream_confirm_cred(s);
		s->attempts = 0;
		s->broken_us = 0;
		s->io.timed_out = false;
	}
	if (was_resuming && !saf_cont_resuming(s->cont) && s->stall_from_us) {
		uint64_t stall = saf_clock_mono_us() - s->stall_from_us;

		s->st.last_stall_us = stall;
		if (stall > s->st.max_stall_us)
			s->st.max_stall_us = stall;
		s->stall_from_us = 0;
	}
	return 0;
}

/* A planned move starts when a token arrives while on S, or with a
 * migrate_notify ticket; one at a time. */
static void maybe_move(saf_tls_stream *s)
{
	saf_tls_offer o;

	saf_tls_stream_refresh_offer(s);
	if (s->pend.active || !s->conn.offer.session)
		return;
	if (saf_tls_client_notified(s->conn.ssl) != 1 &&
	    !saf_addr_equal(&s->conn.peer, &s->conn.anycast))
		return;
	o = s->conn.offer;
	memset(&s->conn.offer, 0, sizeof(s->conn.offer));
	/* A token for S itself would only open a second connection to S:
	 * not a move (kept for coming back, where S is as good as any). */
	if (saf_addr_same_ip(&o.target, &s->conn.anycast) &&
	    saf_addr_same_ip(&s->conn.peer, &s->conn.anycast)) {
		memcpy(s->tried, o.token, o.token_len);
		s->tried_len = o.token_len;
		saf_tls_offer_clear(&s->spare);
		s->spare = o;
		s->st.move_failures++;
		return;
	}
	if (saf_tls_stream_pend_start(s, &o, true))
		s->st.move_failures++;
}

int saf_tls_stream_step(saf_tls_stream *s, saf_error *err)
{
	for (int round = 0; round < 64; round++) {
		int r;

		if (s->pend.active) {
			r = saf_tls_stream_pend_drive(s);
			if (r < 0 && s->conn.ssl) {
				/* A move that failed: stay where we are. */
				s->st.move_failures++;
				saf_tls_stream_pend_abort(s);
			} else if (r < 0 && comeback_failed(s, r, err)) {
				return -1;
			}
		}
		if (!s->conn.ssl) {
			if (saf_cont_done(s->cont))
				return 0; /* over: nothing to come back for */
			if (!s->pend.active && comeback(s, err))
				return -1;
			if (!s->conn.ssl)
				return 0; /* waiting for the next connection */
		}
		if (feed(s, err))
			return -1;
		/* s->in is refilled only once the engine holds nothing
		 * delivered from it (it may point there). */
		r = tls_read(s);
		if (r < 0) {
			if (broke(s, err))
				return -1;
			continue;
		}
		if (feed(s, err))
			return -1;
		maybe_move(s);
		s->io.want_write = false;
		if (saf_tls_cont_pump_write(&s->io, s->conn.ssl, s->cont) < 0) {
			if (broke(s, err))
				return -1;
			continue;
		}
		/* Again only while records keep coming and the engine
		 * takes them (it stops while the application has not read
		 * what was delivered). */
		if (r == 0 || s->io.in_len)
			return 0;
	}
	return 0;
}

size_t saf_tls_stream_write(saf_tls_stream *s, const uint8_t *p, size_t n)
{
	return saf_cont_write(s->cont, p, n);
}

size_t saf_tls_stream_read(saf_tls_stream *s, uint8_t *p, size_t n)
{
	const uint8_t *q;
	size_t have = saf_cont_readable(s->cont, &q);

	if (n > have)
		n = have;
	if (n) {
		memcpy(p, q, n);
		saf_cont_consume(s->cont, n);
	}
	return n;
}

void saf_tls_stream_shutdown(saf_tls_stream *s)
{
	saf_cont_close_write(s->cont);
}

bool saf_tls_stream_eof(const saf_tls_stream *s)
{
	return saf_cont_read_eof(s->cont);
}

bool saf_tls_stream_done(const saf_tls_stream *s)
{
	return saf_cont_done(s->cont) &&
	       (saf_tls_cont_pump_flushed(&s->io) || !s->conn.ssl);
}

void saf_tls_stream_stats_get(const saf_tls_stream *s,
			      saf_tls_stream_stats *out)
{
	*out = s->st;
	out->peer = s->conn.peer;
	saf_cont_stats_get(s->cont, &out->cont);
}
