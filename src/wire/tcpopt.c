/* SPDX-License-Identifier: MIT */
/* The TCP Service Affinity option codec (SPEC section 2). */
#include "saf/tcpopt.h"

#include <string.h>

#include "saf/cursor.h"

saf_tcpopt_cfg saf_tcpopt_cfg_default(void)
{
	return (saf_tcpopt_cfg){ .kind = SAF_TCPOPT_KIND_DEFAULT,
				 .exid = SAF_TCPOPT_EXID_DEFAULT };
}

size_t saf_tcpopt_encoded_len(const saf_tcpopt *opt)
{
	if (opt->form == SAF_TCPOPT_FLAG)
		return SAF_TCPOPT_LEN_FLAG;
	if (opt->addr.family == 4)
		return opt->addr.has_port ? SAF_TCPOPT_LEN_V4_PORT
					  : SAF_TCPOPT_LEN_V4;
	return opt->addr.has_port ? SAF_TCPOPT_LEN_V6_PORT : SAF_TCPOPT_LEN_V6;
}

int saf_tcpopt_decode(const uint8_t *buf, size_t len,
		      const saf_tcpopt_cfg *cfg, saf_tcpopt *out,
		      saf_error *err)
{
	saf_tcpopt_cfg def = saf_tcpopt_cfg_default();
	saf_reader r;
	uint8_t kind, optlen;
	uint16_t exid;
	saf_slice body;
	saf_tcpopt o = { 0 };

	if (!cfg)
		cfg = &def;
	saf_reader_init(&r, buf, len);
	if (saf_get_u8(&r, &kind, "tcp option kind", err) ||
	    saf_get_u8(&r, &optlen, "tcp option length", err))
		return -1;
	if (kind != cfg->kind)
		return saf_fail(err, SAF_E_FORMAT,
				"tcp option: kind %u, expected %u", kind,
				cfg->kind);
	if (optlen < 2 || optlen > len)
		return saf_fail(err, SAF_E_SHORT,
				"tcp option: length byte %u but %zu bytes given",
				optlen, len);
	if (optlen < len)
		return saf_fail(err, SAF_E_TRAILING,
				"tcp option: length byte %u but %zu bytes given",
				optlen, len);
	if (saf_get_u16(&r, &exid, "tcp option ExID", err))
		return -1;
	if (exid != cfg->exid)
		return saf_fail(err, SAF_E_FORMAT,
				"tcp option: ExID 0x%04x, expected 0x%04x",
				exid, cfg->exid);

	/* "The length alone selects the form." */
	switch (optlen) {
	case SAF_TCPOPT_LEN_FLAG:
		o.form = SAF_TCPOPT_FLAG;
		break;
	case SAF_TCPOPT_LEN_V4:
	case SAF_TCPOPT_LEN_V4_PORT:
	case SAF_TCPOPT_LEN_V6:
	case SAF_TCPOPT_LEN_V6_PORT: {
		bool v4 = optlen == SAF_TCPOPT_LEN_V4 ||
			  optlen == SAF_TCPOPT_LEN_V4_PORT;
		size_t alen = v4 ? SAF_IPV4_LEN : SAF_IPV6_LEN;

		o.form = SAF_TCPOPT_ADVERT;
		o.addr.family = v4 ? 4 : 6;
		if (saf_get_bytes(&r, alen, &body, "tcp option address", err))
			return -1;
		memcpy(o.addr.bytes, body.base, alen);
		if (saf_reader_left(&r) == SAF_PORT_LEN) {
			if (saf_get_u16(&r, &o.addr.port, "tcp option port",
					err))
				return -1;
			o.addr.has_port = true;
		}
		break;
	}
	default:
		return saf_fail(err, SAF_E_RANGE,
				"tcp option: length %u is no form (4, 8, 10, "
				"20 or 22)",
				optlen);
	}
	if (saf_reader_expect_end(&r, "tcp option", err))
		return -1;
	*out = o;
	return 0;
}

int saf_tcpopt_encode(const saf_tcpopt *opt, const saf_tcpopt_cfg *cfg,
		      uint8_t *buf, size_t cap, size_t *out_len,
		      saf_error *err)
{
	saf_tcpopt_cfg def = saf_tcpopt_cfg_default();
	saf_writer w;
	size_t n;

	if (!cfg)
		cfg = &def;
	if (opt->form == SAF_TCPOPT_ADVERT && opt->addr.family != 4 &&
	    opt->addr.family != 6)
		return saf_fail(err, SAF_E_INVAL,
				"tcp option: address family %u", opt->addr.family);
	n = saf_tcpopt_encoded_len(opt);
	saf_writer_init(&w, buf, cap);
	saf_put_u8(&w, cfg->kind);
	saf_put_u8(&w, (uint8_t)n);
	saf_put_u16(&w, cfg->exid);
	if (opt->form == SAF_TCPOPT_ADVERT) {
		saf_put_bytes(&w, opt->addr.bytes,
			      opt->addr.family == 4 ? SAF_IPV4_LEN
						    : SAF_IPV6_LEN);
		if (opt->addr.has_port)
			saf_put_u16(&w, opt->addr.port);
	}
	if (saf_writer_finish(&w, "tcp option", err))
		return -1;
	*out_len = w.len;
	return 0;
}

int saf_tcpopt_choose_advert(const saf_addr *unicast, uint16_t conn_port,
			     size_t room, saf_tcpopt *out, saf_error *err)
{
	saf_tcpopt with = { .form = SAF_TCPOPT_ADVERT, .addr = *unicast };
	saf_tcpopt without = with;
	char buf[SAF_ADDR_STR_LEN];

	if (unicast->family != 4 && unicast->family != 6)
		return saf_fail(err, SAF_E_INVAL,
				"advert: address family %u", unicast->family);
	without.addr.has_port = false;
	without.addr.port = 0;
	if (unicast->has_port && unicast->port != conn_port) {
		/* The port must travel: only the long form will do. */
		if (saf_tcpopt_encoded_len(&with) <= room) {
			*out = with;
			return 0;
		}
		return saf_fail(err, SAF_E_NOSPACE,
				"advert for %s needs %zu option bytes, %zu "
				"left",
				saf_addr_format(unicast, buf),
				saf_tcpopt_encoded_len(&with), room);
	}
	if (unicast->has_port && saf_tcpopt_encoded_len(&with) <= room) {
		*out = with;
		return 0;
	}
	if (saf_tcpopt_encoded_len(&without) <= room) {
		*out = without;
		return 0;
	}
	return saf_fail(err, SAF_E_NOSPACE,
			"advert for %s needs %zu option bytes, %zu left",
			saf_addr_format(&without.addr, buf),
			saf_tcpopt_encoded_len(&without), room);
}
