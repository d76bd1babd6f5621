/* SPDX-License-Identifier: MIT */
/* TLS variant code points and empty-bodied extensions (SPEC 3.1, 3.5). */
#include "saf/tlsext.h"

#include <stdlib.h>

saf_tlsext_codepoints saf_tlsext_codepoints_default(void)
{
	saf_tlsext_codepoints cp = {
		.migration_support = SAF_TLSEXT_MIGRATION_SUPPORT_DEFAULT,
		.migration_token = SAF_TLSEXT_MIGRATION_TOKEN_DEFAULT,
		.migrate_notify = SAF_TLSEXT_MIGRATE_NOTIFY_DEFAULT,
		.migrate_notify_alert = SAF_TLS_ALERT_MIGRATE_NOTIFY_DEFAULT,
		.continuity = SAF_TLSEXT_CONTINUITY_DEFAULT,
		.reattach = SAF_TLSEXT_REATTACH_DEFAULT,
	};
	return cp;
}

int saf_tlsext_codepoints_check(const saf_tlsext_codepoints *cp, saf_error *err)
{
	const struct {
		const char *name;
		uint16_t v;
	} ext[] = {
		{"migration_support", cp->migration_support},
		{"migration_token", cp->migration_token},
		{"migrate_notify", cp->migrate_notify},
		{"continuity", cp->continuity},
		{"reattach", cp->reattach},
	};
	const size_t n = sizeof(ext) / sizeof(ext[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (ext[i].v == ext[j].v)
				return saf_fail(err, SAF_E_INVAL,
						"tls: %s and %s share code "
						"point 0x%04x",
						ext[i].name, ext[j].name,
						ext[i].v);
	return 0;
}

int saf_tlsext_codepoint_parse(const char *text, unsigned max, unsigned *out,
			       saf_error *err)
{
	const char *digits = text;
	int base = 10;
	unsigned long v = 0;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		digits = text + 2;
	}
	if (!*digits)
		return saf_fail(err, SAF_E_FORMAT, "code point '%s': no digits",
				text);
	for (const char *p = digits; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return saf_fail(err, SAF_E_FORMAT,
					"code point '%s': not a %s number",
					text,
					base == 16 ? "hex (0x...)" : "decimal");
		v = v * (unsigned long)base + (unsigned long)d;
		if (v > max)
			return saf_fail(err, SAF_E_RANGE,
					"code point '%s': outside 0..0x%x",
					text, max);
	}
	*out = (unsigned)v;
	return 0;
}

int saf_tlsext_empty_decode(const char *name, const uint8_t *body, size_t len,
			    saf_error *err)
{
	(void)body;
	if (len != 0)
		return saf_fail(err, SAF_E_TRAILING,
				"%s: body of %zu byte%s, must be empty", name,
				len, len == 1 ? "" : "s");
	return 0;
}
