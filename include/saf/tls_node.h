/* SPDX-License-Identifier: MIT */
/*
 * The TLS node proxy: what `saf tls serve` is, as a library object an
 * application drives from its own poll loop (docs/tls.md, "The node as a
 * library"). It listens on anycast/unicast pairs, terminates TLS 1.3 with
 * a saf_tls_server (tokens for the pair's unicast address to clients that
 * reached the anycast one), admits connections through the admission
 * unit (saf/admission.h), and carries each connection's bytes to a
 * backend connection of its own. With continuity it keeps the server side
 * of each client's stream (docs/continuity.md): one backend connection per
 * stream, outliving the client's TLS connections, with a bounded wait for
 * a client whose connection broke and a fresh token every half token
 * lifetime.
 *
 * Driving it, like saf_tls_stream:
 *
 *   struct pollfd *p = calloc(saf_tls_node_pollfds_max(n), sizeof(*p));
 *   for (;;) {
 *           size_t np = saf_tls_node_pollfds(n, p);
 *           poll(p, np, saf_tls_node_timeout_ms(n));
 *           saf_tls_node_step(n, p, np);
 *   }
 *
 * (saf_tls_node_poll does these three.) Not thread-safe: one thread drives
 * one node. The node never blocks except on a backend connect, which is
 * next to the node.
 */
#ifndef SAF_TLS_NODE_H
#define SAF_TLS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poll.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "saf/addr.h"
#include "saf/admission.h"
#include "saf/error.h"
#include "saf/tls_server.h"

/* Anycast/unicast pairs one node listens on. */
#define SAF_TLS_NODE_PAIRS_MAX 16u
/* Default linger of a continuity stream whose connection broke. */
#define SAF_TLS_NODE_LINGER_S_DEFAULT 30u

typedef struct saf_tls_node saf_tls_node;

typedef enum saf_tls_node_log_level {
	SAF_TLS_NODE_LOG_ERROR = 0, /* something failed (a backend, a
				       listener option): always worth a line */
	SAF_TLS_NODE_LOG_INFO,	    /* refusals, stream events: verbose */
} saf_tls_node_log_level;

/* A line about the node, without a newline. */
typedef void (*saf_tls_node_log_fn)(void *arg, saf_tls_node_log_level level,
				    const char *line);
/* Opens the backend connection for a new plain connection or a new
 * continuity stream, whose (first) connection is ssl, its handshake done
 * (saf_tls_server_conn_info tells whether it migrated): a connected
 * socket (the node makes it non-blocking and owns it), or -1 with err
 * set. */
typedef int (*saf_tls_node_backend_fn)(void *arg, SSL *ssl, saf_error *err);

typedef struct saf_tls_node_pair {
	saf_addr anycast, unicast;
} saf_tls_node_pair;

typedef struct saf_tls_node_config {
	/* The TLS server: keys, token lifetime (the one lifetime of the
	 * node: tokens minted and the streams' refresh alike), replay cache,
	 * clock. The node sets its continuity and on_token itself. */
	saf_tls_server_config server;
	/* Listens on each anycast address (tokens target its unicast
	 * partner) and on each distinct unicast address. Port 0: any port
	 * (saf_tls_node_listen_addr says which). */
	saf_tls_node_pair pairs[SAF_TLS_NODE_PAIRS_MAX];
	size_t n_pairs;
	/* The plain TCP backend, connected (blocking) for each plain
	 * connection and each new stream; or, when backend_fn is set, what
	 * it returns. */
	saf_addr backend;
	saf_tls_node_backend_fn backend_fn;
	void *backend_arg;
	/* Admission (saf/admission.h): max_conns slots, per-source cap,
	 * deadlines. A zero hash_key is replaced by random bytes. */
	saf_adm_config admission;
	/* Continuity (docs/continuity.md): streams of stream_buffer bytes
	 * of send buffer (0: SAF_CONT_SEND_DEFAULT) that wait linger_s for a
	 * client whose connection broke. */
	bool continuity;
	size_t stream_buffer;
	unsigned stream_linger_s;
	/* Target of migrate_notify when has_notify_target; otherwise each
	 * connection's paired unicast address (a stream: the address it is
	 * on). */
	saf_addr notify_target;
	bool has_notify_target;
	saf_tls_node_log_fn log; /* NULL: silent */
	void *log_arg;
} saf_tls_node_config;

/* Defaults: saf_tls_server_config_init, saf_adm_config_init, continuity
 * on, SAF_CONT_SEND_DEFAULT, SAF_TLS_NODE_LINGER_S_DEFAULT; no pair, no
 * backend, no key. */
void saf_tls_node_config_init(saf_tls_node_config *cfg);

/* Makes the TLS server on ctx (which must hold the certificate and key and
 * outlive the node), the admission unit and the stream table, and listens
 * on every address (TCP_DEFER_ACCEPT, so a client's ClientHello comes with
 * its accept). NULL with err naming the cause (a bad field, a listen
 * error). cfg may be wiped right after: the node keeps what it needs. */
saf_tls_node *saf_tls_node_new(SSL_CTX *ctx, const saf_tls_node_config *cfg,
			       saf_error *err);
/* Closes every client connection (close_notify); their streams wait for
 * their clients as after a break. For a clean end: then the counters,
 * then saf_tls_node_free. */
void saf_tls_node_close_all(saf_tls_node *n);
/* Closes every connection (close_notify), every stream and listener. */
void saf_tls_node_free(saf_tls_node *n);

/* The address listener i (0..) is bound to, in the order anycast 1,
 * unicast 1, anycast 2, ... (a unicast address given twice listens once).
 * -1 past the last. */
SAF_MUST_CHECK int saf_tls_node_listen_addr(const saf_tls_node *n, size_t i,
					    saf_addr *out);

/* The poll set: entries at most, then the entries now (listeners, then two
 * per slot; unused ones have fd -1). Pass the same array, polled, to
 * saf_tls_node_step. */
size_t saf_tls_node_pollfds_max(const saf_tls_node *n);
size_t saf_tls_node_pollfds(const saf_tls_node *n, struct pollfd *out);
/* How long poll may wait: the next admission deadline, at most 1000 ms
 * (streams are looked after once a second). */
int saf_tls_node_timeout_ms(const saf_tls_node *n);
/* After poll: accepts newcomers (a batch per listener), closes what timed
 * out, moves every connection that can move, and once a second ends
 * streams that waited too long and gives long-lived ones a fresh token. */
void saf_tls_node_step(saf_tls_node *n, const struct pollfd *pfd, size_t np);
/* pollfds, poll at most max_ms (and saf_tls_node_timeout_ms), step: one
 * round. 0, also when a signal interrupted poll; -1 when poll failed
 * (err). */
SAF_MUST_CHECK int saf_tls_node_poll(saf_tls_node *n, int max_ms,
				     saf_error *err);

/* migrate_notify (ticket form) on every live connection that arrived on an
 * anycast address, and on every continuity stream. Returns how many were
 * told. */
size_t saf_tls_node_notify(saf_tls_node *n);

typedef struct saf_tls_node_stream_counters {
	size_t live, away; /* streams now; away: waiting for the client */
	uint64_t opened, resumed, unknown, expired, finished, violations;
	/* early credentials (docs/continuity.md, "Early credential"):
	 * issued (one per continuity handshake), used to come back
	 * (reattached), refused (unknown, used, expired or a wrong proof),
	 * pushed out of the full table by newer ones (evicted) */
	uint64_t creds_issued, reattached, creds_refused, creds_evicted;
} saf_tls_node_stream_counters;

typedef struct saf_tls_node_counters {
	size_t connections; /* live client connections */
	saf_tls_server_counters server;
	bool continuity; /* streams below are meaningful */
	saf_tls_node_stream_counters streams;
	saf_adm_counters admission;
} saf_tls_node_counters;
void saf_tls_node_counters_get(const saf_tls_node *n,
			       saf_tls_node_counters *out);

/* The counters as one JSON object on one line ("\n" included), the line
 * `saf tls serve` prints on SIGUSR2 and at its end (docs/tls.md). */
void saf_tls_node_counters_json(FILE *f, const saf_tls_node_counters *k);

/* The counters in Prometheus' text format (the families of docs/tls.md,
 * "Metrics"), what `saf tls serve --metrics-file` keeps. */
void saf_tls_node_counters_prometheus(FILE *f, const saf_tls_node_counters *k);

#endif /* SAF_TLS_NODE_H */
