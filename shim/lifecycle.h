/* lifecycle.h - the shim's life inside a process: start, fork, exit.
 *
 * Owns: initialization (lazy and lock-free, so that calls from other
 * libraries' constructors work), the start and exit events, the child's
 * fresh start after fork, and adopting the sockets the process had before
 * the shim started.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_LIFECYCLE_H
#define SOCKTRACE_LIFECYCLE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "shim.h"

/* 0: not started, 1: initializing, 2: recording, 3: off for good */
enum { ST_INIT_NONE, ST_INIT_BUSY, ST_INIT_READY, ST_INIT_OFF };
extern _Atomic int st_init_state;

void st_init(void);

/* Returns true when events may be recorded; starts the shim on first use. */
static inline bool st_active(void)
{
	int s = atomic_load_explicit(&st_init_state, memory_order_acquire);
	if (ST_LIKELY(s == ST_INIT_READY))
		return true;
	if (s == ST_INIT_NONE) {
		st_init();
		return atomic_load_explicit(&st_init_state, memory_order_acquire) == ST_INIT_READY;
	}
	return false;
}

/* The pthread_atfork child handler: the child starts over. */
void st_after_fork_child(void);

#endif
