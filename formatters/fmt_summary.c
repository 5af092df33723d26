/* SPDX-License-Identifier: MIT */
/* fmt_summary.c - `show -f summary`: strace -c, per endpoint.
 *
 * Owns: counting.  For each endpoint (a listening address with the
 * connections it accepted, or a server address the traced program
 * connected to, or a socket's own address) a table of calls, then its
 * sockets, connections, final states and errors; the same for everything.
 * Must never count a socket or a call under two endpoints (the endpoints
 * add up to the totals; calls on no known socket have a group of their
 * own), nor a connection twice in the totals (its client and server ends,
 * both traced, are one connection); never reads files nor parses a
 * command line.
 */
#include "show.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLS 32
#define MAX_NAMES 48

struct callstat {
	enum st_call call;
	unsigned count, errors;
	int64_t total_ns, max_ns;
};

struct namecount {
	char *name;		/* a copy: the events may be gone (retiring model) */
	const char *call;	/* errors: the call that failed (first seen) */
	unsigned count;
};

struct group {
	char key[ST_ADDR_MAX + 32];
	char title[ST_ADDR_MAX + 64];
	struct callstat calls[MAX_CALLS];
	int ncalls;
	unsigned opened, closed, leaked, open_at_end, listeners;
	unsigned killed;	/* held by a process a signal killed: not judged */
	unsigned inherited_held;	/* held from before the trace to its process's exit: not judged */
	unsigned untraced;	/* held by a program the trace does not follow: not judged */
	unsigned unseen;	/* of the closed: closed out of the shim's sight */
	unsigned conns, failed_conns;
	int64_t life_sum, life_max;
	unsigned bytes_unknown;	/* connections whose last counters are not their end's */
	unsigned lives;
	uint64_t sent, received;
	struct namecount states[MAX_NAMES], errors[MAX_NAMES];
	int nstates, nerrors;
	int64_t *edges;		/* +ts open, -ts close, for "at most open at once" */
	size_t nedges, capedges;
	size_t order;
	/* its first socket's place in a sorted trace (st_msock.seen_us,
	 * seen_order): the order of the endpoints when a retiring model
	 * handed the sockets out as they ended */
	int64_t first_us;
	size_t first_order;
};

static void count_call(struct group *g, const struct st_rec *r)
{
	struct callstat *c = NULL;

	for (int i = 0; i < g->ncalls; i++)
		if (g->calls[i].call == r->ev.call)
			c = &g->calls[i];
	if (!c) {
		if (g->ncalls == MAX_CALLS)
			return;
		c = &g->calls[g->ncalls++];
		c->call = r->ev.call;
	}
	c->count++;
	if (r->ev.err)
		c->errors++;
	if (r->ev.dur_ns > 0) {
		c->total_ns += r->ev.dur_ns;
		if (r->ev.dur_ns > c->max_ns)
			c->max_ns = r->ev.dur_ns;
	}
}

static void count_name(struct namecount *t, int *n, const char *name, const char *call)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(t[i].name, name)) {
			t[i].count++;
			return;
		}
	if (*n == MAX_NAMES || !(t[*n].name = strdup(name)))
		return;
	t[*n].call = call;
	t[*n].count = 1;
	(*n)++;
}

static void edge(struct group *g, int64_t v)
{
	if (g->nedges == g->capedges) {
		size_t cap = g->capedges ? g->capedges * 2 : 64;
		int64_t *p = realloc(g->edges, cap * sizeof(*p));
		if (!p)
			return;
		g->edges = p;
		g->capedges = cap;
	}
	g->edges[g->nedges++] = v;
}

static int by_abs(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	int64_t ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;

	if (ax != ay)
		return ax < ay ? -1 : 1;
	return x < y ? -1 : x > y;	/* a close before an open at the same time */
}

static unsigned max_open(struct group *g)
{
	int cur = 0, best = 0;

	if (g->nedges > 1)	/* edges is NULL when there are none */
		qsort(g->edges, g->nedges, sizeof(*g->edges), by_abs);
	for (size_t i = 0; i < g->nedges; i++) {
		cur += g->edges[i] < 0 ? -1 : 1;
		if (cur > best)
			best = cur;
	}
	return (unsigned)best;
}

/* the endpoint a socket is counted under */
static void endpoint_of(const struct st_msock *s, char *key, size_t kn, char *title, size_t tn)
{
	const char *kind = st_msock_kind(s);
	const struct st_msock *l = s->listener;

	if (l || st_msock_listening(s) || (s->bind && s->bind->ev.err && !s->connect && st_msock_is_tcp(s))) {
		/* listeners, what they accepted, and attempts to listen there */
		const struct st_msock *x = l ? l : s;
		const char *a = x->local[0] ? x->local : x->bind ? x->bind->ev.addr : "?";
		snprintf(key, kn, "L %s %s", kind, a);
		snprintf(title, tn, "%s %s (server side)", kind, a);
	} else if (s->connect) {
		const char *a = st_msock_remote(s);
		snprintf(key, kn, "C %s %s", kind, a);
		snprintf(title, tn, "%s -> %s (client side)", kind, a);
	} else if (s->bind && s->bind->ev.addr[0]) {
		snprintf(key, kn, "B %s %s", kind, s->bind->ev.addr);
		snprintf(title, tn, "%s %s (bound%s)", kind, s->bind->ev.addr,
			 s->bind->ev.err ? ", bind failed" : "");
	} else if (s->local[0]) {
		snprintf(key, kn, "B %s %s", kind, s->local);
		snprintf(title, tn, "%s %s", kind, s->local);
	} else {
		snprintf(key, kn, "U %s", kind);
		snprintf(title, tn, "%s (unnamed)", kind);
	}
}

struct groups {
	struct group *g;
	size_t n, cap;
};

static void group_first(struct group *g, const struct st_msock *s)
{
	if (s && (s->seen_us < g->first_us || (s->seen_us == g->first_us && s->seen_order < g->first_order))) {
		g->first_us = s->seen_us;
		g->first_order = s->seen_order;
	}
}

/* s: the socket that brings it, NULL none (calls on no known socket) */
static struct group *group_for(struct groups *gs, const char *key, const char *title, const struct st_msock *s)
{
	for (size_t i = 0; i < gs->n; i++)
		if (!strcmp(gs->g[i].key, key)) {
			group_first(&gs->g[i], s);
			return &gs->g[i];
		}
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 16;
		struct group *p = realloc(gs->g, cap * sizeof(*p));
		if (!p)
			return NULL;
		gs->g = p;
		gs->cap = cap;
	}
	memset(&gs->g[gs->n], 0, sizeof(gs->g[gs->n]));
	snprintf(gs->g[gs->n].key, sizeof(gs->g[gs->n].key), "%s", key);
	snprintf(gs->g[gs->n].title, sizeof(gs->g[gs->n].title), "%s", title);
	gs->g[gs->n].order = gs->n;
	gs->g[gs->n].first_us = INT64_MAX;
	gs->g[gs->n].first_order = SIZE_MAX;
	group_first(&gs->g[gs->n], s);
	return &gs->g[gs->n++];
}

/* all: g is every endpoint's: a connection whose two ends were traced is
 * one connection there (counted at its client end), not two */
static void add_sock(const struct show *sh, struct group *g, const struct st_msock *s, bool all)
{
	const struct st_model *m = sh->model;

	g->opened++;
	edge(g, s->t_first + 1);	/* +1: 0 would have no sign */
	/* held to its exit by a process, whichever ended it last: leaked */
	switch (st_msock_leaked(s) ? ST_END_EXIT : s->end) {
	case ST_END_UNSEEN:
		g->unseen++;
		__attribute__((fallthrough));	/* closed all the same */
	case ST_END_CLOSED:
	case ST_END_ELSEWHERE:
	case ST_END_EXEC:
		g->closed++;
		break;
	case ST_END_EXIT:
		if (s->handed && !st_msock_leaked(s)) {
			/* a program it was handed to held it to its end, as check
			 * judges it: ended, not leaked */
			g->closed++;
			break;
		}
		if (!st_msock_leaked(s)) {
			/* held from before the trace: not its process's to close,
			 * as check judges it */
			g->inherited_held++;
			break;
		}
		g->leaked++;
		break;
	case ST_END_KILLED:
		g->killed++;
		break;
	case ST_END_UNTRACED:
		g->untraced++;
		break;
	case ST_END_OPEN:
		g->open_at_end++;
		break;
	}
	/* whatever ended it (its last holder's close, exit or death), it is
	 * open no more: only a socket held at the end of the trace stays */
	if (s->end != ST_END_OPEN)
		edge(g, -(s->t_end + 1));
	if (st_msock_listening(s))
		g->listeners++;
	if (s->final_state && (s->end == ST_END_CLOSED || s->end == ST_END_ELSEWHERE))
		count_name(g->states, &g->nstates, s->final_state, NULL);
	if (s->conn || (s->made && s->listener)) {
		const struct st_rec *t = st_msock_teardown(s);
		/* from the connect, or the accept's return (it may have waited
		 * long for the client); to the teardown, else the end of the
		 * socket (its last holder's exit: a forking server's child),
		 * else the end of the trace */
		int64_t start = s->connect ? s->connect->ev.ts_us :
				s->made ? st_rec_effect_us(s->made) : s->t_first;
		int64_t end = t ? t->ev.ts_us :
			      s->end != ST_END_OPEN && s->end_rec ? s->end_rec->ev.ts_us : m->t_last;

		/* both ends traced: the connection's one life, as the timeline
		 * and connections give it (from the connect to the first end
		 * that stopped sending), whichever end it is counted for */
		if (s->conn && s->conn->client && s->conn->server) {
			const struct st_msock *o = s->conn->client == s ? s->conn->server : s->conn->client;
			const struct st_rec *to = st_msock_teardown(o);

			if (s->conn->client->connect)
				start = s->conn->client->connect->ev.ts_us;
			if (to && to->ev.ts_us < end)
				end = to->ev.ts_us;
		}

		bool again = all && s->conn && s->conn->client && s->conn->client != s &&
			     show_keep_sock(sh, s->conn->client);

		if (s->connect_failed) {
			g->failed_conns++;
		} else if ((s->connected || s->listener) && !again) {
			g->conns++;
			g->lives++;
			g->life_sum += end - start;
			if (end - start > g->life_max)
				g->life_max = end - start;
		}
		if (s->tcp_rec && (s->tcp_final || s->end == ST_END_OPEN)) {
			uint64_t sent, received;
			st_msock_data(s, s->tcp_rec, &sent, &received);
			g->sent += sent;
			g->received += received;
		} else if (!s->connect_failed && (s->connected || s->listener) && !again) {
			g->bytes_unknown++;	/* its counters were not read at its end */
		}
	}
}

static void add_rec(struct group *g, const struct st_rec *r)
{
	count_call(g, r);
	if (r->ev.err)
		count_name(g->errors, &g->nerrors, r->ev.err, st_call_name(r->ev.call));
	else if (r->ev.so_error && strcmp(r->ev.so_error, "0"))
		count_name(g->errors, &g->nerrors, r->ev.so_error, "connect (SO_ERROR)");
}

static int by_count(const void *a, const void *b)
{
	const struct callstat *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(st_call_name(x->call), st_call_name(y->call));
}

static int by_name(const void *a, const void *b)
{
	const struct namecount *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* When an exit's list of the kernel's lingering sockets was cut short (at
 * most ST_LINGERING_MAX a process), the sockets it could not list keep the state they
 * had right after their close: says so, with the kernel's own counts at
 * exit (time_wait and lingering_total are whole), into buf; "" when every
 * list was whole. */
static void cut_lists_note(const struct st_model *m, char *buf, size_t n)
{
	int64_t listed = 0, total = 0, tw = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_rec *x = m->procs[i]->exit;
		if (!x || !x->ev.lingering)
			continue;
		listed += x->ev.nlingering;
		total += x->ev.lingering_total > x->ev.nlingering ? x->ev.lingering_total : x->ev.nlingering;
		tw += x->ev.time_wait > 0 ? x->ev.time_wait : 0;
	}
	if (total > listed)
		snprintf(buf, n,
			 "  %-13s the kernel's table at exit held %" PRId64 " of these connections (%" PRId64
			 " in TIME_WAIT), of which the exits listed %" PRId64
			 " (at most %d a process): the others are counted above in their state right after "
			 "close\n",
			 "", total, tw, listed, ST_LINGERING_MAX);
}

static void print_group(const struct show *sh, struct group *g, bool all)
{
	FILE *o = sh->out;
	struct callstat tot = { ST_CALL_NONE, 0, 0, 0, 0 };
	char a[32], b[32];

	fprintf(o, "%s%s%s\n", show_c(sh, SHOW_BOLD), all ? "all endpoints" : show_esc(g->title),
		show_c(sh, SHOW_OFF));
	qsort(g->calls, (size_t)g->ncalls, sizeof(g->calls[0]), by_count);
	fprintf(o, "  %-14s %8s %8s %14s %12s\n", "call", "count", "errors", "total_us", "max_us");
	for (int i = 0; i < g->ncalls; i++) {
		const struct callstat *c = &g->calls[i];
		fprintf(o, "  %-14s %8u %s%8u%s %14.3f %12.3f\n", st_call_name(c->call), c->count,
			c->errors ? show_c(sh, SHOW_RED) : "", c->errors,
			c->errors ? show_c(sh, SHOW_OFF) : "", (double)c->total_ns / 1e3,
			(double)c->max_ns / 1e3);
		tot.count += c->count;
		tot.errors += c->errors;
		tot.total_ns += c->total_ns;
		if (c->max_ns > tot.max_ns)
			tot.max_ns = c->max_ns;
	}
	fprintf(o, "  %-14s %8s %8s %14s %12s\n", "", "--------", "--------", "--------------",
		"------------");
	fprintf(o, "  %-14s %8u %8u %14.3f %12.3f\n", "total", tot.count, tot.errors,
		(double)tot.total_ns / 1e3, (double)tot.max_ns / 1e3);
	fprintf(o, "  %-13s %u opened, %u closed", "sockets", g->opened, g->closed);
	if (g->unseen)
		fprintf(o, " (%u out of sight)", g->unseen);
	fprintf(o, ", %s%u leaked%s", g->leaked ? show_c(sh, SHOW_YELLOW) : "", g->leaked,
		g->leaked ? show_c(sh, SHOW_OFF) : "");
	if (g->inherited_held)
		fprintf(o, ", %u inherited and held to exit", g->inherited_held);
	if (g->killed)
		fprintf(o, ", %u held by a killed process", g->killed);
	if (g->untraced)
		fprintf(o, ", %u held by an untraced program at its end", g->untraced);
	if (g->open_at_end)
		fprintf(o, ", %u open at the end of the trace", g->open_at_end);
	fprintf(o, ", at most %u open at once", max_open(g));
	if (g->listeners)
		fprintf(o, ", %u listening", g->listeners);
	fputc('\n', o);
	fprintf(o, "  %-13s %u", "connections", g->conns);
	if (g->failed_conns)
		fprintf(o, " (+%u failed)", g->failed_conns);
	if (g->lives) {
		show_dur(a, sizeof(a), g->life_sum / g->lives);
		show_dur(b, sizeof(b), g->life_max);
		fprintf(o, ", lifetime mean %s max %s", a, b);
	}
	show_bytes(a, sizeof(a), g->sent);
	show_bytes(b, sizeof(b), g->received);
	fprintf(o, ", sent %s, received %s", a, b);
	if (g->bytes_unknown)
		fprintf(o, " (bytes of %u unknown: no close ended %s in the trace)", g->bytes_unknown,
			g->bytes_unknown == 1 ? "it" : "them");
	fputc('\n', o);
	qsort(g->states, (size_t)g->nstates, sizeof(g->states[0]), by_name);
	fprintf(o, "  %-13s", "final states");
	if (!g->nstates)
		fprintf(o, " none recorded");
	for (int i = 0; i < g->nstates; i++)
		fprintf(o, "%s %s %u", i ? "," : "", show_esc(g->states[i].name), g->states[i].count);
	fputc('\n', o);
	if (all) {
		char note[512];
		cut_lists_note(sh->model, note, sizeof(note));
		fputs(note, o);
	}
	qsort(g->errors, (size_t)g->nerrors, sizeof(g->errors[0]), by_name);
	fprintf(o, "  %-13s", "errors");
	if (!g->nerrors)
		fprintf(o, " none");
	for (int i = 0; i < g->nerrors; i++)
		fprintf(o, "%s %s%s%s %u (%s)", i ? "," : "", show_c(sh, SHOW_RED), show_esc(g->errors[i].name),
			show_c(sh, SHOW_OFF), g->errors[i].count, g->errors[i].call);
	fputc('\n', o);
}

/* What -f summary counted so far (struct show's summary): a retiring
 * model hands it sockets and events as they go, show_summary the rest. */
struct show_summary_acc {
	struct groups gs;
	struct group *all;
	bool retired;		/* some came before the end */
	bool oom;
};

static struct show_summary_acc *acc_of(struct show *sh)
{
	if (!sh->summary && (sh->summary = calloc(1, sizeof(*sh->summary))) &&
	    !(sh->summary->all = calloc(1, sizeof(*sh->summary->all)))) {
		free(sh->summary);
		sh->summary = NULL;
	}
	return sh->summary;
}

void show_summary_free(struct show *sh)
{
	struct show_summary_acc *a = sh->summary;

	if (!a)
		return;
	for (size_t i = 0; i <= a->gs.n; i++) {
		struct group *g = i < a->gs.n ? &a->gs.g[i] : a->all;
		for (int k = 0; k < g->nstates; k++)
			free(g->states[k].name);
		for (int k = 0; k < g->nerrors; k++)
			free(g->errors[k].name);
		free(g->edges);
	}
	free(a->gs.g);
	free(a->all);
	free(a);
	sh->summary = NULL;
}

static void fold_sock(struct show *sh, struct show_summary_acc *a, const struct st_msock *s)
{
	char key[ST_ADDR_MAX + 32], title[ST_ADDR_MAX + 64];
	struct group *g;

	if (!show_keep_sock(sh, s))
		return;
	endpoint_of(s, key, sizeof(key), title, sizeof(title));
	g = group_for(&a->gs, key, title, s);
	if (!g) {
		a->oom = true;
		return;
	}
	add_sock(sh, g, s, false);
	add_sock(sh, a->all, s, true);
}

static void fold_rec(struct show_summary_acc *a, const struct st_rec *r, const struct st_msock *s)
{
	char key[ST_ADDR_MAX + 32], title[ST_ADDR_MAX + 64];
	struct group *g;

	if (st_call_is(r->ev.call, ST_K_PROC))
		return;
	if (s) {
		endpoint_of(s, key, sizeof(key), title, sizeof(title));
		g = group_for(&a->gs, key, title, s);
	} else {
		g = group_for(&a->gs, "~", "calls on no known socket", NULL);
	}
	if (!g) {
		a->oom = true;
		return;
	}
	add_rec(g, r);
	add_rec(a->all, r);
}

void show_summary_sock(struct show *sh, const struct st_msock *s)
{
	struct show_summary_acc *a = acc_of(sh);

	if (!a)
		return;
	a->retired = true;
	fold_sock(sh, a, s);
}

void show_summary_rec(struct show *sh, const struct st_rec *r, const struct st_msock *owner)
{
	struct show_summary_acc *a = acc_of(sh);

	if (!a || !show_keep_rec(sh, r))
		return;
	a->retired = true;
	fold_rec(a, r, owner);
}

/* by the first socket's place in the trace; calls on no known socket last */
static int by_first(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	if (a->first_us != b->first_us)
		return a->first_us < b->first_us ? -1 : 1;
	if (a->first_order != b->first_order)
		return a->first_order < b->first_order ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

int show_summary(struct show *sh)
{
	const struct st_model *m = sh->model;
	struct show_summary_acc *a = acc_of(sh);
	int rc = 0;

	if (!a)
		return 2;
	for (size_t i = 0; i < m->nsocks && !a->oom; i++)
		fold_sock(sh, a, m->socks[i]);
	for (size_t i = 0; i < sh->nrecs && !a->oom; i++) {
		const struct st_rec *r = sh->recs[i];
		fold_rec(a, r, r->lsock ? r->lsock : r->sock);
	}
	if (a->oom) {
		rc = 2;
		goto out;
	}
	/* the whole trace made them in the order of their first socket;
	 * sockets handed out as they ended did not */
	if (a->retired && a->gs.n > 1)
		qsort(a->gs.g, a->gs.n, sizeof(*a->gs.g), by_first);
	for (size_t i = 0; i < a->gs.n; i++) {
		print_group(sh, &a->gs.g[i], false);
		fputc('\n', sh->out);
	}
	print_group(sh, a->all, true);
out:
	show_summary_free(sh);
	return rc;
}
