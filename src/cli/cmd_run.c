/* SPDX-License-Identifier: MIT */
/* saf run: runs an unmodified program with the preload library that makes
 * its first connection to an anycast service follow the node's advert
 * (docs/run.md). Only sets the environment (and the cgroup) and execs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "saf/run.h"

/* clang-format off: the help text is laid out as printed */
static const char run_help[] =
	"usage: saf run --anycast S[:PORT] [--anycast ...] [--cgroup DIR]\n"
	"               [--pin-dir DIR] [--timeout-ms N] [--allow-target "
	"PREFIX ...]\n"
	"               [--allow-loopback] [--debug] [--preload PATH] -- CMD "
	"[ARGS...]\n"
	"\n"
	"Runs CMD with libsaf-preload.so (LD_PRELOAD): a TCP connect() to an\n"
	"anycast destination connects to S, reads the advert the client "
	"program\n"
	"stored for that socket, connects a new socket to the advertised "
	"unicast\n"
	"address U, moves it onto the application's descriptor (dup3) and "
	"closes\n"
	"the first connection with RST. Any failure (no advert, U not "
	"answering\n"
	"within the timeout, an option that cannot be copied) leaves CMD on "
	"its\n"
	"connection to S. Dynamically linked programs only; the client "
	"program\n"
	"must be attached (saf tcp client attach) and CMD in its cgroup.\n"
	"\n"
	"Options, and the environment variable each one sets (the library "
	"reads\n"
	"only these; set them yourself with LD_PRELOAD to do without saf "
	"run):\n"
	"  --anycast S[:PORT]   SAF_ANYCAST=S[:PORT],...  destinations to "
	"follow;\n"
	"                       without a port every port of S. Required (or\n"
	"                       SAF_ANYCAST already set).\n"
	"  --pin-dir DIR        SAF_PIN_DIR  bpffs folder of the client "
	"program's\n"
	"                       pins (default $SAF_BPF_PIN_DIR, else "
	"/run/saf/bpf)\n"
	"  --timeout-ms N       SAF_TIMEOUT_MS  bound of each wait inside "
	"connect():\n"
	"                       for U, and for S when the socket is "
	"non-blocking\n"
	"                       (default 1000, 1..60000). A non-blocking "
	"connect()\n"
	"                       returns within 2*N ms; a blocking one waits "
	"for S\n"
	"                       as it always would, then at most N ms for U.\n"
	"  --allow-target P    SAF_ALLOW_TARGET=P,...  the client target "
	"policy\n"
	"                       (saf/policy.h) every advert passes: without "
	"it\n"
	"                       only global unicast targets are followed; with "
	"it\n"
	"                       only targets inside these prefixes (private "
	"ones\n"
	"                       such as 10.30.2.2 need --allow-target "
	"10.30.0.0/16)\n"
	"  --allow-loopback     SAF_ALLOW_LOOPBACK=1  accept loopback targets\n"
	"  --debug, -v          SAF_DEBUG=1  one line per followed connect() "
	"on\n"
	"                       stderr: \"saf: connect S -> U migrated\" or\n"
	"                       \"saf: connect S stayed on S: <reason>\"\n"
	"  --cgroup DIR         move CMD into this cgroup v2 folder (the "
	"client\n"
	"                       program's) before exec\n"
	"  --preload PATH       the library (default: next to saf, or\n"
	"                       <prefix>/lib/saf/libsaf-preload.so)\n"
	"\n"
	"Copied from the application's socket to the new one when they differ\n"
	"from a fresh socket's defaults: O_NONBLOCK and the other file status\n"
	"flags, FD_CLOEXEC, the bound local address (a bound port is shared "
	"with\n"
	"SO_REUSEADDR), IPV6_V6ONLY, SO_BINDTODEVICE, "
	"IP_BIND_ADDRESS_NO_PORT,\n"
	"IP_FREEBIND, IP_TRANSPARENT, SO_REUSEADDR, SO_REUSEPORT, "
	"SO_KEEPALIVE,\n"
	"SO_LINGER, SO_SNDBUF, SO_RCVBUF, SO_RCVLOWAT, SO_SNDTIMEO, "
	"SO_RCVTIMEO,\n"
	"SO_PRIORITY, SO_MARK, SO_OOBINLINE, SO_TIMESTAMP, SO_ZEROCOPY, "
	"IP_TOS,\n"
	"IP_TTL, IP_MTU_DISCOVER, IPV6_TCLASS, IPV6_UNICAST_HOPS,\n"
	"IPV6_MTU_DISCOVER, TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, "
	"TCP_KEEPINTVL,\n"
	"TCP_KEEPCNT, TCP_USER_TIMEOUT, TCP_CONGESTION.\n";
/* clang-format on */

#define LIST_MAX SAF_RUN_VALUE_MAX

/* Appends item to a comma-separated list. */
static int append(char *list, const char *opt, const char *item)
{
	size_t n = strlen(list), m = strlen(item);

	if (n + m + 2 > LIST_MAX)
		return saf_cli_usage_error("%s: too many values", opt);
	if (n)
		list[n++] = ',';
	memcpy(list + n, item, m + 1);
	return 0;
}

/* The library next to the saf binary (build tree), or in the install
 * prefix's lib/saf. */
static int find_preload(char *out, size_t cap)
{
	static const char *const rel[] = {"/libsaf-preload.so",
					  "/../lib/saf/libsaf-preload.so"};
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if ((size_t)snprintf(out, cap, "%s%s", exe, rel[i]) < cap &&
		    access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

static int join_cgroup(const char *dir)
{
	char path[PATH_MAX], pid[32];
	int fd, n;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >=
	    sizeof(path))
		return saf_cli_usage_error("--cgroup: path too long");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return saf_cli_fail("--cgroup: cannot open %s: %s", path,
				    strerror(errno));
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (write(fd, pid, (size_t)n) != n) {
		int e = errno;

		close(fd);
		return saf_cli_fail("--cgroup: cannot join %s: %s", dir,
				    strerror(e));
	}
	close(fd);
	return 0;
}

static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char buf[PATH_MAX * 2];

	if (access(lib, R_OK))
		return saf_cli_fail("preload library %s: %s", lib,
				    strerror(errno));
	if (old && *old) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s:%s", lib, old) >=
		    sizeof(buf))
			return saf_cli_fail("LD_PRELOAD too long");
		lib = buf;
	}
	return setenv("LD_PRELOAD", lib, 1) ? saf_cli_fail("setenv failed") : 0;
}

typedef struct run_opts {
	char anycast[LIST_MAX], allow[LIST_MAX];
	const char *cgroup, *preload, *pin_dir, *timeout;
	bool loopback, debug;
} run_opts;

static int parse(int argc, char **argv, run_opts *o)
{
	static const struct option lo[] = {
		{"anycast", required_argument, 0, 'a'},
		{"cgroup", required_argument, 0, 'c'},
		{"pin-dir", required_argument, 0, 'p'},
		{"timeout-ms", required_argument, 0, 't'},
		{"allow-target", required_argument, 0, 'A'},
		{"allow-loopback", no_argument, 0, 'L'},
		{"debug", no_argument, 0, 'v'},
		{"preload", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;

	optind = 1;
	/* '+': stop at the first non-option, CMD's own options are CMD's. */
	while ((c = getopt_long(argc, argv, "+vh", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (append(o->anycast, "--anycast", optarg))
				return SAF_EXIT_USAGE;
			break;
		case 'A':
			if (append(o->allow, "--allow-target", optarg))
				return SAF_EXIT_USAGE;
			break;
		case 'c':
			o->cgroup = optarg;
			break;
		case 'p':
			o->pin_dir = optarg;
			break;
		case 't':
			o->timeout = optarg;
			break;
		case 'L':
			o->loopback = true;
			break;
		case 'v':
			o->debug = true;
			break;
		case 'P':
			o->preload = optarg;
			break;
		case 'h':
			fputs(run_help, stdout);
			return -1;
		default:
			return saf_cli_usage_error("see saf run --help");
		}
	}
	if (optind >= argc)
		return saf_cli_usage_error(
			"saf run: no command (saf run [options] -- CMD ...)");
	return 0;
}

/* Writes the options into the environment, then checks them with the
 * library's own parser so CMD never starts with a setting it ignores. */
static int export_env(const run_opts *o)
{
	saf_run_config cfg;
	saf_error err;
	int rc = 0;

	if (o->anycast[0])
		rc |= setenv(SAF_RUN_ENV_ANYCAST, o->anycast, 1);
	if (o->allow[0])
		rc |= setenv(SAF_RUN_ENV_ALLOW_TARGET, o->allow, 1);
	if (o->pin_dir)
		rc |= setenv(SAF_RUN_ENV_PIN_DIR, o->pin_dir, 1);
	if (o->timeout)
		rc |= setenv(SAF_RUN_ENV_TIMEOUT, o->timeout, 1);
	if (o->loopback)
		rc |= setenv(SAF_RUN_ENV_ALLOW_LOOPBACK, "1", 1);
	if (o->debug)
		rc |= setenv(SAF_RUN_ENV_DEBUG, "1", 1);
	if (rc)
		return saf_cli_fail("setenv failed");
	if (saf_run_config_load(&cfg, getenv, &err))
		return saf_cli_usage_error("%s", err.msg);
	if (cfg.n_anycast == 0)
		return saf_cli_usage_error(
			"saf run: which destinations? give "
			"--anycast S[:PORT] (or set SAF_ANYCAST)");
	return 0;
}

int saf_cmd_run(int argc, char **argv)
{
	run_opts o = {.cgroup = NULL};
	char lib[PATH_MAX];
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? SAF_EXIT_OK : rc;
	if ((rc = export_env(&o)))
		return rc;
	if (!o.preload) {
		if (find_preload(lib, sizeof(lib)))
			return saf_cli_fail(
				"libsaf-preload.so not found next to "
				"saf or in <prefix>/lib/saf; give "
				"--preload PATH");
		o.preload = lib;
	}
	if ((rc = set_preload(o.preload)))
		return rc;
	if (o.cgroup && (rc = join_cgroup(o.cgroup)))
		return rc;
	execvp(argv[optind], argv + optind);
	return saf_cli_fail("cannot run %s: %s", argv[optind], strerror(errno));
}
