/* SPDX-License-Identifier: MIT */
/* SipHash-2-4 (Aumasson, Bernstein 2012): a keyed 64-bit hash, so that a
 * peer who does not know the key cannot aim inputs at one hash bucket.
 * Internal to saf_core. */
#ifndef SAF_CRYPTO_SIPHASH_H
#define SAF_CRYPTO_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t saf_siphash24(const uint64_t key[2], const uint8_t *p, size_t len);

#endif /* SAF_CRYPTO_SIPHASH_H */
