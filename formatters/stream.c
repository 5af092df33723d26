/* SPDX-License-Identifier: MIT */
/* stream.c - traces as a stream, merged by time through a window (see
 * stream.h).
 *
 * Owns: the heap of held events, when one may be handed out, which input
 * is read next (the one read least far in time, so that the inputs move
 * on together), the wait for input, and the count of late events.  Never
 * renders, never exits.
 */
#include "stream.h"
#include "load.h"
#include "origins.h"
#include "symbolize.h"
#include "buf.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* how often a followed file is looked at again at its end (milliseconds) */
#define FOLLOW_PAUSE_MS 100

struct in_state {
	struct st_input *in;
	int64_t maxts;		/* the latest effect time read from it; INT64_MIN none */
	bool idle;		/* had nothing the last time it was tried */
	bool ended;
};

struct st_stream {
	struct st_trace *t;
	struct st_stream_opts o;
	struct in_state *ins;
	int nins;
	struct st_rec **heap;	/* min-heap by (effect time, order) */
	size_t nheap, capheap;
	bool released;		/* an event was handed out ... */
	int64_t last_ts;	/* ... the latest effect time of those */
	unsigned long late;
	bool full;		/* an event went because the window was full */
	char first_late[320];	/* "FILE:LINE" of the first late event */
	struct st_dedup dedup;
	struct st_symbolizer *sym;
	bool dedup_broken;	/* out of memory once: repeats are no longer dropped */
	bool exhausted;		/* every input read to its end and handed out, no
				 * stop: the trace's gaps are facts */
};

static bool before(const struct st_rec *x, const struct st_rec *y)
{
	int64_t tx = st_rec_effect_us(x), ty = st_rec_effect_us(y);

	return tx != ty ? tx < ty : x->order < y->order;
}

static bool heap_push(struct st_stream *s, struct st_rec *r)
{
	size_t i;

	if (s->nheap == s->capheap) {
		size_t cap = s->capheap ? 2 * s->capheap : 1024;
		struct st_rec **p = realloc(s->heap, cap * sizeof(*p));
		if (!p)
			return false;
		s->heap = p;
		s->capheap = cap;
	}
	i = s->nheap++;
	while (i && before(r, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = r;
	return true;
}

static struct st_rec *heap_pop(struct st_stream *s)
{
	struct st_rec *top = s->heap[0], *last = s->heap[--s->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* the events the window holds at most: ST_STREAM_HOLD_MAX, or more */
static size_t hold_max(const struct st_stream *s)
{
	return s->o.hold_max > ST_STREAM_HOLD_MAX ? s->o.hold_max : ST_STREAM_HOLD_MAX;
}

/* May the earliest held event go?  Every input still open has been read
 * a window past it (an input with nothing to read now counts as read up
 * to the present: what it writes next comes after), or too many are held. */
static bool releasable(struct st_stream *s)
{
	int64_t mark = INT64_MAX, now = 0, top;
	bool now_read = false;

	if (!s->nheap)
		return false;
	if (s->nheap >= hold_max(s)) {
		s->full = true;
		return true;
	}
	for (int i = 0; i < s->nins; i++) {
		const struct in_state *is = &s->ins[i];
		int64_t m = is->maxts;

		if (is->ended)
			continue;
		if (is->idle) {
			if (!now_read) {
				now = now_us();
				now_read = true;
			}
			if (now > m)
				m = now;
		}
		if (m < mark)
			mark = m;
	}
	if (mark == INT64_MAX)
		return true;
	top = st_rec_effect_us(s->heap[0]);
	return mark != INT64_MIN && top <= mark - s->o.window_us;
}

struct st_stream *st_stream_open(struct st_trace *t, char *const *paths, int n,
				 const struct st_stream_opts *o)
{
	struct st_stream *s = calloc(1, sizeof(*s));
	int k = n ? n : 1;

	if (s)
		s->ins = calloc((size_t)k, sizeof(*s->ins));
	if (!s || !s->ins) {
		free(s);
		fprintf(stderr, "socktrace: out of memory\n");
		t->fatal = true;
		return NULL;
	}
	s->t = t;
	s->o = *o;
	if (s->o.window_us < 0)
		s->o.window_us = 0;
	for (int i = 0; i < k && !t->fatal; i++) {
		const char *path = n ? paths[i] : NULL;

		st_load_wait_runner(path);
		s->ins[i].in = st_input_open(t, path, o->strict, o->follow);
		s->ins[i].maxts = INT64_MIN;
		s->ins[i].ended = !s->ins[i].in;
		s->nins = i + 1;
	}
	s->sym = st_symbolizer_new();
	return s;
}

/* Reads what the inputs have until one would wait or an event may go. */
static void read_some(struct st_stream *s)
{
	for (;;) {
		struct in_state *pick = NULL;
		struct st_rec *r;

		if (releasable(s) || s->t->fatal)
			return;
		for (int i = 0; i < s->nins; i++) {
			struct in_state *is = &s->ins[i];

			if (!is->ended && !is->idle && (!pick || is->maxts < pick->maxts))
				pick = is;
		}
		if (!pick)
			return;
		switch (st_input_next(pick->in, &r)) {
		case ST_IN_EVENT: {
			int64_t ts = st_rec_effect_us(r);
			int64_t back = r->ev.dur_ns > 0 ? r->ev.ts_us + r->ev.dur_ns / 1000 : r->ev.ts_us;

			if (back < ts)
				back = ts;

			/* a call that blocked (an accept waiting for a client) is
			 * written when it returns: shown then, as strace shows a
			 * call, with the time it began; late only when it came
			 * more than the window after its own return */
			if (s->released && back < s->last_ts) {
				if (!s->late++)
					snprintf(s->first_late, sizeof(s->first_late), "%s:%ld", r->file, r->line);
			}
			if (!heap_push(s, r)) {
				st_rec_free(r);
				fprintf(stderr, "socktrace: out of memory\n");
				s->t->fatal = true;
				return;
			}
			if (ts > pick->maxts)
				pick->maxts = ts;
			break;
		}
		case ST_IN_AGAIN:
			pick->idle = true;
			break;
		case ST_IN_END:
			pick->ended = true;
			break;
		}
	}
}

/* Every input still open is idle: waits for one to have bytes, for a
 * followed file's pause, or for the earliest held event to be due. */
static void wait_input(struct st_stream *s)
{
	struct pollfd *p = calloc((size_t)s->nins, sizeof(*p));
	int np = 0, timeout = -1;
	bool files = false;

	if (s->o.flush)
		fflush(s->o.flush);
	for (int i = 0; i < s->nins; i++) {
		struct in_state *is = &s->ins[i];
		int fd;

		if (is->ended)
			continue;
		fd = st_input_pollfd(is->in);
		if (fd < 0)
			files = true;
		else if (p) {
			p[np].fd = fd;
			p[np++].events = POLLIN;
		}
	}
	if (files || !p)
		timeout = FOLLOW_PAUSE_MS;
	if (s->nheap) {
		int64_t due = st_rec_effect_us(s->heap[0]) + s->o.window_us - now_us();
		int ms = due <= 0 ? 1 : due > 1000000 ? 1000 : (int)((due + 999) / 1000);

		if (timeout < 0 || ms < timeout)
			timeout = ms;
	}
	if (!(s->o.stop && *s->o.stop))
		poll(p, (nfds_t)np, timeout);	/* EINTR: a signal; looked at by the caller */
	free(p);
	for (int i = 0; i < s->nins; i++)
		s->ins[i].idle = false;
}

struct st_rec *st_stream_next(struct st_stream *s)
{
	for (;;) {
		bool open = false;

		if (s->o.stop && *s->o.stop)
			for (int i = 0; i < s->nins; i++)
				s->ins[i].ended = true;
		if (s->t->fatal)
			return NULL;
		read_some(s);
		if (s->t->fatal)
			return NULL;
		if (releasable(s)) {
			struct st_rec *r = heap_pop(s);
			int64_t ts = st_rec_effect_us(r);
			int dup = s->dedup_broken ? 0 : st_dedup_check(&s->dedup, s->t, r);

			if (dup < 0)
				s->dedup_broken = true;
			if (dup > 0) {
				st_rec_free(r);
				continue;
			}
			if (!s->released || ts > s->last_ts)
				s->last_ts = ts;
			s->released = true;
			if (s->sym)
				st_symbolize_rec(s->sym, r);
			return r;
		}
		for (int i = 0; i < s->nins; i++)
			open |= !s->ins[i].ended;
		if (!open) {
			s->exhausted = !(s->o.stop && *s->o.stop);
			return NULL;
		}
		wait_input(s);
	}
}

size_t st_stream_held(const struct st_stream *s)
{
	return s ? s->nheap : 0;
}

unsigned long st_stream_late(const struct st_stream *s)
{
	return s ? s->late : 0;
}

void st_stream_close(struct st_stream *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nins; i++)
		st_input_close(s->ins[i].in);
	while (s->nheap)
		st_rec_free(heap_pop(s));
	/* a reading stopped (--strict's first bad line) read part of the
	 * trace: its repeats, gaps and late events are no fact about the
	 * trace (st_load says none of them either); nor are its gaps when
	 * the caller stopped before the end (a signal, an output that could
	 * not be written): the events not yet read are not missing */
	if (s->t->dups && !s->t->fatal)
		st_load_say_dups(s->t);
	if (!s->dedup_broken && !s->t->fatal && s->exhausted) {
		st_dedup_finish(&s->dedup, s->t);
		st_load_say_missing(s->t);
	}
	if (s->late && !s->t->fatal) {
		char out[1024];
		struct st_buf b;

		st_buf_init(&b, out, sizeof(out));
		ST_PUTL(&b, "socktrace: ");
		st_buf_i64(&b, (int64_t)s->late);
		ST_PUTL(&b, " events came more than the window (");
		st_buf_i64(&b, s->o.window_us / 1000);
		if (s->full) {
			/* the count held, not the time, let the later one go */
			ST_PUTL(&b, " ms), or more than the ");
			st_buf_i64(&b, (int64_t)hold_max(s));
			ST_PUTL(&b, " events the window holds, after a later one: shown as they came, out of time "
				    "order (a larger --window, and for the formats that build connections and for "
				    "check a larger --hold, puts them in place); the first at ");
		} else {
			ST_PUTL(&b, " ms) after a later one: shown as they came, out of time order (a larger "
				    "--window puts them in place); the first at ");
		}
		st_buf_esc(&b, s->first_late, 0);
		st_buf_finish(&b);
		fprintf(stderr, "%s\n", out);
	}
	st_dedup_free(&s->dedup);
	st_symbolizer_free(s->sym);
	free(s->heap);
	free(s->ins);
	free(s);
}
