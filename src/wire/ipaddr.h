/* SPDX-License-Identifier: MIT */
/*
 * The IPAddress field shared by the MigrationToken (SPEC 3.2) and the
 * early credential (saf/reattach.h): type(1) addr(4|16) port(2), type 0
 * IPv4, 1 IPv6. Private to src/wire.
 */
#ifndef SAF_WIRE_IPADDR_H
#define SAF_WIRE_IPADDR_H

#include "saf/addr.h"
#include "saf/cursor.h"

/* Reads one into *out (has_port set). Errors name the field after
 * `who` ("token: port: needs 2 bytes, 1 left"). 0, or -1 with err. */
int saf_wire_get_ipaddr(saf_reader *r, const char *who, saf_addr *out,
			saf_error *err);
/* Writes a (family 4 or 6, checked by the caller) with its port. */
void saf_wire_put_ipaddr(saf_writer *w, const saf_addr *a);

#endif
