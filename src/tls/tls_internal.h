/* SPDX-License-Identifier: MIT */
/*
 * Private to src/tls: the per-connection state kept in SSL ex_data, the
 * role objects, and the extension descriptor table.
 */
#ifndef SAF_TLS_INTERNAL_H
#define SAF_TLS_INTERNAL_H

#include "saf/reattach.h"
#include "saf/tls.h"

/* What both role objects start with: custom extension callbacks receive a
 * pointer to it as their add_arg / parse_arg. */
typedef struct saf_tls_base {
	bool is_server;
	int ex_index; /* SSL ex_data slot of saf_tls_state */
	saf_tlsext_codepoints cp;
} saf_tls_base;

struct saf_tls_server {
	saf_tls_base base;
	uint8_t node_key[SAF_NODE_KEY_LEN];
	saf_tls_prev_node_key prev[SAF_TLS_PREV_NODE_KEYS];
	size_t n_prev;
	uint32_t lifetime_s;
	saf_replay_cache *replay;
	bool owns_replay;
	uint8_t prefix4, prefix6; /* of a client source */
	saf_clock_fn clock;
	void *clock_arg;
	saf_tls_server_counters counters;
	bool continuity;
	saf_tls_token_cb on_token;
	void *on_token_arg;
};

struct saf_tls_client {
	saf_tls_base base;
	saf_target_policy policy; /* token targets */
	bool continuity;
};

/* One connection's state, created on first use, freed with the SSL. */
typedef struct saf_tls_state {
	const saf_tls_base *owner;
	/* server */
	bool offered_support;
	bool has_target, has_local;
	saf_addr target, local;
	bool notify_pending;
	bool migrated;
	uint8_t session_id[SAF_SESSION_ID_LEN];
	saf_tls_refusal refusal;
	saf_verdict verdict;
	unsigned tokens_sent;
	/* server: the token of the last ClientHello verified (all but the
	 * replay check); `final` once a ServerHello answers that ClientHello
	 * (no HelloRetryRequest after it); `recorded` once the handshake
	 * completed and the nonce was tested and inserted (accepted or
	 * refused): what happens once per connection happens there. */
	bool token_verified, token_final, token_recorded;
	int record_alert; /* refused when recorded: the alert, else 0 */
	uint8_t nonce[SAF_TOKEN_NONCE_MAX];
	size_t nonce_len;
	uint64_t expiry;
	bool has_peer;
	saf_addr peer;
	bool ch_psk_dhe_ke; /* the last ClientHello offered psk_dhe_ke */
	uint8_t out[SAF_TOKEN_MAX_LEN]; /* body handed to OpenSSL to send */
	size_t out_len;
	/* client: the ticket being parsed (paired in new_session_cb) */
	uint8_t pending[SAF_TOKEN_MAX_LEN];
	size_t pending_len;
	bool pending_notify;
	/* client: newest valid offer, and the one it replaced (a
	 * continuity stream keeps that as its spare: two tickets of one
	 * flight are read at once) */
	saf_tls_offer offer, prev_offer;
	bool has_offer, has_prev_offer;
	int notified;			       /* 1 ticket form, 2 alert form */
	char token_refusal[SAF_ERROR_MSG_LEN]; /* why the last was dropped */
	int alert_received, alert_sent;
	/* both: continuity offered (client: by us; server: by the peer)
	 * and negotiated (EncryptedExtensions carried it) */
	bool cont_offered, continuity;
	/* client: token presented in the ClientHello */
	uint8_t present[SAF_TOKEN_MAX_LEN];
	size_t present_len;
	/* both: the reattach extension (early credential, reattach.c).
	 * reattach_offered: the ClientHello carried it (client: sent;
	 * server: parsed), with reattach_mode; has_cred: the credential
	 * this connection issued (server) or received (client) in
	 * EncryptedExtensions; cred_out: its body handed to OpenSSL */
	bool reattach_offered, has_cred;
	saf_reattach_mode reattach_mode;
	saf_reattach_cred cred;
	uint8_t cred_out[SAF_REATTACH_CRED_MAX];
} saf_tls_state;

int saf_tls_ex_index_new(void);
/* Binds the role object to its SSL_CTX (one per ctx) and finds it back. */
int saf_tls_base_attach(SSL_CTX *ctx, saf_tls_base *base);
saf_tls_base *saf_tls_base_of(const SSL *ssl);
saf_tls_base *saf_tls_base_of_ctx(const SSL_CTX *ctx);
saf_tls_state *saf_tls_state_get(SSL *ssl, const saf_tls_base *owner);
/* Looks up without creating; NULL when absent. */
saf_tls_state *saf_tls_state_peek(const SSL *ssl, const saf_tls_base *owner);

/* One custom extension: its code point (read from the role's code point
 * set), the handshake messages it may appear in, and its callbacks. */
typedef struct saf_tls_ext {
	const char *name;
	uint16_t (*type)(const saf_tlsext_codepoints *cp);
	unsigned int contexts;
	SSL_custom_ext_add_cb_ex add;
	SSL_custom_ext_parse_cb_ex parse;
} saf_tls_ext;

extern const saf_tls_ext saf_tls_ext_migration_support;
extern const saf_tls_ext saf_tls_ext_migration_token;
extern const saf_tls_ext saf_tls_ext_migrate_notify;
extern const saf_tls_ext saf_tls_ext_continuity;
extern const saf_tls_ext saf_tls_ext_reattach;

/* Registers every extension of the table on ctx with `base` as argument. */
SAF_MUST_CHECK int saf_tls_ext_register_all(SSL_CTX *ctx, saf_tls_base *base,
					    saf_error *err);

/* Server hooks called by the extension callbacks. ticket_token: 0 token
 * made, 1 no target (no token), -1 error (*al set). */
int saf_tls_server_ticket_token(SSL *ssl, saf_tls_server *srv,
				saf_tls_state *st, int *al);
int saf_tls_server_check_token(SSL *ssl, saf_tls_server *srv, saf_tls_state *st,
			       const uint8_t *in, size_t len, int *al);
/* SSL_CTX_set_client_hello_cb of a saf server (arg: the server). */
int saf_tls_server_client_hello_cb(SSL *ssl, int *al, void *arg);
/* The ServerHello answers the ClientHello whose token verified. */
void saf_tls_server_token_final(saf_tls_state *st);
/* Records the verified token's nonce once the handshake is complete
 * (once; later calls repeat the answer): 0 accepted or nothing to do, -1
 * refused (*al set: the first ticket then ends the handshake). */
int saf_tls_server_record_token(const SSL *ssl, saf_tls_server *srv,
				saf_tls_state *st, int *al);
/* Refuses a migration: state, counters, alert. Returns 0. */
int saf_tls_server_refuse(saf_tls_server *srv, saf_tls_state *st,
			  saf_tls_refusal r, saf_verdict v, int *al);
/* The token keys of the session OpenSSL is working on (server.c). */
int saf_tls_server_session_keys(SSL *ssl, const saf_tls_server *srv,
				saf_token_keys *keys);
/* The same under another node key (rotation: a previous key). */
int saf_tls_server_session_keys_with(
	SSL *ssl, const uint8_t node_key[SAF_NODE_KEY_LEN], saf_token_keys *keys);
/* The address a client of this connection comes back to: the target
 * set for it (the pair's unicast address on an anycast listener), else
 * the local address it arrived on (read once). NULL when neither is
 * known. Tokens (with continuity) and early credentials name it. */
const saf_addr *saf_tls_server_way_back(SSL *ssl, saf_tls_state *st);
/* Whether the role object behind an extension callback runs continuity
 * (and with it the early credential). */
bool saf_tls_base_continuity(const saf_tls_base *base);
/* Local address of ssl's socket, for tokens and checks. */
int saf_tls_local_from_fd(SSL *ssl, saf_addr *out);

/* connect.c, for the stream (stream.c): a TLS connection to S (conn->fd,
 * ssl, peer set), and steps 3 and 5 for one offer (conn moves to the
 * target; on failure it stays and conn->outcome/why say why). */
int saf_tls_connect_s(SSL_CTX *ctx, const saf_addr *s,
		      const saf_tls_connect_opts *o, saf_tls_conn *conn,
		      saf_error *err);
/* connect_tcp.c: the TCP connection to S for a TLS connection, with the
 * TCP variant (o->tcp_variant auto or on). A connected blocking fd; *peer
 * is U when the advert moved it (*via set), else s; note gets what
 * happened ("via TCP advert at U" or "not via TCP advert (outcome: reason)").
 * -1 when S cannot be reached, or with "on" and no usable advert. */
int saf_tls_tcp_open(SSL_CTX *ctx, const saf_addr *s,
		     const saf_tls_connect_opts *o, unsigned timeout_ms,
		     saf_addr *peer, bool *via, char *note, size_t cap,
		     saf_error *err);
/* client.c, for the stream: a copy of the offer the newest one replaced
 * (1), or 0 when there is none. */
int saf_tls_client_prev_offer(SSL *ssl, saf_tls_offer *out);
/* The name to verify (and send as SNI when it is not an address). */
void saf_tls_ssl_set_name(SSL *ssl, const char *server_name);
int saf_tls_conn_migrate(SSL_CTX *ctx, const saf_tls_connect_opts *o,
			 saf_tls_conn *conn, const saf_tls_offer *offer,
			 bool old_alive);

/* reattach.c: continuity's early credential (docs/continuity.md, "Early
 * credential"). The key of a credential is the exporter of the handshake
 * that carried it: K = TLS-Exporter("EXPORTER-saf-reattach", id, 32).
 * The node may call it once it has sent its Finished (before the
 * client's: SSL_accept wants to read in TLS_ST_EARLY_DATA), the client
 * once its handshake completed. 0, or -1 when OpenSSL refuses. */
int saf_tls_reattach_key(SSL *ssl, const uint8_t id[SAF_REATTACH_ID_LEN],
			 uint8_t key[SAF_REATTACH_KEY_LEN]);
/* The proof a comeback sends in REATTACH on its new connection ssl:
 * HMAC-SHA256(key, TLS-Exporter_ssl("EXPORTER-saf-reattach-bind", id,
 * 32)): bound to that connection, useless on any other. 0 or -1. */
int saf_tls_reattach_proof(SSL *ssl, const uint8_t id[SAF_REATTACH_ID_LEN],
			   const uint8_t key[SAF_REATTACH_KEY_LEN],
			   uint8_t proof[SAF_REATTACH_PROOF_LEN]);
/* Node: the credential this connection issued (1, *out), else 0. */
int saf_tls_server_reattach_issued(SSL *ssl, saf_reattach_cred *out);
/* Node: the ClientHello came back with a credential (mode reattach):
 * the connection's first frame must be REATTACH. */
bool saf_tls_server_reattach_requested(SSL *ssl);
/* Client: the next ClientHello on ssl asks to reattach (mode 1). Call
 * before SSL_connect. 0, or -1 when ssl is not a saf client's. */
int saf_tls_client_present_reattach(SSL *ssl);
/* Client: the credential EncryptedExtensions carried (1, *out), else 0. */
int saf_tls_client_reattach_cred(SSL *ssl, saf_reattach_cred *out);

/* liveness.c: TCP keepalive and user timeout so that a silent node breaks
 * a client's continuity connection within about total_s seconds. */
typedef struct saf_tls_liveness {
	unsigned idle_s, intvl_s, cnt, user_timeout_ms;
} saf_tls_liveness;
void saf_tls_liveness_params(unsigned total_s, saf_tls_liveness *out);
/* 0, or -1 with errno when the socket refuses an option. */
int saf_tls_liveness_set(int fd, unsigned total_s);

#endif /* SAF_TLS_INTERNAL_H */
