/* SPDX-License-Identifier: MIT */
/* wrap_process.c - new processes and process ends: fork, _Fork, vfork,
 * clone, daemon, _exit, _Exit, quick_exit, and the wait family.
 *
 * Owns: a child's fresh start however it was made (the pthread_atfork
 * child handler covers fork(); _Fork and clone run none, so the same is done
 * here), the vfork child's pass-through, the exit event of ends that skip
 * exit handlers, the `end` of a child its traced parent collects (and not
 * the ends a tracer's wait sees of processes and threads that are not its
 * children), and the resource limits the shim's writes depend on (setrlimit, prlimit).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"
#include "shmsink.h"
#include "sink.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The last children this process made through a wrapper (fork, _Fork,
 * vfork, clone, posix_spawn), for the waits that may also see others'
 * (st_record_end).  Entries of another process (a fork child's copy of
 * its parent's) do not count: known_owner is whose they are. */
#define KNOWN_CHILDREN 64
static _Atomic pid_t known_children[KNOWN_CHILDREN];
static _Atomic unsigned known_next;
static _Atomic pid_t known_owner;

void st_child_made(pid_t child)
{
	if (child <= 0)
		return;
	if (atomic_load(&known_owner) != st_pid) {
		for (int i = 0; i < KNOWN_CHILDREN; i++)
			atomic_store(&known_children[i], 0);
		atomic_store(&known_owner, st_pid);
	}
	atomic_store(&known_children[atomic_fetch_add(&known_next, 1) % KNOWN_CHILDREN], child);
}

static bool known_child(pid_t pid)
{
	if (atomic_load(&known_owner) != st_pid)
		return false;
	for (int i = 0; i < KNOWN_CHILDREN; i++)
		if (atomic_load(&known_children[i]) == pid)
			return true;
	return false;
}

/* The parent's record of a new process. */
static void emit_new_process(int64_t t0, struct st_event *ev, pid_t ret, int err)
{
	st_child_made(ret);
	if (ret > 0)
		st_mark_all_shared();	/* the child holds copies of every descriptor */
	st_end(ev, t0, ret, err);
	st_emit(ev);
}

ST_EXPORT pid_t fork(void)
{
	struct st_event ev;
	int64_t t0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(fork)();
	t0 = st_begin(&ev, ST_CALL_fork);
	ret = REAL(fork)();	/* the atfork handlers reserve and take the child's ring */
	err = errno;
	if (ret == 0)
		return 0;	/* the child: its start event is already written */
	st_shm_forked(ret);
	st_child_made(ret);
	/* the parent: the atfork handler marked every socket shared */
	st_end(&ev, t0, ret, err);
	st_emit(&ev);
	errno = err;
	return ret;
}

/* A fork that runs no atfork handlers: the child's start and the parent's
 * record are made here.  raw: syscall(SYS_fork), else _Fork. */
static pid_t fork_unhandled(bool raw)
{
	struct st_event ev;
	int64_t t0;
	pid_t ret;
	int err;

	t0 = st_begin(&ev, raw ? ST_CALL_fork : ST_CALL__Fork);
	st_shm_before_fork();
	ret = raw ? (pid_t)REAL(syscall)(SYS_fork) : REAL(_Fork)();
	err = errno;
	if (ret == 0) {
		st_after_fork_child();
		errno = err;
		return 0;
	}
	ev.via_syscall = raw;
	st_shm_forked(ret);
	emit_new_process(t0, &ev, ret, err);
	errno = err;
	return ret;
}

/* _Fork runs no atfork handlers (it is the async-signal-safe fork) */
ST_EXPORT pid_t _Fork(void)
{
	if (!st_active())
		return REAL(_Fork)();
	return fork_unhandled(false);
}

pid_t st_do_sysfork(void)
{
	return fork_unhandled(true);
}

/* ---- vfork ---- */

/* The parent's side of vfork(), after its child has exec'd or exited. */
__attribute__((used)) pid_t st_vfork_parent(pid_t pid)
{
	st_vfork_child = false;
	if (st_active()) {
		struct st_event ev;
		int64_t t0 = st_begin(&ev, ST_CALL_vfork);
		emit_new_process(t0, &ev, pid, 0);
	}
	st_vfork_untraced_say(pid);
	return pid;
}

__attribute__((used)) int st_vfork_error(int err)
{
	errno = err;
	return -1;
}

#if defined(__x86_64__)
/* vfork() cannot be wrapped in C: the child would return through the
 * wrapper's frame, which the parent then returns through again.  As in
 * glibc, the return address is kept in a register across the system call.
 * The child sets st_vfork_child (thread-local: the parent's other threads
 * keep recording), so every wrapper passes its calls through until it
 * execs or exits; the parent clears it and records the vfork. */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"\t.cfi_startproc\n"
	"\tpopq %rdi\n"
	"\t.cfi_adjust_cfa_offset -8\n"
	"\t.cfi_register %rip, %rdi\n"
	"\tmovl $58, %eax\n"		/* SYS_vfork */
	"\tsyscall\n"
	"\tpushq %rdi\n"
	"\t.cfi_adjust_cfa_offset 8\n"
	"\t.cfi_rel_offset %rip, 0\n"
	"\tcmpl $-4095, %eax\n"
	"\tjae 2f\n"
	"\ttestl %eax, %eax\n"
	"\tjnz 1f\n"
	"\tmovq st_vfork_child@gottpoff(%rip), %rcx\n"
	"\tmovb $1, %fs:(%rcx)\n"
	"\tret\n"
	"1:\tmovl %eax, %edi\n"
	"\tjmp st_vfork_parent\n"
	"2:\tnegl %eax\n"
	"\tmovl %eax, %edi\n"
	"\tjmp st_vfork_error\n"
	"\t.cfi_endproc\n"
	".size vfork, .-vfork\n");
#else
/* Elsewhere vfork() is fork(), which POSIX allows: the child gets its own
 * memory, and its own record. */
ST_EXPORT pid_t vfork(void)
{
	return fork();
}
#endif

/* ---- clone ---- */

struct clone_start {
	int (*fn)(void *);
	void *arg;
	int flags;
};

/* The child's first steps: a fork-like child (its own memory) starts over;
 * a vfork-like one (the parent's memory, its thread's TLS) passes through. */
static int clone_child(void *p)
{
	struct clone_start *c = p;

	if (!(c->flags & CLONE_VM))
		st_after_fork_child();
	else if (c->flags & CLONE_VFORK)
		st_vfork_child = true;
	return c->fn(c->arg);
}

ST_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_start c = { fn, arg, flags };
	pid_t *ptid;
	void *tls;
	pid_t *ctid;
	va_list ap;
	int ret, err;
	bool fork_like = !(flags & CLONE_VM);
	bool vfork_like = (flags & CLONE_VM) && (flags & CLONE_VFORK) && !(flags & CLONE_SETTLS);

	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	/* threads and other children sharing memory: nothing to do */
	if (!st_active() || !fn || (!fork_like && !vfork_like) || (flags & CLONE_THREAD))
		return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	if (fork_like) {
		struct st_event ev;
		int64_t t0 = st_begin(&ev, ST_CALL_clone);
		st_shm_before_fork();
		ret = REAL(clone)(clone_child, stack, flags, &c, ptid, tls, ctid);
		err = errno;
		st_shm_forked(ret);
		emit_new_process(t0, &ev, ret, err);
		errno = err;
		return ret;
	}
	/* vfork-like: the parent is suspended until the child execs or exits */
	ret = REAL(clone)(clone_child, stack, flags, &c, ptid, tls, ctid);
	err = errno;
	st_vfork_child = false;
	if (ret > 0) {
		struct st_event ev;
		int64_t t0 = st_begin(&ev, ST_CALL_clone);
		emit_new_process(t0, &ev, ret, 0);
	}
	st_vfork_untraced_say(ret);
	errno = err;
	return ret;
}

/* ---- daemon ---- */

/* daemon() forks (the atfork handlers run), the parent leaves with _exit
 * inside libc, and the child points 0, 1 and 2 at /dev/null with libc's own
 * dup2: the child records its parent's end and the sockets those closed. */
ST_EXPORT int daemon(int nochdir, int noclose)
{
	pid_t parent = getpid();
	int ret, err;

	if (!st_active())
		return REAL(daemon)(nochdir, noclose);
	ret = REAL(daemon)(nochdir, noclose);
	err = errno;
	if (ret == 0 && getpid() != parent) {
		struct st_event ev;
		st_event_init(&ev);
		ev.call = ST_CALL_end;
		ev.ts_us = st_now_ns() / 1000;
		ev.pid = parent;
		ev.status = 0;
		ev.by = "daemon";
		st_emit(&ev);
		st_drift_check_all(ST_CALL_daemon);
	}
	errno = err;
	return ret;
}

/* ---- ends that skip the exit handlers ---- */

ST_EXPORT void _exit(int status)
{
	if (st_active())
		st_exit_now(status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

ST_EXPORT void _Exit(int status)
{
	if (st_active())
		st_exit_now(status);
	REAL(_Exit)(status);
	__builtin_unreachable();
}

ST_EXPORT void quick_exit(int status)
{
	if (st_active())
		st_quick_exit_status(status);
	REAL(quick_exit)(status);
	__builtin_unreachable();
}

/* ---- a child's end, seen by its traced parent ---- */

/* Is pid, which a wait of this process just reported ended, still
 * there as another process's child?  A tracer (strace, gdb) is told of
 * its tracees' ends before their parent is: the parent reaps the zombie
 * later.  Reads /proc/PID/stat (field 4, after the command's ')');
 * false when it cannot be read (reaped: it was this process's child). */
static bool child_of_another(pid_t pid)
{
	char path[32] = "/proc/", buf[512];
	char digits[12];
	int k = 0, n = 6, fd;
	ssize_t got;
	const char *p;
	long ppid = 0;

	do {
		digits[k++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid);
	while (k)
		path[n++] = digits[--k];
	path[n] = '\0';
	/* the usual case, a child reaped: gone, and no descriptor taken to
	 * tell (a program's other threads get the numbers they would bare) */
	if (access(path, F_OK) != 0)
		return false;
	memcpy(path + n, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	got = read(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (got <= 0)
		return false;
	buf[got] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return false;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		ppid = ppid * 10 + (*p - '0');
	return ppid != (long)getpid();
}

/* An `end` for pid, which a wait with these options reported ended with
 * status, when this process is its parent.  A tracer's wait also reports
 * the ends of its tracees that are others' children (their parents write
 * those) and, with __WALL or __WCLONE, of the threads it traces (which
 * are no process's end): with those options only a child this process
 * made through a wrapper counts, else one that is no longer there as
 * another's. */
static void st_record_end(pid_t pid, int status, const char *by, int options)
{
	struct st_event ev;

	if (pid <= 0 || status < 0 || (!WIFEXITED(status) && !WIFSIGNALED(status)))
		return;
	if ((options & (__WALL | __WCLONE)) ? !known_child(pid) : child_of_another(pid))
		return;
	if (st_event_end(&ev, pid, status, by, st_now_ns() / 1000))
		st_emit(&ev);
}

ST_EXPORT pid_t wait(int *status)
{
	int own = 0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(wait)(status);
	ret = REAL(wait)(status ? status : &own);
	err = errno;
	if (ret > 0)
		st_record_end(ret, status ? *status : own, "parent", 0);
	errno = err;
	return ret;
}

ST_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	int own = 0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(waitpid)(pid, status, options);
	ret = REAL(waitpid)(pid, status ? status : &own, options);
	err = errno;
	if (ret > 0)
		st_record_end(ret, status ? *status : own, "parent", options);
	errno = err;
	return ret;
}

ST_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	int own = 0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(wait3)(status, options, ru);
	ret = REAL(wait3)(status ? status : &own, options, ru);
	err = errno;
	if (ret > 0)
		st_record_end(ret, status ? *status : own, "parent", options);
	errno = err;
	return ret;
}

ST_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int own = 0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(wait4)(pid, status, options, ru);
	ret = REAL(wait4)(pid, status ? status : &own, options, ru);
	err = errno;
	if (ret > 0)
		st_record_end(ret, status ? *status : own, "parent", options);
	errno = err;
	return ret;
}

ST_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	int ret, err;

	if (!st_active() || !info || (options & WNOWAIT))
		return REAL(waitid)(idtype, id, info, options);
	ret = REAL(waitid)(idtype, id, info, options);
	err = errno;
	if (ret == 0 && info->si_pid > 0) {
		if (info->si_code == CLD_EXITED)
			st_record_end(info->si_pid, W_EXITCODE(info->si_status, 0), "parent", options);
		else if (info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED)
			st_record_end(info->si_pid, info->si_status | (info->si_code == CLD_DUMPED ? 0x80 : 0),
				      "parent", options);
	}
	errno = err;
	return ret;
}

/* ---- resource limits ---- */

/* A limit the shim's writes depend on changed (this process's). */
static void limits_changed(pid_t pid, int ret, __rlimit_resource_t resource)
{
	int saved = errno;

	if (ret == 0 && (pid == 0 || pid == st_pid) && (resource == RLIMIT_FSIZE || resource == RLIMIT_NOFILE))
		st_sink_limits_changed();
	errno = saved;
}

ST_EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rl)
{
	int ret = REAL(setrlimit)(resource, rl);
	limits_changed(0, ret, resource);
	return ret;
}

ST_EXPORT int setrlimit64(__rlimit_resource_t resource, const struct rlimit64 *rl)
{
	int ret = REAL(setrlimit64)(resource, rl);
	limits_changed(0, ret, resource);
	return ret;
}

ST_EXPORT int prlimit(pid_t pid, __rlimit_resource_t resource, const struct rlimit *rl, struct rlimit *old)
{
	int ret = REAL(prlimit)(pid, resource, rl, old);
	if (rl)
		limits_changed(pid, ret, resource);
	return ret;
}

ST_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t resource, const struct rlimit64 *rl, struct rlimit64 *old)
{
	int ret = REAL(prlimit64)(pid, resource, rl, old);
	if (rl)
		limits_changed(pid, ret, resource);
	return ret;
}
