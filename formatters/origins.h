/* SPDX-License-Identifier: MIT */
/* origins.h - which machine, boot and process each event came from, as
 * the reader meets them (the reader's side of socktrace(7): host, boot, run, cgroup, pidns).
 *
 * Owns: the per-file map from a pid to the origin its start event named
 * (the events of a process after its start carry no host: they are its
 * start's), the table of origins of a struct st_trace, and setting each
 * record's origin and pkey.  Never prints, never reads a file.
 */
#ifndef SOCKTRACE_ORIGINS_H
#define SOCKTRACE_ORIGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* The origins of the processes of one file, as read so far. */
struct st_pidmap {
	int64_t *pid;		/* open addressing; -1 empty */
	unsigned *org;
	size_t cap, n;
	unsigned last;		/* the origin of the last start read: events of a
				 * pid whose start is not in this file */
};

/* Sets r->origin and r->pkey from its start event (host, boot) or from
 * the start of its pid earlier in this file; a fork's or a spawn's child
 * gets its parent's origin.  false when out of memory (r then keeps
 * origin 0). */
bool st_origin_assign(struct st_trace *t, struct st_pidmap *pm, struct st_rec *r);

/* The events seen so far of each process (the last 4096 seqs of its
 * image), to drop the repeats of a stream as st_trace_dedup does a
 * sorted trace's.  Zeroed: empty. */
struct st_dedup_seen;
struct st_dedup {
	struct st_dedup_seen *v;
	size_t cap, n;
};

/* Is r (the next event in time order) a repeat of one already checked?
 * 1: yes, counted in t->dups (and named in t->first_dup when the first);
 * 0: no, and it is noted; -1: out of memory (nothing noted). */
int st_dedup_check(struct st_dedup *d, struct st_trace *t, const struct st_rec *r);

/* The end of the events: what each process image lacks (seq numbers
 * missing between its first and last seq checked, or the shim's dropped
 * counts, whichever is more) is added to t->missing and listed in
 * t->missing_list (reader.h). */
void st_dedup_finish(struct st_dedup *d, struct st_trace *t);

/* Frees d; it is then empty. */
void st_dedup_free(struct st_dedup *d);

/* Frees the map; it is then empty. */
void st_pidmap_free(struct st_pidmap *pm);

#endif
