/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Node side of the TCP Service Affinity option (SPEC section 2).
 *
 * For a SYN that carries SAF and is addressed to a configured anycast
 * address (and port), write into the SYN-ACK the node's unicast address:
 * the longest form that fits, port-less only when the advertised port is
 * the connection's own. Nothing for SYNs without SAF, to unicast addresses,
 * or from clients outside the allow-list. The connections on the anycast
 * address that asked for an advert get TCP keepalive (arm_keepalive).
 *
 * No per-connection state: every decision is made again from the SYN (kept
 * with TCP_SAVE_SYN, so retransmitted SYN-ACKs carry the advert too) and
 * the configuration maps. Works under SYN cookies, where the SYN is at hand.
 */
#include "saf_common.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct saf_anycast_key);
	__type(value, struct saf_advert_val);
} saf_anycast SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct saf_allow_key);
	__type(value, __u8);
} saf_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct saf_bpf_config);
} saf_node_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SAF_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} saf_node_counters SEC(".maps");

/* Per client address: the theoretical arrival time of its next advert
 * (GCRA). LRU, so a flood of sources evicts the oldest, never grows. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SAF_RATE_ENTRIES);
	__type(key, struct saf_bpf_addr);
	__type(value, __u64);
} saf_rate SEC(".maps");

/* The rate-limit key of a client: its IPv4 address (v4-mapped), or its
 * IPv6 address cut to cfg->rate_v6_prefix bits. One IPv6 host usually
 * holds a whole /64 and can send from any address in it, so a per-/128
 * budget would be no limit at all. */
static __always_inline void rate_key(const struct saf_bpf_config *cfg,
				     const struct saf_bpf_addr *client,
				     struct saf_bpf_addr *key)
{
	int plen = cfg->rate_v6_prefix ? cfg->rate_v6_prefix : 64;

	*key = *client;
	if (key->bytes[10] == 0xff && key->bytes[11] == 0xff &&
	    !(key->bytes[0] | key->bytes[1] | key->bytes[2] | key->bytes[3] |
	      key->bytes[4] | key->bytes[5] | key->bytes[6] | key->bytes[7] |
	      key->bytes[8] | key->bytes[9]))
		return; /* IPv4: the whole address */
#pragma unroll
	for (int i = 0; i < 16; i++) {
		int bits = plen - i * 8;

		if (bits <= 0)
			key->bytes[i] = 0;
		else if (bits < 8)
			key->bytes[i] &= (__u8)(0xff << (8 - bits));
	}
}

/* The seeds' security note: anyone can send SAF to learn the unicast
 * address, so adverts are rate-limited per client address (IPv6: per
 * prefix, see rate_key). 1: allowed. */
static __always_inline int rate_ok(const struct saf_bpf_config *cfg,
				   const struct saf_bpf_addr *client)
{
	__u64 now = bpf_ktime_get_ns(), interval, tolerance, tat;
	struct saf_bpf_addr key;
	__u64 *v;

	if (!cfg->advert_rate)
		return 1;
	rate_key(cfg, client, &key);
	interval = 1000000000ull / cfg->advert_rate;
	tolerance = interval * (cfg->advert_burst ? cfg->advert_burst - 1 : 0);
	v = bpf_map_lookup_elem(&saf_rate, &key);
	tat = v && *v > now ? *v : now;
	if (tat - now > tolerance)
		return 0;
	tat += interval;
	if (v)
		*v = tat; /* a race between CPUs only loses one step */
	else
		bpf_map_update_elem(&saf_rate, &key, &tat, BPF_ANY);
	return 1;
}

/* The advert this segment should carry, decided from scratch. */
struct decision {
	struct saf_advert_val v;
	__u16 conn_port;
	struct saf_bpf_addr client;
};

static __always_inline struct saf_bpf_config *node_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&saf_node_config, &zero);
}

/* What a connection's SYN asks of this node, before the rate limit. */
enum ask {
	ASK_NONE,        /* no SAF (or no saved SYN, see below) */
	ASK_NOT_ANYCAST, /* SAF to an address that is not anycast */
	ASK_NOT_ALLOWED, /* SAF to S from a client outside the allow-list */
	ASK_ADVERT,      /* SAF to S from an allowed client: *d filled */
};

/* Decides from the SYN (the saved one outside the SYN-ACK callbacks) and
 * the maps. With syn_unknown_ok, a missing saved SYN counts as SAF: that
 * is a child made from a SYN cookie, whose SYN is gone (see
 * arm_keepalive). */
static __always_inline int classify(struct bpf_sock_ops *skops,
				    struct saf_bpf_config *cfg,
				    struct decision *d, int syn_unknown_ok)
{
	__u8 opt[4] = { cfg->kind, 4, SAF_EXID_HI(cfg), SAF_EXID_LO(cfg) };
	struct saf_anycast_key key = {};
	struct saf_allow_key client = { .prefixlen = 128 };
	struct saf_advert_val *v;
	int n;

	/* Did the SYN carry SAF? (the saved SYN for retransmissions) */
	n = bpf_load_hdr_opt(skops, opt, sizeof(opt),
			     BPF_LOAD_HDR_OPT_TCP_SYN);
	if (n != SAF_TCPOPT_LEN_FLAG && !(syn_unknown_ok && n == -ENOENT))
		return ASK_NONE;

	if (skops->family == AF_INET) {
		map_v4(&key.addr, skops->local_ip4);
		map_v4(&client.addr, skops->remote_ip4);
	} else {
		__u32 l[4] = { skops->local_ip6[0], skops->local_ip6[1],
			       skops->local_ip6[2], skops->local_ip6[3] };
		__u32 r[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
			       skops->remote_ip6[2], skops->remote_ip6[3] };

		__builtin_memcpy(key.addr.bytes, l, 16);
		__builtin_memcpy(client.addr.bytes, r, 16);
	}
	key.port = (__u16)skops->local_port;
	v = bpf_map_lookup_elem(&saf_anycast, &key);
	if (!v) {
		key.port = 0;
		v = bpf_map_lookup_elem(&saf_anycast, &key);
	}
	if (!v)
		return ASK_NOT_ANYCAST;
	if (!cfg->allow_all && !bpf_map_lookup_elem(&saf_allow, &client))
		return ASK_NOT_ALLOWED;
	d->v = *v;
	d->conn_port = (__u16)skops->local_port;
	d->client = client.addr;
	return ASK_ADVERT;
}

/* Returns 1 and fills *d when this SYN-ACK gets an advert. */
static __always_inline int decide(struct bpf_sock_ops *skops,
				  struct saf_bpf_config *cfg,
				  struct decision *d)
{
	int ask = classify(skops, cfg, d, 0);

	if (ask == ASK_NOT_ANYCAST)
		count(&saf_node_counters, SAF_CTR_NODE_NOT_ANYCAST);
	if (ask == ASK_NOT_ALLOWED || ask == ASK_ADVERT)
		count(&saf_node_counters, SAF_CTR_NODE_SAF_SEEN);
	if (ask == ASK_NOT_ALLOWED)
		count(&saf_node_counters, SAF_CTR_NODE_NOT_ALLOWED);
	return ask == ASK_ADVERT;
}

/* A client that follows the advert leaves its connection on S with RST.
 * When R1 moves S between the client's ACK and that RST, the RST reaches
 * another node, and this one keeps an ESTABLISHED connection nobody uses:
 * the unmodified application holds it forever. So every connection on S
 * whose SYN asked for an advert gets TCP keepalive. The probes go to the
 * client's own address; its kernel has no socket left and answers RST (or
 * the answer is lost too, and the probes go unanswered): the connection
 * ends within idle + intvl * cnt seconds and the application reads
 * ECONNRESET (or ETIMEDOUT). A client still using S answers the probes.
 * An application that sets keepalive itself later overrides this.
 *
 * Decided from the saved SYN like the advert, without the rate limit (that
 * step is not repeatable): a client whose advert was skipped gets
 * keepalive too, which only costs it a probe per idle period. A child made
 * from a SYN cookie has no saved SYN; one of an armed listener (the option
 * callbacks inherited) is taken as asking, since its SYN-ACK may well have
 * carried an advert. */
static __always_inline void arm_keepalive(struct bpf_sock_ops *skops,
					  struct saf_bpf_config *cfg)
{
	int idle = cfg->keepalive_idle, intvl = cfg->keepalive_intvl;
	int cnt = cfg->keepalive_cnt, one = 1;
	int armed = skops->bpf_sock_ops_cb_flags &
		    BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG;
	struct decision d = {};

	if (!idle || classify(skops, cfg, &d, armed) != ASK_ADVERT)
		return;
	/* Times first: SO_KEEPALIVE starts the timer with them. */
	if (bpf_setsockopt(skops, SOL_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    bpf_setsockopt(skops, SOL_TCP, TCP_KEEPINTVL, &intvl,
			   sizeof(intvl)) ||
	    bpf_setsockopt(skops, SOL_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) ||
	    bpf_setsockopt(skops, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)))
		count(&saf_node_counters, SAF_CTR_NODE_KEEPALIVE_FAILED);
	else
		count(&saf_node_counters, SAF_CTR_NODE_KEEPALIVE_SET);
}

static __always_inline int long_len(const struct saf_advert_val *v)
{
	return v->family == 4 ? SAF_TCPOPT_LEN_V4_PORT : SAF_TCPOPT_LEN_V6_PORT;
}

static __always_inline int short_len(const struct saf_advert_val *v)
{
	return v->family == 4 ? SAF_TCPOPT_LEN_V4 : SAF_TCPOPT_LEN_V6;
}

/* The port-less form is allowed only when the port is the connection's. */
static __always_inline int may_drop_port(const struct decision *d)
{
	return d->v.port == 0 || d->v.port == d->conn_port;
}

static __always_inline void reserve_advert(struct bpf_sock_ops *skops,
				    struct saf_bpf_config *cfg)
{
	struct decision d = {};

	if (!decide(skops, cfg, &d))
		return;
	/* Only here: without a reservation no advert is written, and this
	 * runs once per SYN-ACK sent. */
	if (!rate_ok(cfg, &d.client)) {
		count(&saf_node_counters, SAF_CTR_NODE_RATE_LIMITED);
		return;
	}
	if (cfg->test_bad_len) {
		bpf_reserve_hdr_opt(skops, cfg->test_bad_len, 0);
		return;
	}
	/* Reserve the long form when the port is explicit, else the short
	 * one. The write callback re-decides and writes what was reserved:
	 * if the long reservation failed it falls back to the short form. */
	if (d.v.port && bpf_reserve_hdr_opt(skops, long_len(&d.v), 0) == 0)
		return;
	if (may_drop_port(&d) &&
	    bpf_reserve_hdr_opt(skops, short_len(&d.v), 0) == 0)
		return;
	count(&saf_node_counters, may_drop_port(&d) ? SAF_CTR_NODE_NO_ROOM
						    : SAF_CTR_NODE_PORT_MISMATCH);
}

static __always_inline void write_advert(struct bpf_sock_ops *skops,
				  struct saf_bpf_config *cfg)
{
	__u8 opt[SAF_TCPOPT_LEN_V6_PORT] = {};
	struct decision d = {};
	int len;

	if (!decide(skops, cfg, &d))
		return;
	opt[0] = cfg->kind;
	opt[2] = SAF_EXID_HI(cfg);
	opt[3] = SAF_EXID_LO(cfg);
	if (cfg->test_bad_len) {
		/* Tests only: an option of a length that is no form. */
		len = cfg->test_bad_len;
		if (len < 4 || len > (int)sizeof(opt))
			return;
		opt[1] = (__u8)len;
		bpf_store_hdr_opt(skops, opt, len, 0);
		return;
	}
	if (d.v.family == 4)
		__builtin_memcpy(&opt[4], &d.v.addr.bytes[12], 4);
	else
		__builtin_memcpy(&opt[4], d.v.addr.bytes, 16);
	if (d.v.port) {
		len = long_len(&d.v);
		opt[1] = (__u8)len;
		opt[len - 2] = (__u8)(d.v.port >> 8);
		opt[len - 1] = (__u8)d.v.port;
		if (len <= (int)sizeof(opt) &&
		    bpf_store_hdr_opt(skops, opt, len, 0) == 0) {
			count(&saf_node_counters, SAF_CTR_NODE_ADVERT_WRITTEN);
			return;
		}
	}
	if (!may_drop_port(&d))
		return;
	len = short_len(&d.v);
	opt[1] = (__u8)len;
	if (len <= (int)sizeof(opt) && bpf_store_hdr_opt(skops, opt, len, 0) == 0) {
		count(&saf_node_counters, SAF_CTR_NODE_ADVERT_WRITTEN);
		count(&saf_node_counters, SAF_CTR_NODE_ADVERT_SHORT);
	}
}

SEC("sockops")
int saf_node(struct bpf_sock_ops *skops)
{
	struct saf_bpf_config *cfg = node_config();
	int one = 1;

	if (!cfg)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		/* Keep the SYN so a retransmitted SYN-ACK can be decided
		 * again, and ask for the option callbacks on this listener's
		 * request sockets. */
		if (bpf_setsockopt(skops, SOL_TCP, TCP_SAVE_SYN, &one,
				   sizeof(one)))
			count(&saf_node_counters, SAF_CTR_NODE_SAVE_SYN_FAILED);
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		count(&saf_node_counters, SAF_CTR_NODE_LISTENERS);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
		    (TCPHDR_SYN | TCPHDR_ACK))
			reserve_advert(skops, cfg);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
		    (TCPHDR_SYN | TCPHDR_ACK))
			write_advert(skops, cfg);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		arm_keepalive(skops, cfg);
		/* Established children need no more option callbacks. With
		 * TFO this runs before the SYN-ACK is sent: keep the flag
		 * while the socket is still in SYN_RECV. */
		if (skops->state != BPF_TCP_SYN_RECV)
			bpf_sock_ops_cb_flags_set(
				skops, skops->bpf_sock_ops_cb_flags &
					       ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	}
	return 1;
}
