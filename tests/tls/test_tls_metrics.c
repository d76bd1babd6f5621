/* SPDX-License-Identifier: MIT */
/*
 * src/tls/serve_metrics.c: the node's counters as `saf tls serve` shows
 * them (the SIGUSR2 JSON line, the --metrics-file Prometheus text) are
 * byte for byte what they were before the one metrics writer
 * (tests/vectors/tls/, captured from the old printf code for the same
 * counters): the tests reading them, dashboards and scrapers see no
 * change. With continuity on and off (its block is left out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/tls_node.h"

/* Every counter a different number, so a swapped pair shows. */
static saf_tls_node_counters fill(bool continuity)
{
	saf_tls_node_counters k;
	uint64_t v = 100;

	memset(&k, 0, sizeof(k));
	k.connections = 7;
	k.server.handshakes_with_support = 11;
	k.server.tokens_issued = 12;
	k.server.notifies_sent = 13;
	k.server.migrations_accepted = 14;
	for (int r = 0; r < SAF_TLS_REFUSE_COUNT; r++)
		k.server.refused[r] = v++;
	for (int r = 0; r < SAF_VERDICT_COUNT; r++)
		k.server.refused_verdict[r] = v++;
	k.continuity = continuity;
	k.streams = (saf_tls_node_stream_counters){
		.live = 5,
		.away = 2,
		.opened = 21,
		.resumed = 22,
		.unknown = 23,
		.expired = 24,
		.finished = 25,
		.violations = 26,
		.creds_issued = 27,
		.reattached = 28,
		.creds_refused = 29,
		.creds_evicted = 30,
	};
	k.admission = (saf_adm_counters){
		.handshaking = 31,
		.open = 32,
		.streams = 33,
		.sources = 34,
		.handshake_timeouts = 35,
		.idle_timeouts = 36,
		.per_source_refused = 37,
		.evicted = 38,
		.full_refused = 39,
	};
	return k;
}

static char *vector(const char *name)
{
	char path[512];
	FILE *f;
	char *buf = calloc(1, 16384);
	size_t n;

	snprintf(path, sizeof(path), "%s/tls/%s", SAF_TEST_VECTORS, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 16383, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *written(bool continuity, bool prometheus)
{
	saf_tls_node_counters k = fill(continuity);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (prometheus)
		saf_tls_node_counters_prometheus(f, &k);
	else
		saf_tls_node_counters_json(f, &k);
	fclose(f);
	return buf;
}

static void check(const char *name, bool continuity, bool prometheus)
{
	const char *dir = getenv("SAF_TLS_METRICS_CAPTURE");
	char *want, *got = written(continuity, prometheus);

	/* SAF_TLS_METRICS_CAPTURE=DIR: write the vectors there instead (how
	 * they were captured from the old code). */
	if (dir) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		free(got);
		return;
	}
	want = vector(name);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_prometheus_unchanged(void **state)
{
	(void)state;
	check("serve_continuity.prom", true, true);
	check("serve_plain.prom", false, true);
}

static void test_json_unchanged(void **state)
{
	(void)state;
	check("serve_continuity.json", true, false);
	check("serve_plain.json", false, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_unchanged),
		cmocka_unit_test(test_json_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
