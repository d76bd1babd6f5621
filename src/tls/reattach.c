/* SPDX-License-Identifier: MIT */
/*
 * Continuity's early credential, the cryptography and the per-connection
 * accessors (docs/continuity.md, "Early credential"; the extension is
 * ext_reattach.c, the node's table serve_reattach.c).
 *
 * K = TLS-Exporter("EXPORTER-saf-reattach", id, 32) of the handshake
 * that issued the credential: it depends on that handshake's ECDHE, so
 * only its client and its node can compute it, and it never travels.
 * A comeback proves K bound to its own new connection:
 * proof = HMAC-SHA256(K, TLS-Exporter_new("EXPORTER-saf-reattach-bind",
 * id, 32)), so a proof copied into any other connection is worthless.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tls_internal.h"

static const char key_label[] = "EXPORTER-saf-reattach";
static const char bind_label[] = "EXPORTER-saf-reattach-bind";

static int export32(SSL *ssl, const char *label,
		    const uint8_t id[SAF_REATTACH_ID_LEN], uint8_t out[32])
{
	if (SSL_version(ssl) != TLS1_3_VERSION)
		return -1;
	return SSL_export_keying_material(ssl, out, 32, label, strlen(label),
					  id, SAF_REATTACH_ID_LEN, 1) == 1
		       ? 0
		       : -1;
}

int saf_tls_reattach_key(SSL *ssl, const uint8_t id[SAF_REATTACH_ID_LEN],
			 uint8_t key[SAF_REATTACH_KEY_LEN])
{
	return export32(ssl, key_label, id, key);
}

int saf_tls_reattach_proof(SSL *ssl, const uint8_t id[SAF_REATTACH_ID_LEN],
			   const uint8_t key[SAF_REATTACH_KEY_LEN],
			   uint8_t proof[SAF_REATTACH_PROOF_LEN])
{
	uint8_t bind[32];
	unsigned int len = 0;
	int rc = -1;

	if (export32(ssl, bind_label, id, bind) == 0 &&
	    HMAC(EVP_sha256(), key, SAF_REATTACH_KEY_LEN, bind, sizeof(bind),
		 proof, &len) != NULL &&
	    len == SAF_REATTACH_PROOF_LEN)
		rc = 0;
	OPENSSL_cleanse(bind, sizeof(bind));
	return rc;
}

/* The saf state of ssl, whatever role owns it; NULL when none. */
static saf_tls_state *state_of(SSL *ssl, bool server)
{
	saf_tls_base *base = saf_tls_base_of(ssl);

	if (!base || base->is_server != server)
		return NULL;
	return saf_tls_state_peek(ssl, base);
}

int saf_tls_server_reattach_issued(SSL *ssl, saf_reattach_cred *out)
{
	saf_tls_state *st = state_of(ssl, true);

	if (!st || !st->has_cred)
		return 0;
	*out = st->cred;
	return 1;
}

bool saf_tls_server_reattach_requested(SSL *ssl)
{
	saf_tls_state *st = state_of(ssl, true);

	return st && st->reattach_offered &&
	       st->reattach_mode == SAF_REATTACH_MODE_REATTACH;
}

int saf_tls_client_present_reattach(SSL *ssl)
{
	saf_tls_base *base = saf_tls_base_of(ssl);
	saf_tls_state *st;

	if (!base || base->is_server)
		return -1;
	st = saf_tls_state_get(ssl, base);
	if (!st)
		return -1;
	st->reattach_mode = SAF_REATTACH_MODE_REATTACH;
	return 0;
}

int saf_tls_client_reattach_cred(SSL *ssl, saf_reattach_cred *out)
{
	saf_tls_state *st = state_of(ssl, false);

	if (!st || !st->has_cred)
		return 0;
	*out = st->cred;
	return 1;
}
