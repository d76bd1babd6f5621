/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'node' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_node(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf node' is not built yet");
}
