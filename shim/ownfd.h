/* SPDX-License-Identifier: MIT */
/* ownfd.h - the descriptors the shim itself holds (the trace's, the
 * sock_diag socket's), which the program must never see.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_OWNFD_H
#define SOCKTRACE_OWNFD_H

#include <stdatomic.h>
#include <stdbool.h>

#include "sink.h"

extern _Atomic int st_diag_fd;	/* sockdiag.c */

/* Is fd one of the shim's own descriptors? */
static inline bool st_is_own_fd(int fd)
{
	return fd >= 0 && (fd == atomic_load_explicit(&st_sink_fd, memory_order_relaxed) ||
			   fd == atomic_load_explicit(&st_diag_fd, memory_order_relaxed));
}

/* The program wants descriptor fd (dup2 onto it): the shim's moves away. */
void st_own_move_from(int fd);

/* Where the shim keeps a descriptor: the highest free number at or below
 * the top (min(RLIMIT_NOFILE, 4096) - 1) minus depth, so the program's
 * lowest-free and F_DUPFD numbers are what they would be bare.  Returns a
 * close-on-exec duplicate of fd there, or -1 when none of the 16 numbers
 * below that is free; fd itself is always closed.  Never placed lower:
 * the shim gives up a descriptor rather than take one the program would
 * have got. */
int st_own_place_high(int fd, int depth);

#endif
