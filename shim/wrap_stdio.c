/* SPDX-License-Identifier: MIT */
/* wrap_stdio.c - closes libc makes for the program: fclose, freopen,
 * freopen64, fcloseall on a stream over a socket (fdopen).
 *
 * Owns: recording those closes as the program's calls; libc closes the
 * descriptor with its own internal close, which no wrapper of close() sees.
 * A stream that is not over a tracked socket costs one table lookup.
 * Runs inside the traced program: no malloc, no stdio of its own, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"

#include <stdio.h>
#include <stdio_ext.h>

/* The socket under a stream, NULL for anything else.  Keeps errno:
 * fileno() sets EBADF for a stream without a descriptor. */
static struct st_sock *stream_sock(FILE *fp, int *fd)
{
	int saved = errno;

	*fd = fp ? fileno_unlocked(fp) : -1;
	errno = saved;
	if (*fd < 0 || !st_active())
		return NULL;
	return st_fd_get(*fd);
}

/* The bytes a stream over a socket still buffers, written before its close
 * is recorded, so that the counters read just before the close count them.
 * libc's own close flushes them first all the same (and, failing, drops
 * them); *err: the flush's errno, 0 when it worked. */
static void flush_first(FILE *fp, int *err)
{
	int saved = errno;

	*err = 0;
	if (__fpending(fp) > 0 && fflush(fp) == EOF)
		*err = errno ? errno : EIO;
	errno = saved;
}

struct closing_stream {
	FILE *fp;
	int flush_err;
};

static int op_fclose(void *arg)
{
	struct closing_stream *c = arg;
	int ret = REAL(fclose)(c->fp);

	/* as fclose() says a failed flush followed by a close that worked */
	if (ret == 0 && c->flush_err) {
		errno = c->flush_err;
		ret = EOF;
	}
	return ret;
}

ST_EXPORT int fclose(FILE *fp)
{
	int fd;
	struct st_sock *s = stream_sock(fp, &fd);
	struct closing_stream c = { fp, 0 };

	if (ST_LIKELY(!s))
		return REAL(fclose)(fp);
	if (!st_fd_same(fd, s)) {
		st_gone(fd, s, ST_CALL_fclose);
		return REAL(fclose)(fp);
	}
	flush_first(fp, &c.flush_err);
	return st_close_via(ST_CALL_fclose, fd, s, op_fclose, &c, false, -1, -1);
}

struct reopen {
	bool large;
	const char *path, *mode;
	FILE *fp;
	FILE *ret;
};

static int op_freopen(void *arg)
{
	struct reopen *r = arg;

	r->ret = r->large ? REAL(freopen64)(r->path, r->mode, r->fp) : REAL(freopen)(r->path, r->mode, r->fp);
	return r->ret ? 0 : -1;
}

/* freopen(path, ...) closes the stream's descriptor (whatever then comes
 * of the open of path); freopen(NULL, ...) keeps it. */
static FILE *do_freopen(enum st_call call, bool large, const char *path, const char *mode, FILE *fp)
{
	struct reopen r = { large, path, mode, fp, NULL };
	int fd, err;
	struct st_sock *s = path ? stream_sock(fp, &fd) : NULL;

	if (ST_LIKELY(!s)) {
		op_freopen(&r);
		return r.ret;
	}
	if (!st_fd_same(fd, s)) {
		st_gone(fd, s, call);
		op_freopen(&r);
		return r.ret;
	}
	flush_first(fp, &err);	/* freopen() ignores a failed flush */
	st_close_via(call, fd, s, op_freopen, &r, false, -1, -1);
	return r.ret;
}

ST_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(ST_CALL_freopen, false, path, mode, fp);
}

ST_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
	return do_freopen(ST_CALL_freopen64, true, path, mode, fp);
}

/* Every stream at once: the sockets found closed afterwards were its. */
ST_EXPORT int fcloseall(void)
{
	int ret = REAL(fcloseall)();
	int err = errno;

	if (st_active())
		st_drift_check_all(ST_CALL_fcloseall);
	errno = err;
	return ret;
}
