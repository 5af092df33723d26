/* SPDX-License-Identifier: MIT */
/* model_conns.c - the second pass of the model (see model.h): joining
 * the two ends of each TCP connection, and of each AF_UNIX stream one.
 *
 * Owns: pairing a connecting socket with the accepted one of the same tuple
 * (client local == server remote) and the time of the accept, a unix
 * client with the accepted socket whose peer_inode is its inode (and a
 * socketpair's two ends), the
 * connection's endpoints, times and outcome, who closed first, resets,
 * the kernel's lingering sockets at exit that belong to it, and the traced
 * listener a connection waited on when it was never accepted.  Reads the
 * sockets the first pass (model.c) made; never follows descriptors, never
 * prints.
 */
#include "model.h"
#include "model_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct joiner {
	struct st_model *m;
	size_t conns_cap;
	bool oom;
};

static struct st_conn *conn_new(struct joiner *b, struct st_msock *client, struct st_msock *server)
{
	struct st_model *m = b->m;
	struct st_conn *c = calloc(1, sizeof(*c));
	void *q = st_model_grow(m->conns, &b->conns_cap, m->nconns, sizeof(*m->conns));

	if (q)	/* the old array may be gone: keep the new one at once */
		m->conns = q;
	if (!c || !q) {
		free(c);
		b->oom = true;
		return NULL;
	}
	m->conns[m->nconns++] = c;
	c->caddr = c->saddr = "";
	c->client = client;
	c->server = server;
	if (client)
		client->conn = c;
	if (server)
		server->conn = c;
	return c;
}

/* A TCP tuple as the join sorts and finds it: a hash of its two
 * addresses normalized (st_addr_normalize), and the addresses themselves
 * (in the events, which outlive the join) to tell two tuples of one hash
 * apart.  A million ends take 24 bytes each, not two addresses' room. */
struct tkey {
	uint64_t h;
	const char *a, *b;
};

struct cand {
	struct tkey key;	/* (local, remote) */
	struct st_msock *s;
};

static int tuple_cmp(const struct tkey *x, const struct tkey *y);

static int by_key(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = tuple_cmp(&x->key, &y->key);

	if (c)
		return c;
	return x->s->t_first < y->s->t_first ? -1 : x->s->t_first > y->s->t_first;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static void tuple_key(struct tkey *k, const char *a, const char *b)
{
	char na[ST_ADDR_MAX], nb[ST_ADDR_MAX];

	st_addr_normalize(a, na);
	st_addr_normalize(b, nb);
	k->h = fnv1a(fnv1a(UINT64_C(14695981039346656037), na) * UINT64_C(1099511628211), nb);
	k->a = a;
	k->b = b;
}

/* a total order of tuples: by hash, then by the normalized addresses */
static int tuple_cmp(const struct tkey *x, const struct tkey *y)
{
	char xa[ST_ADDR_MAX], ya[ST_ADDR_MAX];
	int c;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	st_addr_normalize(x->a, xa);
	st_addr_normalize(y->a, ya);
	if ((c = strcmp(xa, ya)))
		return c;
	st_addr_normalize(x->b, xa);
	st_addr_normalize(y->b, ya);
	return strcmp(xa, ya);
}

/* one socket connected to its own address (a TCP simultaneous open with
 * itself): no listener, no second end */
static bool self_connected(const struct st_msock *s)
{
	char nl[ST_ADDR_MAX], nr[ST_ADDR_MAX];

	if (s->self_connect)
		return true;
	if (!s->local[0] || !s->remote[0])
		return false;
	st_addr_normalize(s->local, nl);
	st_addr_normalize(s->remote, nr);
	return !strcmp(nl, nr);
}

static int conn_by_time(const void *a, const void *b)
{
	const struct st_conn *x = *(const struct st_conn *const *)a;
	const struct st_conn *y = *(const struct st_conn *const *)b;

	if (x->t_start != y->t_start)
		return x->t_start < y->t_start ? -1 : 1;
	return x->id - y->id;
}

/* one end alone, from its state when it started the teardown:
 * 1 it closed first, -1 the peer had closed first, 0 unknown */
static int side_first(const struct st_rec *t)
{
	const char *st = t->ev.state_before;

	if (!st)
		return 0;
	if (!strcmp(st, "CLOSE_WAIT") || !strcmp(st, "LAST_ACK") || !strcmp(st, "CLOSED") ||
	    !strcmp(st, "CLOSE"))
		return -1;
	if (!strcmp(st, "ESTABLISHED") || !strcmp(st, "SYN_RECV") || !strcmp(st, "SYN_SENT"))
		return 1;
	return 0;
}

static bool did_reset(const struct st_msock *s)
{
	return s && s->close && s->close->ev.reset_known && s->close->ev.reset;
}

/* Did the teardown event t of an end send a FIN (not a reset)? */
static bool sent_fin(const struct st_msock *e, const struct st_rec *t)
{
	const char *st = t->ev.state_before;

	if (t->ev.call == ST_CALL_shutdown)
		return !t->ev.err && t->ev.how && (!strcmp(t->ev.how, "SHUT_WR") || !strcmp(t->ev.how, "SHUT_RDWR"));
	if (t == e->close && did_reset(e))
		return false;
	return st && (!strcmp(st, "ESTABLISHED") || !strcmp(st, "CLOSE_WAIT"));
}

/* A reset that came after a FIN: the earliest FIN, of either end, sent
 * before the RST (a half close, or the other end's close first). */
static void fin_before(struct st_conn *c)
{
	const struct st_rec *rr = c->reset_by ? c->reset_by->close : NULL;
	struct st_msock *ends[2] = { c->client, c->server };

	for (int i = 0; rr && i < 2; i++) {
		const struct st_rec *t = ends[i] ? st_msock_teardown(ends[i]) : NULL;
		if (!t || t == rr || t->ev.ts_us > rr->ev.ts_us || !sent_fin(ends[i], t))
			continue;
		if (!c->fin_before_reset || t->ev.ts_us < c->fin_before_reset->ev.ts_us) {
			c->fin_before_reset = t;
			c->fin_by = ends[i];
		}
	}
}

static void conn_teardown(struct st_conn *c)
{
	const struct st_rec *tc = c->client ? st_msock_teardown(c->client) : NULL;
	const struct st_rec *ts = c->server ? st_msock_teardown(c->server) : NULL;
	int kc = tc ? side_first(tc) : 0, ks = ts ? side_first(ts) : 0;

	if (did_reset(c->client) || did_reset(c->server)) {
		c->reset = true;
		c->reset_by = did_reset(c->client) ? c->client : c->server;
		if (did_reset(c->client) && did_reset(c->server) &&
		    c->server->close->ev.ts_us < c->client->close->ev.ts_us)
			c->reset_by = c->server;
	}
	if (c->reset)
		fin_before(c);
	if (!tc && !ts) {
		c->closer = ST_CLOSER_NONE;
		return;
	}
	if (c->self) {
		c->closer = ST_CLOSER_UNKNOWN;	/* one socket: no first and second */
		return;
	}
	if (!c->established) {
		c->closer = ST_CLOSER_UNKNOWN;
		return;
	}
	if (tc && ts) {
		if (kc > 0 && ks > 0)
			/* both sent FIN before seeing the other's */
			c->closer = ST_CLOSER_BOTH;
		else if (kc > 0 || ks < 0)
			c->closer = ST_CLOSER_CLIENT;
		else if (ks > 0 || kc < 0)
			c->closer = ST_CLOSER_SERVER;
		else	/* no states (probe off): the first to close */
			c->closer = tc->ev.ts_us <= ts->ev.ts_us ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;
		return;
	}
	if (tc)
		c->closer = kc > 0 ? ST_CLOSER_CLIENT : kc < 0 ? ST_CLOSER_SERVER : ST_CLOSER_UNKNOWN;
	else
		c->closer = ks > 0 ? ST_CLOSER_SERVER : ks < 0 ? ST_CLOSER_CLIENT : ST_CLOSER_UNKNOWN;
}

/* A TCP end by its tuple, for the kernel's tables at exit. */
struct tend {
	unsigned machine;
	int64_t t;		/* when it ended (its last event while open) */
	struct tkey key;
	struct st_msock *s;
};

static int tend_order(const struct tend *x, unsigned machine, const struct tkey *key)
{
	int c = x->machine != machine ? (x->machine < machine ? -1 : 1) : 0;

	return c ? c : tuple_cmp(&x->key, key);
}

static int by_tend(const void *a, const void *b)
{
	const struct tend *x = a, *y = b;
	int c = tend_order(x, y->machine, &y->key);

	if (c)
		return c;
	return x->t < y->t ? -1 : x->t > y->t;
}

uint64_t st_msock_linger_key(const struct st_msock *s)
{
	const char *remote = st_msock_remote(s);
	struct tkey k;

	/* give_lingering's ends */
	if (!st_msock_is_tcp(s) || !s->local[0] || !remote[0] || (!s->connect && !s->listener))
		return 0;
	tuple_key(&k, s->local, remote);
	return k.h ? k.h : 1;
}

uint64_t st_ksock_linger_key(const struct st_ksock *ks)
{
	struct tkey k;

	if (!ks->local[0] || !ks->remote[0])
		return 0;
	tuple_key(&k, ks->local, ks->remote);
	return k.h ? k.h : 1;
}

int64_t st_msock_linger_us(const struct st_msock *s)
{
	return s->end_rec ? s->end_rec->ev.ts_us : s->t_end;
}

/* Gives each entry of the kernel's table an exit event lists (lingering)
 * to the end it belongs to (st_msock.later): of the TCP ends of that
 * machine with its tuple, the last that ended before the exit.  A tuple
 * is used again (a new connection from the same port, taking over the
 * TIME_WAIT of the last): the exit tells of the latest connection, never
 * of an earlier one, nor of one that ended after it.  Of several exits,
 * the last one's entry.  Returns -1 when out of memory. */
static int give_lingering(struct st_model *m)
{
	struct tend *ends = NULL, key;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];
		const char *remote = st_msock_remote(s);
		void *q;

		s->later = NULL;
		if (!st_msock_is_tcp(s) || !s->local[0] || !remote[0] || (!s->connect && !s->listener))
			continue;
		if (!(q = st_model_grow(ends, &cap, n, sizeof(*ends)))) {
			free(ends);
			return -1;
		}
		ends = q;
		ends[n].machine = s->machine;
		ends[n].t = st_msock_linger_us(s);
		ends[n].s = s;
		tuple_key(&ends[n].key, s->local, remote);
		n++;
	}
	if (n > 1)
		qsort(ends, n, sizeof(*ends), by_tend);
	for (size_t i = 0; n && i < m->nprocs; i++) {
		const struct st_rec *x = m->procs[i]->exit;

		for (int k = 0; x && k < x->ev.nlingering; k++) {
			const struct st_ksock *ks = &x->ev.lingering[k];
			size_t lo = 0, hi = n;
			struct st_msock *s = NULL;

			if (!ks->local[0] || !ks->remote[0])
				continue;
			tuple_key(&key.key, ks->local, ks->remote);
			while (lo < hi) {	/* the first of its machine and tuple */
				size_t mid = (lo + hi) / 2;
				if (tend_order(&ends[mid], x->machine, &key.key) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < n && !tend_order(&ends[lo], x->machine, &key.key) && ends[lo].t <= x->ev.ts_us;
			     lo++)
				s = ends[lo].s;
			if (s && (!s->later_exit || s->later_exit->ev.ts_us <= x->ev.ts_us)) {
				s->later = ks;
				s->later_exit = x;
			}
		}
	}
	free(ends);
	return 0;
}

static void conn_fill(struct st_conn *c)
{
	struct st_msock *cl = c->client, *sv = c->server;

	if (!cl && !sv)	/* conn_new always has one end */
		return;
	if (cl) {
		c->caddr = cl->local;
		c->saddr = st_msock_remote(cl);
	} else if (sv) {
		c->caddr = sv->remote;
		c->saddr = sv->local;
	}
	/* cppcheck-suppress nullPointerRedundantCheck ; sv is set when cl is not (returned above) */
	c->t_start = cl ? (cl->connect ? cl->connect->ev.ts_us : cl->t_first) : sv->t_first;
	/* cppcheck-suppress nullPointerRedundantCheck ; as above */
	c->t_end = cl ? cl->t_end : sv->t_end;
	if (sv && sv->t_end > c->t_end)
		c->t_end = sv->t_end;
	c->established = (cl && cl->connected && !cl->connect_failed) || sv;
	if (cl && cl->connect_failed) {
		c->failure = cl->connect_err;
		c->established = false;
	}
	if (cl)
		c->later_client = cl->later;
	if (sv)
		c->later_server = sv->later;
	/* what the kernel showed at exit beats the state right after close */
	if (cl && c->later_client && c->later_client->state && cl->end == ST_END_CLOSED)
		cl->final_state = c->later_client->state;
	if (sv && c->later_server && c->later_server->state && sv->end == ST_END_CLOSED)
		sv->final_state = c->later_server->state;
	conn_teardown(c);
}

/* An address of the machine itself (127.0.0.0/8, ::1, ::ffff:127.x): a
 * connection on it never leaves its machine. */
static bool loopback(const char *addr)
{
	char n[ST_ADDR_MAX];

	st_addr_normalize(addr, n);
	return !strncmp(n, "127.", 4) || !strncmp(n, "[::1]", 5);
}

/* Another accepted end, of another machine than c's, with the same tuple
 * as s, that c may as well belong to: then the tuple is ambiguous (NAT, a
 * proxy, the same addresses behind two gateways) and neither is joined. */
static bool other_accepted(const struct st_model *m, const struct st_msock *s, const struct st_msock *c)
{
	struct tkey a, b;

	tuple_key(&a, s->local, s->remote);
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *o = m->socks[i];
		if (o == s || !o->made || !o->listener || o->machine == c->machine || !o->local[0] || !o->remote[0])
			continue;
		tuple_key(&b, o->local, o->remote);
		if (!tuple_cmp(&a, &b) && llabs(o->t_first - s->t_first) < 1000000)
			return true;
	}
	return false;
}

/* Does a listener bound to l take connections to addr ("0.0.0.0:80" and
 * "[::]:80" take any address of their port)? */
static bool listens_on(const char *l, const char *addr)
{
	char nl[ST_ADDR_MAX], na[ST_ADDR_MAX];
	int port = st_addr_port(addr);

	st_addr_normalize(l, nl);
	st_addr_normalize(addr, na);
	if (!strcmp(nl, na))
		return true;
	if (port < 0 || st_addr_port(nl) != port)
		return false;
	return !strncmp(nl, "0.0.0.0:", 8) || !strncmp(nl, "[::]:", 5);
}

/* A connection the trace shows only from its client, established: the
 * traced listener of its machine that listened on its server address when
 * it connected (a listener whose accepts the trace shows, so it would have
 * shown this one's): it never accepted it. */
static void find_queue(const struct st_model *m, struct st_conn *c)
{
	const struct st_msock *cl = c->client;
	int64_t t;

	if (!cl || c->server || c->self || !c->established || !cl->connect || !c->saddr[0])
		return;
	t = cl->connect->ev.ts_us;
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *l = m->socks[i];
		const char *la = st_msock_local(l);
		if (!st_msock_is_tcp(l) || !st_msock_listening(l) || l->machine != cl->machine || !la[0] ||
		    !listens_on(la, c->saddr))
			continue;
		if ((l->listen ? l->listen->ev.ts_us : l->t_first) > t || (l->end != ST_END_OPEN && l->t_end < t))
			continue;	/* not listening then */
		c->queued_on = l;
		l->queued++;
		if (l->end != ST_END_OPEN && l->end != ST_END_ELSEWHERE) {
			const struct st_rec *tc = st_msock_teardown(cl);
			if (!tc || l->t_end <= tc->ev.ts_us) {
				/* the listener went first: the kernel reset the end
				 * waiting in its queue, the server end went first */
				c->queue_reset = true;
				c->closer = ST_CLOSER_SERVER;
			}
		}
		return;
	}
}

/* The SO_REUSEADDR of the socket whose TIME_WAIT holder h is: the latest
 * traced TCP end of that tuple that ended before before_us, as its last
 * options say (an accepted socket's are its listener's).  -1 none found. */
static int old_reuseaddr(const struct st_model *m, const struct st_ksock *h, int64_t before_us)
{
	const struct st_msock *best = NULL;
	char hl[ST_ADDR_MAX], hr[ST_ADDR_MAX], l[ST_ADDR_MAX], r[ST_ADDR_MAX];

	st_addr_normalize(h->local, hl);
	st_addr_normalize(h->remote, hr);
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		if (!st_msock_is_tcp(s) || s->end == ST_END_OPEN || s->t_end > before_us ||
		    (best && s->t_end <= best->t_end))
			continue;
		st_addr_normalize(st_msock_local(s), l);
		st_addr_normalize(st_msock_remote(s), r);
		if (!strcmp(l, hl) && !strcmp(r, hr))
			best = s;
	}
	if (!best)
		return -1;
	for (size_t k = best->nevs; k-- > 0;)
		if (best->evs[k]->sock == best && best->evs[k]->ev.has_opts)
			return best->evs[k]->ev.opts.reuseaddr;
	return -1;
}

/* A failed bind whose verdict the shim could not give (its holders in
 * TIME_WAIT, whose options the kernel does not show): decided from the
 * traces when they hold the sockets that left them.  The kernel lets a
 * bind with SO_REUSEADDR through TIME_WAIT only when the socket that left
 * it had SO_REUSEADDR too.  Sets the record's verdict_reuseaddr and
 * verdict_why (the model decides it; the record is otherwise as read). */
static void decide_verdicts(struct st_model *m)
{
	unsigned looked = 0;

	for (size_t i = 0; i < m->nsocks && looked < 1000; i++) {
		const struct st_msock *s = m->socks[i];
		for (size_t k = 0; k < s->nevs; k++) {
			struct st_rec *r = (struct st_rec *)s->evs[k];	/* the model's own verdict */
			int all = 1;

			if (r->ev.call != ST_CALL_bind || !r->ev.err || strcmp(r->ev.err, "EADDRINUSE") ||
			    !r->ev.has_verdict || r->ev.verdict_reuseaddr != -1 || r->ev.nholders <= 0)
				continue;
			looked++;
			for (int h = 0; h < r->ev.nholders && all >= 0; h++) {
				const struct st_ksock *hs = &r->ev.holders[h];
				int old = hs->state && !strcmp(hs->state, "TIME_WAIT") ?
					old_reuseaddr(m, hs, r->ev.ts_us) : -1;
				if (old < 0)
					all = -1;
				else if (!old)
					all = 0;
			}
			if (all < 0)
				continue;
			r->ev.verdict_reuseaddr = all;
			r->ev.verdict_why = all ? "decided from the traces: every socket that left the TIME_WAIT had "
						  "SO_REUSEADDR" :
						  "decided from the traces: a socket that left the TIME_WAIT did not set "
						  "SO_REUSEADDR, so the kernel refuses the bind whatever this one sets";
		}
	}
}

/* The connecting TCP ends of m (not accepted, not connected to
 * themselves, both addresses known) sorted by tuple into *out; how many,
 * -1 when out of memory. */
static long connecting_ends(const struct st_model *m, struct cand **out)
{
	struct cand *cands = NULL;
	size_t nc = 0, cap = 0;

	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];
		if (!st_msock_is_tcp(s) || !s->connect || (s->made && s->listener) || self_connected(s))
			continue;
		if (!s->local[0] || !st_msock_remote(s)[0])
			continue;
		void *q = st_model_grow(cands, &cap, nc, sizeof(*cands));
		if (!q) {
			free(cands);
			return -1;
		}
		cands = q;
		cands[nc].s = s;
		tuple_key(&cands[nc].key, s->local, st_msock_remote(s));
		nc++;
	}
	if (nc)
		qsort(cands, nc, sizeof(*cands), by_key);
	*out = cands;
	return (long)nc;
}

/* The accepted end s's connecting end among cands (sorted by tuple):
 * the latest of that tuple not yet taken (taken(c) false) that connected
 * before the accept returned (the client may have closed before: the
 * connection waits in the accept queue; a tuple is not used again while
 * the earlier connection lingers); another machine's only when it is the
 * one candidate and the tuple is not ambiguous.  NULL none. */
static struct st_msock *client_of(const struct st_model *m, const struct cand *cands, size_t nc,
				  struct st_msock *s, bool (*taken)(const struct st_msock *c))
{
	struct st_msock *match = NULL, *other = NULL;
	struct cand key;
	size_t lo = 0, hi = nc;
	int others = 0;

	tuple_key(&key.key, s->remote, s->local);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (tuple_cmp(&cands[mid].key, &key.key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < nc && !tuple_cmp(&cands[lo].key, &key.key); lo++) {
		struct st_msock *c = cands[lo].s;
		/* on one machine (one clock) a connect began before the
		 * accept of its connection returned: a later one with the
		 * same tuple is a later connection, from a port used
		 * again; another machine's clock (or an accept whose
		 * time in the call is not known) is given a second */
		int64_t by = c->machine == s->machine && s->made->ev.dur_ns >= 0 ? st_rec_end_us(s->made) :
										      s->t_first + 1000000;
		if (taken(c) || c->connect->ev.ts_us > by)
			continue;
		if (c->machine != s->machine) {
			/* another machine's: only when it is the one candidate */
			if (!loopback(s->local))
				others++, other = c;
			continue;
		}
		if (match && match->connect->ev.ts_us > c->connect->ev.ts_us)
			continue;
		match = c;
	}
	if (!match && others == 1 && !other_accepted(m, s, other))
		match = other;
	return match;
}

static bool joined(const struct st_msock *c)
{
	return c->conn != NULL;
}

/* an accepted end, both addresses known */
static bool accepted_end(const struct st_msock *s)
{
	return s->made && s->listener && s->local[0] && s->remote[0];
}

/* each connection's ends filled in, then numbered on from the retired ones
 * in time order */
static void conns_finish(struct st_model *m)
{
	for (size_t i = 0; i < m->nconns; i++) {
		conn_fill(m->conns[i]);
		find_queue(m, m->conns[i]);
	}
	for (size_t i = 0; i < m->nconns; i++)
		m->conns[i]->id = (int)i;
	if (m->nconns > 1)
		qsort(m->conns, m->nconns, sizeof(*m->conns), conn_by_time);
	for (size_t i = 0; i < m->nconns; i++)
		m->conns[i]->id = (int)(m->conns_retired + i + 1);
}

static void lone_end(struct st_model *m, const struct st_msock *s, bool retiring);

/* ---- AF_UNIX streams: joined by inode, not by tuple ---- */

/* an AF_UNIX stream or seqpacket socket (the kinds with a connection) */
static bool unix_stream(const struct st_msock *s)
{
	return s->family && !strcmp(s->family, "AF_UNIX") && s->type &&
	       (!strcmp(s->type, "SOCK_STREAM") || !strcmp(s->type, "SOCK_SEQPACKET"));
}

/* a unix client end: it connected, and the connect succeeded */
static bool unix_client(const struct st_msock *s)
{
	return unix_stream(s) && s->inode && s->connect && s->connected && !s->connect_failed &&
	       !(s->made && s->listener);
}

/* an accepted unix end whose accept named its peer */
static bool unix_accepted(const struct st_msock *s)
{
	return unix_stream(s) && s->made && s->listener && s->peer_inode;
}

/* the first end of a unix stream socketpair (the second is its peer) */
static bool unix_pair_first(const struct st_msock *s)
{
	return unix_stream(s) && s->peer && s->peer->peer == s && s->made && s->made == s->peer->made &&
	       s->made->sock == s;
}

/* inodes of two machines are apart (a unix inode has 32 bits) */
static uint64_t unix_key(unsigned machine, uint64_t inode)
{
	return inode ^ ((uint64_t)machine << 40);
}

/* The unix client ends of m by machine and inode (an inode used again,
 * after 2^32 sockets: the latest).  false when out of memory. */
static bool unix_clients(const struct st_model *m, struct st_map *map)
{
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i], *old = NULL;

		if (!unix_client(s))
			continue;
		if (!st_map_put(map, unix_key(s->machine, s->inode), s, &old))
			return false;
		if (old && old->t_first > s->t_first)
			st_map_put(map, unix_key(s->machine, s->inode), old, &old);
	}
	return true;
}

/* The client end of the accepted unix end s: the one whose inode s's
 * accept named, on s's machine, that connected before the accept returned
 * and is not taken (taken(c) false).  NULL none (its client untraced). */
static struct st_msock *unix_client_of(const struct st_map *map, const struct st_msock *s,
				       bool (*taken)(const struct st_msock *c))
{
	struct st_msock *c = st_map_get(map, unix_key(s->machine, s->peer_inode));

	if (!c || taken(c) || c->connect->ev.ts_us > st_rec_end_us(s->made))
		return NULL;
	return c;
}

static struct st_conn *unix_conn(struct joiner *b, struct st_msock *client, struct st_msock *server, bool pair)
{
	struct st_conn *c = conn_new(b, client, server);

	if (c) {
		c->is_unix = true;
		c->pair = pair;
	}
	return c;
}

int st_model_join(struct st_model *m)
{
	struct joiner j = { m, 0, false }, *b = &j;
	struct cand *cands = NULL;
	long nc = connecting_ends(m, &cands);

	if (nc < 0)
		return -1;
	/* accepted ends find theirs */
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];

		if (!accepted_end(s) || unix_accepted(s))
			continue;
		if (!conn_new(b, client_of(m, cands, (size_t)nc, s, joined), s))
			break;
	}
	free(cands);
	/* unix streams: each accepted end with its traced client, each
	 * socketpair */
	{
		struct st_map map = { 0 };
		if (!unix_clients(m, &map))
			b->oom = true;
		for (size_t i = 0; !b->oom && i < m->nsocks; i++) {
			struct st_msock *s = m->socks[i], *c;

			if (unix_accepted(s) && (c = unix_client_of(&map, s, joined)))
				unix_conn(b, c, s, false);
			else if (unix_accepted(s) && accepted_end(s))
				conn_new(b, NULL, s);	/* its client untraced: as any accepted end */
			else if (unix_pair_first(s) && !s->conn && !s->peer->conn)
				unix_conn(b, s, s->peer, true);
		}
		st_map_free(&map);
	}
	/* connecting ends nobody accepted in the trace, and sockets connected
	 * to themselves */
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];
		if (st_msock_is_tcp(s) && s->connect && !s->conn && !(s->made && s->listener)) {
			struct st_conn *c = conn_new(b, s, NULL);
			if (!c)
				break;
			c->self = self_connected(s);
		}
	}
	if (give_lingering(m) < 0)
		b->oom = true;
	conns_finish(m);
	decide_verdicts(m);
	for (size_t i = 0; m->retiring && i < m->nconns; i++) {
		const struct st_conn *c = m->conns[i];
		if (!c->self && !!c->client != !!c->server)
			lone_end(m, c->client ? c->client : c->server, false);
	}
	return b->oom ? -1 : 0;
}

/* a connecting end an accepted end took in this round (st_model_join_round):
 * its conn points to this marker until the connections are made */
static struct st_conn round_taken;

static bool taken_in_round(const struct st_msock *c)
{
	return c->conn == &round_taken;
}

/* A traced listener of c's machine, still open, that listened on c's
 * server address when c connected: it may yet accept c.  A unix client's
 * listener is a unix one bound to the path it connected to, a TCP
 * client's a TCP one on its server address. */
static bool may_be_accepted(const struct st_model *m, const struct st_msock *c)
{
	const char *saddr = st_msock_remote(c);
	bool unix_ = unix_stream(c);

	if (!c->connect || c->connect_failed || !saddr[0])
		return false;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *l = m->socks[i];
		const char *la = st_msock_local(l);
		if (l->end != ST_END_OPEN && l->end != ST_END_ELSEWHERE)
			continue;
		if (!st_msock_listening(l) || l->machine != c->machine || !la[0])
			continue;
		if (unix_ ? !unix_stream(l) || strcmp(la, saddr) : !st_msock_is_tcp(l) || !listens_on(la, saddr))
			continue;
		if ((l->listen ? l->listen->ev.ts_us : l->t_first) <= c->connect->ev.ts_us)
			return true;
	}
	return false;
}

/* the tuple of end s as its client sees it (client local, server remote):
 * both ends of one connection have the same */
static uint64_t lone_key(const struct st_msock *s)
{
	struct tkey k;
	bool accepted = s->made && s->listener;

	if (!s->local[0] || !st_msock_remote(s)[0])
		return 0;
	if (accepted)
		tuple_key(&k, st_msock_remote(s), s->local);
	else
		tuple_key(&k, s->local, st_msock_remote(s));
	return (k.h ^ ((uint64_t)s->machine << 56)) | 1;
}

/* the side of a retired lone end, as the map of lone ends keeps it (the
 * socket itself is gone) */
static char lone_accepted, lone_client;

static struct st_msock *side_mark(const struct st_msock *s)
{
	return (struct st_msock *)(void *)(s->made && s->listener ? &lone_accepted : &lone_client);
}

/* An end alone: remembered when it retires so, and counted (m->split)
 * when the other side of its tuple retired alone before it */
static void lone_end(struct st_model *m, const struct st_msock *s, bool retiring)
{
	uint64_t key = lone_key(s);
	struct st_msock *old;

	if (!key || !m->retiring)
		return;
	if (!m->lone && !(m->lone = calloc(1, sizeof(*m->lone))))
		return;
	old = st_map_get(m->lone, key);
	if (old && old != side_mark(s)) {
		m->split++;
		st_map_del(m->lone, key);
		return;
	}
	if (retiring && !old)
		st_map_put(m->lone, key, side_mark(s), &old);
}

int st_model_join_round(struct st_model *m)
{
	struct joiner j = { m, 0, false }, *b = &j;
	struct cand *cands = NULL;
	struct st_msock **pair;
	long nc = connecting_ends(m, &cands);

	if (nc < 0)
		return -1;
	m->nconns = 0;
	pair = calloc(m->nsocks ? m->nsocks : 1, sizeof(*pair));
	if (!pair) {
		free(cands);
		return -1;
	}
	/* every accepted end still held takes its connecting end, as the
	 * whole trace's join would; a pair retires only whole */
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i], *c;

		if (!accepted_end(s) || !(c = client_of(m, cands, (size_t)nc, s, taken_in_round)))
			continue;
		c->conn = &round_taken;
		pair[i] = c;
		if (!s->retiring || !c->retiring)
			s->retiring = c->retiring = false;
	}
	free(cands);
	/* unix streams alike, by inode; a socketpair's ends go together */
	{
		struct st_map map = { 0 };
		bool ok = unix_clients(m, &map);

		for (size_t i = 0; ok && i < m->nsocks; i++) {
			struct st_msock *s = m->socks[i], *c;

			if (unix_pair_first(s) && s->retiring != s->peer->retiring)
				s->retiring = s->peer->retiring = false;
			if (!unix_accepted(s) || !(c = unix_client_of(&map, s, taken_in_round)))
				continue;
			c->conn = &round_taken;
			pair[i] = c;
			if (!s->retiring || !c->retiring)
				s->retiring = c->retiring = false;
		}
		st_map_free(&map);
		if (!ok) {
			free(pair);
			return -1;
		}
	}
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];

		if (unix_accepted(s) && pair[i] && s->retiring) {
			pair[i]->conn = NULL;
			unix_conn(b, pair[i], s, false);
		} else if (unix_pair_first(s) && s->retiring) {
			unix_conn(b, s, s->peer, true);
		} else if (accepted_end(s) && s->retiring) {
			if (pair[i])
				pair[i]->conn = NULL;
			else
				lone_end(m, s, true);
			conn_new(b, pair[i], s);
		} else if (s->made && s->listener && s->retiring && st_msock_is_tcp(s)) {
			conn_new(b, NULL, s);	/* an accepted end with an address unknown */
		}
	}
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];

		if (s->conn == &round_taken) {
			s->conn = NULL;	/* its accepted end stays */
			continue;
		}
		if (s->retiring && !s->conn && unix_client(s) && may_be_accepted(m, s)) {
			s->retiring = false;	/* its accept may be still to come */
			continue;
		}
		if (!s->retiring || !st_msock_is_tcp(s) || !s->connect || s->conn || (s->made && s->listener))
			continue;
		if (!self_connected(s) && may_be_accepted(m, s)) {
			s->retiring = false;	/* its accept may be still to come */
			continue;
		}
		struct st_conn *c = conn_new(b, s, NULL);
		if (c)
			c->self = self_connected(s);
		if (!self_connected(s))
			lone_end(m, s, true);
	}
	free(pair);
	if (give_lingering(m) < 0)
		b->oom = true;
	conns_finish(m);
	return b->oom ? -1 : 0;
}
