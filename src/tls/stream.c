/* SPDX-License-Identifier: MIT */
/*
 * The client's continuity stream (docs/continuity.md): a saf_cont endpoint
 * carried by one TLS connection at a time. Data moves without blocking;
 * moving to the node's unicast address (token, migrate_notify) and coming
 * back after a break are single bounded steps built on the seed
 * procedure's migration (connect.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls_internal.h"

#define IO_BUF (2u * SAF_CONT_FRAME_MAX)

struct saf_tls_stream {
	SSL_CTX *ctx;
	saf_tls_stream_opts opts;
	saf_tls_conn conn; /* conn.ssl NULL while broken */
	saf_cont *cont;
	/* bytes read from TLS, not yet taken by the engine */
	uint8_t in[SAF_CONT_FRAME_MAX];
	size_t in_off, in_len;
	/* frames handed to SSL_write (kept until it takes them) */
	uint8_t out[IO_BUF];
	size_t out_off, out_len;
	bool want_write;
	bool peer_closed; /* close_notify after the stream was done */
	uint64_t move_started_us;
	/* the token of the last move tried: never tried twice */
	uint8_t tried[SAF_TOKEN_MAX_LEN];
	size_t tried_len;
	/* the token before the newest, never presented: a way back when the
	 * newest was spent on a move that a break then cut short */
	saf_tls_offer spare;
	saf_tls_stream_stats st;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* A new connection carries the stream: everything buffered for or from
 * the old one is dropped; the RESUME exchange resends what is missing. */
static void on_new_connection(saf_tls_stream *s, bool resume)
{
	set_nonblock(s->conn.fd);
	s->in_off = s->in_len = 0;
	s->out_off = s->out_len = 0;
	s->want_write = false;
	saf_cont_attach(s->cont, resume);
	s->st.peer = s->conn.peer;
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
		s->opts.max_attempts = 5;
	if (!s->opts.backoff_ms)
		s->opts.backoff_ms = 50;
	s->opts.conn.migrate = true;
	s->conn = *conn;
	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
	on_new_connection(s, false);
	return s;
}

void saf_tls_stream_free(saf_tls_stream *s)
{
	if (!s)
		return;
	saf_tls_conn_close(&s->conn);
	saf_tls_offer_clear(&s->spare);
	saf_cont_free(s->cont);
	free(s);
}

int saf_tls_stream_fd(const saf_tls_stream *s)
{
	return s->conn.ssl ? s->conn.fd : -1;
}

short saf_tls_stream_events(const saf_tls_stream *s)
{
	return (short)(POLLIN | (s->want_write ? POLLOUT : 0));
}

/* The newest valid token of the current connection, kept in conn.offer
 * for coming back after a break. */
static void refresh_offer(saf_tls_stream *s)
{
	saf_tls_offer o;

	if (!s->conn.ssl || !saf_tls_client_offer(s->conn.ssl, &o))
		return;
	if (o.token_len == s->tried_len &&
	    memcmp(o.token, s->tried, o.token_len) == 0) {
		saf_tls_offer_clear(&o);
		return;
	}
	if (s->conn.offer.session) {
		saf_tls_offer_clear(&s->spare);
		s->spare = s->conn.offer;
	} else {
		saf_tls_offer_clear(&s->conn.offer);
	}
	s->conn.offer = o;
}

/* Tries conn.offer once (the offer is used up either way: its nonce may
 * be redeemed even when the handshake fails). 0 on success. */
static int move_once(saf_tls_stream *s, bool old_alive)
{
	saf_tls_offer offer = s->conn.offer;
	int rc;

	memset(&s->conn.offer, 0, sizeof(s->conn.offer));
	if (!offer.session)
		return -1;
	memcpy(s->tried, offer.token, offer.token_len);
	s->tried_len = offer.token_len;
	s->move_started_us = now_us();
	rc = saf_tls_conn_migrate(s->ctx, &s->opts.conn, &s->conn, &offer,
				  old_alive);
	saf_tls_offer_clear(&offer);
	if (rc)
		return -1;
	if (!saf_tls_continuity(s->conn.ssl)) {
		/* The node resumed us but will not carry the stream. */
		snprintf(s->conn.why, sizeof(s->conn.why),
			 "node at the target did not negotiate continuity");
		saf_tls_conn_close(&s->conn);
		return -2;
	}
	on_new_connection(s, true);
	return 0;
}

/* A planned move (token on S, or migrate_notify ticket form): on failure
 * the stream stays where it is. */
static void planned_move(saf_tls_stream *s)
{
	if (move_once(s, true) == 0)
		s->st.moves++;
	else
		s->st.move_failures++;
}

/* The connection broke: back to the node's unicast address with the
 * newest token, a bounded number of tries. */
static int recover(saf_tls_stream *s, saf_error *err)
{
	unsigned pause = s->opts.backoff_ms;

	refresh_offer(s);
	if (s->conn.ssl) {
		SSL_free(s->conn.ssl);
		s->conn.ssl = NULL;
		ERR_clear_error();
	}
	if (s->conn.fd >= 0) {
		close(s->conn.fd);
		s->conn.fd = -1;
	}
	for (unsigned i = 0; i < s->opts.max_attempts; i++) {
		saf_tls_offer keep = {0};
		int rc;

		if (!s->conn.offer.session && s->spare.session) {
			s->conn.offer = s->spare;
			memset(&s->spare, 0, sizeof(s->spare));
		}
		if (!s->conn.offer.session)
			return saf_fail(err, SAF_E_REFUSED,
					"stream lost: connection broke and "
					"no token to come back with");
		/* A connect that never reached the node leaves the token
		 * unredeemed: keep a copy to try again. */
		keep = s->conn.offer;
		keep.session = SSL_SESSION_dup(s->conn.offer.session);
		rc = move_once(s, false);
		if (rc == 0) {
			saf_tls_offer_clear(&keep);
			s->st.reconnects++;
			return 0;
		}
		if (rc != -2 && s->conn.outcome != SAF_TLS_STAYED_UNREACHABLE &&
		    s->spare.session) {
			saf_tls_offer_clear(&keep); /* spent: try the spare */
			continue;
		}
		if (rc == -2 || s->conn.outcome != SAF_TLS_STAYED_UNREACHABLE) {
			saf_tls_offer_clear(&keep);
			return saf_fail(err, SAF_E_REFUSED, "stream lost: %s",
					s->conn.why);
		}
		s->conn.offer = keep;
		usleep(pause * 1000u);
		pause *= 2;
	}
	return saf_fail(err, SAF_E_TIMEOUT,
			"stream lost: %u tries to come back failed: %s",
			s->opts.max_attempts, s->conn.why);
}

/* Reads what TLS has into s->in (one record at most). 1 read, 0 nothing
 * now, -1 the connection is gone (broken, reset, alert, or closed by the
 * node before the stream ended). */
static int tls_read(saf_tls_stream *s)
{
	int r, e;

	if (s->in_len)
		return 0;
	ERR_clear_error();
	r = SSL_read(s->conn.ssl, s->in, sizeof(s->in));
	if (r > 0) {
		s->in_off = 0;
		s->in_len = (size_t)r;
		return 1;
	}
	e = SSL_get_error(s->conn.ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		saf_cont_input_idle(s->cont);
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		s->want_write = true;
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN && saf_cont_done(s->cont)) {
		s->peer_closed = true;
		return 0;
	}
	return -1;
}

static int tls_write(saf_tls_stream *s)
{
	s->want_write = false;
	for (;;) {
		int r, e;

		if (s->out_off == s->out_len) {
			s->out_off = 0;
			s->out_len = saf_cont_output(s->cont, s->out,
						     sizeof(s->out));
			if (!s->out_len)
				return 0;
		}
		ERR_clear_error();
		r = SSL_write(s->conn.ssl, s->out + s->out_off,
			      (int)(s->out_len - s->out_off));
		if (r > 0) {
			s->out_off += (size_t)r;
			continue;
		}
		e = SSL_get_error(s->conn.ssl, r);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			s->want_write = true;
			return 0;
		}
		return -1;
	}
}

/* Feeds buffered input to the engine; a protocol error or a RESET from
 * the node ends the stream (a violation is answered with RESET). */
static int feed(saf_tls_stream *s, saf_error *err)
{
	bool was_resuming = saf_cont_resuming(s->cont);
	size_t used;

	if (!s->in_len)
		return 0;
	if (saf_cont_input(s->cont, s->in + s->in_off, s->in_len, &used, err)) {
		unsigned code = saf_cont_failed(s->cont);
		char why[SAF_ERROR_MSG_LEN];

		if (err) {
			snprintf(why, sizeof(why), "%s", err->msg);
			saf_fail(err, err->code, "stream lost: %s", why);
		}

		if (code) {
			uint8_t b[8];
			saf_cont_frame f = {.type = SAF_CONT_RESET,
					    .code = (uint8_t)code};
			size_t n = saf_cont_frame_encode(&f, b, sizeof(b));

			(void)SSL_write(s->conn.ssl, b, (int)n);
		}
		return -1;
	}
	s->in_off += used;
	s->in_len -= used;
	if (was_resuming && !saf_cont_resuming(s->cont)) {
		uint64_t stall = now_us() - s->move_started_us;

		s->st.last_stall_us = stall;
		if (stall > s->st.max_stall_us)
			s->st.max_stall_us = stall;
	}
	return 0;
}

int saf_tls_stream_step(saf_tls_stream *s, saf_error *err)
{
	for (int round = 0; round < 64; round++) {
		int r;

		if (!s->conn.ssl && recover(s, err))
			return -1;
		if (feed(s, err))
			return -1;
		r = s->in_len ? 0 : tls_read(s);
		if (r < 0 || (r == 0 && saf_tls_client_notified(s->conn.ssl) ==
						2)) {
			if (recover(s, err))
				return -1;
			continue;
		}
		if (feed(s, err))
			return -1;
		/* Tokens: the first one moves us off S; a notify ticket
		 * moves us again; any other is kept for coming back. */
		refresh_offer(s);
		if (s->conn.offer.session &&
		    (saf_tls_client_notified(s->conn.ssl) == 1 ||
		     saf_addr_equal(&s->conn.peer, &s->conn.anycast))) {
			planned_move(s);
			continue;
		}
		if (tls_write(s)) {
			if (recover(s, err))
				return -1;
			continue;
		}
		/* Again only while records keep coming and the engine
		 * takes them (it stops while the application has not read
		 * what was delivered). */
		if (r == 0 || s->in_len)
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
	memcpy(p, q, n);
	saf_cont_consume(s->cont, n);
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
	return saf_cont_done(s->cont) && s->out_off == s->out_len;
}

void saf_tls_stream_stats_get(const saf_tls_stream *s,
			      saf_tls_stream_stats *out)
{
	*out = s->st;
	out->peer = s->conn.peer;
	saf_cont_stats_get(s->cont, &out->cont);
}
