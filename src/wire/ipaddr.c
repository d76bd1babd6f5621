/* SPDX-License-Identifier: MIT */
/* The IPAddress field of the token and the early credential (ipaddr.h). */
#include "ipaddr.h"

#include <stdio.h>
#include <string.h>

#include "saf/constants.h"

int saf_wire_get_ipaddr(saf_reader *r, const char *who, saf_addr *out,
			saf_error *err)
{
	char what[3][48];
	saf_slice ip;
	uint8_t type;
	saf_addr a;

	snprintf(what[0], sizeof(what[0]), "%s: address type", who);
	snprintf(what[1], sizeof(what[1]), "%s: address", who);
	snprintf(what[2], sizeof(what[2]), "%s: port", who);
	memset(&a, 0, sizeof(a));
	if (saf_get_u8(r, &type, what[0], err))
		return -1;
	if (type == SAF_TOKEN_ADDR_TYPE_IPV4)
		a.family = 4;
	else if (type == SAF_TOKEN_ADDR_TYPE_IPV6)
		a.family = 6;
	else
		return saf_fail(err, SAF_E_FORMAT,
				"%s: unknown address type %u (0 = IPv4, 1 = "
				"IPv6)",
				who, type);
	if (saf_get_bytes(r, a.family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN, &ip,
			  what[1], err))
		return -1;
	memcpy(a.bytes, ip.base, ip.len);
	if (saf_get_u16(r, &a.port, what[2], err))
		return -1;
	a.has_port = true;
	*out = a;
	return 0;
}

void saf_wire_put_ipaddr(saf_writer *w, const saf_addr *a)
{
	saf_put_u8(w, (uint8_t)(a->family == 4 ? SAF_TOKEN_ADDR_TYPE_IPV4
					       : SAF_TOKEN_ADDR_TYPE_IPV6));
	saf_put_bytes(w, a->bytes,
		      a->family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN);
	saf_put_u16(w, a->port);
}
