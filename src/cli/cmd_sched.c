/* SPDX-License-Identifier: MIT */
/* Placeholder until the 'sched' command group lands; see the issue tracker. */
#include "cli.h"

int saf_cmd_sched(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return saf_cli_fail("'saf sched' is not built yet");
}
