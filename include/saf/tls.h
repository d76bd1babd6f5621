/* SPDX-License-Identifier: MIT */
/*
 * The TLS variant (SPEC section 3) on OpenSSL 3's public API: the glue that
 * carries migration_support, migration_token and migrate_notify as custom
 * extensions, mints and verifies tokens, and the client's seed procedure.
 *
 * Two context objects, one per role, each bound to one SSL_CTX which must
 * outlive it:
 *
 *   saf_tls_server  node side: node key, token lifetime, replay cache,
 *                   counters; per connection a target for tokens and the
 *                   local address tokens are checked against.
 *   saf_tls_client  client side: offers migration_support, keeps the newest
 *                   valid (session, token) pair per connection, notices
 *                   migrate_notify in both forms (ticket and alert 0xF0).
 *
 * Neither object locks. A server object and its counters belong to one
 * thread at a time (or serialise around it). A node that runs several
 * threads builds one server object (and SSL_CTX) per thread and gives
 * them all the same replay cache (saf_tls_server_config.replay, made
 * with saf_replay_cache_create): the cache locks, and records a nonce in
 * one test-and-insert step, so a token is accepted at most once in the
 * process. Separate caches for one address would accept a token once in
 * each.
 */
#ifndef SAF_TLS_H
#define SAF_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poll.h>

#include <openssl/ssl.h>

#include "saf/addr.h"
#include "saf/cont.h"
#include "saf/constants.h"
#include "saf/error.h"
#include "saf/policy.h"
#include "saf/replay.h"
#include "saf/tlsext.h"
#include "saf/token_crypto.h"

#include "saf/tls_keys.h"
#include "saf/tls_server.h"
#include "saf/tls_client.h"
#include "saf/tls_stream.h"

#endif /* SAF_TLS_H */
