/* kernelview.c - the kernel's view of this process's sockets (see
 * kernelview.h), from sock_diag and, for the bind verdict, from
 * experiment: a throw-away socket with the option set, bound to the same
 * address and closed at once, so the answer is the kernel's own.
 * Runs inside the traced program: no malloc, no stdio, no locks; lists
 * live in mmap()ed scratch memory until their event is written.
 */
#define _GNU_SOURCE
#include "kernelview.h"
#include "names.h"
#include "real.h"
#include "recent.h"
#include "settings.h"
#include "sockdiag.h"
#include "sockinfo.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/tcp.h>

#define MAX_HOLDERS 32
#define MAX_LINGERING 256
#define COMM_LEN 32

static void *scratch(struct st_scratch *sc, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	sc->p = p;
	sc->len = len;
	return p;
}

void st_scratch_free(struct st_scratch *sc)
{
	if (sc->p)
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
	st_recent_add(s->local, s->remote);
}

struct by_inode {
	uint32_t inode;
	int state;
};

static bool inode_cb(const struct inet_diag_msg *m, void *arg)
{
	struct by_inode *b = arg;
	if (m->idiag_inode != b->inode)
		return true;
	b->state = m->idiag_state;
	return false;
}

int st_kv_alive_state(const struct st_sock *s)
{
	struct inet_diag_msg m;
	int saved = errno;
	int state = 0;

	if (st_cfg.probe == ST_PROBE_OFF || !s->inode)
		return -1;
	if (s->remote[0] && s->local[0]) {
		memset(&m, 0, sizeof(m));
		if (st_diag_lookup(IPPROTO_TCP, s->local, s->remote, &m) == 0 &&
		    m.idiag_inode == (uint32_t)s->inode)
			state = m.idiag_state;
	} else {
		/* a listener or an unconnected socket: look for its inode */
		struct by_inode b = { (uint32_t)s->inode, 0 };
		st_diag_dump(s->family, IPPROTO_TCP, ~0u, inode_cb, &b);
		state = b.state;
	}
	errno = saved;
	return state;
}

/* ---- bind ---- */

struct addr_key {
	int family;
	unsigned char addr[16];	/* v4 in the first 4 bytes */
	uint16_t port;		/* network order */
	bool wild;
};

static void key_of(const struct sockaddr *sa, struct addr_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(k->addr, &in->sin_addr, 4);
		k->port = in->sin_port;
		k->wild = in->sin_addr.s_addr == htonl(INADDR_ANY);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(k->addr, &in6->sin6_addr, 16);
		k->port = in6->sin6_port;
		k->wild = !memcmp(&in6->sin6_addr, &in6addr_any, 16);
	}
}

static const unsigned char v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Would a socket at b stand in the way of a bind to a (same port)? */
static bool overlaps(const struct addr_key *a, int bfamily, const uint32_t *baddr)
{
	unsigned char b[16];
	bool bwild;

	memcpy(b, baddr, 16);
	if (bfamily == AF_INET) {
		static const unsigned char zero4[4];
		bwild = !memcmp(b, zero4, 4);
	} else {
		static const unsigned char zero16[16];
		bwild = !memcmp(b, zero16, 16);
	}
	if (a->family == bfamily)
		return a->wild || bwild || !memcmp(a->addr, b, a->family == AF_INET ? 4 : 16);
	if (a->family == AF_INET) {
		/* an IPv6 socket on :: or on ::ffff:a.b.c.d covers IPv4 */
		return bwild || (!memcmp(b, v4mapped_prefix, 12) && (a->wild || !memcmp(b + 12, a->addr, 4)));
	}
	/* binding IPv6: on :: it covers every IPv4 socket; on ::ffff:x some */
	if (a->wild)
		return true;
	return !memcmp(a->addr, v4mapped_prefix, 12) && (bwild || !memcmp(a->addr + 12, b, 4));
}

struct collect {
	const struct addr_key *key;
	struct st_ksock *out;
	int n, max, total;
	bool tw_only;
};

static bool collect_cb(const struct inet_diag_msg *m, void *arg)
{
	struct collect *c = arg;

	if (m->id.idiag_sport != c->key->port || !overlaps(c->key, m->idiag_family, m->id.idiag_src))
		return true;
	c->total++;
	if (c->out && c->n < c->max)
		st_diag_ksock(m, &c->out[c->n++]);
	return true;
}

static void collect(int protocol, uint32_t states, struct collect *c)
{
	st_diag_dump(AF_INET, protocol, states, collect_cb, c);
	st_diag_dump(AF_INET6, protocol, states, collect_cb, c);
}

/* 1: a socket like the program's, with these options, gets the address;
 * 0: EADDRINUSE; -1: could not tell */
static int try_bind(int fd, const struct st_sock *s, const struct sockaddr *addr, socklen_t len,
		    bool reuseaddr, bool reuseport)
{
	int t, r, e, one = 1;

	t = REAL(socket)(s->family, s->type | SOCK_CLOEXEC, s->protocol);
	if (t < 0)
		return -1;
	if (reuseaddr)
		REAL(setsockopt)(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		REAL(setsockopt)(t, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (s->family == AF_INET6) {
		int v6only = 0;
		socklen_t l = sizeof(v6only);
		if (REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) == 0)
			REAL(setsockopt)(t, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	r = REAL(bind)(t, addr, len);
	e = errno;
	REAL(close)(t);
	return r == 0 ? 1 : e == EADDRINUSE ? 0 : -1;
}

void st_kv_bind(int fd, const struct st_sock *s, const struct sockaddr *addr, socklen_t len, int ret,
		int err, struct st_event *ev, struct st_scratch *sc)
{
	struct addr_key key;
	int protocol;
	int saved = errno;

	if (!s->is_inet || !addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) ||
	    len < (addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)))
		return;
	protocol = s->is_tcp ? IPPROTO_TCP : s->type == SOCK_DGRAM ? IPPROTO_UDP : 0;
	if (!protocol)
		return;
	key_of(addr, &key);
	if (!key.port)
		return;

	if (ret < 0 && err == EADDRINUSE) {
		struct st_ksock *holders = scratch(sc, MAX_HOLDERS * (sizeof(struct st_ksock) + COMM_LEN));

		if (holders) {
			char *comms = (char *)(holders + MAX_HOLDERS);
			struct collect c = { &key, holders, 0, MAX_HOLDERS, 0, false };
			collect(protocol, ~0u, &c);
			for (int i = 0; i < c.n; i++)
				st_find_owner(holders[i].inode, &holders[i], comms + i * COMM_LEN, COMM_LEN);
			ev->holders = holders;
			ev->nholders = c.n;
		}
		ev->has_verdict = true;
		ev->verdict_reuseaddr = try_bind(fd, s, addr, len, true, s->reuseport);
		ev->verdict_reuseport = try_bind(fd, s, addr, len, s->reuseaddr, true);
	} else if (ret == 0 && s->is_tcp && s->reuseaddr && st_cfg.probe != ST_PROBE_OFF) {
		struct collect c = { &key, NULL, 0, 0, 0, true };
		collect(IPPROTO_TCP, ST_TCPF(ST_TCP_TIME_WAIT), &c);
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

static bool linger_cb(const struct inet_diag_msg *m, void *arg)
{
	struct linger_collect *c = arg;
	struct st_ksock k;

	st_diag_ksock(m, &k);
	if (!st_recent_has(k.local, k.remote))
		return true;
	c->total++;
	if (m->idiag_state == ST_TCP_TIME_WAIT)
		c->time_wait++;
	if (c->n < c->max)
		c->out[c->n++] = k;
	return true;
}

void st_kv_exit(struct st_event *ev, struct st_scratch *sc)
{
	const uint32_t states = ST_TCPF(ST_TCP_TIME_WAIT) | ST_TCPF(ST_TCP_FIN_WAIT1) |
				ST_TCPF(ST_TCP_FIN_WAIT2) | ST_TCPF(ST_TCP_LAST_ACK) | ST_TCPF(ST_TCP_CLOSING);
	struct linger_collect c = { NULL, 0, MAX_LINGERING, 0, 0 };

	if (st_cfg.probe == ST_PROBE_OFF)
		return;
	if (!st_recent_any()) {
		/* no connection closed here: nothing of ours can linger, and the
		 * table (all the machine's TIME_WAIT sockets) is not read */
		static const struct st_ksock none[1];
		ev->lingering = none;
		ev->nlingering = 0;
		ev->time_wait = 0;
		return;
	}
	c.out = scratch(sc, MAX_LINGERING * sizeof(struct st_ksock));
	if (!c.out)
		return;
	st_diag_dump(AF_INET, IPPROTO_TCP, states, linger_cb, &c);
	st_diag_dump(AF_INET6, IPPROTO_TCP, states, linger_cb, &c);
	ev->lingering = c.out;
	ev->nlingering = c.n;
	ev->lingering_total = c.total;
	ev->time_wait = c.time_wait;
}
