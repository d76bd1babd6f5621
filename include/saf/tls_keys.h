/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant's key file, shared by the nodes of one service.
 * Part of saf/tls.h, which includes it.
 */
#ifndef SAF_TLS_KEYS_H
#define SAF_TLS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poll.h>

#include <openssl/ssl.h>

#include "saf/addr.h"
#include "saf/cont.h"
#include "saf/constants.h"
#include "saf/error.h"
#include "saf/policy.h"
#include "saf/replay.h"
#include "saf/tlsext.h"
#include "saf/token_crypto.h"

/* ---- shared node keys (file) ------------------------------------------ */

/* Ticket keys in the layout of SSL_CTX_set_tlsext_ticket_keys: 16 bytes
 * key name, 32 HMAC key, 32 AES key. */
#define SAF_TLS_TICKET_KEYS_LEN 80u

/* A node key being rotated out: tokens it signed still verify until
 * `retire` (Unix seconds), so a rotation does not cut every outstanding
 * token. Set retire to the rotation time plus the token lifetime. */
#define SAF_TLS_PREV_NODE_KEYS 4u
typedef struct saf_tls_prev_node_key {
	uint8_t node_key[SAF_NODE_KEY_LEN];
	uint64_t retire;
} saf_tls_prev_node_key;

typedef struct saf_tls_keys {
	uint8_t node_key[SAF_NODE_KEY_LEN];
	uint8_t ticket_keys[SAF_TLS_TICKET_KEYS_LEN];
	saf_tls_prev_node_key prev[SAF_TLS_PREV_NODE_KEYS];
	size_t n_prev;
} saf_tls_keys;

/* Fresh random keys. */
SAF_MUST_CHECK int saf_tls_keys_generate(saf_tls_keys *out, saf_error *err);

/* The key file shared by the nodes of one service, so a token minted (and a
 * ticket issued) by one node verifies at a sibling. Text, one key a line:
 *
 *   # saf tls keys v1
 *   node_key <64 hex digits>
 *   ticket_keys <160 hex digits>
 *   previous_node_key <64 hex digits> <retire, Unix seconds>   (0..4)
 *
 * node_key signs new tokens; a previous_node_key still verifies tokens
 * until its retire time (the rotation overlap), then it is refused with
 * the reason retired_node_key. Rotation: move node_key to a
 * previous_node_key line with retire = now + the token lifetime, write a
 * new node_key, restart the nodes.
 *
 * Lines end with LF (CRLF too: a CR only right before the LF; the last
 * line may lack its line end), at most SAF_TLS_KEYS_LINE_MAX bytes each,
 * no NUL byte. A line is blank, a comment (its first non-blank character
 * '#'), or a name and its value in hex (either case, exactly that many
 * digits), with spaces or tabs around and between them. Each name once
 * (previous_node_key up to SAF_TLS_PREV_NODE_KEYS times).
 *
 * Loading refuses a file that is not a regular file, that group or others
 * may read or write (mode must be 0600 or stricter), or with a missing,
 * repeated or malformed line; the message names the line and what is
 * wrong. Key bytes never appear in error messages. */
#define SAF_TLS_KEYS_LINE_MAX 1024u
SAF_MUST_CHECK int saf_tls_keys_load(const char *path, saf_tls_keys *out,
				     saf_error *err);
/* Writes a new file with mode 0600 (O_EXCL: never overwrites). */
SAF_MUST_CHECK int saf_tls_keys_save(const char *path, const saf_tls_keys *k,
				     saf_error *err);
void saf_tls_keys_wipe(saf_tls_keys *k);

#endif /* SAF_TLS_KEYS_H */
