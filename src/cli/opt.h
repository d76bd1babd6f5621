/* SPDX-License-Identifier: MIT */
/*
 * Option values for the saf command and the lab tools: whole numbers in a
 * range, durations with a unit, address:port. Each fails with a message
 * that names the option and the text it got ("--port: '70000' is not a
 * whole number in 1..65535"), for the caller to print as a usage error.
 * No I/O, no global state; works the same in saf-delay as in saf.
 */
#ifndef SAF_CLI_OPT_H
#define SAF_CLI_OPT_H

#include <stdint.h>

#include "saf/addr.h"
#include "saf/error.h"

/* A whole number in lo..hi, in base 10 or 16 (base 16: digits only, or
 * with 0x), or base 0: decimal, or hex after 0x (never octal: "010" is
 * ten). No sign, no blank, nothing after the digits. */
SAF_MUST_CHECK int saf_opt_uint(const char *opt, const char *text, int base,
				uint64_t lo, uint64_t hi, uint64_t *out,
				saf_error *err);

/* A real number in lo..hi, written in decimal ("0.05", "12", "1e3"):
 * no sign, blank, hex, inf or nan, nothing after it. Fails with "--x:
 * 'text' is not a number in lo..hi". */
SAF_MUST_CHECK int saf_opt_double(const char *opt, const char *text, double lo,
				  double hi, double *out, saf_error *err);

/* A duration: a decimal number (up to 6 digits after the point) with a
 * unit us, ms, s, m or h, or without one in default_unit (one of those),
 * into microseconds within lo_us..hi_us. "250ms", "1.5s", "2m", "30"
 * (default "s": 30 s). */
SAF_MUST_CHECK int saf_opt_duration_us(const char *opt, const char *text,
				       const char *default_unit, uint64_t lo_us,
				       uint64_t hi_us, uint64_t *out_us,
				       saf_error *err);

/* ADDRESS:PORT (IPv6 in brackets), port required (saf_addr_parse). */
SAF_MUST_CHECK int saf_opt_addr_port(const char *opt, const char *text,
				     saf_addr *out, saf_error *err);

#endif /* SAF_CLI_OPT_H */
