/* SPDX-License-Identifier: MIT */
/*
 * src/sched/metrics.c: the scheduler's Prometheus text and its status
 * file, written through the one metrics writer, are byte for byte what
 * they were before it (tests/vectors/sched/, captured from the old
 * printf code for the same state): dashboards and the status readers
 * see no change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "saf/sched.h"

static saf_sched s;

/* Two nodes and some counters; n2 chosen, in, probed; n3 silent. */
static void fill(void)
{
	saf_sched_config cfg = saf_sched_config_default();
	saf_error e;

	saf_sched_init(&s, &cfg);
	assert_int_equal(saf_sched_add_node(&s, "n2=10.0.0.2", &e), 0);
	assert_int_equal(saf_sched_add_node(&s, "n3=10.0.0.3,fd00::3", &e), 0);
	s.nodes[0].score = 0.51234;
	s.nodes[0].delay_ms = 1.25;
	s.nodes[0].in = true;
	s.nodes[0].l1.computing = 3;
	s.nodes[0].l2.norm_fi = 7;
	s.nodes[1].delay_ms = -1;
	s.current = 0;
	s.last_change_ms = 1000;
	s.ctr.reports = 5;
	s.ctr.forged = 1;
	s.ctr.stale = 2;
	s.ctr.echo_wrong_source = 3;
	s.ctr.node_returns = 9;
	s.ctr.route_errors = 4;
}

static char *vector(const char *name)
{
	char path[512];
	FILE *f;
	char *buf = calloc(1, 8192);
	size_t n;

	snprintf(path, sizeof(path), "%s/sched/%s", SAF_TEST_VECTORS, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 8191, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *written(bool status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (status)
		saf_sched_write_status(&s, 4500, f);
	else
		saf_sched_write_metrics(&s, 4500, f);
	fclose(f);
	return buf;
}

static void test_prometheus_unchanged(void **state)
{
	char *want = vector("metrics.prom"), *got;

	(void)state;
	fill();
	got = written(false);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_status_unchanged(void **state)
{
	char *want = vector("status_prefix.json"), *got, *nl;
	char tail[128];

	(void)state;
	fill();
	nl = strchr(want, '\n');
	if (nl)
		*nl = '\0';
	got = written(true);
	/* All but the table size (sizeof the state) is as before. */
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	snprintf(tail, sizeof(tail),
		 ",\"tables\":{\"nodes\":2,\"per_flow_entries\":0,\"bytes\":%"
		 "zu}}"
		 "\n",
		 sizeof(s));
	assert_string_equal(got + strlen(want), tail);
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_unchanged),
		cmocka_unit_test(test_status_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
