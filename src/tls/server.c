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
		[SAF_TLS_REFUSE_PSK_KE] = "psk_ke",
		[SAF_TLS_REFUSE_SOURCE_SHARE] = "source_share",
		[SAF_TLS_REFUSE_RETIRED_KEY] = "retired_node_key",
	};

	return (unsigned)r < SAF_TLS_REFUSE_COUNT ? names[r] : "unknown";
}

void saf_tls_server_config_init(saf_tls_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->token_lifetime_s = SAF_TOKEN_LIFETIME_DEFAULT_S;
	cfg->cp = saf_tlsext_codepoints_default();
}

/* The node's replay cache: lifetime x handshake rate nonces, a share per
 * client source, and the token lifetime as the clock-jump bound. */
static saf_replay_cache *replay_new(const saf_tls_server_config *cfg,
				    const saf_tls_server *srv, saf_error *err)
{
	uint64_t rate = cfg->handshakes_per_s
				? cfg->handshakes_per_s
				: SAF_NODE_HANDSHAKES_PER_S_DEFAULT;
	saf_replay_config rc = {
		.capacity = cfg->replay_entries
				    ? cfg->replay_entries
				    : (size_t)(srv->lifetime_s * rate),
		.max_lifetime = srv->lifetime_s,
		.clock = srv->clock,
		.clock_arg = srv->clock_arg,
	};

	if (cfg->replay_source_share == SIZE_MAX)
		rc.source_share = 0;
	else if (cfg->replay_source_share)
		rc.source_share = cfg->replay_source_share;
	else
		rc.source_share =
			rc.capacity / SAF_REPLAY_SOURCE_SHARE_DIV_DEFAULT
				? rc.capacity /
					  SAF_REPLAY_SOURCE_SHARE_DIV_DEFAULT
				: 1;
	return saf_replay_cache_create(&rc, err);
}

/* The handshake is complete (libssl reports it after the client's
 * Finished and before the tickets): the verified token is recorded now.
 * A refusal here is acted on by the first ticket (ext_migration_token.c),
 * the only place left that can still end the handshake. */
static void server_info_cb(const SSL *ssl, int where, int ret)
{
	saf_tls_base *base;
	saf_tls_state *st;
	int al = 0;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	base = saf_tls_base_of(ssl);
	if (!base || !base->is_server)
		return;
	st = saf_tls_state_peek(ssl, base);
	if (st)
		(void)saf_tls_server_record_token(ssl, (saf_tls_server *)base,
						  st, &al);
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
	srv->prefix4 = cfg->source_prefix4 ? cfg->source_prefix4
					   : SAF_REPLAY_SOURCE_PREFIX4_DEFAULT;
	srv->prefix6 = cfg->source_prefix6 ? cfg->source_prefix6
					   : SAF_REPLAY_SOURCE_PREFIX6_DEFAULT;
	if (srv->prefix4 > 32 || srv->prefix6 > 128) {
		saf_fail(err, SAF_E_RANGE,
			 "tls: source prefix /%u (IPv4) or /%u (IPv6) too "
			 "long",
			 srv->prefix4, srv->prefix6);
		goto fail;
	}
	if (cfg->replay) {
		srv->replay = cfg->replay;
	} else {
		srv->replay = replay_new(cfg, srv, err);
		if (!srv->replay)
			goto fail;
		srv->owns_replay = true;
	}
	SSL_CTX_set_info_callback(ctx, server_info_cb);
	SSL_CTX_set_client_hello_cb(ctx, saf_tls_server_client_hello_cb,
				    &srv->base);
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
	if (srv->owns_replay)
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

int saf_tls_server_set_peer(SSL *ssl, const saf_addr *peer, saf_error *err)
{
	saf_tls_server *srv;
	saf_tls_state *st = server_state(ssl, &srv);

	if (!st)
		return saf_fail(err, SAF_E_INVAL,
				"tls: connection has no saf server context");
	st->peer = *peer;
	st->has_peer = true;
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
int saf_tls_server_session_keys(SSL *ssl, const saf_tls_server *srv,
				saf_token_keys *keys)
{
	return saf_tls_server_session_keys_with(ssl, srv->node_key, keys);
}

int saf_tls_server_session_keys_with(
	SSL *ssl, const uint8_t node_key[SAF_NODE_KEY_LEN], saf_token_keys *keys)
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

int saf_tls_local_from_fd(SSL *ssl, saf_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = SSL_get_fd(ssl);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	return saf_addr_from_sockaddr((struct sockaddr *)&ss, len, out, NULL);
}

const saf_addr *saf_tls_server_way_back(SSL *ssl, saf_tls_state *st)
{
	if (st->has_target)
		return &st->target;
	if (!st->has_local) {
		if (saf_tls_local_from_fd(ssl, &st->local))
			return NULL;
		st->has_local = true;
	}
	return &st->local;
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
	const saf_addr *target;
	int rc;

	/* Issue 14: a handshake earns one token, whatever number of tickets
	 * OpenSSL sends with it (two after a full handshake), so that a
	 * redemption costs the client a handshake with this node. A
	 * continuity handshake earns two: the client moves with the first
	 * and keeps the second, its way back should the move's connection
	 * break before that connection's own ticket arrives (the first is
	 * spent then; without a spare the stream would be lost). Tickets
	 * the application asks for later (migrate_notify, continuity's
	 * refresh) carry one each. */
	if (st->tokens_sent >= (st->continuity ? 2u : 1u) && SSL_in_init(ssl) &&
	    !st->notify_pending)
		return 1;
	if (!st->has_target && !st->continuity)
		return 1;
	target = saf_tls_server_way_back(ssl, st);
	if (!target)
		return 1;
	if (saf_tls_server_session_keys(ssl, srv, &keys)) {
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
