/* SPDX-License-Identifier: MIT */
/*
 * Admission control for a node's client connections (include/saf/
 * admission.h): slot records with deadlines, a bounded per-source table,
 * and the eviction policy that keeps accept alive when every slot is
 * taken. No I/O and no clock of its own.
 */
#include "saf/admission.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto/siphash.h"

/* family byte, then the IPv4 address or the IPv6 /64 */
#define SRC_KEY_LEN (1u + SAF_ADM_V6_PREFIX_BYTES)

typedef struct adm_slot {
	saf_adm_state state;
	bool spoke;	   /* in its handshake: the peer sent its hello */
	uint64_t since_ms; /* handshake start, or last activity */
	uint8_t key[SRC_KEY_LEN];
} adm_slot;

typedef struct adm_src {
	unsigned count; /* 0: empty bucket */
	uint8_t key[SRC_KEY_LEN];
} adm_src;

struct saf_adm {
	saf_adm_config cfg;
	adm_slot *slot;
	unsigned *free_stack, nfree;
	adm_src *src;
	size_t src_mask; /* buckets - 1 (a power of two) */
	saf_adm_counters k;
};

void saf_adm_config_init(saf_adm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 256;
	cfg->max_per_source = SAF_ADM_PER_SOURCE_DEFAULT;
	cfg->handshake_ms = SAF_ADM_HANDSHAKE_MS_DEFAULT;
	cfg->idle_ms = SAF_ADM_IDLE_S_DEFAULT * 1000u;
	cfg->evict_quiet_ms = SAF_ADM_EVICT_QUIET_MS;
}

saf_adm *saf_adm_new(const saf_adm_config *cfg, saf_error *err)
{
	saf_adm *a;
	size_t buckets = 1;

	if (cfg->max_conns == 0 || cfg->max_conns > SAF_ADM_MAX_CONNS) {
		saf_fail(err, SAF_E_RANGE,
			 "admission: max_conns %u outside 1..%u",
			 cfg->max_conns, SAF_ADM_MAX_CONNS);
		return NULL;
	}
	if (cfg->handshake_ms == 0) {
		saf_fail(err, SAF_E_RANGE,
			 "admission: a handshake deadline of 0 ms");
		return NULL;
	}
	/* Every live source holds at least one slot: at most max_conns
	 * sources, so the table is never more than half full. */
	while (buckets < 2u * (size_t)cfg->max_conns)
		buckets <<= 1;
	a = calloc(1, sizeof(*a));
	if (a) {
		a->slot = calloc(cfg->max_conns, sizeof(*a->slot));
		a->free_stack = calloc(cfg->max_conns, sizeof(unsigned));
		a->src = calloc(buckets, sizeof(*a->src));
	}
	if (!a || !a->slot || !a->free_stack || !a->src) {
		saf_adm_free(a);
		saf_fail(err, SAF_E_NOMEM, "admission: out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	a->src_mask = buckets - 1u;
	/* Lowest slots first (popped from the top). */
	for (unsigned i = 0; i < cfg->max_conns; i++)
		a->free_stack[i] = cfg->max_conns - 1u - i;
	a->nfree = cfg->max_conns;
	return a;
}

void saf_adm_free(saf_adm *a)
{
	if (!a)
		return;
	free(a->slot);
	free(a->free_stack);
	free(a->src);
	free(a);
}

const char *saf_adm_verdict_name(saf_adm_verdict v)
{
	switch (v) {
	case SAF_ADM_ACCEPT:
		return "accept";
	case SAF_ADM_EVICT:
		return "evict";
	case SAF_ADM_REFUSE_SOURCE:
		return "per_source_refused";
	case SAF_ADM_REFUSE_FULL:
		return "full_refused";
	}
	return "?";
}

static void src_key(const saf_addr *a, uint8_t key[SRC_KEY_LEN])
{
	memset(key, 0, SRC_KEY_LEN);
	key[0] = a->family;
	memcpy(key + 1, a->bytes,
	       a->family == 4 ? SAF_IPV4_LEN : SAF_ADM_V6_PREFIX_BYTES);
}

/* The bucket holding key, or the empty one where it would go. */
static size_t src_find(const saf_adm *a, const uint8_t key[SRC_KEY_LEN])
{
	size_t i = (size_t)saf_siphash24(a->cfg.hash_key, key, SRC_KEY_LEN) &
		   a->src_mask;

	while (a->src[i].count && memcmp(a->src[i].key, key, SRC_KEY_LEN) != 0)
		i = (i + 1u) & a->src_mask;
	return i;
}

/* Linear probing, deletion by backward shift: no tombstones, so the
 * table never fills with dead buckets. */
static void src_remove(saf_adm *a, size_t hole)
{
	size_t j = hole;

	for (;;) {
		size_t home;

		j = (j + 1u) & a->src_mask;
		if (!a->src[j].count)
			break;
		home = (size_t)saf_siphash24(a->cfg.hash_key, a->src[j].key,
					     SRC_KEY_LEN) &
		       a->src_mask;
		/* Stays if its home lies cyclically in (hole, j]. */
		if (((j - home) & a->src_mask) < ((j - hole) & a->src_mask))
			continue;
		a->src[hole] = a->src[j];
		hole = j;
	}
	memset(&a->src[hole], 0, sizeof(a->src[hole]));
	a->k.sources--;
}

void saf_adm_release(saf_adm *a, unsigned slot)
{
	adm_slot *s;
	size_t b;

	if (slot >= a->cfg.max_conns || a->slot[slot].state == SAF_ADM_FREE)
		return;
	s = &a->slot[slot];
	b = src_find(a, s->key);
	if (a->src[b].count && --a->src[b].count == 0)
		src_remove(a, b);
	if (s->state == SAF_ADM_HANDSHAKE)
		a->k.handshaking--;
	else if (s->state == SAF_ADM_OPEN)
		a->k.open--;
	else
		a->k.streams--;
	memset(s, 0, sizeof(*s));
	a->free_stack[a->nfree++] = slot;
}

static uint64_t elapsed(uint64_t since, uint64_t now)
{
	return now > since ? now - since : 0; /* a clock that went back */
}

/* Whether slot i is a better victim than the best so far (n: none). */
static bool older(const saf_adm *a, unsigned i, unsigned best)
{
	return best == a->cfg.max_conns ||
	       a->slot[i].since_ms < a->slot[best].since_ms;
}

/* The slot to take when all are full: the oldest silent handshake (a
 * peer that never sent a hello costs nothing to drop and is what a flood
 * of idle peers looks like), else the oldest handshake, else the
 * stream-less connection quiet longest (at least evict_quiet_ms).
 * max_conns when there is none. */
static unsigned victim(const saf_adm *a, uint64_t now_ms)
{
	unsigned n = a->cfg.max_conns, silent = n, hs = n, open = n;

	for (unsigned i = 0; i < n; i++) {
		const adm_slot *s = &a->slot[i];

		if (s->state == SAF_ADM_HANDSHAKE && !s->spoke) {
			if (older(a, i, silent))
				silent = i;
		} else if (s->state == SAF_ADM_HANDSHAKE) {
			if (older(a, i, hs))
				hs = i;
		} else if (s->state == SAF_ADM_OPEN &&
			   elapsed(s->since_ms, now_ms) >=
				   a->cfg.evict_quiet_ms &&
			   older(a, i, open)) {
			open = i;
		}
	}
	return silent < n ? silent : hs < n ? hs : open;
}

saf_adm_verdict saf_adm_admit(saf_adm *a, const saf_addr *src, uint64_t now_ms,
			      unsigned *slot)
{
	saf_adm_verdict v = SAF_ADM_ACCEPT;
	uint8_t key[SRC_KEY_LEN];
	size_t b;
	unsigned i;

	src_key(src, key);
	b = src_find(a, key);
	if (a->cfg.max_per_source && a->src[b].count >= a->cfg.max_per_source) {
		a->k.per_source_refused++;
		return SAF_ADM_REFUSE_SOURCE;
	}
	if (a->nfree == 0) {
		i = victim(a, now_ms);
		if (i == a->cfg.max_conns) {
			a->k.full_refused++;
			return SAF_ADM_REFUSE_FULL;
		}
		saf_adm_release(a, i);
		a->k.evicted++;
		v = SAF_ADM_EVICT;
		b = src_find(a, key); /* the release may have moved it */
	}
	i = a->free_stack[--a->nfree];
	if (!a->src[b].count) {
		memcpy(a->src[b].key, key, SRC_KEY_LEN);
		a->k.sources++;
	}
	a->src[b].count++;
	a->slot[i].state = SAF_ADM_HANDSHAKE;
	a->slot[i].spoke = false;
	a->slot[i].since_ms = now_ms;
	memcpy(a->slot[i].key, key, SRC_KEY_LEN);
	a->k.handshaking++;
	*slot = i;
	return v;
}

void saf_adm_established(saf_adm *a, unsigned slot, bool stream,
			 uint64_t now_ms)
{
	adm_slot *s;

	if (slot >= a->cfg.max_conns ||
	    a->slot[slot].state != SAF_ADM_HANDSHAKE)
		return;
	s = &a->slot[slot];
	a->k.handshaking--;
	if (stream) {
		s->state = SAF_ADM_STREAM;
		a->k.streams++;
	} else {
		s->state = SAF_ADM_OPEN;
		a->k.open++;
	}
	s->since_ms = now_ms;
}

void saf_adm_activity(saf_adm *a, unsigned slot, uint64_t now_ms)
{
	adm_slot *s;

	if (slot >= a->cfg.max_conns)
		return;
	s = &a->slot[slot];
	if (s->state == SAF_ADM_HANDSHAKE)
		s->spoke = true; /* its deadline still runs from accept */
	else if (s->state == SAF_ADM_OPEN && now_ms > s->since_ms)
		s->since_ms = now_ms;
}

/* ms left before slot's deadline (0: passed), UINT64_MAX: none. */
static uint64_t left(const saf_adm *a, const adm_slot *s, uint64_t now_ms)
{
	uint64_t bound, e = elapsed(s->since_ms, now_ms);

	if (s->state == SAF_ADM_HANDSHAKE)
		bound = a->cfg.handshake_ms;
	else if (s->state == SAF_ADM_OPEN && a->cfg.idle_ms)
		bound = a->cfg.idle_ms;
	else
		return UINT64_MAX;
	return e >= bound ? 0 : bound - e;
}

saf_adm_expiry saf_adm_check(saf_adm *a, unsigned slot, uint64_t now_ms)
{
	saf_adm_expiry x;

	if (slot >= a->cfg.max_conns || left(a, &a->slot[slot], now_ms))
		return SAF_ADM_KEEP;
	if (a->slot[slot].state == SAF_ADM_HANDSHAKE) {
		x = SAF_ADM_HANDSHAKE_TIMEOUT;
		a->k.handshake_timeouts++;
	} else {
		x = SAF_ADM_IDLE_TIMEOUT;
		a->k.idle_timeouts++;
	}
	saf_adm_release(a, slot);
	return x;
}

uint64_t saf_adm_next_ms(const saf_adm *a, uint64_t now_ms)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < a->cfg.max_conns; i++) {
		uint64_t l = left(a, &a->slot[i], now_ms);

		if (l < best)
			best = l;
	}
	return best;
}

saf_adm_state saf_adm_slot_state(const saf_adm *a, unsigned slot)
{
	return slot < a->cfg.max_conns ? a->slot[slot].state : SAF_ADM_FREE;
}

void saf_adm_counters_get(const saf_adm *a, saf_adm_counters *out)
{
	*out = a->k;
}
