/* SPDX-License-Identifier: MIT */
/* check.h - what the parts of `socktrace check` share: the rules
 * (check_rules.c), the --expect patterns (expect.c, expect.h), the reports
 * (report.c) and the command (src/cmd_check.c).
 *
 * Owns: a check run (struct check: the loaded trace, and one result per
 * rule or pattern asked for, in the order asked) and the words a violation
 * uses to name a process, a socket and a place in the code.  The rules and
 * patterns only add violations; the reports only write them.  Nothing here
 * parses a command line or reads a file.
 */
#ifndef SOCKTRACE_CHECK_H
#define SOCKTRACE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "model.h"
#include "reader.h"
#include "show.h"

/* The examples a grouped line names (its other findings are counted). */
#define CHECK_EXAMPLES 5

/* Findings of one rule that are one finding many times (a forking
 * server's children each leaking their connection): while the rule runs,
 * each group keeps the first one's sentence, the count, the first
 * CHECK_EXAMPLES examples and the processes they were in; then
 * check_result_done makes it one line. */
struct check_group {
	char *key;		/* what the findings share; NULL: never merged */
	char *line;		/* the first finding's sentence */
	const char *noun;	/* "such sockets leaked from the same place" */
	char *image;		/* the command line they share, NULL none */
	bool each_a_process;	/* check_like's */
	const struct st_frame *at;	/* the first finding's place in the code: a
					 * copy (file and line only), the group's */
	size_t count;
	char *ex[CHECK_EXAMPLES];	/* "pid 4242 fd 4 127.0.0.1:8080 -> ..." */
	size_t nex;
	int64_t *who;		/* each finding's process key (st_proc.key) */
	size_t nwho, capwho;
};

/* One rule or pattern and what broke it. */
struct check_result {
	char *name;		/* "no-leaks", "max-open=10", "expect: tcp *:80 ..." */
	/* after check_result_done: one line per finding or group of findings */
	char **lines;		/* one sentence each, no newline */
	const struct st_frame **at;	/* per line: the frame with a source line
					 * that places it in the code (file and
					 * line, a copy the result owns), NULL none */
	size_t *counts;		/* per line: the violations it stands for (1..) */
	size_t n;		/* lines */
	size_t violations;	/* the sum of counts: every finding, exactly */
	double seconds;		/* spent judging it */
	/* while the rule runs (report.c's) */
	struct check_group *groups;
	size_t ngroups, capgroups;
	size_t *slots, nslots;	/* groups by key: index + 1, 0 empty */
	bool last_merged;	/* the last finding joined a group before it */
};

/* A check run. */
struct check {
	struct show sh;		/* trace, model and the helpers of the formats */
	struct check_result *results;
	size_t nresults;
	/* what a rule did not judge, and why: no violation; alike notes
	 * grouped as findings are (check_note_like), their lines after
	 * check_notes_done */
	struct check_result notes;
	size_t nevents;		/* the events judged (the trace's, or those
				 * fed through a retiring model) */
	struct timespec started;	/* when the command began: CLOCK_REALTIME */
	struct timespec started_mono;	/* ... and CLOCK_MONOTONIC */
};

/* ---- results (report.c) ---- */

/* A new, empty result named name at the end of c->results (the pointer
 * holds until the next check_result_new).  Out of memory: says so on stderr
 * and exits 2, the status check gives unusable input. */
struct check_result *check_result_new(struct check *c, const char *name);
/* Adds one violation to r, printf-style, a line of its own.  Out of
 * memory: as above. */
void check_violation(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* What a finding shares with the others like it, for check_finding. */
struct check_like {
	const char *key;	/* findings of equal keys are one line; the key
				 * holds the image and the kind of
				 * finding; NULL: a line of its own */
	const char *noun;	/* "such sockets leaked from the same place" */
	const char *image;	/* the command line (show_comm), NULL unknown */
	int64_t who;		/* the process key (st_proc.key) it is in */
	const char *example;	/* what tells it from the others: "pid 4242 fd 4
				 * 127.0.0.1:8080 -> 127.0.0.1:41234" */
	bool each_a_process;	/* each finding is a process: the line does
				 * not count the processes again */
};
/* Adds one violation to r, printf-style: the first of its key keeps its
 * sentence; each other one only counts, and names its example while
 * there are fewer than CHECK_EXAMPLES.  Out of memory: as above. */
void check_finding(struct check_result *r, const struct check_like *like, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Places r's last finding in the code, when it began a line: at the
 * first frame of where's stack that has a source line (file and line,
 * from DWARF), if any. */
void check_locate(struct check_result *r, const struct st_rec *where);
/* Makes r's findings its lines: a finding alone, its sentence; a group,
 * "SENTENCE; N NOUN[ in K processes of IMAGE]: EX, EX, ..., and M more".
 * Called once, when the rule or pattern is judged.  Out of memory: as
 * above. */
void check_result_done(struct check_result *r);
/* Adds a note: what a rule left unjudged and why (printed after the
 * violations; the exit status does not change), a line of its own.  Out
 * of memory: as above. */
void check_note(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a note that is one of many alike (30 runs of one script each exec
 * an image the trace does not follow), grouped as check_finding groups
 * findings: like->key holds the kind of note ("untraced", "incomplete",
 * ...) and what the alike share; the first of a key keeps its sentence,
 * the others are counted, their examples named while there are fewer
 * than CHECK_EXAMPLES.  Out of memory: as above. */
void check_note_like(struct check *c, const struct check_like *like, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Makes the notes their lines (c->notes.lines, .counts, .n), a group one
 * line as check_result_done makes it; called once, after every note and
 * before the reports. */
void check_notes_done(struct check *c);
/* The number of violations of every result (each finding of a group
 * counts). */
size_t check_violations(const struct check *c);
/* Frees the results; c->sh is left alone (the command's). */
void check_free(struct check *c);

/* "pid 4242 (curl)", "pid 4242" when its command line is unknown: pid
 * as the trace says it, the command line that of the process of key pkey
 * (st_proc.key: its host, boot and pid namespace with it), escaped
 * (show_comm) */
const char *check_who(const struct check *c, int64_t pid, int64_t pkey, char *buf, size_t n);
/* What findings in many processes of one program share: its image (its
 * executable and command line), or, when the trace does not say, the
 * process itself. */
struct check_image {
	char key[4096];		/* the executable and every argument, whole (the
				 * words are cut to 40 bytes), or "pid P" and
				 * the process's key when unknown */
	char comm[256];
	const char *words;	/* the command line to print (show_comm), NULL
				 * unknown; points into comm */
};
/* The image of process pkey (pid as the trace says it) that start begins
 * (an image's start event, st_proc_image_at, st_msock_maker_image), its
 * latest when start is NULL or not of that process. */
void check_image_of(const struct check *c, int64_t pid, int64_t pkey, const struct st_rec *start,
		    struct check_image *im);
/* check_who of the process that made s, named by the image that made it
 * (show_sock_comm): a socket made before an exec is not the new program's */
const char *check_maker(const struct check *c, const struct st_msock *s, char *buf, size_t n);
/* check_who of the process of event r, named by the image that made r
 * (show_comm_at) */
const char *check_who_rec(const struct check *c, const struct st_rec *r, char *buf, size_t n);
/* The kind of s as check's lines name it: st_msock_kind ("tcp", "udp",
 * "unix", "NETLINK", ...), "6" after it for an AF_INET6 socket whose
 * ends are unknown (no address then tells "udp6" from "udp"), and its
 * type when the protocol does not say it: "unix stream", "unix dgram",
 * "icmp raw", "NETLINK dgram" (a socketpair of streams and one of
 * datagrams are two findings).  In buf (n bytes), not escaped. */
const char *check_kind(const struct st_msock *s, char *buf, size_t n);
/* "tcp 127.0.0.1:41234 -> 127.0.0.1:8080": kind (check_kind), local and remote ends
 * (each left out when unknown), escaped (show_esc), cut to n bytes;
 * CHECK_TUPLE_MAX holds two addresses escaped at their longest */
#define CHECK_TUPLE_MAX 1600
const char *check_tuple(const struct st_msock *s, char *buf, size_t n);
/* " at open_tcp_socket+0x15 (prog) <- leaf_entry+0x9 (prog)": the first
 * three frames of r's stack, named when the symbolizer could, escaped;
 * "" when r is NULL or has no stack */
const char *check_where(const struct st_rec *r, char *buf, size_t n);

/* ---- reports (report.c) ---- */

/* Every violation as a line "NAME: what" on out; when there is none, the
 * line "socktrace: check: N rules held over M events"; then each note (a
 * group of alike ones as one) as "socktrace: check: note: what".  Returns
 * the number of violations. */
size_t report_text(const struct check *c, FILE *out);
/* Every violation as a GitHub workflow annotation on out
 * ("::error title=socktrace NAME::what", with file= and line= first when
 * the violation has a source line: the path relative to $GITHUB_WORKSPACE
 * when it lies inside it, else as the debug info has it), escaped as the
 * runner's parser
 * unescapes: % CR LF in the message, also : and , in the title), identical
 * ones of a result once with their count ("socktrace NAME (×N)"); then
 * each note as "::notice", a group of alike ones once with their count
 * ("socktrace check (×N)").  Returns the number of violations. */
size_t report_github(const struct check *c, FILE *out);
/* Opens the JUnit report file path before anything is judged, so that a
 * path that cannot be written stops the command before it prints a
 * result: created 0600, or an existing file of this user emptied, by the
 * trace file's rules (codec/outfile.h), its XML declaration written.  A
 * name of a descriptor ("-" and /dev/stdout: 1, /dev/stderr: 2, fd:N,
 * /dev/fd/N, /proc/self/fd/N; st_outfile_fd) writes to a copy of that
 * descriptor, which must be open for writing, and empties nothing.
 * NULL after "socktrace: check: cannot write PATH: why" on stderr. */
FILE *report_junit_open(const char *path);
/* A JUnit XML report in f (from report_junit_open(path), closed here):
 * one testsuite, one testcase per result, a failure holding its
 * violations, the notes in the suite's system-out ("note: what" a line,
 * a group of alike ones as one); each with its time, the suites with the time since
 * c->started, that start as timestamp (UTC, no zone, as the JUnit schema
 * has it) and this host's name.  Returns 0, or -1 when the file cannot be
 * written (said on stderr, naming path). */
int report_junit(const struct check *c, FILE *f, const char *path);
/* The same report when nothing could be judged (the exit status 2): one
 * testcase whose error says why (why, then detail when not NULL), so that
 * the CI step shows it.  what is "usage" (the command line was wrong: the
 * testcase "usage", its error of type "usage"), "input" (the traces
 * could not be judged: the testcase "input", type "unusable-input") or
 * "interrupted" (a signal stopped the reading: the testcase "input", type
 * "interrupted").
 * Returns as report_junit. */
int report_junit_error(const struct check *c, FILE *f, const char *path, const char *what, const char *why,
		       const char *detail);
/* Seconds since c->started_mono. */
double check_elapsed(const struct check *c);

/* ---- rules (check_rules.c) ---- */

struct check_rule;
struct check_tw;

/* The rules asked for, in the order asked. */
struct check_rules {
	struct check_wanted {
		const struct check_rule *rule;
		char *arg;	/* "10" of "max-open=10"; NULL without '=' */
		char *label;	/* the result's name: the rule as asked for */
		/* while it is judged (check_rules_begin ... _end) */
		size_t result;	/* its result: c->results[result] */
		size_t killed;	/* no-leaks: sockets a killed process held */
		char sig[64];	/* ... the signal of the last, "" unknown */
		double seconds;	/* spent on it so far */
		struct check_tw *tw;	/* max-time-wait: the ends pending
					 * (check_tw.c), NULL none yet */
	} *v;
	size_t n;
};

/* Adds the rule spec ("no-leaks", "max-open=10", "closed-by=client"; "all"
 * adds every rule that takes no value) to rs, its count in one spelling
 * (label and arg: "max-open=03" is "max-open=3"); a rule asked for already
 * (the same rule and value) is not added again.  Returns 0; -1 when spec
 * names no rule or its value is missing or wrong (why says which, for a
 * usage error); -2 when out of memory. */
int check_rules_add(struct check_rules *rs, const char *spec, char *why, size_t whysz);
/* Adds the rules checked when none is asked for (no-leaks, reuseaddr,
 * no-eaddrinuse, handshakes, no-resets).  Returns 0, or -2 when out of
 * memory. */
int check_rules_add_defaults(struct check_rules *rs);

/* The same, piece by piece, for a model that retires what has ended
 * (st_model_retiring): each socket and connection judged once, as it
 * retires or at the end, each event as the model is fed it.
 * check_rules_begin: one empty result per rule, at the end of c->results,
 * in the order asked (rs keeps their places: call nothing else that adds
 * results until check_rules_end).
 * check_rules_sock, check_rules_conn: s (cn), retiring, judged by each
 * rule that judges sockets (connections), and s's own events (st_rec.sock)
 * by the rules that judge events (no-eaddrinuse's failed binds); they
 * must be fully decided (a retiring model's callbacks).
 * check_rules_fed: r, just fed to the model (st_model_feed), given to
 * the rules that wait on an event as it comes (max-time-wait: an exit
 * settles the ends its process closed before it).
 * check_rules_want: does a rule of rs judge r (then an event of no
 * socket, r->sock NULL once fed, must be kept, st_model_keep, and given
 * to check_rules_held)?
 * check_rules_held: every socket and connection c->sh.model (finished)
 * still holds judged, then the events the rules judge of those sockets
 * and alone[0..nalone), in time order (st_rec_effect_us, then
 * st_rec.order) as a whole trace has them; 0, or -1 when out of memory.
 * check_rules_end: what only the end tells (the processes' peaks, the
 * notes of the rules), then each result's lines (check_result_done) and
 * time.  Out of memory: as check_finding. */
void check_rules_begin(struct check *c, struct check_rules *rs);
void check_rules_sock(struct check *c, struct check_rules *rs, const struct st_msock *s);
void check_rules_conn(struct check *c, struct check_rules *rs, const struct st_conn *cn);
void check_rules_fed(struct check *c, struct check_rules *rs, const struct st_rec *r);
bool check_rules_want(const struct check_rules *rs, const struct st_rec *r);
int check_rules_held(struct check *c, struct check_rules *rs, const struct st_rec *const *alone, size_t nalone);
void check_rules_end(struct check *c, struct check_rules *rs);
void check_rules_free(struct check_rules *rs);

/* ---- max-time-wait (check_tw.c), the rule's parts for the table ---- */

/* check_tw_sock: s, fully decided (retiring, or at the end), judged once:
 * a TCP end that part 2 may count is decided, or kept pending (about 140
 * bytes) until the exit of the process that closed it, fed
 * (check_tw_fed: r any event; an exit settles that process's ends), or
 * the end (check_tw_end: every exit's table read, the violation and the
 * note of the ends that may be in TIME_WAIT).  check_tw_free: what
 * wt->tw holds (NULL nothing).  Out of memory: says so and exits 2, as
 * check_finding. */
void check_tw_sock(struct check *c, struct check_wanted *wt, struct check_result *res, const struct st_msock *s);
void check_tw_fed(struct check *c, struct check_wanted *wt, const struct st_rec *r);
void check_tw_end(struct check *c, struct check_wanted *wt, struct check_result *res);
void check_tw_free(struct check_tw *tw);

#endif
