/* SPDX-License-Identifier: MIT */
/*
 * What a node or a scheduler announces for S, and the driver that keeps a
 * speaker announcing it: restarted when it dies, told only what changed.
 */
#include <stdio.h>
#include <string.h>

#include "saf/bgp.h"

size_t saf_bgp_node_routes(const saf_bgp_steer_cfg *c, unsigned score,
			   saf_bgp_route out[2])
{
	size_t n = 0;

	if (score > SAF_BGP_SCORE_MAX)
		score = SAF_BGP_SCORE_MAX;
	for (size_t i = 0; i < c->n_anycast && n < 2; i++) {
		for (size_t j = 0; j < c->n_nexthop; j++) {
			if (c->nexthop[j].family != c->anycast[i].family)
				continue;
			saf_bgp_route r = {
				.prefix = c->anycast[i],
				.nexthop = c->nexthop[j],
				.has_med = true,
				.med = SAF_BGP_SCORE_MAX - score,
				.has_local_pref = true,
				.local_pref = SAF_BGP_LP_NODE,
				.has_community = true,
				.community = ((c->as & 0xffffu) << 16) | score,
			};
			if (c->link_bw) {
				r.has_link_bw = true;
				r.link_bw_as = (uint16_t)c->as;
				/* a node at score 0 still carries a little
				 * traffic when it is the only one left */
				r.link_bw = (float)(score ? score : 1) *
					    SAF_BGP_LBW_PER_POINT;
			}
			out[n++] = r;
			break;
		}
	}
	return n;
}

void saf_bgp_sched_route(const saf_addr *anycast, const saf_addr *nexthop,
			 uint32_t local_pref, saf_bgp_route *out)
{
	*out = (saf_bgp_route){
		.prefix = *anycast,
		.nexthop = *nexthop,
		.has_local_pref = true,
		.local_pref = local_pref,
	};
}

void saf_bgp_driver_init(saf_bgp_driver *d, const saf_bgp_speaker_cfg *c)
{
	memset(d, 0, sizeof(*d));
	d->cfg = *c;
}

static bool route_eq(const saf_bgp_route *a, const saf_bgp_route *b)
{
	return saf_addr_equal_ip(&a->prefix, &b->prefix) &&
	       saf_addr_equal_ip(&a->nexthop, &b->nexthop) &&
	       a->has_med == b->has_med && a->med == b->med &&
	       a->has_local_pref == b->has_local_pref &&
	       a->local_pref == b->local_pref &&
	       a->has_link_bw == b->has_link_bw && a->link_bw == b->link_bw &&
	       a->has_community == b->has_community &&
	       a->community == b->community;
}

static int send_route(saf_bgp_driver *d, const saf_bgp_route *r, bool announce,
		      saf_error *err)
{
	char line[SAF_BGP_LINE_MAX];
	size_t len;

	if ((announce ? saf_exabgp_announce : saf_exabgp_withdraw)(
		    r, line, sizeof(line), &len, err) ||
	    saf_bgp_speaker_send(d->sp, line, len, err))
		return -1;
	if (announce)
		d->announcements++;
	else
		d->withdrawals++;
	return 0;
}

/* Sends what differs between sent and want; afterwards sent == want. */
static int sync_routes(saf_bgp_driver *d, saf_error *err)
{
	for (size_t i = 0; i < d->n_sent; i++) {
		bool kept = false;

		/* a route for the same prefix replaces it: an announcement
		 * with a new next hop is an implicit withdrawal */
		for (size_t j = 0; j < d->n_want && !kept; j++)
			kept = saf_addr_equal_ip(&d->sent[i].prefix,
						 &d->want[j].prefix) &&
			       saf_addr_equal_ip(&d->sent[i].nexthop,
						 &d->want[j].nexthop);
		if (!kept && send_route(d, &d->sent[i], false, err))
			return -1;
	}
	for (size_t j = 0; j < d->n_want; j++) {
		bool same = false;

		for (size_t i = 0; i < d->n_sent && !same; i++)
			same = route_eq(&d->sent[i], &d->want[j]);
		if (!same && send_route(d, &d->want[j], true, err))
			return -1;
	}
	memcpy(d->sent, d->want, sizeof(d->want));
	d->n_sent = d->n_want;
	return 0;
}

int saf_bgp_driver_set(saf_bgp_driver *d, const saf_bgp_route *r, size_t n,
		       uint64_t now_ms, saf_error *err)
{
	if (n > sizeof(d->want) / sizeof(d->want[0]))
		return saf_fail(err, SAF_E_RANGE,
				"bgp driver: %zu routes, at most 4", n);
	memcpy(d->want, r, n * sizeof(*r));
	d->n_want = n;
	if (!d->sp)
		saf_bgp_driver_tick(d, now_ms); /* first start */
	if (!d->sp)
		return 0; /* announced when the speaker is back */
	if (sync_routes(d, err)) {
		d->errors++;
		return -1;
	}
	return 0;
}

static void log_msg(const saf_bgp_driver *d, const saf_exabgp_msg *m)
{
	char a[SAF_ADDR_STR_LEN];

	if (d->quiet)
		return;
	if (m->type == SAF_EXABGP_UP)
		fprintf(stderr, "saf: bgp: session with %s up\n",
			saf_addr_format(&m->peer, a));
	else if (m->type == SAF_EXABGP_DOWN)
		fprintf(stderr, "saf: bgp: session with %s down: %s\n",
			saf_addr_format(&m->peer, a), m->reason);
	else if (m->type == SAF_EXABGP_ERROR)
		fprintf(stderr, "saf: bgp: the speaker refused a command\n");
}

void saf_bgp_driver_tick(saf_bgp_driver *d, uint64_t now_ms)
{
	saf_exabgp_msg m;
	saf_error err;

	if (d->sp) {
		pid_t pid = saf_bgp_speaker_pid(d->sp);

		while (saf_bgp_speaker_next(d->sp, &m, &d->bad_lines) == 1) {
			log_msg(d, &m);
			if (m.type == SAF_EXABGP_UP)
				d->peers_up++;
			else if (m.type == SAF_EXABGP_DOWN && d->peers_up)
				d->peers_up--;
			else if (m.type == SAF_EXABGP_ERROR)
				d->errors++;
		}
		if (saf_bgp_speaker_alive(d->sp))
			return;
		if (!d->quiet)
			fprintf(stderr,
				"saf: bgp: the speaker (pid %d) died; "
				"restarting "
				"it in %u ms\n",
				(int)pid, SAF_BGP_RESPAWN_MS);
		saf_bgp_speaker_stop(d->sp);
		d->sp = NULL;
		d->peers_up = 0;
		d->dead_since_ms = now_ms ? now_ms : 1;
	}
	if (d->dead_since_ms && now_ms - d->dead_since_ms < SAF_BGP_RESPAWN_MS)
		return;
	d->sp = saf_bgp_speaker_start(&d->cfg, &err);
	if (!d->sp) {
		if (!d->quiet)
			fprintf(stderr, "saf: bgp: %s\n", err.msg);
		d->dead_since_ms = now_ms ? now_ms : 1;
		return;
	}
	d->starts++;
	d->dead_since_ms = 0;
	d->n_sent = 0; /* a new speaker has announced nothing */
	if (sync_routes(d, &err)) {
		d->errors++;
		if (!d->quiet)
			fprintf(stderr, "saf: bgp: %s\n", err.msg);
	}
}

void saf_bgp_driver_stop(saf_bgp_driver *d)
{
	saf_bgp_speaker_stop(d->sp);
	d->sp = NULL;
}
