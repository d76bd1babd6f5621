/* SPDX-License-Identifier: MIT */
/*
 * continuity (SPEC 4, docs/continuity.md): the client offers it in every
 * ClientHello, body one byte, the version (1); a node that runs the
 * framing layer for this connection echoes it in EncryptedExtensions. Only
 * then do both sides put frames in application data: a peer without it
 * gets the plain TLS variant.
 */
#include "tls_internal.h"

static const unsigned char version[1] = {SAF_CONT_VERSION};

static uint16_t type(const saf_tlsext_codepoints *cp)
{
	return cp->continuity;
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
	if (!saf_tls_base_continuity(base))
		return 0;
	if (base->is_server) {
		/* OpenSSL asks only when the ClientHello carried it. */
		st = saf_tls_state_peek(ssl, base);
		if (context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS || !st ||
		    !st->cont_offered || !st->offered_support)
			return 0;
		st->continuity = true;
	} else {
		if (context != SSL_EXT_CLIENT_HELLO)
			return 0;
		st = saf_tls_state_get(ssl, base);
		if (!st) {
			*al = SSL_AD_INTERNAL_ERROR;
			return -1;
		}
		st->cont_offered = true;
	}
	*out = version;
	*outlen = sizeof(version);
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
	if (inlen != 1) {
		*al = SSL_AD_DECODE_ERROR;
		return 0;
	}
	st = saf_tls_state_get(ssl, base);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	if (base->is_server) {
		/* Another version: answered by silence, so the client falls
		 * back to the plain TLS variant. */
		if (context == SSL_EXT_CLIENT_HELLO &&
		    saf_tls_base_continuity(base) && in[0] == SAF_CONT_VERSION)
			st->cont_offered = true;
		return 1;
	}
	if (context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS)
		return 1;
	if (!st->cont_offered || in[0] != SAF_CONT_VERSION) {
		*al = SSL_AD_ILLEGAL_PARAMETER;
		return 0;
	}
	st->continuity = true;
	return 1;
}

const saf_tls_ext saf_tls_ext_continuity = {
	.name = "continuity",
	.type = type,
	.contexts = SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS,
	.add = add,
	.parse = parse,
};
