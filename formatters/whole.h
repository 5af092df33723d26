/* SPDX-License-Identifier: MIT */
/* whole.h - is the whole program in the traces?  What --strict asks of
 * `show` and `check` alike.
 *
 * Owns: the parts of a program a trace can lack (events: numbers missing
 * from seq, events the shim dropped, the exit event of a process that
 * ended normally; an image the trace does not follow: the untraced
 * event; a process that held sockets and has no events of its own in the
 * traces given), how they are counted, and the words that say so.  Reads
 * the loaded trace and model, or a stream's counts, retiring model and a
 * tally of what it let go of, only; never prints, never exits: each
 * command says it and decides its exit status.
 */
#ifndef SOCKTRACE_WHOLE_H
#define SOCKTRACE_WHOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "show.h"

/* What the sockets a retiring model let go of (st_model_retiring) tell
 * st_absent_held: for each process that ended holding sockets in an image
 * the trace does not follow (ST_END_UNTRACED), how many of those sockets
 * retired.  Zero-initialized is empty; a compact tally, one entry per such
 * process, never the sockets. */
struct st_held_tally {
	struct st_held_count {
		int64_t pkey;	/* st_proc.key */
		unsigned n;	/* its sockets that retired */
	} *v;
	size_t n, cap;
	bool oom;	/* an entry could not be added: the tally is short */
};

/* s, retiring (before it is freed), counted in h: each process whose hold
 * of it ended as st_absent_held counts, once.  Out of memory sets h->oom. */
void st_held_tally_sock(struct st_held_tally *h, const struct st_msock *s);

/* Frees h's entries; h is then empty. */
void st_held_tally_free(struct st_held_tally *h);

/* How many sockets p ended holding when p's own events are not in the
 * traces (a child whose events went to a file of its own, %p, not given),
 * each it held at its end whichever process let go last: what it did with
 * them is unknown.  Those m still holds, plus those retired counted in
 * retired (NULL: none retired, a whole trace's model).  0 when p has
 * events of its own, or held none. */
unsigned st_absent_held(const struct st_model *m, const struct st_proc *p, const struct st_held_tally *retired);

/* " (python3 srv.py)", " (a child of pid 41)" or "" into who (n bytes):
 * who a process without events of its own was, as far as sh's traces
 * tell (the command line escaped, show_comm).  Returns who. */
const char *st_absent_who(const struct show *sh, const struct st_proc *p, char *who, size_t n);

/* Is the whole program in the traces sh read as a stream into a retiring
 * model?  True when it is.  Else false, why (n bytes) saying what is
 * lacking and how much, without a full stop, e.g. "the trace lacks at
 * least 3 events" or "part of the program ran untraced: 1 image the trace
 * does not follow", and detail (d bytes) the first case in words ("the
 * first: pid 4250 (sh -c ./c) exec'd ./c, an image ..."), "" when the
 * reader already said it (missing events: st_load_say_missing).  Checked
 * in that order: missing events, untraced images, processes absent from
 * the traces.  sh's trace has the stream's counts (missing events: known
 * once the stream is closed, st_stream_close) and no events;
 * said[0..nsaid) are the events st_untraced_each_of needs
 * (st_untraced_matters), in trace order; retired what the model let go of
 * (NULL none). */
bool st_whole_stream(const struct show *sh, const struct st_rec *const *said, size_t nsaid,
		     const struct st_held_tally *retired, char *why, size_t n, char *detail, size_t d);

#endif
