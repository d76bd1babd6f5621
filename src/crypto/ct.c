/* SPDX-License-Identifier: MIT */
/* Constant-time comparison for MACs: "constant-time compare" (SPEC 3.4). */
#include "saf/token_crypto.h"

#include <openssl/crypto.h>

int saf_ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
