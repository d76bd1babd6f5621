/* SPDX-License-Identifier: MIT */
/*
 * One writer for counters and gauges: the parts of the library return
 * their numbers (structs, arrays) and describe them as a list of samples;
 * this writes the list as text for people, as a JSON object, or in
 * Prometheus' text exposition format (version 0.0.4: # HELP and # TYPE
 * before the first sample of each family), and replaces a metrics file
 * atomically for node_exporter's textfile collector.
 *
 * No allocation, no global state: the samples and their label strings
 * belong to the caller and are only read.
 */
#ifndef SAF_METRICS_H
#define SAF_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saf/error.h"

typedef enum saf_metric_type {
	SAF_METRIC_COUNTER = 0, /* only grows (Prometheus: counter) */
	SAF_METRIC_GAUGE,	/* a level now (Prometheus: gauge) */
} saf_metric_type;

/* One sample. */
typedef struct saf_metric {
	/* Prometheus family name ("saf_tcp_client_synacks_total"); NULL: the
	 * sample is shown in text and JSON only. A family is written in one
	 * block where its first sample stands (# HELP, # TYPE, then all of
	 * its samples), wherever the others stand in the list. */
	const char *name;
	/* This sample's labels without braces, already formatted
	 * (`advert="valid"`; see saf_metrics_label), or NULL. */
	const char *labels;
	/* Its name in text and JSON ("client_advert"); NULL: Prometheus
	 * only. Written as is (no JSON escaping): a plain identifier. */
	const char *key;
	/* The family's # HELP text (the first one given among its samples);
	 * NULL in all of them: no HELP line. */
	const char *help;
	saf_metric_type type;
	/* 0: the value is the whole number u; 1..9: the real number d,
	 * written with that many digits after the point. */
	int decimals;
	uint64_t u;
	double d;
} saf_metric;

typedef enum saf_metrics_format {
	SAF_METRICS_TEXT = 0,	/* "  key<padding> value" lines */
	SAF_METRICS_JSON,	/* {"key":value,...}, no line end */
	SAF_METRICS_PROMETHEUS, /* exposition format, one sample a line */
} saf_metrics_format;

/* Writes the n samples m to f in format fmt. common_labels (formatted
 * like saf_metric.labels, or NULL) are added to every Prometheus sample
 * (`pin_dir="/sys/fs/bpf/saf"`). Samples without a key are left out of
 * text and JSON, samples without a name out of Prometheus. */
void saf_metrics_write(FILE *f, saf_metrics_format fmt, const saf_metric *m,
		       size_t n, const char *common_labels);

/* Formats one Prometheus label, key="value", into buf with the value
 * escaped as the format says (\\, \" and \n); returns buf. A label that
 * does not fit in cap bytes is cut at a character boundary of the escape
 * and still closed with a quote. */
const char *saf_metrics_label(char *buf, size_t cap, const char *key,
			      const char *value);

/* Replaces the file at path with what write_fn writes (to path.tmp, then
 * rename), so a reader sees the old file or the new one, never half of
 * one. -1 with err when path.tmp cannot be written or renamed (path.tmp
 * is then removed). */
SAF_MUST_CHECK int
saf_metrics_file_replace(const char *path, void (*write_fn)(FILE *f, void *ctx),
			 void *ctx, saf_error *err);

#endif /* SAF_METRICS_H */
