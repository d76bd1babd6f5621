/* SPDX-License-Identifier: MIT */
/*
 * The early credential of continuity (docs/continuity.md, "Early
 * credential"), as a pure codec: the `reattach` extension's two bodies.
 *
 *   ClientHello            uint8 mode        0 offer: "I can take a
 *                                            credential"; 1 reattach: "this
 *                                            connection comes back with
 *                                            one; REATTACH is my first frame"
 *   EncryptedExtensions    struct {
 *                              opaque id[16];
 *                              IPAddress target;   type(1) addr(4|16) port(2)
 *                          } ReattachCredential;
 *
 * The node answers only a ClientHello that also negotiated continuity.
 * The credential's key is never sent: both ends derive it from the
 * handshake that carried it (TLS exporter, src/tls/reattach.c).
 */
#ifndef SAF_REATTACH_H
#define SAF_REATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/constants.h"
#include "saf/error.h"

typedef enum saf_reattach_mode {
	SAF_REATTACH_MODE_OFFER = 0,
	SAF_REATTACH_MODE_REATTACH = 1,
} saf_reattach_mode;

typedef struct saf_reattach_cred {
	uint8_t id[SAF_REATTACH_ID_LEN];
	saf_addr target; /* has_port is always true */
} saf_reattach_cred;

/* The longest credential body: an IPv6 target. */
#define SAF_REATTACH_CRED_MAX (SAF_REATTACH_ID_LEN + 1u + 16u + 2u)

/* The ClientHello body: exactly one byte, 0 or 1. 0, or -1 with err
 * (SAF_E_RANGE for a length, SAF_E_FORMAT for an unknown mode). */
SAF_MUST_CHECK int saf_reattach_hello_decode(const uint8_t *body, size_t len,
					     saf_reattach_mode *out,
					     saf_error *err);

/* The credential body: exact (no trailing bytes, known address type,
 * port not 0). 0, or -1 with err naming the field. */
SAF_MUST_CHECK int saf_reattach_cred_decode(const uint8_t *body, size_t len,
					    saf_reattach_cred *out,
					    saf_error *err);

/* Encodes c into out; returns the bytes written, 0 when out is too small
 * or the target is not an IPv4/IPv6 address with a port. */
size_t saf_reattach_cred_encode(const saf_reattach_cred *c, uint8_t *out,
				size_t cap);

#endif /* SAF_REATTACH_H */
