/* SPDX-License-Identifier: MIT */
/* saf tcp: attach/detach/status of the sock_ops programs, and connect. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "opt.h"
#include "saf/tcp.h"

static int parse_pair_list(const char *opt, const char *arg, bool port_ok,
			   saf_addr *out, size_t *n, size_t max)
{
	saf_error err;

	if (*n == max)
		return saf_cli_usage_error("%s: at most %zu", opt, max);
	if (saf_addr_parse(arg, false, &out[*n], &err))
		return saf_cli_usage_error("%s: %s", opt, err.msg);
	if (!port_ok && out[*n].has_port)
		return saf_cli_usage_error("%s: no port here ('%s')", opt, arg);
	(*n)++;
	return 0;
}

static const char node_help[] =
	"usage: saf tcp node attach --cgroup PATH --anycast S[:PORT] --unicast U[:PORT]\n"
	"                           [--anycast S6 --unicast U6 ...] [--allow PREFIX ...]\n"
	"                           [--pin-dir DIR] [--kind N] [--exid N]\n"
	"                           [--advert-rate N|off] [--advert-burst N]\n"
	"                           [--advert-rate-v6-prefix LEN]\n"
	"                           [--keepalive IDLE[,INTVL,CNT]|off]\n"
	"\n"
	"Attaches the node program to the cgroup: SYNs that carry SAF and are\n"
	"addressed to an anycast address get the paired unicast address in the\n"
	"SYN-ACK. Pairs are matched in order. Without a port the anycast entry\n"
	"covers every port and the advertised port is the connection's own.\n"
	"--allow limits adverts to client prefixes (default: every client).\n"
	"--advert-rate limits adverts per client address and second (default\n"
	"1000, 'off' for none), --advert-burst how many may come at once\n"
	"(default 1000); skipped adverts are counted (node_skipped_rate_limited).\n"
	"IPv6 clients share one budget per --advert-rate-v6-prefix (default 64:\n"
	"per /64; 1..128). The source address is not authenticated: a spoofer\n"
	"can spend a victim's budget (its /64's, or its IPv4 address's), and the\n"
	"victim then stays on S, without an advert, until the budget refills.\n"
	"--keepalive turns on TCP keepalive (seconds idle, seconds between\n"
	"probes, probes; default 60,10,3; IDLE alone keeps 10,3) for every\n"
	"connection on an anycast address whose SYN asked for an advert, so one\n"
	"the client left with a RST that went to another node (R1 moved S) is\n"
	"reset within IDLE+INTVL*CNT seconds; counted (node_keepalive_set).\n"
	"'off' for none. An application that sets keepalive itself overrides it.\n"
	"Attach before the server starts listening: listeners that already\n"
	"exist are reported and will not advertise.\n"
	"--force advertises even unspecified, multicast or broadcast\n"
	"addresses (to test clients' refusal); --test-bad-length N writes a\n"
	"malformed advert of length N (tests only).\n";

/* --kind (2..255) and --exid (1..0xffff), decimal or 0x hex, for both
 * attach commands; opt is getopt's 'k' or 'x'. */
static int parse_kind_exid(int opt, const char *arg, uint8_t *kind,
			   uint16_t *exid)
{
	uint64_t v;

	if (opt == 'k') {
		if (saf_cli_uint("--kind", arg, 0, 2, 255, &v))
			return SAF_EXIT_USAGE;
		*kind = (uint8_t)v;
	} else {
		if (saf_cli_uint("--exid", arg, 0, 1, 0xffff, &v))
			return SAF_EXIT_USAGE;
		*exid = (uint16_t)v;
	}
	return 0;
}

/* What the options must say together: a cgroup, unicast addresses a
 * client would accept (unless --force), one per anycast address. */
static int node_attach_check(const saf_tcp_node_config *c, size_t n_uni,
			     bool force)
{
	saf_error err;

	if (!c->cgroup)
		return saf_cli_usage_error("--cgroup is required");
	for (size_t i = 0; i < n_uni && !force; i++)
		if (saf_addr_check_target(&c->unicast[i], true, "--unicast",
					  &err))
			return saf_cli_usage_error(
				"%s (--force to advertise it anyway, e.g. to "
				"test clients)",
				err.msg);
	if (c->n_pairs == 0 || c->n_pairs != n_uni)
		return saf_cli_usage_error(
			"give --anycast and --unicast in pairs (%zu and %zu "
			"given)",
			c->n_pairs, n_uni);
	return 0;
}

static int node_attach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cgroup", required_argument, 0, 'c' },
		{ "anycast", required_argument, 0, 'a' },
		{ "unicast", required_argument, 0, 'u' },
		{ "allow", required_argument, 0, 'A' },
		{ "pin-dir", required_argument, 0, 'p' },
		{ "kind", required_argument, 0, 'k' },
		{ "exid", required_argument, 0, 'x' },
		{ "test-bad-length", required_argument, 0, 'B' },
		{ "advert-rate", required_argument, 0, 'R' },
		{ "advert-burst", required_argument, 0, 'U' },
		{ "advert-rate-v6-prefix", required_argument, 0, 'P' },
		{ "keepalive", required_argument, 0, 'K' },
		{ "force", no_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static saf_tcp_node_config c;
	bool force = false;
	size_t n_uni = 0;
	saf_error err;
	uint64_t v;
	int o;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'c':
			c.cgroup = optarg;
			break;
		case 'a':
			if (parse_pair_list("--anycast", optarg, true, c.anycast,
					    &c.n_pairs, SAF_TCP_MAX_PAIRS))
				return SAF_EXIT_USAGE;
			break;
		case 'u':
			if (parse_pair_list("--unicast", optarg, true, c.unicast,
					    &n_uni, SAF_TCP_MAX_PAIRS))
				return SAF_EXIT_USAGE;
			break;
		case 'A':
			if (c.n_allow == SAF_TCP_MAX_ALLOW)
				return saf_cli_usage_error("--allow: at most %u",
							   SAF_TCP_MAX_ALLOW);
			if (saf_addr_prefix_parse(optarg,
						  &c.allow[c.n_allow],
						  &c.allow_len[c.n_allow],
						  &err))
				return saf_cli_usage_error("--allow: %s",
							   err.msg);
			c.n_allow++;
			break;
		case 'p':
			c.pin_dir = optarg;
			break;
		case 'k':
		case 'x':
			if (parse_kind_exid(o, optarg, &c.kind, &c.exid))
				return SAF_EXIT_USAGE;
			break;
		case 'B':
			if (saf_cli_uint("--test-bad-length", optarg, 0, 4, 22,
					 &v))
				return SAF_EXIT_USAGE;
			c.test_bad_len = (uint8_t)v;
			break;
		case 'R': /* per second, or off */
			if (strcmp(optarg, "off") == 0)
				v = SAF_TCP_RATE_OFF;
			else if (saf_cli_uint("--advert-rate", optarg, 10, 1,
					      1000000000u, &v))
				return SAF_EXIT_USAGE;
			c.advert_rate = (uint32_t)v;
			break;
		case 'U':
			if (saf_cli_uint("--advert-burst", optarg, 10, 1,
					 1000000u, &v))
				return SAF_EXIT_USAGE;
			c.advert_burst = (uint32_t)v;
			break;
		case 'P':
			/* the message names the range first, as before */
			if (saf_opt_uint("--advert-rate-v6-prefix", optarg, 10,
					 1, 128, &v, NULL))
				return saf_cli_usage_error(
					"--advert-rate-v6-prefix: 1..128, not "
					"'%s'",
					optarg);
			c.advert_rate_v6_prefix = (uint8_t)v;
			break;
		case 'K':
			if (saf_tcp_keepalive_parse(optarg, &c, &err))
				return saf_cli_usage_error("%s", err.msg);
			break;
		case 'F':
			force = true;
			break;
		case 'h':
			fputs(node_help, stdout);
			return SAF_EXIT_OK;
		default:
			return saf_cli_usage_error(
				"see 'saf tcp node attach --help'");
		}
	}
	if (optind != argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (node_attach_check(&c, n_uni, force))
		return SAF_EXIT_USAGE;
	if (saf_tcp_node_attach(&c, stderr, &err))
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

static const char client_help[] =
	"usage: saf tcp client attach --cgroup PATH [--anycast S ...] [--pin-dir DIR]\n"
	"                             [--allow-target PREFIX ...]\n"
	"                             [--cache-lifetime SECONDS|off] [--cache-size N]\n"
	"                             [--prefetch S:PORT[,INTERVAL] ...]\n"
	"\n"
	"Attaches the client program to the cgroup: connections from its\n"
	"processes to the given anycast addresses (or to every address when\n"
	"none is given) carry SAF in the SYN, and the advert in the SYN-ACK\n"
	"is kept per socket for 'saf tcp connect' and the library.\n"
	"\n"
	"Kernel affinity cache: an accepted advert on a connection to a given\n"
	"--anycast address also records S:PORT -> U:PORT (per network\n"
	"namespace), and a later TCP connect() to S:PORT from any program in\n"
	"the cgroup goes straight to U:PORT (getpeername() says U). UDP is left\n"
	"alone. An entry lives --cache-lifetime seconds (default 600, 'off' for\n"
	"no cache; each advert refreshes it); at most --cache-size entries\n"
	"(default 4096, least recently used go first). A connect to a cached U\n"
	"that fails (reset, unreachable, or its SYN unanswered for 1 s) drops\n"
	"the entry, so the retry goes to S; a connect to an unanswering U\n"
	"fails after 7 s instead of the kernel's 127 s.\n"
	"Targets are cached only if the target policy allows them: without\n"
	"--allow-target global unicast only (the IANA special-purpose table is\n"
	"refused); with it, only targets inside its prefixes (repeatable, or\n"
	"comma-separated), e.g. private node addresses. Unspecified, multicast,\n"
	"broadcast, loopback and the anycast addresses are never cached.\n"
	"--prefetch keeps the entry for S:PORT warm: the command stays in the\n"
	"foreground, joins the cgroup and, in its own network namespace, sends\n"
	"one probe (a SAF SYN to S, reset at once) now and every INTERVAL\n"
	"seconds (default half the lifetime), until SIGTERM (the programs stay\n"
	"attached: 'saf tcp detach client'). New connections then follow R1's\n"
	"choice with at most INTERVAL of lag.\n";

static volatile int prefetch_stop;

static void on_stop(int sig)
{
	(void)sig;
	prefetch_stop = 1;
}

static int client_prefetch(const saf_tcp_client_config *c,
			   const saf_tcp_prefetch *pf)
{
	struct sigaction sa = { .sa_handler = on_stop };
	saf_error err;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (saf_tcp_prefetch_run(pf, c->cgroup, c->pin_dir,
				 c->cache_lifetime == SAF_TCP_CACHE_OFF
					 ? 0
					 : c->cache_lifetime,
				 &prefetch_stop, stderr, &err))
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

static int parse_u32(const char *opt, const char *arg, uint32_t max,
		     uint32_t *out)
{
	uint64_t v;

	if (saf_cli_uint(opt, arg, 10, 1, max, &v))
		return SAF_EXIT_USAGE;
	*out = (uint32_t)v;
	return 0;
}

static int client_attach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cgroup", required_argument, 0, 'c' },
		{ "anycast", required_argument, 0, 'a' },
		{ "pin-dir", required_argument, 0, 'p' },
		{ "kind", required_argument, 0, 'k' },
		{ "exid", required_argument, 0, 'x' },
		{ "allow-target", required_argument, 0, 'T' },
		{ "cache-lifetime", required_argument, 0, 'L' },
		{ "cache-size", required_argument, 0, 'S' },
		{ "prefetch", required_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static saf_tcp_client_config c;
	static saf_tcp_prefetch pf;
	static saf_target_policy pol;
	saf_error err;
	int o;

	memset(&c, 0, sizeof(c));
	memset(&pf, 0, sizeof(pf));
	saf_target_policy_init(&pol);
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'c':
			c.cgroup = optarg;
			break;
		case 'a':
			if (parse_pair_list("--anycast", optarg, false,
					    c.anycast, &c.n_anycast,
					    SAF_TCP_MAX_PAIRS))
				return SAF_EXIT_USAGE;
			break;
		case 'p':
			c.pin_dir = optarg;
			break;
		case 'k':
		case 'x':
			if (parse_kind_exid(o, optarg, &c.kind, &c.exid))
				return SAF_EXIT_USAGE;
			break;
		case 'T':
			if (saf_target_policy_allow(&pol, optarg, &err))
				return saf_cli_usage_error("--allow-target: %s",
							   err.msg);
			break;
		case 'L':
			if (strcmp(optarg, "off") == 0)
				c.cache_lifetime = SAF_TCP_CACHE_OFF;
			else if (parse_u32("--cache-lifetime", optarg,
					   SAF_TCP_CACHE_LIFETIME_MAX,
					   &c.cache_lifetime))
				return SAF_EXIT_USAGE;
			break;
		case 'S':
			if (parse_u32("--cache-size", optarg,
				      SAF_TCP_CACHE_SIZE_MAX, &c.cache_size))
				return SAF_EXIT_USAGE;
			break;
		case 'P':
			if (saf_tcp_prefetch_parse(optarg, &pf, &err))
				return saf_cli_usage_error("%s", err.msg);
			break;
		case 'h':
			fputs(client_help, stdout);
			return SAF_EXIT_OK;
		default:
			return saf_cli_usage_error(
				"see 'saf tcp client attach --help'");
		}
	}
	if (optind != argc)
		return saf_cli_usage_error("unexpected argument '%s'",
					   argv[optind]);
	if (!c.cgroup)
		return saf_cli_usage_error("--cgroup is required");
	if (pf.n && (c.n_anycast == 0 || c.cache_lifetime == SAF_TCP_CACHE_OFF))
		return saf_cli_usage_error(
			"--prefetch needs the cache: --anycast addresses and "
			"a --cache-lifetime");
	memcpy(c.allow_target, pol.allow, sizeof(pol.allow));
	c.n_allow_target = pol.n_allow;
	if (saf_tcp_client_attach(&c, &err))
		return saf_cli_fail("%s", err.msg);
	return pf.n ? client_prefetch(&c, &pf) : SAF_EXIT_OK;
}

static int one_attach(int argc, char **argv, saf_cmd_fn fn, const char *who)
{
	if (argc >= 2 && strcmp(argv[1], "attach") == 0)
		return fn(argc - 1, argv + 1);
	if (argc >= 2 && saf_cli_is_help(argv[1])) {
		printf("usage: saf tcp %s attach [options]\n", who);
		return SAF_EXIT_OK;
	}
	return saf_cli_usage_error("usage: saf tcp %s attach [options] (see "
				   "--help)",
				   who);
}

static int node_cmd(int argc, char **argv)
{
	return one_attach(argc, argv, node_attach, "node");
}

static int client_cmd(int argc, char **argv)
{
	return one_attach(argc, argv, client_attach, "client");
}

static int pin_dir_only(int argc, char **argv, const char *usage,
			const char **pin_dir, int *format, const char **which)
{
	for (int i = 1; i < argc; i++) {
		if (saf_cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return -1;
		} else if (strcmp(argv[i], "--pin-dir") == 0 && i + 1 < argc) {
			*pin_dir = argv[++i];
		} else if (format && strcmp(argv[i], "--json") == 0) {
			*format = SAF_TCP_STATUS_JSON;
		} else if (format && strcmp(argv[i], "--prometheus") == 0) {
			*format = SAF_TCP_STATUS_PROMETHEUS;
		} else if (which && (strcmp(argv[i], "node") == 0 ||
				     strcmp(argv[i], "client") == 0)) {
			*which = argv[i];
		} else {
			saf_cli_usage_error("unexpected argument '%s'", argv[i]);
			return -2;
		}
	}
	return 0;
}

static int status(int argc, char **argv)
{
	const char *pin_dir = NULL;
	int format = SAF_TCP_STATUS_TEXT;
	saf_error err;
	int r = pin_dir_only(argc, argv,
			     "usage: saf tcp status [--json | --prometheus] [--pin-dir DIR]\n\n"
			     "Counters of the attached node and client programs (per-CPU\n"
			     "counters summed). --prometheus prints the text exposition\n"
			     "format, e.g. for node_exporter's textfile collector.\n",
			     &pin_dir, &format, NULL);

	if (r)
		return r == -1 ? SAF_EXIT_OK : SAF_EXIT_USAGE;
	if (saf_tcp_status(pin_dir, (saf_tcp_status_format)format, stdout, &err))
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

static int detach(int argc, char **argv)
{
	const char *pin_dir = NULL, *which = NULL;
	saf_error err;
	int r = pin_dir_only(argc, argv,
			     "usage: saf tcp detach [node|client] [--pin-dir DIR]\n\n"
			     "Detaches the programs (both unless one is named).\n",
			     &pin_dir, NULL, &which);

	if (r)
		return r == -1 ? SAF_EXIT_OK : SAF_EXIT_USAGE;
	if (saf_tcp_detach(pin_dir, which, &err))
		return saf_cli_fail("%s", err.msg);
	return SAF_EXIT_OK;
}

static int cache_cmd(int argc, char **argv)
{
	static const char usage[] =
		"usage: saf tcp cache list [--json] [--pin-dir DIR]\n"
		"       saf tcp cache flush [--pin-dir DIR]\n\n"
		"The kernel affinity cache of the client program: every entry\n"
		"(network namespace cookie, S:PORT, U:PORT, seconds left), or\n"
		"remove them all (the next connect to each S learns afresh).\n";
	const char *pin_dir = NULL;
	int format = SAF_TCP_STATUS_TEXT;
	bool list;
	saf_error err;
	size_t n;
	int r;

	if (argc < 2 || saf_cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return argc < 2 ? SAF_EXIT_USAGE : SAF_EXIT_OK;
	}
	list = strcmp(argv[1], "list") == 0;
	if (!list && strcmp(argv[1], "flush") != 0)
		return saf_cli_usage_error("saf tcp cache: list or flush, not "
					   "'%s'",
					   argv[1]);
	r = pin_dir_only(argc - 1, argv + 1, usage, &pin_dir,
			 list ? &format : NULL, NULL);
	if (r)
		return r == -1 ? SAF_EXIT_OK : SAF_EXIT_USAGE;
	if (format == SAF_TCP_STATUS_PROMETHEUS)
		return saf_cli_usage_error("cache list: --json or text");
	if (list ? saf_tcp_cache_list(pin_dir, (saf_tcp_status_format)format,
				      stdout, &err)
		 : saf_tcp_cache_flush(pin_dir, &n, &err))
		return saf_cli_fail("%s", err.msg);
	if (!list)
		printf("flushed %zu entries\n", n);
	return SAF_EXIT_OK;
}

static const char connect_help[] =
	"usage: saf tcp connect S:PORT [-v] [--timeout MS] [--allow-loopback]\n"
	"                       [--allow-target PREFIX[,PREFIX]...] [--pin-dir DIR]\n"
	"\n"
	"Like nc: connects to the anycast service S, follows the node's advert\n"
	"to its unicast address (closing the first connection with RST), and\n"
	"copies stdin to the connection and the connection to stdout. Stays on\n"
	"S when there is no usable advert or the unicast address fails.\n"
	"The process must be in the cgroup given to 'saf tcp client attach'.\n"
	"  -v   print on stderr where it ended and why\n"
	"  --allow-target PREFIX  advertised addresses the client may follow\n"
	"       (repeatable, or a comma list; e.g. 10.30.0.0/16,fd00:30::/32).\n"
	"       Without it: global unicast only, every IANA special-purpose\n"
	"       range refused (private, CGN, link-local, documentation, ...).\n"
	"       With it: only addresses inside the prefixes. Unspecified,\n"
	"       multicast and broadcast are never followed; loopback only with\n"
	"       --allow-loopback. A refused advert leaves the client on S.\n";

static int relay(int fd)
{
	char buf[16384];
	bool in_open = true;

	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = STDIN_FILENO,
					 .events = in_open ? POLLIN : 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return saf_cli_fail("poll: %s", strerror(errno));
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n < 0)
				return saf_cli_fail("connection: %s",
						    strerror(errno));
			if (n == 0)
				return SAF_EXIT_OK;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(STDOUT_FILENO, buf + off,
						  (size_t)(n - off));
				if (w < 0)
					return saf_cli_fail("stdout: %s",
							    strerror(errno));
				off += w;
			}
		}
		if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n <= 0) {
				in_open = false;
				shutdown(fd, SHUT_WR);
				continue;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = send(fd, buf + off,
						 (size_t)(n - off), MSG_NOSIGNAL);
				if (w < 0)
					return saf_cli_fail("connection: %s",
							    strerror(errno));
				off += w;
			}
		}
	}
}

static int tcp_connect(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, 0, 't' },
		{ "allow-loopback", no_argument, 0, 'L' },
		{ "allow-target", required_argument, 0, 'T' },
		{ "pin-dir", required_argument, 0, 'p' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	saf_tcp_connect_opts o = { 0 };
	saf_target_policy policy;
	saf_tcp_result res;
	bool verbose = false;
	saf_addr service;
	saf_error err;
	char a[SAF_ADDR_STR_LEN], b[SAF_ADDR_STR_LEN];
	uint64_t v;
	int c, fd;

	saf_target_policy_init(&policy);
	o.policy = &policy;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'T':
			if (saf_target_policy_allow(&policy, optarg, &err))
				return saf_cli_usage_error("--allow-target: %s",
							   err.msg);
			break;
		case 't': /* ms */
			if (saf_cli_uint("--timeout", optarg, 10, 1, 600000,
					 &v))
				return SAF_EXIT_USAGE;
			o.timeout_ms = (unsigned)v;
			break;
		case 'L':
			o.allow_loopback = true;
			break;
		case 'p':
			o.pin_dir = optarg;
			break;
		case 'h':
			fputs(connect_help, stdout);
			return SAF_EXIT_OK;
		default:
			return saf_cli_usage_error("see 'saf tcp connect --help'");
		}
	}
	if (optind + 1 != argc)
		return saf_cli_usage_error("usage: saf tcp connect S:PORT");
	if (saf_addr_parse(argv[optind], true, &service, &err))
		return saf_cli_usage_error("%s", err.msg);
	signal(SIGPIPE, SIG_IGN);
	fd = saf_tcp_connect(&service, &o, &res, &err);
	if (fd < 0)
		return saf_cli_fail("%s", err.msg);
	if (verbose)
		fprintf(stderr, "saf: %s: on %s via %s (%s)\n",
			saf_tcp_outcome_name(res.outcome),
			saf_addr_format(&res.final, a),
			saf_addr_format(&service, b), res.reason);
	c = relay(fd);
	close(fd);
	return c;
}

int saf_cmd_tcp(int argc, char **argv)
{
	static const saf_cmd table[] = {
		{ "node", node_cmd, "node attach: advertise unicast addresses" },
		{ "client", client_cmd, "client attach: send SAF, keep adverts" },
		{ "status", status, "counters and configuration" },
		{ "detach", detach, "detach the programs" },
		{ "connect", tcp_connect, "nc-like client that follows adverts" },
		{ "cache", cache_cmd, "list or flush the kernel affinity cache" },
	};
	return saf_cli_dispatch("saf tcp", table,
				sizeof(table) / sizeof(table[0]), argc, argv);
}
