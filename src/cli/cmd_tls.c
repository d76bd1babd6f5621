/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'tls' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_tls(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf tls' is not built yet");
}
