/* SPDX-License-Identifier: MIT */
/*
 * The client's continuity stream, its next connection (stream.c is the
 * rest): the tokens and the early credential it holds for the way back,
 * and one try to reach the node with one of them, in the background while
 * the current connection (if any) still carries the stream: TCP connect,
 * the handshake (a resumption presenting a token, or a full handshake
 * with the credential followed by REATTACH), then the switch.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
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

/* Records why a try to reach the next connection failed, and what the
 * stream's loss would be if it was the last one; returns `how`. The
 * node's address is not in it: the final message names it. */
int saf_tls_stream_try_failed(saf_tls_stream *s, int how,
			      saf_tls_stream_loss loss, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->why_loss = loss;
	return how;
}

/* A new connection carries the stream: everything buffered for or from
 * the old one is dropped; the RESUME exchange resends what is missing. */
void saf_tls_stream_on_new_connection(saf_tls_stream *s, bool resume)
{
	if (saf_sock_set_nonblock(s->conn.fd, true, NULL)) {
		/* best effort: a broken fd shows at the first SSL call */
	}
	/* Best effort: only a TCP socket takes it (tests run the stream over
	 * other sockets too). */
	if (!s->opts.no_liveness)
		(void)saf_tls_liveness_set(s->conn.fd, s->opts.liveness_s);
	saf_tls_cont_pump_reset(&s->io);
	saf_cont_attach(s->cont, resume);
	s->st.peer = s->conn.peer;
}

void saf_tls_stream_capture_cred(saf_tls_stream *s, SSL *ssl, bool confirmed)
{
	saf_reattach_cred c;
	uint8_t key[SAF_REATTACH_KEY_LEN];

	s->has_next_cred = false;
	if (!saf_tls_client_reattach_cred(ssl, &c) ||
	    saf_tls_reattach_key(ssl, c.id, key))
		return;
	s->next_cred = c;
	memcpy(s->next_key, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	s->has_next_cred = true;
	if (confirmed)
		saf_tls_stream_confirm_cred(s);
}

void saf_tls_stream_confirm_cred(saf_tls_stream *s)
{
	if (!s->has_next_cred)
		return;
	s->cred = s->next_cred;
	memcpy(s->cred_key, s->next_key, sizeof(s->cred_key));
	OPENSSL_cleanse(s->next_key, sizeof(s->next_key));
	s->has_cred = true;
	s->has_next_cred = false;
}

void saf_tls_stream_pend_abort(saf_tls_stream *s)
{
	if (s->pend.ssl)
		SSL_free(s->pend.ssl);
	if (s->pend.fd >= 0)
		close(s->pend.fd);
	saf_tls_offer_clear(&s->pend.offer);
	OPENSSL_cleanse(&s->pend, sizeof(s->pend));
	s->pend.fd = -1;
	ERR_clear_error();
}

static bool holds_token(const saf_tls_offer *held, const saf_tls_offer *o)
{
	return held->session && held->token_len == o->token_len &&
	       memcmp(held->token, o->token, o->token_len) == 0;
}

/* Takes o (newer than every token held) unless it is one already held or
 * tried: the newest goes to conn.offer, the one it replaces to spare. */
static void take_offer(saf_tls_stream *s, saf_tls_offer *o)
{
	if ((o->token_len == s->tried_len &&
	     memcmp(o->token, s->tried, o->token_len) == 0) ||
	    holds_token(&s->conn.offer, o) || holds_token(&s->spare, o)) {
		saf_tls_offer_clear(o);
		return;
	}
	if (s->conn.offer.session) {
		saf_tls_offer_clear(&s->spare);
		s->spare = s->conn.offer;
	}
	s->conn.offer = *o;
	memset(o, 0, sizeof(*o));
}

/* The newest valid token of the current connection, kept in conn.offer
 * for moving and coming back, and the one before it, the spare. Both
 * tickets of one flight are read at once: the older is taken first so
 * that it ends as the spare, not lost. */
void saf_tls_stream_refresh_offer(saf_tls_stream *s)
{
	saf_tls_offer o;

	if (!s->conn.ssl)
		return;
	if (saf_tls_client_prev_offer(s->conn.ssl, &o))
		take_offer(s, &o);
	if (saf_tls_client_offer(s->conn.ssl, &o))
		take_offer(s, &o);
}

/* Starts the next connection, to target (planned: a move). -1 when the
 * policy refuses the target or the socket cannot even be made. */
static int pend_connect(saf_tls_stream *s, const saf_addr *target, bool planned)
{
	saf_error pe;
	int fd, e = 0;

	s->why_at = *target;
	/* Offers were judged when their token arrived; an offer can also be
	 * seeded by the application, so the policy is asked again before
	 * any connect. */
	if (saf_tls_client_check_target(s->ctx, target, "continuity target",
					&pe))
		return saf_tls_stream_try_failed(s, -1, SAF_TLS_STREAM_REFUSED,
						 "%s", pe.msg);
	fd = saf_sock_open(target, SOCK_STREAM, NULL);
	if (fd < 0)
		e = errno;
	if (fd < 0 || saf_sock_connect_start(fd, target, &e)) {
		if (fd >= 0)
			close(fd);
		return saf_tls_stream_try_failed(s, -1,
						 SAF_TLS_STREAM_UNREACHABLE,
						 "connect: %s", strerror(e));
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	s->pend = (pending){
		.active = true,
		.planned = planned,
		.fd = fd,
		.deadline_us =
			saf_clock_mono_us() +
			(uint64_t)s->opts.conn.connect_timeout_ms * 1000u,
	};
	return 0;
}

/* Starts the next connection with `offer` (taken over). -1 when the
 * socket cannot even be made. */
int saf_tls_stream_pend_start(saf_tls_stream *s, saf_tls_offer *offer,
			      bool planned)
{
	memcpy(s->tried, offer->token, offer->token_len);
	s->tried_len = offer->token_len;
	if (pend_connect(s, &offer->target, planned)) {
		saf_tls_offer_clear(offer);
		return -1;
	}
	s->pend.offer = *offer;
	memset(offer, 0, sizeof(*offer));
	return 0;
}

/* Starts a comeback with the early credential (no token came yet). It
 * stays held until the node confirms the comeback: a try that breaks
 * before the node's RESUME may not have reached it (REATTACH lost on the
 * way), and then the same credential is the way back; if the node did
 * spend it, it answers RESET unknown_session and the stream ends there,
 * loud, rather than a new stream starting in its place. */
int saf_tls_stream_pend_start_cred(saf_tls_stream *s)
{
	if (pend_connect(s, &s->cred.target, false))
		return -1;
	s->pend.reattach = true;
	s->pend.cred = s->cred;
	memcpy(s->pend.key, s->cred_key, sizeof(s->pend.key));
	return 0;
}

/* The new connection is up: the stream switches to it. */
static void pend_switch(saf_tls_stream *s)
{
	char a[SAF_ADDR_STR_LEN];
	saf_token tok;

	if (s->conn.ssl) {
		/* Tickets already in the old connection's socket are read
		 * before it goes: the second ticket of S's handshake is the
		 * stream's spare, the way back should this new connection
		 * break before its own ticket. Data read here is dropped, as
		 * every unread byte of an old connection is (RESUME sends it
		 * again). Non-blocking: stops when nothing more is there. */
		uint8_t drop[4096];

		for (int i = 0; i < 64; i++) {
			ERR_clear_error();
			if (SSL_read(s->conn.ssl, drop, sizeof(drop)) <= 0)
				break;
		}
		saf_tls_stream_refresh_offer(s);
		(void)SSL_shutdown(s->conn.ssl); /* close_notify, best effort */
		SSL_free(s->conn.ssl);
		ERR_clear_error();
	}
	if (s->conn.fd >= 0)
		close(s->conn.fd);
	s->conn.ssl = s->pend.ssl;
	s->conn.fd = s->pend.fd;
	if (s->pend.reattach) {
		s->conn.peer = s->pend.cred.target;
		saf_hex_encode(s->pend.cred.id, SAF_CONT_STREAM_ID_SHOWN,
			       s->sid);
		s->st.reattaches++;
	} else {
		s->conn.peer = s->pend.offer.target;
		if (saf_token_decode(s->pend.offer.token,
				     s->pend.offer.token_len, &tok,
				     NULL) == 0 &&
		    tok.session_id.len >= SAF_CONT_STREAM_ID_SHOWN)
			saf_hex_encode(tok.session_id.base,
				       SAF_CONT_STREAM_ID_SHOWN, s->sid);
	}
	s->conn.outcome = SAF_TLS_ON_TARGET;
	s->conn.migrations++;
	snprintf(s->conn.why, sizeof(s->conn.why), "on %s",
		 saf_addr_format(&s->conn.peer, a));
	if (s->pend.planned)
		s->st.moves++;
	else
		s->st.reconnects++;
	if (!s->stall_from_us)
		s->stall_from_us = saf_clock_mono_us();
	s->pend.ssl = NULL;
	s->pend.fd = -1;
	saf_tls_stream_pend_abort(s);
	saf_tls_offer_clear(&s->retry_offer);
	saf_tls_stream_capture_cred(s, s->conn.ssl, false);
	saf_tls_stream_on_new_connection(s, true);
}

/* The comeback's handshake with the credential is done: the proof bound
 * to this connection, as its first frame (before RESUME), then the
 * switch. PEND_DONE, or PEND_FATAL when the node cannot take it. */
static int pend_reattach(saf_tls_stream *s)
{
	uint8_t body[SAF_REATTACH_FRAME_BODY];
	saf_reattach_cred fresh;
	saf_cont_frame f = {.type = SAF_CONT_REATTACH,
			    .data = body,
			    .data_len = sizeof(body)};
	size_t n;

	if (!saf_tls_continuity(s->pend.ssl))
		return saf_tls_stream_try_failed(
			s, PEND_FATAL, SAF_TLS_STREAM_REFUSED,
			"did not negotiate continuity");
	/* Its answer to the extension: a node that has none would take
	 * this connection for a new stream. */
	if (!saf_tls_client_reattach_cred(s->pend.ssl, &fresh))
		return saf_tls_stream_try_failed(
			s, PEND_FATAL, SAF_TLS_STREAM_REFUSED,
			"does not take early credentials (no "
			"reattach in its EncryptedExtensions)");
	memcpy(body, s->pend.cred.id, SAF_REATTACH_ID_LEN);
	if (saf_tls_reattach_proof(s->pend.ssl, s->pend.cred.id, s->pend.key,
				   body + SAF_REATTACH_ID_LEN))
		return saf_tls_stream_try_failed(
			s, PEND_FATAL, SAF_TLS_STREAM_LOCAL,
			"could not be tried: no proof for the "
			"credential");
	pend_switch(s);
	n = saf_cont_frame_encode(&f, s->io.out, sizeof(s->io.out));
	s->io.out_off = 0;
	s->io.out_len = n;
	OPENSSL_cleanse(body, sizeof(body));
	return PEND_DONE;
}

/* Drives the next connection one step. */
int saf_tls_stream_pend_drive(saf_tls_stream *s)
{
	pending *p = &s->pend;
	int r, e, alert;

	if (saf_clock_mono_us() > p->deadline_us)
		return saf_tls_stream_try_failed(s, PEND_RETRY,
						 SAF_TLS_STREAM_UNREACHABLE,
						 "no answer in time");
	if (!p->ssl) {
		int soerr, c = saf_sock_connect_result(p->fd, &soerr);

		if (c == 0)
			return PEND_BUSY;
		if (c < 0)
			return saf_tls_stream_try_failed(
				s, PEND_RETRY, SAF_TLS_STREAM_UNREACHABLE,
				"connect: %s", strerror(soerr));
		p->ssl = SSL_new(s->ctx);
		if (!p->ssl)
			return saf_tls_stream_try_failed(
				s, PEND_FATAL, SAF_TLS_STREAM_LOCAL,
				"could not be tried: SSL_new failed");
		SSL_set_fd(p->ssl, p->fd);
		saf_tls_ssl_set_name(p->ssl, s->opts.conn.server_name);
		if (p->reattach
			    ? saf_tls_client_present_reattach(p->ssl) != 0
			    : (SSL_set_session(p->ssl, p->offer.session) != 1 ||
			       saf_tls_client_present_token(
				       p->ssl, p->offer.token,
				       p->offer.token_len, NULL)))
			return saf_tls_stream_try_failed(
				s, PEND_FATAL, SAF_TLS_STREAM_LOCAL,
				"could not be tried: the resumption "
				"cannot be set up");
		p->deadline_us =
			saf_clock_mono_us() +
			(uint64_t)s->opts.conn.handshake_timeout_ms * 1000u;
	}
	ERR_clear_error();
	r = SSL_connect(p->ssl);
	if (r == 1 && p->reattach)
		return pend_reattach(s);
	if (r == 1) {
		if (!SSL_session_reused(p->ssl))
			return saf_tls_stream_try_failed(
				s, PEND_REFUSED, SAF_TLS_STREAM_REFUSED,
				"did not resume the session");
		if (!saf_tls_continuity(p->ssl))
			return saf_tls_stream_try_failed(
				s, PEND_FATAL, SAF_TLS_STREAM_REFUSED,
				"did not negotiate continuity");
		pend_switch(s);
		return PEND_DONE;
	}
	e = SSL_get_error(p->ssl, r);
	p->want_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return PEND_BUSY;
	alert = saf_tls_client_alert_received(p->ssl);
	if (alert > 0)
		return saf_tls_stream_try_failed(
			s, PEND_REFUSED, SAF_TLS_STREAM_REFUSED,
			"refused the %s (alert %s)",
			p->reattach ? "handshake" : "token",
			SSL_alert_desc_string_long(alert));
	return saf_tls_stream_try_failed(s, PEND_RETRY,
					 SAF_TLS_STREAM_UNREACHABLE,
					 "did not finish the handshake");
}
