/* SPDX-License-Identifier: MIT */
/* emit.h - turning an event into a line in the sink.
 *
 * Owns: the process identity events carry (pid, tid, the per-process seq),
 * the count of events that could not be written, stacks, encoding in the
 * configured format and the one write per event.
 * Runs inside the traced program, in signal handlers too: no malloc, no
 * stdio, no locks; errno kept for the program.
 */
#ifndef SOCKTRACE_EMIT_H
#define SOCKTRACE_EMIT_H

#include <sys/types.h>

#include "event.h"

extern pid_t st_pid;		/* this process, set at start and after fork */
pid_t st_gettid(void);		/* the calling thread, cached per thread */

/* Fills pid/tid/seq (and dropped), adds the stack when asked, encodes in
 * the configured format and writes it with one write.  Keeps errno. */
void st_emit(struct st_event *ev);

/* Writes ev, numbered already, to this process's own sink (the file or
 * stderr), in the configured format; counted as dropped when it cannot. */
void st_emit_direct(const struct st_event *ev);

/* In a child after fork: its own pid, seq from 1, nothing dropped. */
void st_emit_after_fork(void);

#endif
