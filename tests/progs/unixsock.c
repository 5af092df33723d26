/* SPDX-License-Identifier: MIT */
/* unixsock.c - AF_UNIX sockets for the shim's tests.
 *
 *   stream NAME      listen on NAME ("/path" or "@abstract"), connect,
 *                    accept, exchange, close client, accepted, listener
 *   dgram NAME       a datagram socket bound to NAME; a client bound to
 *                    NAME.c connects to it and sends; the server answers
 *   pair stream|dgram  socketpair, exchange, close both
 * Facts: "listen fd=N local=A ino=I", "connect fd=N remote=A ino=I",
 * "accept fd=N local=A ino=I", "server fd=N local=A", "client fd=N local=A
 * remote=A", "pair fds=N,M ino=I,J", "close fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "stream NAME | dgram NAME | pair stream|dgram";

static void do_close(int fd)
{
	if (close(fd) < 0)
		tp_die_errno("close %d", fd);
	printf("close fd=%d\n", fd);
}

static void xfer(int from, int to)
{
	char buf[8];

	if (write(from, "ping", 4) != 4 || read(to, buf, sizeof(buf)) != 4)
		tp_die_errno("exchange %d -> %d", from, to);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss, cs;
	char a1[TP_ADDR_MAX], a2[TP_ADDR_MAX];

	tp_init(argc, argv);
	if (argc != 3)
		tp_usage(usage);
	const char *mode = argv[1], *name = argv[2];

	if (strcmp(mode, "stream") == 0) {
		socklen_t len = tp_unix_addr(name, &ss);
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 8) < 0)
			tp_die_errno("listen on %s", name);
		printf("listen fd=%d local=%s ino=%lu\n", l, tp_local(l, a1), tp_inode(l));
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("connect to %s", name);
		printf("connect fd=%d remote=%s ino=%lu\n", c, tp_remote(c, a1), tp_inode(c));
		int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			tp_die_errno("accept4");
		printf("accept fd=%d local=%s ino=%lu\n", a, tp_local(a, a1), tp_inode(a));
		xfer(c, a);
		xfer(a, c);
		do_close(c);
		do_close(a);
		do_close(l);
		if (name[0] == '/')
			unlink(name);
	} else if (strcmp(mode, "dgram") == 0) {
		char cname[TP_ADDR_MAX];
		socklen_t len = tp_unix_addr(name, &ss);
		snprintf(cname, sizeof(cname), "%s.c", name);
		socklen_t clen = tp_unix_addr(cname, &cs);
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("bind %s", name);
		printf("server fd=%d local=%s ino=%lu\n", s, tp_local(s, a1), tp_inode(s));
		int c = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (c < 0 || bind(c, (struct sockaddr *)&cs, clen) < 0)
			tp_die_errno("bind %s", cname);
		if (connect(c, (struct sockaddr *)&ss, len) < 0)
			tp_die_errno("connect to %s", name);
		printf("client fd=%d local=%s remote=%s ino=%lu\n", c, tp_local(c, a1),
		       tp_remote(c, a2), tp_inode(c));
		xfer(c, s);
		if (sendto(s, "pong", 4, 0, (struct sockaddr *)&cs, clen) != 4)
			tp_die_errno("sendto %s", cname);
		char buf[8];
		if (read(c, buf, sizeof(buf)) != 4)
			tp_die_errno("read");
		do_close(c);
		do_close(s);
		if (name[0] == '/') {
			unlink(name);
			unlink(cname);
		}
	} else if (strcmp(mode, "pair") == 0) {
		int type = strcmp(name, "dgram") == 0 ? SOCK_DGRAM : SOCK_STREAM;
		int sv[2];
		if (strcmp(name, "dgram") != 0 && strcmp(name, "stream") != 0)
			tp_usage(usage);
		if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
			tp_die_errno("socketpair");
		printf("pair fds=%d,%d ino=%lu,%lu\n", sv[0], sv[1], tp_inode(sv[0]), tp_inode(sv[1]));
		xfer(sv[0], sv[1]);
		xfer(sv[1], sv[0]);
		do_close(sv[0]);
		do_close(sv[1]);
	} else {
		tp_usage(usage);
	}
	return 0;
}
