/* SPDX-License-Identifier: MIT */
/* fmt_lifecycle.c - `show -f lifecycle`: one line per socket.
 *
 *   pid=4242 fd=3 tcp 0.0.0.0:8080 socket setsockopt(SO_REUSEADDR) bind listen accept×3 close
 *
 * Owns: the words for a socket's calls, repeats collapsed as ×N.  The line
 * must stay stable: tests and scripts compare it.  No times, no durations.
 * Every string of the trace in it is escaped (show_esc), in the words too,
 * so that `check --expect` compares the text `show` prints.
 */
#include "show.h"

#include <inttypes.h>
#include <string.h>

struct words {
	char *buf;
	size_t n, len;
	char last[160];
	unsigned repeat;
};

static void flush_word(struct words *w)
{
	if (!w->repeat)
		return;
	if (w->repeat > 1)
		w->len += (size_t)snprintf(w->buf + w->len, w->len < w->n ? w->n - w->len : 0,
					   "%s%s×%u", w->len ? " " : "", w->last, w->repeat);
	else
		w->len += (size_t)snprintf(w->buf + w->len, w->len < w->n ? w->n - w->len : 0,
					   "%s%s", w->len ? " " : "", w->last);
	if (w->len >= w->n)
		w->len = w->n - 1;
	w->repeat = 0;
}

static void word(struct words *w, const char *s)
{
	if (w->repeat && !strcmp(w->last, s)) {
		w->repeat++;
		return;
	}
	flush_word(w);
	snprintf(w->last, sizeof(w->last), "%s", s);
	w->repeat = 1;
}

/* "setsockopt(SO_REUSEADDR)", "bind(EADDRINUSE)", "close(5)" ... */
static void rec_word(const struct st_msock *s, const struct st_rec *r, char *out, size_t n)
{
	const struct st_event *ev = &r->ev;
	enum st_call c = ev->call;
	char detail[96] = "";
	size_t len;

	if (st_call_is(c, ST_K_OPT)) {
		const char *name = ev->optname ? show_esc(ev->optname) : "?";
		if (ev->so_error)
			snprintf(detail, sizeof(detail), "%s=%s", name, show_esc(ev->so_error));
		else if (ev->has_optlinger)
			snprintf(detail, sizeof(detail), ev->optlinger_onoff ? "%s=%d" : "%s=off",
				 name, ev->optlinger_secs);
		else if (ev->has_optval && ev->optval != 1)
			snprintf(detail, sizeof(detail), "%s=%" PRId64, name, ev->optval);
		else
			snprintf(detail, sizeof(detail), "%s", name);
	} else if (c == ST_CALL_shutdown) {
		snprintf(detail, sizeof(detail), "%s", ev->how ? show_esc(ev->how) : "?");
	} else if (st_call_is(c, ST_K_DUP)) {
		if (ev->implicit_close)
			snprintf(detail, sizeof(detail), "replaced %d", ev->fd);
		else if (!ev->err)
			snprintf(detail, sizeof(detail), "%s%" PRId64, ev->cmd ? "F_DUPFD " : "",
				 ev->newfd >= 0 ? (int64_t)ev->newfd : ev->ret);
	} else if (st_call_is(c, ST_K_CLOSE)) {
		if (r->ev.fd >= 0 && r->ev.fd != s->fd)
			snprintf(detail, sizeof(detail), "%d", r->ev.fd);
	}
	/* the listener's accepts and the accepted socket's birth read alike */
	len = (size_t)snprintf(out, n, "%s", st_call_name(c));
	if (detail[0] || ev->err)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "(%s%s%s)", detail,
					detail[0] && ev->err ? "," : "", ev->err ? show_esc(ev->err) : "");
	if (ev->pid != s->pid && len < n)
		snprintf(out + len, n - len, "@%" PRId64, ev->pid);
}

void show_lifecycle_words(const struct show *sh, const struct st_msock *s, char *buf, size_t n)
{
	struct words w = { buf, n, 0, "", 0 };
	char tok[200];

	(void)sh;
	buf[0] = '\0';
	if (s->inherited)
		word(&w, "(inherited)");
	else if (s->received && !s->made)
		word(&w, "(received)");
	for (size_t i = 0; i < s->nevs; i++) {
		rec_word(s, s->evs[i], tok, sizeof(tok));
		word(&w, tok);
	}
	if (st_msock_leaked(s)) {
		/* held to its exit by a process (the one named first, whatever
		 * the order of the exits); its end may still be a later close
		 * by another holder, which its events say */
		int64_t lk = st_msock_leaker(s);
		if (lk >= 0 && lk != s->pid) {
			snprintf(tok, sizeof(tok), "(open at exit@%" PRId64 ")", lk);
			word(&w, tok);
		} else {
			word(&w, "(open at exit)");
		}
		if (s->end == ST_END_EXIT) {
			flush_word(&w);
			return;
		}
	}
	switch (s->end) {
	case ST_END_OPEN:
		word(&w, "(open at end of trace)");
		break;
	case ST_END_EXIT:
		if (s->handed && s->end_pid >= 0) {
			snprintf(tok, sizeof(tok), "(handed over, open at exit@%" PRId64 ")", s->end_pid);
			word(&w, tok);
		} else if (s->end_pid >= 0 && s->end_pid != s->pid) {
			snprintf(tok, sizeof(tok), "(open at exit@%" PRId64 ")", s->end_pid);
			word(&w, tok);
		} else {
			word(&w, "(open at exit)");
		}
		break;
	case ST_END_KILLED:
		if (s->end_pid != s->pid)
			snprintf(tok, sizeof(tok), "(open when %s killed it@%" PRId64 ")",
				 s->end_rec && s->end_rec->ev.signal ? show_esc(s->end_rec->ev.signal) : "a signal",
				 s->end_pid);
		else
			snprintf(tok, sizeof(tok), "(open when %s killed it)",
				 s->end_rec && s->end_rec->ev.signal ? show_esc(s->end_rec->ev.signal) : "a signal");
		word(&w, tok);
		break;
	case ST_END_ELSEWHERE:
		word(&w, "(still held by another process)");
		break;
	case ST_END_UNTRACED:
		snprintf(tok, sizeof(tok), "(held by an untraced program at its end@%" PRId64 ")", s->end_pid);
		word(&w, tok);
		break;
	case ST_END_EXEC:
	case ST_END_UNSEEN:
	case ST_END_CLOSED:
		break;	/* their event says it: exec, gone, close... */
	}
	flush_word(&w);
}

void show_lifecycle_sock(struct show *sh, const struct st_msock *s)
{
	static char line[65536];
	const char *local = st_msock_local(s), *remote = st_msock_remote(s);

	if (!show_keep_sock(sh, s))
		return;
	show_lifecycle_words(sh, s, line, sizeof(line));
	fprintf(sh->out, "pid=%" PRId64 " fd=%d %s", s->pid, s->fd, show_esc(st_msock_kind(s)));
	if (local[0])
		fprintf(sh->out, " %s", show_esc(local));
	if (remote[0])
		fprintf(sh->out, " -> %s", show_esc(remote));
	fprintf(sh->out, " %s\n", line);
}

int show_lifecycle(struct show *sh)
{
	const struct st_model *m = sh->model;

	for (size_t i = 0; i < m->nsocks; i++)
		show_lifecycle_sock(sh, m->socks[i]);
	return 0;
}
