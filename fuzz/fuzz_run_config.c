/* SPDX-License-Identifier: MIT */
/* libFuzzer: the environment of saf run and its preload library
 * (src/preload/config.c). The input is split at NUL bytes into the values
 * of the variables, in a fixed order; whatever is accepted stays within
 * its limits, and a refusal leaves nothing to follow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	SAF_RUN_ENV_ANYCAST,	  SAF_RUN_ENV_PIN_DIR,
	SAF_RUN_ENV_TIMEOUT,	  SAF_RUN_ENV_ALLOW_LOOPBACK,
	SAF_RUN_ENV_ALLOW_TARGET, SAF_RUN_ENV_DEBUG,
	"SAF_BPF_PIN_DIR",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))
static char *values[N_NAMES];

static char *get(const char *name)
{
	for (size_t i = 0; i < N_NAMES; i++)
		if (strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *p = buf;
	saf_run_config c;
	saf_error err;
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < N_NAMES; i++) {
		values[i] = p <= buf + size ? p : NULL;
		if (p <= buf + size)
			p += strlen(p) + 1;
	}
	rc = saf_run_config_load(&c, get, &err);
	if (c.n_anycast > SAF_RUN_MAX_ANYCAST ||
	    c.policy.n_allow > SAF_POLICY_MAX_ALLOW || c.timeout_ms < 1 ||
	    c.timeout_ms > SAF_RUN_TIMEOUT_MAX_MS ||
	    memchr(c.pin_dir, '\0', sizeof(c.pin_dir)) == NULL)
		abort();
	if (rc != 0 && (c.n_anycast || c.policy.n_allow))
		abort();
	for (size_t i = 0; i < c.policy.n_allow; i++)
		if (c.policy.allow[i].len >
		    (c.policy.allow[i].addr.family == 4 ? 32u : 128u))
			abort();
	free(buf);
	return 0;
}
