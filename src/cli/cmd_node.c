/* SPDX-License-Identifier: MIT */
/* saf node agent: reports this node's metrics to the scheduler on R1. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_bgp.h"
#include "saf/sched.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char agent_help[] =
	"usage: saf node agent --name NAME --sched ADDR[:PORT] --key FILE\n"
	"                      [--load-file FILE] [--capacity PERMILLE]\n"
	"                      [--interval MS] [--duration SECONDS]\n"
	"                      [--l2-threshold N] [--l2-min-gap MS]\n"
	"\n"
	"Sends this node's compute metrics to the scheduler every interval\n"
	"and answers the scheduler's delay probes, all HMAC-SHA256 signed "
	"with\n"
	"this node's own key: --key FILE holds 64 hex digits (mode 0600, a\n"
	"regular file owned by the running user or root, not a symbolic "
	"link);\n"
	"the scheduler's key file has the same key on the line for NAME.\n"
	"Repeat --sched (up to 4) to report to a standby scheduler too:\n"
	"each gets every report and its own probes answered.\n"
	"Reports carry this host's wall clock: keep it in sync with the\n"
	"scheduler's (NTP); the scheduler refuses reports off by more than "
	"its\n"
	"--report-window.\n"
	"Load is /proc/loadavg over the CPU count, or read from --load-file:\n"
	"one line 'LOAD [CAPACITY] [down]' in permille ('down': "
	"unavailable).\n"
	"The load is sampled every 5 ms; when the node's CATS level 2 score\n"
	"(docs/sched.md) moves by --l2-threshold points (default 1) since the\n"
	"last report, a report goes out at once, at most one such extra\n"
	"report per --l2-min-gap MS (default 20).\n"
	"\n"
	"BGP distributed mode (docs/bgp.md): --bgp exabgp announces S through\n"
	"a local speaker with the node's L2 score (MED 10 - score); --sched\n"
	"and --key are then optional.\n"
	"  --bgp-anycast S       S to announce (one IPv4 and/or one IPv6)\n"
	"  --bgp-nexthop ADDR    this node's unicast address per family\n"
	"                        (IPv4 default: --bgp-local)\n"
	"  --bgp-link-bandwidth  also carry the score as link "
	"bandwidth\n" SAF_CLI_BGP_HELP;

typedef struct agent_args {
	saf_agent_opts o;
	const char *key_path, *sched[SAF_AGENT_SCHED_MAX];
	size_t n_sched;
} agent_args;

/* One option of the agent's own (not --bgp-*): -1 taken, else the exit
 * code (usage error, or OK after --help). */
static int agent_opt(agent_args *a, int c)
{
	saf_agent_opts *o = &a->o;
	uint64_t v;
	double d;

	switch (c) {
	case 'n':
		if (strlen(optarg) == 0 || strlen(optarg) > SAF_SCHED_NAME_MAX)
			return saf_cli_usage_error("--name: 1..%u characters",
						   SAF_SCHED_NAME_MAX);
		strcpy(o->name, optarg);
		return -1;
	case 's':
		if (a->n_sched == SAF_AGENT_SCHED_MAX)
			return saf_cli_usage_error(
				"--sched: at most %u schedulers",
				SAF_AGENT_SCHED_MAX);
		a->sched[a->n_sched++] = optarg;
		return -1;
	case 'k':
		a->key_path = optarg;
		return -1;
	case 'l':
		o->load_file = optarg;
		return -1;
	case 'c': /* permille */
		if (saf_cli_uint("--capacity", optarg, 10, 0, 1000, &v))
			return SAF_EXIT_USAGE;
		o->capacity = (uint16_t)v;
		return -1;
	case 'i': /* ms */
		if (saf_cli_uint("--interval", optarg, 10, 1, 60000, &v))
			return SAF_EXIT_USAGE;
		o->interval_ms = v;
		return -1;
	case 0x2000: /* --l2-threshold, points */
		if (saf_cli_uint("--l2-threshold", optarg, 10, 1, 10, &v))
			return SAF_EXIT_USAGE;
		o->l2_threshold = (unsigned)v;
		return -1;
	case 0x2001: /* --l2-min-gap, ms */
		if (saf_cli_uint("--l2-min-gap", optarg, 10, 0, 60000, &v))
			return SAF_EXIT_USAGE;
		o->l2_min_gap_ms = v ? v : 1;
		return -1;
	case 'd': /* seconds, as saf sched run --duration */
		if (saf_cli_double("--duration", optarg, 0.001, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->duration_ms = (uint64_t)(d * 1000);
		return -1;
	case 'h':
		fputs(agent_help, stdout);
		return SAF_EXIT_OK;
	default:
		return saf_cli_usage_error("see 'saf node agent --help'");
	}
}

/* The schedulers (default port) and the key: 0, or the exit code. */
static int agent_targets(agent_args *a, const saf_cli_bgp *bgp)
{
	saf_agent_opts *o = &a->o;
	saf_error err;

	if (!o->name[0] || (!bgp->enabled && (!a->n_sched || !a->key_path)))
		return saf_cli_usage_error(
			"--name, --sched and --key are required");
	if (!a->n_sched != !a->key_path)
		return saf_cli_usage_error("--sched and --key go together");
	for (size_t i = 0; i < a->n_sched; i++) {
		saf_addr *s = i == 0 ? &o->sched : &o->sched_more[i - 1];

		if (saf_addr_parse(a->sched[i], false, s, &err))
			return saf_cli_usage_error("--sched %s: %s",
						   a->sched[i], err.msg);
		if (!s->has_port)
			s->port = SAF_SCHED_PORT_DEFAULT, s->has_port = true;
	}
	o->n_sched_more = a->n_sched ? a->n_sched - 1 : 0;
	if (a->key_path && saf_sched_key_load(a->key_path, o->key, &err))
		return saf_cli_usage_error("%s", err.msg);
	return 0;
}

static int agent(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"name", required_argument, 0, 'n'},
		{"sched", required_argument, 0, 's'},
		{"key", required_argument, 0, 'k'},
		{"load-file", required_argument, 0, 'l'},
		{"capacity", required_argument, 0, 'c'},
		{"interval", required_argument, 0, 'i'},
		{"duration", required_argument, 0, 'd'},
		{"l2-threshold", required_argument, 0, 0x2000},
		{"l2-min-gap", required_argument, 0, 0x2001},
		{"help", no_argument, 0, 'h'},
		SAF_CLI_BGP_LONGOPTS,
		{0, 0, 0, 0},
	};
	agent_args a = {.o = {.stop = &stop_flag}};
	saf_agent_opts *o = &a.o;
	saf_cli_bgp bgp;
	saf_bgp_node node;
	saf_error err;
	int c, rc;

	optind = 1;
	saf_cli_bgp_init(&bgp);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		rc = saf_cli_bgp_opt(&bgp, c, optarg); /* 0 taken, -1 not */
		if (rc > 0)
			return rc;
		if (rc < 0 && (rc = agent_opt(&a, c)) >= 0)
			return rc;
	}
	if (optind != argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (saf_cli_bgp_check(&bgp, true))
		return SAF_EXIT_USAGE;
	rc = agent_targets(&a, &bgp);
	if (rc)
		return rc;
	if (bgp.enabled) {
		saf_bgp_node_init(&node, &bgp.speaker, &bgp.steer);
		o->on_metrics = saf_bgp_node_on_metrics;
		o->metrics_ctx = &node;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = saf_agent_run(o, &err);
	if (bgp.enabled)
		saf_bgp_node_stop(&node); /* withdraws: the sessions close */
	OPENSSL_cleanse(o->key, sizeof(o->key));
	if (rc)
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

int saf_cmd_node(int argc, char **argv)
{
	static const saf_cmd table[] = {
		{"agent", agent, "report metrics to the scheduler on R1"},
	};
	return saf_cli_dispatch("saf node", table,
				sizeof(table) / sizeof(table[0]), argc, argv);
}
