/* SPDX-License-Identifier: MIT */
/* Per-connection state in SSL ex_data, freed with the SSL. */
#include <stdlib.h>

#include <openssl/crypto.h>

#include "tls_internal.h"

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		       long argl, void *argp)
{
	saf_tls_state *st = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!st)
		return;
	saf_tls_offer_clear(&st->offer);
	saf_tls_offer_clear(&st->prev_offer);
	OPENSSL_cleanse(st, sizeof(*st));
	free(st);
}

/* ex_data slots are numbered per process by libcrypto; saf takes one for
 * SSL objects (the state) and one for SSL_CTX objects (the role object),
 * once, so any number of role objects can coexist. */
static CRYPTO_ONCE once = CRYPTO_ONCE_STATIC_INIT;
static int ssl_index = -1, ctx_index = -1;

static void init_indexes(void)
{
	ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, state_free);
	ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int saf_tls_ex_index_new(void)
{
	if (!CRYPTO_THREAD_run_once(&once, init_indexes) || ctx_index < 0)
		return -1;
	return ssl_index;
}

int saf_tls_base_attach(SSL_CTX *ctx, saf_tls_base *base)
{
	if (saf_tls_ex_index_new() < 0)
		return -1;
	if (SSL_CTX_get_ex_data(ctx, ctx_index))
		return -1; /* one saf role object per SSL_CTX */
	return SSL_CTX_set_ex_data(ctx, ctx_index, base) == 1 ? 0 : -1;
}

saf_tls_base *saf_tls_base_of(const SSL *ssl)
{
	return saf_tls_base_of_ctx(SSL_get_SSL_CTX(ssl));
}

saf_tls_base *saf_tls_base_of_ctx(const SSL_CTX *ctx)
{
	if (ctx_index < 0 || !ctx)
		return NULL;
	return SSL_CTX_get_ex_data(ctx, ctx_index);
}

/* Every SSL of one process shares ex_data slots by number, so a state is
 * trusted only when it was made by the same role object. */
saf_tls_state *saf_tls_state_get(SSL *ssl, const saf_tls_base *owner)
{
	saf_tls_state *st = SSL_get_ex_data(ssl, owner->ex_index);

	if (st)
		return st->owner == owner ? st : NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->owner = owner;
	st->alert_received = -1;
	st->alert_sent = -1;
	if (!SSL_set_ex_data(ssl, owner->ex_index, st)) {
		free(st);
		return NULL;
	}
	return st;
}

saf_tls_state *saf_tls_state_peek(const SSL *ssl, const saf_tls_base *owner)
{
	saf_tls_state *st = SSL_get_ex_data(ssl, owner->ex_index);

	return st && st->owner == owner ? st : NULL;
}

bool saf_tls_base_continuity(const saf_tls_base *base)
{
	return base->is_server ? ((const saf_tls_server *)base)->continuity
			       : ((const saf_tls_client *)base)->continuity;
}
