/* SPDX-License-Identifier: MIT */
/* cmd_show.c - `socktrace show`: the command line, loading the traces,
 * the events the filters keep, and one format to render them.
 *
 * Owns: the options of `show` and its exit status (0 fine, 2 unusable input
 * or usage, or with --strict a trace that is not the whole program or a
 * temporary file that could not be made or written; 1 when
 * a --pid or --port value names nothing of the traces or the output could
 * not be written).  Renders nothing
 * itself: the formats (formatters/fmt_*.c, behind show.h) do.
 */
#define _GNU_SOURCE	/* fopencookie */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "show.h"
#include "stream.h"
#include "untraced.h"
#include "whole.h"

static const char usage_text[] =
	"usage: socktrace show [-f FORMAT] [--color=WHEN] [--pid PID] [--port PORT]\n"
	"                      [--strict] [--utc] [--follow] [--window=MS] [--hold=EVENTS]\n"
	"                      [TRACE...]\n"
	"Render JSON Lines traces (stdin when no TRACE is given); several traces\n"
	"are merged by time.  Options may come before or after the traces; after\n"
	"--, every word is a trace.\n"
	"  -f, --format=FORMAT  text (default), timeline, summary, lifecycle, json, mermaid,\n"
	"                       connections (one JSON object per TCP connection),\n"
	"                       chrome (Chrome trace event JSON, for Perfetto and chrome://tracing)\n"
	"      --color=WHEN     auto (default: on a terminal, unless NO_COLOR is set\n"
	"                       and not empty), always, never\n"
	"      --pid=PID        only this process (repeatable)\n"
	"      --port=PORT      only sockets with this port at either end (repeatable)\n"
	"      --strict         any bad line, any event missing from the trace (a gap\n"
	"                       in seq, dropped, a lost exit), or any part of the\n"
	"                       program it does not follow (an untraced image, a\n"
	"                       process without events of its own) is fatal (exit 2,\n"
	"                       nothing rendered), as for check --strict; rendered\n"
	"                       into a temporary file ($TMPDIR, else /tmp) first\n"
	"      --utc            times of day in UTC\n"
	"      --follow         text and json (not with --strict): keep reading each TRACE\n"
	"                       as it grows, until its runner has written how the program\n"
	"                       ended (or SIGINT)\n"
	"      --window=MS      how far (in trace time) events are looked ahead to put them\n"
	"                       in time order (default 500; text, json and the formats\n"
	"                       --hold is for)\n"
	"      --hold=EVENTS    lifecycle, connections, timeline, summary, mermaid, chrome\n"
	"                       (--port too): past this many events held, print\n"
	"                       (summary, mermaid: count) and let go of what has ended;\n"
	"                       text and json with --port: past this many (and 8192)\n"
	"                       events held waiting for their sockets' ports, decide\n"
	"                       with what is known (default 100000)\n"
	"Exit status: 0; 1 when a --pid or --port names nothing of the traces (each\n"
	"such value is named on stderr) or the output could not be written; 2 when\n"
	"some input was unusable (the rest is still shown) or for a usage error.\n";

static const struct {
	const char *name;
	int (*fn)(struct show *);
} formats[] = {
	{ "text", show_text },
	{ "timeline", show_timeline },
	{ "summary", show_summary },
	{ "lifecycle", show_lifecycle },
	{ "json", show_json },
	{ "jsonl", show_json },
	{ "mermaid", show_mermaid },
	{ "connections", show_connections },
	{ "chrome", show_chrome },
};

#define WORD_OF(n) #n
#define WORD(n) WORD_OF(n)
#define MAX_FILTERS_WORD WORD(SHOW_MAX_FILTERS)	/* "32" */

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "socktrace: show: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'socktrace show --help'.\n");
	return 2;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* A read of traces that SIGINT or SIGTERM cut short, but for --follow
 * (where a stop is the way to end it): said on stderr, and the status a
 * shell gives a command that signal ended (128 + the signal), so that
 * `show ... > out && publish out` does not publish a part.  rc when there
 * was no stop or with follow. */
static int stopped_status(int rc, bool follow)
{
	if (!stop_signal || follow)
		return rc;
	fprintf(stderr, "socktrace: show: stopped by %s before the end of the input: what was read so far was "
			"shown\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	return 128 + stop_signal;
}

static long local_offset(int64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

/* On stderr, after the output: each --pid and --port value that no event
 * of the traces has.  Returns whether there was one. */
static bool say_unmatched(const struct show *sh)
{
	bool any = false;

	for (int i = 0; i < sh->npids; i++)
		if (!sh->pid_seen[i]) {
			fprintf(stderr, "socktrace: show: --pid %lld: no process of the traces has this pid\n",
				(long long)sh->pids[i]);
			any = true;
		}
	for (int i = 0; i < sh->nports; i++)
		if (!sh->port_seen[i]) {
			fprintf(stderr, "socktrace: show: --port %d: no socket of the traces has this port\n",
				sh->ports[i]);
			any = true;
		}
	return any;
}

/* On stderr, after the output: an image the trace does not follow. */
static void warn_untraced(const struct st_rec *r, void *arg)
{
	const struct show *sh = arg;
	char comm[256], line[2048];

	st_untraced_words(r, show_comm(sh, r->pkey, comm, sizeof(comm)), line, sizeof(line));
	fprintf(stderr, "socktrace: %s\n", line);
}

/* SIGINT and SIGTERM end the reading, not the command: what is held is
 * rendered (the old actions saved, for restore_stops) */
static void catch_stops(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: a wait for input ends */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_stops(const struct sigaction *old_int, const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

/* --strict streams: the output is rendered into a temporary file, unlinked
 * at once, and copied to standard output only once the trace is known to
 * be the whole program (whole.h), so that a refusal comes before anything
 * is shown; the sockets the retiring model lets go of are counted for
 * st_absent_held on their way out. */
struct strict {
	FILE *tmp;			/* the output until the verdict (writes to fd) */
	int fd;				/* the temporary file, unlinked */
	int err;			/* the errno of its first failed write, 0 none */
	char dir[PATH_MAX];		/* where it is: $TMPDIR, else /tmp */
	struct st_held_tally retired;	/* what retired sockets tell st_absent_held */
	/* the format's own callbacks and their argument, called through */
	void (*sock)(void *, const struct st_model *, const struct st_msock *);
	void (*conn)(void *, const struct st_model *, const struct st_conn *);
	void (*rec)(void *, const struct st_model *, const struct st_rec *, const struct st_msock *);
	void *arg;
};

/* the temporary file's writes, for stdio: each to the end, the first
 * failure's errno kept (stdio keeps only that one failed) */
static ssize_t strict_write(void *cookie, const char *buf, size_t n)
{
	struct strict *st = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t k = write(st->fd, buf + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (!st->err)
				st->err = k < 0 ? errno : ENOSPC;
			return 0;	/* an error, for fopencookie */
		}
		done += (size_t)k;
	}
	return (ssize_t)n;
}

/* st opened: its temporary file made (and unlinked) in $TMPDIR (not
 * empty), else /tmp.  0, or 2 when it cannot be (said on stderr). */
static int strict_open(struct strict *st)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX + 32];
	cookie_io_functions_t io = { NULL, strict_write, NULL, NULL };

	memset(st, 0, sizeof(*st));
	snprintf(st->dir, sizeof(st->dir), "%s", dir && *dir ? dir : "/tmp");
	snprintf(path, sizeof(path), "%s/socktrace-strict.XXXXXX", st->dir);
	st->fd = mkostemp(path, O_CLOEXEC);
	if (st->fd >= 0)
		unlink(path);
	if (st->fd < 0 || !(st->tmp = fopencookie(st, "w", io))) {
		fprintf(stderr, "socktrace: show: --strict renders into a temporary file first (in $TMPDIR, else "
				"/tmp), and none could be made in %s: %s; nothing was shown\n", show_esc(st->dir),
			strerror(errno));
		if (st->fd >= 0)
			close(st->fd);
		st->fd = -1;
		return 2;
	}
	return 0;
}

/* the retiring model's callbacks under --strict: the format's, then the
 * count of what the socket tells st_absent_held */
static void strict_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	struct strict *st = arg;

	if (st->sock)
		st->sock(st->arg, m, s);
	st_held_tally_sock(&st->retired, s);
}

static void strict_conn(void *arg, const struct st_model *m, const struct st_conn *c)
{
	struct strict *st = arg;

	st->conn(st->arg, m, c);
}

static void strict_rec(void *arg, const struct st_model *m, const struct st_rec *r, const struct st_msock *owner)
{
	struct strict *st = arg;

	st->rec(st->arg, m, r, owner);
}

/* rt, a format's retirement, made to count for st_absent_held too */
static void strict_retire(struct strict *st, struct st_retire *rt)
{
	st->sock = rt->sock;
	st->conn = rt->conn;
	st->rec = rt->rec;
	st->arg = rt->arg;
	rt->sock = strict_sock;
	rt->conn = rt->conn ? strict_conn : NULL;
	rt->rec = rt->rec ? strict_rec : NULL;
	rt->arg = st;
}

/* The verdict once the stream is closed (t, m finished; said[0..nsaid)
 * the events st_untraced_each_of needs): 0 when the whole program is in
 * the traces and the temporary file holds the output, else 2, said on
 * stderr as of a trace read whole. */
static int strict_verdict(struct show *sh, struct strict *st, const struct st_rec *const *said, size_t nsaid)
{
	char why[512], detail[2300];

	if (sh->trace->fatal) {
		fprintf(stderr, "socktrace: show: stopped at the first bad line (--strict)\n");
		return 2;
	}
	if (st->retired.oom) {
		fprintf(stderr, "socktrace: show: out of memory\n");
		return 2;
	}
	/* a temporary file that could not be written stopped the reading */
	if (fflush(st->tmp) || ferror(st->tmp)) {
		fprintf(stderr, "socktrace: show: --strict renders into a temporary file first, and writing it in %s "
				"failed: %s (it needs about the size of the output); nothing was shown\n",
			show_esc(st->dir), strerror(st->err ? st->err : EIO));
		return 2;
	}
	if (!st_whole_stream(sh, said, nsaid, &st->retired, why, sizeof(why), detail, sizeof(detail))) {
		fprintf(stderr, "socktrace: show: %s (--strict); nothing was shown\n", why);
		if (detail[0])
			fprintf(stderr, "socktrace: show: %s\n", detail);
		return 2;
	}
	errno = 0;
	return 0;
}

/* The temporary file's output copied to standard output (after
 * strict_verdict said 0).  0, or 2 when it cannot be read back (said);
 * standard output's errors are the caller's to say (ferror(stdout)). */
static int strict_copy(struct strict *st)
{
	char buf[65536];
	off_t at = 0;
	ssize_t k;

	while ((k = pread(st->fd, buf, sizeof(buf), at)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "socktrace: show: reading back the temporary file in %s: %s; nothing more was "
					"shown\n", show_esc(st->dir), strerror(errno));
			return 2;
		}
		if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
			return 0;
		at += k;
	}
	return 0;
}

static void strict_close(struct strict *st)
{
	if (st->tmp)
		fclose(st->tmp);
	if (st->tmp || st->fd > 0)
		close(st->fd);
	st->tmp = NULL;
	st->fd = -1;
	st_held_tally_free(&st->retired);
}

/* the retiring model's callbacks: a format's line for what retired */
static void retired_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_lifecycle_sock(arg, s);
}

static void retired_conn(void *arg, const struct st_model *m, const struct st_conn *c)
{
	(void)m;
	show_connections_conn(arg, c);
}

static void timeline_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_timeline_sock(arg, s);
}

static void timeline_conn(void *arg, const struct st_model *m, const struct st_conn *c)
{
	(void)m;
	show_timeline_conn(arg, c);
}

static void summed_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_summary_sock(arg, s);
}

static void summed_rec(void *arg, const struct st_model *m, const struct st_rec *r, const struct st_msock *owner)
{
	(void)m;
	show_summary_rec(arg, r, owner);
}

static void chrome_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_chrome_sock(arg, s);
}

static void chrome_told(void *arg, const struct st_model *m, const struct st_rec *r, const struct st_msock *owner)
{
	(void)m;
	(void)owner;
	show_chrome_told(arg, r);
}

static void mermaid_sock(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_mermaid_sock(arg, s);
}

static void mermaid_conn(void *arg, const struct st_model *m, const struct st_conn *c)
{
	show_mermaid_conn(arg, c, m->rounds);
}

/* -f lifecycle and -f connections as the events come: the model is fed
 * through the stream's window, and once more than hold events are held,
 * what has ended is printed and let go (st_model_retiring); the rest at
 * the end, as from a whole trace.  strict: the first bad line ends it,
 * and the output is shown only once the trace is known whole (struct
 * strict), else nothing. */
static int show_retiring(struct show *sh, int (*fn)(struct show *), char *const *paths, int n,
			 int64_t window_us, size_t hold, bool strict)
{
	struct st_stream_opts o = { window_us, strict, false, sh->out, strict ? NULL : &stop_signal, hold };
	struct strict st = { NULL };
	struct sigaction old_int, old_term;
	/* an end is final a moment after the model has it, for what may undo
	 * it (an exit handler's close, a failed exec): the stream's window
	 * (up to hold events) has put what came before it in place */
	struct st_retire rt = { hold, 250000, NULL, NULL, NULL, sh };
	struct st_model *m = calloc(1, sizeof(*m));
	struct st_trace *t = calloc(1, sizeof(*t));
	struct st_stream *s;
	struct st_rec *r;
	const struct st_rec **said = NULL;
	size_t nsaid = 0, capsaid = 0;
	bool first = true, oom = false, opened;
	int rc = 0;

	if (strict && strict_open(&st)) {
		free(m);
		free(t);
		return 2;
	}
	if (strict)
		o.flush = sh->out = st.tmp;
	if (fn == show_lifecycle) {
		rt.sock = retired_sock;
	} else if (fn == show_connections) {
		rt.conn = retired_conn;
	} else if (fn == show_timeline) {
		rt.sock = timeline_sock;
		rt.conn = timeline_conn;
	} else if (fn == show_chrome) {
		rt.sock = chrome_sock;	/* events written as they come */
		if (sh->nports)
			rt.rec = chrome_told;	/* ... once their socket's ports are final */
	} else if (fn == show_mermaid) {
		rt.sock = mermaid_sock;	/* notes and the first connections kept */
		rt.conn = mermaid_conn;
	} else {
		rt.sock = summed_sock;	/* counted as they go, printed at the end */
		rt.rec = summed_rec;
	}
	if (strict)
		strict_retire(&st, &rt);
	if (!m || !t || st_model_begin(m) < 0 || st_model_retiring(m, &rt) < 0 ||
	    (fn == show_chrome && show_chrome_begin(sh) < 0) || (fn == show_mermaid && show_mermaid_begin(sh) < 0)) {
		if (m)
			st_model_free(m);
		free(m);
		free(t);
		strict_close(&st);
		fprintf(stderr, "socktrace: show: out of memory\n");
		return 2;
	}
	sh->trace = t;
	sh->model = m;
	/* --strict: a stop kills as it did when the trace was read whole
	 * first; the temporary file goes with the process */
	if (!strict)
		catch_stops(&old_int, &old_term);
	s = st_stream_open(t, paths, n, &o);
	opened = s != NULL;
	while (s && !oom && (r = st_stream_next(s))) {
		if (first) {
			sh->tz_offset = local_offset(r->ev.ts_us);
			st_render_set_tz(sh->tz_offset);
			first = false;
		}
		oom = st_model_feed(m, r) < 0;
		show_filters_seen(sh, r);
		if (!oom && sh->chrome)
			show_chrome_rec(sh, r);	/* it applies the filters */
		if (!oom && st_untraced_matters(r))
			oom = !st_model_keep_in(m, &said, &nsaid, &capsaid, r);
		m->ahead = st_stream_held(s);
		oom = st_model_release(m, r) < 0 || oom;
		if (ferror(sh->out))
			break;
	}
	if (!oom && s && !t->fatal)
		oom = st_model_finish(m) < 0;
	if (oom) {
		fprintf(stderr, "socktrace: show: out of memory\n");
		rc = 2;
	} else if (!s || t->fatal) {
		rc = 2;
	} else if (!m->nfed && t->bad) {
		/* no event read, and the input said why (an empty file, a file
		 * that is not a trace): nothing to render, not a picture of
		 * nothing */
	} else if (!ferror(sh->out)) {
		long n = fn == show_summary ? st_model_untold(m, &sh->recs) : 0;

		if (n < 0) {
			fprintf(stderr, "socktrace: show: out of memory\n");
			rc = 2;
		} else {
			for (long i = 0; i < n; i++)	/* those the filters keep */
				if (show_keep_rec(sh, sh->recs[i]))
					sh->recs[sh->nrecs++] = sh->recs[i];
			rc = fn(sh);
		}
	}
	show_summary_free(sh);
	show_timeline_free(sh);
	size_t chrome_retired = show_chrome_retired(sh);
	bool mermaid_renumbered = show_mermaid_numbered_as_ended(sh);
	show_chrome_free(sh);	/* the array closed, whatever stopped it */
	show_mermaid_free(sh);
	free(sh->recs);
	sh->recs = NULL;
	st_stream_close(s);
	if (!strict)
		restore_stops(&old_int, &old_term);
	/* --strict: the whole program or nothing (the messages below are
	 * of what was shown) */
	if (strict)
		fflush(st.tmp);	/* a write that fails is said below, not a format's failure */
	if (strict && (!rc || (opened && !oom && (t->fatal || ferror(st.tmp))))) {
		rc = strict_verdict(sh, &st, said, nsaid);
		if (!rc)
			rc = strict_copy(&st);
		sh->out = stdout;
	}
	if (strict && rc)
		goto done;
	if (ferror(sh->out))
		rc = rc ? rc : 1;	/* said below; what was printed is moot */
	if (!rc && m->split && fn != show_lifecycle)
		fprintf(stderr, "socktrace: show: %zu connections were shown as two halves: one end came more than "
				"the window (--window=%lld ms) after the other had been printed (clocks apart, a trace "
				"that lags behind another); a larger --window joins them\n", m->split,
			(long long)(window_us / 1000));
	if (!rc && fn == show_lifecycle && m->socks_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu sockets that had ended "
				"were printed as they ended, in that order\n", hold, m->socks_retired);
	if (!rc && fn == show_timeline && m->socks_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu sockets that had ended "
				"were printed as they ended, in that order, and the processes after them; the "
				"kernel's table at a later exit is not given for them\n", hold, m->socks_retired);
	if (!rc && fn == show_summary && m->socks_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu sockets that had ended "
				"were counted as they ended; the kernel's table at a later exit is not matched to "
				"them (their final state is the one right after their close)\n", hold, m->socks_retired);
	if (!rc && fn == show_chrome && chrome_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu sockets that had ended "
				"were written as they ended, with %s, the tracks' names at the "
				"end; connections are numbered in the order they ended, and the kernel's table at a "
				"later exit (a socket's final state) is not given for them\n", hold, chrome_retired,
			sh->nports ? "the events of each port as their socket ended" : "each event as it came");
	if (!rc && fn == show_mermaid && m->socks_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu sockets that had ended "
				"were let go as they ended, the first connections in time order kept to draw; "
				"the kernel's table at a later exit is not matched to them (the bytes of the data "
				"note)%s\n", hold, m->socks_retired, mermaid_renumbered ?
				"; the connections are numbered in the order they ended (--pid or --port left "
				"some out)" : "");
	if (!rc && fn == show_connections && m->conns_retired)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold): %zu connections that had "
				"ended were printed as they ended, numbered in that order; the kernel's table at a later "
				"exit (state_at_exit, and the final state and bytes it tells) is not given for them\n",
			hold, m->conns_retired);
	if (!oom)
		st_untraced_each_of(said, nsaid, warn_untraced, sh);
	if (fflush(sh->out) || ferror(sh->out)) {
		if (errno != EPIPE)
			fprintf(stderr, "socktrace: show: writing the output: %s\n", strerror(errno));
		rc = rc ? rc : 1;
	}
	if (!rc && t->bad)
		rc = 2;
	/* a --pid or --port that named nothing of what was read is no fact
	 * about the traces when a signal stopped the reading */
	if (!stop_signal && say_unmatched(sh) && !rc)
		rc = 1;
	rc = stopped_status(rc, false);
done:
	strict_close(&st);
	free(said);
	st_model_free(m);
	st_trace_free(t);
	free(m);
	free(t);
	sh->model = NULL;
	sh->trace = NULL;
	return rc;
}

/* text and json as the events come: read, merged by time through the
 * window, rendered and freed one at a time (stream.h).  SIGINT and
 * SIGTERM end it cleanly: what is held is rendered; with follow, the
 * status is the input's, else 128 + the signal (stopped_status).
 * strict (not with follow): the first bad line ends it, the window holds
 * up to hold events as for the formats that build the model, and a
 * retiring model of its own (past hold events) tells whether the trace
 * is the whole program; the output is shown only then (struct strict). */
static int show_streamed(struct show *sh, char *const *paths, int n, bool json, bool follow,
			 int64_t window_us, size_t hold, bool strict)
{
	struct st_stream_opts o = { window_us, strict, follow, sh->out, strict ? NULL : &stop_signal,
				    strict ? hold : 0 };
	struct sigaction old_int, old_term;
	struct st_trace t;
	struct st_stream *s;
	struct show_line b = { NULL, 0 };
	struct st_rec *r;
	bool first = true, oom = false, opened;
	int rc = 0;
	/* --strict: the model, and the events st_untraced_each_of needs */
	struct strict st = { NULL };
	struct st_retire rt = { hold, 250000, NULL, NULL, NULL, NULL };
	struct st_model *m = NULL;
	const struct st_rec **said = NULL;
	size_t nsaid = 0, capsaid = 0;

	memset(&t, 0, sizeof(t));
	if (strict) {
		if (strict_open(&st))
			return 2;
		o.flush = sh->out = st.tmp;
		strict_retire(&st, &rt);
		if (!(m = calloc(1, sizeof(*m))) || st_model_begin(m) < 0 || st_model_retiring(m, &rt) < 0) {
			if (m)
				st_model_free(m);
			free(m);
			strict_close(&st);
			fprintf(stderr, "socktrace: show: out of memory\n");
			return 2;
		}
	} else {
		catch_stops(&old_int, &old_term);
	}
	s = st_stream_open(&t, paths, n, &o);
	opened = s != NULL;
	while (s && (r = st_stream_next(s))) {
		if (first) {
			sh->tz_offset = local_offset(r->ev.ts_us);
			st_render_set_tz(sh->tz_offset);
			first = false;
		}
		show_filters_seen(sh, r);
		if (show_keep_rec(sh, r))
			rc = show_event(sh, &b, r, json);
		if (!m) {
			st_rec_free(r);
		} else {
			oom = st_model_feed(m, r) < 0;
			if (!oom && st_untraced_matters(r))
				oom = !st_model_keep_in(m, &said, &nsaid, &capsaid, r);
			m->ahead = st_stream_held(s);
			oom = st_model_release(m, r) < 0 || oom;
		}
		if (rc || oom || ferror(sh->out))
			break;
	}
	if (m && !oom && opened && !t.fatal)
		oom = st_model_finish(m) < 0;
	if (oom) {
		fprintf(stderr, "socktrace: show: out of memory\n");
		rc = 2;
	}
	if (!s || t.fatal)
		rc = 2;
	/* --strict: the whole program or nothing, once the stream is closed
	 * (the events missing from the trace are known then) */
	if (strict) {
		st_stream_close(s);
		s = NULL;
		sh->trace = &t;
		sh->model = m;
		fflush(st.tmp);	/* a write that fails is said below */
		if (!rc || (opened && !oom && (t.fatal || ferror(st.tmp)))) {
			rc = strict_verdict(sh, &st, said, nsaid);
			if (!rc)
				rc = strict_copy(&st);
		}
		sh->out = stdout;
		sh->trace = NULL;
		sh->model = NULL;
		if (rc)
			goto done;
	}
	if (fflush(sh->out) || ferror(sh->out)) {
		if (errno != EPIPE)
			fprintf(stderr, "socktrace: show: writing the output: %s\n", strerror(errno));
		rc = rc ? rc : 1;
	}
	st_stream_close(s);
	if (!strict)
		restore_stops(&old_int, &old_term);
	if (!rc && t.bad)
		rc = 2;
	/* a --pid or --port that named nothing of what was read is no fact
	 * about the traces when a signal stopped the reading */
	if ((!stop_signal || follow) && say_unmatched(sh) && !rc)
		rc = 1;
	rc = stopped_status(rc, follow);
done:
	show_line_free(&b);
	strict_close(&st);
	free(said);
	if (m)
		st_model_free(m);
	free(m);
	st_trace_free(&t);
	return rc;
}

/* --port as a stream: the retiring model's wait (trace time) from a
 * socket's end to its retirement (st_retire.after_us, as show_retiring's) */
#define PORT_ENDED_US 250000

static void port_retired(void *arg, const struct st_model *m, const struct st_msock *s)
{
	(void)m;
	show_port_retired(arg, s);
}

/* the events read and not yet printed or left out, in the stream's order:
 * a ring that grows */
struct port_queue {
	struct st_rec **v;
	size_t cap, head, n;
};

static bool port_queue_push(struct port_queue *q, struct st_rec *r)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 1024;
		struct st_rec **v = malloc(cap * sizeof(*v));

		if (!v)
			return false;
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->n++) % q->cap] = r;
	return true;
}

/* Prints (or leaves out) the events at the head of q whose --port verdict
 * is known, in order; past hold events held (hold: --hold, and at least
 * the stream's ST_STREAM_HOLD_MAX, as the window), or at the end, the
 * head's is what is known now (each decided so while its socket could
 * still change it counted in *guessed).  0, or 2 when out of memory. */
static int port_drain(struct show *sh, struct st_model *m, struct port_queue *q, struct show_line *b, bool json,
		      size_t hold, bool end, size_t *guessed)
{
	int rc = 0;

	while (q->n && !rc) {
		struct st_rec *r = q->v[q->head];
		enum show_port v = show_port_verdict(sh, m, r, false);

		if (v == SHOW_PORT_WAIT) {
			if (!end && q->n <= hold)
				break;
			if (!end)
				(*guessed)++;
			v = show_port_verdict(sh, m, r, true);
		}
		show_filters_seen(sh, r);
		if (v == SHOW_PORT_YES)
			rc = show_event(sh, b, r, json);
		q->head = (q->head + 1) % q->cap;
		q->n--;
		st_model_let_go(m, r);
	}
	return rc;
}

/* text and json with --port as the events come: each is fed to a retiring
 * model, that knows its socket; one whose socket may still get a --port
 * value (it is not yet bound, connected or accepted, nor ended) is held,
 * with every later one behind it to keep the order, until it is known;
 * past hold events held (and 8192), what is known decides (said once, at
 * the end).
 * The events printed are those the whole trace's model keeps, in its
 * order.  strict (not with follow): the first bad line ends it, and the
 * output is shown only once the trace is known to be the whole program
 * (struct strict), as show_streamed's. */
static int show_port_streamed(struct show *sh, char *const *paths, int n, bool json, bool follow,
			      int64_t window_us, size_t hold, bool strict)
{
	struct st_stream_opts o = { window_us, strict, follow, sh->out, strict ? NULL : &stop_signal, hold };
	struct st_retire rt = { hold, PORT_ENDED_US, port_retired, NULL, NULL, sh };
	struct strict st = { NULL };
	size_t held_max = hold > ST_STREAM_HOLD_MAX ? hold : ST_STREAM_HOLD_MAX;
	struct sigaction old_int, old_term;
	struct st_model *m = calloc(1, sizeof(*m));
	struct st_trace *t = calloc(1, sizeof(*t));
	struct port_queue q = { NULL, 0, 0, 0 };
	struct show_line b = { NULL, 0 };
	struct st_stream *s;
	struct st_rec *r;
	const struct st_rec **said = NULL;
	size_t nsaid = 0, capsaid = 0, guessed = 0;
	bool first = true, oom = false, opened;
	int rc = 0;

	if (strict && strict_open(&st)) {
		free(m);
		free(t);
		return 2;
	}
	if (strict) {
		o.flush = sh->out = st.tmp;
		strict_retire(&st, &rt);
	}
	if (!m || !t || st_model_begin(m) < 0 || st_model_retiring(m, &rt) < 0) {
		if (m)
			st_model_free(m);
		free(m);
		free(t);
		strict_close(&st);
		sh->out = stdout;
		fprintf(stderr, "socktrace: show: out of memory\n");
		return 2;
	}
	sh->trace = t;
	sh->model = m;
	if (!strict)
		catch_stops(&old_int, &old_term);
	s = st_stream_open(t, paths, n, &o);
	opened = s != NULL;
	while (s && !oom && !rc && (r = st_stream_next(s))) {
		if (first) {
			sh->tz_offset = local_offset(r->ev.ts_us);
			st_render_set_tz(sh->tz_offset);
			first = false;
		}
		oom = st_model_feed(m, r) < 0;
		show_filters_seen(sh, r);
		if (!oom && st_untraced_matters(r))
			oom = !st_model_keep_in(m, &said, &nsaid, &capsaid, r);
		st_model_take(m, r);
		if (!port_queue_push(&q, r)) {
			st_model_let_go(m, r);
			oom = true;
		}
		m->ahead = st_stream_held(s);
		oom = st_model_release(m, r) < 0 || oom;
		if (!oom)
			rc = port_drain(sh, m, &q, &b, json, held_max, false, &guessed);
		if (ferror(sh->out))
			break;
	}
	if (!oom && !rc && s && !t->fatal)
		oom = st_model_finish(m) < 0;
	if (!oom && !rc && !ferror(sh->out))
		rc = port_drain(sh, m, &q, &b, json, held_max, true, &guessed);
	if (oom) {
		fprintf(stderr, "socktrace: show: out of memory\n");
		rc = 2;
	}
	if (!s || t->fatal)
		rc = 2;
	/* --strict: the whole program or nothing, once the stream is closed
	 * (the events missing from the trace are known then) */
	if (strict) {
		st_stream_close(s);
		s = NULL;
		fflush(st.tmp);	/* a write that fails is said below */
		if (!rc || (opened && !oom && (t->fatal || ferror(st.tmp)))) {
			rc = strict_verdict(sh, &st, said, nsaid);
			if (!rc)
				rc = strict_copy(&st);
		}
		sh->out = stdout;
		if (rc)
			goto done;
	}
	if (fflush(sh->out) || ferror(sh->out)) {
		if (errno != EPIPE)
			fprintf(stderr, "socktrace: show: writing the output: %s\n", strerror(errno));
		rc = rc ? rc : 1;
	}
	st_stream_close(s);
	if (!strict)
		restore_stops(&old_int, &old_term);
	if (!rc && guessed)
		fprintf(stderr, "socktrace: show: more than %zu events were held (--hold) waiting for their sockets' "
				"ports (--port): %zu of them were shown or left out by what was known of their "
				"sockets then; a larger --hold decides them as the whole trace does\n", held_max,
			guessed);
	if (!oom)
		st_untraced_each_of(said, nsaid, warn_untraced, sh);
	if (!rc && t->bad)
		rc = 2;
	/* a --pid or --port that named nothing of what was read is no fact
	 * about the traces when a signal stopped the reading */
	if ((!stop_signal || follow) && say_unmatched(sh) && !rc)
		rc = 1;
	rc = stopped_status(rc, follow);
done:
	strict_close(&st);
	while (q.n) {	/* what an error left unread */
		st_model_let_go(m, q.v[q.head]);
		q.head = (q.head + 1) % q.cap;
		q.n--;
	}
	free(q.v);
	free(said);
	show_line_free(&b);
	st_model_free(m);
	st_trace_free(t);
	free(m);
	free(t);
	sh->model = NULL;
	sh->trace = NULL;
	return rc;
}

int st_cmd_show(int argc, char **argv)
{
	enum { OPT_COLOR = 256, OPT_PID, OPT_PORT, OPT_STRICT, OPT_UTC, OPT_FOLLOW, OPT_WINDOW, OPT_HOLD };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "utc", no_argument, NULL, OPT_UTC },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show sh = { .out = stdout };
	int (*fn)(struct show *) = show_text;
	const char *color = "auto";
	bool strict = false, follow = false;
	long window_ms = ST_STREAM_WINDOW_US / 1000, hold = SHOW_HOLD_EVENTS;
	int opt;
	long v;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fn = NULL;
			for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (!strcmp(optarg, formats[i].name))
					fn = formats[i].fn;
			if (!fn)
				return usage_error("unknown format '%s' (text, timeline, summary, "
						   "lifecycle, json, mermaid, connections, chrome)", optarg);
			break;
		case OPT_COLOR:
			color = optarg ? optarg : "always";
			if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
				return usage_error("--color is auto, always or never, not '%s'", color);
			break;
		case OPT_PID:
			if (sh.npids == SHOW_MAX_FILTERS)
				return usage_error("more than %s --pid values", MAX_FILTERS_WORD);
			if (!st_cli_number(optarg, 1, INT_MAX, &v))
				return usage_error("bad --pid '%s' (a process id, 1-2147483647)", optarg);
			sh.pids[sh.npids++] = v;
			break;
		case OPT_PORT:
			if (sh.nports == SHOW_MAX_FILTERS)
				return usage_error("more than %s --port values", MAX_FILTERS_WORD);
			if (!st_cli_number(optarg, 0, 65535, &v))
				return usage_error("bad --port '%s' (0-65535)", optarg);
			sh.ports[sh.nports++] = (int)v;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_UTC:
			sh.utc = true;
			break;
		case OPT_FOLLOW:
			follow = true;
			break;
		case OPT_WINDOW:
			if (!st_cli_number(optarg, 0, 3600000, &window_ms))
				return usage_error("bad --window '%s' (milliseconds, 0-3600000)", optarg);
			break;
		case OPT_HOLD:
			if (!st_cli_number(optarg, 1, 1000000000, &hold))
				return usage_error("bad --hold '%s' (events, 1-1000000000)", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return usage_error("unknown option '-%s'", (char[]){ (char)optopt, 0 });
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		if (!argv[i][0])
			return usage_error("%s", "a trace's name is empty");
	if (!strcmp(color, "always"))
		sh.color = true;
	else if (!strcmp(color, "auto")) {
		const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");

		/* no-color.org: NO_COLOR set and not empty */
		sh.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) && term && strcmp(term, "dumb");
	}

	/* the per-event formats stream; with --port each event waits for its
	 * socket's ports (a model); --strict streams into a temporary file,
	 * shown once the trace is known whole (struct strict) */
	if ((fn == show_text || fn == show_json) && !sh.nports && !(strict && follow))
		return show_streamed(&sh, argv + optind, argc - optind, fn == show_json, follow,
				     (int64_t)window_ms * 1000, (size_t)hold, strict);
	if ((fn == show_text || fn == show_json) && !(strict && follow))
		return show_port_streamed(&sh, argv + optind, argc - optind, fn == show_json, follow,
					  (int64_t)window_ms * 1000, (size_t)hold, strict);
	if (follow)
		return usage_error("%s", "--follow is for -f text and -f json, without --strict");
	/* the formats of the model: each socket rendered (or counted) as the
	 * model lets go of it */
	return show_retiring(&sh, fn, argv + optind, argc - optind, (int64_t)window_ms * 1000, (size_t)hold,
			     strict);
}
