/* SPDX-License-Identifier: MIT */
/*
 * The configuration of `saf run` and its preload library, read from the
 * environment: which destinations to follow, where the advert map is
 * pinned, how long to wait, which targets to accept. Parsed once (the
 * library's constructor, or `saf run` checking its own options), never on
 * the connect() path.
 */
#include "saf/run.h"

#include <string.h>

#include "saf/tcp.h"

/* Splits a comma-separated list and hands each item to one_fn. */
typedef int (*item_fn)(saf_run_config *c, const char *item, saf_error *err);

static int each_item(saf_run_config *c, const char *what, const char *list,
		     item_fn one_fn, saf_error *err)
{
	char buf[SAF_RUN_VALUE_MAX];
	size_t n = strlen(list);
	char *p = buf;

	if (n >= sizeof(buf))
		return saf_fail(err, SAF_E_RANGE,
				"%s: %zu characters, at most %u", what, n,
				SAF_RUN_VALUE_MAX - 1);
	memcpy(buf, list, n + 1);
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p == '\0')
			return saf_fail(err, SAF_E_FORMAT,
					"%s: empty item in '%s'", what, list);
		if (one_fn(c, p, err))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int one_anycast(saf_run_config *c, const char *item, saf_error *err)
{
	saf_error e;

	if (c->n_anycast == SAF_RUN_MAX_ANYCAST)
		return saf_fail(err, SAF_E_RANGE, "%s: at most %u destinations",
				SAF_RUN_ENV_ANYCAST, SAF_RUN_MAX_ANYCAST);
	if (saf_addr_parse(item, false, &c->anycast[c->n_anycast], &e))
		return saf_fail(err, e.code, "%s: %s", SAF_RUN_ENV_ANYCAST,
				e.msg);
	c->n_anycast++;
	return 0;
}

int saf_run_parse_anycast(saf_run_config *c, const char *list, saf_error *err)
{
	return each_item(c, SAF_RUN_ENV_ANYCAST, list, one_anycast, err);
}

static int parse_timeout(const char *s, unsigned *out, saf_error *err)
{
	unsigned long v = 0;

	if (!*s)
		return saf_fail(err, SAF_E_FORMAT, "%s: empty",
				SAF_RUN_ENV_TIMEOUT);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return saf_fail(err, SAF_E_FORMAT,
					"%s: '%s' is not a number of ms",
					SAF_RUN_ENV_TIMEOUT, s);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > SAF_RUN_TIMEOUT_MAX_MS)
			break;
	}
	if (v < 1 || v > SAF_RUN_TIMEOUT_MAX_MS)
		return saf_fail(err, SAF_E_RANGE, "%s: %s outside 1..%u ms",
				SAF_RUN_ENV_TIMEOUT, s, SAF_RUN_TIMEOUT_MAX_MS);
	*out = (unsigned)v;
	return 0;
}

static int parse_flag(const char *name, const char *s, bool *out,
		      saf_error *err)
{
	if (strcmp(s, "1") == 0)
		*out = true;
	else if (strcmp(s, "0") == 0 || *s == '\0')
		*out = false;
	else
		return saf_fail(err, SAF_E_FORMAT, "%s: '%s', expected 0 or 1",
				name, s);
	return 0;
}

static void defaults(saf_run_config *c)
{
	memset(c, 0, sizeof(*c));
	saf_target_policy_init(&c->policy);
	c->timeout_ms = SAF_RUN_TIMEOUT_DEFAULT_MS;
	memcpy(c->pin_dir, SAF_TCP_PIN_DIR, sizeof(SAF_TCP_PIN_DIR));
}

static int load(saf_run_config *c, saf_run_getenv_fn get, saf_error *err)
{
	const char *v;

	/* First, so a later error is still reported on stderr. */
	v = get(SAF_RUN_ENV_DEBUG);
	if (v && parse_flag(SAF_RUN_ENV_DEBUG, v, &c->debug, err))
		return -1;
	v = get(SAF_RUN_ENV_PIN_DIR);
	if (!v || !*v)
		v = get("SAF_BPF_PIN_DIR");
	if (v && *v) {
		size_t n = strlen(v);

		if (n >= sizeof(c->pin_dir))
			return saf_fail(err, SAF_E_RANGE,
					"%s: %zu characters, at most %zu",
					SAF_RUN_ENV_PIN_DIR, n,
					sizeof(c->pin_dir) - 1);
		memcpy(c->pin_dir, v, n + 1);
	}
	v = get(SAF_RUN_ENV_TIMEOUT);
	if (v && parse_timeout(v, &c->timeout_ms, err))
		return -1;
	v = get(SAF_RUN_ENV_ALLOW_LOOPBACK);
	if (v && parse_flag(SAF_RUN_ENV_ALLOW_LOOPBACK, v,
			    &c->policy.allow_loopback, err))
		return -1;
	v = get(SAF_RUN_ENV_ALLOW_TARGET);
	if (v && *v) {
		saf_error e;

		if (saf_target_policy_allow(&c->policy, v, &e))
			return saf_fail(err, e.code, "%s: %s",
					SAF_RUN_ENV_ALLOW_TARGET, e.msg);
	}
	v = get(SAF_RUN_ENV_ANYCAST);
	if (v && *v && saf_run_parse_anycast(c, v, err))
		return -1;
	return 0;
}

int saf_run_config_load(saf_run_config *c, saf_run_getenv_fn get,
			saf_error *err)
{
	bool debug;

	defaults(c);
	if (load(c, get, err) == 0)
		return 0;
	/* Follow nothing, but keep the debug flag so the reason is seen. */
	debug = c->debug;
	defaults(c);
	c->debug = debug;
	return -1;
}

bool saf_run_is_anycast(const saf_run_config *c, const saf_addr *dst)
{
	for (size_t i = 0; i < c->n_anycast; i++) {
		const saf_addr *a = &c->anycast[i];

		if (saf_addr_equal_ip(a, dst) &&
		    (!a->has_port || a->port == dst->port))
			return true;
	}
	return false;
}
