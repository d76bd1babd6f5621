/* SPDX-License-Identifier: MIT */
/*
 * Admission control for a node's client connections (sans-I/O): which
 * connection may take a slot, which one must give its slot up, and when a
 * connection has waited too long. It owns no socket and reads no clock:
 * the caller passes now_ms (CLOCK_MONOTONIC) and closes what it is told
 * to close. `saf tls serve` drives it from its poll loop (docs/tls.md,
 * "Admission").
 *
 * The defence against peers that open TCP connections and send nothing
 * (or stop in the middle of a handshake, or finish it and go quiet):
 *   - a handshake deadline: a connection still in its handshake after
 *     handshake_ms is closed (counted in handshake_timeouts);
 *   - an idle bound: a connection that finished its handshake, has no
 *     continuity stream and moved no application byte for idle_ms is
 *     closed (idle_timeouts). Connections with a stream are exempt: the
 *     stream outlives them by design and ends on its own linger;
 *   - a per-source cap: at most max_per_source live connections per IPv4
 *     address or per IPv6 /64 (per_source_refused);
 *   - accept is never starved: when every slot is taken, the oldest
 *     connection still in its handshake that has not spoken gives its
 *     slot up, else the oldest one in its handshake, else the one
 *     without a stream that has been quiet longest (at least
 *     evict_quiet_ms) (evicted); only when every slot holds a stream or a
 *     connection that moved data recently is the newcomer refused
 *     (full_refused). The caller keeps accepting either way.
 *
 * Memory is fixed at creation: one record per slot and a per-source table
 * of twice as many buckets (open addressing, keyed SipHash so a peer cannot
 * aim its /64s at one bucket). Not thread-safe.
 */
#ifndef SAF_ADMISSION_H
#define SAF_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/error.h"

/* Defaults of `saf tls serve` (docs/tls.md). */
#define SAF_ADM_HANDSHAKE_MS_DEFAULT 5000u
#define SAF_ADM_HANDSHAKE_MS_MIN     100u
#define SAF_ADM_HANDSHAKE_MS_MAX     120000u
#define SAF_ADM_IDLE_S_DEFAULT	     300u
#define SAF_ADM_IDLE_S_MAX	     86400u
#define SAF_ADM_PER_SOURCE_DEFAULT   32u
#define SAF_ADM_EVICT_QUIET_MS	     1000u
#define SAF_ADM_MAX_CONNS	     65536u
/* Sources are counted per IPv4 address and per IPv6 /64 (one host's
 * privacy addresses share their /64). */
#define SAF_ADM_V6_PREFIX_BYTES 8u

typedef struct saf_adm saf_adm;

/* What a slot holds. */
typedef enum saf_adm_state {
	SAF_ADM_FREE = 0,
	SAF_ADM_HANDSHAKE, /* accepted, handshake not finished */
	SAF_ADM_OPEN,	   /* handshake done, no continuity stream */
	SAF_ADM_STREAM,	   /* handshake done, carries a stream */
} saf_adm_state;

typedef struct saf_adm_config {
	unsigned max_conns;	 /* slots: 1..SAF_ADM_MAX_CONNS */
	unsigned max_per_source; /* 0: no per-source cap */
	uint32_t handshake_ms;	 /* > 0 */
	uint32_t idle_ms;	 /* 0: no idle bound */
	uint32_t evict_quiet_ms; /* see above */
	uint64_t hash_key[2];	 /* random (per process) in production */
} saf_adm_config;

/* The defaults above, max_conns 256, a zero hash key. */
void saf_adm_config_init(saf_adm_config *cfg);

/* NULL with *err naming the bad field, or out of memory. */
saf_adm *saf_adm_new(const saf_adm_config *cfg, saf_error *err);
void saf_adm_free(saf_adm *a);

typedef enum saf_adm_verdict {
	SAF_ADM_ACCEPT = 0,    /* *slot was free; it is now the newcomer's */
	SAF_ADM_EVICT,	       /* *slot held a connection: close it, then
				* put the newcomer there (counted) */
	SAF_ADM_REFUSE_SOURCE, /* its source is at the cap: close it */
	SAF_ADM_REFUSE_FULL,   /* no slot can be freed: close it */
} saf_adm_verdict;

const char *saf_adm_verdict_name(saf_adm_verdict v);

/* A new connection from src. On ACCEPT and EVICT *slot (< max_conns) is
 * the newcomer's, in its handshake since now_ms. */
saf_adm_verdict saf_adm_admit(saf_adm *a, const saf_addr *src, uint64_t now_ms,
			      unsigned *slot);

/* The handshake of slot finished at now_ms; stream: it carries a
 * continuity stream (never timed out nor evicted from here on). */
void saf_adm_established(saf_adm *a, unsigned slot, bool stream,
			 uint64_t now_ms);
/* slot showed life at now_ms: in its handshake, the peer spoke (a
 * ClientHello came), so silent handshakes are evicted before it; after
 * it, application data moved (resets the idle bound). */
void saf_adm_activity(saf_adm *a, unsigned slot, uint64_t now_ms);
/* slot's connection closed for any other reason. Idempotent. */
void saf_adm_release(saf_adm *a, unsigned slot);

typedef enum saf_adm_expiry {
	SAF_ADM_KEEP = 0,
	SAF_ADM_HANDSHAKE_TIMEOUT, /* close it; already released, counted */
	SAF_ADM_IDLE_TIMEOUT,	   /* close it; already released, counted */
} saf_adm_expiry;

/* Whether slot's deadline has passed at now_ms. */
saf_adm_expiry saf_adm_check(saf_adm *a, unsigned slot, uint64_t now_ms);

/* Milliseconds from now_ms to the earliest deadline (0: one has passed),
 * UINT64_MAX when there is none: a bound for the caller's poll timeout. */
uint64_t saf_adm_next_ms(const saf_adm *a, uint64_t now_ms);

typedef struct saf_adm_counters {
	size_t handshaking, open, streams; /* live, by state */
	size_t sources;			   /* distinct sources live */
	uint64_t handshake_timeouts, idle_timeouts;
	uint64_t per_source_refused, evicted, full_refused;
} saf_adm_counters;

saf_adm_state saf_adm_slot_state(const saf_adm *a, unsigned slot);
void saf_adm_counters_get(const saf_adm *a, saf_adm_counters *out);

#endif /* SAF_ADMISSION_H */
