/* SPDX-License-Identifier: MIT */
/*
 * migrate_notify, ticket form (SPEC 3.5): empty body in a NewSessionTicket
 * that also carries a fresh migration_token: "migrate now".
 */
#include "tls_internal.h"

static uint16_t type(const saf_tlsext_codepoints *cp)
{
	return cp->migrate_notify;
}

static int add(SSL *ssl, unsigned int ext_type, unsigned int context,
	       const unsigned char **out, size_t *outlen, X509 *x,
	       size_t chainidx, int *al, void *arg)
{
	saf_tls_base *base = arg;
	saf_tls_state *st;

	(void)ext_type;
	(void)x;
	(void)chainidx;
	(void)al;
	if (!base->is_server || context != SSL_EXT_TLS1_3_NEW_SESSION_TICKET)
		return 0;
	st = saf_tls_state_peek(ssl, base);
	/* Registered after migration_token, so its add callback ran first
	 * for this ticket and cleared nothing we need. */
	if (!st || !st->notify_pending)
		return 0;
	st->notify_pending = false;
	((saf_tls_server *)arg)->counters.notifies_sent++;
	*out = (const unsigned char *)"";
	*outlen = 0;
	return 1;
}

static int parse(SSL *ssl, unsigned int ext_type, unsigned int context,
		 const unsigned char *in, size_t inlen, X509 *x,
		 size_t chainidx, int *al, void *arg)
{
	saf_tls_base *base = arg;
	saf_tls_state *st;

	(void)ext_type;
	(void)x;
	(void)chainidx;
	if (base->is_server || context != SSL_EXT_TLS1_3_NEW_SESSION_TICKET)
		return 1;
	if (saf_tlsext_empty_decode("migrate_notify", in, inlen, NULL)) {
		*al = SSL_AD_DECODE_ERROR;
		return 0;
	}
	st = saf_tls_state_get(ssl, base);
	if (st)
		st->pending_notify = true;
	return 1;
}

const saf_tls_ext saf_tls_ext_migrate_notify = {
	.name = "migrate_notify",
	.type = type,
	.contexts = SSL_EXT_TLS1_3_NEW_SESSION_TICKET,
	.add = add,
	.parse = parse,
};
