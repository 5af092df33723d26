/* SPDX-License-Identifier: MIT */
/* cmd_check.c - `socktrace check`: the command line, reading the traces
 * (as a stream into a model that lets go of what has ended), running
 * the rules and
 * patterns asked for, and the reports.
 *
 * Owns: the options of `check` and its exit status (0 every rule holds, 1 a
 * violation, 2 unusable input or usage, or a JUnit file that cannot be
 * written; with --strict, a trace that is not the whole program is
 * unusable input; 128 + the signal when SIGINT or SIGTERM stopped a
 * streamed reading, nothing judged).  Judges nothing itself: the rules (formatters/check_rules.c)
 * and patterns (formatters/expect.c) do, and the reports
 * (formatters/report.c) write what they found.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "expect.h"
#include "load.h"
#include "outfile.h"
#include "stream.h"
#include "untraced.h"
#include "whole.h"

static const char usage_text[] =
	"usage: socktrace check [--rule RULE]... [--expect PATTERN]... [--junit FILE]\n"
	"                       [--format=text|github] [--color=WHEN] [--strict]\n"
	"                       [--window=MS] [--hold=EVENTS] [TRACE...]\n"
	"Asserts on recorded socket lifecycles (stdin when no TRACE is given).\n"
	"Options may come before or after the traces; after --, every word is a trace.\n"
	"Rules: no-leaks, reuseaddr, no-eaddrinuse, handshakes, no-resets,\n"
	"       max-time-wait=N, max-open=N, closed-by=client|server, all.\n"
	"       Without --rule and --expect: no-leaks, reuseaddr, no-eaddrinuse,\n"
	"       handshakes, no-resets.\n"
	"  --expect PATTERN   some socket's lifecycle matches PATTERN, e.g.\n"
	"                     'tcp *:8080 socket setsockopt(SO_REUSEADDR) bind listen accept+ close'\n"
	"  --junit FILE       also write a JUnit XML report (one testcase per rule);\n"
	"                     - or /dev/stdout: on standard output, and the text or\n"
	"                     github report then goes to standard error\n"
	"  --format=github    violations as GitHub workflow annotations\n"
	"  --color=WHEN       auto, always or never, as for show (check's lines are\n"
	"                     never coloured: accepted so both take the same options)\n"
	"  --strict           any bad trace line, any event missing from the trace\n"
	"                     (a gap in seq, or dropped), or any part of the program\n"
	"                     it does not follow (an untraced image, a process\n"
	"                     without events of its own) is fatal (exit 2)\n"
	"  --window=MS        how far (in trace time) events are looked ahead to put\n"
	"                     them in time order (default 500)\n"
	"  --hold=EVENTS      past this many events held, judge and let go of the\n"
	"                     sockets that have ended (default 100000); not with\n"
	"                     sockets that have ended (default 100000)\n"
	"Exit status: 0 all hold, 1 a violation, 2 unusable input or usage.\n";

enum { OPT_RULE = 256, OPT_EXPECT, OPT_JUNIT, OPT_FORMAT, OPT_STRICT, OPT_COLOR, OPT_WINDOW, OPT_HOLD };

/* Says a usage error on stderr and keeps it in failed (for a JUnit report,
 * *usage set: its error is a usage error); returns the exit status 2. */
static int usage_error(bool *usage, char *failed, size_t n, const char *fmt, const char *arg)
{
	*usage = true;
	snprintf(failed, n, fmt, arg);
	fprintf(stderr, "socktrace: check: %s\nTry 'socktrace check --help'.\n", show_esc(failed));
	return 2;
}

/* Is path (the --junit file, or the descriptor it names: "-", fd:N, ...)
 * one of the traces?  Emptying it for the report would lose the trace
 * before it is read, and writing to it would add the report to it. */
static bool is_a_trace(const char *path, char *const *traces, int n)
{
	struct stat j, t;
	int fd = st_outfile_fd(path);

	if ((fd >= 0 ? fstat(fd, &j) : fd == -1 ? stat(path, &j) : -1) != 0 || !S_ISREG(j.st_mode))
		return false;
	for (int i = 0; i < n; i++)
		if (stat(traces[i], &t) == 0 && t.st_dev == j.st_dev && t.st_ino == j.st_ino)
			return true;
	return false;
}

/* Does the report (--junit path, open as descriptor fd) go to standard
 * output: "-", /dev/stdout, fd:1, or a path that is the pipe or file
 * standard output is (not a device such as /dev/null or a terminal, which
 * mixes nothing the user did not ask to see together)? */
static bool report_on_stdout(const char *path, int fd)
{
	struct stat sa, sb;

	if (st_outfile_fd(path) == STDOUT_FILENO)
		return true;
	return fstat(fd, &sa) == 0 && fstat(STDOUT_FILENO, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
}

/* The file of a --junit after the option that stopped the command line
 * (a usage error), so that the report says why even then; NULL when there
 * is none.  The rest of the line is read for --junit only. */
static const char *junit_after(int argc, char **argv, const struct option *longopts)
{
	const char *junit = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
		if (opt == OPT_JUNIT && optarg && optarg[0] && !junit)
			junit = optarg;
	return junit;
}

/* A note after the results: an image the trace does not follow, whose
 * socket calls no rule could judge.  The same exec by many processes of
 * one program (a script that runs `env -i true` 30 times) is one note:
 * the same image exec'ing the same program for the same reason. */
static void note_untraced(const struct st_rec *r, void *arg)
{
	struct check *c = arg;
	const struct st_proc *p = st_model_proc_key(c->sh.model, r->pkey);
	char comm[256], line[2048], key[8192], ex[64];
	struct check_image im;
	struct check_like like;

	check_image_of(c, r->ev.pid, r->pkey, st_proc_image_at(p, r), &im);
	snprintf(key, sizeof(key), "untraced\036%s\036%s\036%s\036%d", im.key, r->ev.exe ? r->ev.exe : "",
		 r->ev.untraced_reason ? r->ev.untraced_reason : "", r->ev.child > 0);
	snprintf(ex, sizeof(ex), "pid %lld", (long long)r->ev.pid);
	like = (struct check_like){ key, "such execs", im.words, r->pkey, ex, false };
	st_untraced_words(r, show_comm(&c->sh, r->pkey, comm, sizeof(comm)), line, sizeof(line));
	check_note_like(c, &like, "untraced: %s", line);
}

/* when the trace met the process of key pkey: its first event's time,
 * INT64_MAX unknown */
static int64_t met_at(const struct check *c, int64_t pkey)
{
	const struct st_proc *p = st_model_proc_key(c->sh.model, pkey);

	return p && p->first ? p->first->ev.ts_us : INT64_MAX;
}

/* Notes after the results: the process images the trace lacks events of,
 * whose sockets' verdicts may then be wrong (a close not in it reads as a
 * leak); the processes of one program that lack events the same way are
 * one note. */
static void note_missing(struct check *c, const struct st_trace *t)
{
	uint64_t listed = 0;
	char comm[256];
	size_t order[ST_MISSING_LISTED];
	size_t n = t->nmissing_list < ST_MISSING_LISTED ? t->nmissing_list : ST_MISSING_LISTED;

	/* in the order the trace met them (the list is in the order their
	 * images were over), so that a group's examples are its first */
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		int64_t at = met_at(c, t->missing_list[i].pkey);

		for (; k > 0 && met_at(c, t->missing_list[order[k - 1]].pkey) > at; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	for (size_t i = 0; i < n; i++) {
		const struct st_missing *m = &t->missing_list[order[i]];
		bool exit_only = m->no_exit && m->events == 1;
		char key[8192], ex[128];
		struct check_image im;
		struct check_like like;

		listed += (uint64_t)m->events;
		/* the processes of one program that each lack events the same
		 * way (each worker's exit lost, each dropping events): one note */
		check_image_of(c, m->pid, m->pkey, NULL, &im);
		snprintf(key, sizeof(key), "incomplete\036%s\036%d\036%d\036%d", im.key, exit_only, m->no_exit,
			 m->dropped >= m->gaps);
		if (exit_only)
			snprintf(ex, sizeof(ex), "pid %lld after seq %lld", (long long)m->pid, (long long)m->last);
		else
			snprintf(ex, sizeof(ex), "pid %lld %lld between seq %lld and %lld", (long long)m->pid,
				 (long long)(m->events - m->no_exit), (long long)m->first, (long long)m->last);
		like = (struct check_like){ key, exit_only ? "such processes lack their exit event" :
							     "such processes lack events",
					    im.words, m->pkey, ex, true };
		if (exit_only)
			check_note_like(c, &like,
				   "incomplete: pid %lld (%s) lacks its exit event (its end was seen, a normal exit, "
				   "after seq %lld): what it held at its end is unknown, and a verdict on its sockets "
				   "may be wrong",
				   (long long)m->pid, show_comm(&c->sh, m->pkey, comm, sizeof(comm)), (long long)m->last);
		else
			check_note_like(c, &like,
				   "incomplete: pid %lld (%s) lacks at least %lld event%s between seq %lld and %lld "
				   "(%s)%s: what they did is unknown, and a verdict on its sockets may be wrong",
				   (long long)m->pid, show_comm(&c->sh, m->pkey, comm, sizeof(comm)),
				   (long long)(m->events - m->no_exit), m->events - m->no_exit == 1 ? "" : "s",
				   (long long)m->first, (long long)m->last,
				   m->dropped >= m->gaps ? "the shim counted them as dropped" : "numbers missing from seq",
				   m->no_exit ? ", and its exit event" : "");
	}
	if (t->missing > listed)
		check_note(c, "incomplete: %llu more events are missing, of %u more process images",
			   (unsigned long long)(t->missing - listed),
			   t->missing_images - (unsigned)t->nmissing_list);
}

/* Notes after the results: processes whose own events are not in the
 * traces, which ended holding sockets no rule could then judge; those
 * that the traces tell the same of (the same program, or children of
 * one parent) are one note. */
static void note_absent(struct check *c, const struct st_model *m, const struct st_held_tally *retired)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_proc *p = m->procs[i];
		unsigned held = st_absent_held(m, p, retired);
		char who[320], key[400], ex[96];
		struct check_like like;

		if (!held)
			continue;
		st_absent_who(&c->sh, p, who, sizeof(who));
		snprintf(key, sizeof(key), "absent\036%s", who[0] ? who : "?");
		snprintf(ex, sizeof(ex), "pid %lld (%u socket%s)", (long long)p->pid, held, held == 1 ? "" : "s");
		like = (struct check_like){ key, "such processes", NULL, p->key, ex, true };
		check_note_like(c, &like,
			   "absent: pid %lld%s has no events of its own in the traces (with %%p in the output, each process "
			   "writes a file of its own: give them all): what it did with the %u socket%s it held is unknown",
			   (long long)p->pid, who, held, held == 1 ? "" : "s");
	}
}

/* A check that reads the traces as a stream (judge_stream): the model
 * retires what has ended, each socket and connection judged as it goes. */
struct streamed {
	struct check *c;
	struct check_rules *rules;
	struct st_model m;
	struct st_trace t;
	const struct st_rec **said;	/* the events st_untraced_each_of needs */
	size_t nsaid, capsaid;
	const struct st_rec **alone;	/* the events a rule judges that are of no socket */
	size_t nalone, capalone;
	struct st_held_tally rh;	/* what retired sockets tell st_absent_held */
	/* --expect: the patterns, and what each found so far */
	const struct expect_pattern *pats;
	struct expect_seen *seen;
	size_t npats;
};

static void judged_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	struct streamed *js = arg;

	(void)m;
	check_rules_sock(js->c, js->rules, s);
	st_held_tally_sock(&js->rh, s);
	for (size_t i = 0; i < js->npats; i++)
		expect_sock(js->c, &js->pats[i], &js->seen[i], s);
}

static void judged_conn(void *arg, const struct st_model *m, const struct st_conn *cn)
{
	struct streamed *js = arg;

	(void)m;
	check_rules_conn(js->c, js->rules, cn);
}

/* The signal (SIGINT, SIGTERM) that stopped the reading, 0 none: a check
 * cut short judges nothing, since a socket still open where the reading
 * stopped is not a leak, and says so (in the JUnit report too) */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* The traces paths[0..n) (strict: up to the first bad line) read through
 * the stream's window (window_us) into
 * a retiring model (st_model_retiring: past hold events held, what has
 * ended is judged and let go), each event judged as it is fed; the model
 * finished, and what it still holds judged (check_rules_held) when the
 * traces were usable.  js->m and js->t must be zero; c->results gets the
 * rules' results (check_rules_begin), judged but for the end
 * (check_rules_end).  SIGINT and SIGTERM stop the reading (stop_signal):
 * then nothing more is judged.  0, or -1 when out of memory (said by no
 * one). */
static int judge_stream(struct streamed *js, char *const *paths, int n, int64_t window_us, size_t hold,
			bool strict)
{
	struct st_stream_opts o = { window_us, strict, false, NULL, &stop_signal, hold };
	/* an end is final a moment after the model has it, for what may undo
	 * it (an exit handler's close, a failed exec), as for show: the
	 * stream's window (up to hold events) has put what came before it in
	 * place */
	struct st_retire rt = { hold, 250000, judged_sock, judged_conn, NULL, js };
	struct st_stream *s;
	struct st_rec *r;
	bool oom = false;

	if (st_model_begin(&js->m) < 0 || st_model_retiring(&js->m, &rt) < 0)
		return -1;
	js->c->sh.trace = &js->t;
	js->c->sh.model = &js->m;
	check_rules_begin(js->c, js->rules);
	s = st_stream_open(&js->t, paths, n, &o);
	while (s && !oom && (r = st_stream_next(s))) {
		oom = st_model_feed(&js->m, r) < 0;
		if (!oom)
			check_rules_fed(js->c, js->rules, r);
		/* judged with its socket, or at the end when it has none */
		if (!oom && !r->sock && check_rules_want(js->rules, r))
			oom = !st_model_keep_in(&js->m, &js->alone, &js->nalone, &js->capalone, r);
		if (!oom && st_untraced_matters(r))
			oom = !st_model_keep_in(&js->m, &js->said, &js->nsaid, &js->capsaid, r);
		js->m.ahead = st_stream_held(s);
		oom = st_model_release(&js->m, r) < 0 || oom;
	}
	if (stop_signal) {	/* nothing judged: the caller says so */
		st_stream_close(s);
		return 0;
	}
	if (!oom && s && !js->t.fatal)
		oom = st_model_finish(&js->m) < 0;
	/* what the model still holds, judged while the stream (whose
	 * symbolizer names the frames) is open */
	if (!oom && s && !js->t.fatal && !js->t.bad && js->m.nfed) {
		oom = check_rules_held(js->c, js->rules, js->alone, js->nalone) < 0;
		for (size_t i = 0; i < js->npats; i++)
			for (size_t k = 0; k < js->m.nsocks; k++)
				expect_sock(js->c, &js->pats[i], &js->seen[i], js->m.socks[k]);
	}
	/* the events missing from the trace are known once it is closed */
	st_stream_close(s);
	js->c->nevents = js->m.nfed;
	return !s || oom || js->rh.oom ? -1 : 0;
}

int st_cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check c;
	struct check_rules rules = { NULL, 0 };
	struct expect_pattern *pats = NULL;
	size_t npats = 0;
	const char *junit = NULL;
	FILE *jf = NULL, *human = stdout;
	bool strict = false, github = false, usage = false, stopped = false;
	char why[512], failed[600] = "", whole[2300] = "";
	const char *detail = NULL;
	int opt, rc = 0;
	long window_ms = ST_STREAM_WINDOW_US / 1000, hold = SHOW_HOLD_EVENTS;
	struct streamed *js = NULL;

	memset(&c, 0, sizeof(c));
	clock_gettime(CLOCK_REALTIME, &c.started);
	clock_gettime(CLOCK_MONOTONIC, &c.started_mono);
	c.sh.out = stdout;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_RULE:
			switch (check_rules_add(&rules, optarg, why, sizeof(why))) {
			case 0:
				break;
			case -1:
				rc = usage_error(&usage, failed, sizeof(failed), "%s", why);
				goto out;
			default:	/* out of memory */
				rc = 2;
				goto out;
			}
			break;
		case OPT_EXPECT: {
			struct expect_pattern *grown = realloc(pats, (npats + 1) * sizeof(*pats));
			if (!grown) {
				rc = 2;
				goto out;
			}
			pats = grown;
			if (!expect_parse(optarg, &pats[npats], why, sizeof(why))) {
				snprintf(failed, sizeof(failed), "bad pattern '%s': %s", optarg, why);
				fprintf(stderr, "socktrace: check: %s\n", show_esc(failed));
				usage = true;
				expect_free(&pats[npats]);
				rc = 2;
				goto out;
			}
			/* given twice (the same words): judged once, as a rule is */
			for (size_t k = 0; k < npats; k++)
				if (expect_same(&pats[k], &pats[npats])) {
					expect_free(&pats[npats]);
					npats--;
					break;
				}
			npats++;
			break;
		}
		case OPT_JUNIT:
			if (!*optarg) {
				rc = usage_error(&usage, failed, sizeof(failed), "%s",
						 "--junit takes a file name, and this one is empty");
				goto out;
			}
			if (junit) {
				rc = usage_error(&usage, failed, sizeof(failed), "%s", "--junit given twice: one report file");
				goto out;
			}
			if (st_outfile_fd(optarg) == -2) {
				rc = usage_error(&usage, failed, sizeof(failed),
						 "--junit fd:N takes a descriptor number, not '%s'", optarg);
				goto out;
			}
			junit = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "github"))
				github = true;
			else if (strcmp(optarg, "text")) {
				rc = usage_error(&usage, failed, sizeof(failed), "--format is text or github, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_COLOR:
			if (optarg && strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never")) {
				rc = usage_error(&usage, failed, sizeof(failed), "--color is auto, always or never, not '%s'",
						 optarg);
				goto out;
			}
			break;
		case OPT_WINDOW:
			if (!st_cli_number(optarg, 0, 3600000, &window_ms)) {
				rc = usage_error(&usage, failed, sizeof(failed),
						 "bad --window '%s' (milliseconds, 0-3600000)", optarg);
				goto out;
			}
			break;
		case OPT_HOLD:
			if (!st_cli_number(optarg, 1, 1000000000, &hold)) {
				rc = usage_error(&usage, failed, sizeof(failed), "bad --hold '%s' (events, 1-1000000000)",
						 optarg);
				goto out;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			goto out;
		case ':':
			rc = usage_error(&usage, failed, sizeof(failed), "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			rc = usage_error(&usage, failed, sizeof(failed), "unknown or incomplete option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	for (int i = optind; i < argc; i++)
		if (!argv[i][0]) {
			rc = usage_error(&usage, failed, sizeof(failed), "%s", "a trace's name is empty");
			goto out;
		}
	if (!rules.n && !npats && check_rules_add_defaults(&rules) < 0) {
		rc = 2;
		goto out;
	}
	if (junit && is_a_trace(junit, argv + optind, argc - optind)) {
		fprintf(stderr, "socktrace: check: --junit %s is one of the traces: the report would %s it\n",
			show_esc(junit), st_outfile_fd(junit) >= 0 ? "be written into" : "empty");
		rc = 2;
		goto out;
	}
	/* the report's file first: one that cannot be written stops the
	 * command before a result is printed */
	if (junit && !(jf = report_junit_open(junit))) {
		rc = 2;
		goto out;
	}
	/* the report on standard output (--junit -): the lines for a person
	 * go to standard error, so that the XML stays whole */
	if (jf && report_on_stdout(junit, fileno(jf)))
		human = stderr;

	/* read as a stream, memory bounded by what is alive at once
	 * (--strict too: judged as it goes, the results kept to the end,
	 * then the whole program or nothing) */
	{
		struct sigaction sa, old_int, old_term;

		if (!(js = calloc(1, sizeof(*js))) || (npats && !(js->seen = calloc(npats, sizeof(*js->seen))))) {
			snprintf(failed, sizeof(failed), "out of memory");
		} else {
			int judged;

			js->c = &c;
			js->rules = &rules;
			js->pats = pats;
			js->npats = npats;
			/* SIGINT and SIGTERM end the reading, not the command:
			 * the report says it was cut short */
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_stop;	/* no SA_RESTART: a wait for input ends */
			sigemptyset(&sa.sa_mask);
			sigaction(SIGINT, &sa, &old_int);
			sigaction(SIGTERM, &sa, &old_term);
			judged = judge_stream(js, argv + optind, argc - optind, (int64_t)window_ms * 1000, (size_t)hold,
					      strict);
			sigaction(SIGINT, &old_int, NULL);
			sigaction(SIGTERM, &old_term, NULL);
			if (stop_signal) {
				snprintf(failed, sizeof(failed),
					 "stopped by %s before the end of the input (%zu events read); nothing was judged",
					 stop_signal == SIGINT ? "SIGINT" : "SIGTERM", js->m.nfed);
				stopped = true;
			} else if (judged < 0 && !js->t.bad)
				snprintf(failed, sizeof(failed), "out of memory");
			else if (js->t.bad) {
				snprintf(failed, sizeof(failed),
					 "the trace is not usable as it is (%u problem%s); nothing was checked", js->t.bad,
					 js->t.bad == 1 ? "" : "s");
				detail = js->t.first_problem;
			} else if (!js->m.nfed) {
				snprintf(failed, sizeof(failed), "no events to check");
			} else if (strict && !st_whole_stream(&c.sh, js->said, js->nsaid, &js->rh, why, sizeof(why),
							      whole, sizeof(whole))) {
				/* --strict: the whole program, or nothing judged
				 * (whole.h), as of a trace read whole */
				snprintf(failed, sizeof(failed), "%s (--strict); nothing was checked", why);
				detail = whole[0] ? whole : NULL;
			}
		}
		if (failed[0]) {
			check_free(&c);	/* the results begun: nothing was judged */
			fprintf(stderr, "socktrace: check: %s\n", failed);
			if (detail && detail == whole)
				fprintf(stderr, "socktrace: check: %s\n", whole);
			/* cut short: the status a shell gives a command that
			 * signal ended, so that a CI step fails */
			rc = stopped ? 128 + stop_signal : 2;
			goto out;
		}
		check_rules_end(&c, &rules);
		for (size_t i = 0; i < npats; i++) {
			double t0 = check_elapsed(&c);

			expect_done(&c, &pats[i], &js->seen[i]);
			check_result_done(&c.results[c.nresults - 1]);
			c.results[c.nresults - 1].seconds = check_elapsed(&c) - t0;
		}
		st_untraced_each_of(js->said, js->nsaid, note_untraced, &c);
		note_missing(&c, &js->t);
		note_absent(&c, &js->m, &js->rh);
		check_notes_done(&c);
	}

	if (github)
		rc = report_github(&c, human) ? 1 : 0;
	else
		rc = report_text(&c, human) ? 1 : 0;
	fflush(human);
	if (jf && report_junit(&c, jf, junit) < 0)
		rc = 2;
	jf = NULL;	/* closed */
	if (js && js->m.split)
		fprintf(stderr, "socktrace: check: %zu connections were judged as two halves: one end came more than "
				"the window (--window=%ld ms) after the other had been judged (clocks apart, a trace that "
				"lags behind another); a larger --window joins them\n", js->m.split, window_ms);
	if (js && js->m.socks_retired)
		fprintf(stderr, "socktrace: check: more than %ld events were held (--hold): %zu sockets that had ended "
				"were judged as they ended: a rule's lines come in that order, and a line that stands for "
				"several findings names the first to end as its examples; a failed bind judged before the end keeps the "
				"shim's verdict\n", hold, js->m.socks_retired);
out:
	/* nothing judged: the report still says why, for the CI step to show,
	 * also when the usage error came before --junit on the line */
	if (rc == 2 && failed[0] && !junit)
		junit = junit_after(argc, argv, longopts);
	if (rc == 2 && failed[0] && junit && !jf && is_a_trace(junit, argv + optind, argc - optind))
		junit = NULL;
	if (stopped && jf)
		report_junit_error(&c, jf, junit, "interrupted", failed, NULL);
	else if (rc == 2 && failed[0] && junit && (jf || (jf = report_junit_open(junit))))
		report_junit_error(&c, jf, junit, usage ? "usage" : "input", failed, detail);
	else if (jf)
		fclose(jf);	/* out of memory: the file holds its declaration only */
	check_free(&c);
	if (js) {
		st_model_free(&js->m);
		st_trace_free(&js->t);
		free(js->said);
		free(js->alone);
		st_held_tally_free(&js->rh);
		for (size_t i = 0; js->seen && i < npats; i++)
			for (size_t k = 0; k < js->seen[i].nbest; k++)
				free(js->seen[i].best[k].line);
		free(js->seen);
		free(js);
	}
	check_rules_free(&rules);
	for (size_t i = 0; i < npats; i++)
		expect_free(&pats[i]);
	free(pats);
	return rc;
}
