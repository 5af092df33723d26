/* SPDX-License-Identifier: MIT */
/* show.h - the formats of `socktrace show` behind one interface.
 *
 * Owns: the state the command hands one format (the merged events, the
 * model, the filters, colour and time zone: struct show), one entry point
 * per format (fmt_text.c, fmt_timeline.c, fmt_summary.c, fmt_lifecycle.c,
 * fmt_mermaid.c, fmt_connections.c, fmt_chrome.c), and small helpers (fmt_common.c) to print times,
 * durations and sizes the same way in every format.  A format writes to
 * sh->out and returns 0, or 2 when out of memory; it never parses a
 * command line, reads a file, or exits: the command (src/cmd_show.c) does.
 */
#ifndef SOCKTRACE_SHOW_H
#define SOCKTRACE_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "reader.h"

#define SHOW_MAX_FILTERS 32
/* -f lifecycle, connections and summary: events held before what has
 * ended is printed (counted) as it ends (--hold; st_model_retiring);
 * about 2 KiB each with the model's sockets */
#define SHOW_HOLD_EVENTS 100000

struct show_summary_acc;
struct show_timeline_acc;
struct show_chrome_acc;
struct show_mermaid_acc;

struct show {
	FILE *out;
	struct st_trace *trace;	/* every event, merged by time */
	struct st_model *model;	/* built from every event */
	const struct st_rec **recs;	/* the events the filters keep */
	size_t nrecs;
	bool color;
	bool utc;
	long tz_offset;		/* seconds east of UTC for times of day */
	int64_t pids[SHOW_MAX_FILTERS];
	int npids;
	int ports[SHOW_MAX_FILTERS];
	int nports;
	/* which --pid and --port values some event of the traces has
	 * (show_filters_seen), whether the filters kept it or not */
	bool pid_seen[SHOW_MAX_FILTERS];
	bool port_seen[SHOW_MAX_FILTERS];
	/* -f summary: what it counted of what a retiring model handed out
	 * (fmt_summary.c), NULL none */
	struct show_summary_acc *summary;
	/* -f timeline: the processes of what it printed as a retiring model
	 * handed it out (fmt_timeline.c), NULL none */
	struct show_timeline_acc *timeline;
	/* -f chrome as a stream: what it put aside and still needs
	 * (fmt_chrome.c, show_chrome_begin), NULL none */
	struct show_chrome_acc *chrome;
	/* -f mermaid as a stream: the notes and the first connections it
	 * keeps to draw at the end (fmt_mermaid.c), NULL none */
	struct show_mermaid_acc *mermaid;
};

/* the filters (--pid, --port) on one socket, connection or event */
bool show_keep_sock(const struct show *sh, const struct st_msock *s);
bool show_keep_conn(const struct show *sh, const struct st_conn *c);
bool show_keep_rec(const struct show *sh, const struct st_rec *r);
/* --pid alone: is pid one of its values (true without --pid)? */
bool show_keep_pid(const struct show *sh, int64_t pid);
/* Marks in sh->pid_seen and sh->port_seen the --pid and --port values
 * event r has (its pid; a port of its endpoints or of its socket's, as
 * show_keep_rec looks for them), so that a value no event has can be
 * named. */
void show_filters_seen(struct show *sh, const struct st_rec *r);

/* --port on an event of a stream (-f text and -f json), fed to a retiring
 * model (st_model_take: r and its sockets as the model has them so far):
 * SHOW_PORT_YES when show_keep_rec (--pid too) keeps it, as it would with
 * the model of the whole trace, and no later event can change that;
 * SHOW_PORT_NO when it leaves it out and none can (a unix socket, a TCP
 * socket whose two ports are known, a socket that ended, one that
 * retired: show_port_retired); else SHOW_PORT_WAIT (a UDP socket waits
 * for its end: its remote end may change at any call).  With now (past --hold, the end of the input), what is
 * known decides: never SHOW_PORT_WAIT. */
enum show_port { SHOW_PORT_WAIT, SHOW_PORT_NO, SHOW_PORT_YES };
enum show_port show_port_verdict(const struct show *sh, const struct st_model *m, const struct st_rec *r,
				 bool now);
/* A socket retiring from that model: what it says of --port written into
 * each of its events (st_rec.port_said) for show_port_verdict, and the
 * --port values it has marked seen (show_filters_seen). */
void show_port_retired(struct show *sh, const struct st_msock *s);

/* "12:34:56.123456" */
void show_clock(const struct show *sh, char *buf, size_t n, int64_t ts_us);
/* "+1.234567s" from the first event of the merged trace */
void show_reltime(const struct show *sh, char *buf, size_t n, int64_t ts_us);
/* "850us", "12.3ms", "2.50s" */
void show_dur(char *buf, size_t n, int64_t us);
/* a kernel timer's time left: "204ms", "1.5s", "59s" (st_buf_timer) */
void show_timer(char *buf, size_t n, int64_t ms);
/* "850 B", "12.3 KiB" */
void show_bytes(char *buf, size_t n, uint64_t bytes);
/* A string of a trace (an address, a state, a name, a path) as a screen
 * may show it: escaped as buf.h's st_buf_esc does, so that no byte a
 * trace, a peer or another user chose reaches the terminal raw.  s itself
 * when nothing in it needs escaping (so a normal trace prints as it
 * always did), NULL for NULL; else a copy that stays valid for the next
 * SHOW_ESC_SLOTS - 1 calls (enough for every string of one line). */
#define SHOW_ESC_SLOTS 32
const char *show_esc(const char *s);
/* the length of the longest head of an escaped string s that is at most
 * max bytes and splits no escape (\xNN, \uXXXX, \n) nor UTF-8 character */
size_t show_cut(const char *s, size_t max);
/* the command line of the process of key pkey (st_proc.key, st_msock.pkey,
 * st_rec.pkey: host, boot, pid namespace and pid, so that another machine's
 * or container's same pid never lends its own): "python3 -m http.server",
 * NULL unknown;
 * a newline or tab in an argument as a space, the rest escaped, cut to 40
 * bytes without splitting an escape or a character */
const char *show_comm(const struct show *sh, int64_t pkey, char *buf, size_t n);
/* show_comm, of the image of that process that was running at event at
 * (st_proc_image_at; its latest when at is NULL): the command line before
 * an exec for an event before it */
const char *show_comm_at(const struct show *sh, int64_t pkey, const struct st_rec *at, char *buf, size_t n);
/* show_comm of the image that made s (st_msock_maker_image): a socket made
 * before an exec and inherited across it is named by the program that made
 * it, not by the one it was inherited by */
const char *show_sock_comm(const struct show *sh, const struct st_msock *s, char *buf, size_t n);
/* The command lines of the last two images of the process of key pkey, in
 * order, joined by " -> ", after "... -> " when it ran more programs before
 * them (one when it never exec'd another program, or when each image ran
 * the same command line): "sh -c exec ./server -> server -p 80"; each cut
 * as show_comm's, the whole cut to n; NULL unknown.  For a label
 * of the process (its lifeline, its track, its line in the timeline) whose
 * events came from several images. */
const char *show_proc_comm(const struct show *sh, int64_t pkey, char *buf, size_t n);

/* colours; empty strings without --color */
const char *show_c(const struct show *sh, const char *code);
#define SHOW_RED "\033[1;31m"
#define SHOW_GREEN "\033[32m"
#define SHOW_YELLOW "\033[33m"
#define SHOW_BOLD "\033[1m"
#define SHOW_DIM "\033[2m"
#define SHOW_OFF "\033[0m"

/* One event's line, text or json, written to sh->out, in a buffer that
 * grows until the longest line fits (zeroed: empty; show_line_free).
 * Set the time zone first (st_render_set_tz(sh->tz_offset)).  0, or 2
 * when out of memory.  (show_text and show_json are this for each of
 * sh->recs; `show` calls it for each event of a stream.) */
struct show_line {
	char *p;
	size_t cap;
};
int show_event(struct show *sh, struct show_line *b, const struct st_rec *r, bool json);
void show_line_free(struct show_line *b);

int show_text(struct show *sh);
int show_json(struct show *sh);
int show_lifecycle(struct show *sh);
int show_timeline(struct show *sh);
int show_summary(struct show *sh);
int show_mermaid(struct show *sh);
int show_connections(struct show *sh);
/* the Chrome trace event JSON that Perfetto and chrome://tracing open;
 * times in microseconds from the first event (fmt_chrome.c) */
int show_chrome(struct show *sh);

/* One socket's line of -f lifecycle, one connection's of -f connections,
 * when the filters keep it: for a model that hands out what retires
 * (st_model_retiring) as it goes. */
void show_lifecycle_sock(struct show *sh, const struct st_msock *s);
void show_connections_conn(struct show *sh, const struct st_conn *c);
/* -f summary counts them (show_summary prints it all at the end): a
 * socket, and an event with the socket it is counted under (NULL none) */
void show_summary_sock(struct show *sh, const struct st_msock *s);
void show_summary_rec(struct show *sh, const struct st_rec *r, const struct st_msock *owner);
/* what those counted, let go of without printing (show_summary does it) */
void show_summary_free(struct show *sh);
/* -f timeline prints their blocks as they come (the list of processes
 * comes last, then); what it kept of them let go of */
void show_timeline_sock(struct show *sh, const struct st_msock *s);
void show_timeline_conn(struct show *sh, const struct st_conn *c);
void show_timeline_free(struct show *sh);

/* -f chrome as a stream, fed by a retiring model: begin (0, or -1 when
 * out of memory) makes sh->chrome (set the filters first); each event is
 * given to _rec after st_model_feed, before it is let go of, in the order
 * of the merged trace (it keeps those of the processes --pid keeps); each
 * retiring socket to _sock (from the first, the array is written as it
 * goes); show_chrome writes what is left and closes it; _free lets go of
 * it all, closing the array when it was begun and not closed (the reading
 * stopped by an error).  _retired: how many sockets retired.
 * With --port, _rec renders each event and holds it (in memory) until the
 * model tells it (st_retire.rec) to _told, its socket's ports final then:
 * it is written, or dropped when --port leaves it out; what the model
 * never told is told by show_chrome at the end (st_model_untold). */
int show_chrome_begin(struct show *sh);
void show_chrome_rec(struct show *sh, const struct st_rec *r);
void show_chrome_told(struct show *sh, const struct st_rec *r);
void show_chrome_sock(struct show *sh, const struct st_msock *s);
size_t show_chrome_retired(const struct show *sh);
void show_chrome_free(struct show *sh);

/* -f mermaid, fed by a retiring model: begin (0, or -1 when out of
 * memory) makes sh->mermaid; each retiring socket is given to _sock, each
 * retiring connection to _conn with the model's round (st_model.rounds);
 * show_mermaid draws the diagram at the end, with what the model still
 * holds, as from the whole trace: of the connections, only the
 * MM_MAX_CONNS (50) first in time order are kept, and a count of the
 * rest.  _numbered_as_ended: whether the connections drawn are numbered
 * as the model numbered them as they ended, not as the whole trace would
 * (some retired while a filter left some out).  _free lets go of it. */
int show_mermaid_begin(struct show *sh);
void show_mermaid_sock(struct show *sh, const struct st_msock *s);
void show_mermaid_conn(struct show *sh, const struct st_conn *c, size_t round);
bool show_mermaid_numbered_as_ended(const struct show *sh);
void show_mermaid_free(struct show *sh);

/* the lifecycle words of one socket, "socket bind listen accept×3 close" */
void show_lifecycle_words(const struct show *sh, const struct st_msock *s, char *buf, size_t n);

#endif
