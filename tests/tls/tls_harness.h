/* SPDX-License-Identifier: MIT */
/* In-memory TLS 1.3 handshakes over BIO pairs, for the saf_tls tests. */
#ifndef SAF_TLS_HARNESS_H
#define SAF_TLS_HARNESS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "saf/addr.h"

typedef struct harness {
	EVP_PKEY *key;
	X509 *cert;
} harness;

/* A self-signed P-256 certificate for DNS:saf.test. */
void harness_init(harness *h);
void harness_free(harness *h);
SSL_CTX *harness_server_ctx(const harness *h);
/* Verifies the server certificate against h's certificate. */
SSL_CTX *harness_client_ctx(const harness *h);

/* Connects a client and a server SSL through a BIO pair and runs both
 * handshakes. Returns true when both completed. */
bool harness_handshake(SSL *client, SSL *server);
/* Moves records both ways until neither side makes progress; used after a
 * handshake to deliver tickets (client reads with SSL_peek). */
void harness_pump(SSL *client, SSL *server);

/* A TCP listener on the IPv4 address ip, any port (blocking, backlog 8);
 * its address and port in *out. For the loopback tests. */
int harness_listen(const char *ip, saf_addr *out);

#endif
