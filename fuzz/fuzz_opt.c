/* SPDX-License-Identifier: MIT */
/* libFuzzer: the option values of the command line and the lab tools
 * (src/cli/opt.c). What is accepted is in range, a number prints and
 * parses back to itself (base 0 as base 10 or 16 would), a real number
 * is plain decimal, and every refusal says which option. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused_names_option(const saf_error *err)
{
	if (strncmp(err->msg, "--x: ", 5) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[96], again[32];
	uint64_t v, w;
	saf_addr a;
	saf_error err;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (saf_opt_uint("--x", text, 10, 3, 70000, &v, &err) == 0) {
		snprintf(again, sizeof(again), "%" PRIu64, v);
		if (v < 3 || v > 70000 ||
		    saf_opt_uint("--x", again, 10, 0, UINT64_MAX, &w, &err) ||
		    w != v)
			abort();
	} else {
		refused_names_option(&err);
	}
	if (saf_opt_uint("--x", text, 16, 0, 0xffff, &v, &err) == 0) {
		if (v > 0xffff)
			abort();
	} else {
		refused_names_option(&err);
	}
	/* Base 0: decimal or 0x hex, the same number as base 10 or 16 reads. */
	if (saf_opt_uint("--x", text, 0, 0, UINT64_MAX, &v, &err) == 0) {
		int hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');

		if (saf_opt_uint("--x", text, hex ? 16 : 10, 0, UINT64_MAX, &w,
				 &err) ||
		    w != v)
			abort();
	} else {
		refused_names_option(&err);
	}
	/* A real number: in range, finite, and plain decimal text. */
	{
		double d;

		if (saf_opt_double("--x", text, -1, 1e6, &d, &err) == 0) {
			/* signs only in an exponent ("1e-3") */
			if (!(d >= -1 && d <= 1e6) || text[0] == '-' ||
			    text[0] == '+' || strpbrk(text, " \txXnNiI"))
				abort();
		} else {
			refused_names_option(&err);
		}
	}
	if (saf_opt_duration_us("--x", text, "ms", 1, 3600000000u, &v, &err) ==
	    0) {
		/* The same duration in microseconds reads back the same. */
		snprintf(again, sizeof(again), "%" PRIu64 "us", v);
		if (v < 1 || v > 3600000000u ||
		    saf_opt_duration_us("--x", again, "s", 0, UINT64_MAX, &w,
					&err) ||
		    w != v)
			abort();
	} else {
		refused_names_option(&err);
	}
	if (saf_opt_addr_port("--x", text, &a, &err) == 0) {
		if (!a.has_port || a.port == 0)
			abort();
	} else {
		refused_names_option(&err);
	}
	return 0;
}
