/* SPDX-License-Identifier: MIT */
/*
 * ExaBGP's text API without I/O: the commands saf writes (announce,
 * withdraw), the messages it reads back (ExaBGP 4.2's text encoder, see
 * exabgp/reactor/api/response/text.py), and the speaker's configuration.
 */
#include <stdarg.h>
#include <string.h>

#include "saf/bgp.h"

typedef struct outbuf {
	char *buf;
	size_t cap, len;
	bool overflow;
} outbuf;

__attribute__((format(printf, 2, 3))) static void put(outbuf *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

static int route_head(const saf_bgp_route *r, const char *verb, outbuf *o,
		      saf_error *err)
{
	char p[SAF_ADDR_STR_LEN], nh[SAF_ADDR_STR_LEN];
	saf_addr a = r->prefix, n = r->nexthop;

	if ((a.family != 4 && a.family != 6) || n.family != a.family)
		return saf_fail(err, SAF_E_INVAL,
				"bgp route: prefix and next hop must be one "
				"family (IPv%u, IPv%u)",
				a.family, n.family);
	a.has_port = n.has_port = false;
	put(o, "%s route %s/%u next-hop %s", verb, saf_addr_format(&a, p),
	    a.family == 4 ? 32u : 128u, saf_addr_format(&n, nh));
	return 0;
}

static int finish(outbuf *o, size_t *len, saf_error *err)
{
	put(o, "\n");
	if (o->overflow)
		return saf_fail(err, SAF_E_NOSPACE,
				"bgp command: %zu bytes of buffer too short",
				o->cap);
	*len = o->len;
	return 0;
}

int saf_exabgp_announce(const saf_bgp_route *r, char *buf, size_t cap,
			size_t *len, saf_error *err)
{
	outbuf o = {buf, cap, 0, cap == 0};

	if (route_head(r, "announce", &o, err))
		return -1;
	if (r->has_med)
		put(&o, " med %u", r->med);
	if (r->has_local_pref)
		put(&o, " local-preference %u", r->local_pref);
	if (r->has_community)
		put(&o, " community [%u:%u]", r->community >> 16,
		    r->community & 0xffffu);
	if (r->has_link_bw) {
		uint32_t bits;
		float bw = r->link_bw < 0 ? 0 : r->link_bw;

		memcpy(&bits, &bw, sizeof(bits));
		put(&o, " extended-community [0x%02x%02x%04x%08x]",
		    SAF_BGP_LBW_TYPE, SAF_BGP_LBW_SUBTYPE, r->link_bw_as, bits);
	}
	return finish(&o, len, err);
}

int saf_exabgp_withdraw(const saf_bgp_route *r, char *buf, size_t cap,
			size_t *len, saf_error *err)
{
	outbuf o = {buf, cap, 0, cap == 0};

	if (route_head(r, "withdraw", &o, err))
		return -1;
	return finish(&o, len, err);
}

/* Copies the printable part of s (len bytes) into a NUL-terminated dst. */
static void printable(char *dst, size_t cap, const char *s, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 1 < cap; i++)
		dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[j] = '\0';
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return len == strlen(w) && memcmp(s, w, len) == 0;
}

/* "neighbor ADDR EVENT[ rest]": ADDR and EVENT are single words. */
static int parse_neighbor(const char *line, size_t len, saf_exabgp_msg *m,
			  saf_error *err)
{
	const char *p = line + strlen("neighbor "), *end = line + len;
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	char addr[SAF_ADDR_STR_LEN];

	if (!sp || sp == p || (size_t)(sp - p) >= sizeof(addr))
		return saf_fail(
			err, SAF_E_FORMAT,
			"exabgp message: 'neighbor' without an address");
	memcpy(addr, p, (size_t)(sp - p));
	addr[sp - p] = '\0';
	if (saf_addr_parse(addr, false, &m->peer, err) || m->peer.has_port)
		return saf_fail(err, SAF_E_FORMAT,
				"exabgp message: neighbor address '%s' does "
				"not parse",
				addr);
	const char *ev = sp + 1, *ev_end = memchr(ev, ' ', (size_t)(end - ev));
	size_t ev_len = (size_t)((ev_end ? ev_end : end) - ev);

	if (word_is(ev, ev_len, "up"))
		m->type = SAF_EXABGP_UP;
	else if (word_is(ev, ev_len, "connected"))
		m->type = SAF_EXABGP_CONNECTED;
	else if (word_is(ev, ev_len, "down")) {
		const char *r = ev_end ? ev_end + 1 : end;

		/* "down - REASON" */
		if (end - r >= 2 && r[0] == '-' && r[1] == ' ')
			r += 2;
		m->type = SAF_EXABGP_DOWN;
		printable(m->reason, sizeof(m->reason), r, (size_t)(end - r));
	} else
		m->type = SAF_EXABGP_OTHER; /* received updates, keepalives */
	return 0;
}

int saf_exabgp_parse(const char *line, size_t len, saf_exabgp_msg *out,
		     saf_error *err)
{
	saf_exabgp_msg m = {.type = SAF_EXABGP_OTHER};

	if (len > SAF_BGP_LINE_MAX)
		return saf_fail(err, SAF_E_FORMAT,
				"exabgp message: %zu bytes, over %u", len,
				SAF_BGP_LINE_MAX);
	if (memchr(line, '\0', len))
		return saf_fail(err, SAF_E_FORMAT,
				"exabgp message: a NUL byte in the line");
	if (len && line[len - 1] == '\r')
		len--;
	if (word_is(line, len, "done"))
		m.type = SAF_EXABGP_DONE;
	else if (word_is(line, len, "error"))
		m.type = SAF_EXABGP_ERROR;
	else if (len >= 9 && memcmp(line, "shutdown ", 9) == 0)
		m.type = SAF_EXABGP_SHUTDOWN;
	else if (len >= 9 && memcmp(line, "neighbor ", 9) == 0) {
		if (parse_neighbor(line, len, &m, err))
			return -1;
	}
	*out = m;
	return 0;
}

int saf_exabgp_config(const saf_bgp_speaker_cfg *c, const char *relay_path,
		      FILE *f, saf_error *err)
{
	char local[SAF_ADDR_STR_LEN], peer[SAF_ADDR_STR_LEN];
	saf_addr l = c->local;

	if (c->n_peers == 0 || c->n_peers > SAF_BGP_PEERS_MAX)
		return saf_fail(err, SAF_E_INVAL,
				"bgp speaker: 1..%u peers, not %zu",
				SAF_BGP_PEERS_MAX, c->n_peers);
	if (l.family != 4)
		return saf_fail(err, SAF_E_INVAL,
				"bgp speaker: the local address is the router "
				"id and must be IPv4");
	l.has_port = false;
	saf_addr_format(&l, local);
	fprintf(f,
		"process saf {\n  run %s;\n  encoder text;\n}\n"
		"template {\n  neighbor saf {\n"
		"    router-id %s;\n    local-address %s;\n"
		"    local-as %u;\n    peer-as %u;\n    hold-time %u;\n"
		"    family {\n      ipv4 unicast;\n      ipv6 unicast;\n    "
		"}\n"
		"    api {\n      processes [ saf ];\n      neighbor-changes;\n"
		"    }\n  }\n}\n",
		relay_path, local, local, c->as, c->as,
		c->hold_time ? c->hold_time : SAF_BGP_HOLD_DEFAULT);
	for (size_t i = 0; i < c->n_peers; i++) {
		saf_addr p = c->peers[i];

		if (p.family != 4)
			return saf_fail(err, SAF_E_INVAL,
					"bgp speaker: peer %zu: the sessions "
					"run over IPv4 (IPv6 routes ride on "
					"them)",
					i + 1);
		p.has_port = false;
		fprintf(f, "neighbor %s {\n  inherit saf;\n}\n",
			saf_addr_format(&p, peer));
	}
	if (ferror(f))
		return saf_fail(
			err, SAF_E_SYS,
			"bgp speaker: writing the configuration failed");
	return 0;
}
