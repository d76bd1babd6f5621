/* SPDX-License-Identifier: MIT */
/*
 * A saf_tls_node (saf/tls_node.h) in a thread of its own, for the tests
 * that drive a real node over loopback: S on 127.0.0.1 and U on
 * 127.0.0.2 (any ports), continuity on, its backend a socket pair per
 * stream that the node's thread echoes, its clock injected.
 */
#ifndef SAF_TEST_NODE_FIXTURE_H
#define SAF_TEST_NODE_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "saf/tls_node.h"

#define NODE_MAX_ECHO 8
#define NODE_T0	      1800000000u /* the node's clock at the start, Unix s */

typedef struct node_job {
	saf_tls_node *n;
	pthread_t thread;
	atomic_bool stop;
	_Atomic uint64_t now_s; /* the node's clock */
	pthread_mutex_t mu;
	saf_tls_node_counters k; /* after the last round, under mu */
	atomic_uint rounds;	 /* rounds published */
	int echo[NODE_MAX_ECHO];
} node_job;

/* Builds the node (token lifetime lifetime_s, 0 the default) and starts
 * its thread; fails the test when it cannot. */
void node_start(node_job *j, SSL_CTX *ctx, uint32_t lifetime_s);
/* Stops the thread, frees the node and the echo ends. */
void node_stop(node_job *j);
/* Two whole rounds of the node after now: the counters published then
 * include all it did for what the client did before. */
void node_settle(node_job *j);
/* A copy of the counters of the last round. */
void node_counters(node_job *j, saf_tls_node_counters *out);

#endif
