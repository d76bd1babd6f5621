/* SPDX-License-Identifier: MIT */
/*
 * Shared plumbing of the `saf` command line: subcommand tables, exit codes,
 * error printing and JSON output. Each command group lives in its own
 * cmd_<group>.c and exports one saf_cmd_<group>() entry.
 */
#ifndef SAF_CLI_H
#define SAF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by every subcommand. */
enum {
	SAF_EXIT_OK = 0,
	SAF_EXIT_FAIL = 1, /* the operation ran and failed (invalid token...) */
	SAF_EXIT_USAGE = 2, /* bad input: the message says what is wrong */
	/* saf tls connect: the continuity stream was lost before its end
	 * (node restarted or gone): what reached stdout is a correct
	 * prefix of the node's stream, and only a prefix. */
	SAF_EXIT_LOST = 3,
};

typedef int (*saf_cmd_fn)(int argc, char **argv);

/* One row of a dispatch table: "saf <name> ..." runs fn with argv[0] =
 * name. */
typedef struct saf_cmd {
	const char *name;
	saf_cmd_fn fn;
	const char *summary;
} saf_cmd;

/* Runs the row named argv[1]; prints the table for -h/--help/none. `path`
 * is the command so far ("saf tcp"), used in help and errors. */
int saf_cli_dispatch(const char *path, const saf_cmd *table, size_t n,
		     int argc, char **argv);

/* Prints "saf: <message>" and a newline to stderr; returns SAF_EXIT_USAGE
 * (usage errors) so callers can `return saf_cli_usage_error(...)`. */
int saf_cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Same, returning SAF_EXIT_FAIL. */
int saf_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Option values through opt.h with the usage error printed: a whole
 * number in lo..hi (saf_opt_uint; base 0 takes decimal or 0x hex) or a
 * real number (saf_opt_double). 0, or SAF_EXIT_USAGE after printing
 * "saf: --opt: 'text' is not a ... in lo..hi". */
int saf_cli_uint(const char *opt, const char *text, int base, uint64_t lo,
		 uint64_t hi, uint64_t *out);
int saf_cli_double(const char *opt, const char *text, double lo, double hi,
		   double *out);

/* True when argv[i] is -h or --help. */
bool saf_cli_is_help(const char *arg);

/* Writes s as a JSON string literal (quotes and escapes). */
void saf_json_string(FILE *f, const char *s);

/* Command groups. */
int saf_cmd_inspect(int argc, char **argv);
int saf_cmd_token(int argc, char **argv);
int saf_cmd_tcp(int argc, char **argv);
int saf_cmd_tls(int argc, char **argv);
int saf_cmd_sched(int argc, char **argv);
int saf_cmd_node(int argc, char **argv);
int saf_cmd_lab(int argc, char **argv);
int saf_cmd_run(int argc, char **argv);

#endif /* SAF_CLI_H */
