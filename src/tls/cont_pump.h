/* SPDX-License-Identifier: MIT */
/*
 * The pump between a continuity engine (saf_cont) and the TLS connection
 * that carries it, shared inside src/tls by both sides: the client's
 * stream (stream.c) and the node's streams (serve_stream.c). It holds the
 * bytes in flight in each direction; what a failure means (come back,
 * wait for the client, end the stream) stays with the caller.
 */
#ifndef SAF_TLS_CONT_PUMP_H
#define SAF_TLS_CONT_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "saf/cont.h"
#include "saf/error.h"

typedef struct saf_tls_cont_pump {
	/* bytes read from TLS, not yet taken by the engine */
	uint8_t in[SAF_CONT_FRAME_MAX];
	size_t in_off, in_len;
	/* frames handed to SSL_write (kept until it takes them) */
	uint8_t out[2u * SAF_CONT_FRAME_MAX];
	size_t out_off, out_len;
	/* an SSL call waits for POLLOUT; only the caller clears it */
	bool want_write;
	/* the last failed SSL call failed with ETIMEDOUT (the peer said
	 * nothing); only such a call or the caller changes it */
	bool timed_out;
} saf_tls_cont_pump;

/* A new connection: drops what was buffered for or from the old one (the
 * RESUME exchange resends what is missing). */
void saf_tls_cont_pump_reset(saf_tls_cont_pump *p);

/* TLS -> p->in, one record at most, once the engine holds nothing
 * delivered from it (it may point there). 1 read, 0 nothing now, -1 the
 * SSL call failed; *ssl_err is SSL_get_error's answer (0 after a read). */
int saf_tls_cont_pump_read(saf_tls_cont_pump *p, SSL *ssl, saf_cont *cont,
			   int *ssl_err);

/* p->in -> the engine. 0 with *used what it took (0 when nothing was
 * buffered), -1 with err when the engine refused the input. */
int saf_tls_cont_pump_feed(saf_tls_cont_pump *p, saf_cont *cont, size_t *used,
			   saf_error *err);

/* The engine's output -> TLS until either has nothing more. 1 progress,
 * 0 none, -1 the connection is gone. */
int saf_tls_cont_pump_write(saf_tls_cont_pump *p, SSL *ssl, saf_cont *cont);

/* Everything taken from the engine went to TLS. */
bool saf_tls_cont_pump_flushed(const saf_tls_cont_pump *p);

/* A RESET frame with code, best effort, on a connection about to close. */
void saf_tls_cont_send_reset(SSL *ssl, unsigned code);

#endif /* SAF_TLS_CONT_PUMP_H */
