/* SPDX-License-Identifier: MIT */
/* activate.c - a socket-activated server, as systemd-socket-activate runs
 * one: the listener is made by a program the trace does not follow.
 *
 *   activate N Q -- PROG [ARG...]
 *                 (run untraced) makes a listener on 127.0.0.1 (an
 *                 ephemeral port, backlog 16) and forks PROG with it at
 *                 descriptor 3 (LISTEN_FDS=1, as sd_listen_fds(3) wants),
 *                 then closes its own copy: PROG holds the only one.  It
 *                 connects N + Q clients (all complete in the backlog),
 *                 sends one byte on each, reads the first N to EOF, reaps
 *                 PROG, then reads the other Q (never accepted: reset
 *                 when PROG's exit closed the listener)
 *   activate serve N
 *                 (PROG, traced) accepts N connections on descriptor 3;
 *                 on each reads one byte, writes "hi" and closes; then
 *                 exits holding descriptor 3, as a socket-activated
 *                 service leaves its listener to its manager
 * Facts: "listen port=P ino=I", "client i=K local=A read=R" (the first N),
 * "served n=N pid=P", "reaped pid=P status=S", "queued i=K local=A
 * read=R errno=E" (the Q others).
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] = "N Q -- PROG [ARG...] | serve N";

static int serve(long n)
{
	for (long i = 0; i < n; i++) {
		char b;
		int c = accept(3, NULL, NULL);
		if (c < 0)
			tp_die_errno("accept");
		if (tp_read_full(c, &b, 1) != 1)
			tp_die_errno("read");
		tp_write_all(c, "hi", 2);
		if (close(c) != 0)
			tp_die_errno("close");
	}
	printf("served n=%ld pid=%d\n", n, (int)getpid());
	fflush(stdout);
	exit(0);	/* descriptor 3 still open: the kernel closes it */
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long n, q;
	int l, status, *c;
	pid_t pid;
	char buf[16], a[TP_ADDR_MAX];

	tp_init(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(tp_num(argv[2]));
	if (argc < 5 || strcmp(argv[3], "--"))
		tp_usage(usage);
	n = tp_num(argv[1]);
	q = tp_num(argv[2]);
	len = tp_inet_addr("127.0.0.1", 0, &ss);
	l = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 16) < 0)
		tp_die_errno("listen");
	len = sizeof(ss);
	if (getsockname(l, (struct sockaddr *)&ss, &len) < 0)
		tp_die_errno("getsockname");
	printf("listen port=%d ino=%lu\n", tp_port(l), tp_inode(l));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tp_die_errno("fork");
	if (pid == 0) {
		if (dup2(l, 3) != 3 || fcntl(3, F_SETFD, 0) < 0)	/* kept across the exec */
			tp_die_errno("dup2");
		if (l != 3)
			close(l);
		setenv("LISTEN_FDS", "1", 1);
		execvp(argv[4], argv + 4);
		tp_die_errno("exec");
	}
	close(l);
	c = calloc((size_t)(n + q), sizeof(*c));
	if (!c)
		tp_die("out of memory");
	for (long i = 0; i < n + q; i++) {
		c[i] = socket(ss.ss_family, SOCK_STREAM, 0);
		if (c[i] < 0 || connect(c[i], (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("connect");
		tp_write_all(c[i], "x", 1);
	}
	for (long i = 0; i < n; i++) {
		long r = tp_read_full(c[i], buf, sizeof(buf));
		printf("client i=%ld local=%s read=%ld\n", i, tp_local(c[i], a), r);
	}
	if (waitpid(pid, &status, 0) != pid)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	for (long i = n; i < n + q; i++) {
		ssize_t r;
		tp_local(c[i], a);
		r = read(c[i], buf, sizeof(buf));
		printf("queued i=%ld local=%s read=%ld errno=%s\n", i, a, (long)r, r < 0 ? tp_errname(errno) : "0");
	}
	for (long i = 0; i < n + q; i++)
		close(c[i]);
	free(c);
	return 0;
}
