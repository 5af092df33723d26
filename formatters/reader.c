/* reader.c - trace files into events (see reader.h).
 *
 * Owns: reading a file (or stdin) in chunks, splitting it into lines with a
 * bound on line length, the messages about bad files and lines (a few per
 * file, the rest counted), and merging the events of several files by time.
 * Each line is parsed by st_rec_parse (reader_json.c).  Must never crash or
 * stay silent on any input, however foreign; never renders anything.
 */
#include "reader.h"
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- files into lines ------------------------------------------------- */

struct file_state {
	struct st_trace *t;
	const char *name;
	bool strict;
	unsigned problems;	/* in this file */
	unsigned shown;		/* messages written about it */
	unsigned events;
	bool newer_seen;	/* one message for a file of a newer schema */
	unsigned newer_more;
};

static void complain(struct file_state *fs, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "socktrace: FILE[:LINE]: msg" on stderr, the file name and the message
 * escaped: both may hold bytes of the input (a name a glob expanded, a
 * call name, a token jansson quotes back) that must not reach a terminal
 * raw. */
static void say(const char *name, long line, const char *msg)
{
	char out[2048];
	struct st_buf b;

	st_buf_init(&b, out, sizeof(out));
	ST_PUTL(&b, "socktrace: ");
	st_buf_esc(&b, name, 0);
	if (line > 0) {
		st_buf_putc(&b, ':');
		st_buf_i64(&b, line);
	}
	ST_PUTL(&b, ": ");
	st_buf_esc(&b, msg, 0);
	if (b.len >= sizeof(out) - 1)
		b.len = sizeof(out) - 2;	/* cut, but the line still ends */
	st_buf_putc(&b, '\n');
	fwrite(out, 1, b.len < sizeof(out) ? b.len : sizeof(out) - 1, stderr);
}

static void complain(struct file_state *fs, long line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	fs->problems++;
	fs->t->bad++;
	if (fs->shown >= ST_READ_MAX_MESSAGES)
		return;
	fs->shown++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(fs->name, line, msg);
}

static bool add_rec(struct st_trace *t, struct st_rec *r)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct st_rec **p = realloc(t->recs, cap * sizeof(*p));
		if (!p)
			return false;
		t->recs = p;
		t->cap = cap;
	}
	r->order = t->n;
	t->recs[t->n++] = r;
	return true;
}

/* one complete line; returns false to stop reading the file */
static bool take_line(struct file_state *fs, long lineno, const char *line, size_t len,
		      bool truncated)
{
	struct st_rec *r;
	char why[256];

	/* a line of blanks (or a CR of a DOS file) carries nothing */
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return true;
	r = calloc(1, sizeof(*r));
	if (!r) {
		complain(fs, lineno, "out of memory");
		fs->t->fatal = true;
		return false;
	}
	r->file = fs->name;
	r->line = lineno;
	if (!st_rec_parse(r, line, len, why, sizeof(why))) {
		st_rec_free(r);
		if (!strncmp(why, "schema version", 14) && strstr(why, "newer")) {
			if (fs->newer_seen) {
				/* counted, said once per file */
				fs->problems++;
				fs->t->bad++;
				fs->newer_more++;
				return !fs->strict;
			}
			fs->newer_seen = true;
		}
		if (truncated)
			complain(fs, lineno, "truncated last line (no newline at the end: the traced "
				 "program was probably killed while writing it): %s", why);
		else
			complain(fs, lineno, "%s", why);
		if (fs->strict) {
			fs->t->fatal = true;
			return false;
		}
		return true;
	}
	if (!add_rec(fs->t, r)) {
		st_rec_free(r);
		complain(fs, lineno, "out of memory");
		fs->t->fatal = true;
		return false;
	}
	fs->events++;
	return true;
}

unsigned st_trace_read(struct st_trace *t, const char *path, bool strict)
{
	struct file_state fs = { t, path, strict, 0, 0, 0, false, 0 };
	FILE *f;
	char *line = NULL, *chunk = NULL;
	size_t len = 0, cap = 0, total = 0;
	size_t too_long = 0;	/* bytes of the current over-long line */
	long lineno = 1;
	bool ok = true;

	if (!path || !strcmp(path, "-")) {
		fs.name = "<stdin>";
		f = stdin;
	} else {
		f = fopen(path, "r");
		if (!f) {
			complain(&fs, 0, "%s", strerror(errno));
			if (strict)
				t->fatal = true;
			return fs.problems;
		}
	}
	chunk = malloc(65536);
	if (!chunk) {
		complain(&fs, 0, "out of memory");
		t->fatal = true;
		goto out;
	}
	while (ok) {
		size_t got = fread(chunk, 1, 65536, f), pos = 0;

		if (!got)
			break;
		total += got;
		while (ok && pos < got) {
			char *nl = memchr(chunk + pos, '\n', got - pos);
			size_t n = (nl ? (size_t)(nl - chunk) : got) - pos;

			if (too_long || len + n > ST_READ_LINE_MAX) {
				too_long += len + n;
				len = 0;
			} else {
				if (len + n > cap) {
					size_t ncap = cap ? cap : 4096;
					char *p;

					while (ncap < len + n)
						ncap *= 2;
					p = realloc(line, ncap);
					if (!p) {
						complain(&fs, lineno, "out of memory");
						t->fatal = true;
						ok = false;
						break;
					}
					line = p;
					cap = ncap;
				}
				if (n)	/* line is still NULL before the first byte */
					memcpy(line + len, chunk + pos, n);
				len += n;
			}
			pos += n;
			if (!nl)
				break;
			pos++;	/* the '\n' */
			if (too_long) {
				complain(&fs, lineno, "line of %zu bytes, longer than the %d bytes a "
					 "trace line may have: skipped", too_long, ST_READ_LINE_MAX);
				too_long = 0;
				if (strict) {
					t->fatal = true;
					ok = false;
				}
			} else {
				ok = take_line(&fs, lineno, line, len, false);
			}
			len = 0;
			lineno++;
		}
	}
	if (ok && ferror(f)) {
		complain(&fs, lineno, "read error: %s", strerror(errno));
		if (strict)
			t->fatal = true;
	} else if (ok && too_long) {
		complain(&fs, lineno, "truncated last line of %zu bytes, longer than the %d bytes "
			 "a trace line may have: skipped", too_long, ST_READ_LINE_MAX);
		if (strict)
			t->fatal = true;
	} else if (ok && len) {
		ok = take_line(&fs, lineno, line, len, true);
	}
	if (ok && !total) {
		complain(&fs, 0, "empty file: no events");
		if (strict)
			t->fatal = true;
	} else if (ok && !fs.events && !fs.problems) {
		complain(&fs, 0, "no events (only blank lines)");
		if (strict)
			t->fatal = true;
	}
	if (fs.newer_more) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%u more lines of a newer schema skipped", fs.newer_more);
		say(fs.name, 0, msg);
	}
	if (fs.problems > fs.shown + fs.newer_more) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%u more bad lines not shown", fs.problems - fs.shown - fs.newer_more);
		say(fs.name, 0, msg);
	}
out:
	free(chunk);
	free(line);
	if (f != stdin)
		fclose(f);
	return fs.problems;
}

/* ---- merging ---------------------------------------------------------- */

static int by_time(const void *a, const void *b)
{
	const struct st_rec *x = *(const struct st_rec *const *)a;
	const struct st_rec *y = *(const struct st_rec *const *)b;

	if (x->ev.ts_us != y->ev.ts_us)
		return x->ev.ts_us < y->ev.ts_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void st_trace_sort(struct st_trace *t)
{
	if (t->n > 1)
		qsort(t->recs, t->n, sizeof(*t->recs), by_time);
}

void st_trace_free(struct st_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		st_rec_free(t->recs[i]);
	free(t->recs);
	memset(t, 0, sizeof(*t));
}
