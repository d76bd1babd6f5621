/* SPDX-License-Identifier: MIT */
/*
 * An IP address with an optional port, as the wire formats carry it, plus
 * parsing, printing and the address-class checks used to refuse adverts and
 * targets ("advert for 224.0.0.1 rejected: multicast").
 */
#ifndef SAF_ADDR_H
#define SAF_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "saf/constants.h"
#include "saf/error.h"

typedef struct saf_addr {
	uint8_t family;               /* 4 or 6 */
	uint8_t bytes[SAF_IPV6_LEN];  /* first 4 used for IPv4 */
	uint16_t port;                /* host order; 0 = none/implied */
	bool has_port;
} saf_addr;

/* Longest text form: "[ffff:...:ffff]:65535" plus NUL. */
#define SAF_ADDR_STR_LEN 56u

/* Parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80". With require_port the
 * port is mandatory. Port 0 is refused when given. */
SAF_MUST_CHECK int saf_addr_parse(const char *text, bool require_port,
				  saf_addr *out, saf_error *err);
/* Parses "PREFIX/LEN" (or a bare address = host prefix) into addr + len.
 * saf_prefix_parse (saf/policy.h) returns the same as one saf_prefix. */
SAF_MUST_CHECK int saf_addr_prefix_parse(const char *text, saf_addr *out,
					 unsigned *prefix_len, saf_error *err);

/* Formats as "1.2.3.4", "1.2.3.4:80", "::1" or "[::1]:80" (port printed
 * only when has_port). Returns buf. */
const char *saf_addr_format(const saf_addr *a, char buf[SAF_ADDR_STR_LEN]);

bool saf_addr_equal(const saf_addr *a, const saf_addr *b); /* incl. port */
bool saf_addr_equal_ip(const saf_addr *a, const saf_addr *b);

/* Conversions to and from socket addresses. An IPv4-mapped IPv6 socket
 * address ("::ffff:1.2.3.4") converts to family 4. */
SAF_MUST_CHECK int saf_addr_from_sockaddr(const struct sockaddr *sa,
					  socklen_t len, saf_addr *out,
					  saf_error *err);
socklen_t saf_addr_to_sockaddr(const saf_addr *a,
			       struct sockaddr_storage *out);

typedef enum saf_addr_class {
	SAF_ADDR_UNICAST = 0,
	SAF_ADDR_UNSPECIFIED,
	SAF_ADDR_MULTICAST,
	SAF_ADDR_BROADCAST, /* 255.255.255.255 */
	SAF_ADDR_LOOPBACK,
} saf_addr_class;

saf_addr_class saf_addr_classify(const saf_addr *a);
const char *saf_addr_class_name(saf_addr_class c);

/* Whether `a` may be used as a migration target: refuses unspecified,
 * multicast, broadcast, and loopback unless allow_loopback. On refusal the
 * message reads "<what> for <addr> rejected: <class>". */
SAF_MUST_CHECK int saf_addr_check_target(const saf_addr *a,
					 bool allow_loopback, const char *what,
					 saf_error *err);

#endif /* SAF_ADDR_H */
