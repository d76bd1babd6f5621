/* SPDX-License-Identifier: MIT */
/*
 * R1's forwarding table over rtnetlink (libmnl), the way iproute2 does it:
 * every request asks for an acknowledgement, the socket asks for extended
 * acks, and every error reaches the caller with the kernel's own words.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "saf/sched.h"

/* Routes saf installs carry this protocol number, so an operator can tell
 * them apart (`ip route show proto 83`). */
#define SAF_RTPROT 83

/* One page is ample for one route request or reply. */
#define SAF_NL_BUF 8192

struct saf_route_sock {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
};

saf_route_sock *saf_route_open(saf_error *err)
{
	saf_route_sock *rs = calloc(1, sizeof(*rs));
	int one = 1;

	if (!rs) {
		saf_fail(err, SAF_E_NOMEM, "rtnetlink: out of memory");
		return NULL;
	}
	rs->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!rs->nl || mnl_socket_bind(rs->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		saf_fail(err, SAF_E_SYS, "rtnetlink socket: %s",
			 strerror(errno));
		if (rs->nl)
			mnl_socket_close(rs->nl);
		free(rs);
		return NULL;
	}
	/* Ask for the kernel's explanation with every error. */
	mnl_socket_setsockopt(rs->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(rs->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	rs->portid = mnl_socket_get_portid(rs->nl);
	rs->seq = (unsigned int)time(NULL);
	return rs;
}

void saf_route_close(saf_route_sock *rs)
{
	if (!rs)
		return;
	mnl_socket_close(rs->nl);
	free(rs);
}

/* Extracts NLMSGERR_ATTR_MSG from an error message's trailing attributes. */
static const char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	/* With NETLINK_CAP_ACK the original request is not echoed back. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	mnl_attr_for_each(attr, nlh, off)
	{
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

/* Sends one request and waits for its acknowledgement (or the data of a
 * GET, handed to cb). */
static int transact(saf_route_sock *rs, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data, const char *what, saf_error *err)
{
	char buf[SAF_NL_BUF];
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;

	if (mnl_socket_sendto(rs->nl, nlh, nlh->nlmsg_len) < 0)
		return saf_fail(err, SAF_E_SYS, "%s: send: %s", what,
				strerror(errno));
	for (;;) {
		n = mnl_socket_recvfrom(rs->nl, buf, sizeof(buf));
		if (n < 0)
			return saf_fail(err, SAF_E_SYS, "%s: receive: %s", what,
					strerror(errno));
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != rs->portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(h);
				const char *msg;

				if (e->error == 0)
					return 0;
				msg = extack_msg(h);
				return saf_fail(err, SAF_E_SYS, "%s: %s%s%s",
						what, strerror(-e->error),
						msg ? ": " : "",
						msg ? msg : "");
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb && cb(h, data) < MNL_CB_OK)
				return saf_fail(err, SAF_E_SYS,
						"%s: bad reply", what);
		}
	}
}

static struct nlmsghdr *route_msg(saf_route_sock *rs, char *buf, int type,
				  unsigned flags, const saf_addr *dst)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	nlh->nlmsg_seq = ++rs->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->family == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = dst->family == 4 ? 32 : 128;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = SAF_RTPROT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, dst->family == 4 ? 4 : 16, dst->bytes);
	return nlh;
}

int saf_route_replace(saf_route_sock *rs, const saf_addr *dst,
		      const saf_route_nexthop *nh, size_t n, saf_error *err)
{
	char buf[SAF_NL_BUF];
	struct nlmsghdr *nlh;
	size_t alen = dst->family == 4 ? 4 : 16;

	if (n == 0)
		return saf_fail(err, SAF_E_INVAL, "route: no next hop");
	for (size_t i = 0; i < n; i++)
		if (nh[i].gw.family != dst->family)
			return saf_fail(err, SAF_E_INVAL,
					"route: next hop family differs from "
					"the destination's");
	nlh = route_msg(rs, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
			dst);
	if (n == 1) {
		mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[0].gw.bytes);
	} else {
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);

		for (size_t i = 0; i < n; i++) {
			struct rtnexthop *rtnh = mnl_nlmsg_get_payload_tail(nlh);
			unsigned w = nh[i].weight ? nh[i].weight : 1;

			nlh->nlmsg_len += MNL_ALIGN(sizeof(*rtnh));
			memset(rtnh, 0, sizeof(*rtnh));
			/* rtnh_hops is weight - 1 (iproute2's "weight"). */
			rtnh->rtnh_hops = (unsigned char)((w > 256 ? 256 : w) - 1);
			mnl_attr_put(nlh, RTA_GATEWAY, alen, nh[i].gw.bytes);
			rtnh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) -
						   (char *)rtnh);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	return transact(rs, nlh, NULL, NULL, "route replace", err);
}

struct get_ctx {
	saf_addr *gw;
	int family;
	bool found;
};

static int get_attr_cb(const struct nlattr *attr, void *data)
{
	struct get_ctx *g = data;

	if (g->found)
		return MNL_CB_OK;
	if (mnl_attr_get_type(attr) == RTA_GATEWAY) {
		size_t n = g->family == 4 ? 4 : 16;

		if (mnl_attr_get_payload_len(attr) < n)
			return MNL_CB_ERROR;
		memset(g->gw, 0, sizeof(*g->gw));
		g->gw->family = (uint8_t)g->family;
		memcpy(g->gw->bytes, mnl_attr_get_payload(attr), n);
		g->found = true;
	} else if (mnl_attr_get_type(attr) == RTA_MULTIPATH) {
		const struct rtnexthop *rtnh = mnl_attr_get_payload(attr);

		if (mnl_attr_get_payload_len(attr) >= sizeof(*rtnh) &&
		    rtnh->rtnh_len > sizeof(*rtnh)) {
			const struct nlattr *a =
				(const struct nlattr *)((const char *)rtnh +
							MNL_ALIGN(sizeof(*rtnh)));
			if (mnl_attr_get_type(a) == RTA_GATEWAY)
				return get_attr_cb(a, data);
		}
	}
	return MNL_CB_OK;
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct rtmsg), get_attr_cb, data);
}

int saf_route_get(saf_route_sock *rs, const saf_addr *dst, saf_addr *gw,
		  saf_error *err)
{
	char buf[SAF_NL_BUF];
	struct get_ctx g = { .gw = gw, .family = dst->family };
	struct nlmsghdr *nlh = route_msg(rs, buf, RTM_GETROUTE, 0, dst);
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	rtm->rtm_protocol = 0;
	rtm->rtm_type = 0;
	if (transact(rs, nlh, get_cb, &g, "route get", err))
		return -1;
	if (!g.found)
		return saf_fail(err, SAF_E_INVAL, "route get: no gateway");
	return 0;
}
