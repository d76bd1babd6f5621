/* SPDX-License-Identifier: MIT */
/*
 * Steering through BGP (docs/bgp.md): saf drives a local BGP speaker
 * (ExaBGP) that announces the anycast prefix S to the ingress routers,
 * which pick among the announcements by their own route attributes.
 *
 *  - exabgp.c   sans-I/O: the text API's commands out (announce, withdraw),
 *               its messages in (done, error, neighbor up/down), and the
 *               speaker's configuration file
 *  - speaker.c  the speaker process: started, fed and read over two FIFOs,
 *               stopped; it dies with its parent, so a dead saf process
 *               never leaves a route behind
 *  - steer.c    which routes a node (distributed) or a scheduler
 *               (centralized) announces, and the driver that keeps a
 *               speaker announcing them
 *  - node.c     the node agent's distributed mode: metrics in, routes out
 */
#ifndef SAF_BGP_H
#define SAF_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "saf/addr.h"
#include "saf/error.h"

#define SAF_BGP_LINE_MAX     512u   /* one API command or message */
#define SAF_BGP_PEERS_MAX    8u	    /* ingress routers per speaker */
#define SAF_BGP_AS_DEFAULT   65000u /* the lab's AS (iBGP everywhere) */
#define SAF_BGP_HOLD_DEFAULT 3u	    /* s: a dead peer is out within 3 s */
#define SAF_BGP_LP_NODE	     100u   /* LOCAL_PREF of a node's own route */
#define SAF_BGP_LP_SCHED     200u   /* a scheduler's route wins over it */
#define SAF_BGP_SCORE_MAX    10u    /* CATS L2 scores are 0..10 */
/* Link-bandwidth extended community (draft-ietf-idr-link-bandwidth):
 * type 0x40 (two-octet AS specific, non-transitive), subtype 0x04, the
 * AS, and the bandwidth in bytes per second as an IEEE float. */
#define SAF_BGP_LBW_TYPE    0x40u
#define SAF_BGP_LBW_SUBTYPE 0x04u
/* One L2 point is announced as 1 Mbit/s: FRR's weights are relative. */
#define SAF_BGP_LBW_PER_POINT 125000.0f
#define SAF_BGP_RESPAWN_MS    2000u /* a dead speaker is restarted after */
#define SAF_BGP_REASON_MAX    128u

/* ---- routes and the text API (exabgp.c) -------------------------------- */

typedef struct saf_bgp_route {
	saf_addr prefix;  /* S; the host prefix (/32, /128) is announced */
	saf_addr nexthop; /* same family as prefix */
	bool has_med;
	uint32_t med; /* lower wins: a node announces 10 - score */
	bool has_local_pref;
	uint32_t local_pref;
	bool has_link_bw;
	uint16_t link_bw_as;
	float link_bw; /* bytes per second */
	bool has_community;
	uint32_t community; /* AS:VALUE as (AS << 16) | VALUE */
} saf_bgp_route;

/* Writes "announce route S/LEN next-hop NH [med M] [local-preference L]
 * [community [A:V]] [extended-community [0x...]]" with a final '\n' into
 * buf. SAF_E_INVAL for a family mismatch, SAF_E_NOSPACE if cap is short. */
SAF_MUST_CHECK int saf_exabgp_announce(const saf_bgp_route *r, char *buf,
				       size_t cap, size_t *len, saf_error *err);
/* Writes "withdraw route S/LEN next-hop NH\n". */
SAF_MUST_CHECK int saf_exabgp_withdraw(const saf_bgp_route *r, char *buf,
				       size_t cap, size_t *len, saf_error *err);

typedef enum saf_exabgp_msg_type {
	SAF_EXABGP_DONE = 1,  /* the last command was applied */
	SAF_EXABGP_ERROR,     /* the last command was refused */
	SAF_EXABGP_CONNECTED, /* TCP to a peer is up */
	SAF_EXABGP_UP,	      /* the BGP session is established */
	SAF_EXABGP_DOWN,      /* the session ended; reason says why */
	SAF_EXABGP_SHUTDOWN,  /* the speaker is exiting */
	SAF_EXABGP_OTHER,     /* a message saf does not act on */
} saf_exabgp_msg_type;

typedef struct saf_exabgp_msg {
	saf_exabgp_msg_type type;
	saf_addr peer;			 /* CONNECTED, UP, DOWN */
	char reason[SAF_BGP_REASON_MAX]; /* DOWN: truncated, printable */
} saf_exabgp_msg;

/* Parses one message line of ExaBGP's text encoder ("done", "error",
 * "neighbor 10.20.2.1 up", "neighbor 10.20.2.1 down - REASON",
 * "shutdown PID PPID"), without its line end. An empty line or any other
 * well-formed message is SAF_EXABGP_OTHER; a "neighbor" line whose address
 * does not parse, or a line with a NUL or over SAF_BGP_LINE_MAX bytes, is
 * SAF_E_FORMAT. */
SAF_MUST_CHECK int saf_exabgp_parse(const char *line, size_t len,
				    saf_exabgp_msg *out, saf_error *err);

/* ---- the speaker (speaker.c) ------------------------------------------- */

typedef struct saf_bgp_speaker_cfg {
	saf_addr local; /* router id and source address of the sessions */
	uint32_t as;	/* local and peer AS: iBGP */
	saf_addr peers[SAF_BGP_PEERS_MAX];
	size_t n_peers;
	unsigned hold_time;   /* s; 0: SAF_BGP_HOLD_DEFAULT */
	const char *program;  /* NULL: "exabgp" from PATH */
	const char *log_path; /* the speaker's own log; NULL: /dev/null */
} saf_bgp_speaker_cfg;

/* Writes the speaker's configuration: one process (the relay script at
 * relay_path, text encoder) and one iBGP neighbor per peer, IPv4 and IPv6
 * unicast on each session, neighbor changes reported. */
SAF_MUST_CHECK int saf_exabgp_config(const saf_bgp_speaker_cfg *c,
				     const char *relay_path, FILE *f,
				     saf_error *err);

typedef struct saf_bgp_speaker saf_bgp_speaker;

/* Starts the speaker in its own process group, with a private directory
 * (mode 0700) for its configuration and the two FIFOs saf talks to it
 * over. The speaker gets SIGTERM when the calling thread exits, and ends
 * when saf's end of the FIFO closes, so a killed saf process withdraws
 * its routes (the routers see the session close). */
saf_bgp_speaker *saf_bgp_speaker_start(const saf_bgp_speaker_cfg *c,
				       saf_error *err);
/* Sends one command line (ending in '\n'). Never blocks: SAF_E_NOSPACE
 * if the FIFO is full, SAF_E_SYS if the speaker is gone. */
SAF_MUST_CHECK int saf_bgp_speaker_send(saf_bgp_speaker *sp, const char *line,
					size_t len, saf_error *err);
/* The descriptor to poll for the speaker's messages. */
int saf_bgp_speaker_fd(const saf_bgp_speaker *sp);
/* Reads what is there (never blocks) and returns the next complete
 * message in *out: 1 when one was returned, 0 when none is complete yet.
 * Lines that do not parse are skipped and counted in *bad. */
int saf_bgp_speaker_next(saf_bgp_speaker *sp, saf_exabgp_msg *out,
			 uint64_t *bad);
/* Whether the speaker process still runs (reaps it when not). */
bool saf_bgp_speaker_alive(saf_bgp_speaker *sp);
pid_t saf_bgp_speaker_pid(const saf_bgp_speaker *sp);
/* Ends the speaker (SIGTERM to its group, SIGKILL after 2 s), removes
 * its directory and frees sp. NULL is a no-op. */
void saf_bgp_speaker_stop(saf_bgp_speaker *sp);

/* ---- what to announce (steer.c) ---------------------------------------- */

typedef struct saf_bgp_steer_cfg {
	saf_addr anycast[2]; /* S: one IPv4 and/or one IPv6 */
	size_t n_anycast;
	saf_addr nexthop[2]; /* the node's own unicast addresses (v4, v6) */
	size_t n_nexthop;
	bool link_bw; /* also carry the score as link bandwidth */
	uint32_t as;
} saf_bgp_steer_cfg;

/* Distributed mode: the routes a node with CATS L2 score `score` (0..10)
 * announces for each S with a next hop of the same family: MED 10 -
 * score, community AS:score, LOCAL_PREF SAF_BGP_LP_NODE, and the link
 * bandwidth when configured. Returns how many were written (<= 2). */
size_t saf_bgp_node_routes(const saf_bgp_steer_cfg *c, unsigned score,
			   saf_bgp_route out[2]);
/* Centralized mode: the route a scheduler announces for S through the
 * chosen node's next hop: LOCAL_PREF local_pref, no MED. */
void saf_bgp_sched_route(const saf_addr *anycast, const saf_addr *nexthop,
			 uint32_t local_pref, saf_bgp_route *out);

/* Keeps a speaker announcing a set of routes: restarts it (after
 * SAF_BGP_RESPAWN_MS) when it died, announces again after a restart, and
 * sends only what changed. */
typedef struct saf_bgp_driver {
	saf_bgp_speaker_cfg cfg;
	saf_bgp_speaker *sp;
	saf_bgp_route want[4], sent[4];
	size_t n_want, n_sent;
	uint64_t dead_since_ms; /* 0: not waiting to restart */
	unsigned peers_up;
	uint64_t starts, announcements, withdrawals, errors, bad_lines;
	bool quiet;
} saf_bgp_driver;

void saf_bgp_driver_init(saf_bgp_driver *d, const saf_bgp_speaker_cfg *c);
/* Sets the routes to announce (replacing the last set); sends the
 * differences at once when the speaker runs. */
SAF_MUST_CHECK int saf_bgp_driver_set(saf_bgp_driver *d, const saf_bgp_route *r,
				      size_t n, uint64_t now_ms,
				      saf_error *err);
/* Call often (each loop turn): reads the speaker's messages, restarts a
 * dead speaker. Errors are reported on stderr, never fatal. */
void saf_bgp_driver_tick(saf_bgp_driver *d, uint64_t now_ms);
void saf_bgp_driver_stop(saf_bgp_driver *d);

/* ---- the node agent's distributed mode (node.c) ------------------------ */

struct saf_sched_msg;

typedef struct saf_bgp_node {
	saf_bgp_driver drv;
	saf_bgp_steer_cfg steer;
	int score;	  /* last announced L2 score, -1: nothing announced */
	uint64_t changes; /* announcements with a new score */
	/* maps a report's metrics to the L2 score 0..10 (NULL: the default
	 * CATS mapping of include/saf/cats.h) */
	unsigned (*score_of)(void *ctx, const struct saf_sched_msg *m,
			     uint64_t now_ms);
	void *score_ctx;
} saf_bgp_node;

void saf_bgp_node_init(saf_bgp_node *n, const saf_bgp_speaker_cfg *sp,
		       const saf_bgp_steer_cfg *steer);
/* saf_agent_opts.on_metrics: announces S with the node's score, or
 * withdraws it when the node is unavailable; then ticks the driver. */
void saf_bgp_node_on_metrics(void *ctx, const struct saf_sched_msg *m,
			     uint64_t now_ms);
void saf_bgp_node_stop(saf_bgp_node *n);

/* ---- the scheduler's centralized mode (sched.c) ------------------------ */

struct saf_sched;

typedef struct saf_bgp_sched {
	saf_bgp_driver drv;
	saf_addr anycast[2];
	size_t n_anycast;
	uint32_t local_pref; /* SAF_BGP_LP_SCHED: above the nodes' own */
} saf_bgp_sched;

void saf_bgp_sched_init(saf_bgp_sched *b, const saf_bgp_speaker_cfg *sp,
			const saf_addr *anycast, size_t n_anycast,
			uint32_t local_pref);
/* saf_sched_run_opts.on_decision: announces S through the chosen node's
 * next hop (its unicast address) with local_pref, or withdraws when no
 * node is chosen, so the routers fall back to the nodes' own routes. */
void saf_bgp_sched_on_decision(void *ctx, const struct saf_sched *s,
			       uint64_t now_ms);

#endif /* SAF_BGP_H */
