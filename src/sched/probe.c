/* SPDX-License-Identifier: MIT */
/*
 * R1's delay probes and their echoes. An echo counts only when it answers
 * a probe R1 sent and still remembers: signed with the probed node's key,
 * from the address the probe went to, carrying that probe's random nonce.
 * The probe is forgotten when answered, so the same echo again (replayed)
 * and an echo nobody asked for are dropped and counted. The round trip is
 * measured from R1's own record of the send time, never from a time the
 * echo carries. Memory: SAF_SCHED_PROBES_OUT slots per node.
 */
#include <string.h>

#include "saf/sched.h"

int saf_sched_probe(saf_sched *s, saf_sched_node *n, uint64_t nonce,
		    uint64_t now_ns, uint8_t *buf, size_t cap, size_t *len,
		    saf_error *err)
{
	saf_sched_msg p = {.type = SAF_SCHED_PROBE,
			   .seq = s->ctr.probes_sent + 1,
			   .stamp = now_ns,
			   .nonce = nonce};
	unsigned slot = n->probe_next % SAF_SCHED_PROBES_OUT;

	if (!n->keyed)
		return saf_fail(err, SAF_E_INVAL, "node %s has no key",
				n->name);
	if (saf_sched_msg_encode(&p, n->key, buf, cap, len, err))
		return -1;
	/* The oldest slot goes: with probes every 200 ms and a 2 s TTL, an
	 * echo later than SAF_SCHED_PROBES_OUT probes is dropped anyway. */
	n->probes[slot].nonce = nonce;
	n->probes[slot].sent_ns = now_ns ? now_ns : 1;
	n->probe_next = slot + 1;
	return 0;
}

bool saf_sched_on_echo(saf_sched *s, saf_sched_node *n, const saf_sched_msg *m,
		       bool from_probed, uint64_t now_ns)
{
	const uint64_t ttl_ns = (uint64_t)SAF_SCHED_PROBE_TTL_MS * 1000000u;

	if (!from_probed) {
		s->ctr.echo_wrong_source++;
		return false;
	}
	for (unsigned i = 0; i < SAF_SCHED_PROBES_OUT; i++) {
		uint64_t sent = n->probes[i].sent_ns;

		if (sent == 0 || n->probes[i].nonce != m->nonce)
			continue;
		n->probes[i].sent_ns = 0; /* answered: a replay finds nothing */
		if (now_ns < sent || now_ns - sent > ttl_ns)
			break;
		saf_sched_on_rtt(s, n, (double)(now_ns - sent) / 1e6);
		return true;
	}
	s->ctr.echo_unsolicited++;
	return false;
}
