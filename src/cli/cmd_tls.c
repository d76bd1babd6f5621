/* SPDX-License-Identifier: MIT */
/*
 * saf tls serve|connect|forward|keygen: the TLS variant as tools. This
 * file dispatches and holds what the subcommands share (cmd_tls.h):
 *
 *   serve    cmd_tls_serve.c    the node proxy (saf_tls_node)
 *   connect  cmd_tls_connect.c  stdio client (like nc), seed procedure
 *   forward  cmd_tls_forward.c  stunnel-style client
 *   keygen   cmd_tls_keygen.c   a key file for the nodes of one service
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_tls.h"
#include "opt.h"

/* ---- SSLKEYLOGFILE ------------------------------------------------------- */

static FILE *keylog;

static void keylog_cb(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (keylog) {
		fprintf(keylog, "%s\n", line);
		fflush(keylog);
	}
}

/* NSS key log format for Wireshark, when SSLKEYLOGFILE is set. */
int saf_tls_keylog_setup(SSL_CTX *ctx)
{
	const char *path = getenv("SSLKEYLOGFILE");
	int fd;

	if (!path || !*path)
		return 0;
	if (!keylog) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);
		if (fd < 0 || !(keylog = fdopen(fd, "a"))) {
			if (fd >= 0)
				close(fd);
			return saf_cli_fail("SSLKEYLOGFILE %s: %s", path,
					    strerror(errno));
		}
	}
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

bool saf_tls_keylog_on(void)
{
	return keylog != NULL;
}

/* ---- options ------------------------------------------------------------- */

/* The message stays the one these commands always gave (scripts match
 * it); the parsing is opt.c's. */
int saf_tls_opt_uint(const char *opt, const char *text, unsigned max,
		     unsigned *out)
{
	saf_error e = {0};
	uint64_t v;

	if (saf_opt_uint(opt, text, 10, 0, max, &v, &e))
		return saf_cli_usage_error("%s: '%s' is not a number in 0..%u",
					   opt, text, max);
	*out = (unsigned)v;
	return 0;
}

int saf_tls_opt_addr(const char *opt, const char *text, saf_addr *out)
{
	saf_error e = {0};

	if (saf_opt_addr_port(opt, text, out, &e))
		return saf_cli_usage_error("%s", e.msg);
	return 0;
}

int saf_cmd_tls(int argc, char **argv)
{
	static const saf_cmd table[] = {
		{"serve", saf_cmd_tls_serve,
		 "TLS proxy node with migration support"},
		{"connect", saf_cmd_tls_connect,
		 "stdio client running the seed procedure"},
		{"forward", saf_cmd_tls_forward,
		 "stunnel-style client forwarder"},
		{"keygen", saf_cmd_tls_keygen,
		 "key file shared by sibling nodes"},
	};
	return saf_cli_dispatch("saf tls", table,
				sizeof(table) / sizeof(table[0]), argc, argv);
}
