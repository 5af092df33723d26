/* load.c - read, sort, symbolize, model (see load.h).
 *
 * Owns: the one path from trace files to a model that `show` and `check`
 * share.  Never prints beyond the reader's messages, never exits.
 */
#include "load.h"

#include <string.h>

enum st_load_status st_load(struct st_loaded *l, char *const *paths, int n, bool strict)
{
	memset(l, 0, sizeof(*l));
	if (!n)
		st_trace_read(&l->trace, NULL, strict);
	for (int i = 0; i < n && !l->trace.fatal; i++)
		st_trace_read(&l->trace, paths[i], strict);
	if (l->trace.fatal)
		return ST_LOAD_STOPPED;
	st_trace_sort(&l->trace);
	l->sym = st_symbolizer_new();
	if (l->sym)
		st_symbolize_trace(l->sym, &l->trace);
	if (st_model_build(&l->model, l->trace.recs, l->trace.n) < 0)
		return ST_LOAD_NOMEM;
	return l->trace.bad ? ST_LOAD_BAD : ST_LOAD_OK;
}

void st_load_free(struct st_loaded *l)
{
	st_symbolizer_free(l->sym);
	st_model_free(&l->model);
	st_trace_free(&l->trace);
	memset(l, 0, sizeof(*l));
}
