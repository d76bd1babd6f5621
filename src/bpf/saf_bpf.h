/* SPDX-License-Identifier: MIT */
/*
 * Plain structs and map layouts shared by the sock_ops programs and their
 * user-space loader. Only fixed-size __u types: both sides include it (the
 * BPF side through vmlinux.h, user space through linux/types.h).
 */
#ifndef SAF_BPF_H
#define SAF_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Addresses are stored as 16 bytes: IPv6 as is, IPv4 as ::ffff:a.b.c.d,
 * so one key layout serves both families. */
struct saf_bpf_addr {
	__u8 bytes[16];
};

/* Node: (anycast address, local port) -> unicast advert. port 0 in the
 * key matches any port. */
struct saf_anycast_key {
	struct saf_bpf_addr addr;
	__u16 port; /* host order; 0 = any */
	__u16 pad;
};

struct saf_advert_val {
	struct saf_bpf_addr addr; /* unicast address to advertise */
	__u16 port;               /* host order; 0 = the connection's own */
	__u8 family;              /* 4 or 6 */
	__u8 pad;
};

/* Client allow-list of the node: LPM trie over mapped addresses. */
struct saf_allow_key {
	__u32 prefixlen; /* over the 128-bit mapped address */
	struct saf_bpf_addr addr;
};

/* Run-time configuration, one entry in an array map. */
struct saf_bpf_config {
	__u8 kind;          /* option kind, default 253 */
	__u8 allow_all;     /* node: no allow-list (the default) */
	__u16 exid;         /* experiment ID, default 0x5346 */
	__u8 all_dests;     /* client: send SAF on every SYN */
	__u8 test_bad_len;  /* node, tests only: write an advert of this
			       bogus length (0 = off) */
	__u16 pad;
	/* node: adverts per second per client address (0 = no limit), and
	 * how many may come at once */
	__u32 advert_rate;
	__u32 advert_burst;
	/* node: TCP keepalive for passive connections on an anycast address
	 * whose SYN asked for an advert, in seconds and probes (idle 0 =
	 * off). Within the kernel's limits, checked by the loader. */
	__u16 keepalive_idle;
	__u16 keepalive_intvl;
	__u8 keepalive_cnt;
	__u8 pad2[3];
	/* client: the kernel affinity cache (docs/tcp.md). Lifetime of an
	 * entry in seconds (0 = no cache); whether the allow trie has
	 * entries (then only allowed targets are cached). */
	__u32 cache_lifetime;
	__u8 cache_allow_only;
	__u8 pad3[3];
};

/* Client: the kernel affinity cache, S:port -> U:port, per network
 * namespace, in an LRU hash (bounded: --cache-size). */
struct saf_kcache_key {
	__u64 netns;              /* bpf_get_netns_cookie of the client */
	struct saf_bpf_addr addr; /* S, mapped */
	__u16 port;               /* host order */
	__u16 pad[3];
};

struct saf_kcache_val {
	struct saf_bpf_addr addr; /* U, mapped */
	__u16 port;               /* host order */
	__u8 family;              /* 4 or 6 */
	__u8 pad[5];
	__u64 expires_ns;         /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

#define SAF_KCACHE_ENTRIES_DEFAULT 4096u
/* saf_kcache_rev: {netns, U, port} -> the S key whose entry names it. */
#define SAF_KCACHE_LIFETIME_DEFAULT 600u
/* A rewritten connect gives up after this many SYN retransmissions
 * (1 + 2 + 4 s: ETIMEDOUT after 7 s instead of the kernel's 127 s). */
#define SAF_KCACHE_SYN_RETRIES 2

/* Client target policy: LPM tries per family (deny: the special-purpose
 * table; allow: --allow-target). */
struct saf_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct saf_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Node: the per-client advert rate limit, a GCRA ("virtual scheduling")
 * state per client address in an LRU map of this many entries. */
#define SAF_RATE_ENTRIES 65536

/* Client: what the SYN-ACK said, per socket (SK_STORAGE). */
enum saf_sk_state {
	SAF_SK_NONE = 0,      /* SAF not (yet) written into a SYN */
	SAF_SK_SENT_SAF = 1,  /* SAF went out in the SYN */
	SAF_SK_ADVERT = 2,    /* a valid advert arrived */
	SAF_SK_NO_ADVERT = 3, /* SYN-ACK had none */
	SAF_SK_MALFORMED = 4, /* SYN-ACK had a malformed one (ignored) */
};

struct saf_sk_advert {
	__u8 state;  /* enum saf_sk_state */
	__u8 family; /* 4 or 6 */
	__u8 has_port;
	__u8 opt_len; /* length of the option seen */
	__u16 port;  /* host order, when has_port */
	__u8 flags;  /* SAF_SKF_* */
	__u8 pad;
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};

/* saf_sk_advert.flags. No per-socket mark for a rewritten connect: the
 * socket storage it would need costs ~1.7 us to create per connection
 * (measured, bench/kcache), so sock_ops finds a connect to a cached U
 * through the reverse map saf_kcache_rev instead. */
#define SAF_SKF_NO_REWRITE 0x02 /* set by user space before connect():
				   the library and prefetch probes go to S */
#define SAF_SKF_PROBE 0x04 /* a prefetch probe (counted) */

/* Per-CPU counters, one array index each. */
enum saf_counter {
	SAF_CTR_NODE_SAF_SEEN,         /* SYNs with SAF to an anycast addr */
	SAF_CTR_NODE_ADVERT_WRITTEN,   /* adverts written into SYN-ACKs */
	SAF_CTR_NODE_ADVERT_SHORT,     /* ... in the port-less form */
	SAF_CTR_NODE_NO_ROOM,          /* skipped: option space exhausted */
	SAF_CTR_NODE_NOT_ALLOWED,      /* skipped: client not in allow-list */
	SAF_CTR_NODE_NOT_ANYCAST,      /* SAF seen on a non-anycast address */
	SAF_CTR_NODE_PORT_MISMATCH,    /* skipped: port needed, no room */
	SAF_CTR_NODE_LISTENERS,        /* listeners prepared (TCP_SAVE_SYN) */
	SAF_CTR_NODE_SAVE_SYN_FAILED,  /* TCP_SAVE_SYN refused */
	SAF_CTR_NODE_RATE_LIMITED,     /* skipped: client over its rate */
	SAF_CTR_NODE_KEEPALIVE_SET,    /* connections on S given keepalive */
	SAF_CTR_NODE_KEEPALIVE_FAILED, /* bpf_setsockopt refused it */
	SAF_CTR_CLIENT_SAF_SENT,       /* SYNs that carried SAF */
	SAF_CTR_CLIENT_ADVERT,         /* valid adverts received */
	SAF_CTR_CLIENT_NO_ADVERT,      /* SAF sent, no advert back */
	SAF_CTR_CLIENT_MALFORMED,      /* malformed adverts ignored */
	SAF_CTR_CLIENT_NO_ROOM,        /* SAF not sent: no option space */
	SAF_CTR_CLIENT_CACHE_HIT,      /* connect() to S rewritten to U */
	SAF_CTR_CLIENT_CACHE_MISS,     /* connect() to S, no entry */
	SAF_CTR_CLIENT_CACHE_EXPIRED,  /* entry found past its lifetime */
	SAF_CTR_CLIENT_CACHE_INVALID,  /* entry dropped: U failed */
	SAF_CTR_CLIENT_CACHE_STORED,   /* entries created or refreshed */
	SAF_CTR_CLIENT_CACHE_REFUSED,  /* advert not cached: target policy */
	SAF_CTR_CLIENT_PREFETCH,       /* prefetch probes sent */
	SAF_CTR_COUNT
};

#endif /* SAF_BPF_H */
