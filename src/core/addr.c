/* SPDX-License-Identifier: MIT */
/*
 * Addresses as saf carries them: parsing the forms a person types, printing,
 * socket-address conversion and the address-class policy for targets.
 */
#include "saf/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Longest text we accept: a bracketed IPv6 with zone-less address, port. */
#define ADDR_TEXT_MAX 64u

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					     0, 0, 0, 0, 0xff, 0xff};

static int parse_port(const char *text, const char *p, uint16_t *port,
		      saf_error *err)
{
	unsigned long v = 0;

	if (*p == '\0')
		return saf_fail(err, SAF_E_FORMAT,
				"address '%s': empty port after ':'", text);
	for (const char *q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return saf_fail(err, SAF_E_FORMAT,
					"address '%s': port '%s' is not a "
					"number",
					text, p);
		v = v * 10 + (unsigned long)(*q - '0');
		if (v > 65535)
			return saf_fail(err, SAF_E_RANGE,
					"address '%s': port %s outside "
					"1..65535",
					text, p);
	}
	if (v == 0)
		return saf_fail(err, SAF_E_RANGE,
				"address '%s': port 0 is not allowed", text);
	*port = (uint16_t)v;
	return 0;
}

static int parse_ip(const char *text, const char *ip, int family, saf_addr *out,
		    saf_error *err)
{
	if (family == 4) {
		if (inet_pton(AF_INET, ip, out->bytes) != 1)
			return saf_fail(err, SAF_E_FORMAT,
					"address '%s': '%s' is not an IPv4 "
					"address",
					text, ip);
		out->family = 4;
	} else {
		if (inet_pton(AF_INET6, ip, out->bytes) != 1)
			return saf_fail(err, SAF_E_FORMAT,
					"address '%s': '%s' is not an IPv6 "
					"address",
					text, ip);
		out->family = 6;
	}
	return 0;
}

int saf_addr_parse(const char *text, bool require_port, saf_addr *out,
		   saf_error *err)
{
	char buf[ADDR_TEXT_MAX];
	const char *port_text = NULL;
	const char *colon;
	size_t n;
	int family;
	saf_addr a;

	memset(&a, 0, sizeof(a));
	if (!text || !*text)
		return saf_fail(err, SAF_E_FORMAT, "address: empty");
	n = strlen(text);
	if (n >= sizeof(buf))
		return saf_fail(err, SAF_E_RANGE,
				"address: %zu characters, too long to be an "
				"address",
				n);
	memcpy(buf, text, n + 1);

	if (buf[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		char *close = strchr(buf, ']');

		if (!close)
			return saf_fail(err, SAF_E_FORMAT,
					"address '%s': missing ']'", text);
		*close = '\0';
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return saf_fail(err, SAF_E_FORMAT,
					"address '%s': expected ':PORT' "
					"after ']'",
					text);
		if (parse_ip(text, buf + 1, 6, &a, err))
			return -1;
	} else {
		colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Two or more colons: a bare IPv6 address. */
			family = 6;
		} else {
			family = 4;
			if (colon) {
				buf[colon - buf] = '\0';
				port_text = buf + (colon - buf) + 1;
			}
		}
		if (parse_ip(text, buf, family, &a, err))
			return -1;
	}

	if (port_text) {
		if (parse_port(text, port_text, &a.port, err))
			return -1;
		a.has_port = true;
	} else if (require_port) {
		return saf_fail(err, SAF_E_FORMAT,
				"address '%s': a port is required (%s)", text,
				a.family == 6 ? "[ADDR]:PORT" : "ADDR:PORT");
	}
	*out = a;
	return 0;
}

static bool host_bits_clear(const saf_addr *a, unsigned len)
{
	unsigned total = a->family == 4 ? 32u : 128u;

	for (unsigned bit = len; bit < total; bit++) {
		if (a->bytes[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	}
	return true;
}

int saf_addr_prefix_parse(const char *text, saf_addr *out, unsigned *prefix_len,
			  saf_error *err)
{
	char buf[ADDR_TEXT_MAX];
	const char *slash;
	unsigned long len = 0;
	unsigned max;
	size_t n;
	saf_addr a;

	memset(&a, 0, sizeof(a));
	if (!text || !*text)
		return saf_fail(err, SAF_E_FORMAT, "prefix: empty");
	n = strlen(text);
	if (n >= sizeof(buf))
		return saf_fail(err, SAF_E_RANGE,
				"prefix: %zu characters, too long", n);
	memcpy(buf, text, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (parse_ip(text, buf, strchr(buf, ':') ? 6 : 4, &a, err))
		return -1;
	max = a.family == 4 ? 32u : 128u;
	if (!slash) {
		len = max;
	} else {
		const char *p = text + (slash - buf) + 1;

		if (!*p)
			return saf_fail(err, SAF_E_FORMAT,
					"prefix '%s': empty length after '/'",
					text);
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return saf_fail(err, SAF_E_FORMAT,
						"prefix '%s': length is not a "
						"number",
						text);
			len = len * 10 + (unsigned long)(*p - '0');
			if (len > max)
				break;
		}
		if (len > max)
			return saf_fail(err, SAF_E_RANGE,
					"prefix '%s': length outside 0..%u",
					text, max);
	}
	if (!host_bits_clear(&a, (unsigned)len))
		return saf_fail(err, SAF_E_FORMAT,
				"prefix '%s': address has bits set beyond "
				"/%lu",
				text, len);
	*out = a;
	*prefix_len = (unsigned)len;
	return 0;
}

const char *saf_addr_format(const saf_addr *a, char buf[SAF_ADDR_STR_LEN])
{
	char ip[INET6_ADDRSTRLEN];

	if (a->family == 4)
		inet_ntop(AF_INET, a->bytes, ip, sizeof(ip));
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->bytes, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "<family %u>", a->family);

	if (!a->has_port)
		snprintf(buf, SAF_ADDR_STR_LEN, "%s", ip);
	else if (a->family == 6)
		snprintf(buf, SAF_ADDR_STR_LEN, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, SAF_ADDR_STR_LEN, "%s:%u", ip, a->port);
	return buf;
}

static size_t ip_len(const saf_addr *a)
{
	return a->family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN;
}

bool saf_addr_equal_ip(const saf_addr *a, const saf_addr *b)
{
	if (a->family != b->family || (a->family != 4 && a->family != 6))
		return false;
	return memcmp(a->bytes, b->bytes, ip_len(a)) == 0;
}

bool saf_addr_equal(const saf_addr *a, const saf_addr *b)
{
	if (!saf_addr_equal_ip(a, b) || a->has_port != b->has_port)
		return false;
	return !a->has_port || a->port == b->port;
}

int saf_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			   saf_addr *out, saf_error *err)
{
	saf_addr a;

	memset(&a, 0, sizeof(a));
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return saf_fail(err, SAF_E_INVAL, "socket address: too short");
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		if (len < (socklen_t)sizeof(sin))
			return saf_fail(err, SAF_E_INVAL,
					"socket address: %u bytes, AF_INET "
					"needs %zu",
					(unsigned)len, sizeof(sin));
		memcpy(&sin, sa, sizeof(sin));
		a.family = 4;
		memcpy(a.bytes, &sin.sin_addr, SAF_IPV4_LEN);
		a.port = ntohs(sin.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		if (len < (socklen_t)sizeof(sin6))
			return saf_fail(err, SAF_E_INVAL,
					"socket address: %u bytes, AF_INET6 "
					"needs %zu",
					(unsigned)len, sizeof(sin6));
		memcpy(&sin6, sa, sizeof(sin6));
		if (memcmp(&sin6.sin6_addr, v4_mapped_prefix,
			   sizeof(v4_mapped_prefix)) == 0) {
			a.family = 4;
			memcpy(a.bytes, (const uint8_t *)&sin6.sin6_addr + 12,
			       SAF_IPV4_LEN);
		} else {
			a.family = 6;
			memcpy(a.bytes, &sin6.sin6_addr, SAF_IPV6_LEN);
		}
		a.port = ntohs(sin6.sin6_port);
	} else {
		return saf_fail(err, SAF_E_UNSUPPORTED,
				"socket address: family %u is neither IPv4 "
				"nor IPv6",
				(unsigned)sa->sa_family);
	}
	a.has_port = true;
	*out = a;
	return 0;
}

socklen_t saf_addr_to_sockaddr(const saf_addr *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == 4) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->bytes, SAF_IPV4_LEN);
		sin.sin_port = htons(a->has_port ? a->port : 0);
		memcpy(out, &sin, sizeof(sin));
		return (socklen_t)sizeof(sin);
	}
	if (a->family == 6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->bytes, SAF_IPV6_LEN);
		sin6.sin6_port = htons(a->has_port ? a->port : 0);
		memcpy(out, &sin6, sizeof(sin6));
		return (socklen_t)sizeof(sin6);
	}
	return 0;
}

static saf_addr_class classify_v4(const uint8_t b[4])
{
	if (b[0] == 0)
		return SAF_ADDR_UNSPECIFIED; /* 0.0.0.0/8: "this network" */
	if (b[0] == 127)
		return SAF_ADDR_LOOPBACK;
	if ((b[0] & 0xf0) == 0xe0)
		return SAF_ADDR_MULTICAST; /* 224.0.0.0/4 */
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return SAF_ADDR_BROADCAST;
	return SAF_ADDR_UNICAST;
}

saf_addr_class saf_addr_classify(const saf_addr *a)
{
	static const uint8_t zero[SAF_IPV6_LEN];

	if (a->family == 4)
		return classify_v4(a->bytes);
	if (a->family != 6)
		return SAF_ADDR_UNSPECIFIED;
	if (memcmp(a->bytes, zero, SAF_IPV6_LEN) == 0)
		return SAF_ADDR_UNSPECIFIED;
	if (memcmp(a->bytes, zero, SAF_IPV6_LEN - 1) == 0 && a->bytes[15] == 1)
		return SAF_ADDR_LOOPBACK;
	if (a->bytes[0] == 0xff)
		return SAF_ADDR_MULTICAST;
	/* An IPv4-mapped address reaches the IPv4 host: judge that. */
	if (memcmp(a->bytes, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0)
		return classify_v4(a->bytes + 12);
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
	saf_addr_class c;
	saf_addr ip;
	char buf[SAF_ADDR_STR_LEN];

	if (a->family != 4 && a->family != 6)
		return saf_fail(err, SAF_E_INVAL,
				"%s rejected: address family %u", what,
				a->family);
	c = saf_addr_classify(a);
	if (c == SAF_ADDR_UNICAST || (c == SAF_ADDR_LOOPBACK && allow_loopback))
		return 0;
	ip = *a;
	ip.has_port = false;
	return saf_fail(err, SAF_E_REFUSED, "%s for %s rejected: %s", what,
			saf_addr_format(&ip, buf), saf_addr_class_name(c));
}
