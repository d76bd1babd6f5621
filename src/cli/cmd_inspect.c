/* SPDX-License-Identifier: MIT */
/*
 * saf inspect tcpopt HEX | saf inspect token HEX: decode one wire object
 * given in hex, for people reading captures. Human-readable by default,
 * --json for scripts. Anything that does not decode is bad input (exit 2)
 * and the message names the field.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "saf/hex.h"
#include "saf/tcpopt.h"
#include "saf/token.h"

static const char tcpopt_usage[] =
	"usage: saf inspect tcpopt [--json] [--kind N] [--exid HEX] HEX\n"
	"\n"
	"Decodes one TCP Service Affinity option (SPEC section 2).\n"
	"HEX is the whole option as it appears in the TCP header: kind byte,\n"
	"length byte, ExID, body (e.g. fd0a5346c000020a20fb). The form\n"
	"without kind and length (starting at the ExID, e.g. 5346c000020a)\n"
	"is accepted too: HEX whose first byte is not the kind but whose\n"
	"first two are the ExID is read that way (with the defaults the two\n"
	"cannot be confused: 0x53 is not the kind 253).\n"
	"\n"
	"  --json       one JSON object: form (\"saf\" or \"advert\");\n"
	"               adverts add family (4 or 6), address, port (null\n"
	"               when implied: the connection's own port)\n"
	"  --kind N     option kind (default 253)\n"
	"  --exid HEX   experiment ID (default 5346)\n";

static const char token_usage[] =
	"usage: saf inspect token [--json] HEX\n"
	"\n"
	"Decodes one MigrationToken (SPEC 3.2); the signature is shown, not\n"
	"checked (see 'saf token verify').\n"
	"\n"
	"  --json   one JSON object: family, address, port, session_id (hex),\n"
	"           expiry, nonce (hex), signature (hex)\n";

enum { OPT_JSON = 1, OPT_KIND, OPT_EXID, OPT_HELP };

static const struct option inspect_opts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{"kind", required_argument, NULL, OPT_KIND},
	{"exid", required_argument, NULL, OPT_EXID},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* Parses the options shared by both subcommands (anywhere on the line);
 * leaves the single positional HEX in *hex. Returns -1 to continue, else an
 * exit code. */
static int parse_args(int argc, char **argv, const char *usage, bool *json,
		      saf_tcpopt_cfg *cfg, const char **hex)
{
	uint64_t v;
	saf_error e;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", inspect_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			*json = true;
			break;
		case OPT_KIND:
			if (!cfg)
				goto unknown;
			if (saf_opt_uint("--kind", optarg, 10, 0, 255, &v, &e))
				return saf_cli_usage_error("%s: %s", argv[0],
							   e.msg);
			cfg->kind = (uint8_t)v;
			break;
		case OPT_EXID:
			if (!cfg)
				goto unknown;
			if (saf_opt_uint("--exid", optarg, 16, 0, 0xffff, &v,
					 &e))
				return saf_cli_usage_error("%s: %s", argv[0],
							   e.msg);
			cfg->exid = (uint16_t)v;
			break;
		case 'h':
		case OPT_HELP:
			fputs(usage, stdout);
			return SAF_EXIT_OK;
		case ':':
			return saf_cli_usage_error("%s: %s needs a value",
						   argv[0], argv[optind - 1]);
		default:
		unknown:
			return saf_cli_usage_error(
				"%s: unknown option '%s' (see --help)", argv[0],
				argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return saf_cli_usage_error("%s: missing HEX (see --help)",
					   argv[0]);
	if (argc - optind > 1)
		return saf_cli_usage_error("%s: unexpected argument '%s'",
					   argv[0], argv[optind + 1]);
	*hex = argv[optind];
	return -1;
}

static int decode_hex_arg(const char *what, const char *text, uint8_t *out,
			  size_t cap, size_t *len)
{
	saf_error err;

	if (saf_hex_decode(text, out, cap, len, &err))
		return saf_cli_usage_error("%s: %s", what, err.msg);
	return 0;
}

static void print_hex_json(const char *key, saf_slice s, bool comma)
{
	char hex[2 * 255 + 1];

	saf_hex_encode(s.base, s.len, hex);
	printf("\"%s\":\"%s\"%s", key, hex, comma ? "," : "");
}

static int cmd_tcpopt(int argc, char **argv)
{
	saf_tcpopt_cfg cfg = saf_tcpopt_cfg_default();
	uint8_t buf[2 + SAF_TCP_OPTION_SPACE];
	const char *hex = NULL;
	bool json = false;
	char addr[SAF_ADDR_STR_LEN];
	saf_tcpopt opt;
	saf_error err;
	size_t len;
	int rc;

	rc = parse_args(argc, argv, tcpopt_usage, &json, &cfg, &hex);
	if (rc >= 0)
		return rc;
	/* Room for a kind and length in front, should they be missing. */
	if (decode_hex_arg("tcpopt", hex, buf + 2, sizeof(buf) - 2, &len))
		return SAF_EXIT_USAGE;
	if (len >= 2 && buf[2] != cfg.kind && buf[2] == (cfg.exid >> 8) &&
	    buf[3] == (cfg.exid & 0xff)) {
		/* Given from the ExID on: supply kind and length. */
		buf[0] = cfg.kind;
		buf[1] = (uint8_t)(len + 2);
		len += 2;
		rc = saf_tcpopt_decode(buf, len, &cfg, &opt, &err);
	} else {
		rc = saf_tcpopt_decode(buf + 2, len, &cfg, &opt, &err);
	}
	if (rc)
		return saf_cli_usage_error("%s", err.msg);

	if (opt.form == SAF_TCPOPT_FLAG) {
		if (json)
			printf("{\"form\":\"saf\"}\n");
		else
			printf("form:    saf (support flag, client SYN)\n");
		return SAF_EXIT_OK;
	}
	{
		saf_addr ip = opt.addr;

		ip.has_port = false;
		saf_addr_format(&ip, addr);
	}
	if (json) {
		printf("{\"form\":\"advert\",\"family\":%u,\"address\":\"%s\","
		       "\"port\":",
		       opt.addr.family, addr);
		if (opt.addr.has_port)
			printf("%u}\n", opt.addr.port);
		else
			printf("null}\n");
		return SAF_EXIT_OK;
	}
	printf("form:    advert (node SYN-ACK)\n");
	printf("family:  IPv%u\n", opt.addr.family);
	printf("address: %s\n", addr);
	if (opt.addr.has_port)
		printf("port:    %u\n", opt.addr.port);
	else
		printf("port:    implied (the connection's own port)\n");
	return SAF_EXIT_OK;
}

static int cmd_token(int argc, char **argv)
{
	static uint8_t buf[SAF_TOKEN_MAX_LEN + 1];
	char addr[SAF_ADDR_STR_LEN];
	char hex[2 * 255 + 1];
	const char *text = NULL;
	bool json = false;
	saf_error err;
	saf_token t;
	saf_addr ip;
	size_t len;
	int rc;

	rc = parse_args(argc, argv, token_usage, &json, NULL, &text);
	if (rc >= 0)
		return rc;
	if (decode_hex_arg("token", text, buf, sizeof(buf), &len))
		return SAF_EXIT_USAGE;
	if (saf_token_decode(buf, len, &t, &err))
		return saf_cli_usage_error("%s", err.msg);
	ip = t.target;
	ip.has_port = false;
	saf_addr_format(&ip, addr);

	if (json) {
		printf("{\"family\":%u,\"address\":\"%s\",\"port\":%u,",
		       t.target.family, addr, t.target.port);
		print_hex_json("session_id", t.session_id, true);
		printf("\"expiry\":%" PRIu64 ",", t.expiry);
		print_hex_json("nonce", t.nonce, true);
		print_hex_json("signature", t.signature, false);
		printf("}\n");
		return SAF_EXIT_OK;
	}
	printf("target:     %s\n", saf_addr_format(&t.target, addr));
	saf_hex_encode(t.session_id.base, t.session_id.len, hex);
	printf("session_id: %s (%zu bytes)\n", hex, t.session_id.len);
	printf("expiry:     %" PRIu64 " (Unix seconds)\n", t.expiry);
	saf_hex_encode(t.nonce.base, t.nonce.len, hex);
	printf("nonce:      %s (%zu bytes)\n", hex, t.nonce.len);
	saf_hex_encode(t.signature.base, t.signature.len, hex);
	printf("signature:  %s (%zu bytes, not checked)\n", hex,
	       t.signature.len);
	return SAF_EXIT_OK;
}

static const saf_cmd inspect_cmds[] = {
	{"tcpopt", cmd_tcpopt, "decode a TCP Service Affinity option"},
	{"token", cmd_token, "decode a MigrationToken"},
};

int saf_cmd_inspect(int argc, char **argv)
{
	return saf_cli_dispatch("saf inspect", inspect_cmds,
				sizeof(inspect_cmds) / sizeof(inspect_cmds[0]),
				argc, argv);
}
