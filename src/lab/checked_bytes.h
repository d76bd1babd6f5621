/* SPDX-License-Identifier: MIT */
/*
 * The byte sequence the lab's traffic tools send and check (saf-streams,
 * saf-load): xorshift64*, fixed and seedable, so both ends regenerate it
 * from a seed and every echoed byte is checked without storing it.
 */
#ifndef SAF_LAB_CHECKED_BYTES_H
#define SAF_LAB_CHECKED_BYTES_H

#include <stdint.h>

static inline uint8_t checked_next_byte(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint8_t)((*s * 0x2545F4914F6CDD1DULL) >> 56);
}

#endif /* SAF_LAB_CHECKED_BYTES_H */
