/* SPDX-License-Identifier: MIT */
/* load.c - the wait for a finishing runner, and the words for repeated
 * and missing events (see load.h).  Never exits.
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

