/* SPDX-License-Identifier: MIT */
/*
 * saf token mint | verify: the token crypto of SPEC 3.3 from the command
 * line, to test the codecs from outside and to debug captures. Keys are
 * read in hex from a file or stdin (--node-key-file, --psk-file): the
 * command line is visible to every user in ps. --node-key/--psk HEX remain
 * for test vectors; their argv text is overwritten once parsed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "opt.h"
#include "saf/hex.h"
#include "saf/keyfile.h"
#include "saf/replay.h"
#include "saf/token_crypto.h"

static const char mint_usage[] =
	"usage: saf token mint (--psk-file FILE | --psk HEX)\n"
	"                      (--node-key-file FILE | --node-key HEX)\n"
	"                      --target ADDR:PORT --expiry UNIX [--nonce HEX]\n"
	"\n"
	"Prints a signed MigrationToken in hex (SPEC 3.3).\n"
	"\n"
	"  --psk-file FILE  resumption PSK of the ticket (1..64 bytes), in "
	"hex,\n"
	"                   from FILE ('-': stdin)\n"
	"  --node-key-file FILE  node key NK (32 bytes), in hex, from FILE\n"
	"                   ('-': stdin). A FILE must be a regular file of\n"
	"                   this user or root, not readable by others (0600).\n"
	"  --psk HEX, --node-key HEX  the same on the command line, where ps\n"
	"                   shows it: for test vectors only\n"
	"  --target A:P     migration target: 192.0.2.1:443 or "
	"[2001:db8::1]:443\n"
	"  --expiry UNIX    expiry_timestamp, Unix seconds\n"
	"  --nonce HEX      nonce (16..255 bytes; default 16 random bytes)\n";

static const char verify_usage[] =
	"usage: saf token verify TOKEN_HEX (--psk-file FILE | --psk HEX)\n"
	"                        (--node-key-file FILE | --node-key HEX)\n"
	"                        --local ADDR:PORT [--now UNIX]\n"
	"\n"
	"Verifies a MigrationToken as a node does (SPEC 3.4 step 4), without\n"
	"the replay cache (one token, one process). Prints {\"valid\":true}\n"
	"and exits 0, or {\"valid\":false,\"reason\":\"R\"} and exits 1, with "
	"R\n"
	"one of malformed, bad_signature, session_mismatch, expired,\n"
	"wrong_target; the detail goes to stderr. Bad arguments exit 2.\n"
	"\n"
	"  --psk-file FILE  resumption PSK of the resumed session (1..64 "
	"bytes),\n"
	"                   in hex, from FILE ('-': stdin)\n"
	"  --node-key-file FILE  node key NK (32 bytes), in hex ('-': stdin)\n"
	"  --psk HEX, --node-key HEX  the same on the command line (ps shows "
	"it)\n"
	"  --local A:P      address and port the connection arrived on\n"
	"  --now UNIX       the time to check expiry against (default: now)\n";

enum {
	OPT_PSK = 1,
	OPT_NODE_KEY,
	OPT_TARGET,
	OPT_LOCAL,
	OPT_EXPIRY,
	OPT_NONCE,
	OPT_NOW,
	OPT_HELP,
	OPT_PSK_FILE,
	OPT_NODE_KEY_FILE,
};

static const struct option token_opts[] = {
	{"psk", required_argument, NULL, OPT_PSK},
	{"node-key", required_argument, NULL, OPT_NODE_KEY},
	{"target", required_argument, NULL, OPT_TARGET},
	{"local", required_argument, NULL, OPT_LOCAL},
	{"expiry", required_argument, NULL, OPT_EXPIRY},
	{"nonce", required_argument, NULL, OPT_NONCE},
	{"now", required_argument, NULL, OPT_NOW},
	{"help", no_argument, NULL, OPT_HELP},
	{"psk-file", required_argument, NULL, OPT_PSK_FILE},
	{"node-key-file", required_argument, NULL, OPT_NODE_KEY_FILE},
	{NULL, 0, NULL, 0},
};

/* Everything either subcommand may be given. Keys are wiped on exit. */
struct token_args {
	uint8_t psk[SAF_PSK_MAX_LEN];
	size_t psk_len;
	uint8_t node_key[SAF_NODE_KEY_LEN];
	bool has_psk, has_node_key, has_expiry, has_now;
	saf_addr addr; /* --target or --local */
	bool has_addr;
	uint64_t expiry, now;
	uint8_t nonce[SAF_TOKEN_NONCE_MAX];
	size_t nonce_len;
	bool has_nonce;
	const char *positional;
};

static int parse_u64(const char *cmd, const char *opt, const char *text,
		     uint64_t *out)
{
	if (saf_opt_uint(opt, text, 10, 0, UINT64_MAX, out, NULL))
		return saf_cli_usage_error("%s: %s '%s' is not a number in "
					   "0..%" PRIu64,
					   cmd, opt, text, UINT64_MAX);
	return 0;
}

static int parse_hex(const char *cmd, const char *opt, const char *text,
		     uint8_t *out, size_t min, size_t max, size_t *len)
{
	saf_error err;

	if (saf_hex_decode(text, out, max, len, &err))
		return saf_cli_usage_error("%s: %s: %s", cmd, opt, err.msg);
	if (*len < min)
		return saf_cli_usage_error("%s: %s: %zu byte%s, needs %s%zu",
					   cmd, opt, *len, *len == 1 ? "" : "s",
					   min == max ? "" : "at least ", min);
	return 0;
}

/* Overwrites a secret given on the command line, so /proc/PID/cmdline (and
 * ps) shows it only until here. */
static void wipe_arg(char *text)
{
	OPENSSL_cleanse(text, strlen(text));
	memset(text, 'x', strlen(text));
}

/* Opens a secret file through the one secret-file policy (saf/keyfile.h:
 * a regular file of this user or root that no one else may read; "-":
 * stdin, whatever it is). -1 with a usage error. */
static int open_secret(const char *cmd, const char *opt, const char *path)
{
	char label[SAF_ERROR_MSG_LEN];
	saf_error e;
	int fd;

	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	snprintf(label, sizeof(label), "%s: %s %s", cmd, opt, path);
	fd = saf_keyfile_open(path, label, &e);
	if (fd < 0)
		saf_cli_usage_error("%s", e.msg);
	return fd;
}

/* Reads a key in hex (surrounding blanks and one line end allowed) from a
 * file or stdin. Every buffer that held key text is cleansed. */
static int read_secret(const char *cmd, const char *opt, const char *path,
		       uint8_t *out, size_t min, size_t max, size_t *len)
{
	char buf[2 * SAF_PSK_MAX_LEN + 64];
	size_t n = 0, start = 0;
	ssize_t r;
	int fd = open_secret(cmd, opt, path), rc;

	if (fd < 0)
		return SAF_EXIT_USAGE;
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			OPENSSL_cleanse(buf, sizeof(buf));
			if (fd != STDIN_FILENO)
				close(fd);
			return saf_cli_usage_error("%s: %s %s: %s", cmd, opt,
						   path, strerror(errno));
		}
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n == sizeof(buf) - 1) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return saf_cli_usage_error("%s: %s %s: longer than a key", cmd,
					   opt, path);
	}
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
		n--;
	while (start < n && strchr(" \t", buf[start]))
		start++;
	buf[n] = '\0';
	rc = parse_hex(cmd, opt, buf + start, out, min, max, len);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc ? SAF_EXIT_USAGE : 0;
}

/* Returns -1 to continue, else an exit code. `addr_opt` is the address
 * option this subcommand takes (OPT_TARGET or OPT_LOCAL). */
static int parse_args(int argc, char **argv, const char *cmd, const char *usage,
		      int addr_opt, bool allow_positional, struct token_args *a)
{
	saf_error err;
	size_t len;
	int c, rc, stdin_used = 0;

	/* Checked first: the first key would read stdin to its end. */
	for (int i = 1; i + 1 < argc; i++)
		if ((strcmp(argv[i], "--psk-file") == 0 ||
		     strcmp(argv[i], "--node-key-file") == 0) &&
		    strcmp(argv[i + 1], "-") == 0 && stdin_used++)
			return saf_cli_usage_error(
				"%s: only one key can come from stdin", cmd);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", token_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PSK:
			rc = parse_hex(cmd, "--psk", optarg, a->psk, 1,
				       sizeof(a->psk), &a->psk_len);
			wipe_arg(optarg);
			if (rc)
				return SAF_EXIT_USAGE;
			a->has_psk = true;
			break;
		case OPT_NODE_KEY:
			rc = parse_hex(cmd, "--node-key", optarg, a->node_key,
				       SAF_NODE_KEY_LEN, SAF_NODE_KEY_LEN,
				       &len);
			wipe_arg(optarg);
			if (rc)
				return SAF_EXIT_USAGE;
			a->has_node_key = true;
			break;
		case OPT_PSK_FILE:
		case OPT_NODE_KEY_FILE: {
			bool psk = c == OPT_PSK_FILE;

			if (psk ? read_secret(cmd, "--psk-file", optarg, a->psk,
					      1, sizeof(a->psk), &a->psk_len)
				: read_secret(cmd, "--node-key-file", optarg,
					      a->node_key, SAF_NODE_KEY_LEN,
					      SAF_NODE_KEY_LEN, &len))
				return SAF_EXIT_USAGE;
			if (psk)
				a->has_psk = true;
			else
				a->has_node_key = true;
			break;
		}
		case OPT_TARGET:
		case OPT_LOCAL:
			if (c != addr_opt)
				goto unknown;
			if (saf_addr_parse(optarg, true, &a->addr, &err))
				return saf_cli_usage_error("%s: %s: %s", cmd,
							   argv[optind - 1],
							   err.msg);
			a->has_addr = true;
			break;
		case OPT_EXPIRY:
			if (addr_opt != OPT_TARGET)
				goto unknown;
			if (parse_u64(cmd, "--expiry", optarg, &a->expiry))
				return SAF_EXIT_USAGE;
			a->has_expiry = true;
			break;
		case OPT_NONCE:
			if (addr_opt != OPT_TARGET)
				goto unknown;
			if (parse_hex(cmd, "--nonce", optarg, a->nonce,
				      SAF_TOKEN_NONCE_MIN, SAF_TOKEN_NONCE_MAX,
				      &a->nonce_len))
				return SAF_EXIT_USAGE;
			a->has_nonce = true;
			break;
		case OPT_NOW:
			if (addr_opt != OPT_LOCAL)
				goto unknown;
			if (parse_u64(cmd, "--now", optarg, &a->now))
				return SAF_EXIT_USAGE;
			a->has_now = true;
			break;
		case 'h':
		case OPT_HELP:
			fputs(usage, stdout);
			return SAF_EXIT_OK;
		case ':':
			return saf_cli_usage_error("%s: %s needs a value", cmd,
						   argv[optind - 1]);
		default:
		unknown:
			return saf_cli_usage_error(
				"%s: unknown option '%s' (see --help)", cmd,
				argv[optind - 1]);
		}
	}
	if (allow_positional && optind < argc)
		a->positional = argv[optind++];
	if (optind < argc)
		return saf_cli_usage_error("%s: unexpected argument '%s'", cmd,
					   argv[optind]);
	if (allow_positional && !a->positional)
		return saf_cli_usage_error("%s: missing TOKEN_HEX (see --help)",
					   cmd);
	if (!a->has_psk)
		return saf_cli_usage_error("%s: --psk-file is required", cmd);
	if (!a->has_node_key)
		return saf_cli_usage_error("%s: --node-key-file is required",
					   cmd);
	if (!a->has_addr)
		return saf_cli_usage_error("%s: %s is required", cmd,
					   addr_opt == OPT_TARGET ? "--target"
								  : "--local");
	if (addr_opt == OPT_TARGET && !a->has_expiry)
		return saf_cli_usage_error("%s: --expiry is required", cmd);
	return -1;
}

static int derive(const struct token_args *a, saf_token_keys *keys)
{
	saf_error err;

	if (saf_token_keys_derive(a->node_key, a->psk, a->psk_len, keys, &err))
		return saf_cli_fail("%s", err.msg);
	return 0;
}

static int cmd_mint(int argc, char **argv)
{
	static uint8_t out[SAF_TOKEN_MAX_LEN];
	static char hex[2 * SAF_TOKEN_MAX_LEN + 1];
	struct token_args a;
	saf_token_keys keys;
	saf_error err;
	size_t len;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(argc, argv, "token mint", mint_usage, OPT_TARGET, false,
			&a);
	if (rc < 0) {
		rc = derive(&a, &keys);
		if (rc == 0) {
			if (saf_token_mint(&keys, &a.addr, a.expiry,
					   a.has_nonce ? a.nonce : NULL,
					   a.nonce_len, out, sizeof(out), &len,
					   &err)) {
				rc = saf_cli_fail("%s", err.msg);
			} else {
				saf_hex_encode(out, len, hex);
				printf("%s\n", hex);
				rc = SAF_EXIT_OK;
			}
			saf_token_keys_wipe(&keys);
		}
	}
	OPENSSL_cleanse(&a, sizeof(a));
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	static uint8_t tok[SAF_TOKEN_MAX_LEN + 1];
	struct token_args a;
	saf_token_keys keys;
	saf_verify_params p;
	saf_verdict v;
	saf_error err;
	size_t len;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(argc, argv, "token verify", verify_usage, OPT_LOCAL,
			true, &a);
	if (rc >= 0)
		goto out;
	if (saf_hex_decode(a.positional, tok, sizeof(tok), &len, &err)) {
		rc = saf_cli_usage_error("token verify: TOKEN_HEX: %s",
					 err.msg);
		goto out;
	}
	rc = derive(&a, &keys);
	if (rc)
		goto out;
	memset(&p, 0, sizeof(p));
	p.keys = &keys;
	p.local = &a.addr;
	p.now = a.has_now ? a.now : saf_clock_realtime(NULL);
	p.replay = NULL;
	v = saf_token_verify(&p, tok, len, NULL, &err);
	saf_token_keys_wipe(&keys);
	if (v == SAF_TOKEN_VALID) {
		printf("{\"valid\":true}\n");
		rc = SAF_EXIT_OK;
	} else {
		printf("{\"valid\":false,\"reason\":\"%s\"}\n",
		       saf_verdict_name(v));
		fflush(stdout);
		fprintf(stderr, "saf: %s\n", err.msg);
		rc = SAF_EXIT_FAIL;
	}
out:
	OPENSSL_cleanse(&a, sizeof(a));
	return rc;
}

static const saf_cmd token_cmds[] = {
	{"mint", cmd_mint, "sign a MigrationToken (prints hex)"},
	{"verify", cmd_verify, "verify a MigrationToken as a node does"},
};

int saf_cmd_token(int argc, char **argv)
{
	return saf_cli_dispatch("saf token", token_cmds,
				sizeof(token_cmds) / sizeof(token_cmds[0]),
				argc, argv);
}
