/* SPDX-License-Identifier: MIT */
/* reader.h - reading trace files (JSON Lines, schema v1) into events.
 *
 * Owns: turning each line of a trace into a struct st_event, with the
 * file name and line number it came from, and the diagnostics for bad
 * input.  The events' strings point into the parsed JSON, which each record
 * keeps alive until st_trace_free; arrays (argv, holders, lingering, stack)
 * live in storage the record owns.  Never renders anything.
 * (reader.c: files, lines and the merge; reader_json.c and reader_nested.c:
 * one line's JSON.)
 */
#ifndef SOCKTRACE_READER_H
#define SOCKTRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event.h"

struct st_msock;

/* One event read from a trace. */
struct st_rec {
	struct st_event ev;
	const char *file;	/* as named on the command line, "<stdin>" */
	long line;		/* 1-based */
	size_t order;		/* position in the input, across files */
	unsigned origin;	/* the machine and boot it came from (origins.c):
				 * 0 unknown or the first one seen, 1.. others */
	int64_t pkey;		/* its process as the model keys it: ev.pid on
				 * origin 0, else st_rec_key(this, ev.pid) */
	struct st_msock *sock;	/* set by the model: the socket at ev.fd */
	struct st_msock *lsock;	/* accept*: the listening socket */
	void *json;		/* json_t * holding the strings */
	const char **argv;	/* storage behind ev.argv ... */
	struct st_argcut *argcuts;	/* ... ev.argv_cut ... */
	struct st_ksock *ksocks;	/* ... ev.holders and ev.lingering */
	struct st_frame *frames;	/* ... ev.frames */
	struct st_right *rights;	/* ... ev.rights */
	struct st_isock *isocks;	/* ... ev.inherited */
	int *kept;		/* ... ev.kept */
};

/* The machines (host, boot) the traces came from, in the order their
 * first start event was read; index 0 is also where events of a trace
 * that names none go (origins.c). */
struct st_origin {
	char *host, *boot;	/* NULL when the start event did not say */
};

/* Process keys: a pid (below 2^22, Linux's largest pid_max) and the
 * origin above it, so that two machines' pid 4242 are two processes. */
#define ST_PID_BITS 22
#define ST_PID_MASK ((INT64_C(1) << ST_PID_BITS) - 1)
#define ST_ORIGINS_MAX 1024	/* more are merged into the last one */

/* Every event of every trace read so far. */
struct st_trace {
	struct st_rec **recs;
	size_t n, cap;
	struct st_origin *origins;
	size_t norigins, capo;
	unsigned long dups;	/* events dropped by st_trace_dedup */
	char first_dup[320];	/* "FILE:LINE" of the first, "" none */
	unsigned bad;		/* bad lines, unreadable or empty files */
	bool fatal;		/* strict mode hit a bad line */
	char first_problem[320];	/* the first message about bad input,
					 * "FILE:LINE: what"; "" when none */
};

/* Bytes a single line may have; longer lines are reported and skipped. */
#define ST_READ_LINE_MAX (1024 * 1024)
/* Messages about one file before the rest are only counted. */
#define ST_READ_MAX_MESSAGES 5

/* Read one trace (path NULL or "-": stdin), appending its events to t.
 * Bad lines get a `socktrace: FILE:LINE: what` message on stderr and are
 * skipped; with strict, the first bad line stops the reading (t->fatal).
 * Returns the number of problems found in this file. */
unsigned st_trace_read(struct st_trace *t, const char *path, bool strict);

/* Parse one line (without its '\n') into rec; on failure returns false and
 * writes the reason into why. */
bool st_rec_parse(struct st_rec *rec, const char *line, size_t len, char *why, size_t whysz);

/* The key of process pid of r's origin (r's own, its parent, its child). */
static inline int64_t st_rec_key(const struct st_rec *r, int64_t pid)
{
	return r->origin ? ((int64_t)r->origin << ST_PID_BITS) | (pid & ST_PID_MASK) : pid;
}

/* Drops the events that repeat one already read, sorted (the same
 * process -- origin and pid --, image and seq: a trace given twice, a
 * collector that shipped a line twice); counts them in t->dups and names
 * the first in t->first_dup.  Each process keeps the last 4096 seqs of its
 * image; a repeat older than that is kept.  Returns how many were
 * dropped; -1 when out of memory (nothing dropped). */
long st_trace_dedup(struct st_trace *t);

/* The name of origin o: "HOST" or "HOST (boot BOOT)", "?" unknown. */
const char *st_origin_name(const struct st_trace *t, unsigned o, char *buf, size_t n);

/* Order the events by time; events of the same microsecond keep the input
 * order (a stable merge of several traces). */
void st_trace_sort(struct st_trace *t);

void st_rec_free(struct st_rec *rec);
void st_trace_free(struct st_trace *t);

#endif
