/* SPDX-License-Identifier: MIT */
/*
 * reattach (docs/continuity.md, "Early credential"; codec in
 * saf/reattach.h): a continuity client sends it in every ClientHello,
 * mode offer, or mode reattach on a connection that comes back with a
 * credential. A node that carries the stream answers in
 * EncryptedExtensions with a fresh credential: a random id and its
 * unicast target (the address tokens name). The key is not sent: both
 * ends derive it from this handshake (reattach.c). The first flight is
 * the earliest thing the node sends that the client can trust, so a
 * client that has verified it can always come back.
 */
#include <openssl/rand.h>

#include "tls_internal.h"

static uint16_t type(const saf_tlsext_codepoints *cp)
{
	return cp->reattach;
}

/* The node's answer: a credential for the address its tokens name (the
 * pair's unicast address on an anycast listener, else the local one).
 * 1 added, 0 none, -1 error (*al). */
static int add_credential(SSL *ssl, saf_tls_state *st,
			  const unsigned char **out, size_t *outlen, int *al)
{
	const saf_addr *back;
	size_t n;

	if (!st->reattach_offered || !st->cont_offered || !st->offered_support)
		return 0;
	back = saf_tls_server_way_back(ssl, st);
	if (!back)
		return 0; /* no address to name: no credential */
	st->cred.target = *back;
	if (RAND_bytes(st->cred.id, SAF_REATTACH_ID_LEN) != 1) {
		*al = SSL_AD_INTERNAL_ERROR;
		return -1;
	}
	n = saf_reattach_cred_encode(&st->cred, st->cred_out,
				     sizeof(st->cred_out));
	if (!n)
		return 0;
	st->has_cred = true;
	*out = st->cred_out;
	*outlen = n;
	return 1;
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
		st = saf_tls_state_peek(ssl, base);
		if (context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS || !st)
			return 0;
		return add_credential(ssl, st, out, outlen, al);
	}
	if (context != SSL_EXT_CLIENT_HELLO)
		return 0;
	st = saf_tls_state_get(ssl, base);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return -1;
	}
	st->reattach_offered = true;
	st->cred_out[0] = (uint8_t)st->reattach_mode;
	*out = st->cred_out;
	*outlen = 1;
	return 1;
}

static int parse(SSL *ssl, unsigned int ext_type, unsigned int context,
		 const unsigned char *in, size_t inlen, X509 *x,
		 size_t chainidx, int *al, void *arg)
{
	saf_tls_base *base = arg;
	saf_tls_state *st;
	saf_reattach_mode mode;

	(void)ext_type;
	(void)x;
	(void)chainidx;
	st = saf_tls_state_get(ssl, base);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	if (base->is_server) {
		if (context != SSL_EXT_CLIENT_HELLO ||
		    !saf_tls_base_continuity(base))
			return 1;
		if (saf_reattach_hello_decode(in, inlen, &mode, NULL)) {
			*al = SSL_AD_DECODE_ERROR;
			return 0;
		}
		st->reattach_offered = true;
		st->reattach_mode = mode;
		return 1;
	}
	if (context != SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS)
		return 1;
	if (!st->reattach_offered) {
		*al = SSL_AD_ILLEGAL_PARAMETER;
		return 0;
	}
	if (saf_reattach_cred_decode(in, inlen, &st->cred, NULL)) {
		*al = SSL_AD_DECODE_ERROR;
		return 0;
	}
	st->has_cred = true;
	return 1;
}

const saf_tls_ext saf_tls_ext_reattach = {
	.name = "reattach",
	.type = type,
	.contexts = SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS,
	.add = add,
	.parse = parse,
};
