/* lifecycle.c - the shim's life in a process (see lifecycle.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; every
 * path keeps errno for the program.
 */
#define _GNU_SOURCE
#include "lifecycle.h"
#include "clock.h"
#include "emit.h"
#include "fdtable.h"
#include "kernelview.h"
#include "log.h"
#include "procfd.h"
#include "real.h"
#include "recent.h"
#include "settings.h"
#include "sink.h"
#include "sockdiag.h"
#include "sockinfo.h"
#include "unwind.h"

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

static void emit_start(void)
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

struct adopt {
	int sink;
};

static bool adopt_one(int dir, const char *name, long fd, void *arg)
{
	const struct adopt *a = arg;
	struct stat st;

	(void)name;
	if (fd != dir && fd != a->sink && !st_fd_get((int)fd) && fstat((int)fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		st_sock_discover((int)fd);
	return true;
}

static void adopt_inherited(void)
{
	struct adopt a = { atomic_load(&st_sink_fd) };
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return;
	st_dir_numbers(dir, adopt_one, &a);
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
	st_emit_after_fork();
	st_fd_each(0, ST_FD_MAX - 1, mark_shared, NULL);
	st_recent_reset();
	st_diag_after_fork();
	st_sink_after_fork();
	emit_start();
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
	emit_start();
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
