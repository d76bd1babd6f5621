/* SPDX-License-Identifier: MIT */
/*
 * Node side of SPEC 3.4: tokens in tickets (step 2), verification of a
 * presented token (step 4), migrate_notify (3.5), counters.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tls_internal.h"

const char *saf_tls_refusal_name(saf_tls_refusal r)
{
	static const char *const names[SAF_TLS_REFUSE_COUNT] = {
		[SAF_TLS_REFUSE_NONE] = "none",
		[SAF_TLS_REFUSE_VERDICT] = "token",
		[SAF_TLS_REFUSE_NO_SUPPORT] = "no_migration_support",
		[SAF_TLS_REFUSE_NOT_RESUMED] = "not_resumed",
		[SAF_TLS_REFUSE_NO_LOCAL] = "no_local_address",
		[SAF_TLS_REFUSE_RETIRED_KEY] = "retired_node_key",
	};

	return (unsigned)r < SAF_TLS_REFUSE_COUNT ? names[r] : "unknown";
}

void saf_tls_server_config_init(saf_tls_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->token_lifetime_s = SAF_TOKEN_LIFETIME_DEFAULT_S;
	cfg->replay_entries = SAF_REPLAY_CACHE_DEFAULT_ENTRIES;
	cfg->cp = saf_tlsext_codepoints_default();
}

/* One id context for every saf node: a ticket issued on S resumes on U
 * (another SSL_CTX of the same process, or a sibling with the same ticket
 * keys). */
static const unsigned char sid_ctx[] = "saf tls v1";

saf_tls_server *saf_tls_server_new(SSL_CTX *ctx,
				   const saf_tls_server_config *cfg,
				   saf_error *err)
{
	saf_tls_server *srv = calloc(1, sizeof(*srv));

	if (!srv) {
		saf_fail(err, SAF_E_NOMEM, "tls: out of memory");
		return NULL;
	}
	srv->base.is_server = true;
	srv->base.cp = cfg->cp;
	srv->base.ex_index = saf_tls_ex_index_new();
	memcpy(srv->node_key, cfg->node_key, sizeof(srv->node_key));
	srv->n_prev = cfg->n_prev_node_keys < SAF_TLS_PREV_NODE_KEYS
			      ? cfg->n_prev_node_keys
			      : SAF_TLS_PREV_NODE_KEYS;
	memcpy(srv->prev, cfg->prev_node_keys, sizeof(srv->prev));
	srv->lifetime_s = cfg->token_lifetime_s ? cfg->token_lifetime_s
						: SAF_TOKEN_LIFETIME_DEFAULT_S;
	srv->clock = cfg->clock ? cfg->clock : saf_clock_realtime;
	srv->clock_arg = cfg->clock_arg;
	srv->continuity = cfg->continuity;
	srv->on_token = cfg->on_token;
	srv->on_token_arg = cfg->on_token_arg;
	if (srv->base.ex_index < 0) {
		saf_fail(err, SAF_E_CRYPTO, "tls: no ex_data slot");
		goto fail;
	}
	srv->replay = saf_replay_cache_new(
		cfg->replay_entries ? cfg->replay_entries
				    : SAF_REPLAY_CACHE_DEFAULT_ENTRIES,
		srv->clock, srv->clock_arg, err);
	if (!srv->replay)
		goto fail;
	if (saf_tls_base_attach(ctx, &srv->base)) {
		saf_fail(err, SAF_E_INVAL,
			 "tls: this SSL_CTX already has a saf role object");
		goto fail;
	}
	if (saf_tls_ext_register_all(ctx, &srv->base, err))
		goto fail;
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) !=
	    1) {
		saf_fail(err, SAF_E_CRYPTO,
			 "tls: cannot set session id context");
		goto fail;
	}
	if (cfg->has_ticket_keys) {
		uint8_t tk[SAF_TLS_TICKET_KEYS_LEN];
		long ok;

		memcpy(tk, cfg->ticket_keys, sizeof(tk));
		ok = SSL_CTX_set_tlsext_ticket_keys(ctx, tk, sizeof(tk));
		OPENSSL_cleanse(tk, sizeof(tk));
		if (ok != 1) {
			saf_fail(err, SAF_E_CRYPTO,
				 "tls: cannot set ticket keys");
			goto fail;
		}
	}
	return srv;
fail:
	saf_tls_server_free(srv);
	return NULL;
}

void saf_tls_server_free(saf_tls_server *srv)
{
	if (!srv)
		return;
	saf_replay_cache_free(srv->replay);
	OPENSSL_cleanse(srv, sizeof(*srv));
	free(srv);
}

/* The server's state of ssl, created on demand; NULL when ssl's SSL_CTX
 * has no saf server. */
static saf_tls_state *server_state(SSL *ssl, saf_tls_server **srv)
{
	saf_tls_base *base = saf_tls_base_of(ssl);

	if (!base || !base->is_server)
		return NULL;
	*srv = (saf_tls_server *)base;
	return saf_tls_state_get(ssl, base);
}

int saf_tls_server_set_target(SSL *ssl, const saf_addr *target, saf_error *err)
{
	saf_tls_server *srv;
	saf_tls_state *st = server_state(ssl, &srv);

	if (!st)
		return saf_fail(err, SAF_E_INVAL,
				"tls: connection has no saf server context");
	if (!target->has_port || target->port == 0)
		return saf_fail(err, SAF_E_INVAL, "tls: target needs a port");
	st->target = *target;
	st->has_target = true;
	return 0;
}

int saf_tls_server_set_local(SSL *ssl, const saf_addr *local, saf_error *err)
{
	saf_tls_server *srv;
	saf_tls_state *st = server_state(ssl, &srv);

	if (!st)
		return saf_fail(err, SAF_E_INVAL,
				"tls: connection has no saf server context");
	st->local = *local;
	st->has_local = local->has_port;
	return 0;
}

int saf_tls_server_conn_info(SSL *ssl, saf_tls_conn_info *out)
{
	saf_tls_server *srv;
	saf_tls_state *st = server_state(ssl, &srv);

	memset(out, 0, sizeof(*out));
	if (!st)
		return -1;
	out->offered_support = st->offered_support;
	out->migrated = st->migrated;
	memcpy(out->session_id, st->session_id, sizeof(out->session_id));
	out->refusal = st->refusal;
	out->verdict = st->verdict;
	out->tokens_sent = st->tokens_sent;
	out->continuity = st->continuity;
	return 0;
}

void saf_tls_server_counters_get(const saf_tls_server *srv,
				 saf_tls_server_counters *out)
{
	*out = srv->counters;
}

/* The resumption PSK of the session OpenSSL is working on: when a ticket
 * is built, the new ticket's session; when a ClientHello resumed, the
 * resumed session (its master key is the PSK). */
static int session_keys(SSL *ssl, const uint8_t node_key[SAF_NODE_KEY_LEN],
			saf_token_keys *keys)
{
	uint8_t psk[SAF_PSK_MAX_LEN];
	SSL_SESSION *sess = SSL_get_session(ssl);
	size_t n;
	int rc;

	if (!sess)
		return -1;
	n = SSL_SESSION_get_master_key(sess, psk, sizeof(psk));
	if (n == 0 || n > sizeof(psk))
		return -1;
	rc = saf_token_keys_derive(node_key, psk, n, keys, NULL);
	OPENSSL_cleanse(psk, sizeof(psk));
	return rc;
}

static int local_from_fd(SSL *ssl, saf_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = SSL_get_fd(ssl);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	return saf_addr_from_sockaddr((struct sockaddr *)&ss, len, out, NULL);
}

/* SPEC 3.4 step 2: a token for this connection's target, under the PSK of
 * the ticket being built. With continuity and no target, the target is
 * the address the connection arrived on: the client's way back after a
 * break. Returns 1 when there is no target (no token in this ticket). */
int saf_tls_server_ticket_token(SSL *ssl, saf_tls_server *srv,
				saf_tls_state *st, int *al)
{
	saf_token_keys keys;
	uint64_t now = srv->clock(srv->clock_arg);
	const saf_addr *target = &st->target;
	int rc;

	if (!st->has_target) {
		if (!st->continuity)
			return 1;
		if (!st->has_local) {
			if (local_from_fd(ssl, &st->local))
				return 1;
			st->has_local = true;
		}
		target = &st->local;
	}
	if (session_keys(ssl, srv->node_key, &keys)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return -1;
	}
	rc = saf_token_mint(&keys, target, now + srv->lifetime_s, NULL, 0,
			    st->out, sizeof(st->out), &st->out_len, NULL);
	if (rc == 0 && srv->on_token)
		srv->on_token(ssl, keys.session_id, srv->on_token_arg);
	saf_token_keys_wipe(&keys);
	if (rc) {
		*al = SSL_AD_INTERNAL_ERROR;
		return -1;
	}
	st->tokens_sent++;
	srv->counters.tokens_issued++;
	return 0;
}

static int refuse(saf_tls_server *srv, saf_tls_state *st, saf_tls_refusal r,
		  saf_verdict v, int *al)
{
	st->refusal = r;
	st->verdict = v;
	srv->counters.refused[r]++;
	if (r == SAF_TLS_REFUSE_VERDICT)
		srv->counters.refused_verdict[v]++;
	/* A malformed token is a decode error; every other refusal is a
	 * policy decision on a well-formed message: access_denied. */
	*al = (r == SAF_TLS_REFUSE_VERDICT && v == SAF_TOKEN_MALFORMED)
		      ? SSL_AD_DECODE_ERROR
		      : SSL_AD_ACCESS_DENIED;
	return 0;
}

/* Not a saf_verdict: a token signed by a retired previous key. */
#define VERIFY_RETIRED ((saf_verdict)SAF_VERDICT_COUNT)

/* Node key rotation: a token that failed the current key's signature is
 * tried with each previous key. One in its overlap verifies as usual
 * (replay cache included; *keys then holds its keys). One past its retire
 * time is checked without the replay cache, only to say why: the token is
 * refused as VERIFY_RETIRED, not as a forgery. Tokens carry no key id:
 * at most SAF_TLS_PREV_NODE_KEYS extra HMACs, and only for tokens the
 * current key refused. */
static saf_verdict verify_previous(SSL *ssl, const saf_tls_server *srv,
				   const saf_verify_params *cur,
				   const uint8_t *in, size_t len,
				   saf_token *tok, saf_token_keys *keys)
{
	saf_verdict best = SAF_TOKEN_BAD_SIGNATURE;

	for (size_t i = 0; i < srv->n_prev; i++) {
		saf_verify_params p = *cur;
		saf_token_keys k;
		bool live = cur->now < srv->prev[i].retire;
		saf_verdict v;

		if (session_keys(ssl, srv->prev[i].node_key, &k))
			continue;
		p.keys = &k;
		if (!live)
			p.replay = NULL;
		v = saf_token_verify(&p, in, len, tok, NULL);
		if (v != SAF_TOKEN_BAD_SIGNATURE && live) {
			saf_token_keys_wipe(keys);
			*keys = k;
			saf_token_keys_wipe(&k);
			return v;
		}
		if (v != SAF_TOKEN_BAD_SIGNATURE)
			best = VERIFY_RETIRED;
		saf_token_keys_wipe(&k);
	}
	return best;
}

/* SPEC 3.4 step 4, on the resumption ClientHello. Built-in extensions (the
 * PSK) are parsed before custom ones, so whether the ticket resumed is
 * known here, and the session is the resumed one. */
int saf_tls_server_check_token(SSL *ssl, saf_tls_server *srv, saf_tls_state *st,
			       const uint8_t *in, size_t len, int *al)
{
	saf_token_keys keys;
	saf_verify_params p;
	saf_token tok;
	saf_verdict v;

	if (!st->offered_support)
		return refuse(srv, st, SAF_TLS_REFUSE_NO_SUPPORT, 0, al);
	if (!SSL_session_reused(ssl))
		return refuse(srv, st, SAF_TLS_REFUSE_NOT_RESUMED, 0, al);
	if (!st->has_local) {
		if (local_from_fd(ssl, &st->local))
			return refuse(srv, st, SAF_TLS_REFUSE_NO_LOCAL, 0, al);
		st->has_local = true;
	}
	if (session_keys(ssl, srv->node_key, &keys)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	p.keys = &keys;
	p.local = &st->local;
	p.now = srv->clock(srv->clock_arg);
	p.replay = srv->replay;
	v = saf_token_verify(&p, in, len, &tok, NULL);
	if (v == SAF_TOKEN_BAD_SIGNATURE && srv->n_prev > 0)
		v = verify_previous(ssl, srv, &p, in, len, &tok, &keys);
	if (v == SAF_TOKEN_VALID)
		memcpy(st->session_id, keys.session_id, sizeof(st->session_id));
	saf_token_keys_wipe(&keys);
	if (v == VERIFY_RETIRED)
		return refuse(srv, st, SAF_TLS_REFUSE_RETIRED_KEY, 0, al);
	if (v != SAF_TOKEN_VALID)
		return refuse(srv, st, SAF_TLS_REFUSE_VERDICT, v, al);
	st->migrated = true;
	srv->counters.migrations_accepted++;
	return 1;
}

int saf_tls_server_migrate_notify(SSL *ssl, const saf_addr *target,
				  saf_error *err)
{
	saf_tls_server *srv;
	saf_tls_state *st = server_state(ssl, &srv);

	if (!st)
		return saf_fail(err, SAF_E_INVAL,
				"tls: connection has no saf server context");
	if (!SSL_is_init_finished(ssl))
		return saf_fail(err, SAF_E_INVAL,
				"migrate_notify: handshake not complete");
	if (!st->offered_support)
		return saf_fail(err, SAF_E_UNSUPPORTED,
				"migrate_notify: client did not offer "
				"migration_support");
	if (saf_tls_server_set_target(ssl, target, err))
		return -1;
	st->notify_pending = true;
	if (SSL_new_session_ticket(ssl) != 1) {
		st->notify_pending = false;
		return saf_fail(err, SAF_E_CRYPTO,
				"migrate_notify: cannot queue a ticket");
	}
	return 0;
}
