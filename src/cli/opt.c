/* SPDX-License-Identifier: MIT */
/* Option values: numbers in a range, durations, address:port (opt.h). */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

/* Digits of `base` from *p into *v, stopping at the first other byte;
 * false on overflow of uint64_t or when there is no digit at all. */
static bool digits(const char **p, int base, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; *s; s++) {
		int d = isdigit((unsigned char)*s) ? *s - '0'
			: base == 16 && isxdigit((unsigned char)*s)
				? (tolower((unsigned char)*s) - 'a' + 10)
				: -1;

		if (d < 0)
			break;
		if (*v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		*v = *v * (uint64_t)base + (uint64_t)d;
	}
	if (s == *p)
		return false;
	*p = s;
	return true;
}

int saf_opt_uint(const char *opt, const char *text, int base, uint64_t lo,
		 uint64_t hi, uint64_t *out, saf_error *err)
{
	const char *p = text;
	uint64_t v;

	if (base != 0 && base != 10 && base != 16)
		return saf_fail(err, SAF_E_INVAL, "%s: base %d", opt, base);
	if (base != 10 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = 10;
	}
	if (!digits(&p, base, &v) || *p || v < lo || v > hi) {
		if (base == 16)
			return saf_fail(err, SAF_E_RANGE,
					"%s: '%s' is not a hex number in "
					"%llx..%llx",
					opt, text, (unsigned long long)lo,
					(unsigned long long)hi);
		return saf_fail(err, SAF_E_RANGE,
				"%s: '%s' is not a whole number in %llu..%llu",
				opt, text, (unsigned long long)lo,
				(unsigned long long)hi);
	}
	*out = v;
	return 0;
}

static const struct unit {
	const char *name;
	uint64_t us;
} units[] = {
	{"us", 1u},	  {"ms", 1000u},      {"s", 1000000u},
	{"m", 60000000u}, {"h", 3600000000u},
};

static const struct unit *unit_named(const char *name)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i].name, name) == 0)
			return &units[i];
	return NULL;
}

/* "%s: '%s' is not a duration in ..." with the range in the default
 * unit's terms would round; microseconds are exact and rarely needed, so
 * the range is given in the largest unit that divides both ends. */
static int bad_duration(const char *opt, const char *text, uint64_t lo,
			uint64_t hi, saf_error *err)
{
	const struct unit *u = &units[0];

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (lo % units[i].us == 0 && hi % units[i].us == 0)
			u = &units[i];
	return saf_fail(err, SAF_E_RANGE,
			"%s: '%s' is not a duration in %llu%s..%llu%s "
			"(a number with us, ms, s, m or h)",
			opt, text, (unsigned long long)(lo / u->us), u->name,
			(unsigned long long)(hi / u->us), u->name);
}

int saf_opt_duration_us(const char *opt, const char *text,
			const char *default_unit, uint64_t lo_us,
			uint64_t hi_us, uint64_t *out_us, saf_error *err)
{
	const char *p = text;
	const struct unit *u;
	uint64_t whole, frac = 0, scale = 1, v;

	if (!digits(&p, 10, &whole))
		return bad_duration(opt, text, lo_us, hi_us, err);
	if (*p == '.') {
		const char *f = ++p;

		if (!digits(&p, 10, &frac) || p - f > 6)
			return bad_duration(opt, text, lo_us, hi_us, err);
		for (const char *q = f; q < p; q++)
			scale *= 10u;
	}
	u = unit_named(*p ? p : default_unit);
	if (!u)
		return bad_duration(opt, text, lo_us, hi_us, err);
	/* whole * unit + frac * unit / scale, each checked for overflow;
	 * the fraction is cut to whole microseconds. */
	if (whole > UINT64_MAX / u->us)
		return bad_duration(opt, text, lo_us, hi_us, err);
	v = whole * u->us;
	if (frac) {
		uint64_t f = frac * u->us / scale; /* frac < 1e6, us <= 3.6e9 */

		if (v > UINT64_MAX - f)
			return bad_duration(opt, text, lo_us, hi_us, err);
		v += f;
	}
	if (v < lo_us || v > hi_us)
		return bad_duration(opt, text, lo_us, hi_us, err);
	*out_us = v;
	return 0;
}

int saf_opt_addr_port(const char *opt, const char *text, saf_addr *out,
		      saf_error *err)
{
	saf_error e = {0};

	if (saf_addr_parse(text, true, out, &e))
		return saf_fail(err, e.code, "%s: %s", opt, e.msg);
	return 0;
}

int saf_opt_double(const char *opt, const char *text, double lo, double hi,
		   double *out, saf_error *err)
{
	char *end;
	double d;

	/* strtod would skip blanks and take a sign, "inf" and "nan": only
	 * plain decimal numbers are options. */
	if (!isdigit((unsigned char)text[0]) && text[0] != '.')
		goto bad;
	d = strtod(text, &end);
	if (*end || !isfinite(d) || d < lo || d > hi || strpbrk(text, "xXpP"))
		goto bad;
	*out = d;
	return 0;
bad:
	return saf_fail(err, SAF_E_RANGE, "%s: '%s' is not a number in %g..%g",
			opt, text, lo, hi);
}
