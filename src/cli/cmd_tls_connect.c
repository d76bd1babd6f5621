/* SPDX-License-Identifier: MIT */
/*
 * saf tls connect: a stdio client (like nc) running the seed procedure;
 * continuity when the node answers it (cmd_tls_client.c does the work).
 */
#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_tls.h"

int saf_cmd_tls_connect(int argc, char **argv)
{
	saf_tls_client_setup s;
	saf_tls_conn c;
	saf_error e = {0};
	int rc = saf_tls_client_parse(argc, argv, false, &s);

	if (rc) {
		saf_tls_client_teardown(&s);
		return rc < 0 ? SAF_EXIT_OK : rc;
	}
	signal(SIGPIPE, SIG_IGN);
	if (saf_tls_connect(s.ctx, &s.remote, &s.opts, &c, &e)) {
		saf_tls_client_teardown(&s);
		return saf_cli_fail("%s", e.msg);
	}
	saf_tls_client_report(&s, &c);
	rc = saf_tls_client_run(&s, &c, STDIN_FILENO, STDOUT_FILENO);
	saf_tls_conn_close(&c);
	saf_tls_client_teardown(&s);
	return rc;
}
