/* SPDX-License-Identifier: MIT */
/* execs.c - sockets at exec and at posix_spawn.
 *
 *   execs cloexec    a SOCK_CLOEXEC listener, then execl("/bin/true"):
 *                    the kernel closes the listener at the exec
 *   execs missing    a SOCK_CLOEXEC listener, then execve() of a program
 *                    that does not exist (ENOENT): the listener stays
 *                    open; it is then closed
 *   execs spawn      a listener, a client and the accepted end (the
 *                    first two close-on-exec); posix_spawn() of
 *                    sh -c 'read x' with a pipe on its stdin: sh inherits
 *                    the connection; the parent closes its copy at once,
 *                    then lets sh exit (a line on the pipe) and reaps it;
 *                    the client reads to EOF
 *   execs popen      the same connection, then popen("read x", "w"): the
 *                    shell inherits it; the parent closes its copy at once,
 *                    reads the client's TCP state, writes a line, pclose()
 *   execs untraced   a listener; a forked child execs /bin/sh with an
 *                    empty environment (no LD_PRELOAD: the new image is
 *                    not traced), which closes the listener it inherited
 *                    and exits; the parent closes its copy and reaps it
 * Facts: "listen fd= port= ino=" (or those of tp_loopback_trio), "exec
 * errno=E kept=0|1" (missing: whether fcntl still finds the listener),
 * "spawned pid=C", "closed fd=N", "reaped pid=C status=S", "peer read=N
 * eof=1", "handed state=S" (popen: the client's TCP state after the
 * parent's close).
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char usage[] = "cloexec|missing|spawn|popen|untraced";

static int cloexec_listener(void)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 8) < 0)
		tp_die_errno("listener");
	printf("listen fd=%d port=%d ino=%lu\n", l, tp_port(l), tp_inode(l));
	fflush(stdout);
	return l;
}

static void checked_close(int fd)
{
	if (close(fd) != 0)
		tp_die_errno("close %d", fd);
	printf("closed fd=%d\n", fd);
}

static void spawn(void)
{
	char *argv[] = { "sh", "-c", "read x", NULL };
	posix_spawn_file_actions_t fa;
	int l, c, s, p[2], err, st;
	pid_t pid;

	tp_loopback_trio(&l, &c, &s);
	fcntl(l, F_SETFD, FD_CLOEXEC);
	fcntl(c, F_SETFD, FD_CLOEXEC);
	if (pipe2(p, O_CLOEXEC) < 0)
		tp_die_errno("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	fflush(stdout);
	err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	if (err)
		tp_die("posix_spawn: %s", tp_errname(err));
	printf("spawned pid=%d\n", (int)pid);
	checked_close(s);	/* sh holds it */
	close(p[0]);
	tp_write_all(p[1], "\n", 1);
	close(p[1]);
	if (waitpid(pid, &st, 0) != pid)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("peer read=0 eof=%d\n", tp_read_eof(c) == 0);
	checked_close(c);
	checked_close(l);
}

static void with_popen(void)
{
	int l, c, s;
	FILE *p;

	tp_loopback_trio(&l, &c, &s);
	fflush(stdout);
	if (!(p = popen("read x", "w")))	/* the shell inherits s */
		tp_die_errno("popen");
	checked_close(s);
	printf("handed state=%s\n", tp_tcp_state(c));
	fputs("\n", p);
	printf("reaped pid=0 status=%d\n", pclose(p));
	printf("peer read=0 eof=%d\n", tp_read_eof(c) == 0);
	checked_close(c);
	checked_close(l);
}

static void untraced(void)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int l = socket(AF_INET, SOCK_STREAM, 0), st;
	char cmd[64];
	pid_t pid;

	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 8) < 0)
		tp_die_errno("listener");
	printf("listen fd=%d port=%d ino=%lu\n", l, tp_port(l), tp_inode(l));
	snprintf(cmd, sizeof(cmd), "exec %d>&-; exec sleep 0.2", l);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tp_die_errno("fork");
	if (pid == 0) {
		char *args[] = { "sh", "-c", cmd, NULL }, *env[] = { NULL };
		execve("/bin/sh", args, env);
		_exit(127);
	}
	printf("spawned pid=%d\n", (int)pid);
	checked_close(l);
	if (waitpid(pid, &st, 0) != pid)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv)
{
	int l, e;

	tp_init(argc, argv);
	if (argc != 2)
		tp_usage(usage);
	if (!strcmp(argv[1], "cloexec")) {
		cloexec_listener();
		execl("/bin/true", "true", (char *)NULL);
		tp_die_errno("execl /bin/true");
	} else if (!strcmp(argv[1], "missing")) {
		char *args[] = { "socktrace-no-such-program", NULL };
		l = cloexec_listener();
		execve("/nonexistent/socktrace-no-such-program", args, environ);
		e = errno;
		printf("exec errno=%s kept=%d\n", tp_errname(e), fcntl(l, F_GETFD) != -1);
		checked_close(l);
	} else if (!strcmp(argv[1], "spawn")) {
		spawn();
	} else if (!strcmp(argv[1], "popen")) {
		with_popen();
	} else if (!strcmp(argv[1], "untraced")) {
		untraced();
	} else {
		tp_usage(usage);
	}
	return 0;
}
