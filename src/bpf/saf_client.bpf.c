/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Client side of the TCP Service Affinity option (SPEC section 2).
 *
 * Puts the SAF flag in SYNs to configured anycast destinations (or to all),
 * reads the advert from the SYN-ACK with the codec's rules (the length
 * alone selects the form; anything else is malformed, ignored and counted)
 * and leaves it in per-socket storage, where the socket's owner reads it
 * with bpf_map_lookup_elem(map, &fd).
 */
#include "saf_common.bpf.h"

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SAF_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} saf_client_counters SEC(".maps");

static __always_inline int wants_saf(struct bpf_sock_ops *skops,
				     struct saf_bpf_config *cfg)
{
	struct saf_bpf_addr dst;

	if (cfg->all_dests)
		return 1;
	if (skops->family == AF_INET) {
		map_v4(&dst, skops->remote_ip4);
	} else {
		__u32 r[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
			       skops->remote_ip6[2], skops->remote_ip6[3] };
		__builtin_memcpy(dst.bytes, r, 16);
	}
	return bpf_map_lookup_elem(&saf_client_dests, &dst) != 0;
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
	case BPF_SOCK_OPS_TCP_CONNECT_CB: {
		struct bpf_sock *sk = skops->sk;
		struct saf_sk_advert *a;

		if (!sk || !wants_saf(skops, cfg))
			break;
		a = bpf_sk_storage_get(&saf_adverts, sk, 0,
				       BPF_SK_STORAGE_GET_F_CREATE);
		if (!a)
			break;
		__builtin_memset(a, 0, sizeof(*a));
		a->state = SAF_SK_SENT_SAF;
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	}
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
			    TCPHDR_SYN &&
		    bpf_reserve_hdr_opt(skops, SAF_TCPOPT_LEN_FLAG, 0))
			count(&saf_client_counters, SAF_CTR_CLIENT_NO_ROOM);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		if ((skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
		    TCPHDR_SYN) {
			__u8 flag[4] = { cfg->kind, SAF_TCPOPT_LEN_FLAG,
					 SAF_EXID_HI(cfg), SAF_EXID_LO(cfg) };

			if (bpf_store_hdr_opt(skops, flag, sizeof(flag), 0) == 0)
				count(&saf_client_counters,
				      SAF_CTR_CLIENT_SAF_SENT);
		}
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		read_advert(skops, cfg);
		/* One option per connection: no more callbacks. */
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags &
						  ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	}
	return 1;
}
