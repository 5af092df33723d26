/* SPDX-License-Identifier: MIT */
/* udp.c - UDP sockets for the shim's tests: a bound "server" and a client
 * that either connects to it (connected) or binds and uses sendto (bound).
 * -6 uses ::1.  Facts: "server fd=N local=A port=P ino=I",
 * "client fd=N local=A remote=A ino=I", "recv fd=N from=A", "close fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "[-6] connected|bound";

static void recv_one(int fd)
{
	char buf[16], a[TP_ADDR_MAX];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

	if (n != 4)
		tp_die_errno("recvfrom fd %d (%zd bytes)", fd, n);
	printf("recv fd=%d from=%s\n", fd, tp_fmt_addr((struct sockaddr *)&from, flen, a));
	if (sendto(fd, "pong", 4, 0, (struct sockaddr *)&from, flen) != 4)
		tp_die_errno("sendto");
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	struct sockaddr_storage srv, me;
	char a1[TP_ADDR_MAX], a2[TP_ADDR_MAX], buf[16];
	int opt;

	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "6")) != -1) {
		if (opt == '6')
			host = "::1";
		else
			tp_usage(usage);
	}
	if (optind + 1 != argc)
		tp_usage(usage);
	bool connected = strcmp(argv[optind], "connected") == 0;
	if (!connected && strcmp(argv[optind], "bound") != 0)
		tp_usage(usage);

	socklen_t slen = tp_inet_addr(host, 0, &srv);
	int s = socket(srv.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&srv, slen) < 0)
		tp_die_errno("server bind");
	slen = sizeof(srv);
	getsockname(s, (struct sockaddr *)&srv, &slen);
	printf("server fd=%d local=%s port=%d ino=%lu\n", s, tp_local(s, a1), tp_port(s), tp_inode(s));

	int c = socket(srv.ss_family, SOCK_DGRAM, 0);
	if (c < 0)
		tp_die_errno("socket");
	if (connected) {
		if (connect(c, (struct sockaddr *)&srv, slen) < 0)
			tp_die_errno("connect");
		printf("client fd=%d local=%s remote=%s ino=%lu\n", c, tp_local(c, a1),
		       tp_remote(c, a2), tp_inode(c));
		if (send(c, "ping", 4, 0) != 4)
			tp_die_errno("send");
	} else {
		socklen_t mlen = tp_inet_addr(host, 0, &me);
		if (bind(c, (struct sockaddr *)&me, mlen) < 0)
			tp_die_errno("client bind");
		printf("client fd=%d local=%s remote= ino=%lu\n", c, tp_local(c, a1), tp_inode(c));
		if (sendto(c, "ping", 4, 0, (struct sockaddr *)&srv, slen) != 4)
			tp_die_errno("sendto");
	}
	recv_one(s);
	if (recv(c, buf, sizeof(buf), 0) != 4)
		tp_die_errno("recv");
	if (close(c) < 0 || close(s) < 0)
		tp_die_errno("close");
	printf("close fd=%d\nclose fd=%d\n", c, s);
	return 0;
}
