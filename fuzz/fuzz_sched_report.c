/* SPDX-License-Identifier: MIT */
/* libFuzzer: the scheduler's report/probe datagram parser, three times per
 * input: the bytes as received (a random MAC: never accepted), the bytes
 * as a body sealed with the right MAC, and a valid message built from the
 * input's first bytes, signed with its node's key, which must decode to
 * the same fields and be taken by the receive path (asserted: the success
 * path is reached on every input), and refused under another node's key.
 * Whatever decodes must encode back to the same bytes. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saf/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[SAF_SCHED_KEY_LEN] = {0x42};
static const uint8_t other[SAF_SCHED_KEY_LEN] = {0x43};

static uint64_t take(const uint8_t **p, size_t *n, size_t k)
{
	uint64_t v = 0;

	for (size_t i = 0; i < k && *n; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return v;
}

/* A valid message from the input's first bytes: it must decode to what
 * was encoded, be accepted by R1's receive path, and be refused when
 * signed with another node's key. */
static void valid_message(const uint8_t *data, size_t size)
{
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_sched_msg m = {0}, out;
	saf_sched_node *node;
	saf_sched_keyring kr = {.n = 2};
	saf_error err;
	size_t len, name_len;
	static saf_sched s;

	m.type = (saf_sched_msg_type)(1 + take(&data, &size, 1) % 3);
	name_len = 1 + (size_t)(take(&data, &size, 1) % SAF_SCHED_NAME_MAX);
	for (size_t i = 0; i < name_len; i++) {
		uint8_t c = (uint8_t)take(&data, &size, 1);
		m.node[i] = (char)(c ? c : 'x'); /* any byte but NUL */
	}
	m.seq = take(&data, &size, 8);
	m.stamp = take(&data, &size, 8);
	m.nonce = take(&data, &size, 8);
	if (m.type == SAF_SCHED_REPORT) {
		m.load = (uint16_t)(take(&data, &size, 2) % 1001);
		m.capacity = (uint16_t)(take(&data, &size, 2) % 1001);
		m.available = take(&data, &size, 1) & 1;
		m.mem = (uint16_t)(take(&data, &size, 2) % 1001);
		m.conns = (uint32_t)take(&data, &size, 4);
		m.statistics = (uint8_t)(take(&data, &size, 1) % 4);
		m.window_ms = (uint32_t)take(&data, &size, 4);
	}
	if (m.type == SAF_SCHED_PROBE)
		memset(m.node, 0, sizeof(m.node));
	if (saf_sched_msg_encode(&m, key, buf, sizeof(buf), &len, &err) ||
	    saf_sched_msg_decode(buf, len, key, &out, &err) ||
	    out.type != m.type || strcmp(out.node, m.node) != 0 ||
	    out.seq != m.seq || out.stamp != m.stamp ||
	    (m.type != SAF_SCHED_REPORT && out.nonce != m.nonce) ||
	    out.load != m.load || out.capacity != m.capacity ||
	    out.available != m.available || out.mem != m.mem ||
	    out.conns != m.conns || out.statistics != m.statistics ||
	    out.window_ms != m.window_ms)
		abort();
	if (saf_sched_msg_decode(buf, len, other, &out, &err) == 0 ||
	    err.code != SAF_E_REFUSED)
		abort(); /* another node's key verifies nothing */
	if (m.type == SAF_SCHED_PROBE)
		return; /* R1 sends probes, it does not take them */
	/* R1's receive path: node "victim" (the other key) and this node. */
	saf_sched_init(&s, NULL);
	snprintf(kr.e[0].name, sizeof(kr.e[0].name), "%s", m.node);
	memcpy(kr.e[0].key, key, sizeof(key));
	snprintf(kr.e[1].name, sizeof(kr.e[1].name), "%s",
		 strcmp(m.node, "victim") ? "victim" : "victim2");
	memcpy(kr.e[1].key, other, sizeof(other));
	memcpy(s.nodes[0].name, m.node, sizeof(m.node));
	memcpy(s.nodes[1].name, kr.e[1].name, sizeof(kr.e[1].name));
	s.n_nodes = 2;
	if (saf_sched_set_keys(&s, &kr, &err) ||
	    saf_sched_on_datagram(&s, buf, len, 0, m.stamp, &out, &node) ||
	    node != &s.nodes[0] ||
	    (m.type == SAF_SCHED_REPORT && s.ctr.reports != 1))
		abort();
}

static void round_trip(const uint8_t *buf, size_t len)
{
	uint8_t again[SAF_SCHED_MSG_MAX + 64];
	saf_sched_msg m;
	saf_error err;
	size_t n;

	if (saf_sched_msg_decode(buf, len, key, &m, &err) != 0)
		return;
	if (saf_sched_msg_encode(&m, key, again, sizeof(again), &n, &err) !=
		    0 ||
	    n != len || memcmp(again, buf, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sealed[SAF_SCHED_MSG_MAX + SAF_SCHED_MAC_LEN];
	unsigned int maclen = 0;

	valid_message(data, size);
	round_trip(data, size);
	if (size > SAF_SCHED_MSG_MAX)
		return 0;
	memcpy(sealed, data, size);
	if (!HMAC(EVP_sha256(), key, sizeof(key), data, size, sealed + size,
		  &maclen) ||
	    maclen != SAF_SCHED_MAC_LEN)
		abort();
	round_trip(sealed, size + SAF_SCHED_MAC_LEN);
	return 0;
}
