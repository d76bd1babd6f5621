/* SPDX-License-Identifier: MIT */
/*
 * The client's affinity cache: S:port -> unicast:port for a while, so a
 * repeat connection goes straight to the node. A small fixed array with a
 * TTL; when full the oldest entry goes. Bounded by construction.
 */
#include <stdlib.h>

#include "saf/tcp.h"

typedef struct entry {
	saf_addr service, target;
	uint64_t stored_ms;
	bool used;
} entry;

struct saf_affinity_cache {
	size_t n;
	uint64_t ttl_ms;
	entry e[];
};

saf_affinity_cache *saf_affinity_cache_new(size_t entries, uint64_t ttl_ms,
					   saf_error *err)
{
	saf_affinity_cache *c;

	if (entries == 0 || entries > 65536) {
		saf_fail(err, SAF_E_INVAL,
			 "affinity cache size %zu outside 1..65536", entries);
		return NULL;
	}
	c = calloc(1, sizeof(*c) + entries * sizeof(entry));
	if (!c) {
		saf_fail(err, SAF_E_NOMEM, "affinity cache: out of memory");
		return NULL;
	}
	c->n = entries;
	c->ttl_ms = ttl_ms;
	return c;
}

void saf_affinity_cache_free(saf_affinity_cache *c)
{
	free(c);
}

static entry *find(saf_affinity_cache *c, const saf_addr *service)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].used && saf_addr_equal(&c->e[i].service, service))
			return &c->e[i];
	return NULL;
}

bool saf_affinity_cache_get(saf_affinity_cache *c, const saf_addr *service,
			    uint64_t now_ms, saf_addr *target)
{
	entry *e = find(c, service);

	if (!e)
		return false;
	if (now_ms - e->stored_ms >= c->ttl_ms) {
		e->used = false;
		return false;
	}
	*target = e->target;
	return true;
}

void saf_affinity_cache_put(saf_affinity_cache *c, const saf_addr *service,
			    const saf_addr *target, uint64_t now_ms)
{
	entry *e = find(c, service);

	if (!e) {
		e = &c->e[0];
		for (size_t i = 0; i < c->n; i++) {
			if (!c->e[i].used) {
				e = &c->e[i];
				break;
			}
			if (c->e[i].stored_ms < e->stored_ms)
				e = &c->e[i];
		}
	}
	*e = (entry){ .service = *service,
		      .target = *target,
		      .stored_ms = now_ms,
		      .used = true };
}

void saf_affinity_cache_forget(saf_affinity_cache *c, const saf_addr *service)
{
	entry *e = find(c, service);

	if (e)
		e->used = false;
}
