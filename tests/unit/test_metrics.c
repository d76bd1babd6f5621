/* SPDX-License-Identifier: MIT */
/* src/core/metrics.c: one list of samples written as text, JSON and
 * Prometheus (HELP and TYPE once per family, labels joined with the
 * common ones, samples without a key or name left out where they do not
 * belong), label escaping and truncation, the atomic file replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "saf/metrics.h"

static const saf_metric samples[] = {
	{.name = "x_syns_total", .key = "syns", .help = "SYNs seen.", .u = 7},
	{.name = "x_adverts_total",
	 .labels = "form=\"full\"",
	 .key = "adverts_full",
	 .help = "Adverts, by form.",
	 .u = 3},
	{.name = "x_adverts_total",
	 .labels = "form=\"short\"",
	 .key = "adverts_short",
	 .u = 1},
	{.name = "x_delay_seconds",
	 .type = SAF_METRIC_GAUGE,
	 .help = "A delay.",
	 .decimals = 3,
	 .d = 0.0125},
	{.key = "returns", .u = 2}, /* text and JSON only */
};
#define N (sizeof(samples) / sizeof(samples[0]))

static char *written(saf_metrics_format fmt, const char *common)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	saf_metrics_write(f, fmt, samples, N, common);
	fclose(f);
	return buf;
}

static void test_prometheus(void **state)
{
	char *p = written(SAF_METRICS_PROMETHEUS, NULL);

	(void)state;
	assert_string_equal(p, "# HELP x_syns_total SYNs seen.\n"
			       "# TYPE x_syns_total counter\n"
			       "x_syns_total 7\n"
			       "# HELP x_adverts_total Adverts, by form.\n"
			       "# TYPE x_adverts_total counter\n"
			       "x_adverts_total{form=\"full\"} 3\n"
			       "x_adverts_total{form=\"short\"} 1\n"
			       "# HELP x_delay_seconds A delay.\n"
			       "# TYPE x_delay_seconds gauge\n"
			       "x_delay_seconds 0.013\n");
	free(p);
	p = written(SAF_METRICS_PROMETHEUS, "pin_dir=\"/p\"");
	assert_non_null(strstr(p, "\nx_syns_total{pin_dir=\"/p\"} 7\n"));
	assert_non_null(strstr(
		p, "\nx_adverts_total{form=\"short\",pin_dir=\"/p\"} 1\n"));
	free(p);
}

/* A family whose samples stand apart is still written in one block,
 * where its first sample stands. */
static void test_family_apart(void **state)
{
	static const saf_metric m[] = {
		{.name = "a_total", .labels = "r=\"1\"", .u = 1},
		{.name = "b_total", .help = "B.", .u = 2},
		{.name = "a_total", .labels = "r=\"2\"", .help = "A.", .u = 3},
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	saf_metrics_write(f, SAF_METRICS_PROMETHEUS, m, 3, NULL);
	fclose(f);
	assert_string_equal(buf, "# HELP a_total A.\n"
				 "# TYPE a_total counter\n"
				 "a_total{r=\"1\"} 1\n"
				 "a_total{r=\"2\"} 3\n"
				 "# HELP b_total B.\n"
				 "# TYPE b_total counter\n"
				 "b_total 2\n");
	free(buf);
}

static void test_json_and_text(void **state)
{
	char *j = written(SAF_METRICS_JSON, "ignored=\"1\"");
	char *t = written(SAF_METRICS_TEXT, NULL);

	(void)state;
	assert_string_equal(j, "{\"syns\":7,\"adverts_full\":3,"
			       "\"adverts_short\":1,\"returns\":2}");
	assert_string_equal(t, "  syns                           7\n"
			       "  adverts_full                   3\n"
			       "  adverts_short                  1\n"
			       "  returns                        2\n");
	free(j);
	free(t);
	/* Nothing to write: an empty object, no text. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	saf_metrics_write(f, SAF_METRICS_JSON, samples, 0, NULL);
	fclose(f);
	assert_string_equal(buf, "{}");
	free(buf);
}

static void test_label(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(saf_metrics_label(b, sizeof(b), "node", "n2"),
			    "node=\"n2\"");
	assert_string_equal(saf_metrics_label(b, sizeof(b), "p", "a\"b\\c\nd"),
			    "p=\"a\\\"b\\\\c\\nd\"");
	/* Too long: cut, still closed, never a half escape. */
	assert_string_equal(saf_metrics_label(b, 12, "p", "abcdefghijk"),
			    "p=\"abcdefg\"");
	assert_string_equal(saf_metrics_label(b, 9, "p", "ab\"cd"),
			    "p=\"ab\\\"\"");
	assert_string_equal(saf_metrics_label(b, 8, "p", "ab\"cd"), "p=\"ab\"");
	assert_string_equal(saf_metrics_label(b, 4, "key", "v"), "");
}

static void write_one(FILE *f, void *ctx)
{
	fputs((const char *)ctx, f);
}

static void test_file_replace(void **state)
{
	char dir[] = "/tmp/saf-metrics-XXXXXX", path[64], tmp[72], got[32];
	char one[] = "one\n", two[] = "two\n", x[] = "x";
	saf_error e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(saf_metrics_file_replace(path, write_one, one, &e), 0);
	assert_int_equal(saf_metrics_file_replace(path, write_one, two, &e), 0);
	f = fopen(path, "r");
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, "two\n");
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */
	/* A folder that does not exist: an error naming the file. */
	assert_int_equal(
		saf_metrics_file_replace("/nonexistent/m", write_one, x, &e),
		-1);
	assert_int_equal(e.code, SAF_E_SYS);
	assert_non_null(strstr(e.msg, "/nonexistent/m.tmp"));
	/* The target is a folder: rename fails, the .tmp is removed. */
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(saf_metrics_file_replace(path, write_one, x, &e), -1);
	assert_non_null(strstr(e.msg, "rename"));
	assert_int_equal(access(tmp, F_OK), -1);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_family_apart),
		cmocka_unit_test(test_json_and_text),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_file_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
