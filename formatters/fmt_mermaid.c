/* SPDX-License-Identifier: MIT */
/* fmt_mermaid.c - `show -f mermaid`: a Mermaid sequenceDiagram of the
 * connections, for markdown and CI reports: one lifeline per traced process
 * (an end not traced: one per address), each message naming its
 * connection's tuple; the first MM_MAX_CONNS connections drawn, the number
 * left out said in a note; a warning on stderr when the text nears
 * Mermaid's 50 000-character limit (past it, Mermaid draws an error).
 *
 * Owns: the diagram text.  Packets are drawn as TCP sends them for what the
 * events showed (connect, accept, close, shutdown, reset), in time order.
 * Must never draw a packet the events do not show (an end that was not
 * traced is labelled so), nor let a string of the trace break the diagram
 * or reach a screen raw: each is escaped for a screen (show_esc), then
 * what Mermaid reads specially in a label or a message (';', '#', '<',
 * '>', '&', '"', '%') is written as its entity code (#59; ...).  Never
 * reads files nor parses a command line.
 */
#define _GNU_SOURCE
#include "show.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct part {
	char addr[ST_ADDR_MAX + 32];	/* its key: "pid N", or "addr A" for an end not traced */
	char *label;
};

/* connections drawn at most; the rest are counted in a note */
#define MM_MAX_CONNS 50
/* Mermaid's default maxTextSize, and the size past which show warns */
#define MM_TEXT_MAX 50000
#define MM_WARN_SIZE 45000

struct msg {
	int64_t t;
	size_t order;
	char *text;
};

struct diagram {
	struct part *parts;
	size_t nparts, capparts;
	struct msg *msgs;
	size_t nmsgs, capmsgs;
	bool oom;
};

/* A string of the trace as a label or message may hold it: escaped for a
 * screen, then Mermaid's entity codes for what its syntax reads (';' ends
 * a statement, '#' starts an entity code, '<' '>' '&' are HTML in a
 * label, '"' quotes, "%%" starts a comment).  The result stays valid for
 * the next MM_SLOTS - 1 calls.  (mm_entities: the second step alone, for
 * a string already escaped, as show_comm's command lines are.) */
#define MM_SLOTS 4
static const char *mm_entities(const char *s)
{
	static char slots[MM_SLOTS][8192];
	static unsigned next;
	char *out = slots[next++ % MM_SLOTS];
	size_t k = 0;

	if (!strpbrk(s, ";#<>&\"%"))
		return s;
	for (; *s && k + 8 < sizeof(slots[0]); s++) {
		const char *e = NULL;

		switch (*s) {
		case ';': e = "#59;"; break;
		case '#': e = "#35;"; break;
		case '<': e = "#60;"; break;
		case '>': e = "#62;"; break;
		case '&': e = "#38;"; break;
		case '"': e = "#quot;"; break;
		case '%': e = "#37;"; break;
		}
		if (e) {
			memcpy(out + k, e, strlen(e));
			k += strlen(e);
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
	return out;
}

/* The lifeline of one end: its process when traced (one per process,
 * whatever its ports: "tcp_client -p 8080 (pid 42)"), else its address
 * ("server 127.0.0.1:80 (not traced)"). */
static const char *mm(const char *s)
{
	return mm_entities(show_esc(s ? s : "?"));
}

static int part_of(const struct show *sh, struct diagram *d, const char *addr, const char *role, int64_t pid,
		   int64_t pkey)
{
	char key[ST_ADDR_MAX + 32], comm[256];
	const char *cmd;

	if (pid >= 0)
		snprintf(key, sizeof(key), "pid %" PRId64, pkey);
	else
		snprintf(key, sizeof(key), "addr %s", addr);
	for (size_t i = 0; i < d->nparts; i++)
		if (!strcmp(d->parts[i].addr, key))
			return (int)i + 1;
	if (d->nparts == d->capparts) {
		size_t cap = d->capparts ? d->capparts * 2 : 16;
		struct part *p = realloc(d->parts, cap * sizeof(*p));
		if (!p) {
			d->oom = true;
			return 1;
		}
		d->parts = p;
		d->capparts = cap;
	}
	snprintf(d->parts[d->nparts].addr, sizeof(d->parts[d->nparts].addr), "%s", key);
	cmd = pid >= 0 ? show_proc_comm(sh, pkey, comm, sizeof(comm)) : NULL;
	if ((pid >= 0 ? asprintf(&d->parts[d->nparts].label, "%s (pid %" PRId64 ")", cmd ? mm_entities(cmd) : "process", pid) :
			asprintf(&d->parts[d->nparts].label, "%s %s (not traced)", role,
				 mm(addr[0] ? addr : "?"))) < 0) {
		d->oom = true;
		return 1;
	}
	return (int)++d->nparts;
}

static void msg(struct diagram *d, int64_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* a message of the diagram: every string of the trace in it has passed
 * through mm() */
static void msg(struct diagram *d, int64_t t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->nmsgs == d->capmsgs) {
		size_t cap = d->capmsgs ? d->capmsgs * 2 : 64;
		struct msg *p = realloc(d->msgs, cap * sizeof(*p));
		if (!p) {
			d->oom = true;
			return;
		}
		d->msgs = p;
		d->capmsgs = cap;
	}
	d->msgs[d->nmsgs].t = t;
	d->msgs[d->nmsgs].order = d->nmsgs;
	va_start(ap, fmt);
	n = vasprintf(&d->msgs[d->nmsgs].text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->oom = true;
		return;
	}
	d->nmsgs++;
}

static int by_time(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* what sent a side's FIN: its shutdown or close, or, with neither in the
 * trace, the end the model found for it */
static const char *how(const struct st_rec *t, const struct st_msock *s)
{
	if (!t && s && s->end == ST_END_UNSEEN)
		return "closed out of sight";
	return t && t->ev.call == ST_CALL_shutdown ? "shutdown" : "close";
}

static void conn_msgs(const struct show *sh, struct diagram *d, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	int C, S;

	if (c->self) {
		/* one socket connected to itself: no second participant */
		C = part_of(sh, d, c->caddr, "client", cl->pid, cl->pkey);
		msg(d, c->t_start, "Note over P%d: connection %d: connected to itself (simultaneous open, "
		    "no listener)", C, c->id);
		return;
	}
	C = part_of(sh, d, c->caddr, "client", cl ? cl->pid : -1, cl ? cl->pkey : -1);
	if (!sv && c->queued_on)	/* never accepted: the listener's process holds its queue */
		S = part_of(sh, d, c->saddr, "server", c->queued_on->pid, c->queued_on->pkey);
	else
		S = part_of(sh, d, c->saddr, "server", sv ? sv->pid : -1, sv ? sv->pkey : -1);
	int64_t t = c->t_start;
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;
	char a[32], b[32];

	msg(d, t, "P%d->>P%d: SYN (connection %d: %s to %s)", C, S, c->id, mm(c->caddr[0] ? c->caddr : "?"),
	    mm(c->saddr[0] ? c->saddr : "?"));
	if (c->failure) {
		if (!strcmp(c->failure, "ECONNREFUSED"))
			msg(d, t, "P%d-->>P%d: RST (ECONNREFUSED)", S, C);
		else
			msg(d, cl->t_end, "Note over P%d: connect failed: %s", C, mm(c->failure));
		return;
	}
	if (!c->established) {
		msg(d, t, "Note over P%d: never seen established", C);
		return;
	}
	msg(d, t, "P%d-->>P%d: SYN-ACK", S, C);
	msg(d, t, "P%d->>P%d: ACK", C, S);
	{
		const struct st_rec *r = cl && cl->tcp_rec ? cl->tcp_rec : sv ? sv->tcp_rec : NULL;
		if (r) {
			bool from_client = cl && r == cl->tcp_rec;
			uint64_t sent, received;
			st_msock_data(from_client ? cl : sv, r, &sent, &received);
			show_bytes(a, sizeof(a), from_client ? sent : received);
			show_bytes(b, sizeof(b), from_client ? received : sent);
			msg(d, t, "Note over P%d,P%d: data: %s to the server, %s to the client", C, S, a, b);
		}
	}
	if (c->queued_on) {
		const struct st_msock *l = c->queued_on;
		bool ended = l->end != ST_END_OPEN && l->end != ST_END_ELSEWHERE;
		if (!c->queue_reset && tc) {
			msg(d, tc->ev.ts_us, "P%d->>P%d: FIN (%s, never accepted)", C, S, how(tc, cl));
			msg(d, tc->ev.ts_us, "P%d-->>P%d: ACK", S, C);
		}
		if (ended)
			msg(d, l->t_end, "P%d-xP%d: RST (listener closed, never accepted)", S, C);
		else
			msg(d, c->t_end, "Note over P%d: never accepted (queued in the backlog)", S);
		return;
	}
	if (c->reset) {
		bool by_client = c->reset_by == cl;
		if (c->fin_before_reset) {
			/* a FIN came first: drawn before the RST, at its time */
			bool fc = c->fin_by == cl;
			int64_t tf = c->fin_before_reset->ev.ts_us;
			msg(d, tf, "P%d->>P%d: FIN (%s, active close)", fc ? C : S, fc ? S : C,
			    how(c->fin_before_reset, c->fin_by));
			msg(d, tf, "P%d-->>P%d: ACK", fc ? S : C, fc ? C : S);
		}
		msg(d, c->reset_by->close->ev.ts_us, "P%d-xP%d: RST (%s)", by_client ? C : S,
		    by_client ? S : C, c->reset_by->close->ev.reset_reason ?
		    mm(c->reset_by->close->ev.reset_reason) : "close");
		return;
	}
	switch (c->closer) {
	case ST_CLOSER_CLIENT:
	case ST_CLOSER_SERVER: {
		bool cf = c->closer == ST_CLOSER_CLIENT;
		const struct st_rec *first = cf ? tc : ts, *second = cf ? ts : tc;
		const struct st_msock *fs = cf ? cl : sv, *ss = cf ? sv : cl;
		int X = cf ? C : S, Y = cf ? S : C;
		int64_t t1 = first ? first->ev.ts_us : c->t_end;
		msg(d, t1, "P%d->>P%d: FIN (%s, active close)", X, Y, how(first, fs));
		msg(d, t1, "P%d-->>P%d: ACK", Y, X);
		if (second || !(cf ? sv : cl)) {
			int64_t t2 = second ? second->ev.ts_us : t1;
			msg(d, t2, "P%d->>P%d: FIN (%s)", Y, X, how(second, ss));
			msg(d, t2, "P%d-->>P%d: ACK", X, Y);
			msg(d, t2, "Note over P%d: TIME_WAIT", X);
		} else {
			msg(d, t1, "Note over P%d: CLOSE_WAIT (never closed)", Y);
		}
		break;
	}
	case ST_CLOSER_BOTH:
		msg(d, tc->ev.ts_us, "P%d->>P%d: FIN (simultaneous close)", C, S);
		msg(d, ts->ev.ts_us, "P%d->>P%d: FIN (simultaneous close)", S, C);
		break;
	case ST_CLOSER_UNKNOWN:
		msg(d, c->t_end, "Note over P%d,P%d: closed, order unknown", C, S);
		break;
	case ST_CLOSER_NONE:
		msg(d, c->t_end, "Note over P%d,P%d: still open at the end of the trace", C, S);
		break;
	}
}

int show_mermaid(struct show *sh)
{
	const struct st_model *m = sh->model;
	struct diagram d = { 0 };
	size_t drawn = 0, left = 0, size = 0;
	int64_t t_last = m->t_last;

	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		if (!show_keep_sock(sh, s))
			continue;
		if (s->listen) {
			const char *addr = s->local[0] ? s->local : s->bind ? s->bind->ev.addr : "?";
			int P = part_of(sh, &d, addr, "listener", s->pid, s->pkey);
			msg(&d, s->listen->ev.ts_us, "Note over P%d: listen %s (backlog %d)", P, mm(addr),
			    s->listen->ev.backlog);
		} else if ((s->inherited || s->received) && st_msock_listening(s)) {
			/* socket activation, a listener handed over at exec or
			 * in an SCM_RIGHTS message: its listen() is not in the
			 * trace */
			const char *addr = s->local[0] ? s->local : "?";
			int P = part_of(sh, &d, addr, "listener", s->pid, s->pkey);
			msg(&d, s->t_first, "Note over P%d: listening on %s (%s)", P, mm(addr),
			    s->received ? "received" : "inherited");
		} else if (s->bind && s->bind->ev.err) {
			int P = part_of(sh, &d, s->bind->ev.addr, "bind", s->pid, s->pkey);
			msg(&d, s->bind->ev.ts_us, "Note over P%d: bind %s failed: %s", P, mm(s->bind->ev.addr),
			    mm(s->bind->ev.err));
		}
	}
	/* the first MM_MAX_CONNS connections; the cut is said in the diagram */
	for (size_t i = 0; i < m->nconns; i++) {
		if (!show_keep_conn(sh, m->conns[i]))
			continue;
		if (drawn == MM_MAX_CONNS) {
			left++;
			continue;
		}
		conn_msgs(sh, &d, m->conns[i]);
		drawn++;
	}
	if (left) {
		char over[32] = "P1";

		if (d.nparts > 1)
			snprintf(over, sizeof(over), "P1,P%zu", d.nparts);
		msg(&d, t_last, "Note over %s: \u2026 %zu more connection%s not drawn (the first %d are, "
		    "show -f timeline or -f connections lists every one, --pid and --port narrow)", over, left,
		    left == 1 ? "" : "s", MM_MAX_CONNS);
	}
	if (d.nmsgs > 1)
		qsort(d.msgs, d.nmsgs, sizeof(*d.msgs), by_time);
	/* Mermaid refuses a diagram of more than maxTextSize (50 000 by
	 * default) characters: say so before it renders an error image */
	size = strlen("sequenceDiagram\n");
	for (size_t i = 0; i < d.nparts; i++)
		size += strlen("    participant P as \n") + 20 + strlen(d.parts[i].label);
	for (size_t i = 0; i < d.nmsgs; i++)
		size += 5 + strlen(d.msgs[i].text);
	if (size > MM_WARN_SIZE)
		fprintf(stderr, "socktrace: show: the Mermaid diagram is about %zu characters; Mermaid renders "
			"an error instead of a diagram past %d (its maxTextSize): narrow it with --pid or --port\n",
			size, MM_TEXT_MAX);
	fprintf(sh->out, "sequenceDiagram\n");
	for (size_t i = 0; i < d.nparts; i++)
		fprintf(sh->out, "    participant P%zu as %s\n", i + 1, d.parts[i].label);
	for (size_t i = 0; i < d.nmsgs; i++)
		fprintf(sh->out, "    %s\n", d.msgs[i].text);
	for (size_t i = 0; i < d.nparts; i++)
		free(d.parts[i].label);
	for (size_t i = 0; i < d.nmsgs; i++)
		free(d.msgs[i].text);
	free(d.parts);
	free(d.msgs);
	return d.oom ? 2 : 0;
}
