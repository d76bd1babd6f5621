/* SPDX-License-Identifier: MIT */
/*
 * Node reports and delay probes between agents and R1: a compact binary
 * datagram, parsed with the bounds-checked cursor, authenticated with
 * HMAC-SHA256 under the key of one node (each node has its own).
 *
 *   "SAFR" | version u8 (3) | type u8 | seq u64 | stamp u64 |
 *   report: node<1..32> load u16 capacity u16 available u8
 *           mem u16 conns u32 statistics u8 window_ms u32
 *   probe:  nonce u64
 *   echo:   node<1..32> nonce u64
 *   | mac[32]
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <string.h>

#include "saf/cursor.h"
#include "saf/sched.h"

static int mac(const uint8_t key[SAF_SCHED_KEY_LEN], const uint8_t *p, size_t n,
	       uint8_t out[SAF_SCHED_MAC_LEN], saf_error *err)
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, SAF_SCHED_KEY_LEN, p, n, out, &len) ||
	    len != SAF_SCHED_MAC_LEN)
		return saf_fail(err, SAF_E_CRYPTO, "report: HMAC failed");
	return 0;
}

/* The cursor has no u32: two big-endian u16 halves are the same bytes. */
static void put_u32(saf_writer *w, uint32_t v)
{
	saf_put_u16(w, (uint16_t)(v >> 16));
	saf_put_u16(w, (uint16_t)v);
}

static int get_u32(saf_reader *r, uint32_t *v, const char *what, saf_error *err)
{
	uint16_t hi, lo;

	if (saf_get_u16(r, &hi, what, err) || saf_get_u16(r, &lo, what, err))
		return -1;
	*v = (uint32_t)hi << 16 | lo;
	return 0;
}

int saf_sched_msg_encode(const saf_sched_msg *m,
			 const uint8_t key[SAF_SCHED_KEY_LEN], uint8_t *buf,
			 size_t cap, size_t *out_len, saf_error *err)
{
	size_t name_len = strlen(m->node);
	saf_writer w;

	if (m->type != SAF_SCHED_PROBE &&
	    (name_len == 0 || name_len > SAF_SCHED_NAME_MAX))
		return saf_fail(err, SAF_E_RANGE,
				"report: node name length %zu outside 1..%u",
				name_len, SAF_SCHED_NAME_MAX);
	if (m->type == SAF_SCHED_REPORT &&
	    (m->load > 1000 || m->capacity > 1000 || m->mem > 1000))
		return saf_fail(err, SAF_E_RANGE,
				"report: load, capacity and memory are "
				"permille (0..1000)");
	if (m->type == SAF_SCHED_REPORT && m->statistics > SAF_CATS_STAT_MIN)
		return saf_fail(err, SAF_E_RANGE,
				"report: statistics %u unknown", m->statistics);
	saf_writer_init(&w, buf, cap);
	saf_put_bytes(&w, (const uint8_t *)SAF_SCHED_MAGIC, 4);
	saf_put_u8(&w, SAF_SCHED_VERSION);
	saf_put_u8(&w, (uint8_t)m->type);
	saf_put_u64(&w, m->seq);
	saf_put_u64(&w, m->stamp);
	if (m->type != SAF_SCHED_PROBE)
		saf_put_vec8(&w, (const uint8_t *)m->node, name_len);
	if (m->type != SAF_SCHED_REPORT)
		saf_put_u64(&w, m->nonce);
	if (m->type == SAF_SCHED_REPORT) {
		saf_put_u16(&w, m->load);
		saf_put_u16(&w, m->capacity);
		saf_put_u8(&w, m->available ? 1 : 0);
		saf_put_u16(&w, m->mem);
		put_u32(&w, m->conns);
		saf_put_u8(&w, m->statistics);
		put_u32(&w, m->window_ms);
	}
	if (saf_writer_finish(&w, "report", err))
		return -1;
	if (cap - w.len < SAF_SCHED_MAC_LEN)
		return saf_fail(err, SAF_E_NOSPACE, "report: no room for MAC");
	if (mac(key, buf, w.len, buf + w.len, err))
		return -1;
	*out_len = w.len + SAF_SCHED_MAC_LEN;
	return 0;
}

int saf_sched_msg_parse(const uint8_t *buf, size_t len, saf_sched_msg *out,
			saf_error *err)
{
	saf_sched_msg m = {0};
	saf_slice magic, name;
	uint8_t version, type, avail;
	saf_reader r;

	if (len < SAF_SCHED_MAC_LEN + 6)
		return saf_fail(err, SAF_E_SHORT, "report: %zu bytes", len);
	saf_reader_init(&r, buf, len - SAF_SCHED_MAC_LEN);
	if (saf_get_bytes(&r, 4, &magic, "report: magic", err) ||
	    saf_get_u8(&r, &version, "report: version", err) ||
	    saf_get_u8(&r, &type, "report: type", err))
		return -1;
	if (memcmp(magic.base, SAF_SCHED_MAGIC, 4) != 0)
		return saf_fail(err, SAF_E_FORMAT, "report: bad magic");
	if (version < SAF_SCHED_VERSION)
		return saf_fail(err, SAF_E_FORMAT,
				"report: old version %u, expected %u (the "
				"sender needs an upgrade)",
				version, SAF_SCHED_VERSION);
	if (version != SAF_SCHED_VERSION)
		return saf_fail(err, SAF_E_FORMAT,
				"report: version %u, expected %u", version,
				SAF_SCHED_VERSION);
	if (type < SAF_SCHED_REPORT || type > SAF_SCHED_ECHO)
		return saf_fail(err, SAF_E_FORMAT, "report: unknown type %u",
				type);
	m.type = (saf_sched_msg_type)type;
	if (saf_get_u64(&r, &m.seq, "report: seq", err) ||
	    saf_get_u64(&r, &m.stamp, "report: stamp", err))
		return -1;
	if (m.type != SAF_SCHED_PROBE) {
		if (saf_get_vec8(&r, 1, SAF_SCHED_NAME_MAX, &name,
				 "report: node name", err))
			return -1;
		memcpy(m.node, name.base, name.len);
		m.node[name.len] = '\0';
		if (memchr(name.base, '\0', name.len))
			return saf_fail(err, SAF_E_FORMAT,
					"report: NUL in node name");
	}
	if (m.type != SAF_SCHED_REPORT &&
	    saf_get_u64(&r, &m.nonce, "report: nonce", err))
		return -1;
	if (m.type == SAF_SCHED_REPORT) {
		if (saf_get_u16(&r, &m.load, "report: load", err) ||
		    saf_get_u16(&r, &m.capacity, "report: capacity", err) ||
		    saf_get_u8(&r, &avail, "report: available", err) ||
		    saf_get_u16(&r, &m.mem, "report: memory", err) ||
		    get_u32(&r, &m.conns, "report: connections", err) ||
		    saf_get_u8(&r, &m.statistics, "report: statistics", err) ||
		    get_u32(&r, &m.window_ms, "report: window", err))
			return -1;
		if (m.load > 1000 || m.capacity > 1000 || avail > 1 ||
		    m.mem > 1000 || m.statistics > SAF_CATS_STAT_MIN)
			return saf_fail(err, SAF_E_RANGE,
					"report: metric out of range");
		m.available = avail == 1;
	}
	if (saf_reader_expect_end(&r, "report", err))
		return -1;
	*out = m;
	return 0;
}

int saf_sched_msg_verify(const uint8_t *buf, size_t len,
			 const uint8_t key[SAF_SCHED_KEY_LEN], saf_error *err)
{
	uint8_t expect[SAF_SCHED_MAC_LEN];
	size_t body;

	if (len < SAF_SCHED_MAC_LEN)
		return saf_fail(err, SAF_E_SHORT, "report: %zu bytes", len);
	body = len - SAF_SCHED_MAC_LEN;
	if (mac(key, buf, body, expect, err))
		return -1;
	if (CRYPTO_memcmp(expect, buf + body, SAF_SCHED_MAC_LEN) != 0)
		return saf_fail(err, SAF_E_REFUSED,
				"report: MAC does not verify (forged, or "
				"another key)");
	return 0;
}

int saf_sched_msg_decode(const uint8_t *buf, size_t len,
			 const uint8_t key[SAF_SCHED_KEY_LEN],
			 saf_sched_msg *out, saf_error *err)
{
	saf_sched_msg m;

	if (saf_sched_msg_parse(buf, len, &m, err) ||
	    saf_sched_msg_verify(buf, len, key, err))
		return -1;
	*out = m;
	return 0;
}

saf_cats_l0 saf_sched_msg_l0(const saf_sched_msg *m, double delay_ms)
{
	saf_cats_meta meta = {.source = SAF_CATS_SRC_ESTIMATION,
			      .statistics = (saf_cats_stat)m->statistics,
			      .window_ms = m->window_ms};
	saf_cats_l0 l0 = {
		.cpu_permille = m->load,
		.mem_permille = m->mem,
		.capacity = m->capacity,
		.conns = m->conns,
		.delay_known = delay_ms >= 0,
		.delay_us =
			delay_ms >= 0 ? (uint32_t)(delay_ms * 1000.0 + 0.5) : 0,
		.cpu_meta = meta,
		.mem_meta = meta,
		.conns_meta = meta,
		/* R1 measures the delay itself (probes, smoothed) */
		.delay_meta = {SAF_CATS_SRC_ESTIMATION, SAF_CATS_STAT_MEAN, 0},
	};
	return l0;
}
