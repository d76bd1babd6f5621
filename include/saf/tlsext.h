/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant's small wire elements (SPEC 3.1, 3.5), as a pure codec:
 * the code points with their runtime override, and the two extensions
 * whose body is empty (migration_support in the ClientHello, migrate_notify
 * in a NewSessionTicket). The MigrationToken itself is in token.h; the
 * OpenSSL glue that carries these lives in src/tls/.
 */
#ifndef SAF_TLSEXT_H
#define SAF_TLSEXT_H

#include <stddef.h>
#include <stdint.h>

#include "saf/constants.h"
#include "saf/error.h"

/* The code points in use. Experimental (IANA assigned none), so every one
 * can be overridden at runtime; start from saf_tlsext_codepoints_default. */
typedef struct saf_tlsext_codepoints {
	uint16_t migration_support;   /* ClientHello, empty body */
	uint16_t migration_token;     /* NewSessionTicket, resumption CH */
	uint16_t migrate_notify;      /* NewSessionTicket, empty body */
	uint8_t migrate_notify_alert; /* alert description (alert form) */
	uint16_t continuity;	      /* CH and EncryptedExtensions (SPEC 4) */
	uint16_t reattach; /* CH and EncryptedExtensions (saf/reattach.h) */
} saf_tlsext_codepoints;

/* 0xFE4D, 0xFE50, 0xFE51 and alert 0xF0 (SPEC 3.1); continuity 0xFE52
 * and reattach 0xFE53 (docs/continuity.md). */
saf_tlsext_codepoints saf_tlsext_codepoints_default(void);

/* Refuses a set in which two extensions share a code point (SAF_E_INVAL,
 * naming both), since a receiver could not tell them apart. */
SAF_MUST_CHECK int saf_tlsext_codepoints_check(const saf_tlsext_codepoints *cp,
					       saf_error *err);

/* Parses a code point given by a person: hex with 0x ("0xFE4D") or decimal
 * ("65101"); bare hex ("fe4d") is refused as ambiguous. max is 0xffff for
 * extensions, 0xff for the alert. */
SAF_MUST_CHECK int saf_tlsext_codepoint_parse(const char *text, unsigned max,
					      unsigned *out, saf_error *err);

/* An extension whose body must be empty: 0, or SAF_E_TRAILING naming the
 * extension ("migrate_notify: body of 3 bytes, must be empty"). */
SAF_MUST_CHECK int saf_tlsext_empty_decode(const char *name,
					   const uint8_t *body, size_t len,
					   saf_error *err);

#endif /* SAF_TLSEXT_H */
