/* SPDX-License-Identifier: MIT */
#include "saf/error.h"

#include <stdio.h>

int saf_fail(saf_error *err, saf_errc code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *saf_errc_name(saf_errc code)
{
	static const char *const names[] = {
		[SAF_OK] = "ok",
		[SAF_E_SHORT] = "short",
		[SAF_E_TRAILING] = "trailing",
		[SAF_E_RANGE] = "range",
		[SAF_E_FORMAT] = "format",
		[SAF_E_NOSPACE] = "nospace",
		[SAF_E_INVAL] = "invalid",
		[SAF_E_CRYPTO] = "crypto",
		[SAF_E_NOMEM] = "nomem",
		[SAF_E_SYS] = "system",
		[SAF_E_REFUSED] = "refused",
		[SAF_E_TIMEOUT] = "timeout",
		[SAF_E_UNSUPPORTED] = "unsupported",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
