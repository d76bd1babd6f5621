/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's numbers out: its counters and per-node gauges as
 * samples for the one metrics writer (saf/metrics.h), which formats the
 * Prometheus text and the status file's "counters" object from the same
 * list, so a counter has one name in each and cannot be left out of one.
 */
#include <inttypes.h>
#include <stdio.h>

#include "saf/metrics.h"
#include "saf/sched.h"

/* Counters, then seconds since the last change: at most this many. */
#define COUNTER_METRICS 17
/* Per node: score, four CATS levels, up, delay, chosen. */
#define NODE_METRICS   8
#define NODE_LABEL_LEN (SAF_SCHED_NAME_MAX + 48)

/* One counter: its key in the status JSON, its family, reason label
 * (or NULL) and the family's help (on its first counter). */
#define CTR(k, fam, lab, h)                                                    \
	(saf_metric)                                                           \
	{                                                                      \
		.key = #k, .name = (fam), .labels = (lab), .help = (h),        \
		.u = c->k                                                      \
	}

static size_t counter_metrics(const saf_sched *s, uint64_t now_ms,
			      saf_metric m[COUNTER_METRICS])
{
	const saf_sched_counters *c = &s->ctr;
	static const char *const dropped = "saf_sched_reports_dropped_total",
				 *const echo_dropped =
					 "saf_sched_echoes_dropped_total";
	size_t n = 0;

	m[n++] = CTR(reports, "saf_sched_reports_total", NULL,
		     "Node reports accepted.");
	m[n++] = CTR(forged, dropped, "reason=\"forged\"",
		     "Node reports dropped, by reason.");
	m[n++] = CTR(malformed, dropped, "reason=\"malformed\"", NULL);
	m[n++] = CTR(old_version, dropped, "reason=\"old_version\"", NULL);
	m[n++] = CTR(replayed, dropped, "reason=\"replayed\"", NULL);
	m[n++] = CTR(unknown_node, dropped, "reason=\"unknown_node\"", NULL);
	m[n++] = CTR(stale, dropped, "reason=\"stale\"", NULL);
	m[n++] = CTR(probes_sent, "saf_sched_probes_sent_total", NULL,
		     "Delay probes sent to nodes.");
	m[n++] = CTR(echoes, "saf_sched_echoes_total", NULL,
		     "Probe echoes accepted.");
	m[n++] = CTR(echo_unsolicited, echo_dropped, "reason=\"unsolicited\"",
		     "Probe echoes dropped, by reason.");
	m[n++] = CTR(echo_wrong_source, echo_dropped, "reason=\"wrong_source\"",
		     NULL);
	m[n++] = CTR(route_changes, "saf_sched_route_changes_total", NULL,
		     "Changes of the route for S.");
	m[n++] = CTR(route_errors, "saf_sched_route_errors_total", NULL,
		     "Route updates the kernel refused.");
	m[n++] = CTR(node_timeouts, "saf_sched_node_timeouts_total", NULL,
		     "Nodes taken out for silence.");
	m[n++] = CTR(node_returns, NULL, NULL, NULL); /* status only */
	m[n++] = (saf_metric){
		.name = "saf_sched_seconds_since_change",
		.help = "Seconds since the route last changed.",
		.type = SAF_METRIC_GAUGE,
		.decimals = 3,
		.d = s->last_change_ms
			     ? (double)(now_ms - s->last_change_ms) / 1000.0
			     : 0.0};
	return n;
}

/* One gauge of a node. */
static saf_metric gauge(const char *name, const char *labels, const char *help,
			int decimals, double v)
{
	return (saf_metric){.name = name,
			    .labels = labels,
			    .help = help,
			    .type = SAF_METRIC_GAUGE,
			    .decimals = decimals,
			    .u = decimals ? 0 : (uint64_t)v,
			    .d = v};
}

/* The per-node gauges; lab holds their labels. The writer puts each
 * family in one block. */
static size_t node_metrics(const saf_sched *s, saf_metric *m,
			   char lab[][5][NODE_LABEL_LEN])
{
	static const char *const cats = "saf_sched_node_cats_level";
	static const char *const comb[4] = {"computing_comb",
					    "communication_comb",
					    "service_comb", "norm_fi"};
	size_t n = 0;

	for (size_t i = 0; i < s->n_nodes; i++) {
		const saf_sched_node *nd = &s->nodes[i];
		const unsigned level[4] = {nd->l1.computing,
					   nd->l1.communication, nd->l1.service,
					   nd->l2.norm_fi};
		bool chosen = s->cfg.multipath ? nd->weight > 0
					       : (int)i == s->current;
		char *node = lab[i][0];

		saf_metrics_label(node, NODE_LABEL_LEN, "node", nd->name);
		m[n++] = gauge("saf_sched_node_score", node,
			       "Node score, 0..1.", 4, nd->score);
		for (int k = 0; k < 4; k++) {
			char *l = lab[i][k + 1];
			int w = snprintf(l, NODE_LABEL_LEN, "%s,", node);

			if (w > 0 && w < (int)NODE_LABEL_LEN)
				saf_metrics_label(l + w,
						  NODE_LABEL_LEN - (size_t)w,
						  "metric", comb[k]);
			m[n++] = gauge(cats, l,
				       "CATS levels 1 (per category) and 2 "
				       "(norm_fi), 0..10.",
				       0, level[k]);
		}
		m[n++] = gauge("saf_sched_node_up", node,
			       "Whether the node is in the decision.", 0,
			       nd->in);
		if (nd->delay_ms >= 0)
			m[n++] = gauge("saf_sched_node_delay_seconds", node,
				       "Estimated one-way delay.", 6,
				       nd->delay_ms / 1000.0);
		m[n++] = gauge("saf_sched_node_chosen", node,
			       "Whether the route for S uses the node.", 0,
			       chosen);
	}
	return n;
}

void saf_sched_write_metrics(const saf_sched *s, uint64_t now_ms, FILE *f)
{
	saf_metric m[COUNTER_METRICS + SAF_SCHED_MAX_NODES * NODE_METRICS];
	char lab[SAF_SCHED_MAX_NODES][5][NODE_LABEL_LEN];
	size_t n = counter_metrics(s, now_ms, m);

	n += node_metrics(s, m + n, lab);
	saf_metrics_write(f, SAF_METRICS_PROMETHEUS, m, n, NULL);
}

void saf_sched_write_status(const saf_sched *s, uint64_t now_ms, FILE *f)
{
	saf_metric m[COUNTER_METRICS];
	size_t n = counter_metrics(s, now_ms, m);

	fprintf(f, "{\"mode\":\"%s\",\"current\":",
		s->cfg.multipath ? "multipath" : "single");
	if (s->current >= 0)
		fprintf(f, "\"%s\"", s->nodes[s->current].name);
	else
		fputs("null", f);
	fprintf(f, ",\"ms_since_change\":%" PRIu64 ",\"nodes\":[",
		s->last_change_ms ? now_ms - s->last_change_ms : 0);
	for (size_t i = 0; i < s->n_nodes; i++) {
		const saf_sched_node *nd = &s->nodes[i];

		fprintf(f,
			"%s{\"name\":\"%s\",\"in\":%s,\"score\":%.4f,"
			"\"load\":%u,\"capacity\":%u,\"available\":%s,"
			"\"delay_ms\":%.3f,\"weight\":%u,"
			"\"mem\":%u,\"conns\":%u,\"computing_comb\":%u,"
			"\"communication_comb\":%u,\"service_comb\":%u,"
			"\"norm_fi\":%u,"
			"\"ms_since_report\":%" PRId64 "}",
			i ? "," : "", nd->name, nd->in ? "true" : "false",
			nd->score, nd->load, nd->capacity,
			nd->available ? "true" : "false", nd->delay_ms,
			nd->weight, nd->mem, nd->conns, nd->l1.computing,
			nd->l1.communication, nd->l1.service, nd->l2.norm_fi,
			nd->reported ? (int64_t)(now_ms - nd->last_report_ms)
				     : -1);
	}
	fputs("],\"counters\":", f);
	saf_metrics_write(f, SAF_METRICS_JSON, m, n, NULL);
	fprintf(f,
		",\"tables\":{\"nodes\":%zu,\"per_flow_entries\":0,"
		"\"bytes\":%zu}}\n",
		s->n_nodes, sizeof(*s));
}
