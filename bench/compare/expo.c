/* SPDX-License-Identifier: MIT */
/*
 * expo: change R1's route for S a fixed time after the client's first SYN
 * (figure 3, the exposure window).
 *
 *   expo IFACE S PORT R1_NETNS GATEWAY DELAY_MS
 *
 * Run in the client's namespace. Opens a packet socket on IFACE and an
 * rtnetlink socket in R1's namespace (R1_NETNS, a /run/netns path), prints
 * "ready", waits (up to 5 s) for the first SYN to S:PORT leaving the
 * client, sleeps DELAY_MS from the moment it saw it, and replaces R1's
 * route for S/32 with one via GATEWAY. Prints the actual offset of the
 * change after the SYN in microseconds. Timing the change from the SYN on
 * the wire (not from a process start) keeps the client's start-up time
 * out of the measurement.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An rtnetlink socket that lives in the namespace at PATH. */
static int netlink_in(const char *path)
{
	int self = open("/proc/self/ns/net", O_RDONLY);
	int other = open(path, O_RDONLY);
	int fd = -1;

	if (self < 0 || other < 0 || setns(other, CLONE_NEWNET)) {
		perror("expo: R1 namespace");
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (setns(self, CLONE_NEWNET)) {
		perror("expo: back to own namespace");
		return -1;
	}
	close(self);
	close(other);
	return fd;
}

static void add_attr(struct nlmsghdr *n, unsigned short type, const void *d,
		     unsigned short len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), d, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* ip route replace S/32 via GW; returns 0 or the kernel's errno. */
static int route_replace(int nl, struct in_addr dst, struct in_addr gw)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg r;
		char buf[64];
	} req = {
		.n = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		       .nlmsg_type = RTM_NEWROUTE,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE |
				      NLM_F_REPLACE | NLM_F_ACK,
		       .nlmsg_seq = 1 },
		.r = { .rtm_family = AF_INET, .rtm_dst_len = 32,
		       .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
		       .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST },
	};
	char ack[256];
	ssize_t n;

	add_attr(&req.n, RTA_DST, &dst, 4);
	add_attr(&req.n, RTA_GATEWAY, &gw, 4);
	if (send(nl, &req, req.n.nlmsg_len, 0) < 0)
		return errno;
	n = recv(nl, ack, sizeof(ack), 0);
	if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		struct nlmsghdr *h = (struct nlmsghdr *)ack;

		if (h->nlmsg_type == NLMSG_ERROR)
			return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
	return n < 0 ? errno : 0;
}

/* Is this IPv4 packet a SYN (no ACK) to S:PORT? */
static int is_syn_to(const unsigned char *p, ssize_t len, struct in_addr s,
		     unsigned short port)
{
	const struct iphdr *ip = (const struct iphdr *)p;
	const struct tcphdr *t;

	if (len < (ssize_t)sizeof(*ip) || ip->version != 4 ||
	    ip->protocol != IPPROTO_TCP || ip->daddr != s.s_addr)
		return 0;
	if (len < (ssize_t)(ip->ihl * 4 + sizeof(*t)))
		return 0;
	t = (const struct tcphdr *)(p + ip->ihl * 4);
	return t->syn && !t->ack && ntohs(t->dest) == port;
}

int main(int argc, char **argv)
{
	struct in_addr s, gw;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL) };
	unsigned char pkt[2048];
	long long t_syn = 0, t_change, deadline;
	long delay_ms;
	int pk, nl, rc;

	if (argc != 7 || inet_pton(AF_INET, argv[2], &s) != 1 ||
	    inet_pton(AF_INET, argv[5], &gw) != 1) {
		fprintf(stderr, "usage: expo IFACE S PORT R1_NETNS GATEWAY DELAY_MS\n");
		return 2;
	}
	delay_ms = atol(argv[6]);
	ll.sll_ifindex = (int)if_nametoindex(argv[1]);
	/* ETH_P_ALL: outgoing packets reach only taps for every protocol. */
	pk = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (ll.sll_ifindex == 0 || pk < 0 ||
	    bind(pk, (struct sockaddr *)&ll, sizeof(ll))) {
		perror("expo: packet socket");
		return 1;
	}
	nl = netlink_in(argv[4]);
	if (nl < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	deadline = now_us() + 5000000;
	while (!t_syn) {
		struct pollfd pf = { .fd = pk, .events = POLLIN };
		long long left = deadline - now_us();
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)(left / 1000) + 1) <= 0) {
			fprintf(stderr, "expo: no SYN to %s:%s seen\n", argv[2], argv[3]);
			return 1;
		}
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);

		n = recvfrom(pk, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		if (n > 0 && from.sll_protocol == htons(ETH_P_IP) &&
		    from.sll_pkttype == PACKET_OUTGOING && is_syn_to(pkt, n, s, (unsigned short)atoi(argv[3])))
			t_syn = now_us();
	}
	{
		long long at = t_syn + delay_ms * 1000;
		struct timespec ts = { .tv_sec = at / 1000000,
				       .tv_nsec = (at % 1000000) * 1000 };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	rc = route_replace(nl, s, gw);
	t_change = now_us();
	if (rc) {
		fprintf(stderr, "expo: route replace: %s\n", strerror(rc));
		return 1;
	}
	printf("%lld\n", t_change - t_syn);
	return 0;
}
