/* SPDX-License-Identifier: MIT */
/*
 * The node proxy's parts, shared inside src/tls and nowhere else:
 * serve.c (the node: listeners, admission, the poll set),
 * serve_conn.c (one client connection: handshake, the plain TLS <->
 * backend pump) and serve_stream.c (continuity, the server side: streams
 * that outlive their connections). The calls go one way: serve.c uses
 * both others, serve_conn.c hands a continuity connection to
 * serve_stream.c, and serve_stream.c calls back into neither.
 */
#ifndef SAF_TLS_SERVE_INTERNAL_H
#define SAF_TLS_SERVE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "saf/reattach.h"
#include "saf/tls_node.h"

/* One read or write between a connection and its backend. */
#define SAF_TLS_NODE_BUF_LEN 16384u
/* Tokens minted on a connection before its stream exists (the first
 * handshake's tickets): at most this many are remembered. */
#define SAF_TLS_NODE_MINTED_MAX 4u

/* Where log lines go, and the backend every connection or stream opens. */
typedef struct saf_tls_node_env {
	saf_tls_node_log_fn log; /* may be NULL */
	void *log_arg;
	saf_tls_node_backend_fn backend;
	void *backend_arg;
} saf_tls_node_env;

/* A line for env->log (no newline), at level. */
void saf_tls_node_logf(const saf_tls_node_env *env,
		       saf_tls_node_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef struct saf_tls_listener {
	int fd;
	saf_addr addr;
	bool anycast;
	saf_addr unicast; /* the pair's target, for anycast listeners */
} saf_tls_listener;

struct saf_tls_server_stream;

/* One TLS connection from a client (a slot of the node). */
typedef struct saf_tls_node_conn {
	bool used;
	int cfd, bfd; /* bfd: plain connections only */
	SSL *ssl;
	const saf_tls_listener *l;
	bool hs_done, client_eof, backend_eof, want_write;
	uint64_t moved; /* application reads and writes (admission) */
	uint8_t c2b[SAF_TLS_NODE_BUF_LEN], b2c[SAF_TLS_NODE_BUF_LEN];
	size_t c2b_off, c2b_len, b2c_off, b2c_len;
	/* continuity */
	struct saf_tls_server_stream *sess; /* attached stream, or NULL */
	bool kill;			    /* replaced by a newer connection */
	uint8_t minted[SAF_TLS_NODE_MINTED_MAX][SAF_SESSION_ID_LEN];
	unsigned nminted;
	/* early credential: the one this connection issued (cred_done: its
	 * key was derived and entered, has_cred: there is one), and whether
	 * it came back with one, its REATTACH frame gathered in c2b */
	bool cred_done, has_cred, await_reattach;
	uint8_t cred_id[SAF_REATTACH_ID_LEN];
} saf_tls_node_conn;

/* ---- serve_conn.c -------------------------------------------------------- */

typedef struct saf_tls_server_streams saf_tls_server_streams;

/* An empty slot (fds -1). */
void saf_tls_node_conn_reset(saf_tls_node_conn *c);
/* Closes c (close_notify after a handshake); its stream, if any, waits
 * for the client to come back. Leaves an empty slot. */
void saf_tls_node_conn_close(saf_tls_node_conn *c, saf_tls_server_streams *t);
/* Moves what can move: the handshake, then either the plain pump or (a
 * continuity connection, t not NULL) its stream. -1: close c. */
int saf_tls_node_conn_step(saf_tls_node_conn *c, saf_tls_server_streams *t,
			   const saf_tls_node_env *env);
/* poll entries for c's client socket and its backend. */
void saf_tls_node_conn_events(const saf_tls_node_conn *c, struct pollfd *cp,
			      struct pollfd *bp);

/* ---- serve_reattach.c: early credentials --------------------------------- */

/* Which stream a credential names: a slot of the stream table and the
 * generation of the stream in it (gen 0: none yet, the handshake that
 * issued it never finished here). */
typedef struct saf_tls_cred_link {
	unsigned idx;
	uint64_t gen;
} saf_tls_cred_link;

typedef struct saf_tls_node_cred_counters {
	uint64_t issued, reattached, refused, evicted;
} saf_tls_node_cred_counters;

typedef struct saf_tls_node_creds saf_tls_node_creds;

/* At most cap credentials, each valid ttl_s seconds (the server's clock);
 * NULL when out of memory. */
saf_tls_node_creds *saf_tls_node_creds_new(unsigned cap, unsigned ttl_s,
					   saf_clock_fn clock, void *clock_arg);
void saf_tls_node_creds_free(saf_tls_node_creds *c);
/* Enters a credential (its key derived from the issuing handshake); when
 * the table is full the oldest entry goes. opens: the handshake was a
 * stream's first (no token, not a comeback), so a comeback with it may
 * start the stream if that handshake never finished here; any other
 * credential is good only once its connection carried a stream. */
void saf_tls_node_creds_issue(saf_tls_node_creds *c,
			      const uint8_t id[SAF_REATTACH_ID_LEN],
			      const uint8_t key[SAF_REATTACH_KEY_LEN],
			      bool opens);
/* The credential id now names the stream at link. */
void saf_tls_node_creds_link(saf_tls_node_creds *c,
			     const uint8_t id[SAF_REATTACH_ID_LEN],
			     saf_tls_cred_link link);
/* The credential id was used to come back (its own connection is late). */
bool saf_tls_node_creds_spent(saf_tls_node_creds *c,
			      const uint8_t id[SAF_REATTACH_ID_LEN]);
/* Checks a REATTACH body (id, proof) against the connection ssl it came
 * on: 1 and *out when the proof is right (the credential is then
 * spent), 0 with *why when refused (counted). */
int saf_tls_node_creds_take(saf_tls_node_creds *c, SSL *ssl,
			    const uint8_t body[SAF_REATTACH_FRAME_BODY],
			    saf_tls_cred_link *out, const char **why);
/* Drops expired entries. */
void saf_tls_node_creds_tick(saf_tls_node_creds *c);
void saf_tls_node_creds_counters(const saf_tls_node_creds *c,
				 saf_tls_node_cred_counters *out);

/* ---- serve_stream.c: continuity, the server side ------------------------- */

/* A table of at most max_streams streams, each with a send buffer of
 * send_buffer bytes; a stream whose connection broke waits linger_s
 * seconds for the client to come back. Each stream gets a fresh token
 * every lifetime_s / 2 (the server's token lifetime, its default applied:
 * one source, saf_tls_server); the times are read from clock (the
 * server's: Unix seconds). NULL on bad sizes (err). */
saf_tls_server_streams *
saf_tls_server_streams_new(unsigned max_streams, size_t send_buffer,
			   unsigned linger_s, uint32_t lifetime_s,
			   saf_clock_fn clock, void *clock_arg, saf_error *err);
void saf_tls_server_streams_free(saf_tls_server_streams *t);
/* saf_tls_server_config.on_token: records sid with the stream of the
 * connection whose SSL app data is a saf_tls_node_conn. */
void saf_tls_server_streams_on_token(SSL *ssl,
				     const uint8_t sid[SAF_SESSION_ID_LEN],
				     void *arg);
/* The handshake of c finished with continuity: a new stream (and backend
 * connection), or the stream its token names. -1: close c. */
int saf_tls_server_stream_attach(saf_tls_server_streams *t,
				 saf_tls_node_conn *c,
				 const saf_tls_node_env *env);
/* c's node has sent its Finished (or the handshake completed): the early
 * credential it issued, if any, enters the table. Once per connection;
 * before saf_tls_server_stream_attach or _reattach. */
void saf_tls_server_streams_issue(saf_tls_server_streams *t,
				  saf_tls_node_conn *c);
/* c came back with a credential; body is its REATTACH frame's, rest the
 * bytes that followed it (RESUME, ...). The stream the credential names
 * (or a new one, resuming from nothing, when its handshake never
 * finished here). -1: close c (refused: RESET unknown_session sent). */
int saf_tls_server_stream_reattach(saf_tls_server_streams *t,
				   saf_tls_node_conn *c,
				   const saf_tls_node_env *env,
				   const uint8_t body[SAF_REATTACH_FRAME_BODY],
				   const uint8_t *rest, size_t rest_len);
/* Moves c's stream along. -1: close c (its stream ends or waits for the
 * client to come back). */
int saf_tls_server_stream_step(saf_tls_server_streams *t, saf_tls_node_conn *c,
			       const saf_tls_node_env *env);
/* c is being closed: its stream, if any, waits for the client. */
void saf_tls_server_stream_detach(saf_tls_server_streams *t,
				  saf_tls_node_conn *c);
/* poll events for c's client socket and its stream's backend. */
void saf_tls_server_stream_events(const saf_tls_node_conn *c, short *cev,
				  int *bfd, short *bev);
/* Once a second: streams that waited too long end; attached ones get a
 * fresh token every lifetime / 2. */
void saf_tls_server_streams_tick(saf_tls_server_streams *t);
void saf_tls_server_streams_counters(const saf_tls_server_streams *t,
				     saf_tls_node_stream_counters *out);

#endif /* SAF_TLS_SERVE_INTERNAL_H */
