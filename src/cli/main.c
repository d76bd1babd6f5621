/* SPDX-License-Identifier: MIT */
/* saf: the one command-line entry point; each group dispatches further. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef SAF_VERSION
#define SAF_VERSION "unknown"
#endif

static const saf_cmd top[] = {
	{ "inspect", saf_cmd_inspect, "decode a TCP option or a MigrationToken given in hex" },
	{ "token", saf_cmd_token, "mint or verify a MigrationToken (debugging)" },
	{ "tcp", saf_cmd_tcp, "TCP variant: attach eBPF programs, connect, status" },
	{ "tls", saf_cmd_tls, "TLS variant: serve, connect, forward" },
	{ "sched", saf_cmd_sched, "scheduler on the ingress router R1" },
	{ "node", saf_cmd_node, "node agent that reports metrics to the scheduler" },
	{ "lab", saf_cmd_lab, "network-namespace lab: up, down, status, exec" },
	{ "run", saf_cmd_run, "run an unmodified program whose connections follow adverts" },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("saf %s\n", SAF_VERSION);
		return SAF_EXIT_OK;
	}
	return saf_cli_dispatch("saf", top, sizeof(top) / sizeof(top[0]), argc,
				argv);
}
