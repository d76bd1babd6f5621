/* SPDX-License-Identifier: MIT */
/* Tests only: the rogue node's configuration, shared by rogue_node.bpf.c
 * and its loader rogue_node.c (rodata, set before the load). */
#ifndef SAF_ROGUE_NODE_H
#define SAF_ROGUE_NODE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum rogue_mode {
	ROGUE_MODE_OTHERS = 1, /* every segment but the SYN-ACK */
	ROGUE_MODE_ALL = 2,    /* the SYN-ACK too */
	/* client side: fill all the option space left in the SYN (an option
	 * of kind 254 and another ExID), attached in a child cgroup of the
	 * client program's so that it runs first: the client's SAF then has
	 * no room (issue 14) */
	ROGUE_MODE_HOG = 3,
};

struct rogue_config {
	__u8 mode; /* enum rogue_mode */
	__u8 kind;
	__u16 exid;
	__u8 v4[4];  /* advertised to IPv4 peers */
	__u8 v6[16]; /* advertised to IPv6 peers */
};

#endif
