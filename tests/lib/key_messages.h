/* SPDX-License-Identifier: MIT */
/* For tests that check error messages of key loaders (include after
 * cmocka.h). */
#ifndef SAF_TESTS_KEY_MESSAGES_H
#define SAF_TESTS_KEY_MESSAGES_H

#include <string.h>

/* No run of 8 or more hex digits in msg: no piece of a key is echoed. */
static inline void assert_no_key_material(const char *msg)
{
	size_t run = 0;

	for (const char *p = msg; *p; p++) {
		run = strchr("0123456789abcdefABCDEF", *p) ? run + 1 : 0;
		assert_true(run < 8);
	}
}

#endif
