/* SPDX-License-Identifier: MIT */
/*
 * `saf run` and its preload library (docs/run.md): unmodified, dynamically
 * linked programs follow the node's advert on their first connection.
 * `saf run` writes the configuration into the environment; the library
 * (libsaf-preload.so, LD_PRELOAD) reads it once when it is loaded and
 * wraps connect() for TCP sockets to the configured anycast destinations.
 *
 * This header holds what both sides share: the names of the variables and
 * the parser of their values, so `saf run` refuses exactly what the
 * library would ignore.
 */
#ifndef SAF_RUN_H
#define SAF_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "saf/addr.h"
#include "saf/error.h"
#include "saf/policy.h"

/* The environment, as `saf run --help` documents it. */
#define SAF_RUN_ENV_ANYCAST	   "SAF_ANYCAST"	/* ADDR[:PORT],... */
#define SAF_RUN_ENV_PIN_DIR	   "SAF_PIN_DIR"	/* bpffs pin folder */
#define SAF_RUN_ENV_TIMEOUT	   "SAF_TIMEOUT_MS"	/* per wait, ms */
#define SAF_RUN_ENV_ALLOW_LOOPBACK "SAF_ALLOW_LOOPBACK" /* 1: accept */
#define SAF_RUN_ENV_ALLOW_TARGET   "SAF_ALLOW_TARGET"	/* PREFIX,... */
#define SAF_RUN_ENV_DEBUG	   "SAF_DEBUG" /* 1: a line per connection */

#define SAF_RUN_MAX_ANYCAST 16u
#define SAF_RUN_PIN_DIR_MAX 256u
/* Each wait inside connect() (for S, then for U) is bounded by this. One
 * second rather than saf_tcp_connect's three: an event loop (asyncio,
 * nginx) is blocked while the wrapper waits, so its cost must stay small;
 * a U that does not answer within it leaves the application on S. */
#define SAF_RUN_TIMEOUT_DEFAULT_MS 1000u
#define SAF_RUN_TIMEOUT_MAX_MS	   60000u
/* An environment variable's value longer than this is refused. */
#define SAF_RUN_VALUE_MAX 1024u

typedef struct saf_run_config {
	/* Destinations whose connect() is followed; has_port false = any
	 * port. None: the library does nothing. */
	saf_addr anycast[SAF_RUN_MAX_ANYCAST];
	size_t n_anycast;
	/* The client target policy (saf/policy.h) every advert passes:
	 * SAF_ALLOW_TARGET fills its allow prefixes, SAF_ALLOW_LOOPBACK its
	 * allow_loopback. None: global unicast only. */
	saf_target_policy policy;
	char pin_dir[SAF_RUN_PIN_DIR_MAX];
	unsigned timeout_ms;
	bool debug;
} saf_run_config;

/* Looks a variable up (getenv, or a table in tests); NULL when unset. */
typedef char *(*saf_run_getenv_fn)(const char *name);

/* Fills *c from the variables above. Unset variables take the defaults
 * (pin folder: $SAF_PIN_DIR, else $SAF_BPF_PIN_DIR, else
 * SAF_TCP_PIN_DIR). On error *c holds the defaults and no destination,
 * so a caller that goes on anyway follows nothing; err names the
 * variable and what is wrong with it. */
SAF_MUST_CHECK int saf_run_config_load(saf_run_config *c, saf_run_getenv_fn get,
				       saf_error *err);

/* Parses a comma-separated list of ADDR[:PORT] ("10.99.0.1:80",
 * "[fd00:99::1]:443", "10.99.0.2") into c->anycast. */
SAF_MUST_CHECK int saf_run_parse_anycast(saf_run_config *c, const char *list,
					 saf_error *err);

/* Whether a connect() to `dst` (with its port) is one to follow. */
bool saf_run_is_anycast(const saf_run_config *c, const saf_addr *dst);

#endif /* SAF_RUN_H */
