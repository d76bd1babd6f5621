/* SPDX-License-Identifier: MIT */
#include "saf/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *text, uint16_t *port, saf_error *err)
{
	char *end;
	unsigned long v;

	if (*text == '\0' || *text == '-' || *text == '+')
		return saf_fail(err, SAF_E_FORMAT, "port '%s': not a number",
				text);
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end != '\0')
		return saf_fail(err, SAF_E_FORMAT, "port '%s': not a number",
				text);
	if (v == 0 || v > 65535)
		return saf_fail(err, SAF_E_RANGE, "port %s outside 1..65535",
				text);
	*port = (uint16_t)v;
	return 0;
}

static int parse_ip(const char *text, saf_addr *out, saf_error *err)
{
	memset(out->bytes, 0, sizeof(out->bytes));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = 6;
		return 0;
	}
	return saf_fail(err, SAF_E_FORMAT, "'%s' is not an IPv4 or IPv6 address",
			text);
}

int saf_addr_parse(const char *text, bool require_port, saf_addr *out,
		   saf_error *err)
{
	char host[SAF_ADDR_STR_LEN];
	const char *port = NULL;
	size_t n = strlen(text);
	saf_addr a = { 0 };

	if (n == 0)
		return saf_fail(err, SAF_E_FORMAT, "empty address");
	if (n >= sizeof(host))
		return saf_fail(err, SAF_E_FORMAT, "address too long");

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close)
			return saf_fail(err, SAF_E_FORMAT,
					"'%s': missing ']'", text);
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return saf_fail(err, SAF_E_FORMAT,
					"'%s': expected ':PORT' after ']'",
					text);
		if (parse_ip(host, &a, err))
			return -1;
		if (a.family != 6)
			return saf_fail(err, SAF_E_FORMAT,
					"'%s': brackets are for IPv6", text);
	} else {
		const char *colon = strchr(text, ':');

		memcpy(host, text, n + 1);
		/* One colon: IPv4 with a port. More: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			host[colon - text] = '\0';
			port = colon + 1;
		}
		if (parse_ip(host, &a, err))
			return -1;
	}
	if (port) {
		if (parse_port(port, &a.port, err))
			return -1;
		a.has_port = true;
	} else if (require_port) {
		return saf_fail(err, SAF_E_FORMAT,
				"'%s': a port is required (ADDR:PORT or "
				"[V6ADDR]:PORT)",
				text);
	}
	*out = a;
	return 0;
}

int saf_prefix_parse(const char *text, saf_addr *out, unsigned *prefix_len,
		     saf_error *err)
{
	char host[SAF_ADDR_STR_LEN];
	const char *slash = strchr(text, '/');
	saf_addr a = { 0 };
	unsigned max, len;

	if (strlen(text) >= sizeof(host))
		return saf_fail(err, SAF_E_FORMAT, "prefix too long");
	memcpy(host, text, strlen(text) + 1);
	if (slash)
		host[slash - text] = '\0';
	if (parse_ip(host, &a, err))
		return -1;
	max = a.family == 4 ? 32 : 128;
	len = max;
	if (slash) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno || v > max)
			return saf_fail(err, SAF_E_RANGE,
					"prefix '%s': length must be 0..%u",
					text, max);
		len = (unsigned)v;
	}
	*out = a;
	*prefix_len = len;
	return 0;
}

const char *saf_addr_format(const saf_addr *a, char buf[SAF_ADDR_STR_LEN])
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, ip,
		       sizeof(ip))) {
		snprintf(buf, SAF_ADDR_STR_LEN, "(invalid address)");
		return buf;
	}
	if (!a->has_port)
		snprintf(buf, SAF_ADDR_STR_LEN, "%s", ip);
	else if (a->family == 4)
		snprintf(buf, SAF_ADDR_STR_LEN, "%s:%u", ip, a->port);
	else
		snprintf(buf, SAF_ADDR_STR_LEN, "[%s]:%u", ip, a->port);
	return buf;
}

static size_t ip_len(const saf_addr *a)
{
	return a->family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN;
}

bool saf_addr_equal_ip(const saf_addr *a, const saf_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, ip_len(a)) == 0;
}

bool saf_addr_equal(const saf_addr *a, const saf_addr *b)
{
	return saf_addr_equal_ip(a, b) && a->has_port == b->has_port &&
	       a->port == b->port;
}

int saf_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			   saf_addr *out, saf_error *err)
{
	saf_addr a = { 0 };

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		a.family = 4;
		memcpy(a.bytes, &in->sin_addr, SAF_IPV4_LEN);
		a.port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;

		a.port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			a.family = 4;
			memcpy(a.bytes, &in6->sin6_addr.s6_addr[12],
			       SAF_IPV4_LEN);
		} else {
			a.family = 6;
			memcpy(a.bytes, &in6->sin6_addr, SAF_IPV6_LEN);
		}
	} else {
		return saf_fail(err, SAF_E_INVAL,
				"socket address family %d is not IP",
				sa->sa_family);
	}
	a.has_port = true;
	*out = a;
	return 0;
}

socklen_t saf_addr_to_sockaddr(const saf_addr *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->bytes, SAF_IPV4_LEN);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(a->port);
	memcpy(&in6->sin6_addr, a->bytes, SAF_IPV6_LEN);
	return sizeof(*in6);
}

saf_addr_class saf_addr_classify(const saf_addr *a)
{
	static const uint8_t zero[SAF_IPV6_LEN];
	const uint8_t *b = a->bytes;

	if (memcmp(b, zero, ip_len(a)) == 0)
		return SAF_ADDR_UNSPECIFIED;
	if (a->family == 4) {
		if (b[0] >= 224 && b[0] <= 239)
			return SAF_ADDR_MULTICAST;
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return SAF_ADDR_BROADCAST;
		if (b[0] == 127)
			return SAF_ADDR_LOOPBACK;
		return SAF_ADDR_UNICAST;
	}
	if (b[0] == 0xff)
		return SAF_ADDR_MULTICAST;
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return SAF_ADDR_LOOPBACK;
	/* IPv4-mapped: classify the embedded IPv4 address. */
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(b, mapped, sizeof(mapped)) == 0) {
		saf_addr v4 = { .family = 4 };

		memcpy(v4.bytes, b + 12, SAF_IPV4_LEN);
		return saf_addr_classify(&v4);
	}
	return SAF_ADDR_UNICAST;
}

const char *saf_addr_class_name(saf_addr_class c)
{
	switch (c) {
	case SAF_ADDR_UNICAST:
		return "unicast";
	case SAF_ADDR_UNSPECIFIED:
		return "unspecified";
	case SAF_ADDR_MULTICAST:
		return "multicast";
	case SAF_ADDR_BROADCAST:
		return "broadcast";
	case SAF_ADDR_LOOPBACK:
		return "loopback";
	}
	return "unknown";
}

int saf_addr_check_target(const saf_addr *a, bool allow_loopback,
			  const char *what, saf_error *err)
{
	char buf[SAF_ADDR_STR_LEN];
	saf_addr_class c;

	if (a->family != 4 && a->family != 6)
		return saf_fail(err, SAF_E_REFUSED,
				"%s rejected: address family %u", what,
				a->family);
	c = saf_addr_classify(a);
	if (c == SAF_ADDR_UNICAST ||
	    (c == SAF_ADDR_LOOPBACK && allow_loopback))
		return 0;
	saf_addr ip = *a;
	ip.has_port = false;
	return saf_fail(err, SAF_E_REFUSED, "%s for %s rejected: %s", what,
			saf_addr_format(&ip, buf), saf_addr_class_name(c));
}
