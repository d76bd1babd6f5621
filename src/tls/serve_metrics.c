/* SPDX-License-Identifier: MIT */
/*
 * The node's counters (saf_tls_node_counters_get) as `saf tls serve`
 * shows them: one JSON line, and Prometheus' text format. One list of
 * samples (saf/metrics.h) serves both; a sample without a key is
 * Prometheus only, one without a name JSON only.
 */
#include <stdio.h>
#include <string.h>

#include "saf/metrics.h"
#include "saf/tls_node.h"

#define REASONS ((size_t)SAF_TLS_REFUSE_COUNT + (size_t)SAF_VERDICT_COUNT)
#define SAMPLES (16u + REASONS + 16u)

/* The JSON line's groups: the top level, then the objects in it. */
enum { G_TOP, G_REFUSED, G_CONTINUITY, G_ADMISSION, G_COUNT };

typedef struct samples {
	saf_metric m[SAMPLES];
	size_t n;
	size_t at[G_COUNT + 1]; /* where each group starts; at[G_COUNT]: n */
	char reason[REASONS][64];
	size_t nreason;
} samples;

#define PFX "saf_tls_server_"

static void add(samples *s, const char *name, const char *labels,
		const char *key, saf_metric_type type, uint64_t u)
{
	if (s->n < SAMPLES)
		s->m[s->n++] = (saf_metric){.name = name,
					    .labels = labels,
					    .key = key,
					    .type = type,
					    .u = u};
}

static void add_reason(samples *s, const char *why, uint64_t u)
{
	const char *l = saf_metrics_label(s->reason[s->nreason],
					  sizeof(s->reason[0]), "reason", why);

	if (s->nreason + 1u < REASONS)
		s->nreason++;
	add(s, PFX "migrations_refused_total", l, why, SAF_METRIC_COUNTER, u);
}

/* A counter family of n samples: lk[i] its labels and JSON key. */
static void add_family(samples *s, const char *name, const char *const lk[][2],
		       const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(s, name, lk[i][0], lk[i][1], SAF_METRIC_COUNTER, v[i]);
}

static void build(samples *s, const saf_tls_node_counters *n)
{
	const saf_tls_server_counters *k = &n->server;
	const saf_tls_node_stream_counters *q = &n->streams;
	const saf_adm_counters *a = &n->admission;
	const saf_metric_type C = SAF_METRIC_COUNTER, G = SAF_METRIC_GAUGE;
	static const char *const adm[][2] = {
		{"event=\"handshake_timeout\"", "handshake_timeouts"},
		{"event=\"idle_timeout\"", "idle_timeouts"},
		{"event=\"per_source_refused\"", "per_source_refused"},
		{"event=\"evicted\"", "evicted"},
		{"event=\"full_refused\"", "full_refused"},
	};
	const uint64_t admv[] = {a->handshake_timeouts, a->idle_timeouts,
				 a->per_source_refused, a->evicted,
				 a->full_refused};

	memset(s, 0, sizeof(*s));
	add(s, PFX "connections", NULL, "connections", G, n->connections);
	add(s, PFX "handshakes_with_support_total", NULL,
	    "handshakes_with_support", C, k->handshakes_with_support);
	add(s, PFX "tokens_issued_total", NULL, "tokens_issued", C,
	    k->tokens_issued);
	add(s, PFX "notifies_sent_total", NULL, "notifies_sent", C,
	    k->notifies_sent);
	add(s, PFX "migrations_accepted_total", NULL, "migrations_accepted", C,
	    k->migrations_accepted);
	s->at[G_REFUSED] = s->n;
	for (int r = SAF_TLS_REFUSE_NO_SUPPORT; r < SAF_TLS_REFUSE_COUNT; r++)
		add_reason(s, saf_tls_refusal_name((saf_tls_refusal)r),
			   k->refused[r]);
	for (int v = SAF_TOKEN_MALFORMED; v < SAF_VERDICT_COUNT; v++)
		add_reason(s, saf_verdict_name((saf_verdict)v),
			   k->refused_verdict[v]);
	s->at[G_CONTINUITY] = s->n;
	if (n->continuity) {
		/* JSON counts all live streams, Prometheus the attached. */
		add(s, NULL, NULL, "streams", G, q->live);
		add(s, PFX "streams", "state=\"attached\"", NULL, G,
		    q->live - q->away);
		add(s, PFX "streams", "state=\"away\"", "away", G, q->away);
		static const char *const ev[][2] = {
			{"event=\"opened\"", "opened"},
			{"event=\"resumed\"", "resumed"},
			{"event=\"unknown\"", "unknown"},
			{"event=\"expired\"", "expired"},
			{"event=\"finished\"", "finished"},
			{"event=\"violation\"", "violations"},
		};
		const uint64_t evv[] = {q->opened,  q->resumed,	 q->unknown,
					q->expired, q->finished, q->violations};

		add_family(s, PFX "stream_events_total", ev, evv, 6);
		/* Early credentials (docs/continuity.md). */
		static const char *const cr[][2] = {
			{"event=\"issued\"", "creds_issued"},
			{"event=\"reattached\"", "reattached"},
			{"event=\"refused\"", "creds_refused"},
			{"event=\"evicted\"", "creds_evicted"},
		};
		const uint64_t crv[] = {q->creds_issued, q->reattached,
					q->creds_refused, q->creds_evicted};

		add_family(s, PFX "credentials_total", cr, crv, 4);
	}
	s->at[G_ADMISSION] = s->n;
	add(s, PFX "connections_by_state", "state=\"handshake\"", "handshaking",
	    G, a->handshaking);
	add(s, PFX "connections_by_state", "state=\"open\"", "open", G,
	    a->open);
	add(s, PFX "connections_by_state", "state=\"stream\"", "streams", G,
	    a->streams);
	add(s, PFX "sources", NULL, "sources", G, a->sources);
	add_family(s, PFX "admission_total", adm, admv, 5);
	s->at[G_COUNT] = s->n;
}

/* One group as a JSON object, or (G_TOP) as the members of the line's
 * object without its closing brace: the nested objects follow them. */
static void put_group(FILE *f, const samples *s, int g)
{
	static const char *const key[G_COUNT] = {
		[G_REFUSED] = "refused",
		[G_CONTINUITY] = "continuity",
		[G_ADMISSION] = "admission",
	};
	const saf_metric *m = &s->m[s->at[g]];
	size_t n = s->at[g + 1] - s->at[g];
	char top[1024];
	FILE *t;

	if (g != G_TOP) {
		if (!n) /* an empty group (no continuity) is left out */
			return;
		fprintf(f, ",\"%s\":", key[g]);
		saf_metrics_write(f, SAF_METRICS_JSON, m, n, NULL);
		return;
	}
	memset(top, 0, sizeof(top));
	t = fmemopen(top, sizeof(top) - 1u, "w");
	if (!t)
		return;
	saf_metrics_write(t, SAF_METRICS_JSON, m, n, NULL);
	if (fclose(t) == 0 && top[0] == '{' && strlen(top) >= 2u)
		fprintf(f, "%.*s", (int)(strlen(top) - 1u), top);
}

void saf_tls_node_counters_json(FILE *f, const saf_tls_node_counters *k)
{
	samples s;

	build(&s, k);
	for (int g = G_TOP; g < G_COUNT; g++)
		put_group(f, &s, g);
	fputs("}\n", f);
}

void saf_tls_node_counters_prometheus(FILE *f, const saf_tls_node_counters *k)
{
	samples s;

	build(&s, k);
	saf_metrics_write(f, SAF_METRICS_PROMETHEUS, s.m, s.n, NULL);
}
