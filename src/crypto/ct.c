/* SPDX-License-Identifier: MIT */
#include <openssl/crypto.h>

#include "saf/token_crypto.h"

int saf_ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	/* CRYPTO_memcmp's run time depends only on len, never on where the
	 * inputs differ. */
	return CRYPTO_memcmp(a, b, len) == 0;
}
