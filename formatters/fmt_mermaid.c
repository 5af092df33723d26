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
 *
 * Each socket's note and each connection's messages are made first as a
 * piece of their own (its ends numbered in the piece, its number left
 * blank), and the diagram is put together from the pieces at the end, as
 * from a whole trace: the notes in the order the sockets appeared, then
 * the first MM_MAX_CONNS connections in time order.  So a retiring model
 * (show_mermaid_sock, show_mermaid_conn) can hand them over as they go:
 * the notes are kept (one per listener or failed bind), and of the
 * connections only the MM_MAX_CONNS first in time order seen so far, and
 * a count of the rest.
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

/* in a piece's text: MARK_PART and a digit, its end of that number in the
 * piece (1, 2); MARK_ID, its connection's number (bytes a string of the
 * trace never holds once escaped for a screen) */
#define MARK_PART '\001'
#define MARK_ID '\002'

/* one end of a piece: a process, or an address not traced */
struct pend {
	char addr[ST_ADDR_MAX];
	char role[16];
	int64_t pid, pkey;
};

/* a socket's note or a connection's messages, with its ends */
struct piece {
	struct pend ends[2];
	int nends;
	struct msg *msgs;
	size_t nmsgs, capmsgs;
	int id;			/* the connection's number */
	/* where it goes: a socket's note by when it appeared, a connection
	 * by its start, then the round it came in and its place in it */
	int64_t k1;
	size_t k2, k3;
	int k4;
	bool oom;
};

struct show_mermaid_acc {
	struct piece *notes;
	size_t nnotes, capnotes;
	struct piece *conns;	/* sorted, at most MM_MAX_CONNS */
	size_t nconns;
	size_t kept;		/* connections the filters keep */
	size_t rounds;		/* handed over by a retiring model: rounds of it */
	size_t in_round;	/* ... connections in the last */
	size_t retired;		/* connections handed over before the end */
	bool streaming, oom;
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

/* An end of piece p, its number in p (1, 2): the diagram's lifeline of it
 * is found at the end (part_of), in the order the piece named them. */
static int end_of(struct piece *p, const char *addr, const char *role, int64_t pid, int64_t pkey)
{
	struct pend *e;

	for (int i = 0; i < p->nends; i++) {
		e = &p->ends[i];
		if (pid >= 0 ? e->pid >= 0 && e->pkey == pkey : e->pid < 0 && !strcmp(e->addr, addr))
			return i + 1;
	}
	if (p->nends == 2)
		return 2;	/* a piece has two ends at most */
	e = &p->ends[p->nends];
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	snprintf(e->role, sizeof(e->role), "%s", role);
	e->pid = pid;
	e->pkey = pkey;
	return ++p->nends;
}

static void vmsg(struct msg **msgs, size_t *n, size_t *cap, bool *oom, int64_t t, const char *fmt, va_list ap)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct msg *p = realloc(*msgs, ncap * sizeof(*p));
		if (!p) {
			*oom = true;
			return;
		}
		*msgs = p;
		*cap = ncap;
	}
	(*msgs)[*n].t = t;
	(*msgs)[*n].order = *n;
	if (vasprintf(&(*msgs)[*n].text, fmt, ap) < 0) {
		*oom = true;
		return;
	}
	(*n)++;
}

static void msg(struct diagram *d, int64_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pmsg(struct piece *p, int64_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* a message of the diagram: every string of the trace in it has passed
 * through mm() */
static void msg(struct diagram *d, int64_t t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(&d->msgs, &d->nmsgs, &d->capmsgs, &d->oom, t, fmt, ap);
	va_end(ap);
}

/* a message of a piece: its ends as MARK_PART and their number, its
 * connection's number as MARK_ID */
static void pmsg(struct piece *p, int64_t t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(&p->msgs, &p->nmsgs, &p->capmsgs, &p->oom, t, fmt, ap);
	va_end(ap);
}

static void piece_free(struct piece *p)
{
	for (size_t i = 0; i < p->nmsgs; i++)
		free(p->msgs[i].text);
	free(p->msgs);
	p->msgs = NULL;
	p->nmsgs = p->capmsgs = 0;
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

static void conn_msgs(struct piece *d, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	int C, S;

	if (c->self) {
		/* one socket connected to itself: no second participant */
		C = end_of(d, c->caddr, "client", cl->pid, cl->pkey);
		pmsg(d, c->t_start, "Note over \001%d: connection \002: connected to itself (simultaneous open, "
		    "no listener)", C);
		return;
	}
	C = end_of(d, c->caddr, "client", cl ? cl->pid : -1, cl ? cl->pkey : -1);
	if (!sv && c->queued_on)	/* never accepted: the listener's process holds its queue */
		S = end_of(d, c->saddr, "server", c->queued_on->pid, c->queued_on->pkey);
	else
		S = end_of(d, c->saddr, "server", sv ? sv->pid : -1, sv ? sv->pkey : -1);
	int64_t t = c->t_start;
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;
	char a[32], b[32];

	if (c->is_unix) {
		/* an AF_UNIX connection: no segments, its calls (both ends
		 * traced: model.h) */
		bool cf = c->closer != ST_CLOSER_SERVER;
		const struct st_rec *first = cf ? tc : ts, *second = cf ? ts : tc;
		int X = cf ? C : S, Y = cf ? S : C;

		if (c->pair)
			pmsg(d, t, "Note over \001%d,\001%d: socketpair (connection \002)", C, S);
		else
			pmsg(d, t, "\001%d->>\001%d: connect (connection \002: unix %s)", C, S,
			    mm(c->saddr[0] ? c->saddr : "?"));
		if (first)
			pmsg(d, first->ev.ts_us, "\001%d->>\001%d: %s (closed first)", X, Y, how(first, cf ? cl : sv));
		if (second)
			pmsg(d, second->ev.ts_us, "\001%d->>\001%d: %s", Y, X, how(second, cf ? sv : cl));
		return;
	}
	pmsg(d, t, "\001%d->>\001%d: SYN (connection \002: %s to %s)", C, S, mm(c->caddr[0] ? c->caddr : "?"),
	    mm(c->saddr[0] ? c->saddr : "?"));
	if (c->failure) {
		if (!strcmp(c->failure, "ECONNREFUSED"))
			pmsg(d, t, "\001%d-->>\001%d: RST (ECONNREFUSED)", S, C);
		else
			pmsg(d, cl->t_end, "Note over \001%d: connect failed: %s", C, mm(c->failure));
		return;
	}
	if (!c->established) {
		pmsg(d, t, "Note over \001%d: never seen established", C);
		return;
	}
	pmsg(d, t, "\001%d-->>\001%d: SYN-ACK", S, C);
	pmsg(d, t, "\001%d->>\001%d: ACK", C, S);
	{
		const struct st_rec *r = cl && cl->tcp_rec ? cl->tcp_rec : sv ? sv->tcp_rec : NULL;
		if (r) {
			bool from_client = cl && r == cl->tcp_rec;
			uint64_t sent, received;
			st_msock_data(from_client ? cl : sv, r, &sent, &received);
			show_bytes(a, sizeof(a), from_client ? sent : received);
			show_bytes(b, sizeof(b), from_client ? received : sent);
			pmsg(d, t, "Note over \001%d,\001%d: data: %s to the server, %s to the client", C, S, a, b);
		}
	}
	if (c->queued_on) {
		const struct st_msock *l = c->queued_on;
		bool ended = l->end != ST_END_OPEN && l->end != ST_END_ELSEWHERE;
		if (!c->queue_reset && tc) {
			pmsg(d, tc->ev.ts_us, "\001%d->>\001%d: FIN (%s, never accepted)", C, S, how(tc, cl));
			pmsg(d, tc->ev.ts_us, "\001%d-->>\001%d: ACK", S, C);
		}
		if (ended)
			pmsg(d, l->t_end, "\001%d-x\001%d: RST (listener closed, never accepted)", S, C);
		else
			pmsg(d, c->t_end, "Note over \001%d: never accepted (queued in the backlog)", S);
		return;
	}
	if (c->reset) {
		bool by_client = c->reset_by == cl;
		if (c->fin_before_reset) {
			/* a FIN came first: drawn before the RST, at its time */
			bool fc = c->fin_by == cl;
			int64_t tf = c->fin_before_reset->ev.ts_us;
			pmsg(d, tf, "\001%d->>\001%d: FIN (%s, active close)", fc ? C : S, fc ? S : C,
			    how(c->fin_before_reset, c->fin_by));
			pmsg(d, tf, "\001%d-->>\001%d: ACK", fc ? S : C, fc ? C : S);
		}
		pmsg(d, c->reset_by->close->ev.ts_us, "\001%d-x\001%d: RST (%s)", by_client ? C : S,
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
		pmsg(d, t1, "\001%d->>\001%d: FIN (%s, active close)", X, Y, how(first, fs));
		pmsg(d, t1, "\001%d-->>\001%d: ACK", Y, X);
		if (second || !(cf ? sv : cl)) {
			int64_t t2 = second ? second->ev.ts_us : t1;
			pmsg(d, t2, "\001%d->>\001%d: FIN (%s)", Y, X, how(second, ss));
			pmsg(d, t2, "\001%d-->>\001%d: ACK", X, Y);
			pmsg(d, t2, "Note over \001%d: TIME_WAIT", X);
		} else {
			pmsg(d, t1, "Note over \001%d: CLOSE_WAIT (never closed)", Y);
		}
		break;
	}
	case ST_CLOSER_BOTH:
		pmsg(d, tc->ev.ts_us, "\001%d->>\001%d: FIN (simultaneous close)", C, S);
		pmsg(d, ts->ev.ts_us, "\001%d->>\001%d: FIN (simultaneous close)", S, C);
		break;
	case ST_CLOSER_UNKNOWN:
		pmsg(d, c->t_end, "Note over \001%d,\001%d: closed, order unknown", C, S);
		break;
	case ST_CLOSER_NONE:
		pmsg(d, c->t_end, "Note over \001%d,\001%d: still open at the end of the trace", C, S);
		break;
	}
}

/* A socket's note, when it has one (a listener, an inherited or received
 * one, a failed bind): false none */
static bool sock_note(struct piece *p, const struct st_msock *s)
{
	if (s->listen) {
		const char *addr = s->local[0] ? s->local : s->bind ? s->bind->ev.addr : "?";
		int P = end_of(p, addr, "listener", s->pid, s->pkey);
		pmsg(p, s->listen->ev.ts_us, "Note over \001%d: listen %s (backlog %d)", P, mm(addr),
		     s->listen->ev.backlog);
	} else if ((s->inherited || s->received) && st_msock_listening(s)) {
		/* socket activation, a listener handed over at exec or in an
		 * SCM_RIGHTS message: its listen() is not in the trace */
		const char *addr = s->local[0] ? s->local : "?";
		int P = end_of(p, addr, "listener", s->pid, s->pkey);
		pmsg(p, s->t_first, "Note over \001%d: listening on %s (%s)", P, mm(addr),
		     s->received ? "received" : "inherited");
	} else if (s->bind && s->bind->ev.err) {
		int P = end_of(p, s->bind->ev.addr, "bind", s->pid, s->pkey);
		pmsg(p, s->bind->ev.ts_us, "Note over \001%d: bind %s failed: %s", P, mm(s->bind->ev.addr),
		     mm(s->bind->ev.err));
	} else {
		return false;
	}
	return true;
}

static void add_note(struct show_mermaid_acc *a, const struct show *sh, const struct st_msock *s, size_t place)
{
	struct piece p = { .k1 = a->streaming ? s->seen_us : 0, .k2 = a->streaming ? s->seen_order : place,
			   .k4 = s->id };

	if (!show_keep_sock(sh, s) || !sock_note(&p, s)) {
		piece_free(&p);
		return;
	}
	if (a->nnotes == a->capnotes) {
		size_t cap = a->capnotes ? 2 * a->capnotes : 16;
		struct piece *q = realloc(a->notes, cap * sizeof(*q));

		if (!q) {
			piece_free(&p);
			a->oom = true;
			return;
		}
		a->notes = q;
		a->capnotes = cap;
	}
	a->oom |= p.oom;
	a->notes[a->nnotes++] = p;
}

static int by_place(const void *x, const void *y)
{
	const struct piece *a = x, *b = y;

	if (a->k1 != b->k1)
		return a->k1 < b->k1 ? -1 : 1;
	if (a->k2 != b->k2)
		return a->k2 < b->k2 ? -1 : 1;
	if (a->k3 != b->k3)
		return a->k3 < b->k3 ? -1 : 1;
	return (a->k4 > b->k4) - (a->k4 < b->k4);
}

/* A connection the filters keep: drawn when among the MM_MAX_CONNS first
 * in time order (by its start, then the round it came in, then its place
 * in the round's time order, as the whole trace's numbering has it),
 * counted either way. */
static void add_conn(struct show_mermaid_acc *a, const struct show *sh, const struct st_conn *c, size_t round,
		     size_t place)
{
	struct piece p = { .k1 = c->t_start, .k2 = round, .k3 = place, .id = c->id };
	size_t i;

	if (!show_keep_conn(sh, c))
		return;
	a->kept++;
	if (a->nconns == MM_MAX_CONNS && by_place(&p, &a->conns[MM_MAX_CONNS - 1]) >= 0)
		return;
	conn_msgs(&p, c);
	a->oom |= p.oom;
	if (a->nconns == MM_MAX_CONNS)
		piece_free(&a->conns[--a->nconns]);	/* the latest goes */
	for (i = a->nconns; i > 0 && by_place(&p, &a->conns[i - 1]) < 0; i--)
		a->conns[i] = a->conns[i - 1];
	a->conns[i] = p;
	a->nconns++;
}

static struct show_mermaid_acc *acc_new(bool streaming)
{
	struct show_mermaid_acc *a = calloc(1, sizeof(*a));

	if (a && !(a->conns = calloc(MM_MAX_CONNS, sizeof(*a->conns)))) {
		free(a);
		return NULL;
	}
	if (a)
		a->streaming = streaming;
	return a;
}

static void acc_free(struct show_mermaid_acc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nnotes; i++)
		piece_free(&a->notes[i]);
	for (size_t i = 0; i < a->nconns; i++)
		piece_free(&a->conns[i]);
	free(a->notes);
	free(a->conns);
	free(a);
}

int show_mermaid_begin(struct show *sh)
{
	if (!sh->mermaid)
		sh->mermaid = acc_new(true);
	return sh->mermaid ? 0 : -1;
}

void show_mermaid_sock(struct show *sh, const struct st_msock *s)
{
	if (sh->mermaid)
		add_note(sh->mermaid, sh, s, 0);
}

void show_mermaid_conn(struct show *sh, const struct st_conn *c, size_t round)
{
	struct show_mermaid_acc *a = sh->mermaid;

	if (!a)
		return;
	if (round != a->rounds) {
		a->rounds = round;
		a->in_round = 0;
	}
	a->retired++;
	add_conn(a, sh, c, round, a->in_round++);
}

void show_mermaid_free(struct show *sh)
{
	acc_free(sh->mermaid);
	sh->mermaid = NULL;
}

/* a piece's message with its ends' lifelines (map) and number (id) in
 * place, into the diagram */
static void place_msg(struct diagram *d, const struct msg *pm, const int map[2], int id)
{
	size_t n = strlen(pm->text) + 64, k = 0;
	char *out = malloc(n);

	if (!out) {
		d->oom = true;
		return;
	}
	for (const char *q = pm->text; *q; q++) {
		if (k + 24 >= n) {
			char *o = realloc(out, n *= 2);
			if (!o) {
				free(out);
				d->oom = true;
				return;
			}
			out = o;
		}
		if (*q == MARK_PART && (q[1] == '1' || q[1] == '2')) {
			k += (size_t)sprintf(out + k, "P%d", map[q[1] - '1']);
			q++;
		} else if (*q == MARK_ID) {
			k += (size_t)sprintf(out + k, "%d", id);
		} else {
			out[k++] = *q;
		}
	}
	out[k] = '\0';
	msg(d, pm->t, "%s", out);
	free(out);
}

static void place_piece(const struct show *sh, struct diagram *d, const struct piece *p, int id)
{
	int map[2] = { 1, 1 };

	for (int i = 0; i < p->nends; i++)
		map[i] = part_of(sh, d, p->ends[i].addr, p->ends[i].role, p->ends[i].pid, p->ends[i].pkey);
	for (size_t i = 0; i < p->nmsgs; i++)
		place_msg(d, &p->msgs[i], map, id);
}

static int draw(struct show *sh, struct show_mermaid_acc *a, int64_t t_last, bool renumber)
{
	struct diagram d = { 0 };
	size_t left = a->kept - a->nconns, size = 0;

	d.oom = a->oom;
	for (size_t i = 0; i < a->nnotes; i++)
		place_piece(sh, &d, &a->notes[i], 0);
	/* the first MM_MAX_CONNS connections; the cut is said in the diagram */
	for (size_t i = 0; i < a->nconns; i++)
		place_piece(sh, &d, &a->conns[i], renumber ? (int)i + 1 : a->conns[i].id);
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

/* whether a retiring stream drew connections with other numbers than the
 * whole trace's: some retired, and the filters left out some (whose
 * numbers count) */
static bool numbers_differ(const struct show *sh, const struct show_mermaid_acc *a)
{
	return a->retired && (sh->npids || sh->nports);
}

bool show_mermaid_numbered_as_ended(const struct show *sh)
{
	return sh->mermaid && numbers_differ(sh, sh->mermaid);
}

int show_mermaid(struct show *sh)
{
	const struct st_model *m = sh->model;
	struct show_mermaid_acc *a = sh->mermaid;
	int rc;

	if (a) {
		/* a retiring model's end: what it still holds */
		size_t round = (size_t)-1;

		for (size_t i = 0; i < m->nsocks; i++)
			add_note(a, sh, m->socks[i], 0);
		if (a->nnotes > 1)
			qsort(a->notes, a->nnotes, sizeof(*a->notes), by_place);
		for (size_t i = 0; i < m->nconns; i++)
			add_conn(a, sh, m->conns[i], round, i);
		/* with nothing left out, the k-th in time order is the whole
		 * trace's number k */
		return draw(sh, a, m->t_last, a->retired && !numbers_differ(sh, a));
	}
	if (!(a = acc_new(false)))
		return 2;
	for (size_t i = 0; i < m->nsocks; i++)
		add_note(a, sh, m->socks[i], i);
	for (size_t i = 0; i < m->nconns; i++)
		add_conn(a, sh, m->conns[i], 0, i);
	rc = draw(sh, a, m->t_last, false);
	acc_free(a);
	return rc;
}
