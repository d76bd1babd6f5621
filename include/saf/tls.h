/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant (SPEC section 3) on OpenSSL 3's public API: the glue that
 * carries migration_support, migration_token and migrate_notify as custom
 * extensions, mints and verifies tokens, and the client's seed procedure.
 *
 * Two context objects, one per role, each bound to one SSL_CTX which must
 * outlive it:
 *
 *   saf_tls_server  node side: node key, token lifetime, replay cache,
 *                   counters; per connection a target for tokens and the
 *                   local address tokens are checked against.
 *   saf_tls_client  client side: offers migration_support, keeps the newest
 *                   valid (session, token) pair per connection, notices
 *                   migrate_notify in both forms (ticket and alert 0xF0).
 *
 * Neither object locks. A server object and its counters belong to one
 * thread at a time (or serialise around it). A node that runs several
 * threads builds one server object (and SSL_CTX) per thread and gives
 * them all the same replay cache (saf_tls_server_config.replay, made
 * with saf_replay_cache_create): the cache locks, and records a nonce in
 * one test-and-insert step, so a token is accepted at most once in the
 * process. Separate caches for one address would accept a token once in
 * each.
 */
#ifndef SAF_TLS_H
#define SAF_TLS_H

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
				       moves underneath (saf_tls_stream) */
} saf_tls_outcome;
const char *saf_tls_outcome_name(saf_tls_outcome o);

typedef struct saf_tls_connect_opts {
	const char *server_name;       /* SNI and name to verify; NULL: none */
	unsigned connect_timeout_ms;   /* 0: 3000 */
	unsigned handshake_timeout_ms; /* 0: 5000 */
	unsigned ticket_wait_ms;       /* 0: 1000 */
	bool migrate;		       /* false: never leave S (plain TLS) */
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
	char why[SAF_ERROR_MSG_LEN]; /* one line for -v */
	uint64_t migrations;
	/* The newest valid token the client holds for this service, from
	 * this or an earlier connection (refreshed by
	 * saf_tls_conn_follow_notify; an application may seed it). */
	saf_tls_offer offer;
} saf_tls_conn;

/* Runs SPEC 3.4 from the client side: connect to S offering support,
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

/* ---- continuity: the client's stream (docs/continuity.md) --------------- */

/* A byte stream to the service that outlives its TLS connections: it
 * starts on the connection to S at once, moves to the node's unicast
 * address when the token arrives (and again on migrate_notify, either
 * form), and after a broken connection comes back to that address with
 * the newest token, a bounded number of times in a row. Nothing written
 * is lost or duplicated while the node keeps the stream.
 *
 * Nothing blocks: the next connection (TCP connect and the resumption
 * handshake, within the connect options' timeouts) is made in the
 * background while data flows on the current one; the application waits
 * only for the RESUME exchange after the switch. */
typedef struct saf_tls_stream saf_tls_stream;

typedef struct saf_tls_stream_opts {
	saf_tls_connect_opts conn;
	size_t send_buffer; /* 0: SAF_CONT_SEND_DEFAULT */
	/* tries to come back in a row; 0: SAF_CONT_COMEBACK_TRIES_DEFAULT */
	unsigned max_attempts;
	/* first pause between them, doubling; 0:
	 * SAF_CONT_COMEBACK_BACKOFF_MS_DEFAULT */
	unsigned backoff_ms;
	/* Liveness: a connection on which the node answers nothing (no
	 * keepalive answered, data unacknowledged) for this many seconds is
	 * broken, and the comeback starts; 0: SAF_CONT_LIVENESS_S_DEFAULT,
	 * at most SAF_CONT_LIVENESS_S_MAX. no_liveness: never (a silent node
	 * is then noticed only when TCP gives up on unacknowledged data). */
	unsigned liveness_s;
	bool no_liveness;
} saf_tls_stream_opts;

/* Takes over conn (from saf_tls_connect, outcome SAF_TLS_ON_S_CONTINUITY)
 * and starts the stream on it. conn is left empty. */
saf_tls_stream *saf_tls_stream_new(SSL_CTX *ctx,
				   const saf_tls_stream_opts *opts,
				   saf_tls_conn *conn, saf_error *err);
/* Closes the connection (close_notify) and frees everything. */
void saf_tls_stream_free(saf_tls_stream *s);

/* What to poll: the current connection and, while a move or comeback is
 * under way, the next one (1 or 2 entries, 0 while waiting to try again).
 * Then wait at most saf_tls_stream_timeout_ms (-1: no deadline). */
int saf_tls_stream_pollfds(const saf_tls_stream *s, struct pollfd out[2]);
int saf_tls_stream_timeout_ms(const saf_tls_stream *s);

/* Moves what can move: reads frames, sends frames, acts on tokens, notify
 * and breakage. Call after poll says the fd is ready, after writing or
 * reading, and at least once a second. Returns -1 when the stream is lost:
 * err says why in one line starting "stream lost: " and naming the node,
 * saf_tls_stream_lost which case it is. A lost stream is over: every
 * byte read before is a correct prefix of the node's stream, and no more
 * will come. */
SAF_MUST_CHECK int saf_tls_stream_step(saf_tls_stream *s, saf_error *err);

/* Why a stream was lost. The time it takes is bounded: a refusal ends it
 * at once; coming back is tried max_attempts times, each within the
 * connect and handshake timeouts, with the pauses between. */
typedef enum saf_tls_stream_loss {
	SAF_TLS_STREAM_NOT_LOST = 0,
	/* The node answered RESET unknown_session: it has no such stream
	 * (its process restarted, or it ended the stream after its linger
	 * time). Not retried: no other try can find it. */
	SAF_TLS_STREAM_UNKNOWN,
	/* The node refused every token left (an alert, no resumption, or
	 * no continuity), as a node restarted with other keys does. */
	SAF_TLS_STREAM_REFUSED,
	/* max_attempts tries in a row to come back failed (no connection,
	 * or no handshake in time): the node is gone, or the path to it. */
	SAF_TLS_STREAM_UNREACHABLE,
	/* The connection broke before any token arrived: no way back. */
	SAF_TLS_STREAM_NO_TOKEN,
	/* The node reset the stream for another reason (aborted: e.g. its
	 * backend failed, or it is full; protocol_violation). */
	SAF_TLS_STREAM_RESET,
	/* The node broke the continuity protocol: this side reset it. */
	SAF_TLS_STREAM_VIOLATION,
	/* A local failure (memory, OpenSSL). */
	SAF_TLS_STREAM_LOCAL,
} saf_tls_stream_loss;
saf_tls_stream_loss saf_tls_stream_lost(const saf_tls_stream *s);
/* "unknown_stream", "refused", "unreachable", ... ("not_lost"). */
const char *saf_tls_stream_loss_name(saf_tls_stream_loss l);

/* Application side, non-blocking: write takes what fits in the send buffer
 * (0: full, wait for the peer's acknowledgements), read copies what was
 * delivered in order. */
size_t saf_tls_stream_write(saf_tls_stream *s, const uint8_t *p, size_t n);
size_t saf_tls_stream_read(saf_tls_stream *s, uint8_t *p, size_t n);
/* Ends our side after what was written. */
void saf_tls_stream_shutdown(saf_tls_stream *s);
/* The node ended its side and everything was read. */
bool saf_tls_stream_eof(const saf_tls_stream *s);
/* Both sides ended and everything was acknowledged. */
bool saf_tls_stream_done(const saf_tls_stream *s);

typedef struct saf_tls_stream_stats {
	uint64_t moves;	     /* planned: to the target, on notify */
	uint64_t reconnects; /* after a broken connection */
	uint64_t move_failures;
	uint64_t last_stall_us, max_stall_us; /* move start to peer RESUME */
	saf_addr peer;			      /* where the stream is now */
	saf_cont_stats cont;
} saf_tls_stream_stats;
void saf_tls_stream_stats_get(const saf_tls_stream *s,
			      saf_tls_stream_stats *out);

#endif /* SAF_TLS_H */
