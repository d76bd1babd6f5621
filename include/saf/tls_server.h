/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant, node side: saf_tls_server (saf/tls.h says more).
 * Part of saf/tls.h, which includes it.
 */
#ifndef SAF_TLS_SERVER_H
#define SAF_TLS_SERVER_H

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
#include "saf/tls_keys.h"

/* ---- server ------------------------------------------------------------ */

typedef struct saf_tls_server saf_tls_server;

/* Told the session_id of each token the server mints, with the connection
 * whose ticket carries it: a continuity layer records it, so that a later
 * connection presenting that token (saf_tls_conn_info.session_id) is
 * re-attached to the same stream. */
typedef struct saf_tls_server_config saf_tls_server_config;
typedef void (*saf_tls_token_cb)(SSL *ssl,
				 const uint8_t session_id[SAF_SESSION_ID_LEN],
				 void *arg);

struct saf_tls_server_config {
	/* NK (SPEC 3.3). Required. */
	uint8_t node_key[SAF_NODE_KEY_LEN];
	/* Node keys being rotated out (saf_tls_keys.prev): tokens they signed
	 * verify until their retire time. */
	saf_tls_prev_node_key prev_node_keys[SAF_TLS_PREV_NODE_KEYS];
	size_t n_prev_node_keys;
	/* Ticket keys installed on the SSL_CTX when has_ticket_keys, so that
	 * sibling nodes resume each other's tickets. */
	uint8_t ticket_keys[SAF_TLS_TICKET_KEYS_LEN];
	bool has_ticket_keys;
	uint32_t token_lifetime_s; /* 0: SAF_TOKEN_LIFETIME_DEFAULT_S */
	/* Replay cache (docs/tls.md "Replay cache"). Its size is the
	 * nonces redeemable within one token lifetime at the node's full
	 * handshake rate, so that filling it costs an attacker the node's
	 * whole handshake capacity for a lifetime. */
	uint32_t handshakes_per_s; /* 0: SAF_NODE_HANDSHAKES_PER_S_DEFAULT */
	size_t replay_entries;	   /* 0: token_lifetime_s * handshakes_per_s */
	/* Live nonces one client source (address prefix below) may hold;
	 * 0: replay_entries / SAF_REPLAY_SOURCE_SHARE_DIV_DEFAULT;
	 * SIZE_MAX: no share. */
	size_t replay_source_share;
	uint8_t source_prefix4; /* 0: SAF_REPLAY_SOURCE_PREFIX4_DEFAULT */
	uint8_t source_prefix6; /* 0: SAF_REPLAY_SOURCE_PREFIX6_DEFAULT */
	/* A cache shared with the other server objects of this process
	 * (one per thread); not owned, must outlive the server. NULL: the
	 * server makes its own from the fields above. */
	saf_replay_cache *replay;
	saf_tlsext_codepoints cp; /* from saf_tlsext_codepoints_default() */
	saf_clock_fn clock;	  /* NULL: realtime (tests inject) */
	void *clock_arg;
	/* Answer the continuity extension (docs/continuity.md). On a
	 * connection that negotiated it, tickets carry tokens even without
	 * a target (saf_tls_server_set_target): for the address the
	 * connection arrived on, so that the client can come back after a
	 * break. */
	bool continuity;
	saf_tls_token_cb on_token; /* may be NULL */
	void *on_token_arg;
};

/* Fills defaults: default code points, lifetime, replay size; no key. */
void saf_tls_server_config_init(saf_tls_server_config *cfg);
/* Takes the node key, the ticket keys and the previous node keys of a key
 * file (saf_tls_keys_load) into cfg. */
void saf_tls_server_config_use_keys(saf_tls_server_config *cfg,
				    const saf_tls_keys *k);

/* Registers the extensions on ctx (TLS 1.3 only; the ctx must not have
 * them already), sets a session id context and, when given, the ticket
 * keys. ctx must outlive the returned object; free the object after the
 * last SSL of ctx is gone. */
saf_tls_server *saf_tls_server_new(SSL_CTX *ctx,
				   const saf_tls_server_config *cfg,
				   saf_error *err);
void saf_tls_server_free(saf_tls_server *srv);

/* Per connection, before the handshake: the target put in tokens of this
 * connection's tickets (the node's unicast address for the service it was
 * reached on). Without a target no token is sent: connections on the
 * unicast address itself normally have none. */
SAF_MUST_CHECK int saf_tls_server_set_target(SSL *ssl, const saf_addr *target,
					     saf_error *err);
/* The local address and port the connection arrived on, against which a
 * token's target is checked. Without it, getsockname() on SSL_get_fd(ssl)
 * is used when the ClientHello is parsed (and a token is refused when there
 * is no socket). */
SAF_MUST_CHECK int saf_tls_server_set_local(SSL *ssl, const saf_addr *local,
					    saf_error *err);

/* The client's address, whose prefix is charged for the nonce a
 * migration records (replay_source_share). Without it, getpeername() on
 * SSL_get_fd(ssl); with neither, no source is charged. */
SAF_MUST_CHECK int saf_tls_server_set_peer(SSL *ssl, const saf_addr *peer,
					   saf_error *err);

/* Why a migration was refused, beyond the token verdicts. */
typedef enum saf_tls_refusal {
	SAF_TLS_REFUSE_NONE = 0,
	SAF_TLS_REFUSE_VERDICT,	    /* see saf_tls_conn_info.verdict */
	SAF_TLS_REFUSE_NO_SUPPORT,  /* token without migration_support */
	SAF_TLS_REFUSE_NOT_RESUMED, /* token on a ClientHello that did not
				       resume (unknown or expired ticket) */
	SAF_TLS_REFUSE_NO_LOCAL,    /* local address unknown */
	/* token on a resumption without (EC)DHE (psk_ke): a leaked ticket
	 * key would expose the migrated connection (issue 17) */
	SAF_TLS_REFUSE_PSK_KE,
	/* this client's address prefix holds its share of the replay
	 * cache (replay_source_share) */
	SAF_TLS_REFUSE_SOURCE_SHARE,
	SAF_TLS_REFUSE_RETIRED_KEY, /* signed by a previous node key whose
				       overlap has ended */
	SAF_TLS_REFUSE_COUNT
} saf_tls_refusal;
const char *saf_tls_refusal_name(saf_tls_refusal r);

/* What the server knows of one connection. */
typedef struct saf_tls_conn_info {
	bool offered_support; /* client sent migration_support */
	bool migrated;	      /* resumed with a valid token */
	/* session_id of the migrated session (SPEC 3.3), for re-attaching
	 * application state; valid when migrated. */
	uint8_t session_id[SAF_SESSION_ID_LEN];
	saf_tls_refusal refusal;
	saf_verdict verdict; /* when refusal == SAF_TLS_REFUSE_VERDICT */
	unsigned tokens_sent;
	bool continuity; /* negotiated: frames in application data */
} saf_tls_conn_info;

/* Returns 0 and fills *out; -1 when ssl is not one of a saf server. */
SAF_MUST_CHECK int saf_tls_server_conn_info(SSL *ssl, saf_tls_conn_info *out);

/* migrate_notify, ticket form (SPEC 3.5): queues a post-handshake
 * NewSessionTicket carrying a fresh token for `target` (chosen now) plus
 * the empty migrate_notify extension. The ticket goes out with the next
 * SSL_write or SSL_do_handshake; the connection stays up. Fails when the
 * handshake is not complete or the client did not offer migration_support
 * (it could not act on it). */
SAF_MUST_CHECK int
saf_tls_server_migrate_notify(SSL *ssl, const saf_addr *target, saf_error *err);

typedef struct saf_tls_server_counters {
	uint64_t handshakes_with_support; /* ClientHellos with support */
	uint64_t tokens_issued;
	uint64_t notifies_sent;
	/* counted once per connection, when the handshake completes and
	 * the nonce is recorded (never twice through a HelloRetryRequest) */
	uint64_t migrations_accepted;
	uint64_t refused[SAF_TLS_REFUSE_COUNT];	     /* by refusal */
	uint64_t refused_verdict[SAF_VERDICT_COUNT]; /* by token verdict */
} saf_tls_server_counters;
void saf_tls_server_counters_get(const saf_tls_server *srv,
				 saf_tls_server_counters *out);

#endif /* SAF_TLS_SERVER_H */
