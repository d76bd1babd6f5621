/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'inspect' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_inspect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf inspect' is not built yet");
}
