/* SPDX-License-Identifier: MIT */
/*
 * `saf tls`: what its subcommands share. One file per subcommand
 * (cmd_tls_serve.c, cmd_tls_connect.c, cmd_tls_forward.c,
 * cmd_tls_keygen.c), the client setup connect and forward share
 * (cmd_tls_client.c), and this group's dispatcher with the option and key
 * log helpers (cmd_tls.c). The work itself is the library's.
 */
#ifndef SAF_CLI_CMD_TLS_H
#define SAF_CLI_CMD_TLS_H

#include <stdbool.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "saf/tls.h"

/* A whole number in 0..max (saf_opt_uint), or a usage error naming opt:
 * "--liveness: 'x' is not a number in 0..3600"; SAF_EXIT_USAGE. */
int saf_tls_opt_uint(const char *opt, const char *text, unsigned max,
		     unsigned *out);
/* ADDRESS:PORT (saf_opt_addr_port), or a usage error; SAF_EXIT_USAGE. */
int saf_tls_opt_addr(const char *opt, const char *text, saf_addr *out);

/* NSS key log format for Wireshark, when SSLKEYLOGFILE is set: ctx's
 * key log callback writes there. SAF_EXIT_FAIL when it cannot be opened. */
int saf_tls_keylog_setup(SSL_CTX *ctx);
/* SSLKEYLOGFILE is open (saf_tls_keylog_setup took it). */
bool saf_tls_keylog_on(void);

/* The subcommands. */
int saf_cmd_tls_serve(int argc, char **argv);
int saf_cmd_tls_connect(int argc, char **argv);
int saf_cmd_tls_forward(int argc, char **argv);
int saf_cmd_tls_keygen(int argc, char **argv);

/* ---- cmd_tls_client.c: what connect and forward share ------------------- */

typedef struct saf_tls_client_setup {
	SSL_CTX *ctx;
	saf_tls_client *cli;
	saf_tls_connect_opts opts;
	saf_addr remote;
	char name[256];
	bool verbose;
	unsigned max_conns;
	saf_addr local;
	saf_tls_stream_opts sopts;
	bool continuity;
	saf_target_policy policy; /* --allow-target */
} saf_tls_client_setup;

/* Options of connect (forward false) or forward into s, and the client
 * context. 0 ready; -1 help was printed; else an exit code. Tear s down
 * either way. */
int saf_tls_client_parse(int argc, char **argv, bool forward,
			 saf_tls_client_setup *s);
void saf_tls_client_teardown(saf_tls_client_setup *s);
/* -v: where the connection ended and why. */
void saf_tls_client_report(const saf_tls_client_setup *s,
			   const saf_tls_conn *c);
/* Copies in_fd -> node -> out_fd until both directions end: the plain TLS
 * variant or a continuity stream, as the node answered. An exit code. */
int saf_tls_client_run(const saf_tls_client_setup *s, saf_tls_conn *c,
		       int in_fd, int out_fd);

#endif /* SAF_CLI_CMD_TLS_H */
