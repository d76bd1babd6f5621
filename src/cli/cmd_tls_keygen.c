/* SPDX-License-Identifier: MIT */
/* saf tls keygen: a key file for the nodes of one service. */
#include <stdio.h>

#include "cli.h"
#include "cmd_tls.h"

int saf_cmd_tls_keygen(int argc, char **argv)
{
	saf_tls_keys k;
	saf_error e = {0};
	int rc;

	if (argc == 2 && saf_cli_is_help(argv[1])) {
		puts("usage: saf tls keygen FILE\n\n"
		     "Writes a new key file (node key and ticket keys, mode "
		     "0600)\n"
		     "for the nodes of one service; never overwrites.");
		return SAF_EXIT_OK;
	}
	if (argc != 2)
		return saf_cli_usage_error("usage: saf tls keygen FILE");
	if (saf_tls_keys_generate(&k, &e))
		return saf_cli_fail("%s", e.msg);
	rc = saf_tls_keys_save(argv[1], &k, &e);
	saf_tls_keys_wipe(&k);
	return rc ? saf_cli_fail("%s", e.msg) : SAF_EXIT_OK;
}
