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
#include "saf/cats.h"
#include "saf/error.h"

/* ---- wire: node report and delay probe -------------------------------- */

#define SAF_SCHED_MAGIC "SAFR"
/* 3: reports carry the CATS level 0 values (memory, connections) and
 * their Statistics and Measurement_Window; version 2 is refused and
 * counted as old_version. */
#define SAF_SCHED_VERSION      3u
#define SAF_SCHED_MAC_LEN      32u
#define SAF_SCHED_KEY_LEN      32u
#define SAF_SCHED_NAME_MAX     32u
#define SAF_SCHED_MSG_MAX      128u
#define SAF_SCHED_PORT_DEFAULT 7946u
/* Schedulers one agent reports to at most (an active and standbys). */
#define SAF_AGENT_SCHED_MAX    4u
#define SAF_SCHED_MAX_NODES    16u

typedef enum saf_sched_msg_type {
	SAF_SCHED_REPORT = 1, /* agent -> R1: compute metrics */
	SAF_SCHED_PROBE = 2,  /* R1 -> agent: delay probe */
	SAF_SCHED_ECHO = 3,   /* agent -> R1: the probe returned */
} saf_sched_msg_type;

/* One datagram. Every type ends with HMAC-SHA256 over all bytes before it
 * under the key of one node: the node named in a report or echo, the node
 * probed for a probe. A node's key lets it speak for itself only. */
typedef struct saf_sched_msg {
	saf_sched_msg_type type;
	char node[SAF_SCHED_NAME_MAX + 1]; /* report and echo */
	uint64_t seq;			   /* strictly increasing per sender */
	uint64_t stamp;	   /* report: agent's wall clock at sending (ms
			      since the epoch, checked by R1); probe/echo:
			      R1's send time (informational) */
	uint64_t nonce;	   /* probe: random; echo: the probe's, unchanged */
	uint16_t load;	   /* CPU: permille of capacity in use, 0..1000 */
	uint16_t capacity; /* permille of the node's nominal capacity */
	bool available;
	/* CATS level 0 (include/saf/cats.h), reports only */
	uint16_t mem;	    /* memory in use, permille 0..1000 */
	uint32_t conns;	    /* open connections or queued requests */
	uint8_t statistics; /* saf_cats_stat of load/mem/conns */
	uint32_t window_ms; /* their Measurement_Window */
} saf_sched_msg;

/* The CATS level 0 values of a report; delay_us < 0: not measured. */
saf_cats_l0 saf_sched_msg_l0(const saf_sched_msg *m, double delay_ms);

SAF_MUST_CHECK int saf_sched_msg_encode(const saf_sched_msg *m,
					const uint8_t key[SAF_SCHED_KEY_LEN],
					uint8_t *buf, size_t cap,
					size_t *out_len, saf_error *err);
/* Decodes an exact encoding and checks the MAC (constant time).
 * SAF_E_REFUSED for a bad MAC, other codes for malformed input. */
SAF_MUST_CHECK int saf_sched_msg_decode(const uint8_t *buf, size_t len,
					const uint8_t key[SAF_SCHED_KEY_LEN],
					saf_sched_msg *out, saf_error *err);
/* The two halves of decode, for R1, which must read the node name to know
 * which key to check: parse (no MAC check; nothing in *out may be trusted
 * before verify succeeds) and verify (constant time, SAF_E_REFUSED). */
SAF_MUST_CHECK int saf_sched_msg_parse(const uint8_t *buf, size_t len,
				       saf_sched_msg *out, saf_error *err);
SAF_MUST_CHECK int saf_sched_msg_verify(const uint8_t *buf, size_t len,
					const uint8_t key[SAF_SCHED_KEY_LEN],
					saf_error *err);

/* Reads a node agent's own 32-byte key from its file: exactly 64 hex
 * digits (either case), then at most one line end (LF, or CRLF), nothing
 * before or after. Refuses anything else, naming the line and column and
 * what is wrong (never a byte of the file); and a file that is a symbolic
 * link, not a regular file, readable by group or others, or owned by
 * neither the running user nor root. */
SAF_MUST_CHECK int saf_sched_key_load(const char *path,
				      uint8_t key[SAF_SCHED_KEY_LEN],
				      saf_error *err);

/* R1's key file: one key per node (docs/sched.md). */
#define SAF_SCHED_KEYS_FILE_MAX 16384u
typedef struct saf_sched_keyring {
	size_t n;
	struct {
		char name[SAF_SCHED_NAME_MAX + 1];
		uint8_t key[SAF_SCHED_KEY_LEN];
	} e[SAF_SCHED_MAX_NODES];
} saf_sched_keyring;

/* Parses the text of R1's key file: lines "NAME KEY" (NAME 1..32 of
 * [A-Za-z0-9._-], blanks, 64 hex digits, optional trailing blanks), blank
 * lines and '#' comments; LF or CRLF; each name once; at most 16 keys.
 * Errors name the file, the line and what is wrong, never a byte of it;
 * on error *kr is wiped. */
SAF_MUST_CHECK int saf_sched_keys_parse(const char *path, const char *text,
					size_t n, saf_sched_keyring *kr,
					saf_error *err);
/* Loads R1's key file with the file checks of saf_sched_key_load; at most
 * SAF_SCHED_KEYS_FILE_MAX bytes. */
SAF_MUST_CHECK int saf_sched_keys_load(const char *path, saf_sched_keyring *kr,
				       saf_error *err);
/* Wipes every key (OPENSSL_cleanse). */
void saf_sched_keyring_wipe(saf_sched_keyring *kr);

/* ---- decision ---------------------------------------------------------- */

typedef struct saf_sched_weights {
	double compute; /* weight of (1 - load) * capacity */
	double network; /* weight of delay_ref / (delay_ref + delay) */
	double delay_ref_ms;
} saf_sched_weights;

typedef enum saf_sched_score_mode {
	SAF_SCHED_SCORE_L2 = 0, /* CATS norm_fi / 10 (default) */
	SAF_SCHED_SCORE_LEGACY =
		1, /* the weighted score of saf_sched_weights */
} saf_sched_score_mode;

typedef struct saf_sched_config {
	saf_sched_score_mode score; /* default L2 */
	saf_cats_config cats;	    /* the L0 -> L1 -> L2 mapping */
	saf_sched_weights w;	    /* legacy score */
	uint64_t min_dwell_ms;	    /* no change sooner than this after one */
	double min_improvement;	    /* best must beat current by this much */
	uint64_t node_timeout_ms;   /* no report this long: node taken out */
	uint64_t report_window_ms;  /* a report's stamp within this of R1's
				       wall clock, or it is stale */
	bool multipath;		    /* weighted ECMP instead of one best */
} saf_sched_config;

saf_sched_config saf_sched_config_default(void);

/* Probes a node may have outstanding; an echo must answer one of them. */
#define SAF_SCHED_PROBES_OUT   4u
#define SAF_SCHED_PROBE_TTL_MS 2000u

typedef struct saf_sched_node {
	char name[SAF_SCHED_NAME_MAX + 1];
	uint8_t key[SAF_SCHED_KEY_LEN]; /* this node's own key */
	bool keyed;
	struct {
		uint64_t nonce, sent_ns; /* sent_ns 0: slot free */
	} probes[SAF_SCHED_PROBES_OUT];
	unsigned probe_next;
	saf_addr nexthop4, nexthop6; /* family 0 when absent */
	/* state from reports and probes */
	bool reported;
	uint64_t last_report_ms, last_seq;
	uint16_t load, capacity;
	bool available;
	uint16_t mem;
	uint32_t conns;
	uint8_t statistics;
	uint32_t window_ms;
	saf_cats_l1 l1; /* CATS levels from the last decision */
	saf_cats_l2 l2;
	double delay_ms; /* smoothed one-way delay estimate; <0 unknown */
	bool in;	 /* counted in the decision now */
	bool ever_in;	 /* was in at some point: a return is counted */
	double score;
	unsigned weight; /* multipath: 1..256; 0 = not in the route */
} saf_sched_node;

typedef struct saf_sched_counters {
	uint64_t reports, forged, malformed, replayed, unknown_node, stale;
	uint64_t old_version; /* an older wire version, refused */
	uint64_t probes_sent, echoes, echo_unsolicited, echo_wrong_source;
	uint64_t route_changes, route_errors;
	uint64_t node_timeouts, node_returns;
} saf_sched_counters;

typedef struct saf_sched {
	saf_sched_config cfg;
	saf_sched_node nodes[SAF_SCHED_MAX_NODES];
	size_t n_nodes;
	int current;		 /* index of the chosen node, -1 none */
	uint64_t last_change_ms; /* when the route last changed */
	bool route_dirty;	 /* the kernel must be (re)programmed */
	bool started;		 /* first decision made */
	uint64_t started_ms;	 /* when: a grace period of node_timeout
				    keeps a choice recovered from the kernel
				    until its node had time to report */
	uint64_t wall_start_ms;	 /* R1's wall clock at its start: a report
				    stamped earlier was captured before a
				    restart and is refused (stale) */
	saf_sched_counters ctr;
} saf_sched;

void saf_sched_init(saf_sched *s, const saf_sched_config *cfg);
/* Adds a node "NAME=NEXTHOP4[,NEXTHOP6]" (either family may come first). */
SAF_MUST_CHECK int saf_sched_add_node(saf_sched *s, const char *spec,
				      saf_error *err);
saf_sched_node *saf_sched_find(saf_sched *s, const char *name);
/* Gives every configured node its key from kr; SAF_E_INVAL naming the
 * first node without one. Keys for nodes not configured are ignored. */
SAF_MUST_CHECK int saf_sched_set_keys(saf_sched *s, const saf_sched_keyring *kr,
				      saf_error *err);

/* Applies an authenticated report received at now_ms (monotonic) and
 * wall_ms (R1's wall clock). Dropped and counted: unknown node; stale
 * (stamp further than report_window_ms from wall_ms, or before
 * wall_start_ms); replayed (seq not above the node's last). Returns the
 * node or NULL when the report was dropped. */
saf_sched_node *saf_sched_on_report(saf_sched *s, const saf_sched_msg *m,
				    uint64_t now_ms, uint64_t wall_ms);
/* One datagram from the report socket: finds the node it names and checks
 * the MAC under that node's key only (constant time). An unknown name is
 * counted as `unknown_node`, a bad MAC as `forged`, anything undecodable
 * (and a probe, which R1 never receives) as `malformed`; all dropped (-1,
 * *out untouched). A report is then applied with saf_sched_on_report
 * (*node is the node, or NULL when it was dropped); for an echo *node is
 * the node whose key signed it, for saf_sched_on_echo. */
int saf_sched_on_datagram(saf_sched *s, const uint8_t *buf, size_t len,
			  uint64_t now_ms, uint64_t wall_ms, saf_sched_msg *out,
			  saf_sched_node **node);
/* Builds the probe for node n with a fresh random nonce (the caller's),
 * sent at now_ns (monotonic), and remembers it (SAF_SCHED_PROBES_OUT per
 * node, the oldest replaced). */
SAF_MUST_CHECK int saf_sched_probe(saf_sched *s, saf_sched_node *n,
				   uint64_t nonce, uint64_t now_ns,
				   uint8_t *buf, size_t cap, size_t *len,
				   saf_error *err);
/* An authenticated echo from node n, received at now_ns, from_probed when
 * its source is the address n was probed at. Accepted only when it
 * carries the nonce of an outstanding probe to n younger than
 * SAF_SCHED_PROBE_TTL_MS; that probe is then forgotten (a replay finds
 * nothing) and the round trip measured from R1's own send time. Counted:
 * echo_wrong_source, echo_unsolicited (no such probe: unsolicited, late,
 * or replayed). Returns true when accepted. */
bool saf_sched_on_echo(saf_sched *s, saf_sched_node *n, const saf_sched_msg *m,
		       bool from_probed, uint64_t now_ns);
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
	saf_addr anycast[2]; /* S: up to one IPv4 and one IPv6 */
	size_t n_anycast;
	saf_addr listen;	 /* reports in (UDP), default [::]:7946 */
	const char *state_path;	 /* JSON status, rewritten each tick */
	const char *events_path; /* JSON lines, one per route change */
	saf_addr metrics;	 /* Prometheus text over HTTP; family 0 off */
	uint64_t probe_interval_ms;
	uint64_t duration_ms; /* 0: until SIGINT/SIGTERM */
	volatile int *stop;   /* set non-zero to stop */
	/* BGP centralized mode (docs/bgp.md): called every loop turn after
	 * the decision; no_kernel: the callback steers, no route is
	 * programmed here. */
	void (*on_decision)(void *ctx, const struct saf_sched *s,
			    uint64_t now_ms);
	void *decision_ctx;
	bool no_kernel;
} saf_sched_run_opts;

/* Runs the scheduler loop on an initialised saf_sched with its nodes and
 * their keys (saf_sched_set_keys).
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
	saf_addr sched;			/* R1's report address */
	/* More schedulers that get the same reports (centralized BGP mode
	 * with a standby, docs/bgp.md): one socket each, so each one's probes
	 * are answered to it. */
	saf_addr sched_more[SAF_AGENT_SCHED_MAX - 1];
	size_t n_sched_more;
	uint8_t key[SAF_SCHED_KEY_LEN]; /* this node's own key */
	const char *load_file; /* "LOAD [CAPACITY] [down]"; NULL: loadavg */
	uint16_t capacity;     /* permille, default 1000 */
	uint64_t interval_ms;  /* default 200 */
	/* An extra report at once when the L2 score moves by at least
	 * l2_threshold (default 1) since the last one sent, at most one per
	 * l2_min_gap_ms (default 20); the load is sampled every sample_ms
	 * (default 5) for this. */
	unsigned l2_threshold;
	uint64_t l2_min_gap_ms, sample_ms;
	saf_cats_config cats;	   /* zero: saf_cats_config_default() */
	saf_cats_trigger *trigger; /* optional: receives the counters */
	uint64_t duration_ms;
	volatile int *stop;
	/* Called with each report's metrics before it is sent (BGP
	 * distributed mode, docs/bgp.md); sched family 0: no reports. */
	void (*on_metrics)(void *ctx, const saf_sched_msg *m, uint64_t now_ms);
	void *metrics_ctx;
} saf_agent_opts;

/* Sends reports every interval to sched and each of sched_more, and
 * answers their delay probes. */
SAF_MUST_CHECK int saf_agent_run(const saf_agent_opts *o, saf_error *err);

#endif /* SAF_SCHED_H */
