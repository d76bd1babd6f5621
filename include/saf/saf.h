/* SPDX-License-Identifier: MIT */
/*
 * libsaf, all of it: include this one header, link with
 * `pkg-config --cflags --libs saf` (docs/ecosystem.md, libsaf(3)).
 *
 *   saf/error.h         saf_error, SAF_MUST_CHECK
 *   saf/constants.h     every wire size, code point and limit
 *   saf/addr.h          addresses, parsing, target checks
 *   saf/clock.h         monotonic and wall clocks
 *   saf/sock.h          non-blocking sockets, bounded connect, listeners
 *   saf/keyfile.h       opening files that hold secrets, one policy
 *   saf/metrics.h       counters as text, JSON and Prometheus; file replace
 *   saf/cursor.h        bounds-checked reader and writer
 *   saf/hex.h           hex codec
 *   saf/tcpopt.h        the TCP Service Affinity option codec
 *   saf/token.h         MigrationToken codec
 *   saf/token_crypto.h  node keys, minting and verifying tokens
 *   saf/replay.h        the nonce replay cache
 *   saf/tlsext.h        TLS extension code points and codecs
 *   saf/reattach.h      continuity's early credential (extension codec)
 *   saf/cont.h          continuity frames and the sans-I/O stream engine
 *   saf/tcp.h           TCP variant: eBPF attach, saf_tcp_connect
 *   saf/tls.h           TLS variant, all of it (includes the four below)
 *   saf/tls_keys.h      the key file shared by a service's nodes
 *   saf/tls_server.h    node side: saf_tls_server
 *   saf/tls_client.h    client side: saf_tls_client, the seed procedure
 *   saf/tls_stream.h    continuity, client side: saf_tls_stream
 *   saf/tls_node.h      the node proxy (saf tls serve) in the application's
 *                       poll loop: saf_tls_node, continuity's server side
 *   saf/sched.h         the scheduler's reports, decisions and routes
 *
 * Each header also stands on its own.
 */
#ifndef SAF_SAF_H
#define SAF_SAF_H

#include "saf/error.h"
#include "saf/constants.h"
#include "saf/addr.h"
#include "saf/policy.h"
#include "saf/clock.h"
#include "saf/sock.h"
#include "saf/keyfile.h"
#include "saf/metrics.h"
#include "saf/cursor.h"
#include "saf/hex.h"
#include "saf/tcpopt.h"
#include "saf/token.h"
#include "saf/token_crypto.h"
#include "saf/replay.h"
#include "saf/tlsext.h"
#include "saf/reattach.h"
#include "saf/cont.h"
#include "saf/tcp.h"
#include "saf/tls.h"
#include "saf/tls_node.h"
#include "saf/admission.h"
#include "saf/cats.h"
#include "saf/sched.h"
#include "saf/bgp.h"
#include "saf/run.h"

#endif /* SAF_SAF_H */
