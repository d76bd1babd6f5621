/* SPDX-License-Identifier: MIT */
/*
 * The client target policy (saf/policy.h): which addresses an advert, a
 * token or a continuity target may send a client to. Pure, no I/O.
 */
#include "saf/policy.h"

#include <stdio.h>
#include <string.h>

#define V4(a, b, c, d)                                                         \
	{                                                                      \
		.family = 4, .bytes = { a, b, c, d }                           \
	}
#define V6(...)                                                                \
	{                                                                      \
		.family = 6, .bytes = { __VA_ARGS__ }                          \
	}

/*
 * The IANA special-purpose address registries (iana-ipv4-special-registry,
 * iana-ipv6-special-registry), plus the multicast ranges, the reserved
 * 240/4 and the deprecated IPv6 forms. One list, expanded twice below: into
 * the saf_prefix table (for a kernel deny map) and into its descriptions.
 *
 * Registry entries deliberately NOT refused, as they are globally
 * reachable services and not a way into a private network:
 * 192.31.196.0/24 AS112-v4 (RFC 7535), 192.52.193.0/24 AMT (RFC 7450),
 * 192.175.48.0/24 direct delegation AS112 (RFC 7534), 2620:4f:8000::/48
 * AS112-v6 (RFC 7534). Sub-entries of a refused block (192.0.0.9/32 PCP
 * anycast, 2001:1::1/128, 2001:20::/28 ORCHIDv2, ...) are refused with it:
 * no saf service lives there.
 */
#define SAF_SPECIAL_LIST(X)                                                    \
	/* IPv4 */                                                             \
	X(V4(0, 0, 0, 0), 8, NEVER, "this network (RFC 791)")                  \
	X(V4(10, 0, 0, 0), 8, RESTRICTED, "private-use (RFC 1918)")            \
	X(V4(100, 64, 0, 0), 10, RESTRICTED,                                   \
	  "shared address space/CGN (RFC 6598)")                               \
	X(V4(127, 0, 0, 0), 8, LOOPBACK, "loopback (RFC 1122)")                \
	X(V4(169, 254, 0, 0), 16, RESTRICTED, "link-local (RFC 3927)")         \
	X(V4(172, 16, 0, 0), 12, RESTRICTED, "private-use (RFC 1918)")         \
	X(V4(192, 0, 0, 0), 24, RESTRICTED,                                    \
	  "IETF protocol assignments (RFC 6890)")                              \
	X(V4(192, 0, 2, 0), 24, RESTRICTED, "documentation (RFC 5737)")        \
	X(V4(192, 88, 99, 0), 24, RESTRICTED, "6to4 relay anycast (RFC 7526)") \
	X(V4(192, 168, 0, 0), 16, RESTRICTED, "private-use (RFC 1918)")        \
	X(V4(198, 18, 0, 0), 15, RESTRICTED, "benchmarking (RFC 2544)")        \
	X(V4(198, 51, 100, 0), 24, RESTRICTED, "documentation (RFC 5737)")     \
	X(V4(203, 0, 113, 0), 24, RESTRICTED, "documentation (RFC 5737)")      \
	X(V4(224, 0, 0, 0), 4, NEVER, "multicast (RFC 5771)")                  \
	X(V4(240, 0, 0, 0), 4, RESTRICTED, "reserved (RFC 1112)")              \
	X(V4(255, 255, 255, 255), 32, NEVER, "limited broadcast (RFC 919)")    \
	/* IPv6 */                                                             \
	X(V6(0), 128, NEVER, "unspecified (RFC 4291)")                         \
	X(V6([15] = 1), 128, LOOPBACK, "loopback (RFC 4291)")                  \
	X(V6(0), 96, RESTRICTED, "IPv4-compatible, deprecated (RFC 4291)")     \
	X(V6([10] = 0xff, [11] = 0xff), 96, RESTRICTED,                        \
	  "IPv4-mapped (RFC 4291)")                                            \
	X(V6(0, 0x64, 0xff, 0x9b), 96, EMBEDS_V4, "NAT64 (RFC 6052)")          \
	X(V6(0, 0x64, 0xff, 0x9b, 0, 1), 48, RESTRICTED,                       \
	  "local-use NAT64 (RFC 8215)")                                        \
	X(V6(1, 0), 64, RESTRICTED, "discard-only (RFC 6666)")                 \
	X(V6(1, 0, 0, 0, 0, 0, 0, 1), 64, RESTRICTED,                          \
	  "dummy prefix (RFC 9780)")                                           \
	X(V6(0x20, 0x01), 23, RESTRICTED,                                      \
	  "IETF protocol assignments (RFC 2928)")                              \
	X(V6(0x20, 0x01, 0x0d, 0xb8), 32, RESTRICTED,                          \
	  "documentation (RFC 3849)")                                          \
	X(V6(0x20, 0x02), 16, EMBEDS_V4, "6to4 (RFC 3056)")                    \
	X(V6(0x3f, 0xff), 20, RESTRICTED, "documentation (RFC 9637)")          \
	X(V6(0x5f, 0x00), 16, RESTRICTED, "segment routing SIDs (RFC 9602)")   \
	X(V6(0xfc), 7, RESTRICTED, "unique-local (RFC 4193)")                  \
	X(V6(0xfe, 0x80), 10, RESTRICTED, "link-local (RFC 4291)")             \
	X(V6(0xfe, 0xc0), 10, RESTRICTED, "site-local, deprecated (RFC 3879)") \
	X(V6(0xff), 8, NEVER, "multicast (RFC 4291)")                          \
	/* IANA's IPv6 address space outside 2000::/3 is "Reserved by IETF"    \
	 * (or one of the entries above): no global unicast lives there. */    \
	X(V6(0), 3, RESTRICTED, "IETF-reserved, outside 2000::/3 (RFC 4291)")  \
	X(V6(0x40), 2, RESTRICTED,                                             \
	  "IETF-reserved, outside 2000::/3 (RFC 4291)")                        \
	X(V6(0x80), 1, RESTRICTED, "IETF-reserved, outside 2000::/3 (RFC 4291)")

#define AS_PREFIX(a, l, k, d) {.addr = a, .len = l},
#define AS_KIND(a, l, k, d)   SAF_SPECIAL_##k,
#define AS_DESC(a, l, k, d)   d,

static const saf_prefix special[] = {SAF_SPECIAL_LIST(AS_PREFIX)};
static const saf_special_kind special_kind[] = {SAF_SPECIAL_LIST(AS_KIND)};
static const char *const special_desc[] = {SAF_SPECIAL_LIST(AS_DESC)};

#define N_SPECIAL (sizeof(special) / sizeof(special[0]))

_Static_assert(sizeof(special_kind) / sizeof(special_kind[0]) == N_SPECIAL,
	       "one kind per prefix");

/* Longest text of one prefix: a full IPv6 address, '/', 3 digits. */
#define PREFIX_TEXT_MAX 64u

size_t saf_special_prefixes(const saf_prefix **out)
{
	*out = special;
	return N_SPECIAL;
}

saf_special_kind saf_special_prefix_kind(size_t i)
{
	return i < N_SPECIAL ? special_kind[i] : SAF_SPECIAL_NEVER;
}

const char *saf_special_prefix_describe(size_t i)
{
	return i < N_SPECIAL ? special_desc[i] : "unknown";
}

int saf_addr_normalize(const saf_addr *in, saf_addr *out)
{
	static const uint8_t zero[10];
	saf_addr a = *in;

	if (a.family != 4 && a.family != 6)
		return -1;
	if (a.family == 6 && memcmp(a.bytes, zero, sizeof(zero)) == 0) {
		bool mapped = a.bytes[10] == 0xff && a.bytes[11] == 0xff;
		/* ::a.b.c.d, but not :: or ::1, which are IPv6's own. */
		bool compat = a.bytes[10] == 0 && a.bytes[11] == 0 &&
			      (a.bytes[12] | a.bytes[13] | a.bytes[14]) != 0;

		if (mapped || compat) {
			uint8_t v4[SAF_IPV4_LEN];

			memcpy(v4, a.bytes + 12, sizeof(v4));
			memset(a.bytes, 0, sizeof(a.bytes));
			memcpy(a.bytes, v4, sizeof(v4));
			a.family = 4;
		}
	}
	*out = a;
	return 0;
}

static bool bits_equal(const uint8_t *x, const uint8_t *y, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((x[full] ^ y[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool saf_prefix_contains(const saf_prefix *p, const saf_addr *a)
{
	saf_addr n;

	if (saf_addr_normalize(a, &n) || n.family != p->addr.family)
		return false;
	return bits_equal(p->addr.bytes, n.bytes, p->len);
}

/* Index of the longest special prefix holding `a` (normalised), or -1. */
static int special_match(const saf_addr *a)
{
	int best = -1;

	for (size_t i = 0; i < N_SPECIAL; i++) {
		if (special[i].addr.family != a->family ||
		    !bits_equal(special[i].addr.bytes, a->bytes,
				special[i].len))
			continue;
		if (best < 0 || special[i].len > special[best].len)
			best = (int)i;
	}
	return best;
}

int saf_prefix_parse(const char *text, saf_prefix *out, saf_error *err)
{
	saf_prefix p;
	unsigned len;

	memset(&p, 0, sizeof(p));
	if (saf_addr_prefix_parse(text, &p.addr, &len, err))
		return -1;
	p.len = (uint8_t)len;
	p.addr.port = 0;
	p.addr.has_port = false;
	/* "::ffff:10.0.0.0/104" means 10.0.0.0/8: targets are normalised
	 * before they are compared, so the prefix must be too. */
	if (p.addr.family == 6 && len >= 96 && p.addr.bytes[10] == 0xff &&
	    p.addr.bytes[11] == 0xff) {
		saf_addr v4;

		if (saf_addr_normalize(&p.addr, &v4) == 0 && v4.family == 4) {
			p.addr = v4;
			p.len = (uint8_t)(len - 96);
		}
	}
	*out = p;
	return 0;
}

void saf_target_policy_init(saf_target_policy *p)
{
	memset(p, 0, sizeof(*p));
}

int saf_target_policy_allow(saf_target_policy *p, const char *prefix_text,
			    saf_error *err)
{
	saf_prefix parsed[SAF_POLICY_MAX_ALLOW];
	size_t n = 0;
	const char *s = prefix_text;

	if (!prefix_text)
		return saf_fail(err, SAF_E_INVAL, "allowed prefix: none given");
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char one[PREFIX_TEXT_MAX];

		if (len == 0)
			return saf_fail(err, SAF_E_FORMAT,
					"allowed prefixes '%s': empty entry",
					prefix_text);
		if (len >= sizeof(one))
			return saf_fail(err, SAF_E_RANGE,
					"allowed prefix: %zu characters, too "
					"long",
					len);
		if (p->n_allow + n >= SAF_POLICY_MAX_ALLOW)
			return saf_fail(err, SAF_E_RANGE,
					"allowed prefixes: at most %d",
					SAF_POLICY_MAX_ALLOW);
		memcpy(one, s, len);
		one[len] = '\0';
		if (saf_prefix_parse(one, &parsed[n], err))
			return -1;
		n++;
		if (!comma)
			break;
		s = comma + 1;
	}
	memcpy(p->allow + p->n_allow, parsed, n * sizeof(parsed[0]));
	p->n_allow += n;
	return 0;
}

/* The IPv4 address a NAT64 or 6to4 address embeds. */
static saf_addr embedded_v4(const saf_addr *a, size_t entry)
{
	saf_addr v4;
	/* NAT64 /96: the last 32 bits (RFC 6052 2.2); 6to4: bits 16..47. */
	size_t at = special[entry].len == 96 ? 12 : 2;

	memset(&v4, 0, sizeof(v4));
	v4.family = 4;
	memcpy(v4.bytes, a->bytes + at, SAF_IPV4_LEN);
	return v4;
}

static bool in_allow_list(const saf_target_policy *p, const saf_addr *a)
{
	for (size_t i = 0; i < p->n_allow; i++)
		if (saf_prefix_contains(&p->allow[i], a))
			return true;
	return false;
}

static int refuse(const saf_addr *target, const char *what, const char *reason,
		  const char *via, saf_error *err)
{
	char buf[SAF_ADDR_STR_LEN];
	saf_addr ip = *target;

	ip.has_port = false;
	return saf_fail(err, SAF_E_REFUSED,
			"%s for %s rejected: %s%s%s not allowed by the target "
			"policy",
			what, saf_addr_format(&ip, buf), reason,
			via ? " via " : "", via ? via : "");
}

int saf_target_policy_check(const saf_target_policy *p, const saf_addr *target,
			    const char *what, saf_error *err)
{
	static const saf_target_policy dflt;
	const char *via = NULL;
	saf_addr a;
	int m;

	if (!p)
		p = &dflt;
	if (!what)
		what = "target";
	if (saf_addr_normalize(target, &a))
		return saf_fail(err, SAF_E_INVAL,
				"%s rejected: address family %u", what,
				target->family);
	m = special_match(&a);
	if (m >= 0 && special_kind[m] == SAF_SPECIAL_EMBEDS_V4) {
		saf_addr v4 = embedded_v4(&a, (size_t)m);
		int m4 = special_match(&v4);

		/* A translator would carry the client to the embedded IPv4
		 * address: when that one is special, judge it instead. */
		if (m4 >= 0) {
			via = special_desc[m];
			a = v4;
			m = m4;
		} else {
			m = -1; /* a global IPv4 behind a translator */
		}
	}
	if (m >= 0 && special_kind[m] == SAF_SPECIAL_NEVER)
		return refuse(target, what, special_desc[m], via, err);
	if (m >= 0 && special_kind[m] == SAF_SPECIAL_LOOPBACK) {
		if (p->allow_loopback)
			return 0;
		return refuse(target, what, special_desc[m], via, err);
	}
	if (p->n_allow > 0) {
		char buf[SAF_ADDR_STR_LEN];
		saf_addr ip = *target;

		if (in_allow_list(p, &a))
			return 0;
		ip.has_port = false;
		return saf_fail(err, SAF_E_REFUSED,
				"%s for %s rejected: %s%soutside the %zu "
				"allowed prefix%s of the target policy",
				what, saf_addr_format(&ip, buf),
				m >= 0 ? special_desc[m] : "",
				m >= 0 ? ", " : "", p->n_allow,
				p->n_allow == 1 ? "" : "es");
	}
	if (m >= 0)
		return refuse(target, what, special_desc[m], via, err);
	return 0;
}
