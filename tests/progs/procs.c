/* SPDX-License-Identifier: MIT */
/* procs.c - sockets across new processes and process ends.
 *
 *   procs leak        forking server: fork() a child per connection; the
 *                     parent closes its copy at once, the child closes
 *                     the listener and the client, serves, and exits
 *                     holding the connection (exit(0), no close)
 *   procs _Fork       the same with _Fork(); the child closes it
 *   procs sysfork     the same with syscall(SYS_fork); the child closes it
 *   procs vfork-dup2  vfork(); the child dup2()s the connection onto 0 and
 *                     1 and execs /bin/echo (every other socket is
 *                     close-on-exec); the parent closes its copy
 *   procs vfork-closerange  vfork(); the child calls close_range(3, ~0U, 0)
 *                     and execs /bin/true; the parent then closes the
 *                     connection, the client and the listener
 *   procs killed      a forked child connects and waits; the parent
 *                     accepts, kills it with SIGKILL and reaps it
 *   procs _exit|_Exit|quick_exit   a listener is made and left open; the
 *                     process ends with that call, status 3
 * Facts: those of tp_loopback_trio (or "listen fd= port= ino="), "child
 * pid=C how=H", "parent pid=P", "served bytes=N pid=C", "echo read=N",
 * "peer read=N eof=1", "reaped pid=C status=S signal=G", "closed fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t _Fork(void);

static const char usage[] = "leak|_Fork|sysfork|vfork-dup2|vfork-closerange|killed|_exit|_Exit|quick_exit";

static void reaped(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d signal=%d\n", (int)pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void checked_close(int fd)
{
	if (close(fd) != 0)
		tp_die_errno("close %d", fd);
	printf("closed fd=%d\n", fd);
}

/* The client: "ping", the echo, then (once the child is gone) EOF. */
static void client_side(int c, pid_t child)
{
	char buf[16];
	long n;

	tp_write_all(c, "ping", 4);
	n = tp_read_full(c, buf, 4);
	printf("echo read=%ld\n", n);
	reaped(child);
	printf("peer read=0 eof=%d\n", tp_read_eof(c) == 0);
}

static void forking_server(const char *how)
{
	int l, c, s;
	char buf[16];
	long n;
	pid_t w;

	tp_loopback_trio(&l, &c, &s);
	printf("parent pid=%d\n", (int)getpid());
	fflush(stdout);
	w = !strcmp(how, "_Fork") ? _Fork() : !strcmp(how, "sysfork") ? (pid_t)syscall(SYS_fork) : fork();
	if (w < 0)
		tp_die_errno("%s", how);
	if (w == 0) {
		close(l);
		close(c);
		n = tp_read_full(s, buf, 4);	/* after the parent's close */
		tp_write_all(s, buf, (size_t)n);
		printf("served bytes=%ld pid=%d\n", n, (int)getpid());
		if (strcmp(how, "leak"))
			checked_close(s);
		exit(0);
	}
	printf("child pid=%d how=%s\n", (int)w, how);
	checked_close(s);	/* the child holds it */
	client_side(c, w);
	checked_close(c);
	checked_close(l);
}

static void cloexec(int fd)
{
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		tp_die_errno("F_SETFD");
}

static void vfork_dup2(void)
{
	int l, c, s;
	pid_t w;

	tp_loopback_trio(&l, &c, &s);
	printf("parent pid=%d\n", (int)getpid());
	cloexec(l);
	cloexec(c);
	cloexec(s);
	fflush(stdout);
	w = vfork();
	if (w < 0)
		tp_die_errno("vfork");
	if (w == 0) {
		dup2(s, 0);
		dup2(s, 1);
		execl("/bin/echo", "echo", "hello", (char *)NULL);
		_exit(127);
	}
	printf("child pid=%d how=vfork\n", (int)w);
	checked_close(s);
	reaped(w);
	{
		char buf[64];
		long n = tp_read_full(c, buf, sizeof(buf));
		printf("peer read=%ld eof=1\n", n);
	}
	checked_close(c);
	checked_close(l);
}

static void vfork_closerange(void)
{
	int l, c, s;
	pid_t w;

	tp_loopback_trio(&l, &c, &s);
	printf("parent pid=%d\n", (int)getpid());
	fflush(stdout);
	w = vfork();
	if (w < 0)
		tp_die_errno("vfork");
	if (w == 0) {
		close_range(3, ~0U, 0);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	printf("child pid=%d how=vfork\n", (int)w);
	reaped(w);
	printf("open fds=%d\n", fcntl(l, F_GETFD) != -1 && fcntl(c, F_GETFD) != -1 && fcntl(s, F_GETFD) != -1);
	checked_close(s);
	printf("peer read=0 eof=%d\n", tp_read_eof(c) == 0);
	checked_close(c);
	checked_close(l);
}

static void killed(void)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int l = socket(AF_INET, SOCK_STREAM, 0), s, one = 1, ready[2];
	pid_t w;
	char b;

	if (pipe(ready) < 0)
		tp_die_errno("pipe");
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 8) < 0)
		tp_die_errno("listener");
	len = sizeof(ss);
	getsockname(l, (struct sockaddr *)&ss, &len);
	printf("listen fd=%d port=%d ino=%lu\n", l, tp_port(l), tp_inode(l));
	printf("parent pid=%d\n", (int)getpid());
	fflush(stdout);
	w = fork();
	if (w < 0)
		tp_die_errno("fork");
	if (w == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		char buf[TP_ADDR_MAX];
		close(l);
		if (c < 0 || connect(c, (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("connect");
		printf("client fd=%d ino=%lu local=%s\n", c, tp_inode(c), tp_local(c, buf));
		tp_write_all(ready[1], "r", 1);
		for (;;)
			pause();
	}
	printf("child pid=%d how=fork\n", (int)w);
	s = accept(l, NULL, NULL);
	if (s < 0)
		tp_die_errno("accept");
	printf("accept fd=%d ino=%lu\n", s, tp_inode(s));
	if (tp_read_full(ready[0], &b, 1) != 1)	/* the child has said its facts */
		tp_die("the child is not ready");
	close(ready[0]);
	close(ready[1]);
	kill(w, SIGKILL);
	reaped(w);
	printf("peer read=0 eof=%d\n", tp_read_eof(s) == 0);
	checked_close(s);
	checked_close(l);
}

static void ends(const char *how)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 8) < 0)
		tp_die_errno("listener");
	printf("listen fd=%d port=%d ino=%lu\n", l, tp_port(l), tp_inode(l));
	printf("parent pid=%d\n", (int)getpid());
	fflush(stdout);
	if (!strcmp(how, "_exit"))
		_exit(3);
	if (!strcmp(how, "_Exit"))
		_Exit(3);
	quick_exit(3);
}

int main(int argc, char **argv)
{
	const char *m;

	tp_init(argc, argv);
	if (argc != 2)
		tp_usage(usage);
	m = argv[1];
	if (!strcmp(m, "leak") || !strcmp(m, "_Fork") || !strcmp(m, "sysfork"))
		forking_server(m);
	else if (!strcmp(m, "vfork-dup2"))
		vfork_dup2();
	else if (!strcmp(m, "vfork-closerange"))
		vfork_closerange();
	else if (!strcmp(m, "killed"))
		killed();
	else if (!strcmp(m, "_exit") || !strcmp(m, "_Exit") || !strcmp(m, "quick_exit"))
		ends(m);
	else
		tp_usage(usage);
	return 0;
}
