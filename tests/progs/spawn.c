/* SPDX-License-Identifier: MIT */
/* spawn.c - starting other programs: posix_spawn, vfork + exec, exec.
 *
 *   posix_spawn PROG ARGS...   make a socket, posix_spawn PROG (which
 *                              inherits the environment), wait, close it
 *   vfork PROG ARGS...         the same with vfork() and execv()
 *   exec PROG ARGS...          make and close a socket, then execv PROG
 *                              (same pid, a new program)
 * The exit status is the child's (posix_spawn, vfork).
 * Facts: "socket fd=N ino=I pid=P", "spawned pid=C how=H", "reaped pid=C status=S",
 * "close fd=N", "exec prog=PROG pid=P".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char usage[] = "posix_spawn|vfork|exec PROG [ARGS...]";

static int make_socket(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		tp_die_errno("socket");
	printf("socket fd=%d ino=%lu pid=%d\n", s, tp_inode(s), (int)getpid());
	return s;
}

static void do_close(int s)
{
	if (close(s) < 0)
		tp_die_errno("close %d", s);
	printf("close fd=%d\n", s);
}

int main(int argc, char **argv)
{
	pid_t pid;
	int s, status, err;

	tp_init(argc, argv);
	if (argc < 3)
		tp_usage(usage);
	const char *how = argv[1];
	char **child_argv = argv + 2;

	s = make_socket();
	if (strcmp(how, "exec") == 0) {
		do_close(s);
		printf("exec prog=%s pid=%d\n", child_argv[0], (int)getpid());
		fflush(stdout);
		execv(child_argv[0], child_argv);
		tp_die_errno("execv %s", child_argv[0]);
	}
	fflush(stdout);
	if (strcmp(how, "posix_spawn") == 0) {
		err = posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ);
		if (err)
			tp_die("posix_spawn %s: %s", child_argv[0], tp_errname(err));
	} else if (strcmp(how, "vfork") == 0) {
		pid = vfork();
		if (pid < 0)
			tp_die_errno("vfork");
		if (pid == 0) {
			execv(child_argv[0], child_argv);
			_exit(127);
		}
	} else {
		tp_usage(usage);
	}
	printf("spawned pid=%d how=%s\n", (int)pid, how);
	if (waitpid(pid, &status, 0) < 0)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)pid, status);
	do_close(s);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
