/* SPDX-License-Identifier: MIT */
/*
 * MigrationToken, SPEC section 3.2 (exactly the seed's structure): a pure
 * codec. Decoding borrows from the input (no copy, no allocation) and
 * accepts only an exact encoding: every vector length inside its range, a
 * known address type, no trailing bytes.
 *
 *   IPAddress target_address;          type(1) addr(4|16) port(2)
 *   opaque session_id<32..255>;        1-byte length prefix
 *   uint64 expiry_timestamp;           Unix seconds
 *   opaque nonce<16..255>;             1-byte length prefix
 *   opaque signature<32..255>;         1-byte length prefix
 */
#ifndef SAF_TOKEN_H
#define SAF_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/cursor.h"
#include "saf/error.h"

typedef struct saf_token {
	saf_addr target;       /* has_port is always true */
	saf_slice session_id;
	uint64_t expiry;
	saf_slice nonce;
	saf_slice signature;
	/* Bytes covered by the signature: the encoding up to, not including,
	 * the signature vector (its length byte included in neither). */
	size_t signed_len;
} saf_token;

/* Decodes an exact encoding; slices point into buf, which must outlive
 * *out. Errors name the field: "token: session_id length 12 outside
 * 32..255". */
SAF_MUST_CHECK int saf_token_decode(const uint8_t *buf, size_t len,
				    saf_token *out, saf_error *err);

/* Encodes every field except the signature vector into buf; *out_len is
 * then the signed length. Used by minting, which appends the signature. */
SAF_MUST_CHECK int saf_token_encode_unsigned(const saf_token *tok,
					     uint8_t *buf, size_t cap,
					     size_t *out_len, saf_error *err);

/* Encodes the whole token, signature included. */
SAF_MUST_CHECK int saf_token_encode(const saf_token *tok, uint8_t *buf,
				    size_t cap, size_t *out_len,
				    saf_error *err);

#endif /* SAF_TOKEN_H */
