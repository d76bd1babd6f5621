/* SPDX-License-Identifier: MIT */
/* src/preload/config.c: the environment of saf run and its preload
 * library, parsed from a table instead of the real environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "saf/run.h"
#include "saf/tcp.h"

static const char *const *env; /* NAME, VALUE, ..., NULL */

static char *get(const char *name)
{
	static char v[SAF_RUN_VALUE_MAX + 16];

	for (size_t i = 0; env[i]; i += 2) {
		if (strcmp(env[i], name) == 0) {
			snprintf(v, sizeof(v), "%s", env[i + 1]);
			return v;
		}
	}
	return NULL;
}

static int load(saf_run_config *c, saf_error *err, const char *const *e)
{
	env = e;
	return saf_run_config_load(c, get, err);
}

static saf_addr addr(const char *s)
{
	saf_addr a;
	saf_error err;

	assert_int_equal(saf_addr_parse(s, false, &a, &err), 0);
	return a;
}

static void test_defaults(void **state)
{
	static const char *const e[] = {NULL};
	saf_run_config c;
	saf_error err;

	(void)state;
	assert_int_equal(load(&c, &err, e), 0);
	assert_int_equal(c.n_anycast, 0);
	assert_int_equal(c.policy.n_allow, 0);
	assert_int_equal(c.timeout_ms, SAF_RUN_TIMEOUT_DEFAULT_MS);
	assert_string_equal(c.pin_dir, SAF_TCP_PIN_DIR);
	assert_false(c.debug);
	assert_false(c.policy.allow_loopback);
}

static void test_full(void **state)
{
	static const char *const e[] = {
		"SAF_ANYCAST",
		"10.99.0.1:80,[fd00:99::1]:443,10.99.0.2,fd00:99::2",
		"SAF_PIN_DIR",
		"/run/x",
		"SAF_BPF_PIN_DIR",
		"/run/ignored",
		"SAF_TIMEOUT_MS",
		"250",
		"SAF_DEBUG",
		"1",
		"SAF_ALLOW_LOOPBACK",
		"1",
		"SAF_ALLOW_TARGET",
		"10.30.0.0/16,fd00:30::/32",
		NULL,
	};
	saf_run_config c;
	saf_error err;
	saf_addr a;

	(void)state;
	assert_int_equal(load(&c, &err, e), 0);
	assert_int_equal(c.n_anycast, 4);
	assert_string_equal(c.pin_dir, "/run/x");
	assert_int_equal(c.timeout_ms, 250);
	assert_true(c.debug);
	assert_true(c.policy.allow_loopback);
	/* a port given: only that port; none: every port */
	a = addr("10.99.0.1:80");
	assert_true(saf_run_is_anycast(&c, &a));
	a = addr("10.99.0.1:81");
	assert_false(saf_run_is_anycast(&c, &a));
	a = addr("[fd00:99::1]:443");
	assert_true(saf_run_is_anycast(&c, &a));
	a = addr("[fd00:99::1]:80");
	assert_false(saf_run_is_anycast(&c, &a));
	a = addr("10.99.0.2:1234");
	assert_true(saf_run_is_anycast(&c, &a));
	a = addr("[fd00:99::2]:1");
	assert_true(saf_run_is_anycast(&c, &a));
	a = addr("10.99.0.3:80");
	assert_false(saf_run_is_anycast(&c, &a));
	/* the allow prefixes reach the target policy */
	assert_int_equal(c.policy.n_allow, 2);
	a = addr("10.30.2.2");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 0);
	a = addr("10.31.2.2");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 -1);
	a = addr("fd00:30:2::2");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 0);
	a = addr("fd00:31::2");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 -1);
}

static void test_bpf_pin_dir_fallback(void **state)
{
	static const char *const e[] = {"SAF_BPF_PIN_DIR", "/run/y", NULL};
	saf_run_config c;
	saf_error err;

	(void)state;
	assert_int_equal(load(&c, &err, e), 0);
	assert_string_equal(c.pin_dir, "/run/y");
}

/* Without SAF_ALLOW_TARGET, the default policy: global unicast only. */
static void test_default_policy(void **state)
{
	static const char *const e[] = {"SAF_ANYCAST", "10.99.0.1", NULL};
	saf_run_config c;
	saf_error err;
	saf_addr a;

	(void)state;
	assert_int_equal(load(&c, &err, e), 0);
	a = addr("10.30.2.2");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 -1);
	a = addr("192.0.2.1:80"); /* documentation: refused too */
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 -1);
	a = addr("8.8.8.8");
	assert_int_equal(saf_target_policy_check(&c.policy, &a, "advert", &err),
			 0);
}

static void refused(const char *name, const char *value, const char *msg)
{
	const char *const e[] = {"SAF_DEBUG",	"1",	     name, value,
				 "SAF_ANYCAST", "10.99.0.1", NULL};
	saf_run_config c;
	saf_error err;

	assert_int_equal(load(&c, &err, e), -1);
	assert_string_equal(err.msg, msg);
	/* follows nothing, but still says why */
	assert_int_equal(c.n_anycast, 0);
	assert_true(c.debug);
}

static void test_refused(void **state)
{
	char many[SAF_RUN_VALUE_MAX + 8];

	(void)state;
	refused("SAF_TIMEOUT_MS", "0", "SAF_TIMEOUT_MS: 0 outside 1..60000 ms");
	refused("SAF_TIMEOUT_MS", "60001",
		"SAF_TIMEOUT_MS: 60001 outside 1..60000 ms");
	refused("SAF_TIMEOUT_MS", "99999999999999999999999",
		"SAF_TIMEOUT_MS: 99999999999999999999999 outside 1..60000 ms");
	refused("SAF_TIMEOUT_MS", "1s",
		"SAF_TIMEOUT_MS: '1s' is not a number of ms");
	refused("SAF_TIMEOUT_MS", "", "SAF_TIMEOUT_MS: empty");
	refused("SAF_ALLOW_LOOPBACK", "yes",
		"SAF_ALLOW_LOOPBACK: 'yes', expected 0 or 1");
	refused("SAF_ALLOW_TARGET", "10.30.0.0/33,",
		"SAF_ALLOW_TARGET: prefix '10.30.0.0/33': length outside "
		"0..32");
	refused("SAF_ALLOW_TARGET", "10.30.0.0/16,,10.1.0.0/16",
		"SAF_ALLOW_TARGET: allowed prefixes "
		"'10.30.0.0/16,,10.1.0.0/16': "
		"empty entry");
	memset(many, 'a', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	refused("SAF_PIN_DIR", many,
		"SAF_PIN_DIR: 1031 characters, at most 255");
}

static void test_anycast_refused(void **state)
{
	saf_run_config c;
	saf_error err;
	char list[SAF_RUN_VALUE_MAX];
	size_t n = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(saf_run_parse_anycast(&c, "10.99.0.1:0", &err), -1);
	assert_string_equal(err.msg,
			    "SAF_ANYCAST: address '10.99.0.1:0': port 0 is not "
			    "allowed");
	memset(&c, 0, sizeof(c));
	assert_int_equal(saf_run_parse_anycast(&c, "", &err), -1);
	assert_int_equal(saf_run_parse_anycast(&c, "10.99.0.1,", &err), -1);
	assert_int_equal(saf_run_parse_anycast(&c, "example.com", &err), -1);
	/* at most SAF_RUN_MAX_ANYCAST */
	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i <= SAF_RUN_MAX_ANYCAST; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s10.0.0.%u",
				      i ? "," : "", i + 1);
	assert_int_equal(saf_run_parse_anycast(&c, list, &err), -1);
	assert_string_equal(err.msg, "SAF_ANYCAST: at most 16 destinations");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_bpf_pin_dir_fallback),
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_anycast_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
