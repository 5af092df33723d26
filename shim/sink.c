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
#include <time.h>
#include <unistd.h>

_Atomic int st_sink_fd = -1;

enum { KIND_FILE, KIND_PIPE, KIND_SOCKET };
static int sink_kind;
static _Atomic bool warned_write;

/* The lowest number the shim's descriptor may take. */
static int high_base(void)
{
	struct rlimit rl;
	long base = 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur < base)
		base = (long)rl.rlim_cur;
	base -= 16;
	return base < 10 ? 10 : (int)base;
}

/* Moves fd high, closing the original; -1 when every high descriptor is
 * taken (the shim never keeps one the program would have got). */
static int move_high(int fd)
{
	int hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (long)high_base());
	REAL(close)(fd);
	return hi;
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
	}
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
		fd = REAL(fcntl)(2, F_DUPFD_CLOEXEC, (long)high_base());
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
		fd = REAL(fcntl)(2, F_DUPFD_CLOEXEC, (long)high_base());
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

static ssize_t write_once(int fd, const char *p, size_t n)
{
	sigset_t block, old;
	ssize_t r;
	int e;

	if (sink_kind == KIND_SOCKET)
		return send(fd, p, n, MSG_NOSIGNAL);
	if (sink_kind == KIND_FILE)
		return write(fd, p, n);
	/* a pipe: keep a vanished reader's SIGPIPE from the program */
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = write(fd, p, n);
	e = errno;
	if (r < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
		sigset_t pending;
		struct timespec zero = { 0, 0 };
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&block, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
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

void st_sink_write(const char *line, size_t len)
{
	int fd = atomic_load_explicit(&st_sink_fd, memory_order_relaxed);
	bool retried = false;

	if (fd < 0)
		return;
	while (len) {
		ssize_t r = write_once(fd, line, len);
		if (r > 0) {
			line += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EBADF && !retried) {
			retried = true;
			fd = reopen(fd);
			if (fd >= 0)
				continue;
		}
		if (!atomic_exchange(&warned_write, true))
			st_warn("cannot write the trace, events are being lost", r < 0 ? strerrordesc_np(errno) : NULL);
		return;
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
	hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (long)high_base());
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
