/* SPDX-License-Identifier: MIT */
/* model_retire.c - retiring what has ended, for a trace too big to hold
 * (see model.h, st_model_retiring).
 *
 * Owns: who holds each record (st_rec.refs, pinned), when a round of
 * retirement runs, which sockets may go (ended long enough ago, named by no
 * descriptor, their accepted sockets gone), handing them and their
 * connections to the callbacks, and freeing them with the events only they
 * held.  A listener keeps, of an accept whose socket retired (or that
 * failed), only what its history shows: its call, result and process (one
 * shared digest record for all alike).  Never prints.
 */
#include "model.h"
#include "model_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int st_model_pin(struct st_model *m, struct st_rec *r)
{
	void *q = st_model_grow(m->pinned, &m->cappinned, m->npinned, sizeof(*m->pinned));

	if (!q)
		return -1;
	m->pinned = q;
	m->pinned[m->npinned++] = r;
	r->pinned = true;
	return 0;
}

/* the socket r is counted under: its listener for an accept, else its own */
static const struct st_msock *owner_of(const struct st_rec *r)
{
	return r->lsock ? r->lsock : r->sock;
}

/* r handed to the rec callback, once (a digest never: what it stands for was) */
static void tell(struct st_model *m, struct st_rec *r, const struct st_msock *owner)
{
	if (r->told || r->line == -1)
		return;
	r->told = true;
	if (m->retire.rec)
		m->retire.rec(m->retire.arg, m, r, owner);
}

static void rec_gone(struct st_model *m, struct st_rec *r)
{
	tell(m, r, owner_of(r));
	st_rec_free(r);
	if (m->live_recs)
		m->live_recs--;
}

void st_model_unref(struct st_model *m, struct st_rec *r)
{
	if (r->refs)
		r->refs--;
	if (m->retiring && !r->refs && !r->pinned)
		rec_gone(m, r);
}

void st_model_drop_events(struct st_model *m, struct st_msock *s)
{
	if (m->retiring)
		for (size_t i = 0; i < s->nevs; i++)
			if (owner_of(s->evs[i]) == s)
				tell(m, (struct st_rec *)s->evs[i], s);	/* the model owns them */
	for (size_t i = 0; i < s->nevs; i++) {
		struct st_rec *r = (struct st_rec *)s->evs[i];	/* the model owns them */

		if (r->sock == s)
			r->sock = NULL;
		if (r->lsock == s)
			r->lsock = NULL;
		st_model_unref(m, r);
	}
	s->nevs = 0;
	if (s->end_rec) {
		struct st_rec *r = (struct st_rec *)s->end_rec;

		s->end_rec = NULL;
		st_model_unref(m, r);
	}
}

int st_model_retiring(struct st_model *m, const struct st_retire *rt)
{
	if (!m->building || m->nfed || !rt->hold)
		return -1;
	m->retiring = true;
	m->retire = *rt;
	m->next_round = rt->hold;
	return 0;
}

void st_model_keep(struct st_model *m, struct st_rec *r)
{
	if (m->retiring && !r->pinned && st_model_pin(m, r) == 0)
		m->live_recs++;
}

bool st_model_keep_in(struct st_model *m, const struct st_rec ***v, size_t *n, size_t *cap, struct st_rec *r)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		const struct st_rec **grown = realloc(*v, ncap * sizeof(*grown));

		if (!grown)
			return false;
		*v = grown;
		*cap = ncap;
	}
	(*v)[(*n)++] = r;
	st_model_keep(m, r);
	return true;
}

void st_model_take(struct st_model *m, struct st_rec *r)
{
	(void)m;
	r->refs++;
}

void st_model_let_go(struct st_model *m, struct st_rec *r)
{
	st_model_unref(m, r);
}

/* The record standing for an accept of l that only its listener holds
 * now: one per call, result and process, kept to the end.  NULL when out
 * of memory. */
static struct st_rec *digest_of(struct st_model *m, const struct st_rec *r)
{
	struct st_rec *d;

	void *q;

	for (size_t i = m->ndigests; i-- > 0;) {
		d = m->digests[i];
		if (d->lsock == r->lsock && d->ev.call == r->ev.call && d->pkey == r->pkey && d->ev.pid == r->ev.pid &&
		    (d->ev.err ? r->ev.err && !strcmp(d->ev.err, r->ev.err) : !r->ev.err))
			return d;
	}
	q = st_model_grow(m->digests, &m->capdigests, m->ndigests, sizeof(*m->digests));
	if (!q)
		return NULL;
	m->digests = q;
	d = st_rec_new();
	if (!d)
		return NULL;
	st_event_init(&d->ev);
	d->line = -1;	/* a digest, not a line of the trace */
	d->file = r->file;
	d->ev.call = r->ev.call;
	d->ev.pid = r->ev.pid;
	d->ev.tid = r->ev.tid;
	d->ev.ts_us = r->ev.ts_us;
	d->ev.ret = r->ev.ret;
	d->ev.fd = r->ev.fd;
	d->ev.listen_fd = r->ev.listen_fd;
	d->pkey = r->pkey;
	d->lsock = r->lsock;	/* an accept on that listener (NULL once it retired) */
	d->origin = r->origin;
	d->machine = r->machine;
	if (r->ev.err && !(d->strs = strdup(r->ev.err))) {
		st_rec_free(d);
		return NULL;
	}
	d->ev.err = d->strs;
	if (st_model_pin(m, d) < 0) {
		st_rec_free(d);
		return NULL;
	}
	m->digests[m->ndigests++] = d;
	m->live_recs++;
	return d;
}

/* l's accepts that only l holds now (their socket retired, or none was
 * made) replaced by digests */
static int compact_listener(struct st_model *m, struct st_msock *l)
{
	for (size_t i = 0; i < l->nevs; i++) {
		struct st_rec *r = (struct st_rec *)l->evs[i], *d;	/* the model owns them */

		if (r->lsock != l || r->sock || r->pinned || r->refs != 1 || r->line == -1)
			continue;
		if (!(d = digest_of(m, r)))
			return -1;
		tell(m, r, l);
		l->evs[i] = d;
		r->lsock = NULL;
		st_model_unref(m, r);
	}
	return 0;
}

/* May s go: ended long enough ago (an exit handler's close, a failed exec,
 * a daemon's child may yet undo an end for a moment), held by no process,
 * carried by no message, its accepted sockets gone? */
static bool settled(const struct st_model *m, const struct st_msock *s)
{
	/* a daemon()'s child takes back what its parent's end took for a
	 * second (model.c, adopt_held) */
	int64_t after = m->retire.after_us + (s->end == ST_END_UNTRACED ? 1000000 : 0);

	return s->end != ST_END_OPEN && s->end != ST_END_ELSEWHERE && s->nrefs <= 0 && s->in_flight <= 0 &&
	       !s->live_accepted && s->t_end <= m->t_last - after;
}

static int by_seen(const void *a, const void *b)
{
	const struct st_msock *x = *(struct st_msock *const *)a, *y = *(struct st_msock *const *)b;

	if (x->seen_us != y->seen_us)
		return x->seen_us < y->seen_us ? -1 : 1;
	if (x->seen_order != y->seen_order)
		return x->seen_order < y->seen_order ? -1 : 1;
	return x->id - y->id;
}

void st_model_order_socks(struct st_model *m)
{
	if (m->retiring && m->nsocks > 1)
		qsort(m->socks, m->nsocks, sizeof(*m->socks), by_seen);
}

static int round_run(struct st_model *m)
{
	size_t kept = 0;

	m->rounds++;
	st_model_order_socks(m);
	for (size_t i = 0; i < m->nsocks; i++)
		m->socks[i]->retiring = settled(m, m->socks[i]);
	st_model_unmark_held(m);
	for (size_t i = 0; i < m->nsocks; i++)
		if (m->socks[i]->retiring)
			st_model_settle(m->socks[i]);
	if (st_model_join_round(m) < 0)
		return -1;
	/* the two ends of a socketpair go together (a format shows them as
	 * one) */
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];
		if (s->retiring && s->peer && s->peer->peer == s && !s->peer->retiring)
			s->retiring = false;
	}
	for (size_t i = 0; m->retire.conn && i < m->nconns; i++)
		m->retire.conn(m->retire.arg, m, m->conns[i]);
	/* the sockets with their connections: a format counts a connection
	 * at one of its ends */
	if (m->retire.sock)
		for (size_t i = 0; i < m->nsocks; i++)
			if (m->socks[i]->retiring)
				m->retire.sock(m->retire.arg, m, m->socks[i]);
	for (size_t i = 0; i < m->nconns; i++) {
		struct st_conn *c = m->conns[i];

		if (c->client)
			c->client->conn = NULL;
		if (c->server)
			c->server->conn = NULL;
		free(c);
	}
	m->conns_retired += m->nconns;
	m->nconns = 0;
	for (size_t i = 0; i < m->nsocks; i++) {
		struct st_msock *s = m->socks[i];

		if (!s->retiring) {
			m->socks[kept++] = s;
			continue;
		}
		if (s->listener && s->listener->live_accepted)
			s->listener->live_accepted--;
		if (s->peer && s->peer->peer == s)
			s->peer->peer = NULL;
		st_model_forget(m, s);
		st_model_drop_events(m, s);
		free(s->evs);
		free(s->holds);
		free(s);
		m->socks_retired++;
	}
	m->nsocks = kept;
	for (size_t i = 0; i < m->nsocks; i++)
		if (m->socks[i]->accepted || st_msock_listening(m->socks[i]))
			if (compact_listener(m, m->socks[i]) < 0)
				return -1;
	/* the next round once as many events again as half the budget came,
	 * whatever this one could free */
	m->next_round = m->live_recs + m->ahead + m->retire.hold / 2;
	if (m->next_round < m->retire.hold)
		m->next_round = m->retire.hold;
	/* and not before a quarter of the wait for an end to be final has
	 * passed: what stays held for it (ended just now) would be looked at
	 * again for nothing, at every event with a small hold */
	m->next_round_us = m->t_last + m->retire.after_us / 4;
	return 0;
}

int st_model_release(struct st_model *m, struct st_rec *r)
{
	if (!m->retiring)
		return 0;
	if (!r->refs && !r->pinned) {
		tell(m, r, owner_of(r));
		st_rec_free(r);
		return 0;
	}
	m->live_recs++;
	if (m->live_recs + m->ahead > m->next_round && m->t_last >= m->next_round_us && m->building)
		return round_run(m);
	return 0;
}

static int by_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const struct st_rec *const *)a, y = (uintptr_t)*(const struct st_rec *const *)b;

	return x < y ? -1 : x > y;
}

static int by_effect(const void *a, const void *b)
{
	const struct st_rec *x = *(const struct st_rec *const *)a, *y = *(const struct st_rec *const *)b;
	int64_t tx = st_rec_effect_us(x), ty = st_rec_effect_us(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

long st_model_untold(const struct st_model *m, const struct st_rec ***out)
{
	const struct st_rec **v;
	size_t n = m->npinned, k = 0;

	for (size_t i = 0; i < m->nsocks; i++)
		n += m->socks[i]->nevs;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < m->nsocks; i++)
		for (size_t j = 0; j < m->socks[i]->nevs; j++)
			v[k++] = m->socks[i]->evs[j];
	for (size_t i = 0; i < m->npinned; i++)
		v[k++] = m->pinned[i];
	if (k > 1)
		qsort(v, k, sizeof(*v), by_ptr);
	n = 0;
	for (size_t i = 0; i < k; i++)
		if (!v[i]->told && v[i]->line != -1 && (!n || v[n - 1] != v[i]))
			v[n++] = v[i];
	if (n > 1)
		qsort(v, n, sizeof(*v), by_effect);
	*out = v;
	return (long)n;
}
