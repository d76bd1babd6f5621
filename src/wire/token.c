/* SPDX-License-Identifier: MIT */
/*
 * MigrationToken (SPEC 3.2). "A decoder accepts only an exact encoding:
 * every length inside its range, no trailing bytes, known address type."
 */
#include "saf/token.h"

#include <string.h>

#include "ipaddr.h"

int saf_token_decode(const uint8_t *buf, size_t len, saf_token *out,
		     saf_error *err)
{
	saf_reader r;
	saf_token t;

	memset(&t, 0, sizeof(t));
	saf_reader_init(&r, buf, len);
	if (saf_wire_get_ipaddr(&r, "token", &t.target, err))
		return -1;
	if (saf_get_vec8(&r, SAF_TOKEN_SESSION_ID_MIN, SAF_TOKEN_SESSION_ID_MAX,
			 &t.session_id, "token: session_id", err) ||
	    saf_get_u64(&r, &t.expiry, "token: expiry", err) ||
	    saf_get_vec8(&r, SAF_TOKEN_NONCE_MIN, SAF_TOKEN_NONCE_MAX, &t.nonce,
			 "token: nonce", err))
		return -1;
	t.signed_len = r.pos;
	if (saf_get_vec8(&r, SAF_TOKEN_SIGNATURE_MIN, SAF_TOKEN_SIGNATURE_MAX,
			 &t.signature, "token: signature", err) ||
	    saf_reader_expect_end(&r, "token", err))
		return -1;
	*out = t;
	return 0;
}

static int check_range(const char *what, size_t n, size_t min, size_t max,
		       saf_error *err)
{
	if (n < min || n > max)
		return saf_fail(err, SAF_E_RANGE,
				"token: %s length %zu outside %zu..%zu", what,
				n, min, max);
	return 0;
}

static int put_unsigned(const saf_token *tok, saf_writer *w, saf_error *err)
{
	const saf_addr *a = &tok->target;

	if (a->family != 4 && a->family != 6)
		return saf_fail(err, SAF_E_INVAL,
				"token: target family %u is neither 4 nor 6",
				a->family);
	if (!a->has_port)
		return saf_fail(err, SAF_E_INVAL, "token: target needs a port");
	if (check_range("session_id", tok->session_id.len,
			SAF_TOKEN_SESSION_ID_MIN, SAF_TOKEN_SESSION_ID_MAX,
			err) ||
	    check_range("nonce", tok->nonce.len, SAF_TOKEN_NONCE_MIN,
			SAF_TOKEN_NONCE_MAX, err))
		return -1;
	saf_wire_put_ipaddr(w, a);
	saf_put_vec8(w, tok->session_id.base, tok->session_id.len);
	saf_put_u64(w, tok->expiry);
	saf_put_vec8(w, tok->nonce.base, tok->nonce.len);
	return 0;
}

int saf_token_encode_unsigned(const saf_token *tok, uint8_t *buf, size_t cap,
			      size_t *out_len, saf_error *err)
{
	saf_writer w;

	saf_writer_init(&w, buf, cap);
	if (put_unsigned(tok, &w, err) || saf_writer_finish(&w, "token", err))
		return -1;
	*out_len = w.len;
	return 0;
}

int saf_token_encode(const saf_token *tok, uint8_t *buf, size_t cap,
		     size_t *out_len, saf_error *err)
{
	saf_writer w;

	saf_writer_init(&w, buf, cap);
	if (put_unsigned(tok, &w, err) ||
	    check_range("signature", tok->signature.len,
			SAF_TOKEN_SIGNATURE_MIN, SAF_TOKEN_SIGNATURE_MAX, err))
		return -1;
	saf_put_vec8(&w, tok->signature.base, tok->signature.len);
	if (saf_writer_finish(&w, "token", err))
		return -1;
	*out_len = w.len;
	return 0;
}
