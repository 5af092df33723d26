/* SPDX-License-Identifier: MIT */
/* load.h - what the commands' reading of traces shares: the short wait
 * for a runner that is writing a file's last record, and the words for
 * events repeated or missing.
 *
 * Owns: those words and that wait.  Never parses a command line, never
 * decides an exit status.
 */
#ifndef SOCKTRACE_LOAD_H
#define SOCKTRACE_LOAD_H

#include <stdbool.h>

#include "model.h"
#include "reader.h"
#include "symbolize.h"

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

#endif
