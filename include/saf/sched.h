/* SPDX-License-Identifier: MIT */
/*
 * The scheduler on R1 (SPEC section 1): node reports in, one route for the
 * anycast address S out. R1 keeps no per-client or per-flow state: the only
 * tables are one entry per configured node.
 *
 *  - report.c  the authenticated datagrams between node agents and R1
 *  - decide.c  scores, hysteresis, node timeout: pure, clock injected
 *  - route.c   rtnetlink output (libmnl), every request acknowledged
 */
#ifndef SAF_SCHED_H
#define SAF_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saf/addr.h"
#include "saf/error.h"

/* ---- wire: node report and delay probe -------------------------------- */

#define SAF_SCHED_MAGIC "SAFR"
#define SAF_SCHED_VERSION 1u
#define SAF_SCHED_MAC_LEN 32u
#define SAF_SCHED_KEY_LEN 32u
#define SAF_SCHED_NAME_MAX 32u
#define SAF_SCHED_MSG_MAX 128u
#define SAF_SCHED_PORT_DEFAULT 7946u

typedef enum saf_sched_msg_type {
	SAF_SCHED_REPORT = 1, /* agent -> R1: compute metrics */
	SAF_SCHED_PROBE = 2,  /* R1 -> agent: delay probe */
	SAF_SCHED_ECHO = 3,   /* agent -> R1: the probe returned */
} saf_sched_msg_type;

/* One datagram. Every type ends with HMAC-SHA256 under the shared key over
 * all bytes before it, so a forged report or echo is dropped. */
typedef struct saf_sched_msg {
	saf_sched_msg_type type;
	char node[SAF_SCHED_NAME_MAX + 1]; /* report and echo */
	uint64_t seq;       /* strictly increasing per sender */
	uint64_t stamp;     /* report: agent's send time (ms); probe/echo:
			       R1's send time (ns, echoed unchanged) */
	uint16_t load;      /* permille of capacity in use, 0..1000 */
	uint16_t capacity;  /* permille of the node's nominal capacity */
	bool available;
} saf_sched_msg;

SAF_MUST_CHECK int saf_sched_msg_encode(const saf_sched_msg *m,
					const uint8_t key[SAF_SCHED_KEY_LEN],
					uint8_t *buf, size_t cap,
					size_t *out_len, saf_error *err);
/* Decodes an exact encoding and checks the MAC (constant time).
 * SAF_E_REFUSED for a bad MAC, other codes for malformed input. */
SAF_MUST_CHECK int saf_sched_msg_decode(const uint8_t *buf, size_t len,
					const uint8_t key[SAF_SCHED_KEY_LEN],
					saf_sched_msg *out, saf_error *err);

/* Reads a 32-byte key from its file: exactly 64 hex digits (either case),
 * then at most one line end (LF, or CRLF), nothing before or after.
 * Refuses anything else, naming the line and column and what is wrong
 * (never a byte of the file), a file that is not a regular file, and one
 * readable by group or others. */
SAF_MUST_CHECK int saf_sched_key_load(const char *path,
				      uint8_t key[SAF_SCHED_KEY_LEN],
				      saf_error *err);

/* ---- decision ---------------------------------------------------------- */

#define SAF_SCHED_MAX_NODES 16u

typedef struct saf_sched_weights {
	double compute;     /* weight of (1 - load) * capacity */
	double network;     /* weight of delay_ref / (delay_ref + delay) */
	double delay_ref_ms;
} saf_sched_weights;

typedef struct saf_sched_config {
	saf_sched_weights w;
	uint64_t min_dwell_ms;    /* no change sooner than this after one */
	double min_improvement;   /* best must beat current by this much */
	uint64_t node_timeout_ms; /* no report this long: node taken out */
	bool multipath;           /* weighted ECMP instead of one best */
} saf_sched_config;

saf_sched_config saf_sched_config_default(void);

typedef struct saf_sched_node {
	char name[SAF_SCHED_NAME_MAX + 1];
	saf_addr nexthop4, nexthop6; /* family 0 when absent */
	/* state from reports and probes */
	bool reported;
	uint64_t last_report_ms, last_seq;
	uint16_t load, capacity;
	bool available;
	double delay_ms; /* smoothed one-way delay estimate; <0 unknown */
	bool in;         /* counted in the decision now */
	bool ever_in;    /* was in at some point: a return is counted */
	double score;
	unsigned weight; /* multipath: 1..256; 0 = not in the route */
} saf_sched_node;

typedef struct saf_sched_counters {
	uint64_t reports, forged, malformed, replayed, unknown_node;
	uint64_t probes_sent, echoes;
	uint64_t route_changes, route_errors;
	uint64_t node_timeouts, node_returns;
} saf_sched_counters;

typedef struct saf_sched {
	saf_sched_config cfg;
	saf_sched_node nodes[SAF_SCHED_MAX_NODES];
	size_t n_nodes;
	int current;             /* index of the chosen node, -1 none */
	uint64_t last_change_ms; /* when the route last changed */
	bool route_dirty;        /* the kernel must be (re)programmed */
	bool started;            /* first decision made */
	uint64_t started_ms;     /* when: a grace period of node_timeout
				    keeps a choice recovered from the kernel
				    until its node had time to report */
	saf_sched_counters ctr;
} saf_sched;

void saf_sched_init(saf_sched *s, const saf_sched_config *cfg);
/* Adds a node "NAME=NEXTHOP4[,NEXTHOP6]" (either family may come first). */
SAF_MUST_CHECK int saf_sched_add_node(saf_sched *s, const char *spec,
				      saf_error *err);
saf_sched_node *saf_sched_find(saf_sched *s, const char *name);

/* Applies an authenticated report received at now_ms; counts replays and
 * unknown nodes. Returns the node or NULL when the report was dropped. */
saf_sched_node *saf_sched_on_report(saf_sched *s, const saf_sched_msg *m,
				    uint64_t now_ms);
/* One datagram from the report socket, received at now_ms: checks the MAC
 * (constant time) and decodes it. A bad MAC is counted as `forged`,
 * anything else undecodable as `malformed`; both are dropped (-1, *out
 * untouched). A report is then applied with saf_sched_on_report (*node is
 * the node, or NULL when it was dropped as a replay or unknown); a probe
 * or echo is returned in *out for the caller (*node NULL). */
int saf_sched_on_datagram(saf_sched *s, const uint8_t *buf, size_t len,
			  const uint8_t key[SAF_SCHED_KEY_LEN],
			  uint64_t now_ms, saf_sched_msg *out,
			  saf_sched_node **node);
/* Applies a measured round trip to a node (one-way = rtt / 2, smoothed). */
void saf_sched_on_rtt(saf_sched *s, saf_sched_node *n, double rtt_ms);

/* Re-scores every node and decides. Returns true when the route must be
 * reprogrammed (choice or multipath weights changed). */
bool saf_sched_decide(saf_sched *s, uint64_t now_ms);

/* ---- route output (rtnetlink) ----------------------------------------- */

typedef struct saf_route_nexthop {
	saf_addr gw;
	unsigned weight; /* 1..256 */
} saf_route_nexthop;

typedef struct saf_route_sock saf_route_sock;

saf_route_sock *saf_route_open(saf_error *err);
void saf_route_close(saf_route_sock *rs);

/* Replaces the route for dst/(32|128) in the main table with the given
 * next hops (one: a plain gateway route; several: weighted multipath).
 * Waits for the kernel's acknowledgement; on refusal the message carries
 * the kernel's extended ack text. */
SAF_MUST_CHECK int saf_route_replace(saf_route_sock *rs, const saf_addr *dst,
				     const saf_route_nexthop *nh, size_t n,
				     saf_error *err);
/* Reads the gateway of the route for dst (first next hop); SAF_E_INVAL if
 * there is none. Used to recover the current choice after a restart. */
SAF_MUST_CHECK int saf_route_get(saf_route_sock *rs, const saf_addr *dst,
				 saf_addr *gw, saf_error *err);


/* ---- the running scheduler and agent ----------------------------------- */

typedef struct saf_sched_run_opts {
	saf_sched_config cfg;
	saf_addr anycast[2];  /* S: up to one IPv4 and one IPv6 */
	size_t n_anycast;
	saf_addr listen;      /* reports in (UDP), default [::]:7946 */
	uint8_t key[SAF_SCHED_KEY_LEN];
	const char *state_path;  /* JSON status, rewritten each tick */
	const char *events_path; /* JSON lines, one per route change */
	saf_addr metrics;        /* Prometheus text over HTTP; family 0 off */
	uint64_t probe_interval_ms;
	uint64_t duration_ms;    /* 0: until SIGINT/SIGTERM */
	volatile int *stop;      /* set non-zero to stop */
} saf_sched_run_opts;

/* Runs the scheduler loop on an initialised saf_sched with its nodes.
 * Returns 0 when stopped, -1 on a setup error. Route errors are counted,
 * reported on stderr and retried; they do not stop the loop. */
SAF_MUST_CHECK int saf_sched_run(saf_sched *s, const saf_sched_run_opts *o,
				 saf_error *err);

/* Writes the Prometheus text exposition of s to f. */
void saf_sched_write_metrics(const saf_sched *s, uint64_t now_ms, FILE *f);
/* Writes the JSON status of s to f. */
void saf_sched_write_status(const saf_sched *s, uint64_t now_ms, FILE *f);

typedef struct saf_agent_opts {
	char name[SAF_SCHED_NAME_MAX + 1];
	saf_addr sched;                /* R1's report address */
	uint8_t key[SAF_SCHED_KEY_LEN];
	const char *load_file;  /* "LOAD [CAPACITY] [down]"; NULL: loadavg */
	uint16_t capacity;      /* permille, default 1000 */
	uint64_t interval_ms;   /* default 200 */
	uint64_t duration_ms;
	volatile int *stop;
	/* Called with each report's metrics before it is sent (BGP
	 * distributed mode, docs/bgp.md); sched family 0: no reports. */
	void (*on_metrics)(void *ctx, const saf_sched_msg *m, uint64_t now_ms);
	void *metrics_ctx;
} saf_agent_opts;

/* Sends reports every interval and answers R1's delay probes. */
SAF_MUST_CHECK int saf_agent_run(const saf_agent_opts *o, saf_error *err);

#endif /* SAF_SCHED_H */
