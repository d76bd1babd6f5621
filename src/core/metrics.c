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

/* Whether a sample before m[i] is of m[i]'s family (written already). */
static bool family_seen(const saf_metric *m, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (m[j].name && strcmp(m[j].name, m[i].name) == 0)
			return true;
	return false;
}

static void put_sample(FILE *f, const saf_metric *s, const char *common)
{
	bool has_own = s->labels && *s->labels;
	bool has_common = common && *common;

	fputs(s->name, f);
	if (has_own || has_common)
		fprintf(f, "{%s%s%s}", has_own ? s->labels : "",
			has_own && has_common ? "," : "",
			has_common ? common : "");
	fputc(' ', f);
	put_value(f, s);
	fputc('\n', f);
}

/* Each family once, at the place of its first sample, with all of its
 * samples together (the format wants a family in one block), HELP from
 * the first of them that has one. */
static void put_prometheus(FILE *f, const saf_metric *m, size_t n,
			   const char *common)
{
	for (size_t i = 0; i < n; i++) {
		const char *help = NULL;

		if (!m[i].name || family_seen(m, i))
			continue;
		for (size_t j = i; j < n && !help; j++)
			if (m[j].name && strcmp(m[j].name, m[i].name) == 0)
				help = m[j].help;
		if (help)
			fprintf(f, "# HELP %s %s\n", m[i].name, help);
		fprintf(f, "# TYPE %s %s\n", m[i].name,
			m[i].type == SAF_METRIC_GAUGE ? "gauge" : "counter");
		for (size_t j = i; j < n; j++)
			if (m[j].name && strcmp(m[j].name, m[i].name) == 0)
				put_sample(f, &m[j], common);
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
