/* SPDX-License-Identifier: MIT */
/*
 * The BGP options shared by `saf node agent` and `saf sched run`
 * (docs/bgp.md): one table of long options, one parser, one help text.
 */
#ifndef SAF_CLI_BGP_H
#define SAF_CLI_BGP_H

#include <getopt.h>
#include <stdbool.h>

#include "saf/bgp.h"

enum {
	SAF_CLI_BGP_OPT = 0x1000, /* option values above every short one */
	SAF_CLI_BGP_SPEAKER,
	SAF_CLI_BGP_PEER,
	SAF_CLI_BGP_LOCAL,
	SAF_CLI_BGP_AS,
	SAF_CLI_BGP_HOLD,
	SAF_CLI_BGP_LOG,
	SAF_CLI_BGP_PROGRAM,
	SAF_CLI_BGP_ANYCAST,
	SAF_CLI_BGP_NEXTHOP,
	SAF_CLI_BGP_LINK_BW,
	SAF_CLI_BGP_LOCAL_PREF,
};

#define SAF_CLI_BGP_LONGOPTS                                                   \
	{"bgp", required_argument, 0, SAF_CLI_BGP_SPEAKER},                    \
		{"bgp-peer", required_argument, 0, SAF_CLI_BGP_PEER},          \
		{"bgp-local", required_argument, 0, SAF_CLI_BGP_LOCAL},        \
		{"bgp-as", required_argument, 0, SAF_CLI_BGP_AS},              \
		{"bgp-hold", required_argument, 0, SAF_CLI_BGP_HOLD},          \
		{"bgp-log", required_argument, 0, SAF_CLI_BGP_LOG},            \
		{"bgp-program", required_argument, 0, SAF_CLI_BGP_PROGRAM},    \
		{"bgp-anycast", required_argument, 0, SAF_CLI_BGP_ANYCAST},    \
		{"bgp-nexthop", required_argument, 0, SAF_CLI_BGP_NEXTHOP},    \
		{"bgp-link-bandwidth", no_argument, 0, SAF_CLI_BGP_LINK_BW},   \
	{                                                                      \
		"bgp-local-pref", required_argument, 0, SAF_CLI_BGP_LOCAL_PREF \
	}

typedef struct saf_cli_bgp {
	bool enabled;
	saf_bgp_speaker_cfg speaker;
	saf_bgp_steer_cfg steer;
	uint32_t local_pref; /* centralized mode */
} saf_cli_bgp;

#define SAF_CLI_BGP_HELP                                                       \
	"  --bgp exabgp          steer through a BGP speaker (docs/bgp.md)\n"  \
	"  --bgp-peer ADDR       an ingress router (repeat; IPv4 sessions\n"   \
	"                        carry IPv4 and IPv6 routes)\n"                \
	"  --bgp-local ADDR      IPv4 source address and router id\n"          \
	"  --bgp-as N            AS of the iBGP sessions (default 65000)\n"    \
	"  --bgp-hold S          hold time (default 3)\n"                      \
	"  --bgp-log FILE        the speaker's own log\n"                      \
	"  --bgp-program PATH    the speaker (default exabgp from PATH)\n"

void saf_cli_bgp_init(saf_cli_bgp *b);
/* Handles one option; returns 0, SAF_EXIT_USAGE (printed) for a bad
 * value, or -1 when c is not a BGP option. */
int saf_cli_bgp_opt(saf_cli_bgp *b, int c, const char *arg);
/* After parsing: checks the set (needs_anycast: a node's own routes). */
int saf_cli_bgp_check(saf_cli_bgp *b, bool needs_anycast);

#endif /* SAF_CLI_BGP_H */
