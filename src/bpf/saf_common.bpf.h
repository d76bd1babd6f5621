/* SPDX-License-Identifier: MIT */
/* Helpers shared by the node and client sock_ops programs. */
#ifndef SAF_COMMON_BPF_H
#define SAF_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "saf/constants.h"
#include "saf_bpf.h"

#define ENOENT 2
#define AF_INET 2
#define AF_INET6 10
#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define TCP_SAVE_SYN 27
#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10

#define SAF_EXID_HI(c) ((__u8)((c)->exid >> 8))
#define SAF_EXID_LO(c) ((__u8)((c)->exid & 0xff))

static __always_inline void count(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += 1;
}

/* Fills a mapped 16-byte address from a sock_ops view of one side.
 * IPv4 (or v4-mapped IPv6) becomes ::ffff:a.b.c.d. */
static __always_inline void map_v4(struct saf_bpf_addr *a, __u32 ip4_be)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->bytes[10] = 0xff;
	a->bytes[11] = 0xff;
	__builtin_memcpy(&a->bytes[12], &ip4_be, 4);
}

static __always_inline int is_v4_mapped(const __u32 ip6[4])
{
	return ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff);
}

#endif
