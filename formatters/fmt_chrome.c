/* SPDX-License-Identifier: MIT */
/* fmt_chrome.c - `show -f chrome`: the Chrome trace event format (the JSON
 * object form), which Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * Owns: the mapping of a trace onto that format's tracks and events
 * (socktrace(1) describes it):
 *   - one process per traced process (process_name: its command line and
 *     pid, and its host when the traces came from several machines or pid
 *     namespaces), one thread track per thread that made a call
 *     (thread_name); a process is numbered by its key (st_rec.pkey: its
 *     pid on the first machine, the origin above it on the others), so
 *     that two machines' pid 4242 are two tracks, and a thread likewise;
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
 *
 * As a stream (show -f chrome without --strict): each event is rendered
 * as the model is fed it, in the order of the merged trace, and put aside
 * (a temporary file) until a socket retires (st_model_retiring); nothing
 * retired, the output is the whole trace's, byte for byte.  From the first
 * socket that retires on, the array is written as it goes: what was put
 * aside, then each event as it comes and each socket's life as it retires;
 * the tracks' names and the lives of the sockets left come at the end, and
 * the array is closed whatever stopped the reading.  With --port, which
 * needs an event's socket's final ports, each event is rendered as it is
 * fed and held in memory (struct pend) until the model hands it out as its
 * socket retires (st_retire.rec), then written or dropped; what is left is
 * handed out at the end.  So that the two paths agree, a thread's calls
 * and a socket's states are followed through every event of the processes
 * --pid keeps, --port or not (the whole trace's path too).
 * Reads the model and the events only.
 */
#include "show.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* pseudo thread ids of the socket tracks: above every real tid (pid_max is
 * at most 2^22) and every thread's key of the first 238 origins (the
 * origin above the tid: st_rec_key), one per track, unique across
 * processes */
#define LANE_TID_BASE 1000000000

/* A thread track: its numbers in the output are the keys of its process
 * and thread (st_rec_key: the pid and tid themselves on the first origin,
 * the origin above them on another machine or pid namespace), so that two
 * machines' pid 4242 are two processes and their tid 4242 two threads. */
struct thread {
	int64_t pid, tid;	/* as written: the keys of its process and thread */
	int64_t rpid, rtid;	/* as the trace says: its pid and tid */
	int64_t key;		/* its process's key (st_rec.pkey): pid */
	unsigned origin;	/* its origin (st_rec.origin) */
	int64_t last_end_ns;	/* end of its last call slice, relative to t0 */
	bool shown;		/* an event the filters keep is on it: named */
};

/* the socket tracks of one process: the end of each one's last life */
struct lane {
	int64_t end;
	int tid;
};

struct lanes {
	int64_t pkey;		/* the process (st_msock.pkey) */
	struct lane *v;
	int n, cap;
};

/* a socket's last TCP state seen (a copy: its events may be gone) */
struct sstate {
	int id;
	char *state;
};

/* With --port, as a stream: an event rendered as the model is fed it (so
 * that the calls of a thread and the states of a socket follow each other
 * in the trace's order), held until the model hands it out with its
 * socket's final ports (st_retire.rec: show_chrome_told), then written or
 * dropped. */
struct pend {
	size_t order;		/* st_rec.order: the key */
	int64_t effect_us;	/* st_rec_effect_us */
	int64_t pkey, tkey;	/* its thread (struct thread's pid and tid) */
	char *text;		/* its events' JSON, each after ",\n" */
	size_t len;
	bool used;		/* a slot of the table in use */
};

struct show_chrome_acc {
	struct show *sh;
	FILE *to;		/* where events go: sh->out, or aside */
	bool quiet;		/* event() follows the chains (a thread's last call,
				 * a socket's state) and writes nothing */
	bool collect;		/* ... or writes into buf (a pend's text) */
	char *buf;
	size_t nbuf, capbuf;
	bool by_port;		/* a stream with --port: events rendered into pends */
	struct pend *pends;	/* open addressing by order, capacity a power of 2 */
	size_t npends, cappends;
	struct pend *kept;	/* told and kept before the array was begun */
	size_t nkept, capkept;
	int64_t t0_us;
	bool first;		/* no event written yet */
	bool oom;
	struct thread *threads;	/* sorted (cmp_thread), unique */
	size_t nthreads, capthreads;
	/* the sockets that had a TCP state, by id; a retired one's let go */
	struct sstate *states;
	size_t nstates, capstates;
	int next_lane_tid;
	struct lanes *per;	/* the socket tracks of each process */
	size_t nper, capper;
	/* as a stream (show_chrome_acc): the events put aside until the
	 * array is written as it goes (started) */
	FILE *aside;
	char *mem;		/* ... aside in memory, when no temporary file */
	size_t nmem;
	/* where each event's text lies in aside, to write them in the whole
	 * trace's order (st_trace_sort's: effect time, then input order),
	 * not in the order the window handed them out */
	struct piece *pieces;
	size_t npieces, cappieces;
	bool streaming, started, closed, t0_known;
	size_t retired;		/* sockets that retired */
};

/* one event's text put aside: offset and length in aside, its sort key */
struct piece {
	int64_t effect_us;	/* st_rec_effect_us */
	size_t order;		/* st_rec.order */
	long off, len;
};

static int cmp_piece(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->effect_us != y->effect_us)
		return x->effect_us < y->effect_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

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

/* the number of r's thread track: its tid with its origin (st_rec_key) */
static int64_t rec_tkey(const struct st_rec *r)
{
	return st_rec_key(r, rec_tid(r));
}

static struct thread *find_thread(struct show_chrome_acc *c, const struct st_rec *r)
{
	struct thread key = { .pid = r->pkey, .tid = rec_tkey(r) };

	return bsearch(&key, c->threads, c->nthreads, sizeof(key), cmp_thread);
}

/* the thread of r, added (its calls' end unknown) when new; NULL when out
 * of memory */
static struct thread *add_thread(struct show_chrome_acc *c, const struct st_rec *r)
{
	size_t lo = 0, hi = c->nthreads;
	struct thread t = { .pid = r->pkey, .tid = rec_tkey(r), .rpid = r->ev.pid, .rtid = rec_tid(r),
			    .key = r->pkey, .origin = r->origin, .last_end_ns = INT64_MIN };

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int k = cmp_thread(&c->threads[mid], &t);

		if (!k)
			return &c->threads[mid];
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c->nthreads == c->capthreads) {
		size_t ncap = c->capthreads ? 2 * c->capthreads : 16;
		struct thread *p = realloc(c->threads, ncap * sizeof(*p));

		if (!p)
			return NULL;
		c->threads = p;
		c->capthreads = ncap;
	}
	memmove(&c->threads[lo + 1], &c->threads[lo], (c->nthreads - lo) * sizeof(*c->threads));
	c->threads[lo] = t;
	c->nthreads++;
	return &c->threads[lo];
}

/* where socket id's state is in c->states, or would be */
static size_t state_at(const struct show_chrome_acc *c, int id)
{
	size_t lo = 0, hi = c->nstates;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->states[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* socket id's last TCP state seen, NULL none */
static const char *state_of(const struct show_chrome_acc *c, int id)
{
	size_t i = state_at(c, id);

	return i < c->nstates && c->states[i].id == id ? c->states[i].state : NULL;
}

/* sets it; -1 when out of memory */
static int state_set(struct show_chrome_acc *c, int id, const char *state)
{
	size_t i = state_at(c, id);
	char *copy = strdup(state);

	if (!copy)
		return -1;
	if (i < c->nstates && c->states[i].id == id) {
		free(c->states[i].state);
		c->states[i].state = copy;
		return 0;
	}
	if (c->nstates == c->capstates) {
		size_t ncap = c->capstates ? 2 * c->capstates : 64;
		struct sstate *p = realloc(c->states, ncap * sizeof(*p));

		if (!p) {
			free(copy);
			return -1;
		}
		c->states = p;
		c->capstates = ncap;
	}
	memmove(&c->states[i + 1], &c->states[i], (c->nstates - i) * sizeof(*c->states));
	c->states[i].id = id;
	c->states[i].state = copy;
	c->nstates++;
	return 0;
}

/* a retired socket's state let go of */
static void state_drop(struct show_chrome_acc *c, int id)
{
	size_t i = state_at(c, id);

	if (i < c->nstates && c->states[i].id == id) {
		free(c->states[i].state);
		memmove(&c->states[i], &c->states[i + 1], (c->nstates - i - 1) * sizeof(*c->states));
		c->nstates--;
	}
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

/* n bytes at the end of c->buf; -1 when out of memory */
static int buf_add(struct show_chrome_acc *c, const char *p, size_t n)
{
	if (c->nbuf + n > c->capbuf) {
		size_t cap = c->capbuf ? 2 * c->capbuf : 1024;
		char *q;

		while (cap < c->nbuf + n)
			cap *= 2;
		if (!(q = realloc(c->buf, cap)))
			return -1;
		c->buf = q;
		c->capbuf = cap;
	}
	memcpy(c->buf + c->nbuf, p, n);
	c->nbuf += n;
	return 0;
}

/* Writes one event and drops it (quiet: only drops it; collect: into
 * c->buf). */
static void emit(struct show_chrome_acc *c, json_t *ev)
{
	if (!ev) {
		c->oom = true;
		return;
	}
	if (c->quiet) {
		json_decref(ev);
		return;
	}
	if (c->collect) {
		char *text = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));

		if (!text || buf_add(c, ",\n", 2) < 0 || buf_add(c, text, strlen(text)) < 0)
			c->oom = true;
		free(text);
		json_decref(ev);
		return;
	}
	/* put aside, an event comes after the tracks' names: never first */
	fputs(c->first && c->to == c->sh->out ? "\n" : ",\n", c->to);
	if (c->to == c->sh->out)
		c->first = false;
	if (json_dumpf(ev, c->to, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15)))
		c->oom = true;
	json_decref(ev);
}

static json_t *base(const char *ph, const char *name, const char *cat, int64_t pid, int64_t tid)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I}", "ph", ph, "name", name, "cat", cat, "pid",
			 (json_int_t)pid, "tid", (json_int_t)tid);
}

static void meta(struct show_chrome_acc *c, const char *what, int64_t pid, int64_t tid, const char *name)
{
	json_t *ev = base("M", what, "__metadata", pid, tid);

	if (ev && (json_object_set_new(ev, "ts", json_integer(0)) ||
		   json_object_set_new(ev, "args", json_pack("{s:s}", "name", name))))
		c->oom = true;
	emit(c, ev);
}

static void sort_index(struct show_chrome_acc *c, int64_t pid, int64_t tid, int64_t index)
{
	json_t *ev = base("M", "thread_sort_index", "__metadata", pid, tid);

	if (ev && json_object_set_new(ev, "ts", json_integer(0)))
		c->oom = true;
	if (ev && json_object_set_new(ev, "args", json_pack("{s:I}", "sort_index", (json_int_t)index)))
		c->oom = true;
	emit(c, ev);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Where a process of origin o ran, for its track's name, when the traces
 * came from more than one machine or pid namespace: " on HOST", with the
 * boot ("boot 0eaa4e26") when another origin has the same host and another
 * boot, and the pid namespace ("pid ns 4026532999") when another has the
 * same host and boot and another namespace; the host escaped as on a
 * screen.  "" for a trace of one origin (its names as they always were). */
static const char *where(const struct show_chrome_acc *c, unsigned o, char *buf, size_t n)
{
	const struct st_trace *t = c->sh->trace;
	const struct st_origin *x;
	bool boots = false, spaces = false;
	int k;

	if (!t || t->norigins < 2)
		return "";
	if (o >= t->norigins) {
		snprintf(buf, n, " on ?");
		return buf;
	}
	x = &t->origins[o];
	for (size_t i = 0; i < t->norigins; i++) {
		const struct st_origin *y = &t->origins[i];

		if (i == o || !same_str(x->host, y->host))
			continue;
		if (!same_str(x->boot, y->boot))
			boots = true;
		else if (x->pidns != y->pidns)
			spaces = true;
	}
	k = snprintf(buf, n, " on %s", x->host ? show_esc(x->host) : "?");
	if (boots && k >= 0 && (size_t)k < n)
		k += snprintf(buf + k, n - (size_t)k, " boot %.8s", x->boot ? show_esc(x->boot) : "?");
	if (spaces && k >= 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, " pid ns %" PRIu64, x->pidns);
	return buf;
}

/* The tracks' names of the threads of the events (c->threads): a process
 * by its command line and pid (and where it ran: where()), a thread by
 * its tid. */
static void thread_names(struct show_chrome_acc *c)
{
	struct show *sh = c->sh;
	char comm[256], at[160], name[448];
	const struct thread *named = NULL;	/* the last one named */

	for (size_t i = 0; i < c->nthreads; i++) {
		const struct thread *t = &c->threads[i];

		if (!t->shown)
			continue;
		if (!named || t->pid != named->pid) {
			const char *cmd = show_proc_comm(sh, t->key, comm, sizeof(comm));
			const char *on = where(c, t->origin, at, sizeof(at));

			if (cmd)
				snprintf(name, sizeof(name), "%s (pid %" PRId64 "%s)", cmd, t->rpid, on);
			else
				snprintf(name, sizeof(name), "pid %" PRId64 "%s", t->rpid, on);
			meta(c, "process_name", t->pid, t->pid, name);
		}
		if (t->rtid == t->rpid)
			snprintf(name, sizeof(name), "main thread %" PRId64, t->rtid);
		else
			snprintf(name, sizeof(name), "thread %" PRId64, t->rtid);
		meta(c, "thread_name", t->pid, t->tid, name);
		sort_index(c, t->pid, t->tid, t->rtid == t->rpid ? -1 : 0);
		named = t;
	}
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

static void life(struct show_chrome_acc *c, const struct st_msock *s, int64_t tid)
{
	char name[8 * ST_ADDR_MAX + 64], words[128];
	int64_t start = s->t_first, end = life_end(s);
	json_t *ev, *args;

	life_name(s, name, sizeof(name));
	ev = base("X", name, s->conn ? "connection" : "socket", s->pkey, tid);
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

static struct lanes *lanes_of(struct lanes **per, size_t *nper, size_t *cap, int64_t pkey)
{
	for (size_t j = 0; j < *nper; j++)
		if ((*per)[j].pkey == pkey)
			return &(*per)[j];
	if (*nper == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct lanes *p = realloc(*per, ncap * sizeof(*p));

		if (!p)
			return NULL;
		*per = p;
		*cap = ncap;
	}
	(*per)[*nper] = (struct lanes){ .pkey = pkey };
	return &(*per)[(*nper)++];
}

/* A socket's life on a track of its process where no two lives overlap:
 * the first track whose last life ended before it began, or a new one.
 * (Lives in the order the sockets appeared, as from a whole trace, give
 * the fewest tracks; in the order they retire, more may be needed.)
 * -1 when out of memory. */
static int place(struct show_chrome_acc *c, const struct st_msock *s)
{
	struct lanes *l = lanes_of(&c->per, &c->nper, &c->capper, s->pkey);
	int k;

	if (!l)
		return -1;
	for (k = 0; k < l->n; k++)
		if (l->v[k].end <= s->t_first)
			break;
	if (k == l->n) {
		char name[64];

		if (l->n == l->cap) {
			int ncap = l->cap ? 2 * l->cap : 8;
			struct lane *p = realloc(l->v, (size_t)ncap * sizeof(*p));

			if (!p)
				return -1;
			l->v = p;
			l->cap = ncap;
		}
		l->v[k].tid = LANE_TID_BASE + c->next_lane_tid++;
		l->n++;
		snprintf(name, sizeof(name), "sockets %d", k + 1);
		meta(c, "thread_name", s->pkey, l->v[k].tid, name);
		sort_index(c, s->pkey, l->v[k].tid, 1000 + k);
	}
	l->v[k].end = life_end(s);
	life(c, s, l->v[k].tid);
	return 0;
}

/* the lives of the model's sockets the filters keep */
static int sockets(struct show_chrome_acc *c)
{
	const struct st_model *m = c->sh->model;

	for (size_t i = 0; i < m->nsocks; i++)
		if (show_keep_sock(c->sh, m->socks[i]) && place(c, m->socks[i]) < 0)
			return -1;
	return 0;
}

/* a key of an event's args, when the event has it */
static void arg(struct show_chrome_acc *c, json_t *args, const char *key, json_t *v)
{
	if (!v || json_object_set_new(args, key, v))
		c->oom = true;
}

static json_t *call_args(struct show_chrome_acc *c, const struct st_event *ev)
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
static void instant(struct show_chrome_acc *c, const struct st_rec *r, int64_t ns, const char *name, const char *cat,
		    json_t *args)
{
	json_t *ev = base("i", name, cat, r->pkey, rec_tkey(r));

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
static void state_change(struct show_chrome_acc *c, const struct st_rec *r, int64_t ns, const char *state)
{
	const struct st_msock *s = r->sock;
	const char *before;

	if (!s || !state || s->id < 1)
		return;
	before = state_of(c, s->id);
	if (before && !strcmp(before, state))
		return;
	/* before is let go of by state_set: the event is made first */
	instant(c, r, ns, state, "state",
		json_pack("{s:o, s:s, s:i, s:i, s:s}", "from", str_or_null(before), "to", state, "socket", s->id,
			  "fd", s->fd, "call", st_call_name(r->ev.call)));
	if (state_set(c, s->id, state) < 0)
		c->oom = true;
}

/* Renders r (quiet: follows its thread's calls and its socket's states,
 * writes nothing); returns its thread, NULL when out of memory (or, not
 * streaming, when the thread was not added first) */
static struct thread *event(struct show_chrome_acc *c, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	struct thread *t = c->streaming ? add_thread(c, r) : find_thread(c, r);
	int64_t start = (ev->ts_us - c->t0_us) * 1000, end = start;
	const char *name = st_call_name(ev->call);

	if (ev->dur_ns >= 0 && !st_call_is(ev->call, ST_K_SELF)) {
		json_t *x = base("X", name, "call", r->pkey, rec_tkey(r));

		if (c->streaming && !t)
			c->oom = true;
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
	return t;
}

static void chrome_free(struct show_chrome_acc *c)
{
	for (size_t j = 0; j < c->nper; j++)
		free(c->per[j].v);
	free(c->per);
	for (size_t i = 0; i < c->nstates; i++)
		free(c->states[i].state);
	free(c->states);
	free(c->threads);
	if (c->aside)
		fclose(c->aside);
	free(c->mem);
	free(c->pieces);
	free(c->buf);
	for (size_t i = 0; i < c->cappends; i++)
		if (c->pends[i].used)
			free(c->pends[i].text);
	free(c->pends);
	for (size_t i = 0; i < c->nkept; i++)
		free(c->kept[i].text);
	free(c->kept);
}

static void header(struct show_chrome_acc *c)
{
	fprintf(c->sh->out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":\"socktrace\",\"t0_us\":%" PRId64
		"},\"traceEvents\":[", c->t0_us);
}

/* the events put aside, after what was written, in the whole trace's
 * order (each begins with ",\n": the first written's comma dropped) */
static void aside_out(struct show_chrome_acc *c)
{
	char buf[65536];
	size_t skip = c->first ? 1 : 0;
	long len;

	if (fflush(c->aside)) {
		c->oom = true;
		return;
	}
	len = c->mem ? (long)c->nmem : ftell(c->aside);
	if (c->npieces > 1)
		qsort(c->pieces, c->npieces, sizeof(*c->pieces), cmp_piece);
	for (size_t i = 0; i < c->npieces && !c->oom; i++) {
		long off = c->pieces[i].off, left = c->pieces[i].len;

		if (!c->mem && fseek(c->aside, off, SEEK_SET)) {
			c->oom = true;
			break;
		}
		while (left > 0) {
			size_t want = (size_t)left < sizeof(buf) ? (size_t)left : sizeof(buf);
			const char *from = buf;
			size_t n;

			if (c->mem) {
				from = c->mem + off;
				n = want;
			} else if ((n = fread(buf, 1, want, c->aside)) == 0) {
				c->oom = true;
				break;
			}
			fwrite(from + skip, 1, n - skip, c->sh->out);
			skip = 0;
			off += (long)n;
			left -= (long)n;
		}
	}
	free(c->pieces);
	c->pieces = NULL;
	c->npieces = c->cappieces = 0;
	if (len > 0)
		c->first = false;
	fclose(c->aside);
	c->aside = NULL;
	free(c->mem);
	c->mem = NULL;
	c->to = c->sh->out;
}

/* a pend's text written after what was written (its first comma dropped
 * when it comes first), and let go of */
static void put(struct show_chrome_acc *c, struct pend *p)
{
	size_t skip = c->first && p->len ? 1 : 0;

	fwrite(p->text + skip, 1, p->len - skip, c->sh->out);
	if (p->len)
		c->first = false;
	free(p->text);
	p->text = NULL;
}

static int cmp_pend(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;

	if (x->effect_us != y->effect_us)
		return x->effect_us < y->effect_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* the pends told and kept before the array was begun, in the whole
 * trace's order (that of the pieces put aside: cmp_piece) */
static void kept_out(struct show_chrome_acc *c)
{
	if (c->nkept > 1)
		qsort(c->kept, c->nkept, sizeof(*c->kept), cmp_pend);
	for (size_t i = 0; i < c->nkept; i++)
		put(c, &c->kept[i]);
	c->nkept = 0;
}

/* the array written as it goes from now on: the header, what was put
 * aside */
static void start(struct show_chrome_acc *c)
{
	if (c->started)
		return;
	c->started = true;
	header(c);
	aside_out(c);
	kept_out(c);
}

static void finish(struct show_chrome_acc *c)
{
	if (!c->closed)
		fputs("\n]}\n", c->sh->out);
	c->closed = true;
}

static struct show_chrome_acc *acc_of(struct show *sh)
{
	struct show_chrome_acc *c = sh->chrome;

	if (c || !(c = calloc(1, sizeof(*c))))
		return c;
	c->sh = sh;
	c->first = true;
	c->streaming = true;
	/* on disk, so that what is held to the first retirement costs no
	 * memory; in memory when there is no temporary file */
	c->aside = tmpfile();
	if (!c->aside)
		c->aside = open_memstream(&c->mem, &c->nmem);
	if (!c->aside) {
		free(c);
		return NULL;
	}
	c->to = c->aside;
	sh->chrome = c;
	return c;
}

/* pc's place in the put-aside text kept; out of memory: c->oom */
static void add_piece(struct show_chrome_acc *c, const struct piece *pc)
{
	if (pc->off < 0 || pc->len < 0) {
		c->oom = true;
		return;
	}
	if (!pc->len)
		return;
	if (c->npieces == c->cappieces) {
		size_t cap = c->cappieces ? 2 * c->cappieces : 1024;
		struct piece *grown = realloc(c->pieces, cap * sizeof(*grown));

		if (!grown) {
			c->oom = true;
			return;
		}
		c->pieces = grown;
		c->cappieces = cap;
	}
	c->pieces[c->npieces++] = *pc;
}

int show_chrome_begin(struct show *sh)
{
	struct show_chrome_acc *c = acc_of(sh);

	if (c)
		c->by_port = sh->nports > 0;
	return c ? 0 : -1;
}

/* ---- the pends of --port, by order (open addressing, linear probing) ---- */

static size_t pend_home(const struct show_chrome_acc *c, size_t order)
{
	return (size_t)(((uint64_t)order * UINT64_C(0x9e3779b97f4a7c15)) >> 17) & (c->cappends - 1);
}

/* where the pend of order is, or the empty slot it would go to */
static size_t pend_slot(const struct show_chrome_acc *c, size_t order)
{
	size_t i = pend_home(c, order);

	while (c->pends[i].used && c->pends[i].order != order)
		i = (i + 1) & (c->cappends - 1);
	return i;
}

/* p kept (its text is the table's then); -1 when out of memory */
static int pend_put(struct show_chrome_acc *c, const struct pend *p)
{
	if ((c->npends + 1) * 2 > c->cappends) {
		struct pend *old = c->pends;
		size_t oldcap = c->cappends, cap = oldcap ? 2 * oldcap : 1024;

		if (!(c->pends = calloc(cap, sizeof(*c->pends)))) {
			c->pends = old;
			return -1;
		}
		c->cappends = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].used)
				c->pends[pend_slot(c, old[i].order)] = old[i];
		free(old);
	}
	{
		struct pend *slot = &c->pends[pend_slot(c, p->order)];

		if (!slot->used)
			c->npends++;
		else
			free(slot->text);	/* never: each order is fed once */
		*slot = *p;
		slot->used = true;
	}
	return 0;
}

/* the pend of order taken out of the table into *out; false none */
static bool pend_take(struct show_chrome_acc *c, size_t order, struct pend *out)
{
	size_t mask = c->cappends - 1, i, j;

	if (!c->npends)
		return false;
	i = pend_slot(c, order);
	if (!c->pends[i].used)
		return false;
	*out = c->pends[i];
	c->npends--;
	/* the entries after it that probed past it move back into the hole */
	for (j = i;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!c->pends[j].used)
			break;
		k = pend_home(c, c->pends[j].order);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		c->pends[i] = c->pends[j];
		i = j;
	}
	c->pends[i].used = false;
	c->pends[i].text = NULL;
	return true;
}

/* r rendered as it is fed, held until the model tells it (--port) */
static void pend_add(struct show_chrome_acc *c, const struct st_rec *r)
{
	struct pend p = { r->order, st_rec_effect_us(r), r->pkey, rec_tkey(r), NULL, 0, false };

	c->nbuf = 0;
	c->collect = true;
	event(c, r);
	c->collect = false;
	if (c->oom)
		return;
	if (c->nbuf && !(p.text = malloc(c->nbuf))) {
		c->oom = true;
		return;
	}
	if (c->nbuf)
		memcpy(p.text, c->buf, c->nbuf);
	p.len = c->nbuf;
	if (pend_put(c, &p) < 0) {
		free(p.text);
		c->oom = true;
	}
}

void show_chrome_rec(struct show *sh, const struct st_rec *r)
{
	struct show_chrome_acc *c = sh->chrome;
	struct thread *t;

	/* --port decides when the model tells r (its socket's final ports);
	 * without it, --pid decides now */
	if (!c || c->oom || !show_keep_pid(sh, r->ev.pid))
		return;
	if (!c->t0_known) {
		c->t0_us = sh->model->t_first;	/* the first event's: fed already */
		c->t0_known = true;
	}
	if (c->by_port) {
		pend_add(c, r);
		return;
	}
	if (c->to == c->aside && !c->mem) {
		struct piece pc = { st_rec_effect_us(r), r->order, ftell(c->aside), 0 };

		t = event(c, r);
		pc.len = ftell(c->aside) - pc.off;
		add_piece(c, &pc);
	} else if (c->to == c->aside) {
		struct piece pc = { st_rec_effect_us(r), r->order, 0, 0 };

		fflush(c->aside);
		pc.off = (long)c->nmem;
		t = event(c, r);
		fflush(c->aside);
		pc.len = (long)c->nmem - pc.off;
		add_piece(c, &pc);
	} else {
		t = event(c, r);
	}
	if (t)
		t->shown = true;
}

void show_chrome_told(struct show *sh, const struct st_rec *r)
{
	struct show_chrome_acc *c = sh->chrome;
	struct pend p;
	struct thread *t;

	if (!c || !c->by_port || !pend_take(c, r->order, &p))
		return;
	if (c->oom || !show_keep_rec(sh, r)) {
		free(p.text);
		return;
	}
	{
		struct thread key = { .pid = p.pkey, .tid = p.tkey };

		t = bsearch(&key, c->threads, c->nthreads, sizeof(key), cmp_thread);
	}
	if (t)
		t->shown = true;
	if (c->started) {
		put(c, &p);
		return;
	}
	if (c->nkept == c->capkept) {
		size_t cap = c->capkept ? 2 * c->capkept : 64;
		struct pend *q = realloc(c->kept, cap * sizeof(*q));

		if (!q) {
			free(p.text);
			c->oom = true;
			return;
		}
		c->kept = q;
		c->capkept = cap;
	}
	c->kept[c->nkept++] = p;
}

void show_chrome_sock(struct show *sh, const struct st_msock *s)
{
	struct show_chrome_acc *c = sh->chrome;

	if (!c)
		return;
	start(c);
	if (!c->oom && show_keep_sock(sh, s) && place(c, s) < 0)
		c->oom = true;
	state_drop(c, s->id);
	c->retired++;
}

size_t show_chrome_retired(const struct show *sh)
{
	return sh->chrome ? sh->chrome->retired : 0;
}

void show_chrome_free(struct show *sh)
{
	struct show_chrome_acc *c = sh->chrome;

	if (!c)
		return;
	if (c->started)
		finish(c);	/* valid JSON, whatever stopped the reading */
	chrome_free(c);
	free(c);
	sh->chrome = NULL;
}

/* a stream's end: what was not written as it went, and the array closed */
static int chrome_end(struct show *sh)
{
	struct show_chrome_acc *c = sh->chrome;

	if (c->by_port && !c->oom) {
		/* the events the model still holds, told now */
		const struct st_rec **v = NULL;
		long n = st_model_untold(sh->model, &v);

		if (n < 0)
			c->oom = true;
		for (long i = 0; i < n; i++)
			show_chrome_told(sh, v[i]);
		free(v);
	}
	if (!c->started) {
		/* nothing retired: the whole trace's output */
		if (!c->t0_known)
			c->t0_us = sh->model->nfed ? sh->model->t_first : 0;
		header(c);
		c->to = sh->out;
		thread_names(c);
		if (sockets(c) < 0)
			c->oom = true;
		c->started = true;
		aside_out(c);
		kept_out(c);
	} else {
		if (sockets(c) < 0)
			c->oom = true;
		thread_names(c);
	}
	finish(c);
	return c->oom ? 2 : 0;
}

int show_chrome(struct show *sh)
{
	struct show_chrome_acc c = { .sh = sh, .first = true };

	if (sh->chrome)
		return chrome_end(sh);
	const struct st_trace *tr = sh->trace;

	c.to = sh->out;
	c.t0_us = tr->n ? sh->model->t_first : 0;
	/* the events of the processes --pid keeps, those --port leaves out
	 * too: a thread's calls and a socket's states follow each other as
	 * the trace has them, whatever --port writes (as the stream renders
	 * each event before its socket's ports are known) */
	for (size_t i = 0; i < tr->n; i++) {
		struct thread *t;

		if (!show_keep_pid(sh, tr->recs[i]->ev.pid))
			continue;
		if (!(t = add_thread(&c, tr->recs[i]))) {
			chrome_free(&c);
			return 2;
		}
		if (show_keep_rec(sh, tr->recs[i]))
			t->shown = true;
	}
	header(&c);
	thread_names(&c);
	if (sockets(&c) < 0)
		c.oom = true;
	for (size_t i = 0; i < tr->n && !c.oom; i++)
		if (show_keep_pid(sh, tr->recs[i]->ev.pid)) {
			c.quiet = !show_keep_rec(sh, tr->recs[i]);
			event(&c, tr->recs[i]);
		}
	finish(&c);
	chrome_free(&c);
	return c.oom ? 2 : 0;
}
