/* SPDX-License-Identifier: MIT */
/* lifecycle.c - the shim's life in a process (see lifecycle.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; every
 * path keeps errno for the program.
 */
#define _GNU_SOURCE
#include "lifecycle.h"
#include "clock.h"
#include "drift.h"
#include "emit.h"
#include "fdtable.h"
#include "kernelview.h"
#include "log.h"
#include "names.h"
#include "origin.h"
#include "procfd.h"
#include "real.h"
#include "recent.h"
#include "settings.h"
#include "shmsink.h"
#include "sink.h"
#include "sockdiag.h"
#include "sockinfo.h"
#include "unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

_Atomic int st_init_state = ST_INIT_NONE;
__thread bool st_vfork_child;
static bool late_exit_registered, late_quick_registered;

/* ---- start ---- */

/* What the start event keeps of the command line: ARGV_KEPT arguments,
 * ARG_BYTES of each and ARGV_BYTES in all (the line must stay far below
 * the 1 MiB a reader takes, even with every byte escaped); the rest is
 * counted, and the event says what was cut (argc, argv_cut). */
#define ARGV_KEPT 512
#define ARG_BYTES 16384
#define ARGV_BYTES 65536
#define ARGV_CUTS (ARGV_BYTES / ARG_BYTES + 1)	/* at most this many kept in part */

static char exe_path[4096 + 1];
static bool exe_cut;
static char cmdline[ARGV_BYTES];
static const char *argv_ptrs[ARGV_KEPT];
static int argv_count;
static int64_t argc_total = -1;
static struct st_argcut argv_cuts[ARGV_CUTS];
static int nargv_cuts;

/* n bytes kept of a string cut short: not inside a UTF-8 sequence, when
 * the byte that follows the cut (next) continues one */
static size_t utf8_cut(const char *s, size_t n, unsigned char next)
{
	size_t k = n;

	if ((next & 0xc0) != 0x80)
		return n;
	while (k > 0 && n - k < 3 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (k > 0 && (unsigned char)s[k - 1] >= 0xc0)
		return k - 1;	/* the lead byte of the sequence cut */
	return n;		/* not UTF-8: bytes as they are */
}

/* The program's path and its whole command line, read once: all of
 * /proc/self/cmdline is read (through a chunk on the stack, whatever its
 * length) to count the arguments and measure the ones kept in part. */
static void read_identity(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	char chunk[4096];
	size_t kept = 0;	/* bytes of cmdline used */
	int64_t args = 0, arg_len = 0;	/* arguments seen; bytes of the current one */
	bool keeping = false;	/* the current argument is kept (maybe in part) */
	bool full = false;	/* no more arguments are kept */
	size_t arg_kept = 0;	/* bytes kept of the current argument */
	int fd;

	/* the kernel tells a path of a page at most: longer is ENAMETOOLONG */
	exe_cut = (n < 0 && errno == ENAMETOOLONG) || n == (ssize_t)sizeof(exe_path) - 1;
	if (n == (ssize_t)sizeof(exe_path) - 1)
		n = (ssize_t)utf8_cut(exe_path, (size_t)n - 1, (unsigned char)exe_path[n - 1]);
	exe_path[n > 0 ? n : 0] = '\0';
	argv_count = 0;
	argc_total = -1;
	nargv_cuts = 0;
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			char c = chunk[i];

			if (arg_len == 0 && !full) {
				/* an argument starts: kept if there is room for it */
				if (argv_count < ARGV_KEPT && kept < sizeof(cmdline) - 1) {
					argv_ptrs[argv_count++] = cmdline + kept;
					keeping = true;
					arg_kept = 0;
				} else {
					full = true;
				}
			}
			if (c == '\0') {
				if (keeping) {
					if ((int64_t)arg_kept < arg_len && nargv_cuts < ARGV_CUTS) {
						argv_cuts[nargv_cuts].index = argv_count - 1;
						argv_cuts[nargv_cuts++].bytes = arg_len;
					}
					cmdline[kept++] = '\0';
					keeping = false;
				}
				args++;
				arg_len = 0;
				continue;
			}
			if (keeping && (int64_t)arg_kept == arg_len) {
				/* still whole so far: this byte too, if it fits */
				if (arg_kept < ARG_BYTES && kept < sizeof(cmdline) - 1) {
					cmdline[kept++] = c;
					arg_kept++;
				} else {
					size_t k = utf8_cut(cmdline + kept - arg_kept, arg_kept, (unsigned char)c);
					kept -= arg_kept - k;
					arg_kept = k;
				}
			}
			arg_len++;
		}
	}
	REAL(close)(fd);
	if (arg_len) {
		/* no NUL at the end: a program that rewrote its argv area */
		if (keeping) {
			if ((int64_t)arg_kept < arg_len && nargv_cuts < ARGV_CUTS) {
				argv_cuts[nargv_cuts].index = argv_count - 1;
				argv_cuts[nargv_cuts++].bytes = arg_len;
			}
			cmdline[kept++] = '\0';
		}
		args++;
	}
	if (kept == sizeof(cmdline))
		cmdline[kept - 1] = '\0';
	argc_total = args;
}

/* What read_identity found, into a start event. */
static void identity_to_event(struct st_event *ev)
{
	ev->exe = exe_path[0] || !exe_cut ? exe_path : NULL;
	ev->exe_cut = exe_cut;
	ev->argv = argv_ptrs;
	ev->argc = argv_count;
	ev->argc_total = argc_total;
	ev->argv_cut = nargv_cuts ? argv_cuts : NULL;
	ev->nargv_cut = nargv_cuts;
}

/* the sockets a new image holds from its start, for its start event */
struct inherited {
	struct st_isock *list;
	int n, max;
};

static void count_adopted(int fd, struct st_sock *s, void *arg)
{
	(void)fd;
	if (s->adopted)
		((struct inherited *)arg)->max++;
}

static void list_adopted(int fd, struct st_sock *s, void *arg)
{
	struct inherited *in = arg;
	struct st_isock *i;

	if (!s->adopted || in->n >= in->max)
		return;
	i = &in->list[in->n++];
	i->fd = fd;
	i->inode = s->inode;
	i->family = s->family_name;
	i->type = s->type_name;
	i->proto = s->proto_name;
	memcpy(i->local, s->local, sizeof(i->local));
	memcpy(i->remote, s->remote, sizeof(i->remote));
	i->state = s->is_tcp ? st_tcp_state_name(st_tcp_state(fd, NULL)) : NULL;
	/* the kernel's TCP state tells a TCP listener only: a unix one (or
	 * any family's) is told by SO_ACCEPTCONN */
	i->listening = st_sock_listens(fd);
}

/* inherited: list the sockets the image holds from its start (a new image;
 * a forked child's are its parent's, told by the fork).  ppid: the process
 * that forked it, 0 to ask the kernel (which says 1, or a subreaper, once
 * that parent is gone: daemon's leaves at once). */
static void emit_start(bool inherited, pid_t ppid)
{
	struct st_event ev;
	struct inherited in = { NULL, 0, 0 };
	size_t len = 0;

	st_event_init(&ev);
	ev.call = ST_CALL_start;
	ev.ts_us = st_now_ns() / 1000;
	identity_to_event(&ev);
	ev.ppid = ppid > 0 ? ppid : getppid();
	ev.version = PACKAGE_VERSION;
	st_origin_to_event(&ev);
	if (inherited) {
		st_fd_each(0, ST_FD_MAX - 1, count_adopted, &in);
		if (in.max) {
			len = (size_t)in.max * sizeof(*in.list);
			in.list = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (in.list == MAP_FAILED)
				in.list = NULL;
			else
				st_fd_each(0, ST_FD_MAX - 1, list_adopted, &in);
		}
		if (in.list) {
			ev.inherited = in.list;
			ev.ninherited = in.n;
		} else if (!in.max) {
			static const struct st_isock none[1];
			ev.inherited = none;	/* an empty list: none inherited */
		}
	}
	st_emit(&ev);
	if (in.list)
		munmap(in.list, len);
}

/* ---- the end of the image ---- */

static _Atomic bool exit_recorded;

/* The exit event, once per image: what is still open (each descriptor
 * checked against the kernel first), what the kernel still holds of the
 * connections closed here, the exit status (-1 unknown). */
static void emit_exit(int64_t status)
{
	struct st_event ev;
	struct st_scratch sc = { NULL, 0 };

	if (atomic_load(&st_init_state) != ST_INIT_READY || st_vfork_child ||
	    atomic_exchange(&exit_recorded, true))
		return;
	st_drift_check_all(ST_CALL_exit);
	st_event_init(&ev);
	ev.call = ST_CALL_exit;
	ev.ts_us = st_now_ns() / 1000;
	ev.open_sockets = st_fd_count_sockets();
	ev.status = status;
	st_kv_exit(&ev, &sc);
	st_emit(&ev);
	st_scratch_free(&sc);
	/* under the runner: the trace is whole once this process is gone */
	st_shm_at_exit();
}

void st_exit_now(int status)
{
	int saved = errno;
	emit_exit(status < 0 ? -1 : status & 0xff);
	errno = saved;
}

/* exit(): registered in the constructor, before __libc_start_main registers
 * the loader's finalizer; the exit handlers run last-in first-out, so this
 * runs after every library's destructor (their closes come first). */
static void late_exit(int status, void *arg)
{
	(void)arg;
	st_exit_now(status);
}

/* quick_exit(): at_quick_exit handlers run last-in first-out too */
static _Atomic int quick_status = -1;
void st_quick_exit_status(int status)
{
	atomic_store(&quick_status, status & 0xff);
	if (!late_quick_registered)
		st_exit_now(status);	/* no handler to record it at the end */
}

static void late_quick_exit(void)
{
	int saved = errno;
	emit_exit(atomic_load(&quick_status));
	errno = saved;
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
		st_sock_discover((int)fd, ST_CALL_start);
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

void st_mark_all_shared(void)
{
	st_fd_each(0, ST_FD_MAX - 1, mark_shared, NULL);
}

static void atfork_prepare(void)
{
	if (atomic_load(&st_init_state) == ST_INIT_READY && !st_vfork_child)
		st_shm_before_fork();
}

static void atfork_parent(void)
{
	st_mark_all_shared();
}

void st_after_fork_child(void)
{
	int saved = errno;
	pid_t parent = st_pid;	/* still the parent's */

	if (atomic_load(&st_init_state) != ST_INIT_READY)
		return;
	st_emit_after_fork();
	st_mark_all_shared();
	st_recent_reset();
	st_diag_after_fork();
	if (st_shm_active())
		st_shm_after_fork();
	else
		st_sink_after_fork();
	atomic_store(&exit_recorded, false);
	emit_start(false, parent);
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
	st_origin_read();
	if (!st_shm_open())
		st_sink_open();	/* no runner's shared memory: the shim writes the trace */
	adopt_inherited();
	pthread_atfork(atfork_prepare, atfork_parent, st_after_fork_child);
	late_exit_registered = on_exit(late_exit, NULL) == 0;
	late_quick_registered = at_quick_exit(late_quick_exit) == 0;
	atomic_store_explicit(&st_init_state, ST_INIT_READY, memory_order_release);
	emit_start(true, 0);
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

/* The exit event comes from late_exit(); a destructor runs too early (the
 * program's own libraries are finalized after the preloaded shim).  Only
 * when the handler could not be registered does the destructor write it. */
__attribute__((destructor)) static void st_destructor(void)
{
	if (!late_exit_registered)
		st_exit_now(-1);
}
