/* SPDX-License-Identifier: MIT */
/* sockexit.c - ends in a chosen way after one socket call, for the tests
 * of exit statuses and of the trace's durability.
 *   status N     exit(N)
 *   signal SIG   raise(SIG) (a number or TERM, KILL, SEGV, ABRT, INT)
 *   abort        abort()
 *   segv         a write through a null pointer
 * With -n N it then makes N more sockets, each bound to
 * 127.0.0.1:0 and left open (socket, setsockopt SO_REUSEADDR, bind: 3N
 * calls), prints a fact, and ends in the chosen way: no wrapped call
 * comes between the last bind and the end.
 * Facts: "socket fd=N ino=I pid=P ppid=Q", with -n "made n=N last_fd=F last_port=P".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "[-n N] status N | signal SIG | abort | segv";

static int signum(const char *s)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "TERM", SIGTERM }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
		{ "ABRT", SIGABRT }, { "INT", SIGINT }, { "HUP", SIGHUP },
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	return (int)tp_num(s);
}

/* n sockets bound to 127.0.0.1:0, left open; prints the last one's fd and port */
static void make_bound(long n)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int fd = -1, one = 1;

	for (long i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			tp_die_errno("socket #%ld", i + 1);
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			tp_die_errno("setsockopt #%ld", i + 1);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("bind #%ld", i + 1);
	}
	/* stdout is line-buffered: the fact is out before the end */
	printf("made n=%ld last_fd=%d last_port=%d\n", n, fd, fd < 0 ? -1 : tp_port(fd));
}

int main(int argc, char **argv)
{
	long more = 0;

	tp_init(argc, argv);
	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		more = tp_num(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || argc > 3 || more < 0)
		tp_usage(usage);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		tp_die_errno("socket");
	printf("socket fd=%d ino=%lu pid=%d ppid=%d\n", s, tp_inode(s), (int)getpid(), (int)getppid());
	if (more)
		make_bound(more);

	if (strcmp(argv[1], "status") == 0 && argc == 3)
		exit((int)tp_num(argv[2]));
	if (strcmp(argv[1], "signal") == 0 && argc == 3) {
		int sig = signum(argv[2]);
		signal(sig, SIG_DFL);
		raise(sig);
		tp_die("still alive after signal %d", sig);
	}
	if (strcmp(argv[1], "abort") == 0 && argc == 2)
		abort();
	if (strcmp(argv[1], "segv") == 0 && argc == 2) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)(uintptr_t)tp_num("0") = 1;	/* the compiler cannot see it is null */
		tp_die("still alive after a write to address 0");
	}
	tp_usage(usage);
}
