/* SPDX-License-Identifier: MIT */
/* clock.h - the time events carry.
 *
 * Owns: reading the clock, nothing else; depends on nothing of the shim.
 * Runs inside the traced program, in signal handlers too: clock_gettime
 * is async-signal-safe.
 */
#ifndef SOCKTRACE_CLOCK_H
#define SOCKTRACE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since the epoch, from CLOCK_REALTIME. */
static inline int64_t st_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
