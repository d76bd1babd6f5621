/* SPDX-License-Identifier: MIT */
/*
 * TCP variant (SPEC section 2): attaching the eBPF sock_ops programs, and
 * the client library that follows an advert to the node's unicast address.
 *
 * Programs and maps are pinned in a bpffs folder (default SAF_TCP_PIN_DIR,
 * overridable by SAF_BPF_PIN_DIR) so the loader can exit. The default lives
 * under /run rather than /sys/fs/bpf because `ip netns exec` remounts /sys:
 * clients inside a namespace must still find the pinned advert map.
 */
#ifndef SAF_TCP_H
#define SAF_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saf/addr.h"
#include "saf/error.h"
#include "saf/policy.h"

#define SAF_TCP_PIN_DIR "/run/saf/bpf"
#define SAF_TCP_MAX_PAIRS 16u
#define SAF_TCP_MAX_ALLOW 64u

/* The pin folder to use: the argument, else $SAF_BPF_PIN_DIR, else the
 * default. */
const char *saf_tcp_pin_dir(const char *given);

typedef struct saf_tcp_node_config {
	const char *cgroup;  /* cgroup v2 folder to attach to */
	const char *pin_dir; /* NULL: saf_tcp_pin_dir(NULL) */
	/* anycast[i] (port optional: 0 = every port) advertises unicast[i]
	 * (port optional: the connection's own) */
	saf_addr anycast[SAF_TCP_MAX_PAIRS];
	saf_addr unicast[SAF_TCP_MAX_PAIRS];
	size_t n_pairs;
	/* allow-list of client prefixes; none = every client */
	saf_addr allow[SAF_TCP_MAX_ALLOW];
	unsigned allow_len[SAF_TCP_MAX_ALLOW];
	size_t n_allow;
	uint8_t kind;   /* 0: default */
	uint16_t exid;  /* 0: default */
	uint8_t test_bad_len; /* tests only: write a malformed advert */
	/* Adverts per second per client address (SPEC 2, the seeds'
	 * security note): 0 the default, SAF_TCP_RATE_OFF no limit; and how
	 * many may come at once (0: the default). State: an LRU map of
	 * 65536 client addresses, so bounded whatever the flood. */
	uint32_t advert_rate;
	uint32_t advert_burst;
	/* TCP keepalive for the connections on an anycast address whose SYN
	 * asked for an advert, so one the client left with a RST that went
	 * to another node is reset (docs/tcp.md): idle seconds (0 the
	 * default, SAF_TCP_KEEPALIVE_OFF none), probe interval seconds and
	 * probe count (0: the defaults). Ranges: SAF_TCP_KEEPALIVE_*_MAX. */
	uint32_t keepalive_idle;
	uint32_t keepalive_intvl;
	uint32_t keepalive_cnt;
} saf_tcp_node_config;

#define SAF_TCP_RATE_OFF UINT32_MAX
#define SAF_TCP_ADVERT_RATE_DEFAULT 1000u
#define SAF_TCP_ADVERT_BURST_DEFAULT 1000u
#define SAF_TCP_KEEPALIVE_OFF UINT32_MAX
/* An abandoned connection on S is gone within 60 + 10 * 3 = 90 s. */
#define SAF_TCP_KEEPALIVE_IDLE_DEFAULT 60u
#define SAF_TCP_KEEPALIVE_INTVL_DEFAULT 10u
#define SAF_TCP_KEEPALIVE_CNT_DEFAULT 3u
/* The kernel's limits (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL,
 * MAX_TCP_KEEPCNT); the minimum of each is 1. */
#define SAF_TCP_KEEPALIVE_IDLE_MAX 32767u
#define SAF_TCP_KEEPALIVE_INTVL_MAX 32767u
#define SAF_TCP_KEEPALIVE_CNT_MAX 127u

/* Parses the argument of --keepalive: "off", or IDLE[,INTVL,CNT] in
 * seconds and probes, each within 1..its SAF_TCP_KEEPALIVE_*_MAX, into
 * c->keepalive_*. On error c is unchanged and err says what is wrong. */
SAF_MUST_CHECK int saf_tcp_keepalive_parse(const char *s,
					   saf_tcp_node_config *c,
					   saf_error *err);

typedef struct saf_tcp_client_config {
	const char *cgroup;
	const char *pin_dir;
	saf_addr anycast[SAF_TCP_MAX_PAIRS]; /* destinations that get SAF */
	size_t n_anycast;                    /* 0: every destination */
	uint8_t kind;
	uint16_t exid;
	/* The kernel affinity cache (docs/tcp.md): lifetime of an entry in
	 * seconds (0: SAF_TCP_CACHE_LIFETIME_DEFAULT, SAF_TCP_CACHE_OFF: no
	 * cache), entries per client host (0: the default); targets cached
	 * only when allowed by the target policy: allow_target prefixes
	 * (--allow-target), or when there are none, not in the
	 * special-purpose table (saf/policy.h). */
	uint32_t cache_lifetime;
	uint32_t cache_size;
	saf_prefix allow_target[SAF_POLICY_MAX_ALLOW];
	size_t n_allow_target;
} saf_tcp_client_config;

#define SAF_TCP_CACHE_OFF UINT32_MAX
#define SAF_TCP_CACHE_LIFETIME_DEFAULT 600u
#define SAF_TCP_CACHE_SIZE_DEFAULT 4096u
#define SAF_TCP_CACHE_LIFETIME_MAX 86400u
#define SAF_TCP_CACHE_SIZE_MAX 1048576u

/* Loads, configures, attaches and pins the node (or client) program.
 * Mounts bpffs on the pin folder when needed. Errors name the cause: not
 * root, no such cgroup, no bpffs, kernel without the hooks, already
 * attached. *warnings (may be NULL) receives the number of listeners that
 * existed before the attach (they will not advertise); their details are
 * printed to `warn` when not NULL. */
SAF_MUST_CHECK int saf_tcp_node_attach(const saf_tcp_node_config *c,
				       FILE *warn, saf_error *err);
SAF_MUST_CHECK int saf_tcp_client_attach(const saf_tcp_client_config *c,
					 saf_error *err);

/* Removes the pins of "node", "client" or both (which = NULL); the
 * programs detach when their last pin goes. */
SAF_MUST_CHECK int saf_tcp_detach(const char *pin_dir, const char *which,
				  saf_error *err);

typedef enum saf_tcp_status_format {
	SAF_TCP_STATUS_TEXT = 0,
	SAF_TCP_STATUS_JSON,
	SAF_TCP_STATUS_PROMETHEUS, /* text exposition format, for a node
				      exporter's textfile collector */
} saf_tcp_status_format;

/* Prints the counters of whatever is attached under pin_dir. */
SAF_MUST_CHECK int saf_tcp_status(const char *pin_dir,
				  saf_tcp_status_format format, FILE *out,
				  saf_error *err);

/* ---- kernel affinity cache (src/tcp/kcache.c) --------------------------- */

/* Prints the cache of the client program pinned under pin_dir: every
 * entry (network namespace cookie, S:port, U:port, seconds left), in text
 * or JSON (format SAF_TCP_STATUS_JSON). Expired entries not yet dropped
 * are shown with 0 s left. */
SAF_MUST_CHECK int saf_tcp_cache_list(const char *pin_dir,
				      saf_tcp_status_format format, FILE *out,
				      saf_error *err);
/* Removes every entry; *n (may be NULL) gets how many. */
SAF_MUST_CHECK int saf_tcp_cache_flush(const char *pin_dir, size_t *n,
				       saf_error *err);

/* Marks the not yet connected TCP socket fd so the kernel cache leaves
 * its connect() alone (the library follows adverts itself; a prefetch
 * probe must reach S); probe adds the probe mark (counted). 0 when marked,
 * -1 when the client program is not attached under pin_dir. */
int saf_tcp_cache_exempt(int fd, const char *pin_dir, bool probe);

typedef struct saf_tcp_prefetch {
	saf_addr service[SAF_TCP_MAX_PAIRS]; /* S:port, port required */
	unsigned interval_s[SAF_TCP_MAX_PAIRS]; /* 0: lifetime / 2 */
	size_t n;
} saf_tcp_prefetch;

/* Parses "S:PORT[,INTERVAL]" (INTERVAL in seconds, 1..86400) into the
 * next slot of p. */
SAF_MUST_CHECK int saf_tcp_prefetch_parse(const char *s, saf_tcp_prefetch *p,
					  saf_error *err);

/* Keeps the cache warm: joins `cgroup` (the client program's), then
 * probes each service (a SAF SYN to S; the advert refreshes the entry; the
 * connection is reset at once) now and every interval, until *stop is set
 * (by a signal handler). One probe per service per interval, each bounded
 * by 3 s. Runs in the caller's network namespace. Messages to log. */
SAF_MUST_CHECK int saf_tcp_prefetch_run(const saf_tcp_prefetch *p,
					const char *cgroup,
					const char *pin_dir,
					uint32_t lifetime_s,
					volatile int *stop, FILE *log,
					saf_error *err);

/* ---- client library ----------------------------------------------------- */

/* Bounded map S:port -> unicast:port learned from adverts, with a TTL. */
typedef struct saf_affinity_cache saf_affinity_cache;
saf_affinity_cache *saf_affinity_cache_new(size_t entries, uint64_t ttl_ms,
					   saf_error *err);
void saf_affinity_cache_free(saf_affinity_cache *c);
bool saf_affinity_cache_get(saf_affinity_cache *c, const saf_addr *service,
			    uint64_t now_ms, saf_addr *target);
void saf_affinity_cache_put(saf_affinity_cache *c, const saf_addr *service,
			    const saf_addr *target, uint64_t now_ms);
void saf_affinity_cache_forget(saf_affinity_cache *c,
			       const saf_addr *service);

typedef enum saf_tcp_outcome {
	SAF_TCP_MIGRATED = 0, /* on the advertised unicast address */
	SAF_TCP_CACHED,       /* straight to a cached unicast address */
	SAF_TCP_NO_ADVERT,    /* on S: no (usable) advert */
	SAF_TCP_FALLBACK,     /* on S: the unicast address failed */
} saf_tcp_outcome;

const char *saf_tcp_outcome_name(saf_tcp_outcome o);

typedef struct saf_tcp_connect_opts {
	unsigned timeout_ms;    /* per connect step; 0: 3000 */
	bool allow_loopback;    /* accept adverts for loopback addresses */
	const char *pin_dir;    /* where the client's advert map is pinned */
	saf_affinity_cache *cache; /* NULL: no cache */
} saf_tcp_connect_opts;

typedef struct saf_tcp_result {
	saf_tcp_outcome outcome;
	saf_addr final;  /* the address the returned fd is connected to */
	saf_addr advert; /* family 0 when none */
	char reason[SAF_ERROR_MSG_LEN];
} saf_tcp_result;

/* Connects to S, reads the advert of its own socket, connects to the
 * advertised address, and closes the first connection with RST. Returns
 * the connected fd (and what happened in *res), or -1 when S itself cannot
 * be reached (err says why). Every connect is bounded by timeout_ms.
 * A connection to S that is reset after its SYN-ACK carried an advert
 * (R1 moved S between the client's SYN and its ACK) still migrates: the
 * node that answered is known (outcome MIGRATED, the reason says so). */
int saf_tcp_connect(const saf_addr *service, const saf_tcp_connect_opts *o,
		    saf_tcp_result *res, saf_error *err);

#endif /* SAF_TCP_H */
