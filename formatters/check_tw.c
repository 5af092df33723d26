/* SPDX-License-Identifier: MIT */
/* check_tw.c - the rule max-time-wait=N of `socktrace check`: the closed
 * connections in TIME_WAIT, as the kernel's table at each exit showed them
 * (part 1), and those no exit's table covered (part 2: an active close
 * whose other end closed too, in TIME_WAIT by TCP's rules, or one whose
 * other end is not in the trace, which may be).
 *
 * Owns: the decision of part 2 for each TCP end as it is judged (as it
 * retires from a model that lets go of what has ended, st_model_retiring,
 * or at the end), the record kept of each end still pending (struct
 * tw_end), and the rule's sentences.  Part 1 reads the processes' exits,
 * which a retiring model keeps.  Gives the whole trace's verdict, counts
 * and sentences whatever retired when; reads the model only, never
 * prints (the reports do).
 */
#include "check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((noreturn)) void out_of_memory(void)
{
	fprintf(stderr, "socktrace: check: out of memory\n");
	exit(2);
}

/* A TCP end that part 2 counts unless the kernel's table after its end
 * said what became of it (its closer's exit after its close, or an exit
 * whose list names its tuple), which exits not yet fed may still do.
 * 104 bytes each (about 140 with its allocation and its two slots in the
 * tables), and only while pending: an end leaves when the process that
 * closed it exits with the kernel's count after its close (the usual
 * end: that exit covers it), and the rest at the end of the trace, where
 * the exits' lists decide.  An end whose tuple no exit can name and that no exit
 * counts (killed, ended holding it) is counted at once, never kept. */
struct tw_end {
	struct tw_end *prev[2], *next[2];	/* its chains: by tuple, by closer */
	uint64_t key;		/* st_msock_linger_key, 0 never matched by tuple */
	unsigned machine;	/* st_rec.machine, with key */
	int id;			/* st_msock.id: the first by it names "the first by" */
	int64_t t;		/* st_msock_linger_us */
	/* the end time (and id, for a tie) of the first later end of its
	 * machine and tuple: a tuple used again; an exit at or after it tells
	 * of that one, not of this (INT64_MAX none yet) */
	int64_t t_next;
	int next_id;
	bool expected;		/* tw_expected; else a candidate of "may be" */
	int64_t close_us;	/* its close's time: its closer's exit after it
				 * counts it; -1 it ended otherwise */
	int64_t pkey;		/* st_msock.end_pkey: its closer */
	/* who closed it, named at the end: check_who_rec of its end's event
	 * (the image that ran then, at_us), or check_who (at_us 0) */
	int64_t who_pid, at_us;
};

/* the ends pending, in two chained tables: by machine and tuple (0), by
 * the process that closed them (1) */
struct check_tw {
	struct tw_end **b[2];
	size_t nb, n;
	/* counted at once: (expected, unknown), and the first expected's
	 * id and who */
	int64_t expected, unknown;
	int first_id;
	int64_t first_pid, first_pkey, first_at_us;
};

static size_t slot(const struct check_tw *tw, uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	return (size_t)k & (tw->nb - 1);
}

static uint64_t hkey(const struct tw_end *e, int which)
{
	return which ? (uint64_t)e->pkey : e->key ^ ((uint64_t)e->machine << 48);
}

static void link_in(struct check_tw *tw, struct tw_end *e, int which)
{
	struct tw_end **head = &tw->b[which][slot(tw, hkey(e, which))];

	e->prev[which] = NULL;
	e->next[which] = *head;
	if (*head)
		(*head)->prev[which] = e;
	*head = e;
}

static void unlink_from(struct check_tw *tw, struct tw_end *e, int which)
{
	if (e->prev[which])
		e->prev[which]->next[which] = e->next[which];
	else
		tw->b[which][slot(tw, hkey(e, which))] = e->next[which];
	if (e->next[which])
		e->next[which]->prev[which] = e->prev[which];
}

static void grow(struct check_tw *tw)
{
	size_t onb = tw->nb;
	struct tw_end **old[2] = { tw->b[0], tw->b[1] };

	tw->nb = onb ? 2 * onb : 256;
	tw->b[0] = calloc(tw->nb, sizeof(*tw->b[0]));
	tw->b[1] = calloc(tw->nb, sizeof(*tw->b[1]));
	if (!tw->b[0] || !tw->b[1])
		out_of_memory();
	/* each end once, from the first table's chains */
	for (size_t i = 0; i < onb; i++)
		for (struct tw_end *e = old[0][i], *next; e; e = next) {
			next = e->next[0];
			link_in(tw, e, 0);
			link_in(tw, e, 1);
		}
	free(old[0]);
	free(old[1]);
}

static void drop(struct check_tw *tw, struct tw_end *e)
{
	unlink_from(tw, e, 0);
	unlink_from(tw, e, 1);
	free(e);
	tw->n--;
}

/* counted: not covered by any exit's table */
static void count(struct check_tw *tw, bool expected, int id, int64_t pid, int64_t pkey, int64_t at_us)
{
	if (!expected) {
		tw->unknown++;
		return;
	}
	if (!tw->expected++ || id < tw->first_id) {
		tw->first_id = id;
		tw->first_pid = pid;
		tw->first_pkey = pkey;
		tw->first_at_us = at_us;
	}
}

/* Did its closer's exit, after its close, count the kernel's TIME_WAIT
 * (in it when still there, listed or not)?  The exit fed so far. */
static bool exit_counts(const struct st_model *m, int64_t pkey, int64_t close_us)
{
	const struct st_proc *p;

	if (close_us < 0)
		return false;
	p = st_model_proc_key(m, pkey);
	return p && p->exit && p->exit->ev.ts_us >= close_us && p->exit->ev.time_wait >= 0;
}

/* Did s close its connection actively, the other end closing too, with
 * no reset: by TCP's rules it then waits in TIME_WAIT (60 s on Linux). */
static bool tw_expected(const struct st_msock *s)
{
	const struct st_conn *c = s->conn;
	const struct st_msock *peer;
	bool mine;

	if (!c || c->reset || !c->established || !c->client || !c->server)
		return false;
	peer = s == c->client ? c->server : c->client;
	mine = c->closer == ST_CLOSER_BOTH || (c->closer == ST_CLOSER_CLIENT && s == c->client) ||
	       (c->closer == ST_CLOSER_SERVER && s == c->server);
	return mine && s->end != ST_END_OPEN && peer->end != ST_END_OPEN;
}

/* closed first here, the other end not in the trace: may be in TIME_WAIT */
static bool tw_maybe(const struct st_msock *s)
{
	const struct st_conn *cn = s->conn;

	return !cn->reset && cn->established && (!cn->client || !cn->server) &&
	       ((cn->closer == ST_CLOSER_CLIENT && s == cn->client) ||
		(cn->closer == ST_CLOSER_SERVER && s == cn->server) || cn->closer == ST_CLOSER_UNKNOWN);
}

/* Each TCP end, once, fully decided (retiring, or at the end).  Whether
 * the kernel's table after its end said what became of it (then part 2
 * does not count it) is as the whole trace's model tells it
 * (st_msock.later, and the closer's exit after its close), decided here
 * or, pending, when its closer's exit is fed or at the end:
 *  - a later end of its machine and tuple (a tuple used again: a new
 *    connection on it can begin only once this one has ended, so it is
 *    judged with it or after it) is the one an exit after that end
 *    tells of, and this one is not;
 *  - the exits' lists are read at the end (they are kept).
 * An end judged only after a later end of its tuple (two sockets of one
 * tuple at once on one machine, or an end noticed late: closed out of
 * the shim's sight) is matched as if that later end were not there. */
void check_tw_sock(struct check *c, struct check_wanted *wt, struct check_result *res, const struct st_msock *s)
{
	const struct st_model *m = c->sh.model;
	struct check_tw *tw = wt->tw;
	uint64_t key = st_msock_linger_key(s);
	int64_t t = st_msock_linger_us(s), close_us, who_pid, at_us;
	bool expected;
	struct tw_end *e;

	(void)res;
	if (!tw && !(tw = wt->tw = calloc(1, sizeof(*tw))))
		out_of_memory();
	/* the ends of its tuple judged before it that ended before it: an
	 * exit at or after its end tells of it, not of them */
	for (e = key && tw->nb ? tw->b[0][slot(tw, key ^ ((uint64_t)s->machine << 48))] : NULL; e; e = e->next[0])
		if (e->key == key && e->machine == s->machine && (t > e->t || (t == e->t && s->id > e->id)) &&
		    (t < e->t_next || (t == e->t_next && s->id < e->next_id))) {
			e->t_next = t;
			e->next_id = s->id;
		}
	if (!s->conn || !st_msock_is_tcp(s) || s->end == ST_END_OPEN)
		return;
	expected = tw_expected(s);
	if (!expected && !tw_maybe(s))
		return;
	close_us = s->end == ST_END_CLOSED && s->close ? s->close->ev.ts_us : -1;
	if (exit_counts(m, s->end_pkey, close_us))
		return;
	if (s->end_rec && s->end_rec->pkey == s->end_pkey) {
		who_pid = s->end_rec->ev.pid;
		at_us = s->end_rec->ev.ts_us;
	} else {
		who_pid = s->end_pid;
		at_us = 0;
	}
	if (!key && close_us < 0) {	/* nothing can cover it */
		count(tw, expected, s->id, who_pid, s->end_pkey, at_us);
		return;
	}
	if (!(e = calloc(1, sizeof(*e))))
		out_of_memory();
	*e = (struct tw_end){ .key = key, .machine = s->machine, .id = s->id, .expected = expected, .t = t,
			      .t_next = INT64_MAX, .next_id = 0, .close_us = close_us, .pkey = s->end_pkey,
			      .who_pid = who_pid, .at_us = at_us };
	if (tw->n >= tw->nb)
		grow(tw);
	link_in(tw, e, 0);
	link_in(tw, e, 1);
	tw->n++;
}

/* r, an exit just fed: the ends its process closed before it leave when
 * it counted the kernel's TIME_WAIT */
void check_tw_fed(struct check *c, struct check_wanted *wt, const struct st_rec *r)
{
	struct check_tw *tw = wt->tw;

	if (!tw || !tw->n || r->ev.call != ST_CALL_exit)
		return;
	for (struct tw_end *e = tw->b[1][slot(tw, (uint64_t)r->pkey)], *next; e; e = next) {
		next = e->next[1];
		if (e->pkey == r->pkey && exit_counts(c->sh.model, e->pkey, e->close_us))
			drop(tw, e);
	}
}

/* an entry of an exit's list, for the end's match */
struct tw_exit {
	uint64_t key;
	unsigned machine;
	int64_t at_us;
};

static int tw_exit_cmp(const void *a, const void *b)
{
	const struct tw_exit *x = a, *y = b;

	if (x->machine != y->machine)
		return x->machine < y->machine ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->at_us < y->at_us ? -1 : x->at_us > y->at_us;
}

/* Does an exit's list name e's tuple, at or after e's end and before the
 * next end of its tuple (then the list tells of e)? */
static bool listed(const struct tw_exit *x, size_t n, const struct tw_end *e)
{
	struct tw_exit want = { e->key, e->machine, e->t };
	size_t lo = 0, hi = n;

	while (lo < hi) {	/* the first at or after e's end */
		size_t mid = (lo + hi) / 2;
		if (tw_exit_cmp(&x[mid], &want) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && x[lo].machine == e->machine && x[lo].key == e->key && x[lo].at_us < e->t_next;
}

/* The exits' lists (each process's exit, as the model has it), sorted;
 * their count */
static size_t exits_listed(const struct st_model *m, struct tw_exit **out)
{
	size_t n = 0, k = 0;
	struct tw_exit *v;

	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i]->exit)
			n += (size_t)m->procs[i]->exit->ev.nlingering;
	if (!(v = malloc((n ? n : 1) * sizeof(*v))))
		out_of_memory();
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_rec *x = m->procs[i]->exit;

		for (int j = 0; x && j < x->ev.nlingering; j++) {
			uint64_t key = st_ksock_linger_key(&x->ev.lingering[j]);
			if (key)
				v[k++] = (struct tw_exit){ key, x->machine, x->ev.ts_us };
		}
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), tw_exit_cmp);
	*out = v;
	return k;
}

/* the ends still pending, decided now that every exit is known */
static void tw_settle(const struct st_model *m, struct check_tw *tw)
{
	struct tw_exit *x = NULL;
	size_t nx = tw->n ? exits_listed(m, &x) : 0;

	for (size_t i = 0; i < tw->nb; i++)
		for (struct tw_end *e = tw->b[0][i], *next; e; e = next) {
			next = e->next[0];
			if (!exit_counts(m, e->pkey, e->close_us) && !(e->key && listed(x, nx, e)))
				count(tw, e->expected, e->id, e->who_pid, e->pkey, e->at_us);
			drop(tw, e);
		}
	free(x);
}

void check_tw_free(struct check_tw *tw)
{
	if (!tw)
		return;
	for (size_t i = 0; i < tw->nb; i++)
		for (struct tw_end *e = tw->b[0][i], *next; e; e = next) {
			next = e->next[0];
			free(e);
		}
	free(tw->b[0]);
	free(tw->b[1]);
	free(tw);
}

void check_tw_end(struct check *c, struct check_wanted *wt, struct check_result *res)
{
	const struct st_model *m = c->sh.model;
	long max = strtol(wt->arg, NULL, 10);	/* checked when the rule was asked for */
	int64_t total = 0, expected = 0, unknown = 0;
	char detail[2048] = "", more[1024] = "";
	size_t k = 0, shown = 0;
	int64_t rest = 0;

	/* what the kernel showed at each exit */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_proc *p = m->procs[i];
		int64_t tw = 0;
		char w[256];

		if (!p->exit)
			continue;
		if (p->exit->ev.time_wait >= 0) {
			tw = p->exit->ev.time_wait;
		} else {
			for (int j = 0; j < p->exit->ev.nlingering; j++)
				tw += p->exit->ev.lingering[j].state &&
				      !strcmp(p->exit->ev.lingering[j].state, "TIME_WAIT");
		}
		/* the first few processes by name, the others counted: a
		 * forking server's hundreds of children make one line */
		if (tw && ++shown <= CHECK_EXAMPLES && k < sizeof(detail))
			k += (size_t)snprintf(detail + k, sizeof(detail) - k, "%s%s: %" PRId64, k ? ", " : "",
					      check_who(c, p->pid, p->key, w, sizeof(w)), tw);
		else if (tw)
			rest += tw;
		total += tw;
	}
	if (shown > CHECK_EXAMPLES && k < sizeof(detail))
		snprintf(detail + k, sizeof(detail) - k, ", and %zu more processes: %" PRId64, shown - CHECK_EXAMPLES,
			 rest);
	/* connections no exit's look at the kernel's table covers (their
	 * process was killed, ended holding them, or did not ask the kernel):
	 * an active close whose other end closed too is in TIME_WAIT by TCP's
	 * rules; one whose other end was not traced may be */
	if (wt->tw) {
		tw_settle(m, wt->tw);
		expected = wt->tw->expected;
		unknown = wt->tw->unknown;
	}
	if (expected) {
		const struct check_tw *tw = wt->tw;
		const struct st_proc *p = st_model_proc_key(m, tw->first_pkey);
		char comm[128];
		const char *name = tw->first_at_us ?
			show_comm_at(&c->sh, tw->first_pkey, st_proc_image_at_us(p, tw->first_at_us), comm, sizeof(comm)) :
			show_comm(&c->sh, tw->first_pkey, comm, sizeof(comm));

		if (name)
			snprintf(more, sizeof(more), "the first by pid %" PRId64 " (%s)", tw->first_pid, name);
		else
			snprintf(more, sizeof(more), "the first by pid %" PRId64, tw->first_pid);
	}
	if (total + expected > max) {
		if (expected)
			check_violation(res,
					"%" PRId64 " closed connections in TIME_WAIT (%" PRId64 " in the kernel's table at exit%s%s%s; "
					"%" PRId64 " closed actively, the other end closing too, where no exit read the kernel's table "
					"after: %s), more than %ld: the side that closes first keeps TIME_WAIT for 60 s; let the "
					"other side close first, or reuse connections",
					total + expected, total, k ? " (" : "", detail, k ? ")" : "", expected, more, max);
		else
			check_violation(res,
					"%" PRId64 " closed connections in TIME_WAIT at exit (%s), more than %ld: the side that "
					"closes first keeps TIME_WAIT for 60 s; let the other side close first, or reuse "
					"connections",
					total, detail, max);
	}
	if (unknown)
		check_note(c,
			   "max-time-wait: %" PRId64 " more connection%s closed first here, whose other end is not in the trace, "
			   "may be in TIME_WAIT: no exit read the kernel's table after %s",
			   unknown, unknown == 1 ? " was" : "s were", unknown == 1 ? "it" : "them");
}
