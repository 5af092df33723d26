/* SPDX-License-Identifier: MIT */
/* sink.h - where events go: a trace file or the program's stderr.
 *
 * Owns: the shim's one output descriptor (see sink.c for how it is kept
 * from the program).  Runs inside the traced program: no malloc, no stdio,
 * no locks.
 */
#ifndef SOCKTRACE_SINK_H
#define SOCKTRACE_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

extern _Atomic int st_sink_fd;	/* the shim's own descriptor, -1 none */
/* Opens the sink st_cfg names (at start, and after fork for %p); the
 * descriptor, or -1 after one warning. */
int st_sink_open(void);
/* Writes one line with one write(2); false when it was not written whole
 * (the event is lost and counted by the caller; a fragment a short write
 * left is ended by a newline before the next line).  A failure costs one
 * warning, never the program a signal or an errno. */
bool st_sink_write(const char *line, size_t len);
/* The program changed its resource limits (setrlimit, prlimit). */
void st_sink_limits_changed(void);
/* Is there a descriptor to write to (retrying a lost one now and then)? */
bool st_sink_ready(void);
/* Moves the sink away from fd (the program dup2()s onto it). */
void st_sink_move_from(int fd);
/* In a child after fork: its own file when the path has %p. */
void st_sink_after_fork(void);
/* The sink was given up for want of a free high descriptor; the program
 * just freed one: try again (wrap_fd.c, after close()). */
extern _Atomic bool st_sink_lost;
void st_sink_retry(void);

#endif
