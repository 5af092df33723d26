/* SPDX-License-Identifier: MIT */
/* model.c - sockets and processes from events (see model.h): the first
 * pass of the model.
 *
 * Owns: the descriptor tables of the traced processes as the events tell
 * them (socket, accept, dup, fork, close, exit), each process's holds of
 * each socket and how each ended, the socket each event is about and the
 * processes (with each image's start).
 * The joining of connection ends is model_conns.c; the small facts about
 * sockets and addresses the formats ask for are model_facts.c.
 * Trusts the shim's "last" where it has it; never prints.
 */
#include "model.h"
#include "model_build.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fdkey(int64_t pid, int fd)
{
	return ((uint64_t)pid << 32) | (uint32_t)fd;
}

static bool stops_sending(const char *how)
{
	return how && (!strcmp(how, "SHUT_WR") || !strcmp(how, "SHUT_RDWR"));
}

/* ---- building --------------------------------------------------------- */

struct st_builder {
	struct st_model *m;
	struct st_map fds;		/* (pid, fd) -> socket */
	struct st_map inodes;	/* inode -> open socket */
	struct st_map ended;	/* inode -> socket an exit, a death or an exec ended */
	struct st_proc *last_proc;
	uint64_t tick;		/* holds' beginnings and ends so far */
	/* each process's sockets held now and its peak so far, counted as the
	 * holds begin and end (st_proc.open_peak): by process key, open
	 * addressing, a power of two of slots (0 none yet) */
	struct open_count {
		int64_t pkey;
		int now, peak;
		int64_t peak_us;
		bool used;
	} *opens;
	size_t nopens, capopens;
	enum st_end why;	/* how the holds that end now end (st_hold.how) */
	size_t procs_cap, socks_cap;
	bool oom;
};

/* A socket's first room for events and holds: most have a few events
 * (socket, connect, close; accept, close) and one or two holders (its
 * process; a forked child), and a million of them must not each take
 * sixteen of both. */
#define SOCK_EVS_FIRST 4
#define SOCK_HOLDS_FIRST 2

void *st_model_grow(void *p, size_t *cap, size_t n, size_t size)
{
	return st_model_grow_from(p, cap, n, size, 16);
}

void *st_model_grow_from(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : first;
	void *q = realloc(p, ncap * size);
	if (q)
		*cap = ncap;
	return q;
}

struct st_proc *st_model_proc(const struct st_model *m, int64_t pid)
{
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i]->pid == pid)
			return m->procs[i];
	return NULL;
}

struct st_proc *st_model_proc_key(const struct st_model *m, int64_t key)
{
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i]->key == key)
			return m->procs[i];
	return NULL;
}

/* the map key of a socket's inode: inodes of two machines are apart */
static uint64_t ikey(int64_t pkey, uint64_t inode)
{
	return inode ^ ((uint64_t)(pkey >> ST_PID_BITS) << 48);
}

/* r is kept to the model's end (a process points to it) */
static const struct st_rec *pin(const struct st_rec *r)
{
	((struct st_rec *)r)->pinned = true;	/* the model's mark, not the event */
	return r;
}

/* s ended at r (NULL: its end undone): the model holds r as long as s */
static void set_end_rec(struct st_builder *b, struct st_msock *s, const struct st_rec *r)
{
	const struct st_rec *old = s->end_rec;

	s->end_rec = r;
	if (r)
		((struct st_rec *)r)->refs++;
	if (old)
		st_model_unref(b->m, (struct st_rec *)old);
}

static struct st_proc *proc_of(struct st_builder *b, const struct st_rec *r)
{
	struct st_model *m = b->m;
	struct st_proc *p;
	void *q;

	if (b->last_proc && b->last_proc->key == r->pkey) {
		p = b->last_proc;
		if (!p->first)
			p->first = pin(r);
		return p;
	}
	p = st_model_proc_key(m, r->pkey);
	if (p && !p->first)
		p->first = pin(r);	/* a child its parent announced, now seen */
	if (!p) {
		q = st_model_grow(m->procs, &b->procs_cap, m->nprocs, sizeof(*m->procs));
		if (q)	/* the old array may be gone: keep the new one at once */
			m->procs = q;
		p = calloc(1, sizeof(*p));
		if (!q || !p) {
			free(p);
			b->oom = true;
			return NULL;
		}
		p->pid = r->ev.pid;
		p->key = r->pkey;
		p->ppid = -1;
		p->first = pin(r);
		m->procs[m->nprocs++] = p;
	}
	b->last_proc = p;
	return p;
}

/* Appends r to s's history (once), and moves s's end of known life to r;
 * false when r is not appended (already last, or out of memory). */
static bool sock_append(struct st_builder *b, struct st_msock *s, const struct st_rec *r)
{
	void *q = st_model_grow_from(s->evs, &s->capevs, s->nevs, sizeof(*s->evs), SOCK_EVS_FIRST);

	if (!q) {
		b->oom = true;
		return false;
	}
	s->evs = q;
	if (s->nevs && s->evs[s->nevs - 1] == r)
		return false;
	s->evs[s->nevs++] = r;
	((struct st_rec *)r)->refs++;	/* the model's count, not the event */
	s->t_end = r->ev.ts_us;
	return true;
}

/* r in s's history, and what r says of s (r's fields are s's). */
static void sock_note(struct st_builder *b, struct st_msock *s, const struct st_rec *r)
{
	if (!sock_append(b, s, r))
		return;
	if (r->ev.err)
		s->errors++;
	if (r->ev.local[0])
		s->local = r->ev.local;
	if (r->ev.remote[0])
		s->remote = r->ev.remote;
	if (!s->family && r->ev.family)
		s->family = r->ev.family;
	if (!s->type && r->ev.type)
		s->type = r->ev.type;
	if (!s->proto && r->ev.proto)
		s->proto = r->ev.proto;
	if (r->ev.has_tcp)
		s->tcp_rec = r;
	if (r->ev.self_connect)
		s->self_connect = true;
}

/* r in s's history without its fields: an event about another socket
 * that moved s (an SCM_RIGHTS message on a unix socket carrying s). */
static void sock_note_event(struct st_builder *b, struct st_msock *s, const struct st_rec *r)
{
	sock_append(b, s, r);
}

/* A connect left pending (EINPROGRESS, EINTR, a cancelled thread) is seen
 * finished by any later evidence: connect_done, a state only a connection
 * reaches, data counted. */
static void connect_evidence(struct st_msock *s, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;

	if (!s->connect || s->connected || s->connect_failed)
		return;
	if (ev->connect_done) {
		if (st_state_connected(ev->connect_done)) {
			s->connected = r;
		} else {
			s->connect_failed = true;
			s->connect_err = ev->so_error && strcmp(ev->so_error, "0") ? ev->so_error : ev->connect_done;
		}
		return;
	}
	if (r == s->connect)
		return;
	if (st_state_connected(ev->state) || st_state_connected(ev->state_before) ||
	    (ev->has_tcp && (ev->tcp.bytes_received || ev->tcp.bytes_acked)))
		s->connected = r;
}

/* ---- holds: which process held which socket, and when ------------------ */

static size_t open_slot(const struct open_count *v, size_t cap, int64_t pkey)
{
	size_t i = (size_t)(((uint64_t)pkey * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);

	while (v[i].used && v[i].pkey != pkey)
		i = (i + 1) & (cap - 1);
	return i;
}

/* process pkey's count of sockets held now (b->opens), NULL when out of
 * memory */
static struct open_count *open_count(struct st_builder *b, int64_t pkey)
{
	size_t i;

	if (2 * (b->nopens + 1) > b->capopens) {
		size_t cap = b->capopens ? 2 * b->capopens : 64;
		struct open_count *v = calloc(cap, sizeof(*v));

		if (!v)
			return NULL;
		for (size_t k = 0; k < b->capopens; k++)
			if (b->opens[k].used)
				v[open_slot(v, cap, b->opens[k].pkey)] = b->opens[k];
		free(b->opens);
		b->opens = v;
		b->capopens = cap;
	}
	i = open_slot(b->opens, b->capopens, pkey);
	if (!b->opens[i].used) {
		b->opens[i] = (struct open_count){ pkey, 0, 0, 0, true };
		b->nopens++;
	}
	return &b->opens[i];
}

/* process pkey's holds: one more (from_us: when, a peak's time) or one
 * less (d -1), in the order the model meets them, so that the peak is
 * the whole trace's whatever sockets retired since */
static void open_step(struct st_builder *b, int64_t pkey, int d, int64_t from_us)
{
	struct open_count *o = open_count(b, pkey);

	if (!o) {
		b->oom = true;
		return;
	}
	o->now += d;
	if (o->now > o->peak) {
		o->peak = o->now;
		o->peak_us = from_us;
	}
}

/* process pkey gained a descriptor naming s at r: its hold begins with the
 * first (when the call returned) */
static void hold_gain(struct st_builder *b, const struct st_rec *r, int64_t pkey, struct st_msock *s)
{
	struct st_hold *h;

	for (size_t i = s->nholds; i-- > s->nended;)
		if (s->holds[i].pkey == pkey) {
			s->holds[i].nfds++;
			return;
		}
	h = st_model_grow_from(s->holds, &s->capholds, s->nholds, sizeof(*s->holds), SOCK_HOLDS_FIRST);
	if (!h) {
		b->oom = true;
		return;
	}
	s->holds = h;
	s->holds[s->nholds++] = (struct st_hold){ pkey, st_rec_end_us(r), -1, ++b->tick, 0, 1, ST_END_OPEN, false };
	open_step(b, pkey, +1, st_rec_end_us(r));
}

/* process pkey lost a descriptor naming s at r: its hold ends with the last
 * (when the call began), another process's copy or not */
static void hold_lose(struct st_builder *b, const struct st_rec *r, int64_t pkey, struct st_msock *s)
{
	for (size_t i = s->nholds; i-- > s->nended;) {
		struct st_hold *h = &s->holds[i], ended;
		if (h->pkey != pkey)
			continue;
		if (--h->nfds > 0)
			return;
		h->to_us = r->ev.ts_us > h->from_us ? r->ev.ts_us : h->from_us;
		h->to_n = ++b->tick;
		h->how = b->why;
		open_step(b, pkey, -1, h->to_us);
		/* among the ended: the ones still held stay after them */
		ended = *h;
		*h = s->holds[s->nended];
		s->holds[s->nended++] = ended;
		return;
	}
}

/* process pkey's latest hold of s that ended, NULL none */
static struct st_hold *hold_ended(struct st_msock *s, int64_t pkey)
{
	struct st_hold *last = NULL;

	for (size_t i = 0; i < s->nended; i++)
		if (s->holds[i].pkey == pkey && (!last || s->holds[i].to_n > last->to_n))
			last = &s->holds[i];
	return last;
}

/* (pkey, fd) names s from r on: the socket it named before (*old, NULL
 * none) loses that descriptor.  false when out of memory. */
static bool fd_put(struct st_builder *b, const struct st_rec *r, int64_t pkey, int fd, struct st_msock *s,
		   struct st_msock **old)
{
	if (!st_map_put(&b->fds, fdkey(pkey, fd), s, old))
		return false;
	if (*old != s) {
		if (*old)
			hold_lose(b, r, pkey, *old);
		hold_gain(b, r, pkey, s);
	}
	return true;
}

/* (pkey, fd) names nothing from r on: the socket it named, or NULL */
static struct st_msock *fd_del(struct st_builder *b, const struct st_rec *r, int64_t pkey, int fd)
{
	struct st_msock *s = st_map_del(&b->fds, fdkey(pkey, fd));

	if (s)
		hold_lose(b, r, pkey, s);
	return s;
}

static struct st_msock *sock_new(struct st_builder *b, const struct st_rec *r, int fd)
{
	struct st_model *m = b->m;
	struct st_msock *s = calloc(1, sizeof(*s)), *old;
	void *q = st_model_grow(m->socks, &b->socks_cap, m->nsocks, sizeof(*m->socks));

	if (q)	/* the old array may be gone: keep the new one at once */
		m->socks = q;
	if (!s || !q) {
		free(s);
		b->oom = true;
		return NULL;
	}
	m->socks[m->nsocks++] = s;
	s->id = ++m->next_sock_id;
	s->seen_us = st_rec_effect_us(r);
	s->seen_order = r->order;
	s->pid = r->ev.pid;
	s->pkey = r->pkey;
	s->origin = r->origin;
	s->machine = r->machine;
	s->fd = fd;
	s->local = s->remote = "";
	s->t_first = s->t_end = r->ev.ts_us;
	s->end = ST_END_OPEN;
	s->end_pid = -1;
	s->end_pkey = -1;
	if (!fd_put(b, r, r->pkey, fd, s, &old))
		b->oom = true;
	if (old && old != s)
		old->nrefs--;	/* a close the trace missed */
	s->nrefs = 1;
	return s;
}

static void sock_set_inode(struct st_builder *b, struct st_msock *s, uint64_t inode)
{
	struct st_msock *old;

	if (!inode || s->inode)
		return;
	s->inode = inode;
	if (!st_map_put(&b->inodes, ikey(s->pkey, inode), s, &old))
		b->oom = true;
}

/* s lost its last descriptor, in process pid (a key), at r, for this reason */
static void sock_end(struct st_builder *b, struct st_msock *s, const struct st_rec *r, int64_t pid, enum st_end end)
{
	if (s->end != ST_END_OPEN && s->end != ST_END_ELSEWHERE)
		return;
	s->end = end;
	s->end_pid = pid < 0 ? pid : pid & ST_PID_MASK;
	s->end_pkey = pid;
	set_end_rec(b, s, r);
	if (r->ev.ts_us > s->t_end)
		s->t_end = r->ev.ts_us;
	if (end == ST_END_CLOSED || end == ST_END_EXEC) {
		s->close = r;
		s->t_end = r->ev.ts_us;
		if (r->ev.has_tcp) {
			s->tcp_rec = r;
			s->tcp_final = true;
		}
		if (r->ev.state_after)
			s->final_state = r->ev.state_after;
		else if (r->ev.state)
			s->final_state = r->ev.state;
	}
	if (end == ST_END_ELSEWHERE)
		return;	/* still joinable by inode: its holder may show up */
	if (s->inode && st_map_get(&b->inodes, ikey(s->pkey, s->inode)) == s)
		st_map_del(&b->inodes, ikey(s->pkey, s->inode));
	if (s->inode && (end == ST_END_EXIT || end == ST_END_KILLED || end == ST_END_EXEC)) {
		struct st_msock *old;
		if (!st_map_put(&b->ended, ikey(s->pkey, s->inode), s, &old))
			b->oom = true;
	}
}

/* the socket at (pid, fd), first seen now when unknown */
static struct st_msock *sock_at(struct st_builder *b, const struct st_rec *r, int fd)
{
	struct st_msock *s, *old;

	if (fd < 0)
		return NULL;
	s = st_map_get(&b->fds, fdkey(r->pkey, fd));
	if (s)
		return s;
	if (r->ev.inode && r->ev.fd == fd && (s = st_map_get(&b->inodes, ikey(r->pkey, r->ev.inode)))) {
		/* an alias we did not see made (inherited over exec, SCM_RIGHTS) */
		if (!fd_put(b, r, r->pkey, fd, s, &old))
			b->oom = true;
		s->nrefs++;
		return s;
	}
	s = sock_new(b, r, fd);
	if (s)
		s->inherited = true;
	return s;
}

/* every descriptor of pid naming s, dropped: how many */
static int drop_all_of(struct st_builder *b, const struct st_rec *r, int64_t pid, const struct st_msock *s)
{
	int n = 0;

	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct st_ent *e = b->fds.b[i], *next; e; e = next) {
			next = e->next;
			if (e->sock == s && (int64_t)(e->key >> 32) == pid) {
				fd_del(b, r, pid, (int)(uint32_t)e->key);
				n++;
			}
		}
	return n;
}

/* A shared socket's last close in its process after which the kernel still
 * had the socket: the shim asked it, and wrote the state it found instead of
 * a closing one (and no reset verdict).  Another process holds it. */
static bool held_elsewhere(const struct st_event *ev)
{
	return ev->shared && ev->last_ref_known && ev->last_ref && ev->state && ev->state_before &&
	       !ev->reset_known && st_call_is(ev->call, ST_K_CLOSE) && ev->call != ST_CALL_gone;
}

/* drop one descriptor; the socket ends when no descriptor is left, in any
 * process.  The process's hold of it, when this was its last descriptor,
 * ends the way why says (st_hold.how). */
static void fd_drop(struct st_builder *b, const struct st_rec *r, int64_t pid, int fd, bool last_known,
		    bool last, enum st_end why)
{
	enum st_end was = b->why;
	struct st_msock *s;

	b->why = why;
	s = fd_del(b, r, pid, fd);
	if (!s)
		goto out;
	s->nrefs--;
	if (last_known && last && s->nrefs > 0)
		/* the shim knows: no other descriptor of this process holds it */
		s->nrefs -= drop_all_of(b, r, pid, s);
	if (s->nrefs <= 0) {
		if (last_known && !last)
			goto out;	/* held by a descriptor the trace never showed */
		/* the kernel still had it, or a message carries it to a receiver */
		if (why == ST_END_CLOSED && (held_elsewhere(&r->ev) || s->in_flight > 0))
			why = ST_END_ELSEWHERE;
		sock_end(b, s, r, pid, why);
	}
	/* else another process still holds it: this close is not its end */
out:
	b->why = was;
}

/* every descriptor of pid in [first, last] */
static void fd_drop_range(struct st_builder *b, const struct st_rec *r, int64_t first, int64_t last)
{
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct st_ent *e = b->fds.b[i], *next; e; e = next) {
			int fd = (int)(uint32_t)e->key;
			next = e->next;
			if ((int64_t)(e->key >> 32) == r->pkey && fd >= first && fd <= last) {
				sock_note(b, e->sock, r);
				fd_drop(b, r, r->pkey, fd, false, false, ST_END_CLOSED);
			}
		}
}

static void fd_alias(struct st_builder *b, const struct st_rec *r, int64_t pid, struct st_msock *s, int newfd)
{
	struct st_msock *old;

	if (newfd < 0 || !s)
		return;
	if (!fd_put(b, r, pid, newfd, s, &old))
		b->oom = true;
	if (old == s)
		return;
	s->nrefs++;
	if (old && --old->nrefs <= 0)
		sock_end(b, old, r, pid, ST_END_CLOSED);
}

/* The descriptors of pid, copied (a pid's entries may move while the
 * table grows: work on a copy).  *n set; NULL when none or out of memory. */
static struct st_ent *fds_of(struct st_builder *b, int64_t pid, size_t *n)
{
	size_t cap = 0;
	struct st_ent *list = NULL;

	*n = 0;
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct st_ent *e = b->fds.b[i]; e; e = e->next)
			if ((int64_t)(e->key >> 32) == pid) {
				void *q = st_model_grow(list, &cap, *n, sizeof(*list));
				if (!q) {
					b->oom = true;
					free(list);
					*n = 0;
					return NULL;
				}
				list = q;
				list[(*n)++] = *e;
			}
	return list;
}

static struct st_proc *proc_by_pid(struct st_builder *b, const struct st_rec *r, int64_t pid);

/* A new process with copies of every descriptor of its parent (at pid's
 * fork event, or at the child's start when libc forked inside another call:
 * daemon). */
static void copy_fds(struct st_builder *b, const struct st_rec *r, int64_t pid, int64_t child)
{
	size_t n;
	struct st_ent *list;

	list = fds_of(b, pid, &n);
	for (size_t i = 0; i < n; i++) {
		struct st_msock *old;
		if (!fd_put(b, r, child, (int)(uint32_t)list[i].key, list[i].sock, &old))
			b->oom = true;
		if (old != list[i].sock)
			list[i].sock->nrefs++;
	}
	free(list);
}

static void on_new_process(struct st_builder *b, const struct st_rec *r, int64_t child)
{
	struct st_proc *p;

	if (child <= 0)
		return;
	p = proc_by_pid(b, r, child);
	if (p)
		p->forked = true;
	/* a vfork's event comes after its child exec'd: the new image's start
	 * already listed what it holds */
	if (!p || !p->start)
		copy_fds(b, r, r->pkey, st_rec_key(r, child));
}

/* The image of p ended (exit, or an end another process saw): every
 * descriptor it still held is closed by the kernel. */
/* Did the image's start list fd (naming s) among the sockets it held from
 * its start? */
static bool held_from_start(const struct st_proc *p, int fd, const struct st_msock *s)
{
	const struct st_event *ev = p->start ? &p->start->ev : NULL;

	for (int k = 0; ev && k < ev->ninherited; k++)
		if (ev->inherited[k].fd == fd && (!s->inode || ev->inherited[k].inode == s->inode))
			return true;
	return false;
}

static void image_over(struct st_builder *b, struct st_proc *p, const struct st_rec *r, enum st_end why)
{
	bool daemon_end = r->ev.call == ST_CALL_end && r->ev.by && !strcmp(r->ev.by, "daemon");
	size_t n;
	struct st_ent *list = fds_of(b, p->key, &n);

	for (size_t i = 0; i < n; i++) {
		struct st_msock *s = list[i].sock;
		int fd = (int)(uint32_t)list[i].key;
		bool from_start = held_from_start(p, fd, s);
		struct st_hold *h;
		if (s->pkey != p->key)
			sock_note(b, s, r);	/* another process's end: one of its events */
		fd_drop(b, r, p->key, fd, false, false, why);
		if (s->end != ST_END_OPEN && s->end_rec == r && from_start)
			s->handed = true;
		/* its hold ends here whoever else holds the socket: held from
		 * the image's start, or by a daemon()'s parent whose child goes
		 * on with it, it was handed over */
		if ((h = hold_ended(s, p->key)) && h->to_n && (from_start || daemon_end))
			h->handed = true;
	}
	free(p->held);
	p->held = NULL;
	p->nheld = 0;
	if (why == ST_END_UNTRACED) {
		p->held = list;	/* adopt_held may give them back */
		p->nheld = n;
	} else {
		free(list);
	}
	p->ended = true;
}

/* A child forked inside libc (daemon: no fork event) whose start came
 * after its parent's end was seen (the runner's, before the child's word
 * that it was daemon()'s _exit): the sockets that end took from the
 * parent's image live on in the child.  They are its again, at the
 * parent's descriptors; the end was not theirs. */
static void adopt_held(struct st_builder *b, const struct st_rec *r, const struct st_proc *pp, struct st_proc *p)
{
	for (size_t i = 0; i < pp->nheld; i++) {
		struct st_msock *s = pp->held[i].sock, *old;

		if (s->end == ST_END_UNTRACED && s->end_pkey == pp->key) {
			s->end = ST_END_OPEN;
			s->end_pid = -1;
			s->end_pkey = -1;
			set_end_rec(b, s, NULL);
			if (s->inode && !st_map_put(&b->inodes, ikey(s->pkey, s->inode), s, &old))
				b->oom = true;
		}
		if (s->end != ST_END_OPEN)
			continue;
		if (!fd_put(b, r, p->key, (int)(uint32_t)pp->held[i].key, s, &old))
			b->oom = true;
		if (old != s)
			s->nrefs++;
	}
}

/* Of the descriptors pid held before its new image (list), those its start
 * does not list were closed by the exec.  held_on: only those whose socket
 * the image holds at another number, else only the others. */
static void not_kept(struct st_builder *b, const struct st_proc *p, const struct st_rec *r,
		     const struct st_ent *list, size_t n, bool held_on)
{
	const struct st_event *ev = &r->ev;

	for (size_t i = 0; i < n; i++) {
		struct st_msock *s = list[i].sock;
		int fd = (int)(uint32_t)list[i].key;
		bool kept = false, held = false;
		for (int k = 0; k < ev->ninherited; k++) {
			kept = kept || (ev->inherited[k].fd == fd &&
					(!ev->inherited[k].inode || !s->inode || ev->inherited[k].inode == s->inode));
			held = held || (s->inode && ev->inherited[k].inode == s->inode);
		}
		if (kept || held != held_on || st_map_get(&b->fds, fdkey(p->key, fd)) != s)
			continue;
		sock_note(b, s, r);
		fd_drop(b, r, p->key, fd, false, false, ST_END_EXEC);
	}
}

/* A start: a new image.  With its list of inherited sockets it says which
 * descriptors the image holds: what the pid held before and is not in the
 * list was closed by the exec; what is in the list joins its socket by
 * inode (a descriptor of another process, or of the image before). */
static void on_start(struct st_builder *b, struct st_proc *p, struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	size_t n;
	struct st_ent *list;
	void *q;

	q = st_model_grow(p->starts, &p->capstarts, (size_t)p->images, sizeof(*p->starts));
	if (!q) {
		b->oom = true;
		return;
	}
	p->starts = q;
	p->starts[p->images++] = pin(r);
	p->start = r;
	p->ppid = ev->ppid;
	p->exit = NULL;
	p->ended = false;
	if (!ev->inherited) {
		/* a forked child: its parent's fork event copied them, unless
		 * libc forked inside another call (daemon) */
		struct st_proc *pp = !p->forked && p->images == 1 && ev->ppid > 0 ?
					     st_model_proc_key(b->m, st_rec_key(r, ev->ppid)) : NULL;
		if (pp && pp->ended && pp->held && pp->end && ev->ts_us - pp->end->ev.ts_us < 1000000)
			adopt_held(b, r, pp, p);
		else if (pp)
			copy_fds(b, r, pp->key, p->key);
		return;
	}
	list = fds_of(b, p->key, &n);
	not_kept(b, p, r, list, n, false);
	for (int k = 0; k < ev->ninherited; k++) {
		const struct st_isock *is = &ev->inherited[k];
		struct st_msock *s = st_map_get(&b->fds, fdkey(p->key, is->fd)), *old;

		if (s)
			continue;
		s = is->inode ? st_map_get(&b->inodes, ikey(r->pkey, is->inode)) : NULL;
		if (s) {
			if (!fd_put(b, r, p->key, is->fd, s, &old))
				b->oom = true;
			s->nrefs++;
			continue;
		}
		s = sock_new(b, r, is->fd);
		if (!s)
			return;
		s->inherited = true;
		s->family = is->family;
		s->type = is->type;
		s->proto = is->proto;
		s->local = is->local;
		s->remote = is->remote;
		sock_set_inode(b, s, is->inode);
		if (is->state)
			s->final_state = is->state;
		s->told_listening = is->listening;
	}
	/* a socket the image holds at other numbers (a vfork child's dup2 onto
	 * 0 and 1) lets go of its old ones only now: it never ended */
	not_kept(b, p, r, list, n, true);
	free(list);
}

/* A late close: after its image's exit event (an exit handler registered
 * after the shim's), of a socket that exit ended: the close is its end; of
 * a socket another process still holds: the close ended this process's
 * hold, not the exit. */
static struct st_msock *late_close(struct st_builder *b, const struct st_proc *p, const struct st_rec *r)
{
	struct st_msock *s = r->ev.inode ? st_map_get(&b->ended, ikey(r->pkey, r->ev.inode)) : NULL;
	struct st_hold *h;

	if (!p->ended)
		return NULL;
	if (!s && r->ev.inode && (s = st_map_get(&b->inodes, ikey(r->pkey, r->ev.inode)))) {
		/* another process holds it still: only this process's hold
		 * ended with its exit, and the close was the program's */
		h = hold_ended(s, p->key);
		if (!h || (h->how != ST_END_EXIT && h->how != ST_END_KILLED))
			return NULL;
		h->how = ST_END_CLOSED;
		h->handed = false;
		return s;
	}
	if (!s || s->end_pkey != p->key || (s->end != ST_END_EXIT && s->end != ST_END_KILLED))
		return NULL;
	s->end = ST_END_OPEN;
	sock_end(b, s, r, p->key, ST_END_CLOSED);
	h = hold_ended(s, p->key);
	if (h)
		h->how = ST_END_CLOSED;	/* its hold too: the close was the program's */
	return s;
}

/* SCM_RIGHTS received: each descriptor names the sender's socket */
static void on_rights(struct st_builder *b, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;

	for (int i = 0; i < ev->nrights; i++) {
		const struct st_right *rt = &ev->rights[i];
		struct st_msock *s, *old;

		if (!rt->inode)
			continue;	/* not a socket */
		s = st_map_get(&b->inodes, ikey(r->pkey, rt->inode));
		if (s) {
			if (s->in_flight > 0)
				s->in_flight--;
			if (!fd_put(b, r, r->pkey, rt->fd, s, &old))
				b->oom = true;
			if (old != s) {
				s->nrefs++;
				if (old && --old->nrefs <= 0)
					sock_end(b, old, r, r->pkey, ST_END_CLOSED);
			}
		} else if ((s = sock_new(b, r, rt->fd))) {
			/* from a process outside the traces: what it is, only its
			 * later events say (the message's fields are its carrier's) */
			s->received = true;
			s->told_listening = rt->listening;
			sock_set_inode(b, s, rt->inode);
		}
		if (s)
			sock_note_event(b, s, r);
	}
}

/* SCM_RIGHTS sent: each socket is in flight to a receiver */
static void on_rights_sent(struct st_builder *b, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;

	for (int i = 0; i < ev->nrights; i++) {
		const struct st_right *rt = &ev->rights[i];
		struct st_msock *s = rt->inode ? st_map_get(&b->fds, fdkey(r->pkey, rt->fd)) : NULL;

		if (!s)
			continue;
		/* the receiver may take it before the sender's next event on it
		 * tells its inode (a socketpair's second end never does) */
		sock_set_inode(b, s, rt->inode);
		if (s->inode == rt->inode)
			s->in_flight++;
	}
}

/* A failed exec: the sockets its exec events announced closed are open. */
static void on_exec_failed(struct st_builder *b, const struct st_rec *r)
{
	const struct st_event *ev = &r->ev;

	for (int i = 0; i < ev->nkept; i++)
		for (size_t k = 0; k < b->m->nsocks; k++) {
			struct st_msock *s = b->m->socks[k], *old;
			if (s->end != ST_END_EXEC || s->end_pkey != r->pkey || !s->end_rec ||
			    s->end_rec->ev.fd != ev->kept[i])
				continue;
			s->end = ST_END_OPEN;
			s->end_pid = -1;
			s->end_pkey = -1;
			set_end_rec(b, s, NULL);
			s->close = NULL;
			s->tcp_final = false;
			if (!fd_put(b, r, r->pkey, ev->kept[i], s, &old))
				b->oom = true;
			s->nrefs++;
			if (s->inode && st_map_get(&b->ended, ikey(s->pkey, s->inode)) == s)
				st_map_del(&b->ended, ikey(s->pkey, s->inode));
			if (s->inode)
				st_map_put(&b->inodes, ikey(s->pkey, s->inode), s, &old);
			break;
		}
}

/* the process pid of r's origin */
static struct st_proc *proc_by_pid(struct st_builder *b, const struct st_rec *r, int64_t pid)
{
	struct st_rec fake;
	struct st_proc *p;

	memset(&fake, 0, sizeof(fake));
	fake.ev.pid = pid;
	fake.origin = r->origin;
	fake.pkey = st_rec_key(r, pid);
	p = proc_of(b, &fake);
	if (p && p->first == &fake)
		p->first = NULL;	/* its first event is still to come */
	return p;
}

static void step(struct st_builder *b, struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	struct st_proc *p;
	struct st_msock *s = NULL;
	int fd = ev->fd;

	if (ev->call == ST_CALL_end) {
		/* another process's end, as its parent or the runner saw it */
		p = proc_of(b, r);
		if (!p)
			return;
		p->end = pin(r);
		/* with no exit event of its own (nor a signal), the image that ended
		 * was not the traced one: an exec of an untraced program.  With no
		 * event of its own at all (no start: a child whose events went to
		 * a file of its own, %p), what it did with what it held is not in
		 * these traces either */
		if (!p->ended)
			image_over(b, p, r, !p->images && !p->nevents ? ST_END_UNTRACED :
					    ev->signal ? ST_END_KILLED :
					    p->images && !p->exit && !(ev->by && !strcmp(ev->by, "daemon")) ?
					    ST_END_UNTRACED : ST_END_EXIT);
		return;
	}
	p = proc_of(b, r);
	if (!p)
		return;
	p->nevents++;
	switch (ev->call) {
	case ST_CALL_start:
		on_start(b, p, r);
		return;
	case ST_CALL_exit:
		p->exit = pin(r);
		if (!p->ended)
			image_over(b, p, r, ST_END_EXIT);
		return;
	case ST_CALL_fork:
	case ST_CALL__Fork:
	case ST_CALL_vfork:
	case ST_CALL_clone:
		if (!ev->err)
			on_new_process(b, r, ev->ret);
		return;
	case ST_CALL_posix_spawn:
	case ST_CALL_posix_spawnp:
		if (!ev->err && ev->child > 0)
			proc_by_pid(b, r, ev->child);	/* its start lists what it holds */
		return;
	case ST_CALL_socket:
		if (ev->err)
			return;	/* no socket was made */
		s = sock_new(b, r, fd >= 0 ? fd : (int)ev->ret);
		if (s)
			s->made = r;
		break;
	case ST_CALL_socketpair: {
		struct st_msock *a, *c;
		if (ev->err || ev->pair[0] < 0)
			return;
		a = sock_new(b, r, ev->pair[0]);
		c = sock_new(b, r, ev->pair[1]);
		if (!a || !c)
			return;
		a->made = c->made = r;
		a->peer = c;
		c->peer = a;
		sock_set_inode(b, a, ev->inode);	/* the first end's */
		/* the second end's, when the event names it (peer_inode) */
		sock_set_inode(b, c, ev->peer_inode);
		a->peer_inode = c->inode;
		c->peer_inode = a->inode;
		sock_note(b, a, r);
		sock_note(b, c, r);
		r->sock = a;
		return;
	}
	default:
		break;
	}
	if (st_call_is(ev->call, ST_K_EXEC)) {
		if (ev->err && ev->nkept)
			on_exec_failed(b, r);
		return;
	}
	if (st_call_is(ev->call, ST_K_RIGHTS)) {
		if (!ev->err && (ev->call == ST_CALL_recvmsg || ev->call == ST_CALL_recvmmsg))
			on_rights(b, r);
		else if (!ev->err && (ev->call == ST_CALL_sendmsg || ev->call == ST_CALL_sendmmsg))
			on_rights_sent(b, r);
		s = fd >= 0 ? st_map_get(&b->fds, fdkey(r->pkey, fd)) : NULL;
		if (s) {
			r->sock = s;
			sock_note(b, s, r);
			sock_set_inode(b, s, ev->inode);
		}
		return;
	}
	if (st_call_is(ev->call, ST_K_ACCEPT)) {
		struct st_msock *l = sock_at(b, r, ev->listen_fd);
		if (l) {
			/* the listener's own record keeps its addresses */
			r->lsock = l;
			void *q = st_model_grow_from(l->evs, &l->capevs, l->nevs, sizeof(*l->evs), SOCK_EVS_FIRST);
			if (q) {
				l->evs = q;
				l->evs[l->nevs++] = r;
				r->refs++;
				l->t_end = ev->ts_us;
				if (ev->err)
					l->errors++;
			}
		}
		if (ev->err || ev->ret < 0)
			return;
		s = sock_new(b, r, fd >= 0 ? fd : (int)ev->ret);
		if (!s)
			return;
		s->made = r;
		s->listener = l;
		s->t_first = st_rec_end_us(r);
		s->peer_inode = ev->peer_inode;
		if (l) {
			l->accepted++;
			l->live_accepted++;
			if (!s->family)
				s->family = l->family;
			if (!s->type)
				s->type = l->type;
			if (!s->proto)
				s->proto = l->proto;
		}
	} else if (st_call_is(ev->call, ST_K_DUP)) {
		if (ev->implicit_close) {
			/* fd held a socket the call closed to make room */
			s = st_map_get(&b->fds, fdkey(r->pkey, fd));
			if (!s)
				s = sock_at(b, r, fd);
			if (s) {
				r->sock = s;
				sock_note(b, s, r);
				fd_drop(b, r, r->pkey, fd, ev->last_ref_known, ev->last_ref, ST_END_CLOSED);
			}
			return;
		}
		s = sock_at(b, r, fd);
		if (s && !ev->err) {
			int newfd = ev->newfd >= 0 ? ev->newfd : (int)ev->ret;
			if (newfd != fd)
				fd_alias(b, r, r->pkey, s, newfd);
		}
	} else if (st_call_is(ev->call, ST_K_RANGE) && fd < 0) {
		/* a bulk close without a socket of its own (older traces) */
		if (!ev->err && ev->range_first >= 0 && !(ev->flags && strstr(ev->flags, "CLOEXEC")) &&
		    !(ev->flags && strstr(ev->flags, "UNSHARE")))
			fd_drop_range(b, r, ev->range_first, ev->range_last);
		return;
	} else if (st_call_is(ev->call, ST_K_CLOSE)) {
		/* close, __close, fclose, freopen, a socket of close_range or
		 * closefrom, gone (closed out of sight), exec (close-on-exec) */
		enum st_end why = ev->call == ST_CALL_gone ? ST_END_UNSEEN :
				  ev->call == ST_CALL_exec ? ST_END_EXEC : ST_END_CLOSED;
		s = st_map_get(&b->fds, fdkey(r->pkey, fd));
		if (!s && fd >= 0 && (s = late_close(b, p, r))) {
			r->sock = s;
			sock_note(b, s, r);
			return;
		}
		if (!s)
			s = sock_at(b, r, fd);
		if (s) {
			r->sock = s;
			sock_note(b, s, r);
			sock_set_inode(b, s, ev->inode);
			connect_evidence(s, r);
			if (!ev->err || strcmp(ev->err, "EBADF"))
				fd_drop(b, r, r->pkey, fd, ev->last_ref_known, ev->last_ref, why);
		}
		return;
	} else {
		/* bind, listen, connect, shutdown, setsockopt, getsockopt, ... */
		s = sock_at(b, r, fd);
		if (!s)
			return;
		if (ev->call == ST_CALL_bind)
			s->bind = r;
		else if (ev->call == ST_CALL_listen && !ev->err)
			s->listen = r;
		else if (ev->call == ST_CALL_connect) {
			if (!s->connect)
				s->connect = r;
			if (!ev->err)
				s->connected = r;
			else if (strcmp(ev->err, "EINPROGRESS") && strcmp(ev->err, "EINTR") &&
				 strcmp(ev->err, "EALREADY") && strcmp(ev->err, "EISCONN")) {
				s->connect_failed = true;
				s->connect_err = ev->err;
			}
		} else if (ev->call == ST_CALL_shutdown && !ev->err && stops_sending(ev->how) && !s->shutdown)
			s->shutdown = r;
		else if (ev->call == ST_CALL_getsockopt && ev->so_error && strcmp(ev->so_error, "0") &&
			 s->connect && !s->connected) {
			s->connect_failed = true;
			s->connect_err = ev->so_error;
		}
	}
	if (!s)
		return;
	r->sock = s;
	sock_note(b, s, r);
	connect_evidence(s, r);
	sock_set_inode(b, s, ev->inode);
}


int st_model_begin(struct st_model *m)
{
	memset(m, 0, sizeof(*m));
	m->building = calloc(1, sizeof(*m->building));
	if (!m->building)
		return -1;
	m->building->m = m;
	m->building->why = ST_END_CLOSED;
	return 0;
}

int st_model_feed(struct st_model *m, struct st_rec *r)
{
	struct st_builder *b = m->building;
	bool was = r->pinned;

	if (!b || b->oom)
		return -1;
	if (!m->nfed++)
		m->t_first = r->ev.ts_us;
	m->t_last = r->ev.ts_us;
	step(b, r);
	if (m->retiring && r->pinned && !was && st_model_pin(m, r) < 0)
		b->oom = true;
	return b->oom ? -1 : 0;
}

void st_model_unmark_held(struct st_model *m)
{
	struct st_builder *b = m->building;

	if (!b)
		return;
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct st_ent *e = b->fds.b[i]; e; e = e->next)
			e->sock->retiring = false;
	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t k = 0; k < m->procs[i]->nheld; k++)
			m->procs[i]->held[k].sock->retiring = false;
}

void st_model_forget(struct st_model *m, struct st_msock *s)
{
	struct st_builder *b = m->building;

	if (!b || !s->inode)
		return;
	if (st_map_get(&b->inodes, ikey(s->pkey, s->inode)) == s)
		st_map_del(&b->inodes, ikey(s->pkey, s->inode));
	if (st_map_get(&b->ended, ikey(s->pkey, s->inode)) == s)
		st_map_del(&b->ended, ikey(s->pkey, s->inode));
}

void st_model_settle(struct st_msock *s)
{
	if (s->final_state)
		return;
	for (size_t k = s->nevs; k-- > 0;)
		if (s->evs[k]->sock == s && s->evs[k]->ev.state) {
			s->final_state = s->evs[k]->ev.state;
			return;
		}
}

/* one beginning (+1) or end (-1) of a hold */
/* Each process's open_peak, from the counts its holds' beginnings and
 * ends kept as the model met them (open_step): the same whether or not
 * the sockets are still held. */
static void open_peaks(struct st_model *m)
{
	const struct st_builder *b = m->building;

	for (size_t i = 0; i < m->nprocs && b->capopens; i++) {
		struct st_proc *p = m->procs[i];
		const struct open_count *o = &b->opens[open_slot(b->opens, b->capopens, p->key)];

		if (o->used && o->peak > 0) {
			p->open_peak = o->peak;
			p->open_peak_us = o->peak_us;
		}
	}
}

static void builder_free(struct st_model *m)
{
	struct st_builder *b = m->building;

	if (!b)
		return;
	st_map_free(&b->fds);
	st_map_free(&b->inodes);
	st_map_free(&b->ended);
	free(b->opens);
	free(b);
	m->building = NULL;
}

int st_model_finish(struct st_model *m)
{
	struct st_builder *b = m->building;
	bool oom;

	if (!b)
		return -1;
	for (size_t i = 0; i < m->nsocks && !b->oom; i++) {
		struct st_msock *s = m->socks[i];
		/* held only by processes that left no events of their own */
		if (s->end == ST_END_OPEN && s->nrefs > 0) {
			bool seen = false;
			for (size_t k = 0; k < b->fds.nb && !seen; k++)
				for (struct st_ent *e = b->fds.b[k]; e && !seen; e = e->next) {
					const struct st_proc *p;
					if (e->sock != s)
						continue;
					p = st_model_proc_key(m, (int64_t)(e->key >> 32));
					seen = p && p->nevents > 0;
				}
			if (!seen && s->nevs)
				s->end = ST_END_ELSEWHERE;
		}
		st_model_settle(s);
	}
	if (!b->oom)
		open_peaks(m);
	st_model_order_socks(m);
	if (!b->oom && st_model_join(m) < 0)
		b->oom = true;
	oom = b->oom;
	builder_free(m);
	return oom ? -1 : 0;
}

int st_model_build(struct st_model *m, struct st_rec *const *recs, size_t n)
{
	if (st_model_begin(m) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (st_model_feed(m, recs[i]) < 0)
			return -1;
	return st_model_finish(m);
}

void st_model_free(struct st_model *m)
{
	/* what is left is the caller's to read, not to be handed out again */
	m->retire.sock = NULL;
	m->retire.conn = NULL;
	m->retire.rec = NULL;
	builder_free(m);
	for (size_t i = 0; i < m->nsocks; i++) {
		if (m->retiring)
			st_model_drop_events(m, m->socks[i]);
		free(m->socks[i]->evs);
		free(m->socks[i]->holds);
		free(m->socks[i]);
	}
	for (size_t i = 0; i < m->nconns; i++)
		free(m->conns[i]);
	for (size_t i = 0; i < m->nprocs; i++) {
		free(m->procs[i]->held);
		free(m->procs[i]->starts);
		free(m->procs[i]);
	}
	free(m->socks);
	free(m->conns);
	free(m->procs);
	for (size_t i = 0; i < m->npinned; i++)
		st_rec_free(m->pinned[i]);
	free(m->pinned);
	free(m->digests);
	if (m->lone)
		st_map_free(m->lone);
	free(m->lone);
	memset(m, 0, sizeof(*m));
}
