/* SPDX-License-Identifier: MIT */
/*
 * Continuity, the server side (docs/continuity.md): one stream per client,
 * with one backend connection, outliving the client's TLS connections.
 * Each token minted on a stream's connections is remembered by its
 * session_id; a connection that presents one of them (verified by the TLS
 * layer) takes the stream over, the RESUME exchange resends what either
 * side lacks, and the backend never notices. A stream whose connection
 * broke waits a bounded time for the client to come back.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cont_pump.h"
#include "saf/hex.h"
#include "serve_internal.h"
#include "tls_internal.h"

/* The session_ids a stream answers to: the newest few tokens' (a ring). */
#define ALIAS_MAX 8u

typedef struct saf_tls_server_stream {
	bool used;
	uint64_t gen; /* which stream this slot holds (credentials name it) */
	int bfd;
	saf_cont *cont;
	saf_tls_node_conn *conn; /* NULL while the client is away */
	uint8_t alias[ALIAS_MAX][SAF_SESSION_ID_LEN];
	unsigned nalias, alias_next;
	uint64_t away_since, last_token; /* the server's clock, s */
	bool backend_eof, backend_shut;
	saf_tls_cont_pump io; /* engine <-> the client's connection */
} cont_sess;

struct saf_tls_server_streams {
	cont_sess *s;
	unsigned n;
	size_t send_buffer;
	unsigned linger_s;
	uint32_t lifetime_s;
	saf_clock_fn clock;
	void *clock_arg;
	saf_tls_node_stream_counters k;
	saf_tls_node_creds *creds; /* early credentials */
	uint64_t next_gen;
};

typedef saf_tls_server_streams cont_table;

saf_tls_server_streams *
saf_tls_server_streams_new(unsigned max_sessions, size_t send_buffer,
			   unsigned linger_s, uint32_t lifetime_s,
			   saf_clock_fn clock, void *clock_arg, saf_error *err)
{
	cont_table *t;
	saf_cont *probe = saf_cont_new(send_buffer, err);

	if (!probe)
		return NULL; /* the size is refused with its reason */
	saf_cont_free(probe);
	t = calloc(1, sizeof(*t));
	if (t) {
		t->s = calloc(max_sessions, sizeof(*t->s));
		/* Twice the streams: each stream's newest credential, and
		 * as many handshakes that have not finished yet. */
		t->creds = saf_tls_node_creds_new(2u * max_sessions, linger_s,
						  clock, clock_arg);
	}
	if (!t || !t->s || !t->creds) {
		if (t) {
			free(t->s);
			saf_tls_node_creds_free(t->creds);
		}
		free(t);
		saf_fail(err, SAF_E_NOMEM, "continuity: out of memory");
		return NULL;
	}
	t->n = max_sessions;
	t->send_buffer = send_buffer;
	t->linger_s = linger_s;
	t->lifetime_s = lifetime_s;
	t->clock = clock;
	t->clock_arg = clock_arg;
	for (unsigned i = 0; i < t->n; i++)
		t->s[i].bfd = -1;
	return t;
}

static void sess_end(cont_table *t, cont_sess *s)
{
	(void)t;
	if (s->bfd >= 0)
		close(s->bfd);
	saf_cont_free(s->cont);
	if (s->conn)
		s->conn->sess = NULL;
	memset(s, 0, sizeof(*s)); /* gen 0: credentials naming it fail */
	s->bfd = -1;
}

void saf_tls_server_streams_free(saf_tls_server_streams *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->n; i++)
		if (t->s[i].used)
			sess_end(t, &t->s[i]);
	saf_tls_node_creds_free(t->creds);
	free(t->s);
	free(t);
}

static void alias_add(cont_sess *s, const uint8_t sid[SAF_SESSION_ID_LEN])
{
	memcpy(s->alias[s->alias_next], sid, SAF_SESSION_ID_LEN);
	s->alias_next = (s->alias_next + 1u) % ALIAS_MAX;
	if (s->nalias < ALIAS_MAX)
		s->nalias++;
}

static cont_sess *find(cont_table *t, const uint8_t sid[SAF_SESSION_ID_LEN])
{
	for (unsigned i = 0; i < t->n; i++) {
		cont_sess *s = &t->s[i];

		if (!s->used)
			continue;
		for (unsigned j = 0; j < s->nalias; j++)
			if (memcmp(s->alias[j], sid, SAF_SESSION_ID_LEN) == 0)
				return s;
	}
	return NULL;
}

void saf_tls_server_streams_on_token(SSL *ssl,
				     const uint8_t sid[SAF_SESSION_ID_LEN],
				     void *arg)
{
	saf_tls_node_conn *c = SSL_get_app_data(ssl);

	(void)arg;
	if (!c)
		return;
	if (c->sess) {
		alias_add(c->sess, sid);
		return;
	}
	/* The first handshake's tickets come before its stream exists. */
	memcpy(c->minted[c->nminted % SAF_TLS_NODE_MINTED_MAX], sid,
	       SAF_SESSION_ID_LEN);
	c->nminted++;
}

/* A new stream in a free slot, with its backend connection; NULL (a
 * RESET sent) when none is free or the backend fails. */
static cont_sess *open_stream(cont_table *t, saf_tls_node_conn *c,
			      const saf_tls_node_env *env)
{
	saf_error e = {0};
	cont_sess *s = NULL;

	for (unsigned i = 0; i < t->n && !s; i++)
		if (!t->s[i].used)
			s = &t->s[i];
	if (!s) {
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
				  "continuity: all %u streams in use", t->n);
		saf_tls_cont_send_reset(c->ssl, SAF_CONT_RESET_ABORT);
		return NULL;
	}
	s->cont = saf_cont_new(t->send_buffer, &e);
	if (!s->cont)
		return NULL;
	s->bfd = env->backend(env->backend_arg, c->ssl, &e);
	if (s->bfd < 0) {
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_ERROR, "%s", e.msg);
		saf_cont_free(s->cont);
		s->cont = NULL;
		saf_tls_cont_send_reset(c->ssl, SAF_CONT_RESET_ABORT);
		return NULL;
	}
	s->used = true;
	s->gen = ++t->next_gen;
	t->k.opened++;
	return s;
}

/* The stream s did not know the client's way back: the defined refusal,
 * which the client takes as final (docs/continuity.md, "Unknown
 * stream"). Returns -1. */
static int unknown(cont_table *t, saf_tls_node_conn *c,
		   const saf_tls_node_env *env, const char *what,
		   const uint8_t *id)
{
	char hex[2u * SAF_CONT_STREAM_ID_SHOWN + 1u];

	t->k.unknown++;
	saf_hex_encode(id, SAF_CONT_STREAM_ID_SHOWN, hex);
	saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
			  "continuity: %s %s, unknown here (ended, or before a "
			  "restart): RESET unknown_session",
			  what, hex);
	saf_tls_cont_send_reset(c->ssl, SAF_CONT_RESET_UNKNOWN_SESSION);
	return -1;
}

/* c carries s from now on (resume: after the first connection). */
static void bind_conn(cont_table *t, saf_tls_node_conn *c, cont_sess *s,
		      bool resume)
{
	unsigned kept;

	if (resume && s->conn) { /* the old connection may linger: replace */
		s->conn->sess = NULL;
		s->conn->kill = true;
	}
	saf_cont_attach(s->cont, resume);
	s->conn = c;
	c->sess = s;
	s->away_since = 0;
	s->last_token = t->clock(t->clock_arg);
	saf_tls_cont_pump_reset(&s->io);
	kept = c->nminted < SAF_TLS_NODE_MINTED_MAX ? c->nminted
						    : SAF_TLS_NODE_MINTED_MAX;
	for (unsigned i = 0; i < kept; i++)
		alias_add(s, c->minted[i]);
	c->nminted = 0;
	if (c->has_cred)
		saf_tls_node_creds_link(
			t->creds, c->cred_id,
			(saf_tls_cred_link){(unsigned)(s - t->s), s->gen});
}

void saf_tls_server_streams_issue(saf_tls_server_streams *t,
				  saf_tls_node_conn *c)
{
	saf_reattach_cred cred;
	uint8_t key[SAF_REATTACH_KEY_LEN];

	if (c->cred_done)
		return;
	c->cred_done = true;
	if (!saf_tls_server_reattach_issued(c->ssl, &cred) ||
	    saf_tls_reattach_key(c->ssl, cred.id, key))
		return;
	saf_tls_node_creds_issue(
		t->creds, cred.id, key,
		!SSL_session_reused(c->ssl) &&
			!saf_tls_server_reattach_requested(c->ssl));
	OPENSSL_cleanse(key, sizeof(key));
	memcpy(c->cred_id, cred.id, sizeof(c->cred_id));
	c->has_cred = true;
}

int saf_tls_server_stream_attach(saf_tls_server_streams *t,
				 saf_tls_node_conn *c,
				 const saf_tls_node_env *env)
{
	saf_tls_conn_info info;
	cont_sess *s;

	if (saf_tls_server_conn_info(c->ssl, &info))
		return -1;
	if (info.migrated) {
		s = find(t, info.session_id);
		if (!s)
			return unknown(t, c, env, "token for stream",
				       info.session_id);
	} else if (c->has_cred &&
		   saf_tls_node_creds_spent(t->creds, c->cred_id)) {
		/* Its client came back with this handshake's credential
		 * before the handshake finished here: the stream lives on
		 * that connection; this one is a leftover. */
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
				  "continuity: a handshake finished after its "
				  "client had reattached: closed");
		return -1;
	} else if (!(s = open_stream(t, c, env))) {
		return -1;
	}
	if (info.migrated)
		t->k.resumed++;
	bind_conn(t, c, s, info.migrated);
	return saf_tls_server_stream_step(t, c, env);
}

int saf_tls_server_stream_reattach(saf_tls_server_streams *t,
				   saf_tls_node_conn *c,
				   const saf_tls_node_env *env,
				   const uint8_t body[SAF_REATTACH_FRAME_BODY],
				   const uint8_t *rest, size_t rest_len)
{
	char hex[2u * SAF_CONT_STREAM_ID_SHOWN + 1u];
	saf_tls_cred_link link;
	const char *why = "";
	cont_sess *s;

	saf_hex_encode(body, SAF_CONT_STREAM_ID_SHOWN, hex);
	if (!saf_tls_node_creds_take(t->creds, c->ssl, body, &link, &why)) {
		saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
				  "continuity: reattach with credential %s "
				  "refused: %s: RESET unknown_session",
				  hex, why);
		saf_tls_cont_send_reset(c->ssl, SAF_CONT_RESET_UNKNOWN_SESSION);
		return -1;
	}
	if (link.gen) {
		s = link.idx < t->n ? &t->s[link.idx] : NULL;
		if (!s || !s->used || s->gen != link.gen)
			return unknown(t, c, env, "credential for stream",
				       body);
		t->k.resumed++;
	} else {
		/* The first handshake never finished here: no byte of the
		 * stream reached the node yet, a new one resumes from 0. */
		s = open_stream(t, c, env);
		if (!s)
			return -1;
	}
	bind_conn(t, c, s, true);
	saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO,
			  "continuity: credential %s: the client came back "
			  "before any token (%s)",
			  hex,
			  link.gen ? "its stream goes on"
				   : "its first handshake never finished "
				     "here: the stream starts now");
	if (rest_len > sizeof(s->io.in))
		rest_len = sizeof(s->io.in); /* cannot happen: one record */
	memcpy(s->io.in, rest, rest_len);
	s->io.in_len = rest_len;
	return saf_tls_server_stream_step(t, c, env);
}

void saf_tls_server_stream_detach(saf_tls_server_streams *t,
				  saf_tls_node_conn *c)
{
	cont_sess *s = c->sess;

	if (!s)
		return;
	s->conn = NULL;
	s->away_since = t->clock(t->clock_arg);
	c->sess = NULL;
}

/* The stream broke the rules or its backend failed: it ends here. */
static int sess_fail(cont_table *t, saf_tls_node_conn *c, unsigned code,
		     const char *why, const saf_tls_node_env *env)
{
	saf_tls_node_logf(env, SAF_TLS_NODE_LOG_INFO, "continuity: %s", why);
	if (code)
		saf_tls_cont_send_reset(c->ssl, code);
	sess_end(t, c->sess);
	return -1;
}

/* Engine <-> backend. 1 progress, 0 none, -1 backend failed. */
static int backend_io(cont_sess *s)
{
	const uint8_t *p;
	uint8_t tmp[SAF_TLS_NODE_BUF_LEN];
	size_t n = saf_cont_readable(s->cont, &p), room;
	int progress = 0;

	if (n) {
		ssize_t w = write(s->bfd, p, n);

		if (w > 0) {
			saf_cont_consume(s->cont, (size_t)w);
			progress = 1;
		} else if (w < 0 && errno != EAGAIN) {
			return -1;
		}
	}
	if (saf_cont_read_eof(s->cont) && !s->backend_shut) {
		shutdown(s->bfd, SHUT_WR);
		s->backend_shut = true;
	}
	room = saf_cont_send_room(s->cont);
	if (room && !s->backend_eof) {
		ssize_t r =
			read(s->bfd, tmp,
			     saf_cont_read_size(
				     room < sizeof(tmp) ? room : sizeof(tmp)));

		if (r > 0) {
			(void)saf_cont_write(s->cont, tmp, (size_t)r);
			progress = 1;
		} else if (r == 0 || errno != EAGAIN) {
			s->backend_eof = true;
			saf_cont_close_write(s->cont);
			progress = 1;
		}
	}
	return progress;
}

int saf_tls_server_stream_step(saf_tls_server_streams *t, saf_tls_node_conn *c,
			       const saf_tls_node_env *env)
{
	cont_sess *s = c->sess;
	int progress = 1;

	if (!s)
		return -1;
	s->io.want_write = false;
	while (progress) {
		saf_error e = {0};
		size_t used = 0;
		int r, ssl_err;

		progress = 0;
		r = saf_tls_cont_pump_read(&s->io, c->ssl, s->cont, &ssl_err);
		if (r < 0 && saf_cont_done(s->cont))
			break; /* its last ACK, then close_notify: over */
		if (r < 0)
			return -1; /* the client may come back */
		progress |= r;
		if (saf_tls_cont_pump_feed(&s->io, s->cont, &used, &e)) {
			t->k.violations++;
			return sess_fail(t, c, saf_cont_failed(s->cont), e.msg,
					 env);
		}
		progress |= used > 0;
		r = backend_io(s);
		if (r < 0)
			return sess_fail(t, c, SAF_CONT_RESET_ABORT,
					 "backend failed", env);
		progress |= r;
		r = saf_tls_cont_pump_write(&s->io, c->ssl, s->cont);
		if (r < 0)
			return -1;
		progress |= r;
	}
	if (saf_cont_done(s->cont) && saf_tls_cont_pump_flushed(&s->io)) {
		t->k.finished++;
		sess_end(t, s);
		return -1; /* close_notify: the stream is over */
	}
	return 0;
}

void saf_tls_server_stream_events(const saf_tls_node_conn *c, short *cev,
				  int *bfd, short *bev)
{
	const cont_sess *s = c->sess;
	const uint8_t *p;

	*cev = (short)((s->io.in_len || saf_cont_readable(s->cont, &p)
				? 0
				: POLLIN) |
		       (s->io.want_write ? POLLOUT : 0));
	*bfd = s->bfd;
	*bev = (short)((saf_cont_send_room(s->cont) && !s->backend_eof ? POLLIN
								       : 0) |
		       (saf_cont_readable(s->cont, &p) ? POLLOUT : 0));
}

void saf_tls_server_streams_tick(saf_tls_server_streams *t)
{
	uint64_t now = t->clock(t->clock_arg);

	saf_tls_node_creds_tick(t->creds);
	for (unsigned i = 0; i < t->n; i++) {
		cont_sess *s = &t->s[i];

		if (!s->used)
			continue;
		if (!s->conn && now > s->away_since + t->linger_s) {
			t->k.expired++;
			sess_end(t, s);
			continue;
		}
		if (s->conn && now >= s->last_token + t->lifetime_s / 2u) {
			/* Before the newest token expires, a fresh one, so
			 * the client can always come back. */
			s->last_token = now;
			if (SSL_new_session_ticket(s->conn->ssl) == 1)
				(void)SSL_do_handshake(s->conn->ssl);
			ERR_clear_error();
		}
	}
}

void saf_tls_server_streams_counters(const saf_tls_server_streams *t,
				     saf_tls_node_stream_counters *out)
{
	saf_tls_node_cred_counters ck;

	*out = t->k;
	saf_tls_node_creds_counters(t->creds, &ck);
	out->creds_issued = ck.issued;
	out->reattached = ck.reattached;
	out->creds_refused = ck.refused;
	out->creds_evicted = ck.evicted;
	out->live = out->away = 0;
	for (unsigned i = 0; i < t->n; i++) {
		if (!t->s[i].used)
			continue;
		out->live++;
		if (!t->s[i].conn)
			out->away++;
	}
}
