/* SPDX-License-Identifier: MIT */
/* dupfd.c - descriptor aliases and bulk closes for the shim's tests.
 *
 * A TCP listener on 127.0.0.1:0 is aliased and then closed alias by alias:
 *   dup          d = dup(l)
 *   dup2         dup2(l, 50)
 *   dup2-over    dup2(l, v) where v is another open socket (closed by it)
 *   dup3         dup3(l, 60, O_CLOEXEC)
 *   fcntl        fcntl(l, F_DUPFD_CLOEXEC, 20) and fcntl(l, F_DUPFD, 30)
 * then closes the original first and the alias last.  Bulk closes:
 *   close_range  one socket kept open (leaked), three more closed by
 *                close_range(first, ~0U, 0), then one socket made and closed
 *   closefrom    the same with closefrom(first)
 * Facts: "socket fd=N ino=I", "dup call=C fd=N newfd=M", "close fd=N",
 * "bulk call=C first=N", "leak fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "dup|dup2|dup2-over|dup3|fcntl|close_range|closefrom";

static int listener(void)
{
	struct sockaddr_storage ss;
	char a[TP_ADDR_MAX];
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 4) < 0)
		tp_die_errno("listener");
	printf("socket fd=%d ino=%lu local=%s\n", l, tp_inode(l), tp_local(l, a));
	return l;
}

static int plain_socket(int type)
{
	int s = socket(AF_INET, type, 0);

	if (s < 0)
		tp_die_errno("socket");
	printf("socket fd=%d ino=%lu\n", s, tp_inode(s));
	return s;
}

static void do_close(int fd)
{
	if (close(fd) < 0)
		tp_die_errno("close %d", fd);
	printf("close fd=%d\n", fd);
}

static int alias(const char *call, int fd, int newfd)
{
	if (newfd < 0)
		tp_die_errno("%s(%d)", call, fd);
	printf("dup call=%s fd=%d newfd=%d\n", call, fd, newfd);
	return newfd;
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc != 2)
		tp_usage(usage);
	const char *mode = argv[1];

	if (strcmp(mode, "dup") == 0) {
		int l = listener();
		int d = alias("dup", l, dup(l));
		do_close(l);
		do_close(d);
	} else if (strcmp(mode, "dup2") == 0) {
		int l = listener();
		int d = alias("dup2", l, dup2(l, 50));
		do_close(l);
		do_close(d);
	} else if (strcmp(mode, "dup2-over") == 0) {
		int l = listener();
		int v = plain_socket(SOCK_STREAM);
		int d = alias("dup2", l, dup2(l, v));
		do_close(l);
		do_close(d);
	} else if (strcmp(mode, "dup3") == 0) {
		int l = listener();
		int d = alias("dup3", l, dup3(l, 60, O_CLOEXEC));
		do_close(l);
		do_close(d);
	} else if (strcmp(mode, "fcntl") == 0) {
		int l = listener();
		int d1 = alias("F_DUPFD_CLOEXEC", l, fcntl(l, F_DUPFD_CLOEXEC, 20));
		int d2 = alias("F_DUPFD", l, fcntl(l, F_DUPFD, 30));
		do_close(l);
		do_close(d1);
		do_close(d2);
	} else if (strcmp(mode, "close_range") == 0 || strcmp(mode, "closefrom") == 0) {
		int keep = plain_socket(SOCK_STREAM);
		printf("leak fd=%d\n", keep);
		int first = listener();
		plain_socket(SOCK_DGRAM);
		plain_socket(SOCK_STREAM);
		if (strcmp(mode, "closefrom") == 0) {
			closefrom(first);
		} else if (close_range((unsigned)first, ~0U, 0) < 0) {
			tp_die_errno("close_range");
		}
		printf("bulk call=%s first=%d\n", mode, first);
		int after = plain_socket(SOCK_STREAM);
		do_close(after);
	} else {
		tp_usage(usage);
	}
	return 0;
}
