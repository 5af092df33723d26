/* model.c - sockets and processes from events (see model.h): the first
 * pass of the model.
 *
 * Owns: the descriptor tables of the traced processes as the events tell
 * them (socket, accept, dup, fork, close, exit), the socket each event is
 * about, the processes, and the small facts about sockets and addresses
 * the formats ask for.  The joining of connection ends is model_conns.c.
 * Trusts the shim's "last" where it has it; never prints.
 */
#include "model.h"
#include "model_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small map from 64-bit keys to sockets --------------------------- */

struct ent {
	uint64_t key;
	struct st_msock *sock;
	struct ent *next;
};

struct map {
	struct ent **b;
	size_t nb, n;
};

static size_t hash64(uint64_t k, size_t nb)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)(k & (nb - 1));
}

static bool map_grow(struct map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 256;
	struct ent **b = calloc(nb, sizeof(*b));

	if (!b)
		return false;
	for (size_t i = 0; i < m->nb; i++)
		for (struct ent *e = m->b[i], *next; e; e = next) {
			size_t h = hash64(e->key, nb);
			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return true;
}

static struct st_msock *map_get(const struct map *m, uint64_t key)
{
	if (!m->nb)
		return NULL;
	for (struct ent *e = m->b[hash64(key, m->nb)]; e; e = e->next)
		if (e->key == key)
			return e->sock;
	return NULL;
}

/* the previous socket at key, or NULL */
static bool map_put(struct map *m, uint64_t key, struct st_msock *s, struct st_msock **old)
{
	struct ent *e;
	size_t h;

	*old = NULL;
	if (m->n >= m->nb && !map_grow(m))
		return false;
	h = hash64(key, m->nb);
	for (e = m->b[h]; e; e = e->next)
		if (e->key == key) {
			*old = e->sock;
			e->sock = s;
			return true;
		}
	e = malloc(sizeof(*e));
	if (!e)
		return false;
	e->key = key;
	e->sock = s;
	e->next = m->b[h];
	m->b[h] = e;
	m->n++;
	return true;
}

static struct st_msock *map_del(struct map *m, uint64_t key)
{
	if (!m->nb)
		return NULL;
	for (struct ent **pe = &m->b[hash64(key, m->nb)]; *pe; pe = &(*pe)->next)
		if ((*pe)->key == key) {
			struct ent *e = *pe;
			struct st_msock *s = e->sock;
			*pe = e->next;
			free(e);
			m->n--;
			return s;
		}
	return NULL;
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct ent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

static uint64_t fdkey(int64_t pid, int fd)
{
	return ((uint64_t)pid << 32) | (uint32_t)fd;
}

/* ---- addresses -------------------------------------------------------- */

void st_addr_normalize(const char *in, char out[ST_ADDR_MAX])
{
	static const char mapped[] = "[::ffff:";
	const char *end;

	if (!strncmp(in, mapped, sizeof(mapped) - 1) && (end = strchr(in, ']')) &&
	    memchr(in + sizeof(mapped) - 1, '.', (size_t)(end - in))) {
		size_t n = (size_t)(end - in) - (sizeof(mapped) - 1);
		memcpy(out, in + sizeof(mapped) - 1, n);
		snprintf(out + n, ST_ADDR_MAX - n, "%s", end + 1);
		return;
	}
	snprintf(out, ST_ADDR_MAX, "%s", in);
}

int st_addr_port(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (!colon || addr[0] == '/' || addr[0] == '@' || !colon[1])
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	return (int)p;
}

const char *st_msock_kind(const struct st_msock *s)
{
	if (s->proto)
		return s->proto;
	if (s->family && !strcmp(s->family, "AF_UNIX"))
		return "unix";
	if (s->family && !strncmp(s->family, "AF_", 3))
		return s->family + 3;
	return "socket";
}

bool st_msock_is_tcp(const struct st_msock *s)
{
	if (s->proto)
		return !strcmp(s->proto, "tcp") || !strcmp(s->proto, "mptcp");
	return s->type && !strcmp(s->type, "SOCK_STREAM") && s->family &&
	       (!strcmp(s->family, "AF_INET") || !strcmp(s->family, "AF_INET6"));
}

const char *st_msock_local(const struct st_msock *s)
{
	if (s->local[0])
		return s->local;
	return s->bind ? s->bind->ev.addr : "";
}

const char *st_msock_remote(const struct st_msock *s)
{
	if (s->remote[0])
		return s->remote;
	return s->connect ? s->connect->ev.addr : "";
}

static bool stops_sending(const char *how)
{
	return how && (!strcmp(how, "SHUT_WR") || !strcmp(how, "SHUT_RDWR"));
}

int64_t st_rec_end_us(const struct st_rec *r)
{
	return r->ev.ts_us + (r->ev.dur_ns > 0 ? r->ev.dur_ns / 1000 : 0);
}

const struct st_rec *st_msock_teardown(const struct st_msock *s)
{
	if (s->shutdown && (!s->close || s->shutdown->ev.ts_us <= s->close->ev.ts_us))
		return s->shutdown;
	return s->close;
}

/* ---- building --------------------------------------------------------- */

struct builder {
	struct st_model *m;
	struct map fds;		/* (pid, fd) -> socket */
	struct map inodes;	/* inode -> open socket */
	struct st_proc *last_proc;
	size_t procs_cap, socks_cap;
	bool oom;
};

void *st_model_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 16;
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

static struct st_proc *proc_of(struct builder *b, const struct st_rec *r)
{
	struct st_model *m = b->m;
	struct st_proc *p;
	void *q;

	if (b->last_proc && b->last_proc->pid == r->ev.pid)
		return b->last_proc;
	p = st_model_proc(m, r->ev.pid);
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
		p->ppid = -1;
		p->first = r;
		m->procs[m->nprocs++] = p;
	}
	b->last_proc = p;
	return p;
}

static void sock_note(struct builder *b, struct st_msock *s, const struct st_rec *r)
{
	void *q = st_model_grow(s->evs, &s->capevs, s->nevs, sizeof(*s->evs));

	if (!q) {
		b->oom = true;
		return;
	}
	s->evs = q;
	if (s->nevs && s->evs[s->nevs - 1] == r)
		return;
	s->evs[s->nevs++] = r;
	if (r->ev.err)
		s->errors++;
	if (r->ev.local[0])
		memcpy(s->local, r->ev.local, ST_ADDR_MAX);
	if (r->ev.remote[0])
		memcpy(s->remote, r->ev.remote, ST_ADDR_MAX);
	if (!s->family && r->ev.family)
		s->family = r->ev.family;
	if (!s->type && r->ev.type)
		s->type = r->ev.type;
	if (!s->proto && r->ev.proto)
		s->proto = r->ev.proto;
	if (r->ev.has_tcp)
		s->tcp_rec = r;
	s->t_end = r->ev.ts_us;
}

static struct st_msock *sock_new(struct builder *b, const struct st_rec *r, int fd)
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
	s->id = (int)m->nsocks;
	s->pid = r->ev.pid;
	s->fd = fd;
	s->t_first = s->t_end = r->ev.ts_us;
	s->end = ST_END_OPEN;
	if (!map_put(&b->fds, fdkey(r->ev.pid, fd), s, &old))
		b->oom = true;
	if (old && old != s)
		old->nrefs--;	/* a close the trace missed */
	s->nrefs = 1;
	return s;
}

static void sock_end(struct builder *b, struct st_msock *s, const struct st_rec *r, enum st_end end)
{
	if (s->end == ST_END_CLOSED || s->end == ST_END_EXIT)
		return;
	s->end = end;
	if (end == ST_END_CLOSED) {
		s->close = r;
		s->t_end = r->ev.ts_us;
		if (r->ev.state_after)
			s->final_state = r->ev.state_after;
		else if (r->ev.state)
			s->final_state = r->ev.state;
	}
	if (s->inode && map_get(&b->inodes, s->inode) == s)
		map_del(&b->inodes, s->inode);
}

/* the socket at (pid, fd), first seen now when unknown */
static struct st_msock *sock_at(struct builder *b, const struct st_rec *r, int fd)
{
	struct st_msock *s, *old;

	if (fd < 0)
		return NULL;
	s = map_get(&b->fds, fdkey(r->ev.pid, fd));
	if (s)
		return s;
	if (r->ev.inode && r->ev.fd == fd && (s = map_get(&b->inodes, r->ev.inode))) {
		/* an alias we did not see made (inherited over exec, SCM_RIGHTS) */
		if (!map_put(&b->fds, fdkey(r->ev.pid, fd), s, &old))
			b->oom = true;
		s->nrefs++;
		return s;
	}
	s = sock_new(b, r, fd);
	if (s)
		s->inherited = true;
	return s;
}

/* drop one descriptor; the socket ends when no descriptor is left */
static void fd_drop(struct builder *b, const struct st_rec *r, int64_t pid, int fd, bool last_known,
		    bool last)
{
	struct st_msock *s = map_del(&b->fds, fdkey(pid, fd));

	if (!s)
		return;
	s->nrefs--;
	if (last_known && last && s->nrefs > 0) {
		/* the shim knows: no other descriptor of this process holds it */
		for (size_t i = 0; i < b->fds.nb; i++)
			for (struct ent *e = b->fds.b[i], *next; e; e = next) {
				next = e->next;
				if (e->sock == s && (int64_t)(e->key >> 32) == pid) {
					map_del(&b->fds, e->key);
					s->nrefs--;
				}
			}
	}
	if (s->nrefs <= 0) {
		if (last_known && !last)
			return;	/* held by a descriptor the trace never showed */
		sock_end(b, s, r, ST_END_CLOSED);
	} else if (!s->close && last_known && last && r->ev.shared) {
		/* closed here, the forked process still holds it */
		s->close = r;
	}
}

/* every descriptor of pid in [first, last] */
static void fd_drop_range(struct builder *b, const struct st_rec *r, int64_t first, int64_t last)
{
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct ent *e = b->fds.b[i], *next; e; e = next) {
			int fd = (int)(uint32_t)e->key;
			next = e->next;
			if ((int64_t)(e->key >> 32) == r->ev.pid && fd >= first && fd <= last) {
				sock_note(b, e->sock, r);
				fd_drop(b, r, r->ev.pid, fd, false, false);
			}
		}
}

static void fd_alias(struct builder *b, const struct st_rec *r, struct st_msock *s, int newfd)
{
	struct st_msock *old;

	if (newfd < 0 || !s)
		return;
	if (!map_put(&b->fds, fdkey(r->ev.pid, newfd), s, &old))
		b->oom = true;
	if (old == s)
		return;
	s->nrefs++;
	if (old && --old->nrefs <= 0)
		sock_end(b, old, r, ST_END_CLOSED);
}

static void on_fork(struct builder *b, const struct st_rec *r)
{
	int64_t child = r->ev.ret;

	if (child <= 0 || r->ev.err)
		return;
	/* copy first: adding while walking could grow the table */
	size_t n = 0, cap = 0;
	struct ent *list = NULL;
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct ent *e = b->fds.b[i]; e; e = e->next)
			if ((int64_t)(e->key >> 32) == r->ev.pid) {
				void *q = st_model_grow(list, &cap, n, sizeof(*list));
				if (!q) {
					b->oom = true;
					free(list);
					return;
				}
				list = q;
				list[n++] = *e;
			}
	for (size_t i = 0; i < n; i++) {
		struct st_msock *old;
		if (!map_put(&b->fds, fdkey(child, (int)(uint32_t)list[i].key), list[i].sock, &old))
			b->oom = true;
		if (old != list[i].sock)
			list[i].sock->nrefs++;
	}
	free(list);
}

static void on_exit_ev(struct builder *b, const struct st_rec *r)
{
	for (size_t i = 0; i < b->fds.nb; i++)
		for (struct ent *e = b->fds.b[i], *next; e; e = next) {
			next = e->next;
			if ((int64_t)(e->key >> 32) != r->ev.pid)
				continue;
			struct st_msock *s = e->sock;
			map_del(&b->fds, e->key);
			if (--s->nrefs <= 0 && s->end == ST_END_OPEN) {
				s->end = ST_END_EXIT;
				if (s->inode && map_get(&b->inodes, s->inode) == s)
					map_del(&b->inodes, s->inode);
			}
		}
}

static void step(struct builder *b, struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	struct st_proc *p = proc_of(b, r);
	struct st_msock *s = NULL, *old;
	int fd = ev->fd;

	if (!p)
		return;
	p->nevents++;
	if (ev->call == ST_CALL_start) {
		p->start = r;
		p->ppid = ev->ppid;
		return;
	}
	if (ev->call == ST_CALL_exit) {
		p->exit = r;
		on_exit_ev(b, r);
		return;
	}
	if (ev->call == ST_CALL_fork) {
		on_fork(b, r);
		return;
	}
	if (ev->call == ST_CALL_socket) {
		if (ev->err)
			return;	/* no socket was made */
		s = sock_new(b, r, fd >= 0 ? fd : (int)ev->ret);
		if (s)
			s->made = r;
	} else if (ev->call == ST_CALL_socketpair) {
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
		sock_note(b, a, r);
		sock_note(b, c, r);
		r->sock = a;
		return;
	} else if (st_call_is(ev->call, ST_K_ACCEPT)) {
		struct st_msock *l = sock_at(b, r, ev->listen_fd);
		if (l) {
			/* the listener's own record keeps its addresses */
			r->lsock = l;
			void *q = st_model_grow(l->evs, &l->capevs, l->nevs, sizeof(*l->evs));
			if (q) {
				l->evs = q;
				l->evs[l->nevs++] = r;
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
		if (l) {
			l->accepted++;
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
			s = map_get(&b->fds, fdkey(ev->pid, fd));
			if (!s)
				s = sock_at(b, r, fd);
			if (s) {
				r->sock = s;
				sock_note(b, s, r);
				fd_drop(b, r, ev->pid, fd, ev->last_ref_known, ev->last_ref);
			}
			return;
		}
		s = sock_at(b, r, fd);
		if (s && !ev->err) {
			int newfd = ev->newfd >= 0 ? ev->newfd : (int)ev->ret;
			if (newfd != fd)
				fd_alias(b, r, s, newfd);
		}
	} else if (ev->call == ST_CALL_close) {
		s = sock_at(b, r, fd);
		if (s) {
			r->sock = s;
			sock_note(b, s, r);
			if (!ev->err || !strcmp(ev->err, "EINTR"))
				fd_drop(b, r, ev->pid, fd, ev->last_ref_known, ev->last_ref);
		}
		return;
	} else if (st_call_is(ev->call, ST_K_RANGE)) {
		if (fd >= 0) {
			/* the shim's record of one socket the range closed */
			s = sock_at(b, r, fd);
			if (s) {
				r->sock = s;
				sock_note(b, s, r);
				fd_drop(b, r, ev->pid, fd, ev->last_ref_known, ev->last_ref);
			}
		} else if (!ev->err && ev->range_first >= 0 &&
			   !(ev->flags && strstr(ev->flags, "CLOEXEC"))) {
			fd_drop_range(b, r, ev->range_first, ev->range_last);
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
	if (ev->connect_done) {
		if (!strcmp(ev->connect_done, "ESTABLISHED"))
			s->connected = r;
		else if (!s->connect_failed) {
			s->connect_failed = true;
			s->connect_err = ev->so_error && strcmp(ev->so_error, "0") ? ev->so_error :
					 ev->connect_done;
		}
	}
	if (ev->inode && !s->inode) {
		s->inode = ev->inode;
		if (!map_put(&b->inodes, ev->inode, s, &old))
			b->oom = true;
	}
}

int st_model_build(struct st_model *m, struct st_rec *const *recs, size_t n)
{
	struct builder b = { .m = m };

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n && !b.oom; i++) {
		if (!i)
			m->t_first = recs[i]->ev.ts_us;
		m->t_last = recs[i]->ev.ts_us;
		step(&b, recs[i]);
	}
	/* sockets held only by processes that left no events of their own */
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];
		if (s->end == ST_END_OPEN && s->close)
			s->end = ST_END_ELSEWHERE;
		if (!s->final_state) {
			for (size_t k = s->nevs; k-- > 0;)
				if (s->evs[k]->sock == s && s->evs[k]->ev.state) {
					s->final_state = s->evs[k]->ev.state;
					break;
				}
		}
	}
	if (!b.oom && st_model_join(m) < 0)
		b.oom = true;
	map_free(&b.fds);
	map_free(&b.inodes);
	return b.oom ? -1 : 0;
}

void st_model_free(struct st_model *m)
{
	for (size_t i = 0; i < m->nsocks; i++) {
		free(m->socks[i]->evs);
		free(m->socks[i]);
	}
	for (size_t i = 0; i < m->nconns; i++)
		free(m->conns[i]);
	for (size_t i = 0; i < m->nprocs; i++)
		free(m->procs[i]);
	free(m->socks);
	free(m->conns);
	free(m->procs);
	memset(m, 0, sizeof(*m));
}
