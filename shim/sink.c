/* SPDX-License-Identifier: MIT */
/* sink.c - where events go: a trace file or the program's stderr.
 *
 * Owns: the shim's one output descriptor.  It is opened with O_APPEND,
 * O_NOFOLLOW and O_CLOEXEC, created 0600, and moved to a high number so
 * the program never sees it; the wrappers hide it from the program
 * (close() on it fails with EBADF as if it were not open, dup2() onto it
 * moves it away first), and a write that finds it gone reopens it.  One
 * write() per event: O_APPEND keeps lines whole across threads and
 * processes.  Never raises SIGPIPE in the program.
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

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

_Atomic int st_sink_fd = -1;

enum { KIND_FILE, KIND_PIPE, KIND_SOCKET, KIND_TTY };
static int sink_kind;
static _Atomic bool warned_write;
/* a write came back short: the next event starts with a newline, so the
 * fragment ends there and no line is glued to it */
static _Atomic bool need_newline;
/* the program's RLIMIT_FSIZE is finite: a write past it raises SIGXFSZ */
static _Atomic bool fsize_limited;

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
_Atomic bool st_sink_lost;
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

static int open_file(char *path, size_t cap)
{
	int fd, fl;

	expand_path(path, cap);
	/* O_NONBLOCK: a FIFO without a reader must not hang the program */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
		  0600);
	if (fd < 0)
		return -1;
	fl = REAL(fcntl)(fd, F_GETFL, 0L);
	if (fl >= 0)
		REAL(fcntl)(fd, F_SETFL, (long)(fl & ~O_NONBLOCK));
	return fd;
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
		fd = open_file(path, sizeof(path));
		if (fd < 0) {
			int e = errno;
			char msg[sizeof(path) + 64];
			size_t n = 0;
			const char *parts[] = { "cannot write the trace to ", path, ": ", strerrordesc_np(e),
						"; recording nothing" };
			for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
				size_t l = parts[i] ? strlen(parts[i]) : 0;
				if (n + l >= sizeof(msg))
					l = sizeof(msg) - n - 1;
				memcpy(msg + n, parts[i] ? parts[i] : "", l);
				n += l;
			}
			msg[n] = '\0';
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
		fd = open_file(path, sizeof(path));
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

/* One write of the event (after a newline ending an earlier fragment).
 * The program never pays for it with a signal: a pipe whose reader left
 * (SIGPIPE), a file past RLIMIT_FSIZE (SIGXFSZ), a terminal of another
 * process group with tostop (SIGTTOU) are written with those signals
 * blocked in this thread, and one the write raises is taken back. */
static ssize_t write_once(int fd, const char *p, size_t n, bool nl)
{
	struct iovec iov[2] = { { (void *)"\n", 1 }, { (void *)p, n } };
	struct iovec *v = nl ? iov : iov + 1;
	int nv = nl ? 2 : 1;

	if (sink_kind == KIND_SOCKET) {
		struct msghdr m = { .msg_iov = v, .msg_iovlen = (size_t)nv };
		return sendmsg(fd, &m, MSG_NOSIGNAL);
	}
	return st_writev_guarded(fd, v, nv,
				 sink_kind != KIND_FILE || atomic_load_explicit(&fsize_limited, memory_order_relaxed));
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
	bool retried = false;

	if (fd < 0)
		return false;
	for (;;) {
		bool nl = atomic_load_explicit(&need_newline, memory_order_relaxed);
		ssize_t r = write_once(fd, line, len, nl);
		size_t want = len + (nl ? 1 : 0);

		if (r >= 0 && (size_t)r == want) {
			if (nl)
				atomic_store(&need_newline, false);
			return true;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EBADF && !retried) {
			retried = true;
			fd = reopen(fd);
			if (fd >= 0)
				continue;
		}
		/* never a second write for the rest: another writer's line could
		 * land in between.  A fragment is ended by the next event's
		 * leading newline; the event counts as lost. */
		if (r > 0 && !(nl && r == 1))
			atomic_store(&need_newline, true);
		else if (r == 1 && nl)
			atomic_store(&need_newline, false);
		if (!atomic_exchange(&warned_write, true))
			st_warn("cannot write the trace, events are being lost", r < 0 ? strerrordesc_np(errno) : "short write");
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
