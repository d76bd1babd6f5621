/* SPDX-License-Identifier: MIT */
/*
 * The node's counters (saf_tls_node_counters_get) as `saf tls serve`
 * shows them: one JSON line, and Prometheus' text format.
 */
#include <inttypes.h>
#include <stdio.h>

#include "saf/tls_node.h"

void saf_tls_node_counters_json(FILE *f, const saf_tls_node_counters *k)
{
	const saf_tls_server_counters *s = &k->server;
	const saf_tls_node_stream_counters *q = &k->streams;
	const saf_adm_counters *a = &k->admission;

	fprintf(f,
		"{\"connections\":%zu,\"handshakes_with_support\":%" PRIu64
		",\"tokens_issued\":%" PRIu64 ",\"notifies_sent\":%" PRIu64
		",\"migrations_accepted\":%" PRIu64 ",\"refused\":{",
		k->connections, s->handshakes_with_support, s->tokens_issued,
		s->notifies_sent, s->migrations_accepted);
	for (int r = SAF_TLS_REFUSE_NO_SUPPORT; r < SAF_TLS_REFUSE_COUNT; r++)
		fprintf(f, "\"%s\":%" PRIu64 ",",
			saf_tls_refusal_name((saf_tls_refusal)r),
			s->refused[r]);
	for (int v = SAF_TOKEN_MALFORMED; v < SAF_VERDICT_COUNT; v++)
		fprintf(f, "\"%s\":%" PRIu64 "%s",
			saf_verdict_name((saf_verdict)v), s->refused_verdict[v],
			v + 1 < SAF_VERDICT_COUNT ? "," : "");
	fprintf(f, "}");
	if (k->continuity)
		fprintf(f,
			",\"continuity\":{\"streams\":%zu,\"away\":%zu,"
			"\"opened\":%" PRIu64 ",\"resumed\":%" PRIu64
			",\"unknown\":%" PRIu64 ",\"expired\":%" PRIu64
			",\"finished\":%" PRIu64 ",\"violations\":%" PRIu64 "}",
			q->live, q->away, q->opened, q->resumed, q->unknown,
			q->expired, q->finished, q->violations);
	fprintf(f,
		",\"admission\":{\"handshaking\":%zu,\"open\":%zu,"
		"\"streams\":%zu,\"sources\":%zu,\"handshake_timeouts\":"
		"%" PRIu64 ",\"idle_timeouts\":%" PRIu64
		",\"per_source_refused\":%" PRIu64 ",\"evicted\":%" PRIu64
		",\"full_refused\":%" PRIu64 "}",
		a->handshaking, a->open, a->streams, a->sources,
		a->handshake_timeouts, a->idle_timeouts, a->per_source_refused,
		a->evicted, a->full_refused);
	fprintf(f, "}\n");
}

void saf_tls_node_counters_prometheus(FILE *f, const saf_tls_node_counters *n)
{
	const saf_tls_server_counters *k = &n->server;
	const saf_tls_node_stream_counters *q = &n->streams;
	const saf_adm_counters *a = &n->admission;
	fprintf(f,
		"# TYPE saf_tls_server_connections gauge\n"
		"saf_tls_server_connections %zu\n"
		"# TYPE saf_tls_server_handshakes_with_support_total counter\n"
		"saf_tls_server_handshakes_with_support_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_tokens_issued_total counter\n"
		"saf_tls_server_tokens_issued_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_notifies_sent_total counter\n"
		"saf_tls_server_notifies_sent_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_migrations_accepted_total counter\n"
		"saf_tls_server_migrations_accepted_total %" PRIu64 "\n"
		"# TYPE saf_tls_server_migrations_refused_total counter\n",
		n->connections, k->handshakes_with_support, k->tokens_issued,
		k->notifies_sent, k->migrations_accepted);
	for (int r = SAF_TLS_REFUSE_NO_SUPPORT; r < SAF_TLS_REFUSE_COUNT; r++)
		fprintf(f,
			"saf_tls_server_migrations_refused_total{reason=\"%s\"}"
			" %" PRIu64 "\n",
			saf_tls_refusal_name((saf_tls_refusal)r),
			k->refused[r]);
	for (int v = SAF_TOKEN_MALFORMED; v < SAF_VERDICT_COUNT; v++)
		fprintf(f,
			"saf_tls_server_migrations_refused_total{reason=\"%s\"}"
			" %" PRIu64 "\n",
			saf_verdict_name((saf_verdict)v),
			k->refused_verdict[v]);
	if (n->continuity)
		fprintf(f,
			"# TYPE saf_tls_server_streams gauge\n"
			"saf_tls_server_streams{state=\"attached\"} %zu\n"
			"saf_tls_server_streams{state=\"away\"} %zu\n"
			"# TYPE saf_tls_server_stream_events_total counter\n"
			"saf_tls_server_stream_events_total{event=\"opened\"} "
			"%" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"resumed\"} "
			"%" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"unknown\"} "
			"%" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"expired\"} "
			"%" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event=\"finished\"}"
			" %" PRIu64 "\n"
			"saf_tls_server_stream_events_total{event="
			"\"violation\"} %" PRIu64 "\n",
			q->live - q->away, q->away, q->opened, q->resumed,
			q->unknown, q->expired, q->finished, q->violations);
	fprintf(f,
		"# TYPE saf_tls_server_connections_by_state gauge\n"
		"saf_tls_server_connections_by_state{state=\"handshake\"} %zu\n"
		"saf_tls_server_connections_by_state{state=\"open\"} %zu\n"
		"saf_tls_server_connections_by_state{state=\"stream\"} %zu\n"
		"# TYPE saf_tls_server_sources gauge\n"
		"saf_tls_server_sources %zu\n"
		"# TYPE saf_tls_server_admission_total counter\n"
		"saf_tls_server_admission_total{event=\"handshake_timeout\"} "
		"%" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"idle_timeout\"} "
		"%" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"per_source_refused\"} "
		"%" PRIu64 "\n"
		"saf_tls_server_admission_total{event=\"evicted\"} %" PRIu64
		"\n"
		"saf_tls_server_admission_total{event=\"full_refused\"} "
		"%" PRIu64 "\n",
		a->handshaking, a->open, a->streams, a->sources,
		a->handshake_timeouts, a->idle_timeouts, a->per_source_refused,
		a->evicted, a->full_refused);
}
