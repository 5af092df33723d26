/* SPDX-License-Identifier: MIT */
/* fmt_chrome.c - `show -f chrome`: the Chrome trace event format (the JSON
 * object form), which Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * Owns: the mapping of a trace onto that format's tracks and events
 * (socktrace(1) describes it):
 *   - one process per traced process (process_name: its command line and
 *     pid), one thread track per thread that made a call (thread_name);
 *   - a complete slice ("ph":"X") per call with a measured duration, on
 *     its thread, from the call's start to its return;
 *   - a complete slice per socket's life (from its first event to its end;
 *     a TCP connection's end is named "conn N client -> server") on
 *     tracks of their own under the process ("sockets 1", "sockets 2", ...:
 *     lives that overlap in time go to different tracks, so that the
 *     slices of one track nest as the format requires);
 *   - instant events ("ph":"i") on the thread's track for the changes of
 *     a socket's TCP state (named by the new state, cat "state"), for
 *     failed calls (named by their errno, cat "error"), for closes that
 *     sent a reset ("RST"), and for the events without a duration (start,
 *     exit, end, gone, ...).
 * Times ("ts", "dur") are microseconds, with nanosecond fractions, from the
 * first event of the merged trace; otherData.t0_us is that event's `ts` in
 * microseconds since the epoch.  The calls of one thread never overlap in
 * the output: a call whose start, rounded to the microsecond in the trace,
 * falls before the end of the thread's previous call starts at that end.
 * Uses jansson for every JSON value, written in ASCII (\uXXXX for the
 * rest), so that no byte of the trace reaches a screen raw; the names of
 * socket slices hold addresses escaped as the text formats show them.
 * Reads the model and the events only.
 */
#include "show.h"

#include <inttypes.h>
#include <stdlib.h>

#include <jansson.h>

/* pseudo thread ids of the socket tracks: above every real tid (pid_max is
 * at most 2^22), one per track, unique across processes */
#define LANE_TID_BASE 1000000000

struct thread {
	int64_t pid, tid;
	int64_t key;		/* its process's key (st_rec.pkey) */
	int64_t last_end_ns;	/* end of its last call slice, relative to t0 */
};

/* the socket tracks of one process: the end of each one's last life */
struct lane {
	int64_t end;
	int tid;
};

struct lanes {
	int64_t pid;
	struct lane *v;
	int n, cap;
};

struct chrome {
	struct show *sh;
	int64_t t0_us;
	bool first;		/* no event written yet */
	bool oom;
	struct thread *threads;
	size_t nthreads;
	const char **state;	/* by socket id: its last TCP state seen */
	int next_lane_tid;
};

static int cmp_thread(const void *a, const void *b)
{
	const struct thread *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int64_t rec_tid(const struct st_rec *r)
{
	return r->ev.tid > 0 ? r->ev.tid : r->ev.pid;
}

static struct thread *find_thread(struct chrome *c, int64_t pid, int64_t tid)
{
	struct thread key = { .pid = pid, .tid = tid };

	return bsearch(&key, c->threads, c->nthreads, sizeof(key), cmp_thread);
}

/* microseconds from t0, with the nanoseconds as a fraction */
static json_t *us_from_ns(int64_t ns)
{
	if (ns % 1000 == 0)
		return json_integer(ns / 1000);
	return json_real((double)ns / 1000.0);
}

static json_t *str_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

/* Writes one event and drops it. */
static void emit(struct chrome *c, json_t *ev)
{
	if (!ev) {
		c->oom = true;
		return;
	}
	fputs(c->first ? "\n" : ",\n", c->sh->out);
	c->first = false;
	if (json_dumpf(ev, c->sh->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15)))
		c->oom = true;
	json_decref(ev);
}

static json_t *base(const char *ph, const char *name, const char *cat, int64_t pid, int64_t tid)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "ph", ph, "name", name, "cat", cat, "pid",
			 (json_int_t)pid, "tid", (json_int_t)tid);
}

static void meta(struct chrome *c, const char *what, int64_t pid, int64_t tid, const char *name)
{
	json_t *ev = base("M", what, "__metadata", pid, tid);

	if (ev && (json_object_set_new(ev, "ts", json_integer(0)) ||
		   json_object_set_new(ev, "args", json_pack("{s:s}", "name", name))))
		c->oom = true;
	emit(c, ev);
}

static void sort_index(struct chrome *c, int64_t pid, int64_t tid, int64_t index)
{
	json_t *ev = base("M", "thread_sort_index", "__metadata", pid, tid);

	if (ev && json_object_set_new(ev, "ts", json_integer(0)))
		c->oom = true;
	if (ev && json_object_set_new(ev, "args", json_pack("{s:I}", "sort_index", (json_int_t)index)))
		c->oom = true;
	emit(c, ev);
}

/* The threads of the kept events, sorted and unique; their tracks' names. */
static int threads(struct chrome *c)
{
	struct show *sh = c->sh;
	size_t n = 0;
	char comm[256], name[320];

	c->threads = calloc(sh->nrecs ? sh->nrecs : 1, sizeof(*c->threads));
	if (!c->threads)
		return -1;
	for (size_t i = 0; i < sh->nrecs; i++) {
		c->threads[n].pid = sh->recs[i]->ev.pid;
		c->threads[n].key = sh->recs[i]->pkey;
		c->threads[n].tid = rec_tid(sh->recs[i]);
		c->threads[n].last_end_ns = INT64_MIN;
		n++;
	}
	qsort(c->threads, n, sizeof(*c->threads), cmp_thread);
	c->nthreads = 0;
	for (size_t i = 0; i < n; i++)
		if (!c->nthreads || cmp_thread(&c->threads[c->nthreads - 1], &c->threads[i]))
			c->threads[c->nthreads++] = c->threads[i];

	for (size_t i = 0; i < c->nthreads; i++) {
		const struct thread *t = &c->threads[i];

		if (!i || t->pid != t[-1].pid) {
			const char *cmd = show_proc_comm(sh, t->key, comm, sizeof(comm));

			if (cmd)
				snprintf(name, sizeof(name), "%s (pid %" PRId64 ")", cmd, t->pid);
			else
				snprintf(name, sizeof(name), "pid %" PRId64, t->pid);
			meta(c, "process_name", t->pid, t->pid, name);
		}
		if (t->tid == t->pid)
			snprintf(name, sizeof(name), "main thread %" PRId64, t->tid);
		else
			snprintf(name, sizeof(name), "thread %" PRId64, t->tid);
		meta(c, "thread_name", t->pid, t->tid, name);
		sort_index(c, t->pid, t->tid, t->tid == t->pid ? -1 : 0);
	}
	return 0;
}

/* The name of a socket's life: "conn 3 127.0.0.1:40000 -> 127.0.0.1:8080",
 * "tcp listen 0.0.0.0:8080", "udp 127.0.0.1:5353", ...; its addresses
 * escaped as on a screen (show_esc), so that a viewer shows them visibly */
static void life_name(const struct st_msock *s, char *buf, size_t n)
{
	const char *local = st_msock_local(s), *remote = st_msock_remote(s);

	if (s->conn)
		snprintf(buf, n, "conn %d %s -> %s", s->conn->id, s->conn->caddr[0] ? show_esc(s->conn->caddr) : "?",
			 s->conn->saddr[0] ? show_esc(s->conn->saddr) : "?");
	else if (st_msock_listening(s))
		snprintf(buf, n, "%s listen %s", st_msock_kind(s), local[0] ? show_esc(local) : "?");
	else if (remote[0])
		snprintf(buf, n, "%s %s -> %s", st_msock_kind(s), local[0] ? show_esc(local) : "?", show_esc(remote));
	else
		snprintf(buf, n, "%s %s", st_msock_kind(s), local[0] ? show_esc(local) : "(no address)");
}

/* when a socket's life ends: the return of the call that ended it, or its
 * last event */
static int64_t life_end(const struct st_msock *s)
{
	int64_t end = s->end_rec ? st_rec_end_us(s->end_rec) : s->t_end;

	if (end < s->t_end)
		end = s->t_end;
	return end > s->t_first ? end : s->t_first;
}

static void life(struct chrome *c, const struct st_msock *s, int64_t tid)
{
	char name[8 * ST_ADDR_MAX + 64], words[128];
	int64_t start = s->t_first, end = life_end(s);
	json_t *ev, *args;

	life_name(s, name, sizeof(name));
	ev = base("X", name, s->conn ? "connection" : "socket", s->pid, tid);
	args = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "socket", s->id, "fd", s->fd, "local",
			 str_or_null(st_msock_local(s)[0] ? st_msock_local(s) : NULL), "remote",
			 str_or_null(st_msock_remote(s)[0] ? st_msock_remote(s) : NULL), "final_state",
			 str_or_null(s->final_state), "end",
			 str_or_null(st_msock_end_words(s, words, sizeof(words))), "inode",
			 s->inode ? json_integer((json_int_t)s->inode) : json_null());
	if (!ev || !args || json_object_set_new(ev, "ts", us_from_ns((start - c->t0_us) * 1000)) ||
	    json_object_set_new(ev, "dur", json_integer(end - start)) ||
	    json_object_set_new(ev, "args", args)) {
		json_decref(ev);
		c->oom = true;
		return;
	}
	if (s->conn && json_object_set_new(args, "established", json_boolean(s->conn->established)))
		c->oom = true;
	emit(c, ev);
}

static struct lanes *lanes_of(struct lanes **per, size_t *nper, size_t *cap, int64_t pid)
{
	for (size_t j = 0; j < *nper; j++)
		if ((*per)[j].pid == pid)
			return &(*per)[j];
	if (*nper == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct lanes *p = realloc(*per, ncap * sizeof(*p));

		if (!p)
			return NULL;
		*per = p;
		*cap = ncap;
	}
	(*per)[*nper] = (struct lanes){ .pid = pid };
	return &(*per)[(*nper)++];
}

/* The sockets of each process on tracks where no two lives overlap: a
 * socket takes the first track whose last life ended before it began, or
 * a new one. */
static int sockets(struct chrome *c)
{
	const struct st_model *m = c->sh->model;
	struct lanes *per = NULL;
	size_t nper = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < m->nsocks && !rc; i++) {
		const struct st_msock *s = m->socks[i];
		struct lanes *l;
		int k;

		if (!show_keep_sock(c->sh, s))
			continue;
		l = lanes_of(&per, &nper, &cap, s->pid);
		if (!l) {
			rc = -1;
			break;
		}
		for (k = 0; k < l->n; k++)
			if (l->v[k].end <= s->t_first)
				break;
		if (k == l->n) {
			char name[64];

			if (l->n == l->cap) {
				int ncap = l->cap ? 2 * l->cap : 8;
				struct lane *p = realloc(l->v, (size_t)ncap * sizeof(*p));

				if (!p) {
					rc = -1;
					break;
				}
				l->v = p;
				l->cap = ncap;
			}
			l->v[k].tid = LANE_TID_BASE + c->next_lane_tid++;
			l->n++;
			snprintf(name, sizeof(name), "sockets %d", k + 1);
			meta(c, "thread_name", s->pid, l->v[k].tid, name);
			sort_index(c, s->pid, l->v[k].tid, 1000 + k);
		}
		l->v[k].end = life_end(s);
		life(c, s, l->v[k].tid);
	}
	for (size_t j = 0; j < nper; j++)
		free(per[j].v);
	free(per);
	return rc;
}

/* a key of an event's args, when the event has it */
static void arg(struct chrome *c, json_t *args, const char *key, json_t *v)
{
	if (!v || json_object_set_new(args, key, v))
		c->oom = true;
}

static json_t *call_args(struct chrome *c, const struct st_event *ev)
{
	json_t *args = json_object();

	if (!args) {
		c->oom = true;
		return NULL;
	}
	if (ev->seq > 0)
		arg(c, args, "seq", json_integer(ev->seq));
	if (ev->fd >= 0)
		arg(c, args, "fd", json_integer(ev->fd));
	if (ev->listen_fd >= 0)
		arg(c, args, "listen_fd", json_integer(ev->listen_fd));
	if (ev->newfd >= 0)
		arg(c, args, "newfd", json_integer(ev->newfd));
	if (!st_call_is(ev->call, ST_K_SELF))
		arg(c, args, "ret", json_integer(ev->ret));
	if (ev->err)
		arg(c, args, "errno", json_string(ev->err));
	if (ev->family)
		arg(c, args, "family", json_string(ev->family));
	if (ev->addr[0])
		arg(c, args, "addr", json_string(ev->addr));
	if (ev->local[0])
		arg(c, args, "local", json_string(ev->local));
	if (ev->remote[0])
		arg(c, args, "remote", json_string(ev->remote));
	if (ev->state_before)
		arg(c, args, "state_before", json_string(ev->state_before));
	if (ev->state)
		arg(c, args, "state", json_string(ev->state));
	if (ev->optname)
		arg(c, args, "optname", json_string(ev->optname));
	if (ev->how)
		arg(c, args, "how", json_string(ev->how));
	if (ev->status >= 0)
		arg(c, args, "status", json_integer(ev->status));
	if (ev->signal)
		arg(c, args, "signal", json_string(ev->signal));
	if (ev->dur_ns >= 0)
		arg(c, args, "dur_ns", json_integer(ev->dur_ns));
	return args;
}

/* an instant event on a thread's track at ns from t0 */
static void instant(struct chrome *c, const struct st_rec *r, int64_t ns, const char *name, const char *cat,
		    json_t *args)
{
	json_t *ev = base("i", name, cat, r->ev.pid, rec_tid(r));

	if (!ev || !args || json_object_set_new(ev, "s", json_string("t")) ||
	    json_object_set_new(ev, "ts", us_from_ns(ns)) || json_object_set_new(ev, "args", args)) {
		json_decref(ev);
		json_decref(args);
		c->oom = true;
		return;
	}
	emit(c, ev);
}

/* A socket's TCP state as an event leaves it: an instant event when it
 * differs from the last one seen. */
static void state_change(struct chrome *c, const struct st_rec *r, int64_t ns, const char *state)
{
	const struct st_msock *s = r->sock;
	const char *before;

	if (!s || !state || s->id < 1 || (size_t)s->id > c->sh->model->nsocks)
		return;
	before = c->state[s->id - 1];
	if (before && !strcmp(before, state))
		return;
	c->state[s->id - 1] = state;
	instant(c, r, ns, state, "state",
		json_pack("{s:o, s:s, s:i, s:i, s:s}", "from", str_or_null(before), "to", state, "socket", s->id,
			  "fd", s->fd, "call", st_call_name(r->ev.call)));
}

static void event(struct chrome *c, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	struct thread *t = find_thread(c, ev->pid, rec_tid(r));
	int64_t start = (ev->ts_us - c->t0_us) * 1000, end = start;
	const char *name = st_call_name(ev->call);

	if (ev->dur_ns >= 0 && !st_call_is(ev->call, ST_K_SELF)) {
		json_t *x = base("X", name, "call", ev->pid, rec_tid(r));

		if (t && start < t->last_end_ns)
			start = t->last_end_ns;
		end = start + ev->dur_ns;
		if (t)
			t->last_end_ns = end;
		if (!x || json_object_set_new(x, "ts", us_from_ns(start)) ||
		    json_object_set_new(x, "dur", us_from_ns(ev->dur_ns)) ||
		    json_object_set_new(x, "args", call_args(c, ev))) {
			json_decref(x);
			c->oom = true;
		} else
			emit(c, x);
	} else
		instant(c, r, start, name, st_call_is(ev->call, ST_K_PROC) ? "process" : "event", call_args(c, ev));
	if (ev->err)
		instant(c, r, end, ev->err, "error",
			json_pack("{s:s, s:i}", "call", name, "fd", ev->fd));
	if (ev->reset_known && ev->reset)
		instant(c, r, end, "RST", "reset",
			json_pack("{s:s, s:i, s:o}", "call", name, "fd", ev->fd, "reason", str_or_null(ev->reset_reason)));
	state_change(c, r, end, ev->connect_done ? ev->connect_done : ev->state);
	state_change(c, r, end, ev->state_after);
}

int show_chrome(struct show *sh)
{
	struct chrome c = { .sh = sh, .first = true };
	json_t *other;

	c.t0_us = sh->trace->n ? sh->model->t_first : 0;
	c.state = calloc(sh->model->nsocks + 1, sizeof(*c.state));
	other = json_pack("{s:s, s:I}", "source", "socktrace", "t0_us", (json_int_t)c.t0_us);
	if (!c.state || !other) {
		free(c.state);
		json_decref(other);
		return 2;
	}
	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":", sh->out);
	json_dumpf(other, sh->out, JSON_COMPACT);
	json_decref(other);
	fputs(",\"traceEvents\":[", sh->out);
	if (threads(&c) || sockets(&c))
		c.oom = true;
	for (size_t i = 0; i < sh->nrecs && !c.oom; i++)
		event(&c, sh->recs[i]);
	fputs("\n]}\n", sh->out);
	free(c.threads);
	free(c.state);
	return c.oom ? 2 : 0;
}
