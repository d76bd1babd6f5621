/* SPDX-License-Identifier: MIT */
/*
 * The TCP Service Affinity option (SPEC section 2). "The length alone
 * selects the form; any other length, a wrong ExID ... is malformed."
 */
#include "saf/tcpopt.h"

#include <string.h>

#include "saf/cursor.h"

saf_tcpopt_cfg saf_tcpopt_cfg_default(void)
{
	saf_tcpopt_cfg cfg = {
		.kind = SAF_TCPOPT_KIND_DEFAULT,
		.exid = SAF_TCPOPT_EXID_DEFAULT,
	};
	return cfg;
}

/* The form a length byte selects: family 0 for the SAF flag, 4 or 6 for an
 * advert; -1 for a length that is no form. */
static int form_of_len(size_t len, uint8_t *family, bool *has_port)
{
	switch (len) {
	case SAF_TCPOPT_LEN_FLAG:
		*family = 0;
		*has_port = false;
		return 0;
	case SAF_TCPOPT_LEN_V4:
	case SAF_TCPOPT_LEN_V4_PORT:
		*family = 4;
		*has_port = len == SAF_TCPOPT_LEN_V4_PORT;
		return 0;
	case SAF_TCPOPT_LEN_V6:
	case SAF_TCPOPT_LEN_V6_PORT:
		*family = 6;
		*has_port = len == SAF_TCPOPT_LEN_V6_PORT;
		return 0;
	default:
		return -1;
	}
}

int saf_tcpopt_decode(const uint8_t *buf, size_t len, const saf_tcpopt_cfg *cfg,
		      saf_tcpopt *out, saf_error *err)
{
	saf_tcpopt_cfg def = saf_tcpopt_cfg_default();
	saf_reader r;
	saf_slice ip;
	uint8_t kind, optlen, family;
	uint16_t exid;
	bool has_port;
	saf_tcpopt opt;

	if (!cfg)
		cfg = &def;
	memset(&opt, 0, sizeof(opt));
	saf_reader_init(&r, buf, len);
	if (saf_get_u8(&r, &kind, "tcpopt: kind", err) ||
	    saf_get_u8(&r, &optlen, "tcpopt: length", err))
		return -1;
	if (kind != cfg->kind)
		return saf_fail(err, SAF_E_FORMAT,
				"tcpopt: kind %u is not the SA option kind %u",
				kind, cfg->kind);
	if (optlen < len)
		return saf_fail(err, SAF_E_TRAILING,
				"tcpopt: %zu bytes given, length byte says %u",
				len, optlen);
	if (optlen > len)
		return saf_fail(err, SAF_E_SHORT,
				"tcpopt: length byte says %u, only %zu bytes "
				"given",
				optlen, len);
	if (form_of_len(optlen, &family, &has_port))
		return saf_fail(err, SAF_E_RANGE,
				"tcpopt: length %u is no SA form (4, 8, 10, "
				"20 or 22)",
				optlen);
	if (saf_get_u16(&r, &exid, "tcpopt: ExID", err))
		return -1;
	if (exid != cfg->exid)
		return saf_fail(err, SAF_E_FORMAT,
				"tcpopt: ExID 0x%04x is not the SA ExID "
				"0x%04x",
				exid, cfg->exid);

	if (family == 0) {
		opt.form = SAF_TCPOPT_FLAG;
	} else {
		opt.form = SAF_TCPOPT_ADVERT;
		opt.addr.family = family;
		if (saf_get_bytes(&r, family == 4 ? SAF_IPV4_LEN : SAF_IPV6_LEN,
				  &ip, "tcpopt: address", err))
			return -1;
		memcpy(opt.addr.bytes, ip.base, ip.len);
		if (has_port) {
			if (saf_get_u16(&r, &opt.addr.port, "tcpopt: port",
					err))
				return -1;
			opt.addr.has_port = true;
		}
	}
	if (saf_reader_expect_end(&r, "tcpopt", err))
		return -1;
	*out = opt;
	return 0;
}

size_t saf_tcpopt_encoded_len(const saf_tcpopt *opt)
{
	size_t len;

	if (opt->form == SAF_TCPOPT_FLAG)
		return SAF_TCPOPT_LEN_FLAG;
	if (opt->addr.family == 4)
		len = SAF_TCPOPT_LEN_V4;
	else if (opt->addr.family == 6)
		len = SAF_TCPOPT_LEN_V6;
	else
		return 0;
	return opt->addr.has_port ? len + SAF_PORT_LEN : len;
}

int saf_tcpopt_encode(const saf_tcpopt *opt, const saf_tcpopt_cfg *cfg,
		      uint8_t *buf, size_t cap, size_t *out_len, saf_error *err)
{
	saf_tcpopt_cfg def = saf_tcpopt_cfg_default();
	size_t len = saf_tcpopt_encoded_len(opt);
	saf_writer w;

	if (!cfg)
		cfg = &def;
	if (opt->form != SAF_TCPOPT_FLAG && opt->form != SAF_TCPOPT_ADVERT)
		return saf_fail(err, SAF_E_INVAL, "tcpopt: unknown form %d",
				(int)opt->form);
	if (len == 0)
		return saf_fail(err, SAF_E_INVAL,
				"tcpopt: advert family %u is neither 4 nor 6",
				opt->addr.family);
	if (cap < len)
		return saf_fail(err, SAF_E_NOSPACE,
				"tcpopt: %zu-byte option does not fit in %zu "
				"bytes",
				len, cap);
	saf_writer_init(&w, buf, cap);
	saf_put_u8(&w, cfg->kind);
	saf_put_u8(&w, (uint8_t)len);
	saf_put_u16(&w, cfg->exid);
	if (opt->form == SAF_TCPOPT_ADVERT) {
		saf_put_bytes(&w, opt->addr.bytes,
			      opt->addr.family == 4 ? SAF_IPV4_LEN
						    : SAF_IPV6_LEN);
		if (opt->addr.has_port)
			saf_put_u16(&w, opt->addr.port);
	}
	if (saf_writer_finish(&w, "tcpopt", err))
		return -1;
	*out_len = w.len;
	return 0;
}

int saf_tcpopt_choose_advert(const saf_addr *unicast, uint16_t conn_port,
			     size_t room, saf_tcpopt *out, saf_error *err)
{
	size_t short_len, long_len;
	saf_tcpopt opt;

	if (unicast->family == 4) {
		short_len = SAF_TCPOPT_LEN_V4;
		long_len = SAF_TCPOPT_LEN_V4_PORT;
	} else if (unicast->family == 6) {
		short_len = SAF_TCPOPT_LEN_V6;
		long_len = SAF_TCPOPT_LEN_V6_PORT;
	} else {
		return saf_fail(err, SAF_E_INVAL,
				"tcpopt: advert family %u is neither 4 nor 6",
				unicast->family);
	}
	memset(&opt, 0, sizeof(opt));
	opt.form = SAF_TCPOPT_ADVERT;
	opt.addr = *unicast;

	if (unicast->has_port && room >= long_len) {
		/* The longest form: carries the port explicitly. */
	} else if ((!unicast->has_port || unicast->port == conn_port) &&
		   room >= short_len) {
		/* The port may be dropped: it equals the connection's. */
		opt.addr.has_port = false;
		opt.addr.port = 0;
	} else if (unicast->has_port && unicast->port != conn_port) {
		return saf_fail(err, SAF_E_NOSPACE,
				"tcpopt: advert with port %u needs %zu bytes, "
				"%zu left",
				unicast->port, long_len, room);
	} else {
		return saf_fail(err, SAF_E_NOSPACE,
				"tcpopt: advert needs %zu bytes, %zu left",
				short_len, room);
	}
	*out = opt;
	return 0;
}
