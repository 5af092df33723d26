/* SPDX-License-Identifier: MIT */
/* kernelview.c - the kernel's view of this process's sockets (see
 * kernelview.h), from sock_diag.
 *
 * Owns: the holders of an address a bind() could not get, and whether
 * SO_REUSEADDR / SO_REUSEPORT would have changed that, decided by the
 * kernel's own rules (inet_csk_bind_conflict, udp_lib_lport_inuse) applied
 * to what the kernel shows of the holders: never by experiment, which would
 * make the shim a member of another process's port for an instant.  What
 * cannot be seen (another process's options) makes a verdict unknown, with
 * the reason.  The cost of a query does not grow with other processes'
 * sockets where the kernel allows it: listeners, UDP sockets and exact
 * tuples are asked for directly; the walk of every connection of the host
 * is made only when nothing cheaper explains a failure, at most once per
 * port every 10 seconds, and said when skipped.
 * Runs inside the traced program: no malloc, no stdio, no locks; lists
 * live in mmap()ed scratch memory until their event is written.
 */
#define _GNU_SOURCE
#include "kernelview.h"
#include "bindrules.h"
#include "clock.h"
#include "emit.h"
#include "names.h"
#include "real.h"
#include "recent.h"
#include "settings.h"
#include "sockdiag.h"
#include "sockinfo.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/tcp.h>

#define MAX_HOLDERS 32
#define COMM_LEN 32
#define WALK_EVERY_NS (10 * 1000000000LL)
/* states of a bound socket that is not listening (the kernel's
 * TCP_BOUND_INACTIVE, asked for explicitly since Linux 6.5) */
#define ST_TCP_BOUND_INACTIVE 13

/* One region is kept mapped for the scratch of every query: unmapping
 * costs a TLB shootdown on every CPU the process ran on (measured: 40 % of
 * a failed bind's 430 us on a two-vCPU VM).  A query that finds it taken
 * (another thread's, or a signal handler's in the middle of one) maps its
 * own and unmaps it after.  After fork the child's copy is its own. */
#define KEPT_LEN (128 * 1024)
static void *_Atomic kept;
static _Atomic bool kept_busy;

static void *scratch(struct st_scratch *sc, size_t len)
{
	void *p;

	if (len <= KEPT_LEN && !atomic_exchange(&kept_busy, true)) {
		p = atomic_load(&kept);
		if (!p) {
			p = mmap(NULL, KEPT_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				atomic_store(&kept_busy, false);
				return NULL;
			}
			atomic_store(&kept, p);
		} else {
			memset(p, 0, len);	/* as fresh as a new mapping */
		}
		sc->p = p;
		sc->len = 0;	/* not to be unmapped */
		return p;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	sc->p = p;
	sc->len = len;
	return p;
}

void st_scratch_free(struct st_scratch *sc)
{
	if (sc->p && !sc->len)
		atomic_store(&kept_busy, false);
	else if (sc->p)
		munmap(sc->p, sc->len);
	sc->p = NULL;
}

/* ---- close ---- */

void st_kv_closed(const struct st_sock *s, struct st_event *ev)
{
	struct inet_diag_msg m;

	if (!s->is_tcp || !s->remote[0] || !s->local[0] || st_cfg.probe == ST_PROBE_OFF)
		return;
	if (st_cfg.probe == ST_PROBE_CLOSE) {
		int saved = errno;
		/* the kernel's lookup falls back to a listener on the port when
		 * the connection itself is gone */
		int r;
		memset(&m, 0, sizeof(m));
		r = st_diag_lookup(IPPROTO_TCP, s->local, s->remote, &m);
		if (r == 0 && m.id.idiag_dport && m.idiag_state != ST_TCP_LISTEN)
			ev->state_after = st_tcp_state_name(m.idiag_state);
		else if (r == 0 || errno == ENOENT)
			ev->state_after = "CLOSE";	/* gone from the table */
		errno = saved;
	}
	st_recent_add(s->local, s->remote, s->reuseaddr, s->reuseport);
}

/* ---- a shared socket's last close here ---- */

struct by_inode {
	uint32_t inode;
	int state;
};

static bool inode_cb(const struct st_diag_rec *r, void *arg)
{
	struct by_inode *b = arg;
	if (r->m->idiag_inode != b->inode)
		return true;
	b->state = r->m->idiag_state;
	return false;
}

static int port_of(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!st_parse_endpoint(addr, &ss, &len))
		return -1;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int st_kv_alive_state(const struct st_sock *s, int state_before)
{
	struct inet_diag_msg m;
	int saved = errno;
	int state = 0;

	if (st_cfg.probe == ST_PROBE_OFF || !s->inode)
		return -1;
	if (s->remote[0] && s->local[0]) {
		/* a connection: the exact tuple, checked by inode */
		memset(&m, 0, sizeof(m));
		if (st_diag_lookup(IPPROTO_TCP, s->local, s->remote, &m) == 0 &&
		    m.idiag_inode == (uint32_t)s->inode)
			state = m.idiag_state;
	} else if (state_before == ST_TCP_LISTEN && s->local[0]) {
		/* a listener: the listeners on its port (no walk) */
		struct by_inode b = { (uint32_t)s->inode, 0 };
		if (st_diag_dump(s->family, IPPROTO_TCP, ST_TCPF(ST_TCP_LISTEN), port_of(s->local), inode_cb, &b) < 0)
			state = -1;
		else
			state = b.state;
	}
	/* else: never connected nor listening, its close changes nothing */
	errno = saved;
	return state;
}

/* ---- bind ---- */

/* the conflict rules: codec/bindrules.h */

struct collect {
	struct st_bind_new *n;
	struct st_ksock *out;
	struct st_bind_holder *facts;
	int nout, max, total;
	bool conflict_found;	/* a holder in the way of the bind as it was made */
};

static bool already(const struct collect *c, uint64_t inode, const struct st_ksock *k)
{
	for (int i = 0; i < c->nout; i++) {
		if (inode && c->out[i].inode == inode)
			return true;
		if (!inode && !strcmp(c->out[i].local, k->local) && !strcmp(c->out[i].remote, k->remote))
			return true;
	}
	return false;
}

/* The options of a holder, when the shim knows them: a socket of this
 * process (by inode), or a connection it closed (TIME_WAIT, by tuple). */
static void own_options(struct st_bind_holder *h, const struct st_ksock *k)
{
	const struct st_sock *s = k->inode ? st_fd_find_inode(k->inode) : NULL;

	h->ra = h->rp = -1;
	if (s) {
		h->ra = s->reuseaddr;
		h->rp = s->reuseport;
	} else if (k->remote[0]) {
		const struct st_closed *c = st_recent_find(k->local, k->remote);
		if (c) {
			h->ra = c->reuseaddr;
			h->rp = c->reuseport;
		}
	}
}

static bool collect_cb(const struct st_diag_rec *r, void *arg)
{
	struct collect *c = arg;
	const struct inet_diag_msg *m = r->m;
	struct st_bind_holder h;
	struct st_ksock k;
	int ov;

	memset(&h, 0, sizeof(h));
	st_bind_ep_set(&h.ep, m->idiag_family, m->id.idiag_src);
	h.state = m->idiag_state;
	h.connected = m->id.idiag_dport != 0;
	h.v6only = m->idiag_family == AF_INET6 ? r->v6only : -1;
	h.dev = (int)m->id.idiag_if;
	h.uid = m->idiag_state == ST_TCP_TIME_WAIT ? -1 : (int64_t)m->idiag_uid;
	ov = st_bind_overlaps(c->n, &h);
	if (!ov)
		return true;
	st_diag_ksock(r, &k);
	if (already(c, k.inode, &k))
		return true;
	c->total++;
	own_options(&h, &k);
	if (ov == 1 && st_bind_no_conflict(c->n, &h) == 0)
		c->conflict_found = true;
	if (c->nout < c->max) {
		c->facts[c->nout] = h;
		c->out[c->nout++] = k;
	}
	return true;
}

/* Per port, when the walk of every connection was last made. */
#define WALKS 16
static _Atomic uint64_t walked[WALKS];	/* port << 48 | time in ms */

static bool may_walk(int port)
{
	int64_t now_ms = st_now_ns() / 1000000;
	unsigned slot = (unsigned)port % WALKS;
	uint64_t v = atomic_load(&walked[slot]);

	if ((int)(v >> 48) == port && now_ms - (int64_t)(v & 0xffffffffffffULL) < WALK_EVERY_NS / 1000000)
		return false;
	atomic_store(&walked[slot], (uint64_t)port << 48 | ((uint64_t)now_ms & 0xffffffffffffULL));
	return true;
}

static int dump_both(int protocol, uint32_t states, int port, struct collect *c)
{
	int r4 = st_diag_dump(AF_INET, protocol, states, port, collect_cb, c);
	int r6 = st_diag_dump(AF_INET6, protocol, states, port, collect_cb, c);
	return r4 < 0 || r6 < 0 ? -1 : 0;
}

/* The verdict of one option: would the bind have succeeded with it set? */
static int verdict(const struct collect *c, bool ra, bool rp, bool complete)
{
	return st_bind_verdict(c->n, c->facts, c->nout, ra, rp, complete && c->total <= c->nout);
}

static void new_socket(int fd, const struct st_sock *s, const struct sockaddr *addr, struct st_bind_new *n)
{
	struct stat st;
	int v = 0;
	socklen_t l = sizeof(v);

	memset(n, 0, sizeof(*n));
	if (addr->sa_family == AF_INET)
		st_bind_ep_set(&n->ep, AF_INET, &((const struct sockaddr_in *)addr)->sin_addr);
	else
		st_bind_ep_set(&n->ep, AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr);
	n->tcp = s->is_tcp;
	n->ra = s->reuseaddr;
	n->rp = s->reuseport;
	/* the kernel compares the socket's owner (fixed when it was made), not
	 * the process's current euid */
	n->uid = fstat(fd, &st) == 0 ? (int64_t)st.st_uid : -1;
	if (n->ep.family == AF_INET6) {
		if (!n->ep.wild && !n->ep.mapped)
			n->v6only = 1;
		else if (REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l) == 0)
			n->v6only = v != 0;
	}
	v = 0;
	l = sizeof(v);
#ifdef SO_BINDTOIFINDEX
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, &l) == 0)
		n->dev = v;
#endif
}

/* The owners of the holders: this process's own sockets, then a walk of
 * /proc for the rest (at most once per port every 10 seconds). */
static void owners(struct collect *c, char *comms, bool walk)
{
	for (int i = 0; i < c->nout; i++) {
		struct st_ksock *k = &c->out[i];
		if (k->inode && st_fd_find_inode(k->inode)) {
			st_owner_is(st_pid, k, comms + i * COMM_LEN, COMM_LEN);
		} else if (walk && k->inode) {
			st_find_owner(k->inode, k, comms + i * COMM_LEN, COMM_LEN);
		}
	}
}

void st_kv_bind(int fd, const struct st_sock *s, const struct sockaddr *addr, socklen_t len, int ret,
		int err, struct st_event *ev, struct st_scratch *sc)
{
	struct st_bind_new n;
	int protocol, port, saved = errno;

	if (!s->is_inet || !addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) ||
	    len < (addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		return;
	protocol = s->is_tcp ? IPPROTO_TCP : s->type == SOCK_DGRAM ? IPPROTO_UDP : 0;
	if (!protocol)
		return;
	port = ntohs(addr->sa_family == AF_INET ? ((const struct sockaddr_in *)addr)->sin_port :
						  ((const struct sockaddr_in6 *)addr)->sin6_port);
	if (!port)
		return;

	if (ret < 0 && err == EADDRINUSE) {
		struct st_ksock *holders = scratch(sc, MAX_HOLDERS * (sizeof(struct st_ksock) + sizeof(struct st_bind_holder) +
								      COMM_LEN));
		struct collect c;
		bool complete = true, failed = false;
		/* the walks (of every connection, of every process's
		 * descriptors for the owners): once per port every 10 s */
		bool walk = may_walk(port);

		new_socket(fd, s, addr, &n);
		ev->has_verdict = true;
		ev->verdict_reuseaddr = ev->verdict_reuseport = -1;
		if (!holders) {
			ev->holders_incomplete = "the holders were not searched: out of memory";
			ev->verdict_why = ev->holders_incomplete;
			errno = saved;
			return;
		}
		c = (struct collect){ &n, holders, (struct st_bind_holder *)(holders + MAX_HOLDERS), 0, MAX_HOLDERS, 0,
				      false };
		st_diag_hold();
		if (protocol == IPPROTO_UDP) {
			/* UDP sockets of a port are in one bucket: no walk */
			failed = dump_both(IPPROTO_UDP, ~0u, port, &c) < 0;
		} else {
			/* listeners first: a short list, whatever the host holds */
			failed = dump_both(IPPROTO_TCP, ST_TCPF(ST_TCP_LISTEN), port, &c) < 0;
			if (!failed && !c.conflict_found) {
				/* nothing cheaper explains it: connections, TIME_WAIT
				 * and bound sockets, a walk of every connection */
				if (walk) {
					failed = dump_both(IPPROTO_TCP,
							   ~(ST_TCPF(ST_TCP_LISTEN)) | ST_TCPF(ST_TCP_BOUND_INACTIVE),
							   port, &c) < 0;
				} else {
					complete = false;
					ev->holders_incomplete = "connections and bound sockets on the port were "
								 "not searched: searched less than 10s ago";
				}
			} else if (!failed) {
				complete = false;
				ev->holders_incomplete = "connections and bound sockets on the port were not "
							 "searched: a listener holds it";
			}
		}
		owners(&c, (char *)(c.facts + MAX_HOLDERS), walk);
		st_diag_unhold();
		if (failed && !c.nout) {
			ev->holders = NULL;
			ev->holders_incomplete = errno == EMFILE || errno == ENFILE ?
							 "the kernel could not be asked: no descriptor free" :
							 "the kernel could not be asked";
			ev->verdict_why = ev->holders_incomplete;
			errno = saved;
			return;
		}
		if (failed) {
			complete = false;
			ev->holders_incomplete = "some of the kernel's table could not be read";
		}
		if (c.total > c.nout)
			complete = false;
		ev->holders = holders;
		ev->nholders = c.nout;
		ev->verdict_reuseaddr = verdict(&c, true, n.rp, complete);
		ev->verdict_reuseport = verdict(&c, n.ra, true, complete);
		if (ev->verdict_reuseaddr < 0 || ev->verdict_reuseport < 0)
			ev->verdict_why = !complete ? "not every holder is known" :
					  "a holder's SO_REUSEADDR or SO_REUSEPORT is not visible to this process";
	} else if (ret == 0 && s->is_tcp && s->reuseaddr && st_cfg.probe == ST_PROBE_CLOSE) {
		/* the TIME_WAIT sockets this bind reused: a walk of every
		 * connection, made only when the user asks the kernel at every
		 * close (SOCKTRACE_PROBE=close) */
		struct collect c;
		struct st_ksock k[1];
		struct st_bind_holder f[1];

		new_socket(fd, s, addr, &n);
		c = (struct collect){ &n, k, f, 0, 0, 0, false };
		if (dump_both(IPPROTO_TCP, ST_TCPF(ST_TCP_TIME_WAIT), port, &c) == 0)
			ev->reused_time_wait = c.total;
	}
	errno = saved;
}

/* ---- exit ---- */

struct linger_collect {
	struct st_ksock *out;
	int n, max;
	int64_t total, time_wait;
};

static void linger_add(struct linger_collect *c, const struct st_ksock *k, int state)
{
	c->total++;
	if (state == ST_TCP_TIME_WAIT)
		c->time_wait++;
	if (c->n < c->max)
		c->out[c->n++] = *k;
}

static bool lingering_state(int state)
{
	return state == ST_TCP_TIME_WAIT || state == ST_TCP_FIN_WAIT1 || state == ST_TCP_FIN_WAIT2 ||
	       state == ST_TCP_LAST_ACK || state == ST_TCP_CLOSING;
}

static bool linger_cb(const struct st_diag_rec *r, void *arg)
{
	struct linger_collect *c = arg;
	struct st_ksock k;

	st_diag_ksock(r, &k);
	if (st_recent_has(k.local, k.remote))
		linger_add(c, &k, r->m->idiag_state);
	return true;
}

/* one closed connection, looked up by its exact tuple */
static void lookup_one(const struct st_closed *cl, void *arg)
{
	struct linger_collect *c = arg;
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	if (st_diag_lookup(IPPROTO_TCP, cl->local, cl->remote, &m) == 0 && m.id.idiag_dport &&
	    lingering_state(m.idiag_state)) {
		struct st_diag_rec r = { &m, -1 };
		struct st_ksock k;
		st_diag_ksock(&r, &k);
		/* a tuple closed twice (a port used again, the new connection
		 * taking over the old one's TIME_WAIT) is one kernel socket:
		 * listed and counted once (the recent closes are at most as
		 * many as the list holds, so every one listed is here) */
		for (int i = 0; i < c->n; i++)
			if (!strcmp(c->out[i].local, k.local) && !strcmp(c->out[i].remote, k.remote))
				return;
		linger_add(c, &k, m.idiag_state);
	}
}

void st_kv_exit(struct st_event *ev, struct st_scratch *sc)
{
	const uint32_t states = ST_TCPF(ST_TCP_TIME_WAIT) | ST_TCPF(ST_TCP_FIN_WAIT1) |
				ST_TCPF(ST_TCP_FIN_WAIT2) | ST_TCPF(ST_TCP_LAST_ACK) | ST_TCPF(ST_TCP_CLOSING);
	struct linger_collect c = { NULL, 0, ST_LINGERING_MAX, 0, 0 };
	uint64_t closed = st_recent_count();

	if (st_cfg.probe == ST_PROBE_OFF)
		return;
	if (!closed) {
		/* no connection closed here: nothing of ours can linger, and the
		 * kernel is not asked */
		static const struct st_ksock none[1];
		ev->lingering = none;
		ev->nlingering = 0;
		ev->time_wait = 0;
		return;
	}
	c.out = scratch(sc, ST_LINGERING_MAX * sizeof(struct st_ksock));
	if (!c.out)
		return;
	st_diag_hold();
	if (closed <= ST_RECENT_LAST) {
		/* each of them by its tuple: the cost does not grow with the
		 * rest of the host's connections */
		st_recent_each(lookup_one, &c);
	} else {
		/* more than the last ones remembered whole: one read of the
		 * kernel's table of closing connections, matched by tuple */
		if (st_diag_dump(AF_INET, IPPROTO_TCP, states, -1, linger_cb, &c) < 0 ||
		    st_diag_dump(AF_INET6, IPPROTO_TCP, states, -1, linger_cb, &c) < 0) {
			st_diag_unhold();
			return;	/* unknown: no lingering key rather than a false empty list */
		}
	}
	st_diag_unhold();
	ev->lingering = c.out;
	ev->nlingering = c.n;
	ev->lingering_total = c.total;
	ev->time_wait = c.time_wait;
}
