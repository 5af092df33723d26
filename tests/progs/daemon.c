/* SPDX-License-Identifier: MIT */
/* daemon.c - what daemons do to descriptors, then socket work as usual.
 *
 *   daemon FACTS loop          close(fd) for every fd from 0 to the
 *                              descriptor limit (at least 1024), then
 *                              0, 1, 2 onto /dev/null
 *   daemon FACTS close_range   close_range(3, ~0U, 0)
 *   daemon FACTS closefrom     closefrom(3)
 *   daemon FACTS dup2 FIRST    dup2() a socket onto every other fd from FIRST
 *                              up to the limit, then close them all
 *   daemon FACTS probe         fcntl(F_GETFD) on every fd below the limit,
 *                              then close() on every fd from 3: prints what
 *                              each found, to compare with a run without
 *                              the shim
 * Then, in every mode, a TCP exchange on 127.0.0.1: listener, connect,
 * accept4, three closes.  Every step must succeed, or the program exits 99.
 * Facts are appended to the file FACTS (opened for each line, as the
 * program's own descriptors come and go): "bulk mode=M ...",
 * "after listen=L port=P client=C accepted=A", "done".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] = "FACTS loop|close_range|closefrom|dup2 FIRST|probe";

static const char *facts;

static __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line))
		tp_die("fact too long");
	fd = open(facts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		tp_die_errno("open %s", facts);
	tp_write_all(fd, line, (size_t)n);
	close(fd);
}

static int fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536)
		return 65536;
	return (int)rl.rlim_cur;
}

/* Each fd below the limit: "o" open, "-" EBADF, else the errno's name;
 * runs of the same answer are written as "ANSWERxCOUNT" */
static void probe(void)
{
	static char list[1 << 16];
	size_t n = 0;
	int limit = fd_limit();
	const char *prev = NULL;
	int run = 0;

	for (int fd = 0; fd <= limit; fd++) {
		const char *what = "end";
		if (fd < limit) {
			errno = 0;
			what = fcntl(fd, F_GETFD) >= 0 ? "o" : errno == EBADF ? "-" : tp_errname(errno);
		}
		if (prev && strcmp(prev, what) != 0) {
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%sx%d", n ? "," : "", prev, run);
			run = 0;
		}
		prev = what;
		run++;
	}
	say("probe getfd=%s\n", list);
	n = 0;
	prev = NULL;
	run = 0;
	for (int fd = 3; fd <= limit; fd++) {
		const char *what = "end";
		if (fd < limit) {
			errno = 0;
			what = close(fd) == 0 ? "ok" : tp_errname(errno);
		}
		if (prev && strcmp(prev, what) != 0) {
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%sx%d", n ? "," : "", prev, run);
			run = 0;
		}
		prev = what;
		run++;
	}
	say("probe close=%s\n", list);
}

static void exchange(void)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int l, c, a;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 4) < 0)
		tp_die_errno("listener");
	len = sizeof(ss);
	if (getsockname(l, (struct sockaddr *)&ss, &len) < 0)
		tp_die_errno("getsockname");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, len) < 0)
		tp_die_errno("connect");
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (a < 0)
		tp_die_errno("accept4");
	say("after listen=%d port=%d client=%d accepted=%d\n", l, tp_port(l), c, a);
	if (close(c) < 0 || close(a) < 0 || close(l) < 0)
		tp_die_errno("close");
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc < 3)
		tp_usage(usage);
	facts = argv[1];
	const char *mode = argv[2];
	int limit = fd_limit();

	if (strcmp(mode, "loop") == 0 && argc == 3) {
		int last = limit < 1024 ? 1024 : limit;
		for (int fd = 0; fd < last; fd++)
			close(fd);
		for (int fd = 0; fd < 3; fd++)
			if (open("/dev/null", O_RDWR) != fd)
				tp_die("/dev/null is not on %d", fd);
		say("bulk mode=loop closed=0..%d\n", last - 1);
	} else if (strcmp(mode, "close_range") == 0 && argc == 3) {
		if (close_range(3, ~0U, 0) < 0)
			tp_die_errno("close_range");
		say("bulk mode=close_range first=3\n");
	} else if (strcmp(mode, "closefrom") == 0 && argc == 3) {
		closefrom(3);
		say("bulk mode=closefrom first=3\n");
	} else if (strcmp(mode, "dup2") == 0 && argc == 4) {
		int first = (int)tp_num(argv[3]);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			tp_die_errno("socket");
		for (int fd = first; fd < limit; fd++)
			if (fd != s && dup2(s, fd) != fd)
				tp_die_errno("dup2(%d, %d)", s, fd);
		for (int fd = first; fd < limit; fd++)
			if (fd != s && close(fd) < 0)
				tp_die_errno("close %d", fd);
		if (close(s) < 0)
			tp_die_errno("close %d", s);
		say("bulk mode=dup2 socket=%d first=%d last=%d\n", s, first, limit - 1);
	} else if (strcmp(mode, "probe") == 0 && argc == 3) {
		probe();
	} else {
		tp_usage(usage);
	}
	exchange();
	say("done\n");
	return 0;
}
