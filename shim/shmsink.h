/* SPDX-License-Identifier: MIT */
/* shmsink.h - events into the runner's shared memory (codec/ring.h).
 *
 * Owns: this process image's ring: opening the run's shared memory from
 * SOCKTRACE_SHM (mapped, its descriptor closed at once: the program sees
 * none), claiming a ring at start and in a forked child, writing each
 * event as a compact record, handing the ring back at exit and exec.  When
 * the runner is gone the events go where SOCKTRACE_OUTPUT says, if the
 * runner set it (a trace file), else they are counted as dropped.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_SHMSINK_H
#define SOCKTRACE_SHMSINK_H

#include <stdbool.h>
#include <sys/types.h>

#include "event.h"

/* Maps the shared memory and claims a ring; false (after one warning)
 * when it cannot, and the shim writes the trace itself. */
bool st_shm_open(void);
/* Is this image writing into the shared memory? */
bool st_shm_active(void);
/* One event (pid, tid, seq filled); false when it was not written. */
bool st_shm_emit(const struct st_event *ev, bool may_wait);
/* A write failed: when the runner is gone, stop using the shared memory
 * and open the trace file it named; true when events can go there. */
bool st_shm_fall_back(void);
/* Before a fork (fork's atfork prepare handler, _Fork, clone): a ring is
 * reserved for the child, so that the run is not over while the child has
 * none yet (a daemon's parent exits at once). */
void st_shm_before_fork(void);
/* The parent after the fork: child's pid, or -1 when it failed. */
void st_shm_forked(pid_t child);
/* In a child after fork: the ring reserved for it, else one of its own. */
void st_shm_after_fork(void);
/* The image ends (exit): the runner is woken and given a moment to read
 * everything, so the trace is whole when the process is gone. */
void st_shm_at_exit(void);
/* An exec is about to replace the image (in a vfork child too): a ring is
 * reserved for the next one; exec_failed: it was not replaced. */
void st_shm_before_exec(void);
void st_shm_exec_failed(void);

#endif
