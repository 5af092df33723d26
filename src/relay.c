/* SPDX-License-Identifier: MIT */
/* relay.c - the runner's fallback: it stays the program's parent, when no
 * watcher can be made (no pidfd_open before Linux 5.3, no fork), when it is
 * a pid namespace's init (the namespace, and a watcher with it, ends with
 * the program), or when SOCKTRACE_RUNNER=parent asks for it.
 *
 * Owns: passing on to the program every signal the runner gets (taken
 * with sigwaitinfo, every catchable one but the faults, which are the
 * runner's own), the process group and the terminal (the program gets its
 * own group, and the terminal when the runner had it in the foreground,
 * as a shell gives a job; a stop of the program stops the runner and
 * gives the terminal back, SIGCONT hands it over again), the program's
 * death with the runner's (PR_SET_PDEATHSIG), the end record (the wait
 * status, exact), and ending as the program did: its exit status, or
 * death by its signal (default action, no core dump of the runner).
 * Must never change what the program starts with: its signal mask is the
 * runner's original, no disposition is changed before the exec, stdio is
 * its own; the runner lets go of stdin, stdout and stderr once the program
 * runs.  What still differs from a bare run is in socktrace(1).
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* the terminal's descriptor among 0, 1 and 2, -1 none */
static int control_tty(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (isatty(fd) && tcgetpgrp(fd) >= 0)
			return fd;
	return -1;
}

/* The program stopped with sig: the runner stops with it, so its own
 * parent (the shell) sees the job stop; it resumes at SIGCONT. */
static void stop_as(int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t one, pending;
	bool cont_before;

	sigpending(&pending);
	cont_before = sigismember(&pending, SIGCONT);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigaction(sig, &dfl, &old);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	sigprocmask(SIG_BLOCK, &one, NULL);
	sigaction(sig, &old, NULL);
	/* a stop signal but SIGSTOP is dropped in an orphaned group: no
	 * SIGCONT came, so the runner did not stop */
	sigpending(&pending);
	if (!cont_before && !sigismember(&pending, SIGCONT))
		raise(SIGSTOP);
}

/* see runner.h */
void st_die_as(int sig)
{
	struct rlimit zero = { 0, 0 };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t one;

	setrlimit(RLIMIT_CORE, &zero);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
}

/* stdin, stdout and stderr on /dev/null: a reader of the program's pipes
 * sees their end when the program closes them */
static void let_go_of_stdio(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	if (null > 2)
		close(null);
}

/* The child's side: its group, the terminal, death with the runner, the
 * original mask, the exec. */
static _Noreturn void child(char *const *argv, pid_t runner, bool own_group, int tty, const sigset_t *orig,
			    const struct sigaction *chld, int exec_fd)
{
	int err;

	if (own_group)
		setpgid(0, 0);
	if (tty >= 0)
		tcsetpgrp(tty, getpid());	/* SIGTTOU is blocked: allowed */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != runner)
		raise(SIGKILL);	/* the runner died before the prctl */
	sigaction(SIGCHLD, chld, NULL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "socktrace: cannot run %s: %s\n", argv[0], strerror(err));
	while (write(exec_fd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(err == ENOENT ? 127 : 126);
}

/* No process can be made: the program runs in this one, as it would bare,
 * and its end is not recorded.  Returns only when the exec failed. */
static int unwatched(char *const *argv, const sigset_t *orig, const struct sigaction *chld)
{
	int err = errno;

	fprintf(stderr, "socktrace: cannot make a process (%s): %s runs without its end recorded\n",
		strerror(err), argv[0]);
	sigaction(SIGCHLD, chld, NULL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "socktrace: cannot run %s: %s\n", argv[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}

/* Waits for the program, passing signals on; returns its end's wait status. */
static int relay(pid_t prog, bool own_group, int tty, pid_t pgrp, const sigset_t *all)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(all, &si), st;
		pid_t p;

		if (sig < 0)
			continue;
		if (sig == SIGCHLD) {
			/* other children are orphans given to the runner as a
			 * namespace's init: reaped, not recorded */
			while ((p = waitpid(-1, &st, WNOHANG | WUNTRACED)) > 0) {
				if (p != prog)
					continue;
				if (WIFEXITED(st) || WIFSIGNALED(st))
					return st;
				if (WIFSTOPPED(st)) {
					if (tty >= 0)
						tcsetpgrp(tty, pgrp);	/* the terminal goes back */
					stop_as(WSTOPSIG(st));
					/* resumed: the SIGCONT is taken below */
				}
			}
			if (p < 0 && errno == ECHILD)
				return -1;
			if (si.si_code > 0)
				continue;	/* the kernel's news of a child, not a signal for the program */
		}
		if (sig == SIGCONT) {
			if (tty >= 0 && tcgetpgrp(tty) == pgrp)
				tcsetpgrp(tty, prog);	/* fg */
			kill(prog, SIGCONT);
			continue;
		}
		/* the terminal signalled the group the program shares: it has it */
		if (!own_group && si.si_code == SI_KERNEL)
			continue;
		if (si.si_pid == prog && (si.si_code == SI_USER || si.si_code == SI_QUEUE))
			continue;	/* the program signalled its parent */
		if (si.si_code == SI_QUEUE)
			sigqueue(prog, sig, si.si_value);
		else
			kill(prog, sig);
	}
}

int st_relay(char *const *argv, const char *output, const char *format)
{
	pid_t me = getpid(), pgrp = getpgrp(), prog;
	int tty = control_tty(), exec_pipe[2], st, err;
	bool fg = tty >= 0 && tcgetpgrp(tty) == pgrp;
	/* the runner leads the foreground job: the program gets the terminal */
	bool handoff = fg && pgrp == me;
	/* in a foreground group the runner does not lead (a script run from a
	 * terminal), the program stays in it, as bare; elsewhere (a background
	 * job, no terminal, timeout(1)) its own group, so that a signal to the
	 * runner's group reaches it once, passed on */
	bool own_group = !fg || handoff;
	struct st_runout o;
	/* an ignored SIGCHLD (inherited) would reap the program unseen */
	struct sigaction dfl = { .sa_handler = SIG_DFL }, chld;
	sigset_t all, orig;
	ssize_t n;

	sigfillset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
		    sig == SIGSYS || sig == SIGABRT)
			sigdelset(&all, sig);
	sigprocmask(SIG_BLOCK, &all, &orig);
	sigaction(SIGCHLD, &dfl, &chld);
	fflush(NULL);
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		return unwatched(argv, &orig, &chld);
	prog = fork();
	if (prog < 0) {
		close(exec_pipe[0]);
		close(exec_pipe[1]);
		return unwatched(argv, &orig, &chld);
	}
	if (prog == 0) {
		close(exec_pipe[0]);
		child(argv, me, own_group, handoff ? tty : -1, &orig, &chld, exec_pipe[1]);
	}
	close(exec_pipe[1]);
	if (own_group)
		setpgid(prog, prog);	/* both sides: no moment when it is not done */
	if (handoff)
		tcsetpgrp(tty, prog);
	while ((n = read(exec_pipe[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(exec_pipe[0]);
	if (n == sizeof(err)) {
		/* it never ran: nothing to record */
		while (waitpid(prog, &st, 0) < 0 && errno == EINTR)
			;
		if (handoff)
			tcsetpgrp(tty, pgrp);
		return err == ENOENT ? 127 : 126;
	}
	st_runout_open(&o, output, format, prog);
	if (handoff)
		tty = fcntl(tty, F_DUPFD_CLOEXEC, 3);
	else
		tty = -1;
	let_go_of_stdio();
	st = relay(prog, own_group, tty, pgrp, &all);
	st_runout_end(&o, prog, st);
	st_runout_close(&o);
	if (tty >= 0)
		tcsetpgrp(tty, pgrp);
	if (st >= 0 && WIFSIGNALED(st)) {
		st_die_as(WTERMSIG(st));
		return 128 + WTERMSIG(st);	/* an init does not die of its own signal */
	}
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}
