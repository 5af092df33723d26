/* SPDX-License-Identifier: MIT */
/* sink.c - where events go: a trace file or the program's stderr.
 *
 * Owns: the shim's one output descriptor.  A path is opened with
 * st_outfile_open (codec/outfile.c: never through a symbolic link, never
 * another user's file in a sticky directory, created with O_EXCL and mode
 * SOCKTRACE_MODE), appending and close-on-exec, and moved to a high number
 * so the program never sees it; the wrappers hide it from the program
 * (close() on it fails with EBADF as if it were not open, dup2() onto it
 * moves it away first), and a write that finds it gone reopens it.  One
 * write() per event: O_APPEND keeps lines whole across threads and
 * processes.  Never raises SIGPIPE in the program, and never makes it wait
 * long: a FIFO is written without blocking, and a write its reader leaves
 * no room for waits at most WAIT_MS, then the event is dropped (and
 * counted by the caller).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "sink.h"
#include "clock.h"
#include "log.h"
#include "ownfd.h"
#include "real.h"
#include "settings.h"
#include "shim.h"
#include "buf.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

ST_HOT _Atomic int st_sink_fd = -1;

enum { KIND_FILE, KIND_PIPE, KIND_SOCKET, KIND_TTY };
static int sink_kind;
static _Atomic bool warned_write;
/* a write came back short: the next event starts with a newline, so the
 * fragment ends there and no line is glued to it */
static _Atomic bool need_newline;
/* the program's RLIMIT_FSIZE is finite: a write past it raises SIGXFSZ */
static _Atomic bool fsize_limited;
/* the longest a write waits for room (a FIFO, a non-blocking pipe or
 * socket whose reader is behind) */
#define WAIT_MS 1000
/* a write waited WAIT_MS in vain: the next events are dropped at once,
 * without waiting, until one goes through again */
static _Atomic bool stalled;

/* Moves fd to the top of the descriptor table, closing the original; -1
 * when none is free there (the shim never keeps one the program would have
 * got). */
static int move_high(int fd)
{
	return st_own_place_high(fd, 0);
}

/* A copy of the program's stderr, at the top. */
static int dup_stderr(void)
{
	int fd = REAL(fcntl)(2, F_DUPFD_CLOEXEC, 0L);
	return fd < 0 ? -1 : move_high(fd);
}

/* The sink was given up because no high descriptor was free: retried now
 * and then, so tracing resumes once the program frees some. */
ST_HOT _Atomic bool st_sink_lost;
static _Atomic int64_t last_retry_ns;
#define RETRY_NS (50 * 1000000LL)

static void expand_path(char *out, size_t cap)
{
	const char *t = st_cfg.output;
	size_t n = 0;

	for (; *t && n + 1 < cap; t++) {
		if (t[0] == '%' && t[1] == 'p') {
			char num[24];
			int k = 0;
			long p = (long)getpid();
			do {
				num[k++] = (char)('0' + p % 10);
				p /= 10;
			} while (p);
			while (k && n + 1 < cap)
				out[n++] = num[--k];
			t++;
		} else if (t[0] == '%' && t[1] == '%') {
			out[n++] = '%';
			t++;
		} else {
			out[n++] = *t;
		}
	}
	out[n] = '\0';
}

static int real_close(int fd)
{
	return REAL(close)(fd);
}

/* The trace file st_cfg names (%p expanded into path); -1 with the reason
 * in *why. */
static int open_file(char *path, size_t cap, const char **why)
{
	struct st_outfile how = { st_cfg.mode, 0, real_close };

	expand_path(path, cap);
	return st_outfile_open(path, &how, why);
}

static void classify(int fd)
{
	struct stat st;

	sink_kind = KIND_FILE;
	if (fstat(fd, &st) == 0) {
		if (S_ISFIFO(st.st_mode))
			sink_kind = KIND_PIPE;
		else if (S_ISSOCK(st.st_mode))
			sink_kind = KIND_SOCKET;
		else if (S_ISCHR(st.st_mode) && isatty(fd))
			sink_kind = KIND_TTY;
	}
	st_sink_limits_changed();
}

int st_sink_open(void)
{
	int fd = -1;
	int saved = errno;

	if (!st_cfg.to_stderr) {
		char path[sizeof(st_cfg.output) + 32];
		const char *why = NULL;

		fd = open_file(path, sizeof(path), &why);
		if (fd < 0) {
			/* one line: the path (escaped: it may hold any byte) and why */
			char msg[1024];
			struct st_buf b;

			st_buf_init(&b, msg, sizeof(msg));
			ST_PUTL(&b, "cannot write the trace to ");
			st_buf_esc(&b, path, st_cfg.ascii ? ST_ESC_ASCII : 0);
			ST_PUTL(&b, ": ");
			st_buf_puts(&b, why);
			ST_PUTL(&b, "; recording nothing");
			st_buf_finish(&b);
			st_warn(msg, NULL);
			atomic_store(&st_sink_fd, -1);
			errno = saved;
			return -1;
		}
	}
	if (fd < 0 && st_cfg.to_stderr)
		fd = dup_stderr();
	else if (fd >= 0)
		fd = move_high(fd);
	if (fd >= 0)
		classify(fd);
	atomic_store(&st_sink_lost, fd < 0);
	atomic_store(&st_sink_fd, fd);
	errno = saved;
	return fd;
}

/* The descriptor went away behind the shim's back: open it again. */
static int reopen(int old)
{
	int fd, expected = old;

	if (st_cfg.to_stderr)
		fd = dup_stderr();
	else {
		char path[sizeof(st_cfg.output) + 32];
		const char *why;

		fd = open_file(path, sizeof(path), &why);
		if (fd >= 0)
			fd = move_high(fd);
	}
	if (fd < 0) {
		atomic_store(&st_sink_lost, true);
		return -1;
	}
	if (!atomic_compare_exchange_strong(&st_sink_fd, &expected, fd)) {
		REAL(close)(fd);	/* another thread won */
		return expected;
	}
	classify(fd);
	return fd;
}

void st_sink_limits_changed(void)
{
	struct rlimit rl;

	atomic_store(&fsize_limited, getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY);
}

/* One write of what is left of the event (v, nv: after a newline ending
 * an earlier fragment).  The program never pays for it with a signal: a
 * pipe whose reader left (SIGPIPE), a file past RLIMIT_FSIZE (SIGXFSZ), a
 * terminal of another process group with tostop (SIGTTOU) are written
 * with those signals blocked in this thread, and one the write raises is
 * taken back. */
static ssize_t write_once(int fd, struct iovec *v, int nv)
{
	if (sink_kind == KIND_SOCKET) {
		struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)nv };
		return sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	return st_writev_guarded(fd, v, nv,
				 sink_kind != KIND_FILE || atomic_load_explicit(&fsize_limited, memory_order_relaxed));
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd takes more bytes, until deadline (mono_ms) at most. */
static bool wait_room(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int64_t left = deadline - mono_ms();
		int k;

		if (left <= 0)
			return false;
		k = poll(&p, 1, (int)left);
		if (k > 0)
			return true;	/* room, or an error the next write tells */
		if (k == 0 || errno != EINTR)
			return false;
	}
}

/* Drops the first n bytes of the iovec (*v, *nv). */
static void advance(struct iovec **v, int *nv, size_t n)
{
	while (*nv && n >= (*v)->iov_len) {
		n -= (*v)->iov_len;
		(*v)++;
		(*nv)--;
	}
	if (*nv) {
		(*v)->iov_base = (char *)(*v)->iov_base + n;
		(*v)->iov_len -= n;
	}
}

static void warn_lost(const char *why)
{
	if (!atomic_exchange(&warned_write, true))
		st_warn("cannot write the trace, events are being lost", why);
}

bool st_sink_ready(void)
{
	int64_t now, last;

	if (ST_LIKELY(atomic_load_explicit(&st_sink_fd, memory_order_relaxed) >= 0))
		return true;
	if (!atomic_load(&st_sink_lost))
		return false;
	now = st_now_ns();
	last = atomic_load(&last_retry_ns);
	if (now - last < RETRY_NS || !atomic_compare_exchange_strong(&last_retry_ns, &last, now))
		return false;
	if (reopen(-1) < 0)
		return false;
	atomic_store(&st_sink_lost, false);
	return true;
}

bool st_sink_write(const char *line, size_t len)
{
	int fd = atomic_load_explicit(&st_sink_fd, memory_order_relaxed);
	bool nl = atomic_load_explicit(&need_newline, memory_order_relaxed);
	struct iovec iov[2] = { { (void *)"\n", 1 }, { (void *)line, len } };
	struct iovec *v = nl ? iov : iov + 1;
	int nv = nl ? 2 : 1;
	size_t want = len + (nl ? 1 : 0), done = 0;
	int64_t deadline = 0;
	bool retried = false;

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t r = write_once(fd, v, nv);

		if (r > 0) {
			done += (size_t)r;
			if (done == want) {
				if (nl)
					atomic_store(&need_newline, false);
				if (ST_UNLIKELY(atomic_load_explicit(&stalled, memory_order_relaxed)))
					atomic_store(&stalled, false);
				return true;
			}
			if (sink_kind != KIND_FILE) {
				/* a stream (pipe, socket, terminal): what went is in
				 * it, the rest must follow it or the line is torn */
				advance(&v, &nv, (size_t)r);
				continue;
			}
			/* a file: never a second write for the rest (another
			 * writer's line could land in between); the fragment is
			 * ended by the next event's leading newline, this event
			 * counts as lost */
			if (!(nl && done == 1))
				atomic_store(&need_newline, true);
			else
				atomic_store(&need_newline, false);
			warn_lost("short write");
			return false;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the reader is behind: wait for it, a while */
			if (!deadline && !atomic_load_explicit(&stalled, memory_order_relaxed))
				deadline = mono_ms() + WAIT_MS;
			if (deadline && wait_room(fd, deadline))
				continue;
			atomic_store(&stalled, true);
			if (done && !(nl && done == 1))
				atomic_store(&need_newline, true);	/* part of it is in the stream */
			warn_lost("its reader has not read for a second");
			return false;
		}
		if (r < 0 && errno == EBADF && !retried && !done) {
			retried = true;
			fd = reopen(fd);
			if (fd >= 0)
				continue;
		}
		if (done && !(nl && done == 1))
			atomic_store(&need_newline, true);
		warn_lost(r < 0 ? strerrordesc_np(errno) : "short write");
		return false;
	}
}

void st_sink_retry(void)
{
	int saved = errno;

	if (atomic_load(&st_sink_fd) < 0 && reopen(-1) >= 0)
		atomic_store(&st_sink_lost, false);
	errno = saved;
}

void st_sink_move_from(int fd)
{
	int cur = atomic_load(&st_sink_fd), hi;

	if (cur != fd || fd < 0)
		return;
	hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0L);
	hi = hi < 0 ? -1 : move_high(hi);
	if (hi < 0) {
		/* no high descriptor left: give the number up, retry later */
		if (atomic_compare_exchange_strong(&st_sink_fd, &cur, -1)) {
			atomic_store(&st_sink_lost, true);
			REAL(close)(fd);
		}
		return;
	}
	if (atomic_compare_exchange_strong(&st_sink_fd, &cur, hi))
		REAL(close)(fd);
	else
		REAL(close)(hi);
}

void st_sink_after_fork(void)
{
	int fd;

	if (st_cfg.to_stderr || !strstr(st_cfg.output, "%p"))
		return;	/* the child shares the parent's trace */
	fd = atomic_exchange(&st_sink_fd, -1);
	if (fd >= 0)
		REAL(close)(fd);
	st_sink_open();
}
