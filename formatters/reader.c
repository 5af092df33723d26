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
#include "tracelock.h"
#include "buf.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

/* ---- files into lines ------------------------------------------------- */

/* Where the bytes come from: a descriptor, plain, or gzip (one member or
 * several one after another) inflated here when zlib is there.  Read with
 * read(2) as bytes arrive, never waiting for a buffer to fill, so that a
 * pipe's lines are taken as they come. */
struct source {
	int fd;
	bool poll_first;	/* a pipe, a terminal, a socket: poll before a read */
	bool decided;		/* the first bytes were seen: gzip or not */
#ifdef HAVE_ZLIB
	bool gz;
	bool zinit, zmember;	/* z is set up; inside a member (not at its end) */
	bool zcut, ztail;	/* the bytes ended inside a member; after the last one */
	z_stream z;
	unsigned char *zin;
	const char *zerr;	/* what inflate said was wrong, NULL */
#endif
	int read_errno;
};

/* One trace being read: the file, its line being gathered, the events of
 * the last line not yet taken, and what was said about it. */
struct st_input {
	struct st_trace *t;
	const char *name;
	bool strict;
	bool follow;		/* at the end of the bytes, wait for more */
	unsigned problems;	/* in this file */
	unsigned shown;		/* messages written about it */
	unsigned events;
	bool newer_seen;	/* one message for a file of a newer schema */
	unsigned newer_more;
	struct st_pidmap pids;	/* the origin of each process of this file */

	struct source src;
	bool opened, done, ended;	/* open; no more reading; ends said */
	bool ok;		/* false: stop (strict, out of memory) */
	bool run_over;		/* the runner's end record was read (follow) */
	bool last_try;		/* following: the runner is done, one more read */
	char *chunk;
	size_t pos, got;	/* chunk[pos..got) not split yet */
	char *line;
	size_t len, cap, total;
	size_t too_long;	/* bytes of the current over-long line */
	long lineno;
	struct st_rec **q;	/* events of the last line, not handed out yet: */
	size_t nq, iq, capq;	/* q[iq..nq) */
};
#define file_state st_input

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
	t->recs[t->n++] = r;
	return true;
}

/* an event of the line being taken, kept until st_input_next hands it out */
static bool queue_rec(struct st_input *in, struct st_rec *r)
{
	if (in->nq == in->capq) {
		size_t cap = in->capq ? 2 * in->capq : 8;
		struct st_rec **p = realloc(in->q, cap * sizeof(*p));
		if (!p)
			return false;
		in->q = p;
		in->capq = cap;
	}
	in->q[in->nq++] = r;
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
	struct st_rec *r = st_rec_new();

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
	r->order = fs->t->next_order++;
	if (!st_origin_assign(fs->t, &fs->pids, r) || !queue_rec(fs, r)) {
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
 * is an event cut short (its writer killed inside write(2), or a full
 * disk or the file size limit) with the next event glued on costs the
 * fragment only: the events after it in the line are read, and the
 * fragment is said with its size.
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
		complain(fs, lineno, "an event cut short (%zu bytes: its writer was killed, or a full disk "
			 "or the file size limit cut it) with the next event glued on: the fragment is skipped", cut);
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
		complain(fs, lineno, "truncated last line (no newline at the end: its writer was killed "
			 "while writing it, or a full disk or the file size limit cut it short): %s", why);
	else if (!strncmp(why, "not JSON", 8) &&
		 !memcmp(line, event_start, len < EVENT_START_LEN ? len : EVENT_START_LEN) &&
		 line[len - 1] != '}')	/* "{" alone is the start of one too */
		complain(fs, lineno, "an event cut short (%zu bytes: its writer was killed, or a full disk "
			 "or the file size limit cut it): skipped", len);
	else
		complain(fs, lineno, "%s", why);
	return bad_line(fs);
}

/* ---- sources: a file or stdin, plain or gzip --------------------------- */

static void source_init(struct source *src, int fd)
{
	struct stat st;

	memset(src, 0, sizeof(*src));
	src->fd = fd;
	/* a pipe, a socket, a terminal: a read may wait; a file's never does */
	src->poll_first = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

/* Raw bytes: how many, 0 at the end (for now, when following), -1 on an
 * error (src->read_errno), -2 when none are there yet (a pipe). */
static ssize_t raw_read(struct source *src, void *buf, size_t n)
{
	ssize_t r;

	if (src->poll_first) {
		struct pollfd p = { src->fd, POLLIN, 0 };
		int k;

		do
			k = poll(&p, 1, 0);
		while (k < 0 && errno == EINTR);
		if (k == 0)
			return -2;
	}
	do
		r = read(src->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -2;
	if (r < 0)
		src->read_errno = errno;
	return r;
}

#ifdef HAVE_ZLIB
/* Inflated bytes of a gzip source (members one after another read as one
 * stream; bytes after the last member that start no other are ignored, as
 * gzread does): as raw_read. */
static ssize_t gz_read(struct source *src, char *buf, size_t n)
{
	z_stream *z = &src->z;

	z->next_out = (unsigned char *)buf;
	z->avail_out = (unsigned)n;
	while (z->avail_out == n) {
		int rc;

		if (src->ztail)
			return 0;
		if (!z->avail_in) {
			ssize_t r = raw_read(src, src->zin, 65536);

			if (r < 0)
				return r;
			if (!r) {
				src->zcut = src->zmember;	/* ends inside a member */
				return 0;
			}
			src->zcut = false;
			z->next_in = src->zin;
			z->avail_in = (unsigned)r;
		}
		if (!src->zmember) {
			if (z->next_in[0] != 0x1f) {
				src->ztail = true;
				return 0;
			}
			if (inflateReset(z) != Z_OK) {
				src->zerr = "the gzip stream is damaged";
				return -1;
			}
			src->zmember = true;
		}
		rc = inflate(z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			src->zmember = false;
		else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			src->zerr = z->msg ? z->msg : "the gzip stream is damaged";
			return -1;
		}
	}
	return (ssize_t)(n - z->avail_out);
}
#endif

/* Bytes of the trace: as raw_read.  The first bytes tell gzip (when zlib
 * is there) from the rest, which is read as it is. */
static ssize_t source_read(struct source *src, char *buf, size_t n)
{
#ifdef HAVE_ZLIB
	if (!src->decided) {
		ssize_t r = raw_read(src, buf, n);

		if (r <= 0)
			return r;
		src->decided = true;
		if (r < 2 || (unsigned char)buf[0] != 0x1f || (unsigned char)buf[1] != 0x8b)
			return r;
		src->gz = true;
		src->zin = malloc(65536);
		if (!src->zin || inflateInit2(&src->z, 15 + 16) != Z_OK) {
			src->zerr = "out of memory";
			return -1;
		}
		src->zinit = true;
		src->zmember = true;
		memcpy(src->zin, buf, (size_t)r);
		src->z.next_in = src->zin;
		src->z.avail_in = (unsigned)r;
	}
	if (src->gz)
		return gz_read(src, buf, n);
#endif
	return raw_read(src, buf, n);
}

/* What went wrong reading, NULL when nothing did: a read error, or a gzip
 * stream that is cut short or damaged. */
static const char *source_error(const struct source *src)
{
#ifdef HAVE_ZLIB
	if (src->zerr)
		return src->zerr;
	if (src->zcut)
		return "the gzip stream is cut short";
#endif
	return src->read_errno ? strerror(src->read_errno) : NULL;
}

static void source_close(struct source *src)
{
#ifdef HAVE_ZLIB
	if (src->zinit)
		inflateEnd(&src->z);
	free(src->zin);
	src->zin = NULL;
	src->zinit = false;
#endif
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
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

/* ---- one input, an event at a time -------------------------------------- */

struct st_input *st_input_open(struct st_trace *t, const char *path, bool strict, bool follow)
{
	struct st_input *in = calloc(1, sizeof(*in));
	struct stat st;
	int fd;

	if (!in) {
		t->bad++;
		t->fatal = true;
		say(path ? path : "<stdin>", 0, "out of memory");
		return NULL;
	}
	in->t = t;
	in->name = path;
	in->strict = strict;
	in->follow = follow;
	in->lineno = 1;
	in->ok = true;
	in->src.fd = -1;
	if (!path || !strcmp(path, "-")) {
		in->name = "<stdin>";
		fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0) {
		complain(in, 0, "%s", strerror(errno));
		goto refused;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		complain(in, 0, "a directory, not a trace");
		close(fd);
		goto refused;
	}
	source_init(&in->src, fd);
	in->chunk = malloc(65536);
	if (!in->chunk) {
		complain(in, 0, "out of memory");
		t->fatal = true;
		in->ok = false;
		in->done = in->ended = true;
	}
	in->opened = true;
	return in;
refused:
	if (strict)
		t->fatal = true;
	in->done = in->ended = true;
	return in;
}

/* Splits chunk[pos..got) into lines and takes them, until a line gave
 * events, the chunk is used up, or the reading must stop. */
static void take_lines(struct st_input *in)
{
	while (in->ok && in->pos < in->got && in->iq == in->nq) {
		char *nl = memchr(in->chunk + in->pos, '\n', in->got - in->pos);
		size_t n = (nl ? (size_t)(nl - in->chunk) : in->got) - in->pos;

		if (in->too_long || in->len + n > ST_READ_LINE_MAX) {
			in->too_long += in->len + n;
			in->len = 0;
		} else {
			if (in->len + n > in->cap) {
				size_t ncap = in->cap ? in->cap : 4096;
				char *p;

				while (ncap < in->len + n)
					ncap *= 2;
				p = realloc(in->line, ncap);
				if (!p) {
					complain(in, in->lineno, "out of memory");
					in->t->fatal = true;
					in->ok = false;
					break;
				}
				in->line = p;
				in->cap = ncap;
			}
			if (n)	/* line is still NULL before the first byte */
				memcpy(in->line + in->len, in->chunk + in->pos, n);
			in->len += n;
		}
		in->pos += n;
		if (!nl)
			break;
		in->pos++;	/* the '\n' */
		if (in->too_long) {
			complain(in, in->lineno, "line of %zu bytes, longer than the %d bytes a "
				 "trace line may have: skipped", in->too_long, ST_READ_LINE_MAX);
			in->too_long = 0;
			if (in->strict) {
				in->t->fatal = true;
				in->ok = false;
			}
		} else {
			in->ok = take_line(in, in->lineno, in->line, in->len, false);
		}
		in->len = 0;
		in->lineno++;
	}
	if (!in->ok)
		in->done = true;
}

/* The end of an input's bytes: its last line without a newline, what went
 * wrong, and the counts of what was not said line by line. */
static void finish(struct st_input *in)
{
	const char *err = in->ok ? source_error(&in->src) : NULL;
	bool ok = in->ok;

	if (err) {
		/* what was read before is kept; a line cut by the error is not */
		if (in->len)
			complain(in, in->lineno, "read error: %s (a line of %zu bytes before it is skipped)", err,
				 in->len);
		else
			complain(in, in->lineno, "read error: %s", err);
		if (in->strict)
			in->t->fatal = true;
	} else if (ok && in->too_long) {
		complain(in, in->lineno, "truncated last line of %zu bytes, longer than the %d bytes "
			 "a trace line may have: skipped", in->too_long, ST_READ_LINE_MAX);
		if (in->strict)
			in->t->fatal = true;
	} else if (ok && in->len) {
		ok = take_line(in, in->lineno, in->line, in->len, true);
	}
	if (ok && !err && !in->total) {
		complain(in, 0, "empty file: no events");
		if (in->strict)
			in->t->fatal = true;
	} else if (ok && !err && !in->events && !in->problems) {
		complain(in, 0, "no events (only blank lines)");
		if (in->strict)
			in->t->fatal = true;
	}
	if (in->newer_more) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%u more lines of a newer schema skipped", in->newer_more);
		say(in->name, 0, msg);
	}
	if (in->problems > in->shown + in->newer_more) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%u more bad lines not shown", in->problems - in->shown - in->newer_more);
		say(in->name, 0, msg);
	}
}

/* Following a file at the end of its bytes: is it over?  Once the runner
 * has written how its program ended, the runner's lock (tracelock.h) is
 * waited for, briefly, and the bytes read once more before the end. */
static bool follow_over(struct st_input *in)
{
	if (!in->run_over)
		return false;
	if (in->last_try)
		return true;
	st_tracelock_wait(in->src.fd, ST_INPUT_FINISHING_MS);
	in->last_try = true;
	return false;
}

enum st_input_got st_input_next(struct st_input *in, struct st_rec **out)
{
	for (;;) {
		ssize_t r;

		if (in->iq < in->nq) {
			struct st_rec *rec = in->q[in->iq++];

			if (in->iq == in->nq)
				in->iq = in->nq = 0;
			if (rec->ev.call == ST_CALL_end && rec->ev.by && !strcmp(rec->ev.by, "runner"))
				in->run_over = true;
			*out = rec;
			return ST_IN_EVENT;
		}
		if (in->ended)
			return ST_IN_END;
		if (in->done) {
			finish(in);
			in->ended = true;
			continue;
		}
		if (in->pos < in->got) {
			take_lines(in);
			continue;
		}
		r = source_read(&in->src, in->chunk, 65536);
		if (r == -2)
			return ST_IN_AGAIN;
		if (!r && in->follow && !in->src.poll_first && !follow_over(in))
			return ST_IN_AGAIN;
		if (r <= 0) {
			in->done = true;
			continue;
		}
		in->last_try = false;
		if (!in->total) {
			const char *cat = NULL, *kind = compression_of(in->chunk, (size_t)r, &cat);
			if (kind) {
				complain(in, 0, "compressed with %s, not a trace as it is: decompress it first "
					 "(%s FILE | socktrace show)", kind, cat);
				if (in->strict)
					in->t->fatal = true;
				in->done = in->ended = true;
				continue;
			}
		}
		in->total += (size_t)r;
		in->got = (size_t)r;
		in->pos = 0;
	}
}

int st_input_pollfd(const struct st_input *in)
{
	return in && !in->ended && in->src.poll_first ? in->src.fd : -1;
}

const char *st_input_name(const struct st_input *in)
{
	return in ? in->name : "?";
}

unsigned st_input_close(struct st_input *in)
{
	unsigned problems;

	if (!in)
		return 0;
	problems = in->problems;
	while (in->iq < in->nq)
		st_rec_free(in->q[in->iq++]);
	free(in->q);
	st_pidmap_free(&in->pids);
	free(in->chunk);
	free(in->line);
	if (in->opened)
		source_close(&in->src);
	free(in);
	return problems;
}

unsigned st_trace_read(struct st_trace *t, const char *path, bool strict)
{
	struct st_input *in = st_input_open(t, path, strict, false);
	struct st_rec *r;
	enum st_input_got got;

	if (!in)
		return 1;
	while ((got = st_input_next(in, &r)) != ST_IN_END) {
		if (got == ST_IN_AGAIN) {
			struct pollfd p = { st_input_pollfd(in), POLLIN, 0 };

			if (p.fd >= 0 && poll(&p, 1, -1) < 0 && errno != EINTR)
				break;
			continue;
		}
		if (!add_rec(t, r)) {
			complain(in, r->line, "out of memory");
			st_rec_free(r);
			t->fatal = true;
			break;
		}
	}
	return st_input_close(in);
}

/* ---- merging ---------------------------------------------------------- */

/* When an event took effect: its start, but for a call that made
 * descriptors (socket, socketpair, accept*, dup*, fcntl's dups, a receive
 * that brought some with SCM_RIGHTS), its return: the number was taken
 * then.  A blocked accept began before the close, in another thread, that
 * freed the number it returns; a receive may have waited since before the
 * sender made what it received. */
int64_t st_rec_effect_us(const struct st_rec *r)
{
	bool makes = st_call_is(r->ev.call, ST_K_MAKE | ST_K_PAIR | ST_K_DUP) ||
		     (r->ev.nrights > 0 && (r->ev.call == ST_CALL_recvmsg || r->ev.call == ST_CALL_recvmmsg));

	if (makes && r->ev.dur_ns > 0)
		return r->ev.ts_us + r->ev.dur_ns / 1000;
	return r->ev.ts_us;
}

static int by_time(const void *a, const void *b)
{
	const struct st_rec *x = *(const struct st_rec *const *)a;
	const struct st_rec *y = *(const struct st_rec *const *)b;
	int64_t tx = st_rec_effect_us(x), ty = st_rec_effect_us(y);

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
	free(t->missing_list);
	memset(t, 0, sizeof(*t));
}
