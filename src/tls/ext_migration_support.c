/* SPDX-License-Identifier: MIT */
/*
 * migration_support (SPEC 3.1): empty body, client's ClientHello only.
 * "The client connects to S and offers migration_support." The client
 * offers it in every ClientHello, the resumption one included, so a node
 * can tell a migrating client from one that never offered support.
 */
#include "tls_internal.h"

static uint16_t type(const saf_tlsext_codepoints *cp)
{
	return cp->migration_support;
}

static int add(SSL *ssl, unsigned int ext_type, unsigned int context,
	       const unsigned char **out, size_t *outlen, X509 *x,
	       size_t chainidx, int *al, void *arg)
{
	saf_tls_base *base = arg;

	(void)ext_type;
	(void)x;
	(void)chainidx;
	if (base->is_server || context != SSL_EXT_CLIENT_HELLO)
		return 0;
	/* Creates the client's state at the first ClientHello, so the
	 * ticket and alert callbacks later find it. */
	if (!saf_tls_state_get(ssl, base)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return -1;
	}
	*out = (const unsigned char *)"";
	*outlen = 0;
	return 1;
}

static int parse(SSL *ssl, unsigned int ext_type, unsigned int context,
		 const unsigned char *in, size_t inlen, X509 *x,
		 size_t chainidx, int *al, void *arg)
{
	saf_tls_base *base = arg;
	saf_tls_server *srv = (saf_tls_server *)arg;
	saf_tls_state *st;

	(void)ext_type;
	(void)x;
	(void)chainidx;
	if (!base->is_server || context != SSL_EXT_CLIENT_HELLO)
		return 1;
	if (saf_tlsext_empty_decode("migration_support", in, inlen, NULL)) {
		*al = SSL_AD_DECODE_ERROR;
		return 0;
	}
	st = saf_tls_state_get(ssl, base);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	if (!st->offered_support)
		srv->counters.handshakes_with_support++;
	st->offered_support = true;
	return 1;
}

const saf_tls_ext saf_tls_ext_migration_support = {
	.name = "migration_support",
	.type = type,
	.contexts = SSL_EXT_CLIENT_HELLO,
	.add = add,
	.parse = parse,
};
