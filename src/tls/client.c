/* SPDX-License-Identifier: MIT */
/*
 * Client side: offers migration_support, pairs each ticket's token with
 * its session (the token's parse callback runs before the ticket's PSK
 * exists, the new-session callback right after), keeps the newest valid
 * one, and notices migrate_notify in both forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tls_internal.h"

void saf_tls_client_config_init(saf_tls_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cp = saf_tlsext_codepoints_default();
}

void saf_tls_offer_clear(saf_tls_offer *o)
{
	SSL_SESSION_free(o->session);
	memset(o, 0, sizeof(*o));
}

static saf_tls_state *client_state(SSL *ssl)
{
	saf_tls_base *base = saf_tls_base_of(ssl);

	if (!base || base->is_server)
		return NULL;
	return saf_tls_state_get(ssl, base);
}

/* Validates the stashed token against the ticket's session: it decodes,
 * its session_id is this ticket's (the client can derive it from the PSK,
 * SPEC 3.3) and its target may be used. */
static int validate(const saf_tls_client *cli, SSL_SESSION *sess,
		    const uint8_t *tok, size_t len, saf_token *out,
		    char why[SAF_ERROR_MSG_LEN])
{
	saf_error e;

	uint8_t psk[SAF_PSK_MAX_LEN], sid[SAF_SESSION_ID_LEN];
	size_t n;
	int rc;

	if (saf_token_decode(tok, len, out, NULL))
		return -1;
	n = SSL_SESSION_get_master_key(sess, psk, sizeof(psk));
	if (n == 0 || n > sizeof(psk))
		return -1;
	rc = saf_session_id_derive(psk, n, sid, NULL);
	OPENSSL_cleanse(psk, sizeof(psk));
	if (rc || out->session_id.len != sizeof(sid) ||
	    !saf_ct_equal(out->session_id.base, sid, sizeof(sid)))
		return -1;
	/* The target is judged before the offer is kept, so a refused one
	 * never reaches a connect or a caller's cache. */
	if (saf_target_policy_check(&cli->policy, &out->target, "token target",
				    &e)) {
		snprintf(why, SAF_ERROR_MSG_LEN, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	saf_tls_base *base = saf_tls_base_of(ssl);
	saf_tls_state *st;
	saf_token tok;

	if (!base || base->is_server)
		return 0;
	st = saf_tls_state_peek(ssl, base);
	if (!st)
		return 0;
	if (st->pending_len &&
	    validate((saf_tls_client *)base, sess, st->pending, st->pending_len,
		     &tok, st->token_refusal) == 0) {
		saf_tls_offer_clear(&st->prev_offer);
		st->prev_offer = st->offer;
		st->has_prev_offer = st->has_offer;
		memset(&st->offer, 0, sizeof(st->offer));
		/* We keep the reference OpenSSL hands us (return 1). */
		st->offer.session = sess;
		memcpy(st->offer.token, st->pending, st->pending_len);
		st->offer.token_len = st->pending_len;
		st->offer.target = tok.target;
		st->offer.expiry = tok.expiry;
		st->offer.notify = st->pending_notify;
		st->has_offer = true;
		st->token_refusal[0] = '\0';
		if (st->pending_notify)
			st->notified = 1;
		st->pending_len = 0;
		st->pending_notify = false;
		return 1;
	}
	st->pending_len = 0;
	st->pending_notify = false;
	return 0;
}

/* Alerts are read here: libssl has no other way to tell the application
 * which alert ended a connection, and 0xF0 (migrate_notify, alert form)
 * must be told apart from the rest. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	saf_tls_base *base;
	saf_tls_state *st;

	if (!(where & SSL_CB_ALERT))
		return;
	base = saf_tls_base_of(ssl);
	if (!base || base->is_server)
		return;
	st = saf_tls_state_peek(ssl, base);
	if (!st)
		return;
	if (where & SSL_CB_READ) {
		st->alert_received = ret;
		if ((ret & 0xff) == base->cp.migrate_notify_alert)
			st->notified = 2;
	} else {
		st->alert_sent = ret;
	}
}

saf_tls_client *saf_tls_client_new(SSL_CTX *ctx,
				   const saf_tls_client_config *cfg,
				   saf_error *err)
{
	saf_tls_client *cli = calloc(1, sizeof(*cli));

	if (!cli) {
		saf_fail(err, SAF_E_NOMEM, "tls: out of memory");
		return NULL;
	}
	cli->base.is_server = false;
	cli->base.cp = cfg->cp;
	cli->base.ex_index = saf_tls_ex_index_new();
	if (cfg->policy)
		cli->policy = *cfg->policy;
	else
		saf_target_policy_init(&cli->policy);
	if (cfg->allow_loopback_targets)
		cli->policy.allow_loopback = true;
	cli->continuity = cfg->continuity;
	if (cli->base.ex_index < 0 || saf_tls_base_attach(ctx, &cli->base)) {
		saf_fail(err, SAF_E_INVAL,
			 "tls: this SSL_CTX already has a saf role object");
		free(cli);
		return NULL;
	}
	if (saf_tls_ext_register_all(ctx, &cli->base, err)) {
		free(cli);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(
		ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return cli;
}

void saf_tls_client_free(saf_tls_client *cli)
{
	free(cli);
}

int saf_tls_client_offer(SSL *ssl, saf_tls_offer *out)
{
	saf_tls_state *st = client_state(ssl);

	memset(out, 0, sizeof(*out));
	if (!st || !st->has_offer)
		return 0;
	*out = st->offer;
	/* A resumption marks a session single-use: hand out a duplicate so
	 * the stored one survives whatever the caller does. */
	out->session = SSL_SESSION_dup(st->offer.session);
	return out->session ? 1 : 0;
}

int saf_tls_client_prev_offer(SSL *ssl, saf_tls_offer *out)
{
	saf_tls_state *st = client_state(ssl);

	memset(out, 0, sizeof(*out));
	if (!st || !st->has_prev_offer)
		return 0;
	*out = st->prev_offer;
	out->session = SSL_SESSION_dup(st->prev_offer.session);
	return out->session ? 1 : 0;
}

int saf_tls_client_present_token(SSL *ssl, const uint8_t *token, size_t len,
				 saf_error *err)
{
	saf_tls_state *st = client_state(ssl);

	if (!st)
		return saf_fail(err, SAF_E_INVAL,
				"tls: connection has no saf client context");
	if (len == 0 || len > sizeof(st->present))
		return saf_fail(err, SAF_E_RANGE, "tls: token of %zu bytes",
				len);
	memcpy(st->present, token, len);
	st->present_len = len;
	/* Issue 17: a migration resumes with psk_dhe_ke only (SPEC 3.4 step
	 * 3), so that a leaked ticket key never exposes the migrated
	 * connection: libssl then offers no psk_ke. */
	SSL_clear_options(ssl, SSL_OP_ALLOW_NO_DHE_KEX);
	return 0;
}

int saf_tls_client_notified(SSL *ssl)
{
	saf_tls_state *st = client_state(ssl);

	return st ? st->notified : 0;
}

const char *saf_tls_client_token_refusal(SSL *ssl)
{
	saf_tls_state *st = client_state(ssl);

	return st && st->token_refusal[0] ? st->token_refusal : NULL;
}

int saf_tls_client_check_target(SSL_CTX *ctx, const saf_addr *target,
				const char *what, saf_error *err)
{
	saf_tls_base *base = saf_tls_base_of_ctx(ctx);

	if (!base || base->is_server)
		return saf_fail(err, SAF_E_INVAL,
				"tls: this SSL_CTX has no saf client object");
	return saf_target_policy_check(&((saf_tls_client *)base)->policy,
				       target, what, err);
}

int saf_tls_client_alert_received(SSL *ssl)
{
	saf_tls_state *st = client_state(ssl);

	return st ? st->alert_received : -1;
}

int saf_tls_client_alert_sent(SSL *ssl)
{
	saf_tls_state *st = client_state(ssl);

	return st ? st->alert_sent : -1;
}

bool saf_tls_continuity(SSL *ssl)
{
	saf_tls_base *base = saf_tls_base_of(ssl);
	saf_tls_state *st = base ? saf_tls_state_peek(ssl, base) : NULL;

	return st && st->continuity;
}
