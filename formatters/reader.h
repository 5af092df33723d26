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
	unsigned machine;	/* the machine (host, boot) it came from: the first
				 * origin of its host and boot (st_origin.machine) */
	int64_t pkey;		/* its process as the model keys it: ev.pid on
				 * origin 0, else st_rec_key(this, ev.pid) */
	struct st_msock *sock;	/* set by the model: the socket at ev.fd */
	struct st_msock *lsock;	/* accept*: the listening socket */
	/* a model that retires what has ended (st_model_retiring) owns its
	 * records: the model's references to this one (its sockets' event
	 * lists and ends), and whether a process or the caller keeps it to
	 * the end (its start, exit, end) */
	uint32_t refs;
	bool pinned;
	bool told;		/* ... and handed to st_retire's rec (model_retire.c) */
	/* show --port as a stream: what its socket and listening socket said
	 * of the ports as they retired (SHOW_PORT_* bits, fmt_common.c); 0
	 * nothing yet.  In the padding: the record stays its size */
	uint8_t port_said;
	char *strs;		/* storage behind every string of ev, copied from
				 * the line's JSON (freed once the line is read) */
	const char **argv;	/* storage behind ev.argv ... */
	struct st_argcut *argcuts;	/* ... ev.argv_cut ... */
	struct st_ksock *ksocks;	/* ... ev.holders and ev.lingering */
	struct st_frame *frames;	/* ... ev.frames */
	struct st_right *rights;	/* ... ev.rights */
	struct st_isock *isocks;	/* ... ev.inherited */
	int *kept;		/* ... ev.kept */
};

/* A process image the trace lacks events of (st_trace.missing_list). */
struct st_missing {
	int64_t pkey, pid;	/* the process (st_rec.pkey, ev.pid) */
	int64_t first, last;	/* the first and last seq read of the image */
	int64_t events;		/* at least this many events missing */
	int64_t gaps;		/* ... seq numbers missing in [first, last] */
	int64_t dropped;	/* ... the shim's dropped counts, summed */
	bool no_exit;		/* ... and its exit event: it started in the trace and
				 * ended normally (its end seen) without one */
};
#define ST_MISSING_LISTED 64

/* The machines and pid namespaces (host, boot, pidns) the traces came
 * from, in the order their first start event was read; index 0 is also
 * where events of a trace that names none go (origins.c).  Two containers
 * of one machine are two origins: their pid 1 are two processes. */
struct st_origin {
	char *host, *boot;	/* NULL when the start event did not say */
	uint64_t pidns;		/* the pid namespace's inode, 0 unknown */
	unsigned machine;	/* the first origin of the same host and boot */
};

/* Process keys: a pid (below 2^22, Linux's largest pid_max) and the
 * origin above it, so that two machines' (or two pid namespaces') pid
 * 4242 are two processes. */
#define ST_PID_BITS 22
#define ST_PID_MASK ((INT64_C(1) << ST_PID_BITS) - 1)
#define ST_ORIGINS_MAX 1024	/* more are merged into the last one */

/* Every event of every trace read so far. */
struct st_trace {
	struct st_rec **recs;
	size_t n, cap;
	struct st_origin *origins;
	size_t norigins, capo;
	size_t next_order;	/* the next event's st_rec.order */
	unsigned long dups;	/* events dropped by st_trace_dedup */
	char first_dup[320];	/* "FILE:LINE" of the first, "" none */
	/* events the trace lacks, by process image (st_trace_dedup,
	 * st_dedup_finish): numbers of seq missing between its first and last
	 * seq read, or the shim's dropped counts, whichever is more, and its
	 * exit event when it started in the trace and ended normally without
	 * one */
	uint64_t missing;	/* at least this many in all */
	unsigned missing_images;	/* process images that lack some */
	struct st_missing *missing_list;	/* the first ST_MISSING_LISTED of them */
	size_t nmissing_list;
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

/* One trace read an event at a time (reader.c): for the commands that
 * render events as they come (stream.h).  Its messages about bad input,
 * its origins, its bad and fatal counts go to the st_trace it was opened
 * with, as st_trace_read's do; its events do not: they are handed out. */
struct st_input;

/* How long a follower waits, at most, for a runner that has written how
 * its program ended to let go of the file (milliseconds). */
#define ST_INPUT_FINISHING_MS 3000

/* Opens trace path (NULL or "-": stdin) for reading into events.  A file
 * that cannot be opened, or a directory, is said at once (and is fatal
 * with strict) and gives an input that ends at once.  With follow, the end
 * of a regular file's bytes is not its end: more is waited for (like tail
 * -f) until the runner's end record (an end event by "runner") has been
 * read and the runner has let go of the file (tracelock.h).  NULL only
 * when out of memory (said, t->fatal). */
struct st_input *st_input_open(struct st_trace *t, const char *path, bool strict, bool follow);

enum st_input_got {
	ST_IN_EVENT,		/* *out is the next event of the file, in file order; the
				 * caller owns it (st_rec_free) */
	ST_IN_AGAIN,		/* nothing more yet: a pipe with no bytes waiting, a followed
				 * file at its end; try again later */
	ST_IN_END,		/* no more: the end of its bytes, an error or a stop (all said) */
};

/* The next event of in; the end's messages (the last line without a
 * newline, an empty file, read errors, counts of lines not said) are said
 * when ST_IN_END is first returned.  Never blocks: a pipe is polled. */
enum st_input_got st_input_next(struct st_input *in, struct st_rec **out);

/* The descriptor to poll(2) for POLLIN before the next try after
 * ST_IN_AGAIN; -1 for a file (a followed file is tried again after a
 * pause) or an input that has ended. */
int st_input_pollfd(const struct st_input *in);

/* "FILE" as named on the command line, "<stdin>" */
const char *st_input_name(const struct st_input *in);

/* Closes in, freeing the events it had not handed out; returns the number
 * of problems found in it.  NULL is nothing. */
unsigned st_input_close(struct st_input *in);

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
 * image; a repeat older than that is kept.  Also counts, each image,
 * the events the trace lacks (t->missing, missing_list).  Returns how
 * many were dropped; -1 when out of memory (nothing dropped). */
long st_trace_dedup(struct st_trace *t);

/* The name of origin o: "HOST" or "HOST (boot BOOT)", "?" unknown. */
const char *st_origin_name(const struct st_trace *t, unsigned o, char *buf, size_t n);

/* When r took effect, the time events are ordered by (microseconds since
 * the epoch): its ts_us, but for a receive that brought descriptors
 * (SCM_RIGHTS), its return (it may have waited since before the sender
 * made what it received). */
int64_t st_rec_effect_us(const struct st_rec *r);

/* Order the events by time; events of the same microsecond keep the input
 * order (a stable merge of several traces). */
void st_trace_sort(struct st_trace *t);

/* A record with every field zero (an empty event: st_rec_parse fills
 * it), NULL when out of memory; given back with st_rec_free, never with
 * free.  Not thread-safe: for the command's one reading thread. */
struct st_rec *st_rec_new(void);
void st_rec_free(struct st_rec *rec);
void st_trace_free(struct st_trace *t);

#endif
