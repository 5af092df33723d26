/* SPDX-License-Identifier: MIT */
/* reader.c - trace files into events (see reader.h).
 *
 * Owns: reading a file (or stdin) in chunks, splitting it into lines with a
 * bound on line length, the messages about bad files and lines (a few per
 * file, the rest counted), and merging the events of several files by time.
 * Each line is parsed by st_rec_parse (reader_json.c).  Must never crash or
 * stay silent on any input, however foreign; never renders anything.
 */
#define _GNU_SOURCE
#include "reader.h"
#include "origins.h"
#include "buf.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

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
	struct st_pidmap pids;	/* the origin of each process of this file */
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
	char what[1024], where[64] = "";
	va_list ap;

	fs->problems++;
	fs->t->bad++;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), ":%ld", line);
	/* kept for a report (cut to its size) */
	if (!fs->t->first_problem[0] &&
	    snprintf(fs->t->first_problem, sizeof(fs->t->first_problem), "%s%s: %s", fs->name, where, what) < 0)
		fs->t->first_problem[0] = '\0';
	if (fs->shown >= ST_READ_MAX_MESSAGES)
		return;
	fs->shown++;
	say(fs->name, line, what);
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

/* a bad line: said, and counted; returns false when that stops the reading */
static bool bad_line(struct file_state *fs)
{
	if (fs->strict) {
		fs->t->fatal = true;
		return false;
	}
	return true;
}

/* Where an event starts: the shim writes "{\"v\":" first in every event
 * and nowhere else (a '"' inside a string is written \", and no nested
 * object has a key "v"), so it cannot be met by accident. */
static const char event_start[] = "{\"v\":";
#define EVENT_START_LEN (sizeof(event_start) - 1)

/* One event of a line; false on a bad one, with the reason in why. */
static bool take_event(struct file_state *fs, long lineno, const char *p, size_t n, char *why,
		       size_t whysz, bool *stop)
{
	struct st_rec *r = calloc(1, sizeof(*r));

	*stop = false;
	if (!r) {
		complain(fs, lineno, "out of memory");
		fs->t->fatal = true;
		*stop = true;
		return false;
	}
	r->file = fs->name;
	r->line = lineno;
	if (!st_rec_parse(r, p, n, why, whysz)) {
		st_rec_free(r);
		return false;
	}
	if (!st_origin_assign(fs->t, &fs->pids, r) || !add_rec(fs->t, r)) {
		st_rec_free(r);
		complain(fs, lineno, "out of memory");
		fs->t->fatal = true;
		*stop = true;
		return false;
	}
	fs->events++;
	return true;
}

/* one complete line; returns false to stop reading the file.  A line that
 * is an event cut short (its writer killed inside write(2), or its disk
 * full) with the next event glued on costs the fragment only: the events
 * after it in the line are read, and the fragment is said with its size.
 * A line that starts as an event, does not parse and does not end as one
 * ('}') is such a fragment alone; one that ends as one is a bad event, and
 * gets what the JSON parser says of it. */
static bool take_line(struct file_state *fs, long lineno, const char *line, size_t len,
		      bool truncated)
{
	char why[256];
	bool stop;

	/* a line of blanks (or a CR of a DOS file) carries nothing */
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return true;
	for (;;) {
		const char *next;
		size_t cut;

		if (take_event(fs, lineno, line, len, why, sizeof(why), &stop))
			return true;
		if (stop)
			return false;
		next = !strncmp(why, "not JSON", 8) && len > EVENT_START_LEN ?
			memmem(line + 1, len - 1, event_start, EVENT_START_LEN) : NULL;
		if (!next)
			break;
		cut = (size_t)(next - line);
		complain(fs, lineno, "an event cut short (%zu bytes: its writer was killed, or its disk "
			 "full) with the next event glued on: the fragment is skipped", cut);
		if (!bad_line(fs))
			return false;
		line = next;
		len -= cut;
	}
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
	else if (!strncmp(why, "not JSON", 8) && len >= EVENT_START_LEN &&
		 !memcmp(line, event_start, EVENT_START_LEN) && line[len - 1] != '}')
		complain(fs, lineno, "an event cut short (%zu bytes: its writer was killed, or its disk "
			 "full): skipped", len);
	else
		complain(fs, lineno, "%s", why);
	return bad_line(fs);
}

/* ---- sources: a file or stdin, plain or gzip --------------------------- */

/* Where the bytes come from: a descriptor, read through zlib when it was
 * built with it (which passes plain text through as it is, so a trace
 * compressed with gzip, or several gzip members one after another, read
 * as the plain trace would). */
struct source {
	int fd;
#ifdef HAVE_ZLIB
	gzFile gz;
#endif
};

static bool source_open(struct source *src, int fd)
{
	src->fd = fd;
#ifdef HAVE_ZLIB
	src->gz = gzdopen(fd, "rb");
	if (!src->gz)
		return false;
	gzbuffer(src->gz, 65536);
#endif
	return true;
}

/* bytes read, 0 at the end, -1 on an error (said by source_error) */
static ssize_t source_read(struct source *src, char *buf, size_t n)
{
#ifdef HAVE_ZLIB
	return gzread(src->gz, buf, (unsigned)n);
#else
	ssize_t r;

	do
		r = read(src->fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
#endif
}

/* What went wrong reading, NULL when nothing did: a read error, or a gzip
 * stream that is cut short or damaged. */
static const char *source_error(struct source *src, int read_errno)
{
#ifdef HAVE_ZLIB
	int err = Z_OK;
	const char *msg = gzerror(src->gz, &err);

	if (err == Z_ERRNO)
		return strerror(read_errno);
	if (err == Z_BUF_ERROR)
		return "the gzip stream is cut short";
	if (err != Z_OK && err != Z_STREAM_END)
		return msg;
	return NULL;
#else
	(void)src;
	return read_errno ? strerror(read_errno) : NULL;
#endif
}

static void source_close(struct source *src)
{
#ifdef HAVE_ZLIB
	if (src->gz)
		gzclose_r(src->gz);	/* closes fd too */
	else
#endif
	if (src->fd >= 0)
		close(src->fd);
}

/* The compressed formats a trace may come in, by their first bytes.  gzip
 * is read as it is when zlib is there. */
static const struct {
	const char *magic;
	size_t n;
	const char *name, *cat;
} compressed[] = {
#ifndef HAVE_ZLIB
	{ "\x1f\x8b", 2, "gzip", "zcat" },
#endif
	{ "\x28\xb5\x2f\xfd", 4, "zstd", "zstdcat" },
	{ "\xfd" "7zXZ", 6, "xz", "xzcat" },	/* the sixth byte is the NUL of the literal */
	{ "BZh", 3, "bzip2", "bzcat" },
	{ "\x04\x22\x4d\x18", 4, "lz4", "lz4cat" },
	{ "PK\x03\x04", 4, "zip", "unzip -p" },
};

/* "looks like zstd: ..." for a chunk that starts like a compressed file */
static const char *compression_of(const char *p, size_t n, const char **cat)
{
	for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
		if (n >= compressed[i].n && !memcmp(p, compressed[i].magic, compressed[i].n)) {
			*cat = compressed[i].cat;
			return compressed[i].name;
		}
	/* zstd's skippable frames: 0x184D2A5? little-endian */
	if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18) {
		*cat = "zstdcat";
		return "zstd";
	}
	return NULL;
}

unsigned st_trace_read(struct st_trace *t, const char *path, bool strict)
{
	struct file_state fs = { t, path, strict, 0, 0, 0, false, 0, { NULL, NULL, 0, 0, 0 } };
	struct source src;
	struct stat st;
	char *line = NULL, *chunk = NULL;
	size_t len = 0, cap = 0, total = 0;
	size_t too_long = 0;	/* bytes of the current over-long line */
	long lineno = 1;
	bool ok = true;
	int fd, read_errno = 0;
	const char *err;

	memset(&src, 0, sizeof(src));
	src.fd = -1;
	if (!path || !strcmp(path, "-")) {
		fs.name = "<stdin>";
		fd = dup(0);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0) {
		complain(&fs, 0, "%s", strerror(errno));
		if (strict)
			t->fatal = true;
		return fs.problems;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		complain(&fs, 0, "a directory, not a trace");
		if (strict)
			t->fatal = true;
		close(fd);
		return fs.problems;
	}
	chunk = malloc(65536);
	if (!chunk || !source_open(&src, fd)) {
		complain(&fs, 0, "out of memory");
		t->fatal = true;
		if (src.fd < 0)
			close(fd);
		goto out;
	}
	while (ok) {
		ssize_t r = source_read(&src, chunk, 65536);
		size_t got, pos = 0;

		if (r <= 0) {
			read_errno = r < 0 ? errno : 0;
			break;
		}
		got = (size_t)r;
		if (!total) {
			const char *cat = NULL, *kind = compression_of(chunk, got, &cat);
			if (kind) {
				complain(&fs, 0, "compressed with %s, not a trace as it is: decompress it first "
					 "(%s FILE | socktrace show)", kind, cat);
				if (strict)
					t->fatal = true;
				goto out;
			}
		}
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
	err = ok ? source_error(&src, read_errno) : NULL;
	if (err) {
		/* what was read before is kept; a line cut by the error is not */
		if (len)
			complain(&fs, lineno, "read error: %s (a line of %zu bytes before it is skipped)", err, len);
		else
			complain(&fs, lineno, "read error: %s", err);
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
	if (ok && !err && !total) {
		complain(&fs, 0, "empty file: no events");
		if (strict)
			t->fatal = true;
	} else if (ok && !err && !fs.events && !fs.problems) {
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
	st_pidmap_free(&fs.pids);
	free(chunk);
	free(line);
	source_close(&src);
	return fs.problems;
}

/* ---- merging ---------------------------------------------------------- */

/* When an event took effect: its start, but for a receive that brought
 * descriptors (SCM_RIGHTS), its return.  It may have waited since before
 * the sender made what it received. */
static int64_t effect_us(const struct st_rec *r)
{
	if (r->ev.nrights > 0 && (r->ev.call == ST_CALL_recvmsg || r->ev.call == ST_CALL_recvmmsg) &&
	    r->ev.dur_ns > 0)
		return r->ev.ts_us + r->ev.dur_ns / 1000;
	return r->ev.ts_us;
}

static int by_time(const void *a, const void *b)
{
	const struct st_rec *x = *(const struct st_rec *const *)a;
	const struct st_rec *y = *(const struct st_rec *const *)b;
	int64_t tx = effect_us(x), ty = effect_us(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
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
	for (size_t i = 0; i < t->norigins; i++) {
		free(t->origins[i].host);
		free(t->origins[i].boot);
	}
	free(t->origins);
	memset(t, 0, sizeof(*t));
}
