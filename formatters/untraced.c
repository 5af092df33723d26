/* SPDX-License-Identifier: MIT */
/* untraced.c - the images a trace does not follow (see untraced.h). */
#include "untraced.h"

#include "calls.h"
#include "show.h"

#include <inttypes.h>
#include <stdio.h>

/* A failed exec of recs[i]'s process after it: the image never ran. */
static bool exec_failed_after(const struct st_rec *const *recs, size_t n, size_t i)
{
	const struct st_rec *r = recs[i];

	if (r->ev.child > 0)
		return false;	/* a spawned child's: spawned already */
	for (size_t j = i + 1; j < n; j++) {
		const struct st_rec *o = recs[j];
		if (o->pkey != r->pkey || !st_call_is(o->ev.call, ST_K_EXEC))
			continue;
		if (o->ev.seq > r->ev.seq && o->ev.ret < 0)
			return true;
	}
	return false;
}

size_t st_untraced_each_of(const struct st_rec *const *recs, size_t n,
			   void (*fn)(const struct st_rec *r, void *arg), void *arg)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (recs[i]->ev.call != ST_CALL_untraced || exec_failed_after(recs, n, i))
			continue;
		fn(recs[i], arg);
		k++;
	}
	return k;
}

bool st_untraced_matters(const struct st_rec *r)
{
	return r->ev.call == ST_CALL_untraced || (st_call_is(r->ev.call, ST_K_EXEC) && r->ev.ret < 0);
}

void st_untraced_words(const struct st_rec *r, const char *comm, char *buf, size_t n)
{
	char who[64] = "";

	if (r->ev.child > 0)
		snprintf(who, sizeof(who), " spawned pid %" PRId64 ", which", r->ev.child);
	snprintf(buf, n,
		 "pid %" PRId64 "%s%s%s%s exec'd %s, an image the shim cannot enter (%s): its socket calls are not "
		 "in this trace; socktrace --backend=ptrace traces it",
		 r->ev.pid, comm ? " (" : "", comm ? comm : "", comm ? ")" : "", who,
		 r->ev.exe ? show_esc(r->ev.exe) : "a program",
		 r->ev.untraced_reason ? show_esc(r->ev.untraced_reason) : "?");
}
