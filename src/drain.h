/* SPDX-License-Identifier: MIT */
/* drain.h - the runner's side of the run's shared memory: every traced
 * process writes its events into a ring of it (codec/ring.h); the runner
 * reads them, turns each into a JSON line or a text line, and writes the
 * trace.
 *
 * Owns: the shared memory's creation (a memfd, sized and laid out), the
 * passes over the rings, telling a ring's process gone (so that what it
 * did not finish writing is skipped and the ring is freed), and the
 * buffered writes of lines to the output.  Never touches the traced
 * processes' descriptors.
 */
#ifndef SOCKTRACE_DRAIN_H
#define SOCKTRACE_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct st_drain;

/* Creates the shared memory (nrings rings of ring_bytes, a power of two)
 * for events to be written to out_fd, as JSON Lines or, with text, as the
 * human log (colour with color; times in local time unless utc).  Returns
 * NULL with errno when it cannot. */
struct st_drain *st_drain_new(uint32_t nrings, uint32_t ring_bytes, int out_fd, bool text, bool color, bool utc);
/* The memfd's descriptor (close-on-exec; the processes open it by the
 * path /proc/RUNNER/fd/N). */
int st_drain_fd(const struct st_drain *d);
/* The descriptor the trace is written to. */
int st_drain_out(const struct st_drain *d);
/* Is the trace written to a terminal (a live log: read more often)? */
bool st_drain_is_tty(const struct st_drain *d);
/* Wakes st_drain_wait now (from another thread). */
void st_drain_wake(struct st_drain *d);
/* Sets the pid the shared memory names as its reader (after a fork). */
void st_drain_set_runner(struct st_drain *d, int pid);
/* One pass over every ring: writes what is there.  Returns the number of
 * events written. */
size_t st_drain_pass(struct st_drain *d);
/* Is every ring free (no image writing, none reserved)? */
bool st_drain_idle(struct st_drain *d);
/* Waits until a process rings the doorbell, at most ms. */
void st_drain_wait(struct st_drain *d, int ms);
/* Writes one line of the runner's own. */
void st_drain_line(struct st_drain *d, const char *line, size_t len);
/* Encodes ev (as a JSON line or the text log's line, as the drain writes)
 * and queues it after what is queued (written when the queue is full, or
 * by st_drain_flush): the ptrace back end's events, made in the runner.
 * A write error is kept for st_drain_error(). */
struct st_event;
void st_drain_event(struct st_drain *d, const struct st_event *ev);
/* Writes what is queued now. */
void st_drain_flush(struct st_drain *d);
/* Writes how process pid ended (its wait status, -1 unknown) as an end
 * event by the runner, in the drain's format, and flushes. */
void st_drain_end(struct st_drain *d, int pid, int wstatus);
/* The last pass: the processes are told the runner left (they write the
 * trace themselves from now on), every ring is read with its process taken
 * as gone (what was not finished is skipped).  Returns the number of
 * records lost (skipped or damaged) over the run. */
uint64_t st_drain_finish(struct st_drain *d);
/* A write to the output failed: its errno, 0 none. */
int st_drain_error(const struct st_drain *d);
/* The lines (events) not written because of st_drain_error(): from the
 * failed write on, nothing is written; a line the error cut is taken back
 * from a regular file, so it ends at its last whole event. */
uint64_t st_drain_unwritten(const struct st_drain *d);
void st_drain_free(struct st_drain *d);

#endif
