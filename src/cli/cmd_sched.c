/* SPDX-License-Identifier: MIT */
/* saf sched run|status: the scheduler on R1. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_bgp.h"
#include "saf/sched.h"

#define STATE_DEFAULT "/run/saf/sched.json"

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static const char run_help[] =
	"usage: saf sched run --anycast S [--anycast S6] --node "
	"NAME=NH4[,NH6]...\n"
	"                     --keys FILE [options]\n"
	"\n"
	"Chooses the best node for the anycast address S from the nodes'\n"
	"reports and R1's own delay probes, and programs R1's route for S "
	"over\n"
	"rtnetlink. Keeps no per-client or per-flow state.\n"
	"\n"
	"  --anycast ADDR        S (one IPv4 and/or one IPv6)\n"
	"  --node NAME=NH[,NH6]  a node and its next hop(s) from R1 (repeat)\n"
	"  --keys FILE           one key per node: lines 'NAME KEY' (KEY: 64 "
	"hex\n"
	"                        digits, the node agent's --key), '#' "
	"comments;\n"
	"                        mode 0600, owned by the running user or "
	"root,\n"
	"                        not a symbolic link. A report or echo is "
	"checked\n"
	"                        with the key of the node it names only\n"
	"  --listen ADDR:PORT    reports in (default [::]:7946)\n"
	"  --multipath           weighted multipath route instead of one best\n"
	"  --score l2|legacy     l2 (default): the CATS level 2 score norm_fi\n"
	"                        0..10 (docs/sched.md); legacy: the weighted\n"
	"                        score of --weight-compute/--weight-network\n"
	"  --cats-weights C,N,S  weights of computing_comb, "
	"communication_comb\n"
	"                        and service_comb in norm_fi (0.6,0.3,0.1)\n"
	"  --cats-delay-ref US   delay giving communication_comb 5 (10000)\n"
	"  --cats-conns-ref N    connections giving service_comb 5 (256)\n"
	"  --weight-compute W    legacy: weight of the compute score (0.7)\n"
	"  --weight-network W    legacy: weight of the delay score (0.3)\n"
	"  --delay-ref MS        legacy: delay giving half the network score\n"
	"                        (10)\n"
	"  --min-dwell MS        least time between changes (default 2000)\n"
	"  --min-improvement X   least score gain for a change (default 0.05)\n"
	"  --node-timeout MS     silence before a node is out (default 1500)\n"
	"  --report-window MS    a report's wall-clock stamp may differ from\n"
	"                        ours by this much (default 5000); reports\n"
	"                        stamped before this scheduler started are\n"
	"                        refused (captured before a restart)\n"
	"  --probe-interval MS   delay probes (default 200)\n"
	"  --state FILE          JSON status (default " STATE_DEFAULT ")\n"
	"  --events FILE         append one JSON line per route change\n"
	"  --metrics ADDR:PORT   serve Prometheus text metrics over HTTP\n"
	"  --duration SECONDS    stop after this long (default: on SIGTERM)\n"
	"\n"
	"BGP centralized mode (docs/bgp.md): --bgp exabgp announces S through\n"
	"the chosen node (--node NAME=UNICAST4[,UNICAST6]) to the ingress\n"
	"routers with LOCAL_PREF --bgp-local-pref (default 200), instead of\n"
	"programming this host's kernel.\n" SAF_CLI_BGP_HELP
	"  --bgp-local-pref N    LOCAL_PREF of the route (default 200)\n";

enum {
	OPT_SCORE = 0x2000, /* above the short options and the BGP ones */
	OPT_CATS_WEIGHTS,
	OPT_CATS_DELAY_REF,
	OPT_CATS_CONNS_REF,
};

/* What `saf sched run` was told, before its scheduler exists. */
typedef struct run_args {
	saf_sched_run_opts o;
	const char *nodes[SAF_SCHED_MAX_NODES];
	size_t n_nodes;
	const char *key_path;
} run_args;

/* An option's outcome besides an exit code: taken, go on; not this
 * function's option. */
enum { RUN_OPT_TAKEN = -1, RUN_OPT_NOT_MINE = -2 };

/* The options of the decision (scores, weights, timers) into o. */
static int run_opt_decision(saf_sched_run_opts *o, int c, const char *arg)
{
	double d;

	switch (c) {
	case 'W':
		if (saf_cli_double("--report-window", arg, 1, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->cfg.report_window_ms = (uint64_t)d;
		break;
	case OPT_SCORE:
		if (strcmp(arg, "l2") == 0)
			o->cfg.score = SAF_SCHED_SCORE_L2;
		else if (strcmp(arg, "legacy") == 0)
			o->cfg.score = SAF_SCHED_SCORE_LEGACY;
		else
			return saf_cli_usage_error(
				"--score: l2 or legacy, not '%s'", arg);
		break;
	case OPT_CATS_WEIGHTS: {
		double w[3];
		char tail;

		if (sscanf(arg, "%lf,%lf,%lf%c", &w[0], &w[1], &w[2], &tail) !=
			    3 ||
		    w[0] < 0 || w[1] < 0 || w[2] < 0 ||
		    w[0] + w[1] + w[2] <= 0 || w[0] > 100 || w[1] > 100 ||
		    w[2] > 100)
			return saf_cli_usage_error(
				"--cats-weights: C,N,S, each 0..100, "
				"not all 0");
		o->cfg.cats.w_computing = w[0];
		o->cfg.cats.w_communication = w[1];
		o->cfg.cats.w_service = w[2];
		break;
	}
	case OPT_CATS_DELAY_REF:
		if (saf_cli_double("--cats-delay-ref", arg, 1, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->cfg.cats.delay_ref_us = (uint32_t)d;
		break;
	case OPT_CATS_CONNS_REF:
		if (saf_cli_double("--cats-conns-ref", arg, 1, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->cfg.cats.conns_ref = (uint32_t)d;
		break;
	case 'C':
		if (saf_cli_double("--weight-compute", arg, 0, 100,
				   &o->cfg.w.compute))
			return SAF_EXIT_USAGE;
		break;
	case 'N':
		if (saf_cli_double("--weight-network", arg, 0, 100,
				   &o->cfg.w.network))
			return SAF_EXIT_USAGE;
		break;
	case 'R':
		if (saf_cli_double("--delay-ref", arg, 0.001, 1e6,
				   &o->cfg.w.delay_ref_ms))
			return SAF_EXIT_USAGE;
		break;
	case 'D':
		if (saf_cli_double("--min-dwell", arg, 0, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->cfg.min_dwell_ms = (uint64_t)d;
		break;
	case 'I':
		if (saf_cli_double("--min-improvement", arg, 0, 10,
				   &o->cfg.min_improvement))
			return SAF_EXIT_USAGE;
		break;
	case 'T':
		if (saf_cli_double("--node-timeout", arg, 1, 1e9, &d))
			return SAF_EXIT_USAGE;
		o->cfg.node_timeout_ms = (uint64_t)d;
		break;
	case 'P':
		if (saf_cli_double("--probe-interval", arg, 1, 1e7, &d))
			return SAF_EXIT_USAGE;
		o->probe_interval_ms = (uint64_t)d;
		break;
	default:
		return RUN_OPT_NOT_MINE;
	}
	return RUN_OPT_TAKEN;
}

/* One option of `saf sched run` (not BGP's) into a: RUN_OPT_TAKEN, or the
 * exit code (help: SAF_EXIT_OK). */
static int run_opt(run_args *a, int c, const char *arg)
{
	saf_error err;
	double d;
	int rc;

	switch (c) {
	case 'a':
		if (a->o.n_anycast == 2)
			return saf_cli_usage_error(
				"--anycast: at most one IPv4 and one "
				"IPv6");
		if (saf_addr_parse(arg, false, &a->o.anycast[a->o.n_anycast],
				   &err))
			return saf_cli_usage_error("--anycast: %s", err.msg);
		if (a->o.n_anycast == 1 &&
		    a->o.anycast[0].family == a->o.anycast[1].family)
			return saf_cli_usage_error(
				"--anycast: two IPv%u addresses",
				a->o.anycast[1].family);
		a->o.n_anycast++;
		break;
	case 'n':
		if (a->n_nodes == SAF_SCHED_MAX_NODES)
			return saf_cli_usage_error("at most %u nodes",
						   SAF_SCHED_MAX_NODES);
		a->nodes[a->n_nodes++] = arg;
		break;
	case 'k':
		a->key_path = arg;
		break;
	case 'K':
		return saf_cli_usage_error(
			"--key: the scheduler takes --keys FILE, one "
			"'NAME KEY' line per node (docs/sched.md)");
	case 'l':
		if (saf_addr_parse(arg, true, &a->o.listen, &err))
			return saf_cli_usage_error("--listen: %s", err.msg);
		break;
	case 'm':
		a->o.cfg.multipath = true;
		break;
	case 's':
		a->o.state_path = arg;
		break;
	case 'e':
		a->o.events_path = arg;
		break;
	case 'M':
		if (saf_addr_parse(arg, true, &a->o.metrics, &err))
			return saf_cli_usage_error("--metrics: %s", err.msg);
		break;
	case 'd':
		if (saf_cli_double("--duration", arg, 0.001, 1e9, &d))
			return SAF_EXIT_USAGE;
		a->o.duration_ms = (uint64_t)(d * 1000);
		break;
	case 'h':
		fputs(run_help, stdout);
		return SAF_EXIT_OK;
	default:
		if ((rc = run_opt_decision(&a->o, c, arg)) != RUN_OPT_NOT_MINE)
			return rc;
		return saf_cli_usage_error("see 'saf sched run --help'");
	}
	return RUN_OPT_TAKEN;
}

/* The scheduler with the nodes and keys of a, or NULL with *rc the exit
 * code (the usage error said why). */
static saf_sched *sched_new(const run_args *a, int *rc)
{
	saf_sched_keyring kr;
	saf_error err;
	saf_sched *s = calloc(1, sizeof(*s));

	if (!s) {
		*rc = saf_cli_fail("out of memory");
		return NULL;
	}
	saf_sched_init(s, &a->o.cfg);
	for (size_t i = 0; i < a->n_nodes; i++) {
		if (saf_sched_add_node(s, a->nodes[i], &err)) {
			free(s);
			*rc = saf_cli_usage_error("--node: %s", err.msg);
			return NULL;
		}
		for (size_t j = 0; j < a->o.n_anycast; j++) {
			const saf_sched_node *n = &s->nodes[i];
			if (!(a->o.anycast[j].family == 4
				      ? n->nexthop4.family
				      : n->nexthop6.family)) {
				*rc = saf_cli_usage_error(
					"--node %s: no IPv%u next hop for "
					"the IPv%u anycast address",
					n->name, a->o.anycast[j].family,
					a->o.anycast[j].family);
				free(s);
				return NULL;
			}
		}
	}
	/* The keys live in s from here on: every way out wipes it. */
	if (saf_sched_keys_load(a->key_path, &kr, &err) ||
	    saf_sched_set_keys(s, &kr, &err)) {
		/* err names the file (load) or the node (set_keys). */
		saf_sched_keyring_wipe(&kr);
		OPENSSL_cleanse(s, sizeof(*s));
		free(s);
		*rc = saf_cli_usage_error("--keys: %s", err.msg);
		return NULL;
	}
	saf_sched_keyring_wipe(&kr);
	return s;
}

static int sched_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"anycast", required_argument, 0, 'a'},
		{"node", required_argument, 0, 'n'},
		{"keys", required_argument, 0, 'k'},
		{"key", required_argument, 0, 'K'},
		{"report-window", required_argument, 0, 'W'},
		{"listen", required_argument, 0, 'l'},
		{"multipath", no_argument, 0, 'm'},
		{"score", required_argument, 0, OPT_SCORE},
		{"cats-weights", required_argument, 0, OPT_CATS_WEIGHTS},
		{"cats-delay-ref", required_argument, 0, OPT_CATS_DELAY_REF},
		{"cats-conns-ref", required_argument, 0, OPT_CATS_CONNS_REF},
		{"weight-compute", required_argument, 0, 'C'},
		{"weight-network", required_argument, 0, 'N'},
		{"delay-ref", required_argument, 0, 'R'},
		{"min-dwell", required_argument, 0, 'D'},
		{"min-improvement", required_argument, 0, 'I'},
		{"node-timeout", required_argument, 0, 'T'},
		{"probe-interval", required_argument, 0, 'P'},
		{"state", required_argument, 0, 's'},
		{"events", required_argument, 0, 'e'},
		{"metrics", required_argument, 0, 'M'},
		{"duration", required_argument, 0, 'd'},
		{"help", no_argument, 0, 'h'},
		SAF_CLI_BGP_LONGOPTS,
		{0, 0, 0, 0},
	};
	run_args a = {.o = {.cfg = saf_sched_config_default(),
			    .state_path = STATE_DEFAULT,
			    .stop = &stop_flag}};
	saf_cli_bgp bgp;
	saf_bgp_sched bsched;
	saf_sched *s;
	saf_error err;
	int c, rc;

	if (saf_addr_parse("[::]:7946", true, &a.o.listen, &err))
		return SAF_EXIT_FAIL;
	optind = 1;
	saf_cli_bgp_init(&bgp);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int brc = saf_cli_bgp_opt(&bgp, c, optarg);

		if (brc >= 0) {
			if (brc)
				return brc;
			continue;
		}
		rc = run_opt(&a, c, optarg);
		if (rc != RUN_OPT_TAKEN)
			return rc;
	}
	if (optind != argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (a.o.n_anycast == 0)
		return saf_cli_usage_error("--anycast is required");
	if (a.n_nodes == 0)
		return saf_cli_usage_error("at least one --node is required");
	if (!a.key_path)
		return saf_cli_usage_error("--keys is required");
	if (saf_cli_bgp_check(&bgp, false))
		return SAF_EXIT_USAGE;
	if (bgp.enabled) {
		/* centralized mode: S through the chosen node's unicast
		 * address (--node NAME=UNICAST4,UNICAST6), over BGP only */
		saf_bgp_sched_init(&bsched, &bgp.speaker, a.o.anycast,
				   a.o.n_anycast, bgp.local_pref);
		a.o.on_decision = saf_bgp_sched_on_decision;
		a.o.decision_ctx = &bsched;
		a.o.no_kernel = true;
	}
	s = sched_new(&a, &rc);
	if (!s)
		return rc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = saf_sched_run(s, &a.o, &err);
	if (bgp.enabled)
		saf_bgp_driver_stop(&bsched.drv); /* the routers withdraw */
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	if (rc)
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

static int sched_status(int argc, char **argv)
{
	const char *path = STATE_DEFAULT;
	char buf[8192];
	size_t n;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (saf_cli_is_help(argv[i])) {
			puts("usage: saf sched status [--state FILE]\n\n"
			     "Prints the running scheduler's status as JSON: "
			     "nodes, scores,\nthe current choice, time since "
			     "it changed, counters, table sizes.");
			return SAF_EXIT_OK;
		}
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			path = argv[++i];
		else
			return saf_cli_usage_error("unexpected argument '%s'",
						   argv[i]);
	}
	f = fopen(path, "r");
	if (!f)
		return saf_cli_fail("no scheduler status at %s (is 'saf sched "
				    "run' running with --state %s?)",
				    path, path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return SAF_EXIT_OK;
}

int saf_cmd_sched(int argc, char **argv)
{
	static const saf_cmd table[] = {
		{"run", sched_run, "run the scheduler (on R1)"},
		{"status", sched_status,
		 "print the running scheduler's status"},
	};
	return saf_cli_dispatch("saf sched", table,
				sizeof(table) / sizeof(table[0]), argc, argv);
}
