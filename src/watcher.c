/* SPDX-License-Identifier: MIT */
/* watcher.c - the process that records how the program ended, when the
 * runner has become the program (exec in place, as strace -D does).
 *
 * Owns: making the watcher (a grandchild, so the program has no child it
 * did not make, in a session of its own, so no terminal or process-group
 * signal meant for the program reaches it), what it keeps (a pidfd of the
 * program, the end record's descriptor with its lock, the exec's outcome)
 * and how it learns the program's end: PIDFD_GET_INFO's exit information
 * (Linux 6.15+, exact even after the parent reaped the program), else the
 * zombie's /proc/PID/stat while the parent has not reaped it, else unknown.
 * Must never leave anything in the program: every descriptor made here is
 * close-on-exec, the program's signal mask and dispositions are not
 * touched, and a SIGCHLD the intermediate child left pending is taken back.
 */
#define _GNU_SOURCE
#include "runner.h"

#include "drain.h"
#include "tracelock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* PIDFD_GET_INFO (linux/pidfd.h of Linux 6.13+), up to the coredump
 * fields: the kernel takes any size from its first version on. */
struct pidfd_info_st {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, coredump_signal;
};
#define ST_PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info_st)
#define ST_PIDFD_INFO_EXIT (UINT64_C(1) << 3)
#define ST_PIDFD_INFO_COREDUMP (UINT64_C(1) << 4)
#define ST_PIDFD_COREDUMPED (1U << 0)

enum { INFO_NONE = -1, INFO_NOT_YET = 0, INFO_EXIT = 1 };

/* The kernel's record of the end: INFO_EXIT with *wstatus, INFO_NOT_YET
 * (not reaped yet, or a kernel that files none), INFO_NONE (no ioctl). */
static int exit_info(int pidfd, int *wstatus)
{
	struct pidfd_info_st info;

	memset(&info, 0, sizeof(info));
	info.mask = ST_PIDFD_INFO_EXIT | ST_PIDFD_INFO_COREDUMP;
	if (ioctl(pidfd, ST_PIDFD_GET_INFO, &info) < 0)
		return errno == ESRCH ? INFO_NOT_YET : INFO_NONE;
	if (!(info.mask & ST_PIDFD_INFO_EXIT))
		return INFO_NOT_YET;
	*wstatus = info.exit_code;
	if ((info.mask & ST_PIDFD_INFO_COREDUMP) && (info.coredump_mask & ST_PIDFD_COREDUMPED) &&
	    WIFSIGNALED(*wstatus))
		*wstatus |= 0x80;	/* WCOREDUMP */
	return INFO_EXIT;
}

static void nap_ms(long ms)
{
	struct timespec t = { 0, ms * 1000000L };

	nanosleep(&t, NULL);
}

/* How the program (pid, started at ticks) ended, once its pidfd said it
 * did: its wait status, or -1 when no one can tell any more. */
static int program_end(int pidfd, pid_t pid, uint64_t ticks)
{
	int wstatus, info = INFO_NOT_YET;

	/* a second at most: the end is a zombie or reaped already; only an
	 * exit still being torn down (state X) takes a moment */
	for (int i = 0; i < 1000; i++) {
		struct st_procstat ps;

		if (info != INFO_NONE && (info = exit_info(pidfd, &wstatus)) == INFO_EXIT)
			return wstatus;
		if (st_procstat_read(pid, &ps) == 0 && ps.start_ticks == ticks) {
			/* still the program: a pid is not reused before its reap */
			if (ps.state == 'Z')
				return ps.exit_code;
		} else if (info == INFO_NONE || i >= 20) {
			return -1;	/* reaped, and the kernel kept no record of it */
		}
		nap_ms(1);
	}
	return -1;
}

/* Keeps only the descriptors in keep[0..n) (moved above 2 when needed),
 * with 0, 1 and 2 on /dev/null. */
static void keep_only(int *keep, int n)
{
	int null;

	for (int i = 0; i < n; i++) {
		if (keep[i] <= 2) {
			int fd = fcntl(keep[i], F_DUPFD, 3);
			close(keep[i]);
			keep[i] = fd;
		}
	}
	null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd <= 2; fd++)
		if (null != fd)
			dup2(null, fd);
	if (null > 2)
		close(null);
	for (int fd = 3; fd < 1024 * 1024; fd++) {
		int next = -1;
		for (int i = 0; i < n; i++)
			if (keep[i] >= fd && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			if (syscall(SYS_close_range, fd, ~0U, 0) < 0)
				for (int k = fd; k < 65536; k++)
					close(k);
			return;
		}
		if (next > fd && syscall(SYS_close_range, fd, next - 1, 0) < 0)
			for (int k = fd; k < next; k++)
				close(k);
		fd = next;
	}
}

/* Tells the drain loop the program ended: a thread that waits on the
 * pidfd and rings the drain's doorbell. */
struct end_watch {
	int pidfd;
	struct st_drain *d;
	_Atomic bool ended;
};

static void *wait_end(void *arg)
{
	struct end_watch *e = arg;
	struct pollfd p = { .fd = e->pidfd, .events = POLLIN };

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	atomic_store(&e->ended, true);
	st_drain_wake(e->d);
	return NULL;
}

/* The run's events, while the program and every traced process after it
 * live: drained from the shared memory to the trace, the program's end
 * written after its last event (then readers may go on), and the rest
 * until no traced process is left. */
/* Says on errfd (the user's stderr, kept until the program's end) when
 * the trace could not be written, then lets errfd go: a reader of that
 * stderr gets its end of file with the program's. */
static void tell_unwritten(struct st_drain *d, int errfd)
{
	char msg[512];
	int n;

	if (errfd < 0)
		return;
	if (st_drain_error(d)) {
		unsigned long long lost = (unsigned long long)st_drain_unwritten(d);
		n = snprintf(msg, sizeof(msg),
			     "socktrace: the trace could not be written (%s): %llu %s of this run %s not in it; "
			     "it ends at its last whole event\n",
			     strerror(st_drain_error(d)), lost, lost == 1 ? "event" : "events",
			     lost == 1 ? "is" : "are");
		if (n > 0 && write(errfd, msg, (size_t)n) < 0) {
			/* nowhere else to say it */
		}
	}
	close(errfd);
}

static _Noreturn void drain_run(struct st_drain *d, int pidfd, pid_t prog, uint64_t ticks, struct st_runout *o,
				int errfd)
{
	struct end_watch e = { .pidfd = pidfd, .d = d };
	pthread_t t;
	bool ended = false;
	int idle_ms = st_drain_is_tty(d) ? 15 : 100;

	if (pthread_create(&t, NULL, wait_end, &e) != 0)
		idle_ms = 10;	/* no thread: the pidfd is polled between passes */
	for (;;) {
		st_drain_pass(d);
		if (!ended) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			if (atomic_load(&e.ended) || poll(&p, 1, 0) > 0) {
				int wstatus = program_end(pidfd, prog, ticks);
				/* the program's last events (the ring of a killed
				 * program is read as its process is gone) */
				st_drain_pass(d);
				st_drain_end(d, prog, wstatus);
				/* its record is in: the lock goes */
				st_runout_close(o);
				st_drain_flush(d);
				tell_unwritten(d, errfd);
				ended = true;
			}
		}
		if (ended && st_drain_idle(d))
			break;
		st_drain_wait(d, idle_ms);
	}
	st_drain_finish(d);
	_exit(0);
}

static _Noreturn void watch(int pidfd, pid_t prog, uint64_t ticks, struct st_runout *o, struct st_drain *d, int ready,
			    int exec_fd)
{
	/* the user's stderr, to say the trace could not be written (the
	 * drain's output may be stderr itself: then this is a second copy) */
	int errfd = d ? fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
	int keep[] = { pidfd, o->fd, ready, exec_fd, errfd, d ? st_drain_fd(d) : -1, d ? st_drain_out(d) : -1 };
	struct pollfd p = { .events = POLLIN };
	pid_t me;
	sigset_t none;
	char c;

	setsid();
	prctl(PR_SET_NAME, "socktrace-watch");
	if (chdir("/") < 0) {
		/* it only keeps a directory busy */
	}
	/* it outlives the program by milliseconds: only SIGKILL (and SIGSTOP)
	 * stop it; a group's or a service's SIGTERM must not lose the record */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGCHLD && sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL &&
		    sig != SIGTRAP && sig != SIGABRT && sig != SIGSYS)
			signal(sig, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	keep_only(keep, d ? 7 : 5);
	pidfd = keep[0];
	o->fd = keep[1];
	ready = keep[2];
	exec_fd = keep[3];
	errfd = keep[4];
	me = getpid();
	if (d)
		st_drain_set_runner(d, me);
	/* its pid: the runner names the shared memory by it */
	while (write(ready, &me, sizeof(me)) < 0 && errno == EINTR)
		;
	close(ready);
	/* EOF: the exec closed the runner's end (or the runner died first) */
	if (read(exec_fd, &c, 1) == 1)
		_exit(0);
	close(exec_fd);
	if (d)
		drain_run(d, pidfd, prog, ticks, o, errfd);
	p.fd = pidfd;
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	st_runout_end(o, prog, program_end(pidfd, prog, ticks));
	/* the lock goes with the last descriptor of the file */
	_exit(0);
}

int st_watch_start(struct st_runout *o, struct st_drain *d, struct st_watch *w)
{
	pid_t me = getpid(), mid, watcher = 0;
	struct st_procstat ps;
	sigset_t pending;
	int pidfd, ready[2], exec_pipe[2];
	bool chld_pending;
	ssize_t n;

	w->exec_fd = -1;
	pidfd = (int)syscall(SYS_pidfd_open, me, 0);	/* close-on-exec */
	if (pidfd < 0 || st_procstat_read(me, &ps) < 0) {
		if (pidfd >= 0)
			close(pidfd);
		st_runout_close(o);
		return -1;
	}
	/* held from before the program starts: a reader that starts after its
	 * end always finds it (no lock on this file system: readers do not wait) */
	if (o->file)
		st_tracelock_hold(o->fd, me, ps.start_ticks);
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(pidfd);
		st_runout_close(o);
		return -1;
	}
	if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		close(pidfd);
		st_runout_close(o);
		return -1;
	}
	sigpending(&pending);
	chld_pending = sigismember(&pending, SIGCHLD);
	mid = fork();
	if (mid == 0) {
		close(ready[0]);
		close(exec_pipe[1]);
		if (fork() == 0)
			watch(pidfd, me, ps.start_ticks, o, d, ready[1], exec_pipe[0]);
		_exit(0);
	}
	close(ready[1]);
	close(exec_pipe[0]);
	close(pidfd);
	st_runout_close(o);	/* the watcher's copy keeps the lock */
	if (mid > 0) {
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
		/* the intermediate's SIGCHLD, left pending when the caller blocks
		 * it, would reach the program: taken back */
		sigpending(&pending);
		if (!chld_pending && sigismember(&pending, SIGCHLD)) {
			sigset_t one;
			struct timespec zero = { 0, 0 };
			sigemptyset(&one);
			sigaddset(&one, SIGCHLD);
			sigtimedwait(&one, NULL, &zero);
		}
	}
	/* its pid: the watcher runs; EOF: no fork made it */
	while ((n = read(ready[0], &watcher, sizeof(watcher))) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (n != (ssize_t)sizeof(watcher)) {
		close(exec_pipe[1]);
		return -1;
	}
	w->exec_fd = exec_pipe[1];
	w->pid = watcher;
	return 0;
}

void st_watch_exec_failed(struct st_watch *w, int err)
{
	unsigned char c = (unsigned char)err;

	if (w->exec_fd < 0)
		return;
	while (write(w->exec_fd, &c, 1) < 0 && errno == EINTR)
		;
	close(w->exec_fd);
	w->exec_fd = -1;
}
