/* SPDX-License-Identifier: MIT */
/* fmt_timeline.c - `show -f timeline`: one block per connection and per
 * listener, in time order, with handshake, life, teardown and a ladder.
 *
 * Owns: putting the model's connections into words a person can check
 * against the TCP state diagram.  Says only what the events show: a side
 * that was not traced is named as such, never guessed.
 */
#define _GNU_SOURCE
#include "show.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

enum block_kind { B_LISTENER, B_CONN, B_OTHER };

struct block {
	int64_t t;
	enum block_kind kind;
	const void *p;
	size_t order;
};

static int by_time(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void who(const struct show *sh, const struct st_msock *s, char *buf, size_t n)
{
	char comm[64];
	const char *c = show_sock_comm(sh, s, comm, sizeof(comm));

	snprintf(buf, n, "pid %" PRId64 " fd %d%s%s%s", s->pid, s->fd, c ? " (" : "", c ? c : "",
		 c ? ")" : "");
}

static const char *errdesc(const char *err)
{
	const char *d = err ? st_errno_desc(err) : NULL;
	return d ? d : "";
}

/* ---- the ladder ------------------------------------------------------- */

#define LADDER_W 32

enum dir { D_NONE, D_RIGHT, D_LEFT };

static void row(const struct show *sh, const char *left, enum dir d, const char *msg,
		const char *right)
{
	char arrow[LADDER_W + 1];
	size_t m = strlen(msg), pad;

	memset(arrow, d == D_NONE ? ' ' : '-', LADDER_W);
	arrow[LADDER_W] = '\0';
	if (m > LADDER_W - 4)
		m = LADDER_W - 4;
	pad = (LADDER_W - m) / 2;
	if (m) {
		arrow[pad - 1] = ' ';
		memcpy(arrow + pad, msg, m);
		arrow[pad + m] = ' ';
	}
	if (d == D_RIGHT)
		arrow[LADDER_W - 1] = '>';
	else if (d == D_LEFT)
		arrow[0] = '<';
	fprintf(sh->out, "  %24s |%s|%s%s\n", left, arrow, right[0] ? " " : "", right);
}

static void state_label(char *buf, size_t n, const char *call, const char *state)
{
	snprintf(buf, n, "%s%s%s", call ? call : "", call && state ? " " : "", state ? state : "");
}

static const char *teardown_call(const struct st_rec *t)
{
	if (!t)
		return NULL;
	if (t->ev.call == ST_CALL_shutdown)
		return "shutdown()";
	if (t->ev.call == ST_CALL_close)
		return "close()";
	return st_call_name(t->ev.call);
}

static void ladder(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	char l[96], r[96], hdr_l[160], hdr_r[160], data[96], a[32], b[32];
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;

	snprintf(hdr_l, sizeof(hdr_l), "client %s%s", c->caddr[0] ? show_esc(c->caddr) : "?",
		 cl ? "" : " (not traced)");
	snprintf(hdr_r, sizeof(hdr_r), "server %s%s", c->saddr[0] ? show_esc(c->saddr) : "?",
		 sv ? "" : c->queued_on ? " (never accepted)" : " (not traced)");
	fprintf(sh->out, "\n  %24s  %*s  %s\n", hdr_l, LADDER_W, "", hdr_r);

	/* handshake */
	if (cl && cl->connect_failed) {
		row(sh, "connect() SYN_SENT", D_RIGHT, "SYN", "");
		if (!strcmp(c->failure, "ECONNREFUSED")) {
			row(sh, "CLOSED", D_LEFT, "RST", "");
			row(sh, "ECONNREFUSED", D_NONE, "", "");
		} else if (!strcmp(c->failure, "ETIMEDOUT")) {
			row(sh, "", D_RIGHT, "SYN (retry)", "");
			row(sh, "ETIMEDOUT", D_NONE, "(no answer)", "");
		} else {
			row(sh, show_esc(c->failure), D_NONE, "", "");
		}
		return;
	}
	if (cl && !c->established) {
		row(sh, "connect() SYN_SENT", D_RIGHT, "SYN", "");
		row(sh, "", D_NONE, "(never seen established)", "");
		return;
	}
	row(sh, cl ? "connect() SYN_SENT" : "SYN_SENT", D_RIGHT, "SYN", sv ? "LISTEN" : "");
	row(sh, "", D_LEFT, "SYN-ACK", sv ? "SYN_RECV" : "");
	row(sh, "ESTABLISHED", D_RIGHT, "ACK", sv ? "ESTABLISHED" : "");
	if (sv)
		row(sh, "", D_NONE, "", "accept()");

	/* life */
	{
		const struct st_rec *t = cl && cl->tcp_rec ? cl->tcp_rec : sv ? sv->tcp_rec : NULL;
		if (t) {
			bool from_client = cl && t == cl->tcp_rec;
			uint64_t sent, received;
			st_msock_data(from_client ? cl : sv, t, &sent, &received);
			show_bytes(a, sizeof(a), from_client ? sent : received);
			show_bytes(b, sizeof(b), from_client ? received : sent);
			snprintf(data, sizeof(data), "%s >", a);
			row(sh, "", D_NONE, data, "");
			snprintf(data, sizeof(data), "< %s", b);
			row(sh, "", D_NONE, data, "");
		} else {
			row(sh, "", D_NONE, "...", "");
		}
	}

	/* teardown */
	if (c->reset) {
		bool by_client = c->reset_by == cl;
		const char *call = "close()";
		if (c->fin_before_reset) {
			/* a FIN came first: drawn before the RST */
			bool fc = c->fin_by == cl;
			if (fc) {
				state_label(l, sizeof(l), teardown_call(c->fin_before_reset), "FIN_WAIT1");
				row(sh, l, D_RIGHT, "FIN", sv ? "CLOSE_WAIT" : "");
				row(sh, "FIN_WAIT2", D_LEFT, "ACK", "");
			} else {
				state_label(r, sizeof(r), teardown_call(c->fin_before_reset), "FIN_WAIT1");
				row(sh, cl ? "CLOSE_WAIT" : "", D_LEFT, "FIN", r);
				row(sh, "", D_RIGHT, "ACK", sv ? "FIN_WAIT2" : "");
			}
		}
		if (by_client) {
			row(sh, "close() CLOSED", D_RIGHT, "RST", sv ? "CLOSED" : "");
		} else {
			row(sh, "", D_LEFT, "RST", "close() CLOSED");
			if (cl && tc)
				row(sh, call, D_NONE, "", "");
		}
		return;
	}
	if (c->queued_on) {
		/* nobody accepted it: the server end waits in the queue until
		 * the listener's end resets it */
		bool ended = c->queued_on->end != ST_END_OPEN && c->queued_on->end != ST_END_ELSEWHERE;
		if (c->queue_reset) {
			row(sh, "CLOSED", D_LEFT, "RST", "(listener closed)");
			if (tc)
				row(sh, teardown_call(tc), D_NONE, "", "");
			return;
		}
		if (tc) {
			state_label(l, sizeof(l), teardown_call(tc), "FIN_WAIT1");
			row(sh, l, D_RIGHT, "FIN", "CLOSE_WAIT");
			row(sh, "FIN_WAIT2", D_LEFT, "ACK", "");
		}
		if (ended)
			row(sh, "CLOSED", D_LEFT, "RST", "(listener closed)");
		return;
	}
	switch (c->closer) {
	case ST_CLOSER_CLIENT:
		state_label(l, sizeof(l), teardown_call(tc), "FIN_WAIT1");
		row(sh, l, D_RIGHT, "FIN", sv ? "CLOSE_WAIT" : "");
		row(sh, "FIN_WAIT2", D_LEFT, "ACK", "");
		state_label(r, sizeof(r), ts ? teardown_call(ts) : NULL, sv ? "LAST_ACK" : NULL);
		if (ts || !sv)
			row(sh, "TIME_WAIT", D_LEFT, "FIN", r);
		else
			row(sh, "", D_NONE, "", "(not closed)");
		if (ts || !sv)
			row(sh, "", D_RIGHT, "ACK", sv ? "CLOSED" : "");
		break;
	case ST_CLOSER_SERVER:
		state_label(r, sizeof(r), teardown_call(ts), sv ? "FIN_WAIT1" : NULL);
		row(sh, cl ? "CLOSE_WAIT" : "", D_LEFT, "FIN", r);
		row(sh, "", D_RIGHT, "ACK", sv ? "FIN_WAIT2" : "");
		state_label(l, sizeof(l), tc ? teardown_call(tc) : NULL, cl ? "LAST_ACK" : NULL);
		if (tc || !cl) {
			row(sh, l, D_RIGHT, "FIN", sv ? "TIME_WAIT" : "");
			row(sh, cl ? "CLOSED" : "", D_LEFT, "ACK", "");
		} else {
			row(sh, "(not closed)", D_NONE, "", "");
		}
		break;
	case ST_CLOSER_BOTH:
		state_label(l, sizeof(l), teardown_call(tc), "FIN_WAIT1");
		state_label(r, sizeof(r), teardown_call(ts), "FIN_WAIT1");
		row(sh, l, D_RIGHT, "FIN", r);
		row(sh, "CLOSING", D_LEFT, "FIN", "CLOSING");
		row(sh, "TIME_WAIT", D_NONE, "ACK  ACK", "TIME_WAIT");
		break;
	case ST_CLOSER_UNKNOWN:
		state_label(l, sizeof(l), teardown_call(tc), NULL);
		state_label(r, sizeof(r), teardown_call(ts), NULL);
		row(sh, l, D_NONE, "FIN (order unknown)", r);
		break;
	case ST_CLOSER_NONE:
		row(sh, "", D_NONE, "(not closed in the trace)", "");
		break;
	}
}

/* ---- connection blocks ------------------------------------------------ */

static void side_line(const struct show *sh, const char *role, const struct st_msock *s)
{
	char w[160], t[32];

	who(sh, s, w, sizeof(w));
	fprintf(sh->out, "  %-10s %s %s", role, w, s->local[0] ? show_esc(s->local) : "(unnamed)");
	if (s->listener)
		fprintf(sh->out, ", accepted on fd %d (listening on %s)", s->listener->fd,
			s->listener->local[0] ? show_esc(s->listener->local) : "?");
	if (s->made) {
		show_reltime(sh, t, sizeof(t), s->t_first);
		fprintf(sh->out, ", made %s", t);
	} else if (s->inherited) {
		fprintf(sh->out, ", inherited");
	}
	fputc('\n', sh->out);
}

static void handshake(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	char t[32], d[32], rtt[48] = "";
	const struct st_rec *tcp = cl && cl->tcp_rec ? cl->tcp_rec : sv ? sv->tcp_rec : NULL;

	if (tcp && tcp->ev.tcp.rtt_us) {
		char x[32];
		show_dur(x, sizeof(x), tcp->ev.tcp.rtt_us);
		snprintf(rtt, sizeof(rtt), ", rtt %s", x);
	}
	if (cl && cl->connect) {
		const struct st_rec *k = cl->connect;
		show_reltime(sh, t, sizeof(t), k->ev.ts_us);
		show_dur(d, sizeof(d), k->ev.dur_ns >= 0 ? k->ev.dur_ns / 1000 : -1);
		if (c->failure && k->ev.err && !strcmp(k->ev.err, c->failure)) {
			fprintf(sh->out, "  %-10s %s%s connect() to %s failed after %s: %s (%s)%s\n",
				"handshake", show_c(sh, SHOW_RED), t, show_esc(c->saddr), d,
				show_esc(c->failure), errdesc(c->failure), show_c(sh, SHOW_OFF));
			if (!strcmp(c->failure, "ECONNREFUSED"))
				fprintf(sh->out, "  %-10s refused: nothing listened on %s, the SYN was "
					"answered with RST\n", "", show_esc(c->saddr));
			else if (!strcmp(c->failure, "ETIMEDOUT"))
				fprintf(sh->out, "  %-10s timed out: no answer to SYN from %s\n", "",
					show_esc(c->saddr));
			return;
		}
		if (k->ev.err && (!strcmp(k->ev.err, "EINPROGRESS") || !strcmp(k->ev.err, "EINTR"))) {
			/* the kernel goes on with the handshake either way */
			if (!strcmp(k->ev.err, "EINTR"))
				fprintf(sh->out, "  %-10s %s connect() to %s: EINTR after %s (a signal), "
					"SYN_SENT\n", "handshake", t, show_esc(c->saddr), d);
			else
				fprintf(sh->out, "  %-10s %s non-blocking connect() to %s: EINPROGRESS, "
					"SYN_SENT\n", "handshake", t, show_esc(c->saddr));
			if (c->failure) {
				show_reltime(sh, t, sizeof(t), cl->t_end);
				fprintf(sh->out, "  %-10s %sfailed: %s (%s)%s\n", "",
					show_c(sh, SHOW_RED), show_esc(c->failure), errdesc(c->failure),
					show_c(sh, SHOW_OFF));
				if (!strcmp(c->failure, "ECONNREFUSED"))
					fprintf(sh->out, "  %-10s refused: nothing listened on %s, the "
						"SYN was answered with RST\n", "", show_esc(c->saddr));
				return;
			}
			if (cl->connected) {
				show_reltime(sh, t, sizeof(t), cl->connected->ev.ts_us);
				show_dur(d, sizeof(d), cl->connected->ev.ts_us - k->ev.ts_us);
				fprintf(sh->out, "  %-10s %s seen ESTABLISHED at %s() (within %s)%s\n", "",
					t, st_call_name(cl->connected->ev.call), d, rtt);
			} else if (!sv) {
				fprintf(sh->out, "  %-10s never seen established\n", "");
			}
		} else {
			fprintf(sh->out, "  %-10s %s connect() to %s: SYN_SENT -> %s, blocked %s%s\n",
				"handshake", t, show_esc(c->saddr), k->ev.state ? show_esc(k->ev.state) : "ESTABLISHED",
				d, rtt);
		}
		rtt[0] = '\0';
	}
	if (sv && sv->made) {
		const struct st_rec *k = sv->made;
		show_reltime(sh, t, sizeof(t), st_rec_end_us(k));
		/* a connection the peer closed while it waited in the queue comes
		 * out of accept() in CLOSE_WAIT */
		fprintf(sh->out, "  %-10s %s accept() on fd %d returned fd %d (%s)", cl ? "" :
			"handshake", t, k->ev.listen_fd, sv->fd, k->ev.state ? show_esc(k->ev.state) : "ESTABLISHED");
		if (cl && cl->connect) {
			int64_t gap = st_rec_end_us(k) - cl->connect->ev.ts_us;
			show_dur(d, sizeof(d), gap < 0 ? -gap : gap);
			fprintf(sh->out, ", %s %s connect()", d, gap < 0 ? "before" : "after");
		}
		fprintf(sh->out, "%s\n", rtt);
	}
}

/* the counters an end left at its end: those of a close that did not end
 * it (another process held a copy) are not the connection's */
static const struct st_rec *final_tcp(const struct st_msock *s)
{
	return s && s->tcp_final ? s->tcp_rec : NULL;
}

static void bytes_line(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	const struct st_rec *tcl = final_tcp(cl), *tsv = final_tcp(sv);
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;
	int64_t end = tc ? tc->ev.ts_us : -1;
	char life[32], a[32], b[32];

	if (ts && (end < 0 || ts->ev.ts_us < end))
		end = ts->ev.ts_us;
	if (end >= 0)
		show_dur(life, sizeof(life), end - c->t_start);
	else
		snprintf(life, sizeof(life), "open to the end of the trace");
	fprintf(sh->out, "  %-10s %s", "life", life);
	if (tcl || tsv) {
		uint64_t up, down;
		if (tcl)
			st_msock_data(cl, tcl, &up, &down);
		else
			st_msock_data(sv, tsv, &down, &up);
		show_bytes(a, sizeof(a), up);
		show_bytes(b, sizeof(b), down);
		fprintf(sh->out, "; client sent %s, received %s", a, b);
	}
	if (tcl || tsv) {
		uint64_t re = (tcl ? tcl->ev.tcp.total_retrans : 0) +
			      (tsv ? tsv->ev.tcp.total_retrans : 0);
		fprintf(sh->out, "; %" PRIu64 " retransmit%s", re, re == 1 ? "" : "s");
	} else if ((cl && cl->tcp_rec) || (sv && sv->tcp_rec)) {
		fprintf(sh->out, "; bytes unknown (no close ended it in the trace)");
	}
	fputc('\n', sh->out);
}

/* The teardown's lines of both ends, put in time order before they are
 * printed (an end's shutdown, its copies' closes and its close interleave
 * with the other end's). */
struct tline {
	int64_t ts;		/* when, microseconds since the epoch */
	size_t seq;		/* the order added: ties keep it */
	char *text;		/* one line, without its newline */
};
struct tlines {
	struct tline *v;
	size_t n, cap;
};

static void tl_add(struct tlines *L, int64_t ts, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void tl_add(struct tlines *L, int64_t ts, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return;
	if (L->n == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 8;
		struct tline *v = realloc(L->v, cap * sizeof(*v));
		if (!v) {
			free(text);
			return;
		}
		L->v = v;
		L->cap = cap;
	}
	L->v[L->n] = (struct tline){ ts, L->n, text };
	L->n++;
}

static int tl_cmp(const void *a, const void *b)
{
	const struct tline *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void tl_print(const struct show *sh, struct tlines *L)
{
	if (L->n > 1)
		qsort(L->v, L->n, sizeof(*L->v), tl_cmp);
	for (size_t i = 0; i < L->n; i++) {
		fprintf(sh->out, "%s\n", L->v[i].text);
		free(L->v[i].text);
	}
	free(L->v);
	memset(L, 0, sizeof(*L));
}

static void side_teardown(const struct show *sh, struct tlines *L, const char *role, const struct st_msock *s,
			  bool active)
{
	const struct st_rec *t = st_msock_teardown(s);
	char tm[32], words[96], line[1024];
	size_t k = 0;

#define CAT(...)                                                                         \
	do {                                                                             \
		int n_ = snprintf(line + k, sizeof(line) - k, __VA_ARGS__);            \
		if (n_ > 0)                                                              \
			k = k + (size_t)n_ < sizeof(line) ? k + (size_t)n_ : sizeof(line) - 1; \
	} while (0)

	/* the closes of copies other processes still held: not the end */
	for (size_t i = 0; i < s->nevs; i++) {
		const struct st_rec *r = s->evs[i];
		if (r == s->close || r == t || r == s->end_rec || !st_call_is(r->ev.call, ST_K_CLOSE) ||
		    r->ev.err || r->ev.fd < 0 || r->sock != s || r->ev.ts_us > (t ? t->ev.ts_us : INT64_MAX))
			continue;
		show_reltime(sh, tm, sizeof(tm), r->ev.ts_us);
		tl_add(L, r->ev.ts_us, "  %-10s %s %s pid %" PRId64 " %s(%d): its copy only, another process held it%s%s",
		       "", tm, role, r->ev.pid, st_call_name(r->ev.call), r->ev.fd, r->ev.state ? ", still " : "",
		       r->ev.state ? show_esc(r->ev.state) : "");
	}
	if (!t) {
		if (s->end == ST_END_EXIT && s->handed && s->end_pid >= 0)
			tl_add(L, s->t_end, "  %-10s %s never closed it here: handed over to pid %" PRId64
			       ", which held it when it exited", "", role, s->end_pid);
		else if (s->end == ST_END_EXIT && !st_msock_leaked(s))
			tl_add(L, s->t_end, "  %-10s %s never closed it: held from before the trace by pid %" PRId64
			       " when it exited", "", role, s->end_pid);
		else if (s->end == ST_END_EXIT && st_msock_leaker(s) >= 0 && st_msock_leaker(s) != s->pid)
			tl_add(L, s->t_end, "  %-10s %s never closed it: held by pid %" PRId64
			       " when it exited (a leak)", "", role, st_msock_leaker(s));
		else if (s->end == ST_END_EXIT)
			tl_add(L, s->t_end, "  %-10s %s never closed it (still open when its process exited: a leak)",
			       "", role);
		else
			tl_add(L, s->t_end, "  %-10s %s never closed it: %s", "", role,
			       show_esc(st_msock_end_words(s, words, sizeof(words))));
		return;
	}
	show_reltime(sh, tm, sizeof(tm), t->ev.ts_us);
	CAT("  %-10s %s %s %s%s%s", "", tm, role, st_call_name(t->ev.call), t->ev.how ? "(" : "()",
	    t->ev.how ? show_esc(t->ev.how) : "");
	if (t->ev.pid != s->pid)
		CAT(" in pid %" PRId64, t->ev.pid);
	if (t->ev.how)
		CAT(")");
	if (t->ev.state_before && t->ev.state)
		CAT(": %s -> %s", show_esc(t->ev.state_before), show_esc(t->ev.state));
	if (t->ev.state_after)
		CAT(" (kernel after %s: %s)", t->ev.call == ST_CALL_shutdown ? "shutdown" : "close",
		    show_esc(t->ev.state_after));
	if (active)
		CAT("  [active close]");
	tl_add(L, t->ev.ts_us, "%s", line);
	if (st_msock_leaked(s) && s->end != ST_END_EXIT)
		/* another holder exited holding it, before or after this */
		tl_add(L, s->t_end, "  %-10s %s a copy held by pid %" PRId64 " when it exited (a leak)", "", role,
		       st_msock_leaker(s));
	if (s->close && s->close != t) {
		k = 0;
		show_reltime(sh, tm, sizeof(tm), s->close->ev.ts_us);
		CAT("  %-10s %s %s close()", "", tm, role);
		if (s->close->ev.state_before && s->close->ev.state)
			CAT(": %s -> %s", show_esc(s->close->ev.state_before), show_esc(s->close->ev.state));
		tl_add(L, s->close->ev.ts_us, "%s", line);
	}
	if (s->close && s->close->ev.reset_known && s->close->ev.reset)
		tl_add(L, s->close->ev.ts_us, "  %-10s %s%s reset the connection: RST sent%s%s%s%s", "",
		       show_c(sh, SHOW_YELLOW), role, s->close->ev.reset_reason ? " (" : "",
		       s->close->ev.reset_reason ? show_esc(s->close->ev.reset_reason) : "",
		       s->close->ev.reset_reason ? ")" : "", show_c(sh, SHOW_OFF));
#undef CAT
}

static void later(const struct show *sh, const char *role, const struct st_ksock *k)
{
	if (!k)
		return;
	fprintf(sh->out, "  %-10s kernel at exit (%s end): %s -> %s %s", "", role, show_esc(k->local),
		show_esc(k->remote), k->state ? show_esc(k->state) : "?");
	if (k->timer_ms >= 0) {
		char left[32];
		show_timer(left, sizeof(left), k->timer_ms);
		fprintf(sh->out, " (%s left)", left);
	}
	fputc('\n', sh->out);
}

static void teardown(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	const char *what;

	switch (c->closer) {
	case ST_CLOSER_CLIENT:
		what = "client closed first: active close on the client (FIN_WAIT1 -> FIN_WAIT2 -> "
		       "TIME_WAIT), passive on the server (CLOSE_WAIT -> LAST_ACK)";
		break;
	case ST_CLOSER_SERVER:
		what = "server closed first: active close on the server (FIN_WAIT1 -> FIN_WAIT2 -> "
		       "TIME_WAIT), passive on the client (CLOSE_WAIT -> LAST_ACK)";
		break;
	case ST_CLOSER_BOTH:
		what = "both ends closed before seeing the other's FIN: simultaneous close "
		       "(FIN_WAIT1 -> CLOSING -> TIME_WAIT on both)";
		break;
	case ST_CLOSER_NONE:
		what = "neither end closed in the trace";
		break;
	default:
		what = c->established ? "who closed first is unknown (no TCP states recorded)" :
			"no connection to tear down";
		break;
	}
	if (c->queued_on && !c->reset)
		fprintf(sh->out, "  %-10s %s\n", "teardown", c->queue_reset ?
			"the listener closed first: the kernel reset the server end waiting in its queue (RST)" :
			c->closer == ST_CLOSER_NONE ? what :
			"the client closed first; the server end, never accepted, had no program to close it");
	else if (c->reset && c->fin_before_reset)
		fprintf(sh->out, "  %-10s %s sent a FIN first (%s), then %s%s reset the connection (RST)%s\n",
			"teardown", c->fin_by == cl ? "client" : "server",
			c->fin_before_reset->ev.call == ST_CALL_shutdown ? "shutdown" : "close",
			show_c(sh, SHOW_YELLOW), c->reset_by == c->fin_by ? "it" :
			c->reset_by == cl ? "the client" : "the server", show_c(sh, SHOW_OFF));
	else if (c->reset)
		fprintf(sh->out, "  %-10s %s%s reset the connection (RST, no FIN handshake)%s\n",
			"teardown", show_c(sh, SHOW_YELLOW), c->reset_by == cl ? "client" : "server",
			show_c(sh, SHOW_OFF));
	else
		fprintf(sh->out, "  %-10s %s\n", "teardown", what);
	{
		struct tlines L = { NULL, 0, 0 };

		if (cl)
			side_teardown(sh, &L, "client", cl, c->closer == ST_CLOSER_CLIENT);
		if (sv)
			side_teardown(sh, &L, "server", sv, c->closer == ST_CLOSER_SERVER);
		tl_print(sh, &L);
	}
	later(sh, "client", c->later_client);
	later(sh, "server", c->later_server);
}

/* A connection the traced listener never accepted: where it waited, and
 * what became of the server's end (the kernel's, in the accept queue) */
static void queued_line(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *l = c->queued_on;
	char w[160], t[32];

	who(sh, l, w, sizeof(w));
	fprintf(sh->out, "  %-10s never accepted: it waited in the backlog of the listener %s, %s", "server",
		l->local[0] ? show_esc(l->local) : "?", w);
	if (l->end != ST_END_OPEN && l->end != ST_END_ELSEWHERE) {
		show_reltime(sh, t, sizeof(t), l->t_end);
		fprintf(sh->out, ", which ended %s: the kernel resets what is left in the queue", t);
	}
	fputc('\n', sh->out);
}

/* An AF_UNIX connection, both ends traced (model.h): no handshake, no TCP
 * states, no ladder; the first teardown (shutdown or close) of an end is
 * the first close. */
static void unix_conn_block(const struct show *sh, const struct st_conn *c, const char *t0, const char *clk)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	const char *r1 = c->pair ? "first" : "client", *r2 = c->pair ? "second" : "server";
	char t[32], d[32];
	struct tlines L = { NULL, 0, 0 };

	if (c->pair)
		fprintf(sh->out, "%sconnection #%d%s  %s socketpair  %s (%s)\n", show_c(sh, SHOW_BOLD), c->id,
			show_c(sh, SHOW_OFF), show_esc(st_msock_kind(cl)), t0, clk);
	else
		fprintf(sh->out, "%sconnection #%d%s  %s %s -> %s  %s (%s)\n", show_c(sh, SHOW_BOLD), c->id,
			show_c(sh, SHOW_OFF), show_esc(st_msock_kind(cl)), c->caddr[0] ? show_esc(c->caddr) : "?",
			c->saddr[0] ? show_esc(c->saddr) : "?", t0, clk);
	side_line(sh, r1, cl);
	side_line(sh, r2, sv);
	if (c->pair && cl->made) {
		show_reltime(sh, t, sizeof(t), cl->made->ev.ts_us);
		fprintf(sh->out, "  %-10s %s socketpair() made fds %d and %d, each the other's peer\n", "connect", t,
			cl->fd, sv->fd);
	} else if (cl->connect && sv->made) {
		const struct st_rec *k = cl->connect;
		int64_t gap = st_rec_end_us(sv->made) - k->ev.ts_us;

		show_reltime(sh, t, sizeof(t), k->ev.ts_us);
		show_dur(d, sizeof(d), k->ev.dur_ns >= 0 ? k->ev.dur_ns / 1000 : -1);
		fprintf(sh->out, "  %-10s %s connect() to %s, blocked %s\n", "connect", t, show_esc(c->saddr), d);
		show_reltime(sh, t, sizeof(t), st_rec_end_us(sv->made));
		show_dur(d, sizeof(d), gap < 0 ? -gap : gap);
		fprintf(sh->out, "  %-10s %s accept() on fd %d returned fd %d, %s %s connect() (peer inode %" PRIu64
			" is the client's)\n", "", t, sv->made->ev.listen_fd, sv->fd, d, gap < 0 ? "before" : "after",
			sv->peer_inode);
	}
	fprintf(sh->out, "  %-10s %s\n", "teardown",
		c->closer == ST_CLOSER_CLIENT ? (c->pair ? "the first end closed first" : "client closed first") :
		c->closer == ST_CLOSER_SERVER ? (c->pair ? "the second end closed first" : "server closed first") :
		c->closer == ST_CLOSER_NONE ? "neither end closed in the trace" : "who closed first is unknown");
	side_teardown(sh, &L, r1, cl, false);
	side_teardown(sh, &L, r2, sv, false);
	tl_print(sh, &L);
}

static void conn_block(const struct show *sh, const struct st_conn *c)
{
	char t0[32], clk[32];
	const char *kind = c->client ? st_msock_kind(c->client) : st_msock_kind(c->server);

	show_reltime(sh, t0, sizeof(t0), c->t_start);
	show_clock(sh, clk, sizeof(clk), c->t_start);
	if (c->is_unix) {
		unix_conn_block(sh, c, t0, clk);
		return;
	}
	fprintf(sh->out, "%sconnection #%d%s  %s %s -> %s  %s (%s)%s\n", show_c(sh, SHOW_BOLD), c->id,
		show_c(sh, SHOW_OFF), show_esc(kind), c->caddr[0] ? show_esc(c->caddr) : "?",
		c->saddr[0] ? show_esc(c->saddr) : "?",
		t0, clk, c->self ? "  [connected to itself]" : c->client && c->server ? "" :
		c->queued_on ? "  [never accepted: queued in the backlog]" :
		c->client ? "  [server end not traced]" : "  [client end not traced]");
	if (c->self) {
		char t[32];
		side_line(sh, "socket", c->client);
		fprintf(sh->out, "  %-10s one socket connected to its own address (a TCP simultaneous open "
			"with itself): nothing listened on %s%s\n", "handshake", show_esc(c->saddr),
			c->established ? "" : "; not established");
		if (c->client->close) {
			show_reltime(sh, t, sizeof(t), c->client->close->ev.ts_us);
			fprintf(sh->out, "  %-10s %s close()%s%s%s%s\n", "teardown", t,
				c->client->close->ev.state_before ? ": " : "",
				c->client->close->ev.state_before ? show_esc(c->client->close->ev.state_before) : "",
				c->client->close->ev.state ? " -> " : "",
				c->client->close->ev.state ? show_esc(c->client->close->ev.state) : "");
		}
		later(sh, "its", c->later_client);
		return;
	}
	if (c->client)
		side_line(sh, "client", c->client);
	if (c->server)
		side_line(sh, "server", c->server);
	if (c->queued_on)
		queued_line(sh, c);
	handshake(sh, c);
	if (c->established) {
		bytes_line(sh, c);
		teardown(sh, c);
	} else if (c->client && c->client->close) {
		char t[32];
		show_reltime(sh, t, sizeof(t), c->client->close->ev.ts_us);
		fprintf(sh->out, "  %-10s %s client close()\n", "teardown", t);
	}
	ladder(sh, c);
}

/* ---- listener blocks -------------------------------------------------- */

static void opts_words(const struct st_event *ev, char *buf, size_t n)
{
	if (!ev->has_opts) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, n, " [SO_REUSEADDR %s, SO_REUSEPORT %s]", ev->opts.reuseaddr ? "on" : "off",
		 ev->opts.reuseport ? "on" : "off");
}

/* the connections a listener accepted (queued: those it never did) that
 * were printed before it, as a retiring model handed them out: their
 * numbers, the first ACCEPTED_NAMED of them */
#define ACCEPTED_NAMED 20
struct named {
	const struct st_msock *l;
	bool queued;
	unsigned n;
	int ids[ACCEPTED_NAMED];
};

/* What -f timeline printed of what a retiring model handed out (struct
 * show's timeline): the processes of those sockets, for the list at the
 * end, and the numbers of the connections of the listeners still held. */
struct show_timeline_acc {
	int64_t *pids;		/* sorted when looked in */
	size_t n, cap;
	bool sorted;
	struct named *named;
	size_t nnamed, capnamed;
	bool printed;		/* a block came before the end */
};

static struct named *named_of(const struct show *sh, const struct st_msock *l, bool queued, bool add)
{
	struct show_timeline_acc *a = sh->timeline;

	for (size_t i = 0; a && i < a->nnamed; i++)
		if (a->named[i].l == l && a->named[i].queued == queued)
			return &a->named[i];
	if (!add || !a)
		return NULL;
	if (a->nnamed == a->capnamed) {
		size_t cap = a->capnamed ? 2 * a->capnamed : 8;
		struct named *p = realloc(a->named, cap * sizeof(*p));
		if (!p)
			return NULL;
		a->named = p;
		a->capnamed = cap;
	}
	a->named[a->nnamed] = (struct named){ l, queued, 0, { 0 } };
	return &a->named[a->nnamed++];
}

/* the numbers of l's connections (queued: those it never accepted), those
 * printed before first, then the model's; how many there are */
static unsigned conn_ids(const struct show *sh, const struct st_msock *l, bool queued)
{
	const struct st_model *m = sh->model;
	const struct named *nm = named_of(sh, l, queued, false);
	unsigned n = 0;

	for (unsigned i = 0; nm && i < nm->n; i++)
		if (n++ < ACCEPTED_NAMED)
			fprintf(sh->out, "%s#%d", n == 1 ? ": " : " ", nm->ids[i]);
	n = nm ? nm->n : 0;	/* counts past those it named */
	for (size_t i = 0; i < m->nconns; i++)
		if ((queued ? m->conns[i]->queued_on == l :
			      m->conns[i]->server && m->conns[i]->server->listener == l) && n++ < ACCEPTED_NAMED)
			fprintf(sh->out, "%s#%d", n == 1 ? ": " : " ", m->conns[i]->id);
	if (n > ACCEPTED_NAMED)
		fprintf(sh->out, " ...");
	return n;
}

static void accepted_line(const struct show *sh, const struct st_msock *s, unsigned failed)
{
	if (!st_msock_listening(s))
		return;
	fprintf(sh->out, "  %-10s %u connection%s", "accepted", s->accepted,
		s->accepted == 1 ? "" : "s");
	conn_ids(sh, s, false);
	if (s->queued) {
		fprintf(sh->out, "; %u more queued, never accepted", s->queued);
		conn_ids(sh, s, true);
	}
	if (failed)
		fprintf(sh->out, "; %u accept call%s failed", failed, failed == 1 ? "" : "s");
	fputc('\n', sh->out);
}

static void listener_block(const struct show *sh, const struct st_msock *s)
{
	char w[160], t[32], clk[32], o[96];
	const char *addr = s->local[0] ? s->local : s->bind ? s->bind->ev.addr : "?";
	unsigned failed = 0;

	who(sh, s, w, sizeof(w));
	show_reltime(sh, t, sizeof(t), s->t_first);
	show_clock(sh, clk, sizeof(clk), s->t_first);
	fprintf(sh->out, "%s%s%s  %s %s  %s  %s (%s)\n", show_c(sh, SHOW_BOLD),
		st_msock_listening(s) ? "listener" : "failed listener", show_c(sh, SHOW_OFF),
		show_esc(st_msock_kind(s)), show_esc(addr), w, t, clk);
	for (size_t i = 0; i < s->nevs; i++) {
		const struct st_rec *r = s->evs[i];
		const struct st_event *ev = &r->ev;
		enum st_call c = ev->call;

		if (r->lsock == s) {
			if (ev->err)
				failed++;
			continue;	/* accepts: summed up below */
		}
		show_reltime(sh, t, sizeof(t), ev->ts_us);
		if (c == ST_CALL_setsockopt) {
			fprintf(sh->out, "  %-10s %s %s %s", "option", t, ev->optname ? show_esc(ev->optname) : "?",
				ev->err ? "" : "set");
			if (ev->has_optval && ev->optval != 1)
				fprintf(sh->out, " to %" PRId64, ev->optval);
			if (ev->err)
				fprintf(sh->out, "%sfailed: %s%s", show_c(sh, SHOW_RED), show_esc(ev->err),
					show_c(sh, SHOW_OFF));
			fputc('\n', sh->out);
		} else if (c == ST_CALL_bind) {
			opts_words(ev, o, sizeof(o));
			if (!ev->err) {
				fprintf(sh->out, "  %-10s %s bind %s%s\n", "bind", t, show_esc(ev->addr), o);
				if (ev->reused_time_wait > 0)
					fprintf(sh->out, "  %-10s SO_REUSEADDR let it reuse the port of %d "
						"connection%s in TIME_WAIT\n", "", ev->reused_time_wait,
						ev->reused_time_wait == 1 ? "" : "s");
				continue;
			}
			fprintf(sh->out, "  %-10s %s %sbind %s failed: %s (%s)%s%s\n", "bind", t,
				show_c(sh, SHOW_RED), show_esc(ev->addr), show_esc(ev->err), errdesc(ev->err),
				show_c(sh, SHOW_OFF), o);
			if (ev->holders) {
				if (!ev->nholders)
					fprintf(sh->out, "  %-10s no socket the kernel showed held it (it "
						"may have been released since)\n", "");
				for (int k = 0; k < ev->nholders; k++) {
					const struct st_ksock *h = &ev->holders[k];
					fprintf(sh->out, "  %-10s held by %s%s%s %s", "", show_esc(h->local),
						h->remote[0] ? " -> " : "", show_esc(h->remote),
						h->state ? show_esc(h->state) : "");
					if (h->timer_ms >= 0) {
						char left[32];
						show_timer(left, sizeof(left), h->timer_ms);
						fprintf(sh->out, " (%s left)", left);
					}
					if (h->pid >= 0)
						fprintf(sh->out, " pid %" PRId64 "%s%s%s", h->pid,
							h->comm ? " (" : "", h->comm ? show_esc(h->comm) : "",
							h->comm ? ")" : "");
					fputc('\n', sh->out);
				}
			}
			if (ev->has_verdict) {
				fprintf(sh->out, "  %-10s SO_REUSEADDR %s; SO_REUSEPORT %s%s%s%s\n", "",
					ev->verdict_reuseaddr < 0 ? "might or might not have helped" :
					ev->verdict_reuseaddr ? "would have let the bind succeed" :
					"would not have helped",
					ev->verdict_reuseport < 0 ? "unknown" :
					ev->verdict_reuseport ? "would have let it succeed" :
					"would not have helped",
					ev->verdict_why ? " (" : "", ev->verdict_why ? show_esc(ev->verdict_why) : "",
					ev->verdict_why ? ")" : "");
			}
		} else if (c == ST_CALL_listen) {
			fprintf(sh->out, "  %-10s %s listen(backlog %d)%s%s\n", "listen", t, ev->backlog,
				ev->err ? " failed: " : "", ev->err ? show_esc(ev->err) : "");
		} else if (r == s->close) {
			accepted_line(sh, s, failed);
			fprintf(sh->out, "  %-10s %s %s()%s%s%s%s\n", "close", t, st_call_name(c),
				ev->state_before ? " " : "", ev->state_before ? show_esc(ev->state_before) : "",
				ev->state_before && ev->state ? " -> " : "",
				ev->state_before && ev->state ? show_esc(ev->state) : "");
		} else if (st_call_is(c, ST_K_CLOSE) && r->sock == s && !ev->err && c != ST_CALL_gone &&
			   c != ST_CALL_exec && ev->pid == s->pid && ev->shared) {
			/* its maker's close of its copy while others held it */
			fprintf(sh->out, "  %-10s %s %s(%d): its copy only, another process held it%s%s\n", "close",
				t, st_call_name(c), ev->fd, ev->state ? ", still " : "",
				ev->state ? show_esc(ev->state) : "");
		}
	}
	if (!s->close)
		accepted_line(sh, s, failed);
	if (s->close && st_msock_leaked(s))
		/* another holder exited holding it, before or after the close */
		fprintf(sh->out, "  %-10s a copy held by pid %" PRId64 " when it exited (a leak)\n", "",
			st_msock_leaker(s));
	if (!s->close) {
		char words[96];
		if (st_msock_leaked(s) && st_msock_leaker(s) >= 0 && st_msock_leaker(s) != s->pid)
			fprintf(sh->out, "  %-10s never: held by pid %" PRId64 " when it exited (a leak)\n", "close",
				st_msock_leaker(s));
		else
			fprintf(sh->out, "  %-10s %s\n", "close",
				st_msock_leaked(s) ? "never: still open when its process exited" :
				s->end == ST_END_OPEN ? "not before the trace ended" :
				show_esc(st_msock_end_words(s, words, sizeof(words))));
	}
}

static void other_block(const struct show *sh, const struct st_msock *s)
{
	static char words[65536];
	char t[32], w[160];

	show_reltime(sh, t, sizeof(t), s->t_first);
	who(sh, s, w, sizeof(w));
	if (s->peer && s->peer->pid == s->pid && s->made && s->made == s->peer->made) {
		/* a socketpair: one block for both ends */
		char w2[32];
		snprintf(w2, sizeof(w2), " + fd %d", s->peer->fd);
		fprintf(sh->out, "%ssocketpair%s  %s  %s%s  %s\n", show_c(sh, SHOW_BOLD),
			show_c(sh, SHOW_OFF), show_esc(st_msock_kind(s)), w, w2, t);
		show_lifecycle_words(sh, s, words, sizeof(words));
		fprintf(sh->out, "  fd %-7d %s\n", s->fd, words);
		show_lifecycle_words(sh, s->peer, words, sizeof(words));
		fprintf(sh->out, "  fd %-7d %s\n", s->peer->fd, words);
		return;
	}
	show_lifecycle_words(sh, s, words, sizeof(words));
	fprintf(sh->out, "%ssocket%s  %s%s%s%s%s  %s  %s\n  %-10s %s\n", show_c(sh, SHOW_BOLD),
		show_c(sh, SHOW_OFF), show_esc(st_msock_kind(s)), s->local[0] ? " " : "",
		show_esc(s->local), s->remote[0] ? " -> " : "", show_esc(s->remote), w, t, "calls", words);
}

static void pid_shown(struct show *sh, int64_t pid)
{
	struct show_timeline_acc *a = sh->timeline;

	if (!a && !(a = sh->timeline = calloc(1, sizeof(*a))))
		return;
	if (a->n && a->pids[a->n - 1] == pid)
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		int64_t *p = realloc(a->pids, cap * sizeof(*p));
		if (!p)
			return;
		a->pids = p;
		a->cap = cap;
	}
	a->pids[a->n++] = pid;
	a->sorted = false;
}

static int by_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* the processes of a socket the filters keep, for the list at the end */
static void sock_pids_shown(struct show *sh, const struct st_msock *s)
{
	pid_shown(sh, s->pid);
	if (s->end_pid >= 0)
		pid_shown(sh, s->end_pid);
	for (size_t k = 0; k < s->nevs; k++)
		pid_shown(sh, s->evs[k]->ev.pid);
}

/* a process is shown when it holds a socket the filters keep */
static bool proc_shown(const struct show *sh, const struct st_proc *p)
{
	const struct st_model *m = sh->model;
	struct show_timeline_acc *a = sh->timeline;

	if (a && a->n) {
		if (!a->sorted) {
			qsort(a->pids, a->n, sizeof(*a->pids), by_i64);
			a->sorted = true;
		}
		if (bsearch(&p->pid, a->pids, a->n, sizeof(*a->pids), by_i64))
			return true;
	}
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		if (!show_keep_sock(sh, s))
			continue;
		if (s->pid == p->pid || s->end_pid == p->pid)
			return true;
		/* a copy it held: a fork, exec or SCM_RIGHTS brought it there */
		for (size_t k = 0; k < s->nevs; k++)
			if (s->evs[k]->ev.pid == p->pid)
				return true;
	}
	return false;
}

static void processes(const struct show *sh)
{
	const struct st_model *m = sh->model;
	char comm[256], t[32];

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_proc *p = m->procs[i];
		const char *c;

		if (!proc_shown(sh, p))
			continue;
		c = show_proc_comm(sh, p->key, comm, sizeof(comm));
		if (p->first)
			show_reltime(sh, t, sizeof(t), p->first->ev.ts_us);
		else
			snprintf(t, sizeof(t), "?");	/* no event of its own */
		fprintf(sh->out, "process %" PRId64 "%s%s%s", p->pid, c ? " (" : "", c ? c : "",
			c ? ")" : "");
		if (p->ppid >= 0)
			fprintf(sh->out, " ppid %" PRId64, p->ppid);
		fprintf(sh->out, " from %s", t);
		if (p->exit) {
			show_reltime(sh, t, sizeof(t), p->exit->ev.ts_us);
			fprintf(sh->out, " to exit at %s", t);
			if (p->exit->ev.open_sockets > 0)
				fprintf(sh->out, ", %s%" PRId64 " socket%s still open%s",
					show_c(sh, SHOW_YELLOW), p->exit->ev.open_sockets,
					p->exit->ev.open_sockets == 1 ? "" : "s", show_c(sh, SHOW_OFF));
		} else if (p->end && p->end->ev.signal) {
			show_reltime(sh, t, sizeof(t), p->end->ev.ts_us);
			fprintf(sh->out, " to %skilled by %s%s at %s", show_c(sh, SHOW_YELLOW), show_esc(p->end->ev.signal),
				show_c(sh, SHOW_OFF), t);
		} else if (p->end) {
			show_reltime(sh, t, sizeof(t), p->end->ev.ts_us);
			fprintf(sh->out, " to its end at %s", t);
		} else {
			fprintf(sh->out, ", no exit recorded");
		}
		if ((p->exit || p->end) && (p->exit ? p->exit : p->end)->ev.status > 0)
			fprintf(sh->out, " (status %" PRId64 ")", (p->exit ? p->exit : p->end)->ev.status);
		fputc('\n', sh->out);
	}
}

/* the block of socket s, if it has one of its own (a listener, a socket
 * with no connection, the first end of a socketpair); false none */
static bool sock_block(const struct show *sh, const struct st_msock *s, struct block *b, size_t order)
{
	bool failed_bind = s->bind && s->bind->ev.err && st_msock_is_tcp(s) && !s->connect;

	if (!show_keep_sock(sh, s))
		return false;
	if (st_msock_listening(s) || failed_bind)
		*b = (struct block){ s->t_first, B_LISTENER, s, order };
	else if (!s->conn && !(s->peer && s->peer->id < s->id && s->peer->made == s->made &&
				s->peer->pid == s->pid && show_keep_sock(sh, s->peer)))
		*b = (struct block){ s->t_first, B_OTHER, s, order };
	else
		return false;
	return true;
}

static void print_block(const struct show *sh, const struct block *b)
{
	fputc('\n', sh->out);
	switch (b->kind) {
	case B_LISTENER:
		listener_block(sh, b->p);
		break;
	case B_CONN:
		conn_block(sh, b->p);
		break;
	case B_OTHER:
		other_block(sh, b->p);
		break;
	}
}

void show_timeline_sock(struct show *sh, const struct st_msock *s)
{
	struct block b;

	if (!show_keep_sock(sh, s))
		return;
	if (!sh->timeline && !(sh->timeline = calloc(1, sizeof(*sh->timeline))))
		return;	/* out of memory: the block is lost, not the rest */
	sock_pids_shown(sh, s);
	if (sock_block(sh, s, &b, 0)) {
		print_block(sh, &b);
		sh->timeline->printed = true;
	}
	/* gone: another socket may come at its address */
	for (int q = 0; q < 2; q++) {
		struct named *nm = named_of(sh, s, q, false);
		if (nm)
			nm->l = NULL;
	}
}

/* c's number kept for the listener it was accepted on (or queued on),
 * still held */
static void name_conn(struct show *sh, const struct st_msock *l, bool queued, int id)
{
	struct named *nm;

	if (!l || (!sh->timeline && !(sh->timeline = calloc(1, sizeof(*sh->timeline)))))
		return;
	if ((nm = named_of(sh, l, queued, true))) {
		if (nm->n < ACCEPTED_NAMED)
			nm->ids[nm->n] = id;
		nm->n++;
	}
}

void show_timeline_conn(struct show *sh, const struct st_conn *c)
{
	struct block b = { c->t_start, B_CONN, c, 0 };

	if (!sh->timeline && !(sh->timeline = calloc(1, sizeof(*sh->timeline))))
		return;	/* out of memory: the block is lost, not the rest */
	name_conn(sh, c->server ? c->server->listener : NULL, false, c->id);
	name_conn(sh, c->queued_on, true, c->id);
	if (!show_keep_conn(sh, c))
		return;
	print_block(sh, &b);
	sh->timeline->printed = true;
}

void show_timeline_free(struct show *sh)
{
	if (sh->timeline) {
		free(sh->timeline->named);
		free(sh->timeline->pids);
		free(sh->timeline);
		sh->timeline = NULL;
	}
}

int show_timeline(struct show *sh)
{
	const struct st_model *m = sh->model;
	struct block *blocks = calloc(m->nsocks + m->nconns + 1, sizeof(*blocks));
	/* a retiring model printed blocks as they ended: the processes come
	 * after the rest */
	bool retired = sh->timeline && sh->timeline->printed;
	size_t n = 0;

	if (!blocks)
		return 2;
	for (size_t i = 0; i < m->nsocks; i++)
		if (sock_block(sh, m->socks[i], &blocks[n], n))
			n++;
	for (size_t i = 0; i < m->nconns; i++)
		if (show_keep_conn(sh, m->conns[i])) {
			blocks[n] = (struct block){ m->conns[i]->t_start, B_CONN, m->conns[i], n };
			n++;
		}
	qsort(blocks, n, sizeof(*blocks), by_time);
	if (!retired)
		processes(sh);
	for (size_t i = 0; i < n; i++)
		print_block(sh, &blocks[i]);
	if (retired) {
		fputc('\n', sh->out);
		processes(sh);
	}
	free(blocks);
	show_timeline_free(sh);
	return 0;
}
