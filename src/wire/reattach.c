/* SPDX-License-Identifier: MIT */
/* The reattach extension's bodies (saf/reattach.h): an exact codec. */
#include "saf/reattach.h"

#include <string.h>

#include "ipaddr.h"
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
	saf_slice id;

	memset(&c, 0, sizeof(c));
	saf_reader_init(&r, body, len);
	if (saf_get_bytes(&r, SAF_REATTACH_ID_LEN, &id, "reattach: id", err) ||
	    saf_wire_get_ipaddr(&r, "reattach", &c.target, err) ||
	    saf_reader_expect_end(&r, "reattach credential", err))
		return -1;
	if (c.target.port == 0)
		return saf_fail(err, SAF_E_RANGE, "reattach: port 0");
	memcpy(c.id, id.base, id.len);
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
	saf_wire_put_ipaddr(&w, a);
	return w.failed ? 0 : w.len;
}
