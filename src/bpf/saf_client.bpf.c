/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Client side of the TCP Service Affinity option (SPEC section 2).
 *
 * Puts the SAF flag in SYNs to configured anycast destinations (or to all),
 * reads the advert from the SYN-ACK with the codec's rules (the length
 * alone selects the form; anything else is malformed, ignored and counted)
 * and leaves it in per-socket storage, where the socket's owner reads it
 * with bpf_map_lookup_elem(map, &fd).
 *
 * The kernel affinity cache (docs/tcp.md): an accepted advert also records
 * S:port -> U:port per network namespace, and cgroup/connect4 and
 * cgroup/connect6 rewrite a later TCP connect() to S:port into U:port, so
 * unmodified programs (static binaries too) go straight to the node. A
 * rewritten connect that fails drops its entry.
 */
#include "saf_common.bpf.h"

#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define TCP_SYNCNT 7

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Destinations that get SAF: mapped address, value unused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct saf_bpf_addr);
	__type(value, __u8);
} saf_client_dests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct saf_bpf_config);
} saf_client_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct saf_sk_advert);
} saf_adverts SEC(".maps");

/* The kernel affinity cache; max_entries set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SAF_KCACHE_ENTRIES_DEFAULT);
	__type(key, struct saf_kcache_key);
	__type(value, struct saf_kcache_val);
} saf_kcache SEC(".maps");

/* {netns, U, port} -> S key: lets sock_ops recognise a connect to a
 * cached U (rewritten or not) without marking the socket. Same size. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SAF_KCACHE_ENTRIES_DEFAULT);
	__type(key, struct saf_kcache_key);
	__type(value, struct saf_kcache_key);
} saf_kcache_rev SEC(".maps");

/* Target policy: deny (the special-purpose table, from the loader) and
 * allow (--allow-target) per family. */
#define LPM_MAP(name, keyt, n)                                                 \
	struct {                                                               \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                           \
		__uint(map_flags, BPF_F_NO_PREALLOC);                          \
		__uint(max_entries, n);                                        \
		__type(key, keyt);                                             \
		__type(value, __u8);                                           \
	} name SEC(".maps")
LPM_MAP(saf_deny4, struct saf_lpm4_key, 256);
LPM_MAP(saf_deny6, struct saf_lpm6_key, 256);
LPM_MAP(saf_allow4, struct saf_lpm4_key, 256);
LPM_MAP(saf_allow6, struct saf_lpm6_key, 256);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SAF_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} saf_client_counters SEC(".maps");

static __always_inline void remote_of(struct bpf_sock_ops *skops,
				      struct saf_bpf_addr *dst)
{
	if (skops->family == AF_INET) {
		map_v4(dst, skops->remote_ip4);
	} else {
		__u32 r[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
			       skops->remote_ip6[2], skops->remote_ip6[3] };
		__builtin_memcpy(dst->bytes, r, 16);
	}
}

static __always_inline int is_anycast(const struct saf_bpf_addr *a)
{
	return bpf_map_lookup_elem(&saf_client_dests, a) != 0;
}

static __always_inline int wants_saf(struct bpf_sock_ops *skops,
				     struct saf_bpf_config *cfg)
{
	struct saf_bpf_addr dst;

	if (cfg->all_dests)
		return 1;
	remote_of(skops, &dst);
	return is_anycast(&dst);
}

static __always_inline int same_addr(const struct saf_bpf_addr *a,
				     const struct saf_bpf_addr *b)
{
	__u32 x[4], y[4];

	__builtin_memcpy(x, a->bytes, 16);
	__builtin_memcpy(y, b->bytes, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
		(x[3] ^ y[3])) == 0;
}

static __always_inline int in_lpm4(void *map, const __u8 a[4])
{
	struct saf_lpm4_key k = { .prefixlen = 32 };

	__builtin_memcpy(k.addr, a, 4);
	return bpf_map_lookup_elem(map, &k) != 0;
}

static __always_inline int in_lpm6(void *map, const __u8 a[16])
{
	struct saf_lpm6_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, a, 16);
	return bpf_map_lookup_elem(map, &k) != 0;
}

/* The library's target checks (saf_addr_check_target) and the client
 * target policy, on a mapped address: a v4-mapped IPv6 advert is judged
 * as the IPv4 address it stands for. Returns 1 when U may be cached. */
static __always_inline int target_ok(const struct saf_bpf_addr *u,
				     const struct saf_bpf_addr *s,
				     struct saf_bpf_config *cfg)
{
	const __u8 *b = u->bytes;
	__u32 w[4];
	int v4, allowed;

	__builtin_memcpy(w, b, 16);
	/* v4-mapped, or v4-compatible (::a.b.c.d but not :: or ::1) */
	v4 = is_v4_mapped(w) ||
	     ((w[0] | w[1] | w[2]) == 0 && bpf_ntohl(w[3]) > 1);
	if (v4) {
		const __u8 *a = &b[12];

		if (w[3] == 0 || a[0] >= 224 || a[0] == 127 || a[0] == 0)
			return 0; /* unspecified, multicast, broadcast
				     (class E too), loopback, "this" */
		allowed = in_lpm4(&saf_allow4, a);
		if (!allowed && (cfg->cache_allow_only ||
				 in_lpm4(&saf_deny4, a)))
			return 0;
	} else {
		if ((w[0] | w[1] | w[2] | w[3]) == 0 || b[0] == 0xff)
			return 0; /* unspecified, multicast */
		if ((w[0] | w[1] | w[2]) == 0 && w[3] == bpf_htonl(1))
			return 0; /* loopback */
		allowed = in_lpm6(&saf_allow6, b);
		/* default policy: global unicast (2000::/3) only */
		if (!allowed && (cfg->cache_allow_only ||
				 (b[0] & 0xe0) != 0x20 ||
				 in_lpm6(&saf_deny6, b)))
			return 0;
	}
	/* the anycast address itself, or any other configured one */
	if (same_addr(u, s) || is_anycast(u))
		return 0;
	return 1;
}

/* An accepted advert on a connection to a configured anycast address:
 * record (or refresh) S:port -> U:port for this network namespace. */
static __always_inline void cache_advert(struct bpf_sock_ops *skops,
					 struct saf_bpf_config *cfg,
					 struct saf_sk_advert *a)
{
	struct saf_kcache_key k = {};
	struct saf_kcache_val v = {};

	if (!cfg->cache_lifetime)
		return;
	remote_of(skops, &k.addr);
	if (!is_anycast(&k.addr))
		return;
	/* remote_port: network order in the upper 16 bits */
	k.port = (__u16)bpf_ntohl(skops->remote_port);
	k.netns = bpf_get_netns_cookie(skops);
	if (a->family == 4) {
		map_v4(&v.addr, *(__u32 *)a->addr);
	} else {
		__u32 w[4];

		__builtin_memcpy(w, a->addr, 16);
		if ((w[0] | w[1] | w[2]) == 0 && bpf_ntohl(w[3]) > 1)
			map_v4(&v.addr, w[3]); /* v4-compatible: IPv4 */
		else
			__builtin_memcpy(v.addr.bytes, w, 16);
	}
	if (!target_ok(&v.addr, &k.addr, cfg)) {
		count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_REFUSED);
		return;
	}
	v.family = is_v4_mapped((__u32 *)v.addr.bytes) ? 4 : 6;
	v.port = a->has_port ? a->port : k.port;
	v.expires_ns = bpf_ktime_get_ns() +
		       (__u64)cfg->cache_lifetime * 1000000000ull;
	if (bpf_map_update_elem(&saf_kcache, &k, &v, BPF_ANY) == 0) {
		struct saf_kcache_key rk = { .netns = k.netns,
					     .addr = v.addr,
					     .port = v.port };

		bpf_map_update_elem(&saf_kcache_rev, &rk, &k, BPF_ANY);
		count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_STORED);
	}
}

static __always_inline void read_advert(struct bpf_sock_ops *skops,
					struct saf_bpf_config *cfg)
{
	struct bpf_sock *sk = skops->sk; /* read once: see PLATFORM-NOTES */
	__u8 opt[SAF_TCP_OPTION_SPACE] = { cfg->kind, 4, SAF_EXID_HI(cfg),
					   SAF_EXID_LO(cfg) };
	struct saf_sk_advert *a;
	int n;

	if (!sk)
		return;
	a = bpf_sk_storage_get(&saf_adverts, sk, 0, 0);
	/* Only a connection whose SYN really carried SAF (issue 14: not
	 * merely one that wanted to) takes an advert. */
	if (!a || a->state != SAF_SK_SENT_SAF)
		return;
	n = bpf_load_hdr_opt(skops, opt, sizeof(opt), 0);
	if (n < 0) {
		a->state = SAF_SK_NO_ADVERT;
		count(&saf_client_counters, SAF_CTR_CLIENT_NO_ADVERT);
		return;
	}
	a->opt_len = (__u8)n;
	/* "The length alone selects the form." */
	switch (n) {
	case SAF_TCPOPT_LEN_V4:
	case SAF_TCPOPT_LEN_V4_PORT:
		a->family = 4;
		__builtin_memcpy(a->addr, &opt[4], 4);
		a->has_port = n == SAF_TCPOPT_LEN_V4_PORT;
		if (a->has_port)
			a->port = (__u16)(opt[8] << 8 | opt[9]);
		break;
	case SAF_TCPOPT_LEN_V6:
	case SAF_TCPOPT_LEN_V6_PORT:
		a->family = 6;
		__builtin_memcpy(a->addr, &opt[4], 16);
		a->has_port = n == SAF_TCPOPT_LEN_V6_PORT;
		if (a->has_port)
			a->port = (__u16)(opt[20] << 8 | opt[21]);
		break;
	default:
		a->state = SAF_SK_MALFORMED;
		count(&saf_client_counters, SAF_CTR_CLIENT_MALFORMED);
		return;
	}
	a->state = SAF_SK_ADVERT;
	count(&saf_client_counters, SAF_CTR_CLIENT_ADVERT);
	cache_advert(skops, cfg, a);
}

/* The cache entry whose target is this socket's peer, if any: *rk gets
 * the reverse key, the return value the S key. */
static __always_inline struct saf_kcache_key *
cached_peer(struct bpf_sock_ops *skops, struct saf_kcache_key *rk)
{
	struct saf_kcache_key *sk_key;
	struct saf_kcache_val *v;

	remote_of(skops, &rk->addr);
	rk->port = (__u16)bpf_ntohl(skops->remote_port);
	rk->netns = bpf_get_netns_cookie(skops);
	sk_key = bpf_map_lookup_elem(&saf_kcache_rev, rk);
	if (!sk_key)
		return 0;
	v = bpf_map_lookup_elem(&saf_kcache, sk_key);
	if (!v || !same_addr(&v->addr, &rk->addr) || v->port != rk->port)
		return 0; /* the entry moved on: not ours to drop */
	return sk_key;
}

/* A connect to a cached U failed (RTO of its SYN, or SYN_SENT -> CLOSE:
 * RST, ICMP unreachable, timeout): drop the entry, so the next connect()
 * goes to S and learns afresh. */
static __always_inline void cache_invalidate(struct bpf_sock_ops *skops)
{
	struct saf_kcache_key rk = {}, s;
	struct saf_kcache_key *sk_key = cached_peer(skops, &rk);

	if (!sk_key)
		return;
	s = *sk_key;
	bpf_map_delete_elem(&saf_kcache_rev, &rk);
	if (bpf_map_delete_elem(&saf_kcache, &s) == 0)
		count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_INVALID);
}

static __always_inline void on_connect(struct bpf_sock_ops *skops,
				       struct saf_bpf_config *cfg)
{
	struct bpf_sock *sk = skops->sk;
	struct saf_kcache_key rk = {};
	struct saf_sk_advert *a;

	if (!sk)
		return;
	if (cfg->cache_lifetime && cached_peer(skops, &rk)) {
		int retries = SAF_KCACHE_SYN_RETRIES;

		/* Watch the handshake; give up on a dead U early. */
		bpf_setsockopt(skops, SOL_TCP, TCP_SYNCNT, &retries,
			       sizeof(retries));
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_RTO_CB_FLAG |
						  BPF_SOCK_OPS_STATE_CB_FLAG);
	}
	if (!wants_saf(skops, cfg))
		return;
	a = bpf_sk_storage_get(&saf_adverts, sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!a)
		return;
	/* Fresh per connect; the flags (user space's NO_REWRITE) stay. */
	a->state = SAF_SK_NONE;
	a->family = 0;
	a->has_port = 0;
	a->opt_len = 0;
	a->port = 0;
	bpf_sock_ops_cb_flags_set(skops,
				  skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

/* SAF written into the SYN: only now may an advert be taken. */
static __always_inline void write_saf(struct bpf_sock_ops *skops,
				      struct saf_bpf_config *cfg)
{
	__u8 flag[4] = { cfg->kind, SAF_TCPOPT_LEN_FLAG, SAF_EXID_HI(cfg),
			 SAF_EXID_LO(cfg) };
	struct bpf_sock *sk = skops->sk;
	struct saf_sk_advert *a;

	if (bpf_store_hdr_opt(skops, flag, sizeof(flag), 0) != 0)
		return;
	count(&saf_client_counters, SAF_CTR_CLIENT_SAF_SENT);
	if (!sk)
		return;
	a = bpf_sk_storage_get(&saf_adverts, sk, 0, 0);
	if (a && a->state == SAF_SK_NONE)
		a->state = SAF_SK_SENT_SAF;
}

SEC("sockops")
int saf_client(struct bpf_sock_ops *skops)
{
	struct saf_bpf_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&saf_client_config, &zero);
	if (!cfg)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		on_connect(skops, cfg);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
			    TCPHDR_SYN &&
		    bpf_reserve_hdr_opt(skops, SAF_TCPOPT_LEN_FLAG, 0))
			count(&saf_client_counters, SAF_CTR_CLIENT_NO_ROOM);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
		    TCPHDR_SYN)
			write_saf(skops, cfg);
		break;
	case BPF_SOCK_OPS_RTO_CB:
		if (skops->state == BPF_TCP_SYN_SENT)
			cache_invalidate(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[0] == BPF_TCP_SYN_SENT &&
		    skops->args[1] == BPF_TCP_CLOSE)
			cache_invalidate(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		read_advert(skops, cfg);
		/* One option per connection, and a live U: no more
		 * callbacks. */
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags &
						  ~(BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG |
						    BPF_SOCK_OPS_RTO_CB_FLAG |
						    BPF_SOCK_OPS_STATE_CB_FLAG));
		break;
	}
	return 1;
}

/* connect() to a cached S:port becomes a connect() to U:port. Only TCP
 * (UDP's sendto/connect are left alone: no handshake would tell a dead U)
 * and only sockets user space did not exempt. sock_ops recognises the
 * connect to U through saf_kcache_rev and drops the entry if it fails.
 * getpeername() then returns U, the real peer (docs/tcp.md). */
static __always_inline int rewrite(struct bpf_sock_addr *ctx,
				   struct saf_kcache_key *k, int v4_sock)
{
	struct bpf_sock *sk = ctx->sk;
	struct saf_bpf_config *cfg;
	struct saf_kcache_val *v;
	struct saf_sk_advert *a;
	__u32 zero = 0;

	if (ctx->type != SOCK_STREAM || ctx->protocol != IPPROTO_TCP || !sk)
		return 0;
	if (!is_anycast(&k->addr))
		return 0;
	cfg = bpf_map_lookup_elem(&saf_client_config, &zero);
	if (!cfg || !cfg->cache_lifetime)
		return 0;
	a = bpf_sk_storage_get(&saf_adverts, sk, 0, 0);
	if (a && (a->flags & SAF_SKF_NO_REWRITE)) {
		if (a->flags & SAF_SKF_PROBE)
			count(&saf_client_counters, SAF_CTR_CLIENT_PREFETCH);
		return 0;
	}
	k->netns = bpf_get_netns_cookie(ctx);
	v = bpf_map_lookup_elem(&saf_kcache, k);
	if (!v) {
		count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_MISS);
		return 0;
	}
	if (v->expires_ns <= bpf_ktime_get_ns()) {
		bpf_map_delete_elem(&saf_kcache, k);
		count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_EXPIRED);
		return 0;
	}
	if (v4_sock && v->family != 4)
		return 0; /* an AF_INET socket cannot reach an IPv6 U */
	if (v4_sock) {
		ctx->user_ip4 = *(__u32 *)&v->addr.bytes[12];
	} else {
		__u32 w[4];

		__builtin_memcpy(w, v->addr.bytes, 16);
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
	}
	ctx->user_port = bpf_htons(v->port);
	count(&saf_client_counters, SAF_CTR_CLIENT_CACHE_HIT);
	return 1;
}

SEC("cgroup/connect4")
int saf_connect4(struct bpf_sock_addr *ctx)
{
	struct saf_kcache_key k = {};

	map_v4(&k.addr, ctx->user_ip4);
	k.port = bpf_ntohs((__u16)ctx->user_port);
	rewrite(ctx, &k, 1);
	return 1;
}

SEC("cgroup/connect6")
int saf_connect6(struct bpf_sock_addr *ctx)
{
	struct saf_kcache_key k = {};
	__u32 w[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
		       ctx->user_ip6[3] };

	__builtin_memcpy(k.addr.bytes, w, 16);
	k.port = bpf_ntohs((__u16)ctx->user_port);
	rewrite(ctx, &k, 0);
	return 1;
}
