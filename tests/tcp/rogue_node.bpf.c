/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Tests only: a rogue node. Attached to a server's cgroup instead of the
 * real node program, it writes a well-formed SA advert (the configured
 * kind and ExID, the port-less form of another node's unicast address)
 * into the segments the mode selects, whatever the client sent:
 *
 *   mode OTHERS: every segment the server sends except the SYN-ACK (its
 *                ACKs, data, FIN). SPEC 2: "an advert in any segment other
 *                than a SYN-ACK is malformed and ignored".
 *   mode ALL:    the SYN-ACK too: the control that shows the rig can
 *                move a client.
 */
#include "saf_common.bpf.h"
#include "rogue_node.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct rogue_config rogue = {};

static __always_inline int is_synack(const struct bpf_sock_ops *skops)
{
	return (skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
	       (TCPHDR_SYN | TCPHDR_ACK);
}

/* The advert's length for this connection, 0 for none. A dual-stack
 * listener reports IPv4 peers as v4-mapped IPv6. */
static __always_inline int advert_len(struct bpf_sock_ops *skops)
{
	__u32 r[4] = { skops->remote_ip6[0], skops->remote_ip6[1],
		       skops->remote_ip6[2], skops->remote_ip6[3] };

	if (is_synack(skops) && rogue.mode != ROGUE_MODE_ALL)
		return 0;
	if (skops->family == AF_INET || is_v4_mapped(r))
		return SAF_TCPOPT_LEN_V4;
	return SAF_TCPOPT_LEN_V6;
}

static __always_inline void write_advert(struct bpf_sock_ops *skops)
{
	__u8 opt[SAF_TCPOPT_LEN_V6] = { rogue.kind, 0, rogue.exid >> 8,
					rogue.exid & 0xff };
	int len = advert_len(skops);

	/* Byte by byte through the volatile object: a memcpy would cast the
	 * volatile away, and clang then folds the zero initializer into the
	 * program instead of reading what the loader set. */
	if (len == SAF_TCPOPT_LEN_V4) {
#pragma unroll
		for (int i = 0; i < 4; i++)
			opt[4 + i] = rogue.v4[i];
	} else if (len == SAF_TCPOPT_LEN_V6) {
#pragma unroll
		for (int i = 0; i < 16; i++)
			opt[4 + i] = rogue.v6[i];
	} else {
		return;
	}
	opt[1] = (__u8)len;
	bpf_store_hdr_opt(skops, opt, len, 0);
}

static __always_inline int is_syn(const struct bpf_sock_ops *skops)
{
	return (skops->skb_tcp_flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN;
}

/* ROGUE_MODE_HOG: the SYN's option space filled, so a later program in
 * the chain (the client's) finds no room. */
static __always_inline void hog(struct bpf_sock_ops *skops)
{
	__u8 opt[40] = { 254, 0, 0xde, 0xad };

	/* The room left is not visible to BPF: take the largest that fits. */
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if (!is_syn(skops))
			break;
#pragma unroll
		for (int len = 40; len >= 4; len -= 4)
			if (bpf_reserve_hdr_opt(skops, len, 0) == 0)
				break;
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		if (!is_syn(skops))
			break;
#pragma unroll
		for (int len = 40; len >= 4; len -= 4) {
			opt[1] = (__u8)len;
			if (bpf_store_hdr_opt(skops, opt, len, 0) == 0)
				break;
		}
		break;
	}
}

SEC("sockops")
int rogue_node(struct bpf_sock_ops *skops)
{
	int len;

	if (rogue.mode == ROGUE_MODE_HOG) {
		hog(skops);
		return 1;
	}
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* Listeners pass the flag to their request sockets and
		 * children; set it on the children too, to be sure. */
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		/* Also called without a segment, to size the MSS: reserve
		 * the same there, so the room is counted. */
		len = advert_len(skops);
		if (len)
			bpf_reserve_hdr_opt(skops, len, 0);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		write_advert(skops);
		break;
	}
	return 1;
}
