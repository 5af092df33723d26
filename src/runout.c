/* SPDX-License-Identifier: MIT */
/* runout.c - where the runner records how the program ended, and the
 * record itself.
 *
 * Owns: opening the destination as the shim writes its events (the trace
 * file, appended to, by the shim's rules: codec/outfile.h; the program's
 * own file when the path holds %p; or a copy of stderr), the format the shim would
 * use there, and the one `end` event written with the codec, so a runner's
 * end reads as a traced parent's does.
 * Never writes but that one record, in one write(2); never prints.
 */
#define _GNU_SOURCE
#include "runner.h"

#include "event.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* path with each %p replaced by pid, as the shim expands it */
static int expand(char *out, size_t cap, const char *path, pid_t pid)
{
	size_t n = 0;

	for (const char *t = path; *t; t++) {
		int k;
		if (t[0] == '%' && t[1] == 'p') {
			k = snprintf(out + n, cap - n, "%d", (int)pid);
			t++;
		} else {
			k = snprintf(out + n, cap - n, "%c", *t);
		}
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
		n += (size_t)k;
	}
	if (!n)
		return -1;
	out[n] = '\0';
	return 0;
}

int st_runout_open(struct st_runout *o, const char *output, const char *format, pid_t prog)
{
	struct stat st;

	o->fd = -1;
	o->file = false;
	o->json = format ? strcmp(format, "jsonl") == 0 : output != NULL;
	if (!output) {
		o->fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	} else {
		char path[PATH_MAX];
		if (expand(path, sizeof(path), output, prog) < 0)
			return -1;
		/* by the shim's rules (codec/outfile.h); a FIFO without a
		 * reader is not waited for */
		struct st_outfile how = { ST_OUT_MODE_DEFAULT, 0, NULL };
		const char *mode = getenv("SOCKTRACE_MODE"), *why;

		if (mode)
			st_outfile_mode(mode, &how.mode);
		o->fd = st_outfile_open(path, &how, &why);
		if (o->fd >= 0)
			fcntl(o->fd, F_SETFL, O_APPEND);
	}
	if (o->fd < 0)
		return -1;
	o->file = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!o->json) {
		time_t now = time(NULL);
		struct tm tm;
		if (localtime_r(&now, &tm))
			st_render_set_tz(tm.tm_gmtoff);
	}
	return 0;
}

void st_runout_end(const struct st_runout *o, pid_t pid, int wstatus)
{
	struct st_event ev;
	struct timespec now;
	char line[512];
	size_t n;

	if (o->fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!st_event_end(&ev, pid, wstatus, "runner", (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000))
		return;
	n = o->json ? st_encode_json(&ev, line, sizeof(line)) : st_render_text(&ev, line, sizeof(line), 0);
	if (n >= sizeof(line))
		return;
	/* one write: O_APPEND keeps it whole among the shim's lines */
	while (write(o->fd, line, n) < 0 && errno == EINTR)
		;
}

void st_runout_close(struct st_runout *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}
