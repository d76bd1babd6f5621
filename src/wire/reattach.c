/* SPDX-License-Identifier: MIT */
/* The reattach extension's bodies (saf/reattach.h): an exact codec. */
#include "saf/reattach.h"

#include <string.h>

#include "saf/cursor.h"

int saf_reattach_hello_decode(const uint8_t *body, size_t len,
			      saf_reattach_mode *out, saf_error *err)
{
	if (len != 1u)
		return saf_fail(err, SAF_E_RANGE,
				"reattach: ClientHello body of %zu bytes, "
				"must be 1",
				len);
	if (body[0] > SAF_REATTACH_MODE_REATTACH)
		return saf_fail(err, SAF_E_FORMAT,
				"reattach: unknown mode %u (0 offer, 1 "
				"reattach)",
				body[0]);
	*out = (saf_reattach_mode)body[0];
	return 0;
}

int saf_reattach_cred_decode(const uint8_t *body, size_t len,
			     saf_reattach_cred *out, saf_error *err)
{
	saf_reattach_cred c;
	saf_reader r;
	saf_slice id, ip;
	uint8_t type;

	memset(&c, 0, sizeof(c));
	saf_reader_init(&r, body, len);
	if (saf_get_bytes(&r, SAF_REATTACH_ID_LEN, &id, "reattach: id", err) ||
	    saf_get_u8(&r, &type, "reattach: address type", err))
		return -1;
	if (type == SAF_TOKEN_ADDR_TYPE_IPV4)
		c.target.family = 4;
	else if (type == SAF_TOKEN_ADDR_TYPE_IPV6)
		c.target.family = 6;
	else
		return saf_fail(err, SAF_E_FORMAT,
				"reattach: unknown address type %u (0 = IPv4, "
				"1 = IPv6)",
				type);
	if (saf_get_bytes(&r,
			  c.target.family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN,
			  &ip, "reattach: address", err) ||
	    saf_get_u16(&r, &c.target.port, "reattach: port", err) ||
	    saf_reader_expect_end(&r, "reattach credential", err))
		return -1;
	if (c.target.port == 0)
		return saf_fail(err, SAF_E_RANGE, "reattach: port 0");
	memcpy(c.id, id.base, id.len);
	memcpy(c.target.bytes, ip.base, ip.len);
	c.target.has_port = true;
	*out = c;
	return 0;
}

size_t saf_reattach_cred_encode(const saf_reattach_cred *c, uint8_t *out,
				size_t cap)
{
	const saf_addr *a = &c->target;
	saf_writer w;

	if ((a->family != 4 && a->family != 6) || !a->has_port || !a->port)
		return 0;
	saf_writer_init(&w, out, cap);
	saf_put_bytes(&w, c->id, SAF_REATTACH_ID_LEN);
	saf_put_u8(&w, (uint8_t)(a->family == 4 ? SAF_TOKEN_ADDR_TYPE_IPV4
						: SAF_TOKEN_ADDR_TYPE_IPV6));
	saf_put_bytes(&w, a->bytes,
		      a->family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN);
	saf_put_u16(&w, a->port);
	return w.failed ? 0 : w.len;
}
