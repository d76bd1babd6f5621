/* SPDX-License-Identifier: MIT */
/*
 * The TCP Service Affinity (SA) option, SPEC section 2: a pure codec.
 *
 * Encoding: RFC 6994 shared experimental option (kind 253, ExID 0x5346 by
 * default, both configurable). Five forms, selected by the length alone:
 *
 *   len  4  SAF support flag            (client SYN)
 *   len  8  advert IPv4, port implied   (node SYN-ACK)
 *   len 10  advert IPv4 + port
 *   len 20  advert IPv6, port implied
 *   len 22  advert IPv6 + port
 *
 * "Any other length, a wrong ExID ... is malformed and ignored." The decoder
 * takes the whole option starting at its kind byte; it never allocates.
 * The same rules are mirrored in the BPF programs (src/bpf/), which cannot
 * link this file; tests keep the two in agreement.
 */
#ifndef SAF_TCPOPT_H
#define SAF_TCPOPT_H

#include <stddef.h>
#include <stdint.h>

#include "saf/addr.h"
#include "saf/error.h"

typedef struct saf_tcpopt_cfg {
	uint8_t kind;  /* default SAF_TCPOPT_KIND_DEFAULT */
	uint16_t exid; /* default SAF_TCPOPT_EXID_DEFAULT */
} saf_tcpopt_cfg;

/* The defaults of SPEC section 2. */
saf_tcpopt_cfg saf_tcpopt_cfg_default(void);

typedef enum saf_tcpopt_form {
	SAF_TCPOPT_FLAG = 0,  /* "saf" in JSON */
	SAF_TCPOPT_ADVERT,    /* "advert" in JSON */
} saf_tcpopt_form;

typedef struct saf_tcpopt {
	saf_tcpopt_form form;
	/* Adverts only. addr.has_port is false for the port-less forms: the
	 * port is then the connection's own. */
	saf_addr addr;
} saf_tcpopt;

/* Decodes one option, kind byte first: buf[0] = kind, buf[1] = length
 * (which must equal len), then ExID and body. Errors: SAF_E_SHORT,
 * SAF_E_TRAILING (len longer than the length byte), SAF_E_FORMAT (wrong kind
 * or ExID), SAF_E_RANGE (a length that is no form). cfg NULL = defaults. */
SAF_MUST_CHECK int saf_tcpopt_decode(const uint8_t *buf, size_t len,
				     const saf_tcpopt_cfg *cfg,
				     saf_tcpopt *out, saf_error *err);

/* Encoded length of an option: 4, 8, 10, 20 or 22. */
size_t saf_tcpopt_encoded_len(const saf_tcpopt *opt);

/* Encodes into buf[cap]; *out_len receives the length. SAF_E_NOSPACE when
 * cap is too small, SAF_E_INVAL for a family other than 4/6. */
SAF_MUST_CHECK int saf_tcpopt_encode(const saf_tcpopt *opt,
				     const saf_tcpopt_cfg *cfg, uint8_t *buf,
				     size_t cap, size_t *out_len,
				     saf_error *err);

/* Chooses the advert a node writes: "the longest form that fits, and drops
 * the port only when the advertised port equals the connection's port;
 * otherwise it writes nothing." unicast->has_port false means "the
 * connection's own port" (the port-less form always). room is the option
 * space left in the segment. SAF_E_NOSPACE when nothing fits. */
SAF_MUST_CHECK int saf_tcpopt_choose_advert(const saf_addr *unicast,
					    uint16_t conn_port, size_t room,
					    saf_tcpopt *out, saf_error *err);

#endif /* SAF_TCPOPT_H */
