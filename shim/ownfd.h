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

#endif
