/* SPDX-License-Identifier: MIT */
/*
 * Scores and the decision, with the clock passed in so tests drive time.
 *
 * score = w.compute * (1 - load) * capacity
 *       + w.network * delay_ref / (delay_ref + delay)
 *
 * in the spirit of IETF CATS metrics: both terms are normalised to 0..1.
 * A node is "in" while it reports, says it is available, and its last
 * report is younger than node_timeout. Hysteresis: the choice moves only
 * when the best node beats the current one by min_improvement and the last
 * change is at least min_dwell old, unless the current node is out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "saf/sched.h"

saf_sched_config saf_sched_config_default(void)
{
	return (saf_sched_config){
		.score = SAF_SCHED_SCORE_L2,
		.cats = saf_cats_config_default(),
		.w = {.compute = 0.7, .network = 0.3, .delay_ref_ms = 10.0},
		.min_dwell_ms = 2000,
		.min_improvement = 0.05,
		.node_timeout_ms = 1500,
		.report_window_ms = 5000,
		.multipath = false,
	};
}

void saf_sched_init(saf_sched *s, const saf_sched_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg ? *cfg : saf_sched_config_default();
	s->current = -1;
}

int saf_sched_add_node(saf_sched *s, const char *spec, saf_error *err)
{
	char buf[160], *eq, *comma;
	saf_sched_node n = {0};

	if (s->n_nodes >= SAF_SCHED_MAX_NODES)
		return saf_fail(err, SAF_E_RANGE, "at most %u nodes",
				SAF_SCHED_MAX_NODES);
	if (strlen(spec) >= sizeof(buf))
		return saf_fail(err, SAF_E_FORMAT, "node '%s': too long", spec);
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	if (!eq || eq == buf || eq - buf > (long)SAF_SCHED_NAME_MAX)
		return saf_fail(err, SAF_E_FORMAT,
				"node '%s': expected NAME=NEXTHOP4[,NEXTHOP6] "
				"(name 1..%u characters)",
				spec, SAF_SCHED_NAME_MAX);
	*eq = '\0';
	memcpy(n.name, buf, (size_t)(eq - buf) + 1);
	if (saf_sched_find(s, n.name))
		return saf_fail(err, SAF_E_INVAL, "node '%s' given twice",
				n.name);
	for (char *hop = eq + 1; hop; hop = comma) {
		saf_addr a;

		comma = strchr(hop, ',');
		if (comma)
			*comma++ = '\0';
		if (saf_addr_parse(hop, false, &a, err))
			return -1;
		saf_addr *slot = a.family == 4 ? &n.nexthop4 : &n.nexthop6;
		if (slot->family)
			return saf_fail(err, SAF_E_INVAL,
					"node '%s': two IPv%u next hops",
					n.name, a.family);
		*slot = a;
	}
	n.delay_ms = -1;
	s->nodes[s->n_nodes++] = n;
	return 0;
}

saf_sched_node *saf_sched_find(saf_sched *s, const char *name)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}

int saf_sched_set_keys(saf_sched *s, const saf_sched_keyring *kr,
		       saf_error *err)
{
	for (size_t i = 0; i < s->n_nodes; i++) {
		saf_sched_node *n = &s->nodes[i];
		size_t k = 0;

		while (k < kr->n && strcmp(kr->e[k].name, n->name) != 0)
			k++;
		if (k == kr->n)
			return saf_fail(err, SAF_E_INVAL,
					"node '%s' has no key in the key file "
					"(add a line '%s KEY')",
					n->name, n->name);
		memcpy(n->key, kr->e[k].key, SAF_SCHED_KEY_LEN);
		n->keyed = true;
	}
	return 0;
}

saf_sched_node *saf_sched_on_report(saf_sched *s, const saf_sched_msg *m,
				    uint64_t now_ms, uint64_t wall_ms)
{
	saf_sched_node *n = saf_sched_find(s, m->node);
	uint64_t win = s->cfg.report_window_ms;

	if (!n) {
		s->ctr.unknown_node++;
		return NULL;
	}
	/* Freshness by the agent's wall clock against R1's: a report held
	 * back longer than the window is refused, and so is one stamped
	 * before R1 started, which was captured before a restart (the
	 * sequence numbers below are R1's memory and a restart loses it). */
	bool old = m->stamp < wall_ms && wall_ms - m->stamp > win;
	bool ahead = m->stamp > wall_ms && m->stamp - wall_ms > win;

	if (old || ahead || m->stamp < s->wall_start_ms) {
		s->ctr.stale++;
		return NULL;
	}
	/* A captured report sent again must not keep a dead node alive. */
	if (n->reported && m->seq <= n->last_seq) {
		s->ctr.replayed++;
		return NULL;
	}
	n->reported = true;
	n->last_seq = m->seq;
	n->last_report_ms = now_ms;
	n->load = m->load;
	n->capacity = m->capacity;
	n->available = m->available;
	n->mem = m->mem;
	n->conns = m->conns;
	n->statistics = m->statistics;
	n->window_ms = m->window_ms;
	s->ctr.reports++;
	return n;
}

int saf_sched_on_datagram(saf_sched *s, const uint8_t *buf, size_t len,
			  uint64_t now_ms, uint64_t wall_ms, saf_sched_msg *out,
			  saf_sched_node **node)
{
	saf_sched_node *n;
	saf_sched_msg m;
	saf_error err;

	*node = NULL;
	if (saf_sched_msg_parse(buf, len, &m, &err) ||
	    m.type == SAF_SCHED_PROBE) {
		/* An agent not yet upgraded gets its own counter, so the
		 * cause is visible in the metrics. */
		if (len > 4 && memcmp(buf, SAF_SCHED_MAGIC, 4) == 0 &&
		    buf[4] < SAF_SCHED_VERSION)
			s->ctr.old_version++;
		else
			s->ctr.malformed++;
		return -1;
	}
	/* The name is not trusted yet: it only picks the key, and only that
	 * node's key can verify. One node's key cannot speak for another. */
	n = saf_sched_find(s, m.node);
	if (!n || !n->keyed) {
		s->ctr.unknown_node++;
		return -1;
	}
	if (saf_sched_msg_verify(buf, len, n->key, &err)) {
		s->ctr.forged++;
		return -1;
	}
	*node = m.type == SAF_SCHED_REPORT
			? saf_sched_on_report(s, &m, now_ms, wall_ms)
			: n;
	*out = m;
	return 0;
}

void saf_sched_on_rtt(saf_sched *s, saf_sched_node *n, double rtt_ms)
{
	double one_way = rtt_ms / 2.0;

	s->ctr.echoes++;
	/* EWMA as TCP's SRTT (RFC 6298, alpha = 1/8). */
	n->delay_ms = n->delay_ms < 0
			      ? one_way
			      : n->delay_ms + (one_way - n->delay_ms) / 8.0;
}

static double legacy_score(const saf_sched_config *c, const saf_sched_node *n)
{
	double compute = (1.0 - n->load / 1000.0) * (n->capacity / 1000.0);
	double delay = n->delay_ms < 0 ? c->w.delay_ref_ms : n->delay_ms;
	double network = c->w.delay_ref_ms / (c->w.delay_ref_ms + delay);

	return c->w.compute * compute + c->w.network * network;
}

/* Both modes give 0..1; L2 in steps of 0.1 (norm_fi / 10). The CATS
 * levels are kept either way for the status and metrics. */
static double score_of(const saf_sched_config *c, saf_sched_node *n)
{
	saf_sched_msg m = {.load = n->load,
			   .capacity = n->capacity,
			   .mem = n->mem,
			   .conns = n->conns,
			   .statistics = n->statistics,
			   .window_ms = n->window_ms};
	saf_cats_l0 l0 = saf_sched_msg_l0(&m, n->delay_ms);

	n->l1 = saf_cats_level1(&c->cats, &l0);
	n->l2 = saf_cats_level2(&c->cats, &n->l1);
	if (c->score == SAF_SCHED_SCORE_LEGACY)
		return legacy_score(c, n);
	return n->l2.norm_fi / (double)SAF_CATS_MAX;
}

static bool decide_single(saf_sched *s, uint64_t now_ms)
{
	int best = -1;

	for (size_t i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].in &&
		    (best < 0 || s->nodes[i].score > s->nodes[best].score))
			best = (int)i;
	if (best < 0 || best == s->current)
		return false;
	bool current_in = s->current >= 0 && s->nodes[s->current].in;
	/* Just started with a choice read back from the kernel: give its
	 * node one timeout to report before moving S away from it. */
	if (s->current >= 0 && !s->nodes[s->current].reported &&
	    now_ms - s->started_ms < s->cfg.node_timeout_ms)
		return false;
	if (current_in) {
		double gain = s->nodes[best].score - s->nodes[s->current].score;

		if (gain < s->cfg.min_improvement)
			return false;
		if (now_ms - s->last_change_ms < s->cfg.min_dwell_ms)
			return false;
	}
	s->current = best;
	return true;
}

static bool decide_multipath(saf_sched *s, uint64_t now_ms)
{
	unsigned want[SAF_SCHED_MAX_NODES] = {0};
	double top = 0;
	bool changed = false, set_changed = false;
	int first = -1;

	for (size_t i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].in && s->nodes[i].score > top)
			top = s->nodes[i].score;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const saf_sched_node *n = &s->nodes[i];

		if (!n->in || top <= 0)
			continue;
		/* Weights 1..16 relative to the best node: coarse on purpose,
		 * so small score noise does not reprogram the route. */
		long w = lround(16.0 * n->score / top);
		want[i] = (unsigned)(w < 1 ? 1 : w);
		if (first < 0)
			first = (int)i;
	}
	for (size_t i = 0; i < s->n_nodes; i++) {
		if ((want[i] == 0) != (s->nodes[i].weight == 0))
			set_changed = true;
		if (want[i] != s->nodes[i].weight)
			changed = true;
	}
	if (!changed)
		return false;
	/* A change of weights alone waits out the dwell time; a change of
	 * the set (a node out or back) cannot wait. */
	if (!set_changed && now_ms - s->last_change_ms < s->cfg.min_dwell_ms)
		return false;
	for (size_t i = 0; i < s->n_nodes; i++)
		s->nodes[i].weight = want[i];
	s->current = first;
	return true;
}

bool saf_sched_decide(saf_sched *s, uint64_t now_ms)
{
	bool changed;

	if (!s->started) {
		s->started = true;
		s->started_ms = now_ms;
	}
	for (size_t i = 0; i < s->n_nodes; i++) {
		saf_sched_node *n = &s->nodes[i];
		bool fresh = n->reported && now_ms - n->last_report_ms <
						    s->cfg.node_timeout_ms;
		bool in = fresh && n->available && n->capacity > 0;

		if (n->in && !fresh)
			s->ctr.node_timeouts++;
		if (!n->in && in && n->ever_in)
			s->ctr.node_returns++;
		n->in = in;
		n->ever_in |= in;
		n->score = in ? score_of(&s->cfg, n) : 0.0;
	}
	changed = s->cfg.multipath ? decide_multipath(s, now_ms)
				   : decide_single(s, now_ms);
	if (changed) {
		s->last_change_ms = now_ms;
		s->route_dirty = true;
	}
	return changed || s->route_dirty;
}
