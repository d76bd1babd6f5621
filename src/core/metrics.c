/* SPDX-License-Identifier: MIT */
/* Counters and gauges as text, JSON and Prometheus (saf/metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "saf/metrics.h"

static void put_value(FILE *f, const saf_metric *m)
{
	if (m->decimals > 0)
		fprintf(f, "%.*f", m->decimals > 9 ? 9 : m->decimals, m->d);
	else
		fprintf(f, "%" PRIu64, m->u);
}

static bool same_family(const saf_metric *a, const saf_metric *b)
{
	return a->name && b->name && strcmp(a->name, b->name) == 0;
}

static void put_prometheus(FILE *f, const saf_metric *m, size_t n,
			   const char *common)
{
	bool has_common = common && *common;

	for (size_t i = 0; i < n; i++) {
		const saf_metric *s = &m[i];
		bool has_own = s->labels && *s->labels;

		if (!s->name)
			continue;
		/* The first sample of a family introduces it. */
		if (i == 0 || !same_family(&m[i - 1], s)) {
			if (s->help)
				fprintf(f, "# HELP %s %s\n", s->name, s->help);
			fprintf(f, "# TYPE %s %s\n", s->name,
				s->type == SAF_METRIC_GAUGE ? "gauge"
							    : "counter");
		}
		fputs(s->name, f);
		if (has_own || has_common)
			fprintf(f, "{%s%s%s}", has_own ? s->labels : "",
				has_own && has_common ? "," : "",
				has_common ? common : "");
		fputc(' ', f);
		put_value(f, s);
		fputc('\n', f);
	}
}

void saf_metrics_write(FILE *f, saf_metrics_format fmt, const saf_metric *m,
		       size_t n, const char *common_labels)
{
	bool first = true;

	if (fmt == SAF_METRICS_PROMETHEUS) {
		put_prometheus(f, m, n, common_labels);
		return;
	}
	if (fmt == SAF_METRICS_JSON)
		fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		if (!m[i].key)
			continue;
		if (fmt == SAF_METRICS_JSON)
			fprintf(f, "%s\"%s\":", first ? "" : ",", m[i].key);
		else
			fprintf(f, "  %-30s ", m[i].key);
		put_value(f, &m[i]);
		if (fmt == SAF_METRICS_TEXT)
			fputc('\n', f);
		first = false;
	}
	if (fmt == SAF_METRICS_JSON)
		fputc('}', f);
}

const char *saf_metrics_label(char *buf, size_t cap, const char *key,
			      const char *value)
{
	size_t o = 0;
	int n;

	if (cap == 0)
		return buf;
	n = snprintf(buf, cap, "%s=\"", key);
	if (n < 0 || (size_t)n + 2 > cap) { /* not even key=""  */
		buf[0] = '\0';
		return buf;
	}
	o = (size_t)n;
	for (const char *v = value; *v; v++) {
		char c = *v == '\n' ? 'n' : *v;
		bool esc = *v == '\\' || *v == '"' || *v == '\n';

		if (o + (esc ? 2u : 1u) + 2u > cap) /* room for '"' and NUL */
			break;
		if (esc)
			buf[o++] = '\\';
		buf[o++] = c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

int saf_metrics_file_replace(const char *path,
			     void (*write_fn)(FILE *f, void *ctx), void *ctx,
			     saf_error *err)
{
	char tmp[4096];
	FILE *f;
	int bad;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return saf_fail(err, SAF_E_RANGE, "%s: path too long", path);
	f = fopen(tmp, "w");
	if (!f)
		return saf_fail(err, SAF_E_SYS, "%s: %s", tmp, strerror(errno));
	write_fn(f, ctx);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		unlink(tmp);
		return saf_fail(err, SAF_E_SYS, "%s: write failed", tmp);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return saf_fail(err, SAF_E_SYS, "%s: rename: %s", path,
				strerror(e));
	}
	return 0;
}
