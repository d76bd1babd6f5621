/* SPDX-License-Identifier: MIT */
/*
 * migration_token (SPEC 3.1, 3.2): in the node's NewSessionTicket, and in
 * the client's resumption ClientHello. The node verifies it on the
 * ClientHello and records it on the first ticket (server_token.c). Registered
 * once with both contexts on both sides (a client that registered it for the
 * ClientHello only aborts on a ticket carrying it).
 */
#include <string.h>

#include "tls_internal.h"

static uint16_t type(const saf_tlsext_codepoints *cp)
{
	return cp->migration_token;
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
	st = saf_tls_state_peek(ssl, base);
	if (!st)
		return 0;
	if (base->is_server) {
		/* Called only when the ClientHello this ServerHello answers
		 * carried the token: that ClientHello is the one that counts
		 * (after a HelloRetryRequest, the second). Nothing is sent. */
		if (context == SSL_EXT_TLS1_3_SERVER_HELLO) {
			saf_tls_server_token_final(st);
			return 0;
		}
		if (context != SSL_EXT_TLS1_3_NEW_SESSION_TICKET)
			return 0;
		/* The first ticket is built once the client's Finished is in:
		 * the handshake is complete, the token is recorded now. */
		if (saf_tls_server_record_token(ssl, (saf_tls_server *)arg, st,
						al))
			return -1;
		/* OpenSSL calls this for every ticket whatever the client
		 * offered: "only if the client offered support". */
		if (!st->offered_support)
			return 0;
		switch (saf_tls_server_ticket_token(ssl, (saf_tls_server *)arg,
						    st, al)) {
		case 0:
			break;
		case 1:
			return 0; /* no target: no token */
		default:
			return -1;
		}
		*out = st->out;
		*outlen = st->out_len;
		return 1;
	}
	if (context != SSL_EXT_CLIENT_HELLO || st->present_len == 0)
		return 0;
	*out = st->present;
	*outlen = st->present_len;
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
	st = saf_tls_state_get(ssl, base);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	if (base->is_server) {
		if (context != SSL_EXT_CLIENT_HELLO)
			return 1;
		return saf_tls_server_check_token(ssl, (saf_tls_server *)arg,
						  st, in, inlen, al);
	}
	if (context != SSL_EXT_TLS1_3_NEW_SESSION_TICKET)
		return 1;
	/* The new ticket's PSK is not derived yet: stash the bytes; the
	 * new-session callback pairs them with the session and validates. */
	if (inlen > sizeof(st->pending)) {
		st->pending_len = 0;
		return 1; /* ignored, as any token that does not validate */
	}
	memcpy(st->pending, in, inlen);
	st->pending_len = inlen;
	return 1;
}

const saf_tls_ext saf_tls_ext_migration_token = {
	.name = "migration_token",
	.type = type,
	/* ServerHello: only so that the node learns which ClientHello it
	 * answers; the extension is never sent there. */
	.contexts = SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_SERVER_HELLO |
		    SSL_EXT_TLS1_3_NEW_SESSION_TICKET,
	.add = add,
	.parse = parse,
};
