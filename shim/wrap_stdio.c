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

static int op_fclose(void *fp)
{
	return REAL(fclose)(fp);
}

ST_EXPORT int fclose(FILE *fp)
{
	int fd;
	struct st_sock *s = stream_sock(fp, &fd);

	if (ST_LIKELY(!s))
		return REAL(fclose)(fp);
	if (!st_fd_same(fd, s)) {
		st_gone(fd, s, ST_CALL_fclose);
		return REAL(fclose)(fp);
	}
	return st_close_via(ST_CALL_fclose, fd, s, op_fclose, fp, false, -1, -1);
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
	int fd;
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
