/* SPDX-License-Identifier: MIT */
/* MigrationToken codec (SPEC section 3.2): exact encodings only. */
#include "saf/token.h"

#include <string.h>

static int get_ip_address(saf_reader *r, saf_addr *a, saf_error *err)
{
	uint8_t type;
	saf_slice ip;
	size_t n;

	if (saf_get_u8(r, &type, "token: address type", err))
		return -1;
	if (type == SAF_TOKEN_ADDR_TYPE_IPV4)
		n = SAF_IPV4_LEN;
	else if (type == SAF_TOKEN_ADDR_TYPE_IPV6)
		n = SAF_IPV6_LEN;
	else
		return saf_fail(err, SAF_E_FORMAT,
				"token: unknown address type %u", type);
	if (saf_get_bytes(r, n, &ip, "token: target address", err) ||
	    saf_get_u16(r, &a->port, "token: target port", err))
		return -1;
	memset(a->bytes, 0, sizeof(a->bytes));
	memcpy(a->bytes, ip.base, n);
	a->family = n == SAF_IPV4_LEN ? 4 : 6;
	a->has_port = true;
	return 0;
}

int saf_token_decode(const uint8_t *buf, size_t len, saf_token *out,
		     saf_error *err)
{
	saf_token t = { 0 };
	saf_reader r;

	saf_reader_init(&r, buf, len);
	if (get_ip_address(&r, &t.target, err) ||
	    saf_get_vec8(&r, SAF_TOKEN_SESSION_ID_MIN, SAF_TOKEN_SESSION_ID_MAX,
			 &t.session_id, "token: session_id", err) ||
	    saf_get_u64(&r, &t.expiry, "token: expiry_timestamp", err) ||
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

static void put_unsigned(saf_writer *w, const saf_token *t)
{
	bool v4 = t->target.family == 4;

	saf_put_u8(w, (uint8_t)(v4 ? SAF_TOKEN_ADDR_TYPE_IPV4
				  : SAF_TOKEN_ADDR_TYPE_IPV6));
	saf_put_bytes(w, t->target.bytes, v4 ? SAF_IPV4_LEN : SAF_IPV6_LEN);
	saf_put_u16(w, t->target.port);
	saf_put_vec8(w, t->session_id.base, t->session_id.len);
	saf_put_u64(w, t->expiry);
	saf_put_vec8(w, t->nonce.base, t->nonce.len);
}

static int check_fields(const saf_token *t, bool with_signature,
			saf_error *err)
{
	if (t->target.family != 4 && t->target.family != 6)
		return saf_fail(err, SAF_E_INVAL,
				"token: target address family %u",
				t->target.family);
	if (t->session_id.len < SAF_TOKEN_SESSION_ID_MIN ||
	    t->session_id.len > SAF_TOKEN_SESSION_ID_MAX)
		return saf_fail(err, SAF_E_RANGE,
				"token: session_id length %zu outside 32..255",
				t->session_id.len);
	if (t->nonce.len < SAF_TOKEN_NONCE_MIN ||
	    t->nonce.len > SAF_TOKEN_NONCE_MAX)
		return saf_fail(err, SAF_E_RANGE,
				"token: nonce length %zu outside 16..255",
				t->nonce.len);
	if (with_signature && (t->signature.len < SAF_TOKEN_SIGNATURE_MIN ||
			       t->signature.len > SAF_TOKEN_SIGNATURE_MAX))
		return saf_fail(err, SAF_E_RANGE,
				"token: signature length %zu outside 32..255",
				t->signature.len);
	return 0;
}

int saf_token_encode_unsigned(const saf_token *tok, uint8_t *buf, size_t cap,
			      size_t *out_len, saf_error *err)
{
	saf_writer w;

	if (check_fields(tok, false, err))
		return -1;
	saf_writer_init(&w, buf, cap);
	put_unsigned(&w, tok);
	if (saf_writer_finish(&w, "token", err))
		return -1;
	*out_len = w.len;
	return 0;
}

int saf_token_encode(const saf_token *tok, uint8_t *buf, size_t cap,
		     size_t *out_len, saf_error *err)
{
	saf_writer w;

	if (check_fields(tok, true, err))
		return -1;
	saf_writer_init(&w, buf, cap);
	put_unsigned(&w, tok);
	saf_put_vec8(&w, tok->signature.base, tok->signature.len);
	if (saf_writer_finish(&w, "token", err))
		return -1;
	*out_len = w.len;
	return 0;
}
