/* SPDX-License-Identifier: MIT */
/* The monotonic and wall clocks (saf/clock.h). */
#include <limits.h>
#include <time.h>

#include "saf/clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these two clocks with a valid pointer; a time
	 * before the epoch (a badly set wall clock) reads as 0. */
	if (clock_gettime(id, &ts) != 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t saf_clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t saf_clock_mono_us(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000u;
}

uint64_t saf_clock_mono_ms(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000000u;
}

uint64_t saf_clock_wall_ms(void)
{
	return read_ns(CLOCK_REALTIME) / 1000000u;
}

uint64_t saf_clock_wall_s(void)
{
	return read_ns(CLOCK_REALTIME) / 1000000000u;
}

int saf_clock_poll_timeout(uint64_t deadline_ms, uint64_t now_ms)
{
	uint64_t left;

	if (deadline_ms == 0)
		return -1;
	if (deadline_ms <= now_ms)
		return 0;
	left = deadline_ms - now_ms;
	return left > INT_MAX ? INT_MAX : (int)left;
}
