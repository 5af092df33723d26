/* SPDX-License-Identifier: MIT */
/* origins.c - origins of events and repeated events (see origins.h and
 * reader.h: st_trace_dedup, st_origin_name).
 *
 * Owns: interning (host, boot) pairs into st_trace.origins, the per-file
 * pid map, and dropping repeated (process, seq) events.  Never prints:
 * the commands say what st_trace_dedup counted.
 */
#include "origins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The index of (host, boot, pid namespace), added when new; 0 for none
 * known. */
static bool intern(struct st_trace *t, const char *host, const char *boot, uint64_t pidns, unsigned *out)
{
	struct st_origin *o;

	*out = 0;
	if (!host && !boot && !pidns)
		return true;
	for (size_t i = 0; i < t->norigins; i++)
		if (same(t->origins[i].host, host) && same(t->origins[i].boot, boot) &&
		    t->origins[i].pidns == pidns) {
			*out = (unsigned)i;
			return true;
		}
	if (t->norigins >= ST_ORIGINS_MAX) {
		*out = ST_ORIGINS_MAX - 1;
		return true;
	}
	if (t->norigins == t->capo) {
		size_t cap = t->capo ? 2 * t->capo : 4;
		void *q = realloc(t->origins, cap * sizeof(*t->origins));
		if (!q)
			return false;
		t->origins = q;
		t->capo = cap;
	}
	o = &t->origins[t->norigins];
	o->host = host ? strdup(host) : NULL;
	o->boot = boot ? strdup(boot) : NULL;
	o->pidns = pidns;
	o->machine = (unsigned)t->norigins;
	for (size_t i = 0; i < t->norigins; i++)
		if (same(t->origins[i].host, host) && same(t->origins[i].boot, boot)) {
			o->machine = t->origins[i].machine;
			break;
		}
	if ((host && !o->host) || (boot && !o->boot)) {
		free(o->host);
		free(o->boot);
		return false;
	}
	*out = (unsigned)t->norigins++;
	return true;
}

static size_t slot(const struct st_pidmap *pm, int64_t pid)
{
	size_t i = (size_t)((uint64_t)pid * 0x9e3779b97f4a7c15u >> 20) & (pm->cap - 1);

	while (pm->pid[i] != -1 && pm->pid[i] != pid)
		i = (i + 1) & (pm->cap - 1);
	return i;
}

static bool pm_put(struct st_pidmap *pm, int64_t pid, unsigned org)
{
	size_t i;

	if ((pm->n + 1) * 2 > pm->cap) {
		struct st_pidmap big = { NULL, NULL, pm->cap ? 2 * pm->cap : 64, 0, pm->last };
		big.pid = malloc(big.cap * sizeof(*big.pid));
		big.org = malloc(big.cap * sizeof(*big.org));
		if (!big.pid || !big.org) {
			free(big.pid);
			free(big.org);
			return false;
		}
		for (size_t k = 0; k < big.cap; k++)
			big.pid[k] = -1;
		for (size_t k = 0; k < pm->cap; k++)
			if (pm->pid[k] != -1) {
				size_t j = slot(&big, pm->pid[k]);
				big.pid[j] = pm->pid[k];
				big.org[j] = pm->org[k];
				big.n++;
			}
		st_pidmap_free(pm);
		*pm = big;
	}
	i = slot(pm, pid);
	if (pm->pid[i] == -1)
		pm->n++;
	pm->pid[i] = pid;
	pm->org[i] = org;
	return true;
}

static unsigned pm_get(const struct st_pidmap *pm, int64_t pid)
{
	size_t i;

	if (!pm->cap)
		return pm->last;
	i = slot(pm, pid);
	return pm->pid[i] == pid ? pm->org[i] : pm->last;
}

bool st_origin_assign(struct st_trace *t, struct st_pidmap *pm, struct st_rec *r)
{
	const struct st_event *ev = &r->ev;
	unsigned o;
	int64_t child = -1;

	if (ev->call == ST_CALL_start && (ev->host || ev->boot || ev->pidns)) {
		if (!intern(t, ev->host, ev->boot, ev->pidns, &o) || !pm_put(pm, ev->pid, o))
			return false;
		pm->last = o;
	} else {
		o = pm_get(pm, ev->pid);
	}
	r->origin = o;
	r->machine = o < t->norigins ? t->origins[o].machine : o;
	r->pkey = st_rec_key(r, ev->pid);
	if (ev->call == ST_CALL_fork || ev->call == ST_CALL__Fork || ev->call == ST_CALL_vfork ||
	    ev->call == ST_CALL_clone)
		child = ev->err ? -1 : ev->ret;
	else if (ev->call == ST_CALL_posix_spawn || ev->call == ST_CALL_posix_spawnp)
		child = ev->err ? -1 : ev->child;
	if (child > 0 && pm_get(pm, child) != o)
		return pm_put(pm, child, o);
	return true;
}

void st_pidmap_free(struct st_pidmap *pm)
{
	free(pm->pid);
	free(pm->org);
	pm->pid = NULL;
	pm->org = NULL;
	pm->cap = pm->n = 0;
}

const char *st_origin_name(const struct st_trace *t, unsigned o, char *buf, size_t n)
{
	const struct st_origin *x = o < t->norigins ? &t->origins[o] : NULL;

	if (!x)
		snprintf(buf, n, "?");
	else if (x->boot)
		snprintf(buf, n, "%s (boot %s)", x->host ? x->host : "?", x->boot);
	else
		snprintf(buf, n, "%s", x->host ? x->host : "?");
	return buf;
}

/* ---- repeated events -------------------------------------------------- */

#define WINDOW 4096	/* seqs remembered per process */

struct st_dedup_seen {
	int64_t key;		/* pkey; -1 empty slot */
	int64_t img_ts;		/* the ts of its image's start, -1 unknown */
	int64_t max;		/* the largest seq seen of the image */
	int64_t first;		/* the first seq seen of the image, 0 none */
	int64_t count;		/* seqs seen of the image, repeats not counted */
	int64_t dropped;	/* the image's dropped counts, summed */
	int64_t pid;
	/* how the image ended: its start (seq 1) read, its exit read, an
	 * end that writes no exit (an exec into an image the shim cannot
	 * enter, daemon()'s parent leaving inside libc), its end seen by
	 * another process as a normal exit (a status, no signal) */
	bool started, exited, exit_unwritten, ended_ok;
	uint64_t bits[WINDOW / 64];	/* seq s seen: bit s % WINDOW, for s in (max - WINDOW, max] */
};


static struct st_dedup_seen *seen_of(struct st_dedup *m, int64_t key)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct st_dedup big = { NULL, m->cap ? 2 * m->cap : 64, 0 };
		big.v = malloc(big.cap * sizeof(*big.v));
		if (!big.v)
			return NULL;
		for (size_t k = 0; k < big.cap; k++)
			big.v[k].key = -1;
		for (size_t k = 0; k < m->cap; k++)
			if (m->v[k].key != -1) {
				size_t j = (size_t)((uint64_t)m->v[k].key * 0x9e3779b97f4a7c15u >> 20) & (big.cap - 1);
				while (big.v[j].key != -1)
					j = (j + 1) & (big.cap - 1);
				big.v[j] = m->v[k];
				big.n++;
			}
		free(m->v);
		*m = big;
	}
	i = (size_t)((uint64_t)key * 0x9e3779b97f4a7c15u >> 20) & (m->cap - 1);
	while (m->v[i].key != -1 && m->v[i].key != key)
		i = (i + 1) & (m->cap - 1);
	if (m->v[i].key == -1) {
		memset(&m->v[i], 0, sizeof(m->v[i]));
		m->v[i].key = key;
		m->v[i].img_ts = -1;
		m->n++;
	}
	return &m->v[i];
}

static bool bit(const struct st_dedup_seen *s, int64_t seq)
{
	return s->bits[(seq % WINDOW) / 64] >> (seq % 64) & 1;
}

static void set_bit(struct st_dedup_seen *s, int64_t seq)
{
	s->bits[(seq % WINDOW) / 64] |= (uint64_t)1 << (seq % 64);
}

/* The image s has read is over (a new one starts, or the trace ends):
 * what it lacks goes to t.  The seqs before its first one read are not
 * counted (a trace may begin in the middle of a process). */
static void image_over(struct st_dedup_seen *s, struct st_trace *t)
{
	int64_t gaps = s->first > 0 ? s->max - s->first + 1 - s->count : 0;
	int64_t lack;
	/* an image that started in the trace and exited normally, as its
	 * parent or the runner saw, writes its exit event (exit, _exit,
	 * returning from main) unless it exec'd out of the shim's sight: a
	 * line lost at the end of its file (a collector, a cut copy) */
	bool no_exit = s->started && s->ended_ok && !s->exited && !s->exit_unwritten;

	if (gaps < 0)
		gaps = 0;	/* repeats older than the window were counted */
	lack = (gaps > s->dropped ? gaps : s->dropped) + no_exit;
	if (lack > 0) {
		t->missing += (uint64_t)lack;
		t->missing_images++;
		if (t->nmissing_list < ST_MISSING_LISTED) {
			struct st_missing *v = t->missing_list;
			if (!v)
				v = t->missing_list = calloc(ST_MISSING_LISTED, sizeof(*v));
			if (v)
				v[t->nmissing_list++] = (struct st_missing){ s->key, s->pid, s->first, s->max, lack,
									      gaps, s->dropped, no_exit };
		}
	}
	s->first = s->count = s->dropped = 0;
	s->started = s->exited = s->exit_unwritten = s->ended_ok = false;
}

/* Counts r, not a repeat, in its image's seqs. */
static void seen(struct st_dedup_seen *s, const struct st_rec *r)
{
	if (!s->first || r->ev.seq < s->first)
		s->first = r->ev.seq;
	s->count++;
	if (r->ev.dropped > 0)
		s->dropped += r->ev.dropped;
	s->pid = r->ev.pid;
}

static bool repeated_seq(struct st_dedup_seen *s, struct st_trace *t, const struct st_rec *r);

/* Is r a repeat of an event already seen?  Notes it when not, and what
 * it tells of how its image ended. */
static bool repeated(struct st_dedup_seen *s, struct st_trace *t, const struct st_rec *r)
{
	if (r->ev.call == ST_CALL_end) {
		s->ended_ok = r->ev.status >= 0 && !r->ev.signal;
		if (r->ev.by && !strcmp(r->ev.by, "daemon"))
			s->exit_unwritten = true;
	}
	if (repeated_seq(s, t, r))
		return true;
	if (r->ev.call == ST_CALL_exit)
		s->exited = true;
	else if (r->ev.call == ST_CALL_untraced && r->ev.child <= 0)
		s->exit_unwritten = true;
	return false;
}

static bool repeated_seq(struct st_dedup_seen *s, struct st_trace *t, const struct st_rec *r)
{
	int64_t seq = r->ev.seq;

	if (seq <= 0)
		return false;	/* no seq (an end the runner wrote): cannot tell */
	if (r->ev.call == ST_CALL_start && seq == 1) {
		if (s->img_ts == r->ev.ts_us && bit(s, 1))
			return true;
		/* a new image: its seqs start again */
		if (s->first)
			image_over(s, t);
		memset(s->bits, 0, sizeof(s->bits));
		s->img_ts = r->ev.ts_us;
		s->max = 1;
		s->started = true;
		set_bit(s, 1);
		seen(s, r);
		return false;
	}
	if (!s->first)
		s->max = seq - 1;	/* the first seen of a process: the window starts here */
	if (seq > s->max) {
		if (seq - s->max >= WINDOW)
			memset(s->bits, 0, sizeof(s->bits));
		else
			for (int64_t k = s->max + 1; k <= seq; k++)
				s->bits[(k % WINDOW) / 64] &= ~((uint64_t)1 << (k % 64));
		s->max = seq;
		set_bit(s, seq);
		seen(s, r);
		return false;
	}
	if (seq <= s->max - WINDOW) {
		seen(s, r);
		return false;	/* too old to tell */
	}
	if (bit(s, seq))
		return true;
	set_bit(s, seq);
	seen(s, r);
	return false;
}

int st_dedup_check(struct st_dedup *d, struct st_trace *t, const struct st_rec *r)
{
	struct st_dedup_seen *s = seen_of(d, r->pkey);

	if (!s)
		return -1;
	if (!repeated(s, t, r))
		return 0;
	if (!t->first_dup[0])
		snprintf(t->first_dup, sizeof(t->first_dup), "%s:%ld", r->file, r->line);
	t->dups++;
	return 1;
}

void st_dedup_finish(struct st_dedup *d, struct st_trace *t)
{
	for (size_t k = 0; k < d->cap; k++)
		if (d->v[k].key != -1 && d->v[k].first)
			image_over(&d->v[k], t);
}

void st_dedup_free(struct st_dedup *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

long st_trace_dedup(struct st_trace *t)
{
	struct st_dedup m = { NULL, 0, 0 };
	size_t out = 0;
	long dropped = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct st_rec *r = t->recs[i];
		struct st_dedup_seen *s = seen_of(&m, r->pkey);

		if (!s) {
			free(m.v);
			/* the recs before i are kept as they were moved */
			memmove(t->recs + out, t->recs + i, (t->n - i) * sizeof(*t->recs));
			t->n = out + (t->n - i);
			return -1;
		}
		if (repeated(s, t, r)) {
			if (!t->first_dup[0])
				snprintf(t->first_dup, sizeof(t->first_dup), "%s:%ld", r->file, r->line);
			st_rec_free(r);
			dropped++;
			continue;
		}
		t->recs[out++] = r;
	}
	t->n = out;
	t->dups += (unsigned long)dropped;
	st_dedup_finish(&m, t);
	free(m.v);
	return dropped;
}
