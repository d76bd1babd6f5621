/* SPDX-License-Identifier: MIT */
/*
 * saf token mint | verify: the token crypto of SPEC 3.3 from the command
 * line, to test the codecs from outside and to debug captures. Keys are
 * given in hex on the command line: these are debugging tools, never a way
 * to handle production keys.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "saf/hex.h"
#include "saf/replay.h"
#include "saf/token_crypto.h"

static const char mint_usage[] =
	"usage: saf token mint --psk HEX --node-key HEX --target ADDR:PORT\n"
	"                      --expiry UNIX [--nonce HEX]\n"
	"\n"
	"Prints a signed MigrationToken in hex (SPEC 3.3).\n"
	"\n"
	"  --psk HEX        resumption PSK of the ticket (1..64 bytes)\n"
	"  --node-key HEX   node key NK (32 bytes)\n"
	"  --target A:P     migration target: 192.0.2.1:443 or "
	"[2001:db8::1]:443\n"
	"  --expiry UNIX    expiry_timestamp, Unix seconds\n"
	"  --nonce HEX      nonce (16..255 bytes; default 16 random bytes)\n";

static const char verify_usage[] =
	"usage: saf token verify TOKEN_HEX --psk HEX --node-key HEX\n"
	"                        --local ADDR:PORT [--now UNIX]\n"
	"\n"
	"Verifies a MigrationToken as a node does (SPEC 3.4 step 4), without\n"
	"the replay cache (one token, one process). Prints {\"valid\":true}\n"
	"and exits 0, or {\"valid\":false,\"reason\":\"R\"} and exits 1, with "
	"R\n"
	"one of malformed, bad_signature, session_mismatch, expired,\n"
	"wrong_target; the detail goes to stderr. Bad arguments exit 2.\n"
	"\n"
	"  --psk HEX        resumption PSK of the resumed session (1..64 "
	"bytes)\n"
	"  --node-key HEX   node key NK (32 bytes)\n"
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
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return saf_cli_usage_error("%s: %s '%s' is not a number", cmd,
					   opt, text);
	errno = 0;
	v = strtoull(text, &end, 10);
	if (*end || errno)
		return saf_cli_usage_error("%s: %s '%s' is not a number in "
					   "0..18446744073709551615",
					   cmd, opt, text);
	*out = v;
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

/* Returns -1 to continue, else an exit code. `addr_opt` is the address
 * option this subcommand takes (OPT_TARGET or OPT_LOCAL). */
static int parse_args(int argc, char **argv, const char *cmd, const char *usage,
		      int addr_opt, bool allow_positional, struct token_args *a)
{
	saf_error err;
	size_t len;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", token_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PSK:
			if (parse_hex(cmd, "--psk", optarg, a->psk, 1,
				      sizeof(a->psk), &a->psk_len))
				return SAF_EXIT_USAGE;
			a->has_psk = true;
			break;
		case OPT_NODE_KEY:
			if (parse_hex(cmd, "--node-key", optarg, a->node_key,
				      SAF_NODE_KEY_LEN, SAF_NODE_KEY_LEN, &len))
				return SAF_EXIT_USAGE;
			a->has_node_key = true;
			break;
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
		return saf_cli_usage_error("%s: --psk is required", cmd);
	if (!a->has_node_key)
		return saf_cli_usage_error("%s: --node-key is required", cmd);
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
