/* SPDX-License-Identifier: MIT */
/*
 * The client target policy: which addresses a client may be sent to by an
 * advert (TCP), a token or a continuity target (TLS). An advert travels
 * unauthenticated and a token is only as trustworthy as the node that minted
 * it, so a client checks every target against this policy before it
 * connects and before the target enters any affinity cache.
 *
 * Two modes:
 *   - default (no allow prefixes): global unicast only. Every prefix of the
 *     IANA IPv4 and IPv6 special-purpose address registries is refused
 *     (private, CGN, link-local, documentation, reserved, ...; the table is
 *     in src/core/policy.c with the RFC of each entry), and IPv6 outside
 *     2000::/3, which IANA holds as "Reserved by IETF".
 *   - allow list (n_allow > 0): a target is allowed iff it lies inside one
 *     of the allow prefixes. Unspecified, multicast and broadcast are still
 *     refused, and loopback unless allow_loopback.
 * Both modes first normalise v4-mapped (::ffff:a.b.c.d) and v4-compatible
 * (::a.b.c.d) addresses to IPv4, and judge a NAT64 (64:ff9b::/96) or 6to4
 * (2002::/16) address by the IPv4 address it embeds when that address is
 * special-purpose, so "64:ff9b::7f00:1" is loopback, not global unicast.
 *
 * Pure: no I/O, no global state. A policy is a plain value the caller owns.
 */
#ifndef SAF_POLICY_H
#define SAF_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/error.h"

/* An address prefix; addr.port/has_port unused. Host bits beyond len are
 * zero. */
typedef struct saf_prefix {
	saf_addr addr;
	uint8_t len;
} saf_prefix;

#define SAF_POLICY_MAX_ALLOW 32

typedef struct saf_target_policy {
	saf_prefix allow[SAF_POLICY_MAX_ALLOW];
	size_t n_allow;
	bool allow_loopback;
} saf_target_policy;

/* Default policy: global unicast only, no loopback. */
void saf_target_policy_init(saf_target_policy *p);

/* Parses "10.30.0.0/16", "fd00::/8", or a bare address (= /32 or /128).
 * Host bits beyond the length must be zero. A v4-mapped prefix of length
 * >= 96 ("::ffff:10.0.0.0/104") is normalised to IPv4 ("10.0.0.0/8"). */
SAF_MUST_CHECK int saf_prefix_parse(const char *text, saf_prefix *out,
				    saf_error *err);

/* Whether `a` lies inside `p` (after normalising a v4-mapped `a`). */
bool saf_prefix_contains(const saf_prefix *p, const saf_addr *a);

/* Appends one prefix, or a comma-separated list of them, to p->allow.
 * SAF_E_RANGE when more than SAF_POLICY_MAX_ALLOW in all; on any failure
 * p is unchanged. */
SAF_MUST_CHECK int saf_target_policy_allow(saf_target_policy *p,
					   const char *prefix_text,
					   saf_error *err);

/* 0 when `target` may be used; -1 with SAF_E_REFUSED and a message such as
 * "advert for 169.254.169.254 rejected: link-local (RFC 3927) not allowed by
 * the target policy" otherwise. `what` names the source ("advert", "token
 * target", "continuity target"). p == NULL means the default policy. */
SAF_MUST_CHECK int saf_target_policy_check(const saf_target_policy *p,
					   const saf_addr *target,
					   const char *what, saf_error *err);

/* The special-purpose table, both families, most of it for a kernel deny
 * map. Entries of kind SAF_SPECIAL_EMBEDS_V4 (NAT64 64:ff9b::/96, 6to4
 * 2002::/16) are allowed by saf_target_policy_check when the IPv4 address
 * they embed is global; a kernel map that cannot look inside may refuse the
 * whole prefix (stricter, never looser). SAF_SPECIAL_LOOPBACK entries are
 * allowed with allow_loopback. */
size_t saf_special_prefixes(const saf_prefix **out);

typedef enum saf_special_kind {
	SAF_SPECIAL_NEVER = 0,	/* unspecified, multicast, broadcast */
	SAF_SPECIAL_LOOPBACK,	/* refused unless allow_loopback */
	SAF_SPECIAL_RESTRICTED, /* refused unless inside an allow prefix */
	SAF_SPECIAL_EMBEDS_V4,	/* judged by the embedded IPv4 address */
} saf_special_kind;

/* Kind and "name (RFC n)" of table entry i (i < saf_special_prefixes()). */
saf_special_kind saf_special_prefix_kind(size_t i);
const char *saf_special_prefix_describe(size_t i);

/* v4-mapped (::ffff:a.b.c.d) and v4-compatible (::a.b.c.d, except :: and
 * ::1) IPv6 addresses -> family 4; everything else copied. Port kept.
 * -1 only for a family other than 4 or 6. in == out is fine. */
SAF_MUST_CHECK int saf_addr_normalize(const saf_addr *in, saf_addr *out);

#endif /* SAF_POLICY_H */
