/* SPDX-License-Identifier: MIT */
/* stream.h - traces read as a stream: every input a line at a time, merged
 * by time through a bounded look-ahead window.
 *
 * Owns: the window (a heap of the events read and not yet handed out), the
 * order they are handed out in, the events that come later than the window
 * (handed out at once, counted, said once), dropping repeated events and
 * naming stack frames as events are handed out, and waiting for more input
 * (a pipe, a followed file).  Holds at most the events of one window, never
 * a whole file.  Never renders; says on stderr only what the readers say of
 * bad input and, at the end, the repeats and the late events.
 */
#ifndef SOCKTRACE_STREAM_H
#define SOCKTRACE_STREAM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "reader.h"

/* The window by default: an event is handed out once every input has
 * been read 500 ms (of trace time) past it. */
#define ST_STREAM_WINDOW_US 500000
/* ... or once this many events are held, whatever their times
 * (st_stream_opts.hold_max: another bound). */
#define ST_STREAM_HOLD_MAX 8192

struct st_stream_opts {
	int64_t window_us;	/* the look-ahead, microseconds (>= 0) */
	bool strict;		/* the first bad line ends the stream (st_trace.fatal) */
	bool follow;		/* a regular file's end is waited past (st_input_open) */
	FILE *flush;		/* flushed before waiting for input; NULL none */
	volatile sig_atomic_t *stop;	/* non-zero: read no more, hand out what is held */
	size_t hold_max;	/* events the window holds at most (a busy trace
				 * has more in a window); ST_STREAM_HOLD_MAX when
				 * less */
};

struct st_stream;

/* Opens the n traces paths[0..n) (n == 0: stdin; "-" is stdin too);
 * their messages, origins and counts go to t (t->recs stays empty).  A
 * file whose program has ended gets its runner's last record first (a
 * bounded wait, as st_load's).  NULL when out of memory (said). */
struct st_stream *st_stream_open(struct st_trace *t, char *const *paths, int n,
				 const struct st_stream_opts *o);

/* The next event by time (st_rec_effect_us, then input order), its
 * repeats dropped and its frames named; the caller owns it (st_rec_free).
 * Waits for input when a pipe or a followed file has none yet (flushing
 * o->flush first).  An event that comes after one later than itself by
 * more than the window has been handed out is handed out at once,
 * out of order, and counted.  NULL at the end: every input ended, or
 * *o->stop was set, or t->fatal. */
struct st_rec *st_stream_next(struct st_stream *s);

/* Events read and held in the window, not yet handed out. */
size_t st_stream_held(const struct st_stream *s);

/* Events handed out late (out of time order) so far. */
unsigned long st_stream_late(const struct st_stream *s);

/* Closes s: says on stderr, once each, how many events repeated one
 * already read, the events missing from the trace (st_load_say_missing,
 * counted in t->missing) and how many came later than the window (with
 * the first's FILE:LINE), none of them when the reading stopped
 * (t->fatal), and not the missing ones when the caller stopped before
 * st_stream_next said the end (o.stop, or no more calls): the events not
 * read are not missing; frees what it still held. */
void st_stream_close(struct st_stream *s);

#endif
