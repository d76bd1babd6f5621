/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'lab' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_lab(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf lab' is not built yet");
}
