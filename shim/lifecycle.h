/* SPDX-License-Identifier: MIT */
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

/* Set in the child of vfork() (and of clone(CLONE_VM|CLONE_VFORK)) while it
 * runs on its parent's memory: the wrappers pass every call through, so the
 * child never edits its parent's table nor writes as its parent.  Per
 * thread: the parent's other threads go on recording. */
extern __thread bool st_vfork_child;

void st_init(void);

/* Returns true when events may be recorded; starts the shim on first use. */
static inline bool st_active(void)
{
	int s = atomic_load_explicit(&st_init_state, memory_order_acquire);
	if (ST_LIKELY(s == ST_INIT_READY))
		return !st_vfork_child;
	if (s == ST_INIT_NONE) {
		st_init();
		return atomic_load_explicit(&st_init_state, memory_order_acquire) == ST_INIT_READY;
	}
	return false;
}

/* The pthread_atfork child handler (and the same for children made
 * without fork(): _Fork, clone, daemon): the child starts over. */
void st_after_fork_child(void);
/* A new process may hold this process's sockets (fork, spawn): each one's
 * last close here asks the kernel whether it still lives elsewhere. */
void st_mark_all_shared(void);

/* The exit event, now, once per image: status is the exit status (0-255),
 * -1 unknown.  For _exit(), _Exit(), exit_group; exit() and quick_exit()
 * are caught by handlers the shim registers at start. */
void st_exit_now(int status);
/* quick_exit(status) was called: its handler records status. */
void st_quick_exit_status(int status);

#endif
