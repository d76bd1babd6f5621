/* SPDX-License-Identifier: MIT */
/*
 * `saf tls serve` internals shared by cmd_tls.c (the poll loop, plain
 * connections) and tls_serve_cont.c (continuity sessions).
 */
#ifndef SAF_CLI_TLS_SERVE_H
#define SAF_CLI_TLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "saf/tls.h"

#define SERVE_BUF_LEN 16384u
/* Tokens minted on a connection before its session exists (the first
 * handshake's tickets): at most this many are remembered. */
#define SERVE_MINTED_MAX 4u

typedef struct listener {
	int fd;
	saf_addr addr;
	bool anycast;
	saf_addr unicast; /* the pair's target, for anycast listeners */
} listener;

struct cont_sess;

/* One TLS connection from a client. */
typedef struct pconn {
	bool used;
	int cfd, bfd; /* bfd: plain connections only */
	SSL *ssl;
	const listener *l;
	bool hs_done, client_eof, backend_eof, want_write;
	uint64_t moved; /* application reads and writes (admission) */
	uint8_t c2b[SERVE_BUF_LEN], b2c[SERVE_BUF_LEN];
	size_t c2b_off, c2b_len, b2c_off, b2c_len;
	/* continuity */
	struct cont_sess *sess; /* attached session, or NULL */
	bool kill;		/* replaced by a newer connection */
	uint8_t minted[SERVE_MINTED_MAX][SAF_SESSION_ID_LEN];
	unsigned nminted;
} pconn;

/* cmd_tls.c: a (blocking) connection to the backend, non-blocking after;
 * -1 with errno. */
int serve_backend_connect(const saf_addr *b);

typedef struct cont_table cont_table;

typedef struct cont_counters {
	uint64_t opened, resumed, unknown, expired, finished, violations;
	size_t live, orphaned;
} cont_counters;

/* A table of at most max_sessions streams, each with a send buffer of
 * send_buffer bytes; a stream whose connection broke waits linger_s
 * seconds for the client to come back. NULL on bad sizes (err). */
cont_table *cont_table_new(unsigned max_sessions, size_t send_buffer,
			   unsigned linger_s, saf_error *err);
void cont_table_free(cont_table *t);

/* saf_tls_server_config.on_token: records the session_id of each minted
 * token with the connection's stream (arg: the table; the pconn is the
 * SSL's app data). */
void cont_on_token(SSL *ssl, const uint8_t sid[SAF_SESSION_ID_LEN], void *arg);

/* The handshake of c finished with continuity: a new stream (and backend
 * connection), or the stream its token names. -1: close c. */
int cont_on_handshake(cont_table *t, pconn *c, const saf_addr *backend,
		      bool verbose);
/* Moves c's stream along. -1: close c (its stream ends or waits for the
 * client to come back). */
int cont_step(cont_table *t, pconn *c, bool verbose);
/* c is being closed: its stream, if any, waits for the client. */
void cont_detach(cont_table *t, pconn *c);
/* poll events for c's client socket and its stream's backend. */
void cont_events(const pconn *c, short *cev, int *bfd, short *bev);
/* Once a second: streams that waited too long end; long-lived ones get a
 * fresh token every lifetime/2 (SSL_new_session_ticket). */
void cont_tick(cont_table *t, unsigned lifetime_s);
void cont_counters_get(const cont_table *t, cont_counters *out);

#endif /* SAF_CLI_TLS_SERVE_H */
