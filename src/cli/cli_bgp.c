/* SPDX-License-Identifier: MIT */
/* The BGP options of `saf node agent` and `saf sched run`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_bgp.h"

void saf_cli_bgp_init(saf_cli_bgp *b)
{
	memset(b, 0, sizeof(*b));
	b->speaker.as = SAF_BGP_AS_DEFAULT;
	b->steer.as = SAF_BGP_AS_DEFAULT;
	b->local_pref = SAF_BGP_LP_SCHED;
}

static int parse_u32(const char *opt, const char *v, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	uint64_t n;

	if (saf_cli_uint(opt, v, 10, min, max, &n))
		return SAF_EXIT_USAGE;
	*out = (uint32_t)n;
	return 0;
}

static int parse_ip(const char *opt, const char *v, saf_addr *a)
{
	saf_error err;

	if (saf_addr_parse(v, false, a, &err) || a->has_port)
		return saf_cli_usage_error("%s: '%s' is not an IP address", opt,
					   v);
	return 0;
}

static int add_ip(const char *opt, const char *v, saf_addr *list, size_t *n,
		  size_t max)
{
	if (*n >= max)
		return saf_cli_usage_error("%s: at most %zu", opt, max);
	if (parse_ip(opt, v, &list[*n]))
		return SAF_EXIT_USAGE;
	(*n)++;
	return 0;
}

int saf_cli_bgp_opt(saf_cli_bgp *b, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case SAF_CLI_BGP_SPEAKER:
		if (strcmp(arg, "exabgp") != 0)
			return saf_cli_usage_error(
				"--bgp: '%s' is not a supported speaker "
				"(exabgp)",
				arg);
		b->enabled = true;
		return 0;
	case SAF_CLI_BGP_PEER:
		return add_ip("--bgp-peer", arg, b->speaker.peers,
			      &b->speaker.n_peers, SAF_BGP_PEERS_MAX);
	case SAF_CLI_BGP_LOCAL:
		return parse_ip("--bgp-local", arg, &b->speaker.local);
	case SAF_CLI_BGP_AS:
		if (parse_u32("--bgp-as", arg, 1, 65535, &v))
			return SAF_EXIT_USAGE;
		b->speaker.as = b->steer.as = v;
		return 0;
	case SAF_CLI_BGP_HOLD:
		if (parse_u32("--bgp-hold", arg, 3, 65535, &v))
			return SAF_EXIT_USAGE;
		b->speaker.hold_time = v;
		return 0;
	case SAF_CLI_BGP_LOG:
		b->speaker.log_path = arg;
		return 0;
	case SAF_CLI_BGP_PROGRAM:
		b->speaker.program = arg;
		return 0;
	case SAF_CLI_BGP_ANYCAST:
		return add_ip("--bgp-anycast", arg, b->steer.anycast,
			      &b->steer.n_anycast, 2);
	case SAF_CLI_BGP_NEXTHOP:
		return add_ip("--bgp-nexthop", arg, b->steer.nexthop,
			      &b->steer.n_nexthop, 2);
	case SAF_CLI_BGP_LINK_BW:
		b->steer.link_bw = true;
		return 0;
	case SAF_CLI_BGP_LOCAL_PREF:
		return parse_u32("--bgp-local-pref", arg, 0, 0xffffffffu,
				 &b->local_pref);
	default:
		return -1;
	}
}

int saf_cli_bgp_check(saf_cli_bgp *b, bool needs_anycast)
{
	if (!b->enabled) {
		if (b->speaker.n_peers || b->steer.n_anycast)
			return saf_cli_usage_error(
				"--bgp-* options need --bgp exabgp");
		return 0;
	}
	if (b->speaker.n_peers == 0)
		return saf_cli_usage_error(
			"--bgp needs at least one --bgp-peer");
	if (b->speaker.local.family != 4)
		return saf_cli_usage_error(
			"--bgp needs --bgp-local (an IPv4 address: source of "
			"the sessions and router id)");
	if (needs_anycast && b->steer.n_anycast == 0)
		return saf_cli_usage_error("--bgp needs --bgp-anycast S");
	bool has4 = false;
	for (size_t i = 0; i < b->steer.n_nexthop; i++)
		has4 |= b->steer.nexthop[i].family == 4;
	/* the IPv4 next hop defaults to the session's own address */
	if (needs_anycast && !has4 && b->steer.n_nexthop < 2)
		b->steer.nexthop[b->steer.n_nexthop++] = b->speaker.local;
	return 0;
}
