/* SPDX-License-Identifier: MIT */
/* load.h - one trace loader for the commands: every file read, the events
 * merged by time, their stack frames named, the model built.
 *
 * Owns: the order of those steps and what is kept of them (struct
 * st_loaded), so that `show` and `check` see the same events and the same
 * model.  Never parses a command line, never prints but the reader's own
 * messages about bad input (and a warning when a runner kept a file's last
 * record too long), never decides an exit status: it says what happened
 * (enum st_load_status) and the command chooses.
 */
#ifndef SOCKTRACE_LOAD_H
#define SOCKTRACE_LOAD_H

#include <stdbool.h>

#include "model.h"
#include "reader.h"
#include "symbolize.h"

/* Everything a command needs of its traces. */
struct st_loaded {
	struct st_trace trace;	/* every event of every file, sorted by time */
	struct st_model model;	/* built from trace */
	struct st_symbolizer *sym;	/* named trace's frames; NULL when none could be made */
};

/* What st_load did. */
enum st_load_status {
	ST_LOAD_OK,		/* every line of every file was an event */
	ST_LOAD_BAD,		/* some lines or files were unusable (said on stderr and
				 * counted in trace.bad) and skipped; the rest is loaded */
	ST_LOAD_STOPPED,	/* the reading stopped (trace.fatal): strict and a bad line,
				 * or out of memory; nothing was sorted nor modelled */
	ST_LOAD_NOMEM,		/* out of memory building the model; not usable */
};

/* Loads the n traces paths[0..n) (n == 0: stdin; "-" is stdin too) into l:
 * waits (3 s at most) for the runner of a file whose program has ended to
 * append how it ended (tracelock.h), reads each with st_trace_read (strict: the first bad line stops the
 * reading), sorts the events by time, names their stack frames from the
 * objects' symbol tables, then builds the model.  Bad input gets the
 * reader's `socktrace: FILE:LINE: what` lines on stderr and nothing else.
 * Returns what happened; l is always filled far enough for st_load_free,
 * whatever the result.  The exit status is the command's: `show` renders
 * what ST_LOAD_BAD left and exits 2, `check` refuses anything but
 * ST_LOAD_OK with 2. */
enum st_load_status st_load(struct st_loaded *l, char *const *paths, int n, bool strict);

/* A trace file (path NULL or "-": standard input, when it is a file)
 * whose runner is finishing gets its last record first: waits (3 s at
 * most, tracelock.h) and says on stderr when the runner did not let go. */
void st_load_wait_runner(const char *path);

/* "socktrace: N events repeat one already read ...; the first at
 * FILE:LINE" on stderr, from t->dups and t->first_dup. */
void st_load_say_dups(const struct st_trace *t);

/* "socktrace: the trace lacks at least N events ...; the first, pid P,
 * lacks K between seq A and B" on stderr, when t->missing (reader.h). */
void st_load_say_missing(const struct st_trace *t);

/* Frees what st_load made; l is then empty. */
void st_load_free(struct st_loaded *l);

#endif
