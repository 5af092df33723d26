/* shim.c - the shim's life: start, identity, events, fork, exit.
 *
 * Owns: initialization (lazy and lock-free, so that calls from other
 * libraries' constructors work), the process identity cached for events
 * (pid, tid, seq), the start and exit events, and st_emit().
 * Runs inside the traced program: no malloc, no stdio, no locks; every
 * path keeps errno for the program.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "fdtable.h"
#include "names.h"
#include "real.h"
#include "sockinfo.h"
#include "kernelview.h"
#include "recent.h"
#include "sockdiag.h"
#include "unwind.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

_Atomic int st_init_state = ST_INIT_NONE;
pid_t st_pid;
static _Atomic int64_t seq;
static _Atomic int64_t dropped;	/* events not written since the last one that was */
static __thread pid_t tid_cache;


pid_t st_gettid(void)
{
	if (ST_UNLIKELY(!tid_cache))
		tid_cache = (pid_t)syscall(SYS_gettid);
	return tid_cache;
}

int64_t st_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- events ---- */

#define LINE_ON_STACK 2048

static size_t encode(const struct st_event *ev, char *buf, size_t cap)
{
	if (st_cfg.format == ST_FMT_JSONL)
		return st_encode_json(ev, buf, cap);
	return st_render_text(ev, buf, cap, 0);
}

static void emit_line(struct st_event *ev)
{
	char line[LINE_ON_STACK];
	size_t n;

	/* no descriptor to write to: the event is counted, not numbered, so
	 * seq stays without gaps and the next event says how many were lost */
	if (ST_UNLIKELY(!st_sink_ready())) {
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		return;
	}
	ev->pid = st_pid;
	ev->tid = st_gettid();
	ev->seq = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) + 1;
	if (ST_UNLIKELY(atomic_load_explicit(&dropped, memory_order_relaxed)))
		ev->dropped = atomic_exchange(&dropped, 0);
	n = encode(ev, line, sizeof(line));
	if (ST_LIKELY(n < sizeof(line))) {
		st_sink_write(line, n);
	} else {
		/* a long line (argv, stacks, holders): a mapping, not the stack,
		 * which may be a small signal stack */
		size_t cap = (n + 1 + 4095) & ~(size_t)4095;
		char *big = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big != MAP_FAILED) {
			n = encode(ev, big, cap);
			st_sink_write(big, n < cap ? n : cap - 1);
			munmap(big, cap);
		}
	}
}

/* Kept apart so that the frames take stack space only when asked for. */
static __attribute__((noinline)) void emit_with_stack(struct st_event *ev)
{
	struct st_frame frames[ST_STACK_MAX];

	ev->nframes = st_unwind(frames, st_cfg.stack);
	ev->frames = frames;
	emit_line(ev);
	ev->frames = NULL;
	ev->nframes = 0;
}

void st_emit(struct st_event *ev)
{
	int saved = errno;

	if (ST_UNLIKELY(st_cfg.stack > 0) && !st_call_is(ev->call, ST_K_SELF))
		emit_with_stack(ev);
	else
		emit_line(ev);
	errno = saved;
}

/* ---- start ---- */

static char exe_path[4096];
static char cmdline[16384];
static const char *argv_ptrs[512];
static int argv_count;

static void read_identity(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	int fd;

	exe_path[n > 0 ? n : 0] = '\0';
	argv_count = 0;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = 0;
	for (;;) {
		ssize_t r = read(fd, cmdline + n, sizeof(cmdline) - 1 - (size_t)n);
		if (r <= 0)
			break;
		n += r;
	}
	REAL(close)(fd);
	cmdline[n] = '\0';
	for (ssize_t i = 0; i < n && argv_count < (int)(sizeof(argv_ptrs) / sizeof(argv_ptrs[0]));) {
		argv_ptrs[argv_count++] = cmdline + i;
		i += (ssize_t)strlen(cmdline + i) + 1;
	}
}

void st_emit_start(void)
{
	struct st_event ev;

	st_event_init(&ev);
	ev.call = ST_CALL_start;
	ev.ts_us = st_now_ns() / 1000;
	ev.exe = exe_path;
	ev.argv = argv_ptrs;
	ev.argc = argv_count;
	ev.ppid = getppid();
	ev.version = PACKAGE_VERSION;
	st_emit(&ev);
}

/* ---- descriptors the process had before the shim started ---- */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void adopt_inherited(void)
{
	char buf[4096];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int sink = atomic_load(&st_sink_fd);

	if (dir < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			int fd = 0;
			const char *p = d->d_name;
			off += d->d_reclen;
			if (*p < '0' || *p > '9')
				continue;
			for (; *p >= '0' && *p <= '9'; p++)
				fd = fd * 10 + (*p - '0');
			if (fd != dir && fd != sink && !st_fd_get(fd)) {
				struct stat st;
				if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
					st_sock_discover(fd);
			}
		}
	}
	REAL(close)(dir);
}

/* ---- fork ---- */

static void mark_shared(int fd, struct st_sock *s, void *arg)
{
	(void)fd;
	(void)arg;
	s->shared = true;
}

static void atfork_parent(void)
{
	st_fd_each(0, ST_FD_MAX - 1, mark_shared, NULL);
}

void st_after_fork_child(void)
{
	int saved = errno;

	if (atomic_load(&st_init_state) != ST_INIT_READY)
		return;
	st_pid = getpid();
	tid_cache = 0;
	atomic_store(&seq, 0);
	atomic_store(&dropped, 0);
	st_fd_each(0, ST_FD_MAX - 1, mark_shared, NULL);
	st_recent_reset();
	st_diag_after_fork();
	st_sink_after_fork();
	st_emit_start();
	errno = saved;
}

/* ---- start and exit ---- */

void st_init(void)
{
	int expected = ST_INIT_NONE;
	int saved = errno;

	if (!atomic_compare_exchange_strong(&st_init_state, &expected, ST_INIT_BUSY))
		return;
	st_real_resolve();
	/* setuid and other AT_SECURE programs: silent pass-through */
	if (getauxval(AT_SECURE)) {
		atomic_store(&st_init_state, ST_INIT_OFF);
		errno = saved;
		return;
	}
	st_config_read();
	if (st_cfg.stack > 0 && !st_unwind_init()) {
		st_warn("SOCKTRACE_STACK: this socktrace was built without libunwind, recording no stacks", NULL);
		st_cfg.stack = 0;
	}
	st_pid = getpid();
	read_identity();
	st_sink_open();
	adopt_inherited();
	pthread_atfork(NULL, atfork_parent, st_after_fork_child);
	atomic_store_explicit(&st_init_state, ST_INIT_READY, memory_order_release);
	st_emit_start();
	errno = saved;
}

__attribute__((constructor)) static void st_constructor(void)
{
	struct tm tm;
	time_t now = time(NULL);

	if (localtime_r(&now, &tm))
		st_render_set_tz(tm.tm_gmtoff);
	st_init();
}

__attribute__((destructor)) static void st_destructor(void)
{
	struct st_event ev;
	struct st_scratch sc = { NULL, 0 };

	if (atomic_load(&st_init_state) != ST_INIT_READY)
		return;
	st_event_init(&ev);
	ev.call = ST_CALL_exit;
	ev.ts_us = st_now_ns() / 1000;
	ev.open_sockets = st_fd_count_sockets();
	st_kv_exit(&ev, &sc);
	st_emit(&ev);
	st_scratch_free(&sc);
}
