/* SPDX-License-Identifier: MIT */
/* whole.c - is the whole program in the traces (see whole.h).
 *
 * Owns: the judgement --strict makes of show's and check's input, beyond
 * bad lines (those the reader refuses).  Never prints, never exits.
 */
#include "whole.h"
#include "untraced.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the entry of pkey in h, NULL none */
static struct st_held_count *tally_of(const struct st_held_tally *h, int64_t pkey)
{
	/* the last first: a process's sockets tend to retire together */
	for (size_t i = h->n; i-- > 0;)
		if (h->v[i].pkey == pkey)
			return &h->v[i];
	return NULL;
}

static void tally_add(struct st_held_tally *h, int64_t pkey)
{
	struct st_held_count *c = tally_of(h, pkey);

	if (c) {
		c->n++;
		return;
	}
	if (h->n == h->cap) {
		size_t ncap = h->cap ? 2 * h->cap : 8;
		struct st_held_count *grown = realloc(h->v, ncap * sizeof(*grown));

		if (!grown) {
			h->oom = true;
			return;
		}
		h->v = grown;
		h->cap = ncap;
	}
	h->v[h->n++] = (struct st_held_count){ pkey, 1 };
}

void st_held_tally_sock(struct st_held_tally *h, const struct st_msock *s)
{
	if (s->end == ST_END_UNTRACED)
		tally_add(h, s->end_pkey);
	for (size_t j = 0; j < s->nended; j++) {
		bool again = s->end == ST_END_UNTRACED && s->holds[j].pkey == s->end_pkey;

		for (size_t k = 0; k < j && !again; k++)
			again = s->holds[k].pkey == s->holds[j].pkey && s->holds[k].how == ST_END_UNTRACED;
		if (s->holds[j].how == ST_END_UNTRACED && !again)
			tally_add(h, s->holds[j].pkey);
	}
}

void st_held_tally_free(struct st_held_tally *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

unsigned st_absent_held(const struct st_model *m, const struct st_proc *p, const struct st_held_tally *retired)
{
	const struct st_held_count *c = retired ? tally_of(retired, p->key) : NULL;
	unsigned held = c ? c->n : 0;

	if (p->images || p->nevents || !p->end)
		return 0;
	/* each socket it held at its end, whether or not another process
	 * held it longer (the order of the ends is no fact about this
	 * process) */
	for (size_t k = 0; k < m->nsocks; k++) {
		const struct st_msock *s = m->socks[k];
		bool h = s->end == ST_END_UNTRACED && s->end_pkey == p->key;
		for (size_t j = 0; j < s->nended && !h; j++)
			h = s->holds[j].pkey == p->key && s->holds[j].how == ST_END_UNTRACED;
		held += h;
	}
	return held;
}

const char *st_absent_who(const struct show *sh, const struct st_proc *p, char *who, size_t n)
{
	char comm[256];
	const char *cm = show_comm(sh, p->key, comm, sizeof(comm));

	if (cm)
		snprintf(who, n, " (%s)", cm);
	else if (p->ppid > 0)
		snprintf(who, n, " (a child of pid %lld)", (long long)p->ppid);
	else
		who[0] = '\0';
	return who;
}

/* the first image the trace does not follow, in words, and how many */
struct unfollowed {
	const struct show *sh;
	size_t n;
	char first[2048];
};

static void count_untraced(const struct st_rec *r, void *arg)
{
	struct unfollowed *u = arg;
	char comm[256];

	if (!u->n++)
		st_untraced_words(r, show_comm(u->sh, r->pkey, comm, sizeof(comm)), u->first, sizeof(u->first));
}

/* st_whole_program's judgement, the untraced events among said[0..nsaid) */
static bool whole(const struct show *sh, const struct st_rec *const *said, size_t nsaid,
		  const struct st_held_tally *retired, char *why, size_t n, char *detail, size_t d)
{
	const struct st_trace *t = sh->trace;
	const struct st_model *m = sh->model;
	struct unfollowed u = { sh, 0, "" };
	size_t absent = 0;

	detail[0] = '\0';
	if (t->missing) {
		snprintf(why, n, "the trace lacks at least %llu event%s", (unsigned long long)t->missing,
			 t->missing == 1 ? "" : "s");
		return false;
	}
	st_untraced_each_of(said, nsaid, count_untraced, &u);
	if (u.n) {
		snprintf(why, n, "part of the program ran untraced: %zu image%s the trace does not follow", u.n,
			 u.n == 1 ? "" : "s");
		snprintf(detail, d, "the first: %s", u.first);
		return false;
	}
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_proc *p = m->procs[i];
		char who[320];

		if (!st_absent_held(m, p, retired) || absent++)
			continue;
		snprintf(detail, d, "the first: pid %lld%s has no events of its own in the traces (with %%p "
			 "in the output, each process writes a file of its own: give them all)",
			 (long long)p->pid, st_absent_who(sh, p, who, sizeof(who)));
	}
	if (absent) {
		snprintf(why, n, "the traces lack the events of %zu process%s that held sockets", absent,
			 absent == 1 ? "" : "es");
		return false;
	}
	return true;
}

bool st_whole_stream(const struct show *sh, const struct st_rec *const *said, size_t nsaid,
		     const struct st_held_tally *retired, char *why, size_t n, char *detail, size_t d)
{
	return whole(sh, said, nsaid, retired, why, n, detail, d);
}
