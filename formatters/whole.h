/* SPDX-License-Identifier: MIT */
/* whole.h - is the whole program in the traces?  What --strict asks of
 * `show` and `check` alike.
 *
 * Owns: the parts of a program a trace can lack (events: numbers missing
 * from seq, events the shim dropped, the exit event of a process that
 * ended normally; an image the trace does not follow: the untraced
 * event; a process that held sockets and has no events of its own in the
 * traces given), how they are counted, and the words that say so.  Reads
 * the loaded trace and model only; never prints, never exits: each
 * command says it and decides its exit status.
 */
#ifndef SOCKTRACE_WHOLE_H
#define SOCKTRACE_WHOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "show.h"

/* How many sockets p ended holding when p's own events are not in the
 * traces (a child whose events went to a file of its own, %p, not given),
 * each it held at its end whichever process let go last: what it did with
 * them is unknown.  0 when p has events of its own, or held none. */
unsigned st_absent_held(const struct st_model *m, const struct st_proc *p);

/* " (python3 srv.py)", " (a child of pid 41)" or "" into who (n bytes):
 * who a process without events of its own was, as far as sh's traces
 * tell (the command line escaped, show_comm).  Returns who. */
const char *st_absent_who(const struct show *sh, const struct st_proc *p, char *who, size_t n);

/* Is the whole program in sh's trace and model?  True when it is.  Else
 * false, why (n bytes) saying what is lacking and how much, without a
 * full stop, e.g. "the trace lacks at least 3 events" or "part of the
 * program ran untraced: 1 image the trace does not follow", and detail
 * (d bytes) the first case in words ("the first: pid 4250 (sh -c ./c)
 * exec'd ./c, an image ..."), "" when the loader already said it (missing
 * events: st_load_say_missing).  Checked in that order: missing events,
 * untraced images, processes absent from the traces. */
bool st_whole_program(const struct show *sh, char *why, size_t n, char *detail, size_t d);

#endif
