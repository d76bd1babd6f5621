/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'tcp' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_tcp(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf tcp' is not built yet");
}
