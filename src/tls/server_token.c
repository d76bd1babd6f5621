/* SPDX-License-Identifier: MIT */
/*
 * Node side of SPEC 3.4 step 4 over OpenSSL's handshake: a presented token
 * is verified when its ClientHello is parsed and recorded (nonce into the
 * replay cache, the migration counted) only once the handshake is
 * complete.
 *
 * Why two steps: OpenSSL runs the parse callback for each ClientHello, and
 * after a HelloRetryRequest (key share in a group the node does not take)
 * the client sends the token again in a second ClientHello; a nonce
 * recorded on the first was then "replayed" on the second. And a
 * ClientHello copied by an observer and sent first would burn the real
 * client's nonce, though the copy can never finish (no key). So the parse
 * verifies everything but the replay check and refuses at once what the
 * cache already holds; the ServerHello marks that ClientHello as the one
 * that counts; when the client's Finished is in (libssl's handshake-done
 * event, which comes before the tickets are built) the nonce is tested
 * and inserted in one locked step, so of two handshakes completing with
 * one token at once (threads sharing the cache) exactly one is accepted.
 * The other is refused and ends with access_denied when its first ticket
 * is built (a node that sends no ticket keeps it as a plain resumption,
 * not a migration).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "tls_internal.h"

/* RFC 8446 4.2.9: psk_kex_modes, mode psk_dhe_ke. */
#define TLSEXT_PSK_KEX_MODES 45u
#define PSK_MODE_PSK_DHE_KE  1u

int saf_tls_server_refuse(saf_tls_server *srv, saf_tls_state *st,
			  saf_tls_refusal r, saf_verdict v, int *al)
{
	st->refusal = r;
	st->verdict = v;
	st->migrated = false;
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

/* Issue 17: whether a ClientHello offers psk_dhe_ke. A resumption
 * without it is psk_ke (no (EC)DHE), and a leaked ticket key would then
 * decrypt the migrated connection. */
static bool offers_psk_dhe_ke(SSL *ssl)
{
	const unsigned char *p;
	size_t len;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_PSK_KEX_MODES, &p, &len) !=
		    1 ||
	    len < 1 || p[0] != len - 1)
		return false;
	for (size_t i = 1; i < len; i++)
		if (p[i] == PSK_MODE_PSK_DHE_KE)
			return true;
	return false;
}

/* The raw ClientHello is readable only here (libssl frees it before the
 * custom extensions are parsed), once per ClientHello. */
int saf_tls_server_client_hello_cb(SSL *ssl, int *al, void *arg)
{
	saf_tls_state *st = saf_tls_state_get(ssl, arg);

	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	st->ch_psk_dhe_ke = offers_psk_dhe_ke(ssl);
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* The client's address prefix, as the source charged in the cache. */
static size_t source_key(const SSL *ssl, const saf_tls_server *srv,
			 saf_tls_state *st, uint8_t out[1 + SAF_IPV6_LEN])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = SSL_get_fd(ssl);
	unsigned bits, n;

	if (!st->has_peer) {
		if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) ||
		    saf_addr_from_sockaddr((struct sockaddr *)&ss, sl,
					   &st->peer, NULL))
			return 0;
		st->has_peer = true;
	}
	bits = st->peer.family == 4 ? srv->prefix4 : srv->prefix6;
	n = st->peer.family == 4 ? 4u : SAF_IPV6_LEN;
	memset(out, 0, 1 + SAF_IPV6_LEN);
	out[0] = st->peer.family;
	for (unsigned i = 0; i < n && bits; i++) {
		unsigned take = bits >= 8 ? 8 : bits;

		out[1 + i] = (uint8_t)(st->peer.bytes[i] & (0xff00u >> take));
		bits -= take;
	}
	return 1 + n;
}

/* Verifies a token on a resumption ClientHello (everything but recording
 * its nonce). Built-in extensions (the PSK) are parsed before custom
 * ones, so whether the ticket resumed is known here, and the session is
 * the resumed one. Returns 1 to go on, 0 with *al to end the handshake. */
int saf_tls_server_check_token(SSL *ssl, saf_tls_server *srv, saf_tls_state *st,
			       const uint8_t *in, size_t len, int *al)
{
	uint8_t src[1 + SAF_IPV6_LEN];
	size_t src_len;
	saf_token_keys keys;
	saf_verify_params p;
	saf_token tok;
	saf_verdict v;

	st->token_verified = false;
	st->token_final = false;
	if (!st->offered_support)
		return saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_NO_SUPPORT,
					     0, al);
	if (!SSL_session_reused(ssl))
		return saf_tls_server_refuse(srv, st,
					     SAF_TLS_REFUSE_NOT_RESUMED, 0, al);
	if (!st->ch_psk_dhe_ke)
		return saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_PSK_KE, 0,
					     al);
	if (!st->has_local) {
		if (saf_tls_local_from_fd(ssl, &st->local))
			return saf_tls_server_refuse(
				srv, st, SAF_TLS_REFUSE_NO_LOCAL, 0, al);
		st->has_local = true;
	}
	if (saf_tls_server_session_keys(ssl, srv, &keys)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return 0;
	}
	p.keys = &keys;
	p.local = &st->local;
	p.now = srv->clock(srv->clock_arg);
	p.replay = NULL; /* recorded once the handshake completes */
	v = saf_token_verify(&p, in, len, &tok, NULL);
	if (v == SAF_TOKEN_VALID)
		memcpy(st->session_id, keys.session_id, sizeof(st->session_id));
	saf_token_keys_wipe(&keys);
	if (v != SAF_TOKEN_VALID)
		return saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_VERDICT, v,
					     al);
	/* What the cache would answer now (already held, no room) is
	 * refused now, with the alert on this flight; only a race between
	 * two fresh copies is settled when recording. */
	src_len = source_key(ssl, srv, st, src);
	switch (saf_replay_check_from(srv->replay, tok.nonce.base,
				      tok.nonce.len, tok.expiry,
				      src_len ? src : NULL, src_len)) {
	case SAF_REPLAY_FRESH:
		break;
	case SAF_REPLAY_SEEN:
		return saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_VERDICT,
					     SAF_TOKEN_REPLAYED, al);
	case SAF_REPLAY_SOURCE_FULL:
		return saf_tls_server_refuse(
			srv, st, SAF_TLS_REFUSE_SOURCE_SHARE, 0, al);
	case SAF_REPLAY_FULL:
	default:
		return saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_VERDICT,
					     SAF_TOKEN_REPLAY_FULL, al);
	}
	memcpy(st->nonce, tok.nonce.base, tok.nonce.len);
	st->nonce_len = tok.nonce.len;
	st->expiry = tok.expiry;
	st->token_verified = true;
	return 1;
}

void saf_tls_server_token_final(saf_tls_state *st)
{

	if (st->token_verified)
		st->token_final = true;
}

int saf_tls_server_record_token(const SSL *ssl, saf_tls_server *srv,
				saf_tls_state *st, int *al)
{
	uint8_t src[1 + SAF_IPV6_LEN];
	size_t src_len;
	saf_replay_result r;

	if (st->token_recorded) {
		*al = st->record_alert;
		return st->record_alert ? -1 : 0;
	}
	if (!st->token_final)
		return 0;
	st->token_recorded = true;
	src_len = source_key(ssl, srv, st, src);
	r = saf_replay_check_and_insert_from(srv->replay, st->nonce,
					     st->nonce_len, st->expiry,
					     src_len ? src : NULL, src_len);
	OPENSSL_cleanse(st->nonce, sizeof(st->nonce));
	switch (r) {
	case SAF_REPLAY_FRESH:
		st->migrated = true;
		srv->counters.migrations_accepted++;
		return 0;
	case SAF_REPLAY_SEEN:
		saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_VERDICT,
				      SAF_TOKEN_REPLAYED, al);
		break;
	case SAF_REPLAY_SOURCE_FULL:
		saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_SOURCE_SHARE, 0,
				      al);
		break;
	case SAF_REPLAY_FULL:
	default:
		saf_tls_server_refuse(srv, st, SAF_TLS_REFUSE_VERDICT,
				      SAF_TOKEN_REPLAY_FULL, al);
		break;
	}
	st->record_alert = *al;
	return -1;
}
