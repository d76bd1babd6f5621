/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "opt.h"

#include <stdarg.h>
#include <string.h>

bool saf_cli_is_help(const char *arg)
{
	return arg && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0);
}

static void print_table(FILE *f, const char *path, const saf_cmd *table,
			size_t n)
{
	fprintf(f, "usage: %s <command> [options]\n\ncommands:\n", path);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-10s %s\n", table[i].name, table[i].summary);
	fprintf(f, "\nRun '%s <command> --help' for the options of one.\n",
		path);
}

int saf_cli_dispatch(const char *path, const saf_cmd *table, size_t n,
		     int argc, char **argv)
{
	if (argc < 2) {
		print_table(stderr, path, table, n);
		return SAF_EXIT_USAGE;
	}
	if (saf_cli_is_help(argv[1])) {
		print_table(stdout, path, table, n);
		return SAF_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], table[i].name) == 0)
			return table[i].fn(argc - 1, argv + 1);
	}
	return saf_cli_usage_error("%s: unknown command '%s' (see '%s --help')",
				   path, argv[1], path);
}

static void vreport(const char *fmt, va_list ap)
{
	fputs("saf: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int saf_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return SAF_EXIT_USAGE;
}

int saf_cli_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return SAF_EXIT_FAIL;
}

void saf_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int saf_cli_uint(const char *opt, const char *text, int base, uint64_t lo,
		 uint64_t hi, uint64_t *out)
{
	saf_error e;

	if (saf_opt_uint(opt, text, base, lo, hi, out, &e))
		return saf_cli_usage_error("%s", e.msg);
	return 0;
}

int saf_cli_double(const char *opt, const char *text, double lo, double hi,
		   double *out)
{
	saf_error e;

	if (saf_opt_double(opt, text, lo, hi, out, &e))
		return saf_cli_usage_error("%s", e.msg);
	return 0;
}
