/* SPDX-License-Identifier: MIT */
/* fmt_mermaid.c - `show -f mermaid`: a Mermaid sequenceDiagram of the
 * connections, participants named by endpoint, for markdown and CI reports.
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
	char addr[ST_ADDR_MAX];
	char *label;
};

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
 * the next MM_SLOTS - 1 calls. */
#define MM_SLOTS 4
static const char *mm(const char *s)
{
	static char slots[MM_SLOTS][8192];
	static unsigned next;
	char *out = slots[next++ % MM_SLOTS];
	size_t k = 0;

	s = show_esc(s ? s : "?");
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

static int part_of(struct diagram *d, const char *addr, const char *role, int64_t pid)
{
	for (size_t i = 0; i < d->nparts; i++)
		if (!strcmp(d->parts[i].addr, addr))
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
	snprintf(d->parts[d->nparts].addr, ST_ADDR_MAX, "%s", addr);
	if ((pid >= 0 ? asprintf(&d->parts[d->nparts].label, "%s %s (pid %" PRId64 ")", role,
				 mm(addr[0] ? addr : "?"), pid) :
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
		C = part_of(d, c->caddr, "client", cl->pid);
		msg(d, c->t_start, "Note over P%d: connection %d: connected to itself (simultaneous open, "
		    "no listener)", C, c->id);
		return;
	}
	C = part_of(d, c->caddr, "client", cl ? cl->pid : -1);
	S = part_of(d, c->saddr, "server", sv ? sv->pid : -1);
	int64_t t = c->t_start;
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;
	char a[32], b[32];

	(void)sh;
	msg(d, t, "P%d->>P%d: SYN (connection %d)", C, S, c->id);
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
			uint64_t sent = show_data_sent(&r->ev), received = show_data_received(&r->ev);
			show_bytes(a, sizeof(a), from_client ? sent : received);
			show_bytes(b, sizeof(b), from_client ? received : sent);
			msg(d, t, "Note over P%d,P%d: data: %s to the server, %s to the client", C, S, a, b);
		}
	}
	if (c->reset) {
		bool by_client = c->reset_by == cl;
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

	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		if (!show_keep_sock(sh, s))
			continue;
		if (s->listen) {
			int P = part_of(&d, s->local[0] ? s->local : s->bind ? s->bind->ev.addr : "?",
					"listener", s->pid);
			msg(&d, s->listen->ev.ts_us, "Note over P%d: listen (backlog %d)", P,
			    s->listen->ev.backlog);
		} else if (s->bind && s->bind->ev.err) {
			int P = part_of(&d, s->bind->ev.addr, "bind", s->pid);
			msg(&d, s->bind->ev.ts_us, "Note over P%d: bind failed: %s", P, mm(s->bind->ev.err));
		}
	}
	for (size_t i = 0; i < m->nconns; i++)
		if (show_keep_conn(sh, m->conns[i]))
			conn_msgs(sh, &d, m->conns[i]);
	if (d.nmsgs > 1)
		qsort(d.msgs, d.nmsgs, sizeof(*d.msgs), by_time);
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
