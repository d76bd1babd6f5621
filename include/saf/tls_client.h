/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant, client side: saf_tls_client and the seed procedure.
 * Part of saf/tls.h, which includes it.
 */
#ifndef SAF_TLS_CLIENT_H
#define SAF_TLS_CLIENT_H

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

/* ---- client ------------------------------------------------------------ */

typedef struct saf_tls_client saf_tls_client;

typedef struct saf_tls_client_config {
	saf_tlsext_codepoints cp;
	bool allow_loopback_targets; /* accept tokens for 127/8, ::1 */
	bool continuity;	     /* offer the continuity extension */
	/* Which token targets may be used (saf/policy.h), checked when a
	 * token arrives, so a refused one is never offered, and again before
	 * any connect to a target. Copied by saf_tls_client_new. NULL: the
	 * default policy (global unicast only). allow_loopback_targets adds
	 * loopback to either. */
	const saf_target_policy *policy;
} saf_tls_client_config;
void saf_tls_client_config_init(saf_tls_client_config *cfg);

/* Registers the extensions and a new-session callback on ctx (client
 * session cache mode, no internal store). ctx must outlive the object. */
saf_tls_client *saf_tls_client_new(SSL_CTX *ctx,
				   const saf_tls_client_config *cfg,
				   saf_error *err);
void saf_tls_client_free(saf_tls_client *cli);

/* The newest valid token a connection received, with a copy of its
 * ticket's session. A token is valid when it decodes, its session_id is
 * that ticket's (SPEC 3.3) and its target passes the client's target
 * policy (saf_tls_client_config.policy). */
typedef struct saf_tls_offer {
	SSL_SESSION *session; /* owned by the caller: SSL_SESSION_free */
	uint8_t token[SAF_TOKEN_MAX_LEN];
	size_t token_len;
	saf_addr target;
	uint64_t expiry;
	bool notify; /* the ticket carried migrate_notify */
} saf_tls_offer;

/* Takes a copy of the newest valid offer of ssl. Returns 1 and fills *out,
 * 0 when there is none. */
int saf_tls_client_offer(SSL *ssl, saf_tls_offer *out);
void saf_tls_offer_clear(saf_tls_offer *o);

/* Presents `token` in the ClientHello of ssl (call with SSL_set_session of
 * the ticket that carried it, before SSL_connect). The bytes are copied. */
SAF_MUST_CHECK int saf_tls_client_present_token(SSL *ssl, const uint8_t *token,
						size_t len, saf_error *err);

/* Whether ssl negotiated continuity (either role): both sides then carry
 * frames, not raw bytes, in application data. */
bool saf_tls_continuity(SSL *ssl);

/* migrate_notify seen on ssl: 1 for a ticket with the extension, 2 for
 * alert 0xF0 (the connection is then dead), 0 none. */
int saf_tls_client_notified(SSL *ssl);

/* Why the last token this connection received was not kept ("token target
 * for 169.254.169.254 rejected: link-local (RFC 3927) not allowed by the
 * target policy"), or NULL when none was refused. Valid while ssl lives. */
const char *saf_tls_client_token_refusal(SSL *ssl);

/* 0 when the client behind ctx may connect to target; -1 with the policy's
 * message otherwise (also when ctx has no saf client object). */
SAF_MUST_CHECK int saf_tls_client_check_target(SSL_CTX *ctx,
					       const saf_addr *target,
					       const char *what,
					       saf_error *err);
/* The last alert received on ssl (info callback: level << 8 | desc), or
 * -1; and the last alert sent. */
int saf_tls_client_alert_received(SSL *ssl);
int saf_tls_client_alert_sent(SSL *ssl);

/* ---- the seed procedure (client) ---------------------------------------- */

/* Where saf_tls_connect ended and why. */
typedef enum saf_tls_outcome {
	SAF_TLS_ON_TARGET = 0,	 /* migrated: the connection is to the target */
	SAF_TLS_STAYED_NO_TOKEN, /* no token within the wait: on S */
	SAF_TLS_STAYED_UNREACHABLE, /* target did not answer: on S */
	SAF_TLS_STAYED_REFUSED,	    /* node refused the token: on S */
	SAF_TLS_STAYED_NOT_RESUMED, /* node did not resume: on S */
	SAF_TLS_RETURNED_TO_S,	    /* after notify: fresh connection to S */
	SAF_TLS_ON_S_CONTINUITY,    /* continuity: starts on S at once and
				       moves underneath (saf_tls_stream);
				       via_tcp_advert: it starts at U */
	SAF_TLS_ON_UNICAST,	    /* TLS over saf TCP: the TCP advert moved
				       the client to the node's unicast
				       address before its ClientHello; one
				       full handshake there, no migration */
} saf_tls_outcome;
const char *saf_tls_outcome_name(saf_tls_outcome o);

/* TLS over saf TCP (docs/tls.md): whether the TCP connection to S is
 * opened with the TCP variant (saf_tcp_connect: the advert in the SYN-ACK
 * moves the client to the node's unicast address U before its ClientHello,
 * so the handshake happens at U and R1 may move S from then on). */
typedef enum saf_tls_tcp_variant {
	/* Used when the client program's advert map is pinned and the node
	 * advertises; otherwise (not attached, this process outside its
	 * cgroup, node without the program, advert refused by the target
	 * policy, U unreachable) the connection stays on S and the seed
	 * procedure runs as without it. */
	SAF_TLS_TCP_AUTO = 0,
	SAF_TLS_TCP_OFF, /* a plain connect to S, as before the variant */
	SAF_TLS_TCP_ON,	 /* required: no usable advert fails the connect */
} saf_tls_tcp_variant;

/* "auto", "off", "on". */
const char *saf_tls_tcp_variant_name(saf_tls_tcp_variant v);
/* Parses "auto", "off" or "on"; -1 with err naming the value otherwise. */
SAF_MUST_CHECK int saf_tls_tcp_variant_parse(const char *s,
					     saf_tls_tcp_variant *out,
					     saf_error *err);

typedef struct saf_tls_connect_opts {
	const char *server_name;       /* SNI and name to verify; NULL: none */
	unsigned connect_timeout_ms;   /* 0: 3000 */
	unsigned handshake_timeout_ms; /* 0: 5000 */
	unsigned ticket_wait_ms;       /* 0: 1000 */
	bool migrate;		       /* false: never leave S (plain TLS) */
	/* Applies only when migrate is set (without it the client stays on
	 * S). Adverts are checked against the client's target policy
	 * (saf_tls_client_config.policy) like tokens. */
	saf_tls_tcp_variant tcp_variant;
	/* Where the client program is pinned; NULL: saf_tcp_pin_dir(NULL)
	 * ($SAF_BPF_PIN_DIR, else SAF_TCP_PIN_DIR). */
	const char *tcp_pin_dir;
} saf_tls_connect_opts;

/* One live connection of the client, with what the seed procedure did.
 * fd is blocking after connect; ssl owns nothing of fd (close both with
 * saf_tls_conn_close). The layout is kept simple so a framing layer
 * (continuity, SPEC 4) can wrap it later. */
typedef struct saf_tls_conn {
	int fd;
	SSL *ssl;
	saf_addr anycast; /* S, as asked */
	saf_addr peer;	  /* where fd is connected now */
	saf_tls_outcome outcome;
	/* one line for -v: room for the seed procedure's outcome and what
	 * the TCP variant found, each up to an error message long */
	char why[2 * SAF_ERROR_MSG_LEN];
	uint64_t migrations;
	/* The TCP connection followed the node's advert (TLS over saf TCP):
	 * the handshake happened at peer, the node's unicast address. */
	bool via_tcp_advert;
	/* The newest valid token the client holds for this service, from
	 * this or an earlier connection (refreshed by
	 * saf_tls_conn_follow_notify; an application may seed it). */
	saf_tls_offer offer;
} saf_tls_conn;

/* Runs SPEC 3.4 from the client side: connect to S offering support (with
 * the TCP variant, opts->tcp_variant: when the advert moved the connection
 * to U before the ClientHello, stop after the handshake there:
 * SAF_TLS_ON_UNICAST, or SAF_TLS_ON_S_CONTINUITY with via_tcp_advert),
 * (when the node negotiated continuity, stop there: SAF_TLS_ON_S_CONTINUITY,
 * and let saf_tls_stream move the connection underneath; otherwise go on:)
 * handshake, wait up to ticket_wait_ms for a ticket with a token, keep a
 * copy of its session, connect to the target, resume presenting the token,
 * and close the first connection with close_notify. Whenever a step fails
 * it stays on the connection to S and says why in conn->why. Returns -1
 * only when no connection at all could be made (S unreachable, handshake
 * failed, certificate refused). */
SAF_MUST_CHECK int saf_tls_connect(SSL_CTX *ctx, const saf_addr *anycast,
				   const saf_tls_connect_opts *opts,
				   saf_tls_conn *conn, saf_error *err);

/* Acts on migrate_notify: migrates conn to the target of its newest valid
 * token (the current connection's, else conn->offer) (ticket form: the old
 * connection is closed with close_notify after the new one is up; alert form:
 * the old one is already gone). If that fails and the old connection is dead,
 * connects afresh to S (SAF_TLS_RETURNED_TO_S). Returns -1 only when nothing is
 * left. */
SAF_MUST_CHECK int saf_tls_conn_follow_notify(SSL_CTX *ctx,
					      const saf_tls_connect_opts *opts,
					      saf_tls_conn *conn,
					      saf_error *err);

void saf_tls_conn_close(saf_tls_conn *conn);

#endif /* SAF_TLS_CLIENT_H */
