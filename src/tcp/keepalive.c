/* SPDX-License-Identifier: MIT */
/*
 * The node's keepalive setting (--keepalive off | IDLE[,INTVL,CNT]): see
 * saf_tcp_keepalive_parse in include/saf/tcp.h and docs/tcp.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "saf/tcp.h"

/* One number of the list: digits only, 1..max; *s moves past it. */
static int one_number(const char **s, const char *what, unsigned long max,
		      uint32_t *out, saf_error *err)
{
	const char *p = *s;
	char *end;
	unsigned long v;

	if (*p < '0' || *p > '9')
		return saf_fail(err, SAF_E_FORMAT,
				"--keepalive: %s missing or not a number "
				"(IDLE[,INTVL,CNT] or off)",
				what);
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || v == 0 || v > max)
		return saf_fail(err, SAF_E_RANGE,
				"--keepalive: %s must be 1..%lu", what, max);
	*out = (uint32_t)v;
	*s = end;
	return 0;
}

int saf_tcp_keepalive_parse(const char *s, saf_tcp_node_config *c,
			    saf_error *err)
{
	uint32_t idle, intvl = SAF_TCP_KEEPALIVE_INTVL_DEFAULT,
		       cnt = SAF_TCP_KEEPALIVE_CNT_DEFAULT;

	if (strcmp(s, "off") == 0) {
		c->keepalive_idle = SAF_TCP_KEEPALIVE_OFF;
		c->keepalive_intvl = c->keepalive_cnt = 0;
		return 0;
	}
	if (one_number(&s, "IDLE seconds", SAF_TCP_KEEPALIVE_IDLE_MAX, &idle,
		       err))
		return -1;
	if (*s == ',') {
		s++;
		if (one_number(&s, "INTVL seconds", SAF_TCP_KEEPALIVE_INTVL_MAX,
			       &intvl, err))
			return -1;
		if (*s != ',')
			return saf_fail(err, SAF_E_FORMAT,
					"--keepalive: give IDLE alone or "
					"IDLE,INTVL,CNT");
		s++;
		if (one_number(&s, "CNT probes", SAF_TCP_KEEPALIVE_CNT_MAX,
			       &cnt, err))
			return -1;
	}
	if (*s)
		return saf_fail(
			err, SAF_E_FORMAT,
			"--keepalive: unexpected '%s' (IDLE[,INTVL,CNT] "
			"or off)",
			s);
	c->keepalive_idle = idle;
	c->keepalive_intvl = intvl;
	c->keepalive_cnt = cnt;
	return 0;
}
