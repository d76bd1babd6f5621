/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'token' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_token(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf token' is not built yet");
}
