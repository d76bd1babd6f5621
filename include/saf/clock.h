/* SPDX-License-Identifier: MIT */
/*
 * The clocks, in one place: monotonic for timeouts, intervals and rates
 * (it never jumps with the wall clock), realtime only for what is compared
 * with other machines or shown to people (token expiry, log stamps).
 *
 * Every call reads the clock afresh; none can fail on Linux (both clocks
 * always exist), so they return a plain number. Code with a state machine
 * takes the time as an argument or a saf_clock_fn (saf/replay.h) instead,
 * so tests can drive it.
 */
#ifndef SAF_CLOCK_H
#define SAF_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds, microseconds, milliseconds (truncated). */
uint64_t saf_clock_mono_ns(void);
uint64_t saf_clock_mono_us(void);
uint64_t saf_clock_mono_ms(void);

/* CLOCK_REALTIME: milliseconds and seconds since the epoch (0 before it). */
uint64_t saf_clock_wall_ms(void);
uint64_t saf_clock_wall_s(void);

/* ms from now (saf_clock_mono_ms) until deadline_ms, as a poll() timeout:
 * 0 when it has passed, at most INT_MAX; deadline 0 means none (-1). */
int saf_clock_poll_timeout(uint64_t deadline_ms, uint64_t now_ms);

#endif /* SAF_CLOCK_H */
