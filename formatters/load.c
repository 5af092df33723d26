/* SPDX-License-Identifier: MIT */
/* load.c - read, sort, symbolize, model (see load.h).
 *
 * Owns: the one path from trace files to a model that `show` and `check`
 * share, and the short wait for a runner that is writing a file's last
 * record.  Never prints beyond the reader's messages and that wait's
 * warning, never exits.
 */
#include "load.h"
#include "tracelock.h"
#include "buf.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a reader waits for a runner that is writing how its program
 * ended (it needs milliseconds; socktrace(1), THE RUNNER). */
#define FINISHING_WAIT_MS 3000

/* A trace file whose runner is finishing gets its last record first (see
 * tracelock.h); path NULL or "-": standard input, when it is a file. */
void st_load_wait_runner(const char *path)
{
	bool own = path && strcmp(path, "-") != 0;
	int fd = own ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) : 0;
	struct stat st;
	pid_t late;

	if (fd < 0)
		return;	/* the reader says why */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (late = st_tracelock_wait(fd, FINISHING_WAIT_MS)) > 0)
		fprintf(stderr, "socktrace: %s: the runner of pid %d has not written how it ended after %d ms; "
				"read without it\n", own ? path : "<stdin>", (int)late, FINISHING_WAIT_MS);
	if (own)
		close(fd);
}

/* "socktrace: N events repeat ...; the first at FILE:LINE", the file name
 * escaped (a name on the command line may hold any byte). */
void st_load_say_dups(const struct st_trace *t)
{
	char out[1024];
	struct st_buf b;

	st_buf_init(&b, out, sizeof(out));
	ST_PUTL(&b, "socktrace: ");
	st_buf_i64(&b, (int64_t)t->dups);
	ST_PUTL(&b, " events repeat one already read (the same process, image and seq): dropped; the first at ");
	st_buf_esc(&b, t->first_dup, 0);
	st_buf_finish(&b);
	fprintf(stderr, "%s\n", out);
}

void st_load_say_missing(const struct st_trace *t)
{
	const struct st_missing *m = t->nmissing_list ? &t->missing_list[0] : NULL;
	char out[1024];
	struct st_buf b;

	if (!t->missing)
		return;
	st_buf_init(&b, out, sizeof(out));
	ST_PUTL(&b, "socktrace: the trace lacks at least ");
	st_buf_i64(&b, (int64_t)t->missing);
	st_buf_puts(&b, t->missing == 1 ? " event" : " events");
	if (t->missing_images > 1) {
		ST_PUTL(&b, " of ");
		st_buf_i64(&b, (int64_t)t->missing_images);
		ST_PUTL(&b, " process images");
	}
	ST_PUTL(&b, " (numbers missing from seq, counted as dropped by the shim, or an exit event of a process "
		    "that ended normally): what they did is unknown, and the sockets they touched may be shown "
		    "wrong");
	if (m && m->no_exit && m->events == 1) {
		ST_PUTL(&b, "; the first, pid ");
		st_buf_i64(&b, m->pid);
		ST_PUTL(&b, ", lacks its exit event");
	} else if (m) {
		ST_PUTL(&b, "; the first, pid ");
		st_buf_i64(&b, m->pid);
		ST_PUTL(&b, ", lacks ");
		st_buf_i64(&b, m->events);
		ST_PUTL(&b, " between seq ");
		st_buf_i64(&b, m->first);
		ST_PUTL(&b, " and ");
		st_buf_i64(&b, m->last);
	}
	st_buf_finish(&b);
	fprintf(stderr, "%s\n", out);
}

enum st_load_status st_load(struct st_loaded *l, char *const *paths, int n, bool strict)
{
	memset(l, 0, sizeof(*l));
	if (!n) {
		st_load_wait_runner(NULL);
		st_trace_read(&l->trace, NULL, strict);
	}
	for (int i = 0; i < n && !l->trace.fatal; i++) {
		st_load_wait_runner(paths[i]);
		st_trace_read(&l->trace, paths[i], strict);
	}
	if (l->trace.fatal)
		return ST_LOAD_STOPPED;
	st_trace_sort(&l->trace);
	if (st_trace_dedup(&l->trace) > 0)
		st_load_say_dups(&l->trace);
	st_load_say_missing(&l->trace);
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
