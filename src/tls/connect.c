/* SPDX-License-Identifier: MIT */
/*
 * The client's seed procedure (SPEC 3.4 steps 1, 3, 5) and acting on
 * migrate_notify (3.5), with bounded waits and fallbacks to S.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "saf/clock.h"
#include "saf/sock.h"
#include "tls_internal.h"

const char *saf_tls_outcome_name(saf_tls_outcome o)
{
	switch (o) {
	case SAF_TLS_ON_TARGET:
		return "on_target";
	case SAF_TLS_STAYED_NO_TOKEN:
		return "stayed_no_token";
	case SAF_TLS_STAYED_UNREACHABLE:
		return "stayed_unreachable";
	case SAF_TLS_STAYED_REFUSED:
		return "stayed_refused";
	case SAF_TLS_STAYED_NOT_RESUMED:
		return "stayed_not_resumed";
	case SAF_TLS_RETURNED_TO_S:
		return "returned_to_s";
	case SAF_TLS_ON_S_CONTINUITY:
		return "on_s_continuity";
	case SAF_TLS_ON_UNICAST:
		return "on_unicast";
	}
	return "unknown";
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		uint64_t t = saf_clock_mono_ms();
		int n;

		if (t >= deadline)
			return 0;
		n = poll(&p, 1, (int)(deadline - t));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* A TCP connection to `to` within timeout_ms; blocking afterwards. The
 * messages are this module's own (the stream reports them as "last:"). */
static int tcp_connect(const saf_addr *to, unsigned timeout_ms, saf_error *err)
{
	char a[SAF_ADDR_STR_LEN];
	saf_error e;
	int soerr = 0, fd = saf_sock_open(to, SOCK_STREAM, err);

	if (fd < 0)
		return -1;
	if (saf_sock_connect_fd(fd, to, timeout_ms, &soerr, &e)) {
		if (e.code == SAF_E_TIMEOUT)
			saf_fail(err, SAF_E_TIMEOUT,
				 "connect %s: no answer in %u ms",
				 saf_addr_format(to, a), timeout_ms);
		else
			saf_fail(err, SAF_E_SYS, "connect %s: %s",
				 saf_addr_format(to, a), strerror(soerr));
		goto fail;
	}
	/* TLS writes whole records: Nagle would only hold the client's
	 * Finished or first request back by a round trip. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	if (saf_sock_set_nonblock(fd, false, err) == 0)
		return fd;
fail:
	close(fd);
	return -1;
}

static void describe_alert(SSL *ssl, char *buf, size_t cap)
{
	int a = saf_tls_client_alert_received(ssl);
	unsigned long e = ERR_peek_last_error();

	if (a >= 0)
		snprintf(buf, cap, "alert %s (%d)",
			 SSL_alert_desc_string_long(a), a & 0xff);
	else if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "connection closed");
}

void saf_tls_ssl_set_name(SSL *ssl, const char *server_name)
{
	saf_addr ip;

	if (!server_name)
		return;
	/* An address is checked against the certificate's IP SANs and is
	 * not sent as SNI (RFC 6066 allows host names only). */
	if (saf_addr_parse(server_name, false, &ip, NULL) == 0) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name);
	} else {
		SSL_set_tlsext_host_name(ssl, server_name);
		SSL_set1_host(ssl, server_name);
	}
}

/* TLS handshake on a blocking fd, bounded by SO_RCVTIMEO/SO_SNDTIMEO. */
static SSL *tls_handshake(SSL_CTX *ctx, int fd, const saf_tls_connect_opts *o,
			  SSL_SESSION *resume, const saf_tls_offer *offer,
			  saf_error *err)
{
	unsigned ms = o->handshake_timeout_ms ? o->handshake_timeout_ms : 5000;
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (ms % 1000) * 1000};
	char why[120];
	SSL *ssl = SSL_new(ctx);

	if (!ssl) {
		saf_fail(err, SAF_E_NOMEM, "tls: SSL_new failed");
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	SSL_set_fd(ssl, fd);
	saf_tls_ssl_set_name(ssl, o->server_name);
	if (resume && SSL_set_session(ssl, resume) != 1)
		goto fail_msg;
	if (offer && saf_tls_client_present_token(ssl, offer->token,
						  offer->token_len, err))
		goto fail;
	ERR_clear_error();
	if (SSL_connect(ssl) != 1)
		goto fail_msg;
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return ssl;
fail_msg:
	describe_alert(ssl, why, sizeof(why));
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		saf_fail(err, SAF_E_REFUSED, "tls: certificate: %s",
			 X509_verify_cert_error_string(
				 SSL_get_verify_result(ssl)));
	else
		/* No alert: the connection closed or timed out under us, not
		 * a refusal (a caller may try again). */
		saf_fail(err,
			 saf_tls_client_alert_received(ssl) > 0 ? SAF_E_REFUSED
								: SAF_E_SYS,
			 "tls handshake: %s", why);
fail:
	SSL_free(ssl);
	/* The queue is per thread: left behind, it would make SSL_get_error
	 * report SSL_ERROR_SSL for the connection the caller stays on. */
	ERR_clear_error();
	return NULL;
}

/* Waits up to ms for a ticket with a valid token; application data that
 * arrives meanwhile stays buffered in the SSL (peek, never read). */
static bool wait_offer(SSL *ssl, int fd, unsigned ms)
{
	uint64_t deadline = saf_clock_mono_ms() + ms;
	saf_tls_offer o;
	char c;
	bool got = false;

	if (saf_sock_set_nonblock(fd, true, NULL))
		return false;
	while (!got) {
		if (saf_tls_client_offer(ssl, &o)) {
			saf_tls_offer_clear(&o);
			got = true;
			break;
		}
		int n = SSL_peek(ssl, &c, 1);
		if (saf_tls_client_offer(ssl, &o)) {
			/* The ticket was read by this very peek. */
			saf_tls_offer_clear(&o);
			got = true;
			break;
		}
		if (n > 0)
			break; /* data came first: tickets precede it */
		if (saf_tls_client_token_refusal(ssl))
			break; /* a token came and the policy refused it */
		if (n <= 0 && SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ)
			break;
		if (n <= 0 && wait_fd(fd, POLLIN, deadline) <= 0)
			break;
	}
	if (saf_tls_client_offer(ssl, &o)) {
		saf_tls_offer_clear(&o);
		got = true;
	}
	if (saf_sock_set_nonblock(fd, false, NULL))
		return false; /* fcntl failed: as good as no ticket */
	return got;
}

static void close_ssl(SSL *ssl, int fd, bool notify)
{
	if (ssl) {
		if (notify)
			SSL_shutdown(ssl); /* close_notify */
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
}

void saf_tls_conn_close(saf_tls_conn *conn)
{
	close_ssl(conn->ssl, conn->fd, conn->ssl != NULL);
	conn->ssl = NULL;
	conn->fd = -1;
	saf_tls_offer_clear(&conn->offer);
}

/* Takes the current connection's newest offer into conn->offer. */
static void refresh_offer(saf_tls_conn *conn)
{
	saf_tls_offer o;

	if (conn->ssl && saf_tls_client_offer(conn->ssl, &o)) {
		saf_tls_offer_clear(&conn->offer);
		conn->offer = o;
	}
}

/* Steps 3 and 5 for one offer. On success conn moves to the target and
 * the old connection is closed (close_notify when it is alive). */
int saf_tls_conn_migrate(SSL_CTX *ctx, const saf_tls_connect_opts *o,
			 saf_tls_conn *conn, const saf_tls_offer *offer,
			 bool old_alive)
{
	unsigned cto = o->connect_timeout_ms ? o->connect_timeout_ms : 3000;
	char a[SAF_ADDR_STR_LEN];
	saf_error e = {0};
	SSL *ssl;
	int fd;

	saf_addr_format(&offer->target, a);
	/* A token for S itself would open a second connection to S and call
	 * it a migration: refused, the client stays where it is. Compared
	 * normalised: "::ffff:S" is S too. */
	if (saf_addr_same_ip(&offer->target, &conn->anycast) &&
	    saf_addr_same_ip(&conn->peer, &conn->anycast)) {
		conn->outcome = SAF_TLS_STAYED_REFUSED;
		snprintf(conn->why, sizeof(conn->why),
			 "token for %s refused: the anycast address itself", a);
		return -1;
	}
	/* The offer may come from the caller (a stored token): the target
	 * policy is checked again before any connect. */
	if (saf_tls_client_check_target(ctx, &offer->target, "token target",
					&e)) {
		conn->outcome = SAF_TLS_STAYED_REFUSED;
		snprintf(conn->why, sizeof(conn->why), "%s", e.msg);
		return -1;
	}
	fd = tcp_connect(&offer->target, cto, &e);
	if (fd < 0) {
		conn->outcome = SAF_TLS_STAYED_UNREACHABLE;
		snprintf(conn->why, sizeof(conn->why),
			 "target %s unreachable (%s)", a, e.msg);
		return -1;
	}
	ssl = tls_handshake(ctx, fd, o, offer->session, offer, &e);
	if (!ssl && e.code != SAF_E_REFUSED) {
		conn->outcome = SAF_TLS_STAYED_UNREACHABLE;
		snprintf(conn->why, sizeof(conn->why),
			 "node %s did not finish the handshake (%s)", a, e.msg);
		close(fd);
		return -1;
	}
	if (!ssl) {
		conn->outcome = SAF_TLS_STAYED_REFUSED;
		snprintf(conn->why, sizeof(conn->why),
			 "node %s refused the token (%s)", a, e.msg);
		close(fd);
		return -1;
	}
	if (!SSL_session_reused(ssl)) {
		conn->outcome = SAF_TLS_STAYED_NOT_RESUMED;
		snprintf(conn->why, sizeof(conn->why),
			 "node %s did not resume the session", a);
		close_ssl(ssl, fd, true);
		return -1;
	}
	close_ssl(conn->ssl, conn->fd, old_alive);
	conn->ssl = ssl;
	conn->fd = fd;
	conn->peer = offer->target;
	conn->outcome = SAF_TLS_ON_TARGET;
	conn->migrations++;
	snprintf(conn->why, sizeof(conn->why), "migrated to %s", a);
	return 0;
}

/* The TCP and TLS connection to S (with the TCP variant: maybe at U).
 * note gets what the TCP variant did, "" when it was not asked. */
static int connect_s_note(SSL_CTX *ctx, const saf_addr *s,
			  const saf_tls_connect_opts *o, saf_tls_conn *conn,
			  char *note, size_t cap, saf_error *err)
{
	unsigned cto = o->connect_timeout_ms ? o->connect_timeout_ms : 3000;
	/* A client that stays on S (no migration) never uses the variant. */
	bool tcp = o->migrate && o->tcp_variant != SAF_TLS_TCP_OFF;
	saf_addr peer = *s;
	bool via = false;
	int fd = tcp ? saf_tls_tcp_open(ctx, s, o, cto, &peer, &via, note, cap,
					err)
		     : tcp_connect(s, cto, err);
	SSL *ssl;

	if (!tcp)
		note[0] = '\0';
	if (fd < 0)
		return -1;
	ssl = tls_handshake(ctx, fd, o, NULL, NULL, err);
	if (!ssl) {
		close(fd);
		return -1;
	}
	conn->fd = fd;
	conn->ssl = ssl;
	conn->peer = peer;
	conn->via_tcp_advert = via;
	return 0;
}

int saf_tls_connect_s(SSL_CTX *ctx, const saf_addr *s,
		      const saf_tls_connect_opts *o, saf_tls_conn *conn,
		      saf_error *err)
{
	char note[SAF_ERROR_MSG_LEN];

	return connect_s_note(ctx, s, o, conn, note, sizeof(note), err);
}

/* Staying on S without an offer: when a token came and the target policy
 * refused it, say so (the outcome is a refusal, not a missing token). */
static int no_offer_why(saf_tls_conn *conn, const char *s_text)
{
	const char *refusal = saf_tls_client_token_refusal(conn->ssl);

	if (refusal) {
		conn->outcome = SAF_TLS_STAYED_REFUSED;
		snprintf(conn->why, sizeof(conn->why), "on %s: %s", s_text,
			 refusal);
	}
	return 0;
}

/* TLS over saf TCP: the handshake was at U already. The token this
 * connection receives serves only migrate_notify and breaks (a move to its
 * target, U itself, would be no move): no ticket wait, no resumption. */
static int on_unicast(saf_tls_conn *conn, const char *note)
{
	if (saf_tls_continuity(conn->ssl)) {
		conn->outcome = SAF_TLS_ON_S_CONTINUITY;
		snprintf(conn->why, sizeof(conn->why),
			 "%s with continuity: the stream starts there", note);
	} else {
		conn->outcome = SAF_TLS_ON_UNICAST;
		snprintf(conn->why, sizeof(conn->why),
			 "%s: full handshake there, no migration needed", note);
	}
	return 0;
}

/* Appends "; <note>" (what the TCP variant found) to the why line. */
static int add_note(saf_tls_conn *conn, const char *note)
{
	size_t n = strlen(conn->why);

	if (note[0] && n + 2 < sizeof(conn->why))
		snprintf(conn->why + n, sizeof(conn->why) - n, "; %s", note);
	return 0;
}

int saf_tls_connect(SSL_CTX *ctx, const saf_addr *anycast,
		    const saf_tls_connect_opts *o, saf_tls_conn *conn,
		    saf_error *err)
{
	saf_tls_offer offer;
	char a[SAF_ADDR_STR_LEN], tcp_note[SAF_ERROR_MSG_LEN];

	memset(conn, 0, sizeof(*conn));
	conn->fd = -1;
	conn->anycast = *anycast;
	/* tcp_note: what the TCP variant found (or ""), said after the
	 * seed procedure's own outcome. */
	if (connect_s_note(ctx, anycast, o, conn, tcp_note, sizeof(tcp_note),
			   err))
		return -1;
	if (conn->via_tcp_advert)
		return on_unicast(conn, tcp_note);
	if (o->migrate && saf_tls_continuity(conn->ssl)) {
		conn->outcome = SAF_TLS_ON_S_CONTINUITY;
		snprintf(conn->why, sizeof(conn->why),
			 "on %s with continuity: moves underneath",
			 saf_addr_format(anycast, a));
		return add_note(conn, tcp_note);
	}
	conn->outcome = SAF_TLS_STAYED_NO_TOKEN;
	snprintf(conn->why, sizeof(conn->why), "on %s: %s",
		 saf_addr_format(anycast, a),
		 o->migrate ? "no migration token received" : "migration off");
	if (!o->migrate ||
	    !wait_offer(conn->ssl, conn->fd,
			o->ticket_wait_ms ? o->ticket_wait_ms : 1000) ||
	    !saf_tls_client_offer(conn->ssl, &offer)) {
		no_offer_why(conn, a);
		return add_note(conn, tcp_note);
	}
	if (saf_tls_conn_migrate(ctx, o, conn, &offer, true))
		refresh_offer(conn); /* stayed on S: keep its token */
	saf_tls_offer_clear(&offer);
	return add_note(conn, tcp_note);
}

int saf_tls_conn_follow_notify(SSL_CTX *ctx, const saf_tls_connect_opts *o,
			       saf_tls_conn *conn, saf_error *err)
{
	int form = saf_tls_client_notified(conn->ssl);
	bool alive = form != 2;
	uint64_t now = (uint64_t)time(NULL);
	char note[SAF_ERROR_MSG_LEN];
	saf_tls_offer offer;
	int rc = -1;

	refresh_offer(conn);
	if (conn->offer.session && conn->offer.expiry > now) {
		offer = conn->offer;
		/* Single use: the stored session must survive this try. */
		offer.session = SSL_SESSION_dup(conn->offer.session);
		rc = offer.session ? saf_tls_conn_migrate(ctx, o, conn, &offer, alive)
				   : -1;
		saf_tls_offer_clear(&offer);
		if (rc == 0)
			saf_tls_offer_clear(&conn->offer); /* redeemed */
	} else {
		conn->outcome = SAF_TLS_STAYED_NO_TOKEN;
		snprintf(conn->why, sizeof(conn->why),
			 "migrate_notify without a valid token");
	}
	if (rc == 0)
		return 0;
	if (alive) {
		/* Acted upon: staying here until the node asks again. */
		saf_tls_base *base = saf_tls_base_of(conn->ssl);
		saf_tls_state *st =
			base ? saf_tls_state_peek(conn->ssl, base) : NULL;

		if (st)
			st->notified = 0;
		return 0;
	}
	/* The old connection is gone and the target failed: back to S. */
	close_ssl(conn->ssl, conn->fd, false);
	conn->ssl = NULL;
	conn->fd = -1;
	if (connect_s_note(ctx, &conn->anycast, o, conn, note, sizeof(note),
			   err))
		return -1;
	conn->outcome = SAF_TLS_RETURNED_TO_S;
	snprintf(conn->why + strlen(conn->why),
		 sizeof(conn->why) - strlen(conn->why), "; returned to S");
	return add_note(conn, note);
}
