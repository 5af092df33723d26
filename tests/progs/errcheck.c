/* SPDX-License-Identifier: MIT */
/* errcheck.c - return values and errno of the wrapped calls, printed one
 * line per call ("LABEL ret=R errno=E"), for a test that runs it with and
 * without the shim and compares the two outputs byte for byte.
 *
 * Before every call errno is set to a sentinel (ENOTRECOVERABLE), so a
 * successful call must leave it untouched; descriptor numbers are printed
 * too, so the shim's own descriptors must not show.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SENTINEL ENOTRECOVERABLE

#define CALL(label, expr)                                                       \
	do {                                                                    \
		errno = SENTINEL;                                               \
		long r_ = (long)(expr);                                         \
		int e_ = errno;                                                 \
		printf("%-40s ret=%ld errno=%s\n", label, r_, tp_errname(e_));  \
	} while (0)

/* evaluates expr, keeps its result in var */
#define KEEP(var, label, expr)                                                  \
	do {                                                                    \
		errno = SENTINEL;                                               \
		var = (expr);                                                   \
		int e_ = errno;                                                 \
		printf("%-40s ret=%ld errno=%s\n", label, (long)var, tp_errname(e_)); \
	} while (0)

int main(int argc, char **argv)
{
	struct sockaddr_storage a, b, h;
	socklen_t alen, blen, hlen;
	int s, u, r, r2, nb, holder, devnull, dummy, sv[2] = { -1, -1 }, one = 1, v;
	socklen_t vlen;

	tp_init(argc, argv);
	if (argc != 1)
		tp_usage("");

	KEEP(s, "socket(AF_INET, SOCK_STREAM)", socket(AF_INET, SOCK_STREAM, 0));
	CALL("socket(12345)", socket(12345, SOCK_STREAM, 0));
	CALL("socket(AF_INET, SOCK_STREAM, udp)", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	CALL("socket(AF_INET, 999)", socket(AF_INET, 999, 0));
	CALL("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	CALL("socketpair(AF_UNIX)", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	printf("socketpair fds=%d,%d\n", sv[0], sv[1]);
	KEEP(devnull, "open(/dev/null)", open("/dev/null", O_RDWR));

	alen = tp_inet_addr("127.0.0.1", 0, &a);
	blen = tp_inet_addr("::1", 0, &b);
	CALL("bind(-1)", bind(-1, (struct sockaddr *)&a, alen));
	CALL("bind(/dev/null)", bind(devnull, (struct sockaddr *)&a, alen));
	CALL("bind(s, short len)", bind(s, (struct sockaddr *)&a, 3));
	CALL("bind(s, AF_INET6 addr)", bind(s, (struct sockaddr *)&b, blen));
	CALL("bind(s, 127.0.0.1:0)", bind(s, (struct sockaddr *)&a, alen));
	CALL("bind(s) again", bind(s, (struct sockaddr *)&a, alen));
	alen = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &alen);

	KEEP(u, "socket(AF_INET, SOCK_DGRAM)", socket(AF_INET, SOCK_DGRAM, 0));
	CALL("listen(udp)", listen(u, 4));
	CALL("listen(/dev/null)", listen(devnull, 4));
	CALL("accept(s) not listening", accept(s, NULL, NULL));
	CALL("listen(s)", listen(s, 4));
	CALL("accept4(s, bad flags)", accept4(s, NULL, NULL, 0x7fff0000));
	CALL("fcntl(s, F_SETFL, O_NONBLOCK)", fcntl(s, F_SETFL, O_NONBLOCK));
	CALL("accept(s) nothing pending", accept(s, NULL, NULL));
	CALL("accept4(-1)", accept4(-1, NULL, NULL, 0));

	KEEP(holder, "socket(holder)", socket(AF_INET, SOCK_STREAM, 0));
	hlen = tp_inet_addr("127.0.0.1", 0, &h);
	CALL("bind(holder)", bind(holder, (struct sockaddr *)&h, hlen));
	hlen = sizeof(h);
	getsockname(holder, (struct sockaddr *)&h, &hlen);
	KEEP(r, "socket(r)", socket(AF_INET, SOCK_STREAM, 0));
	CALL("connect(r, not listening)", connect(r, (struct sockaddr *)&h, hlen));
	vlen = sizeof(v);
	v = -1;
	CALL("getsockopt(r, SO_ERROR)", getsockopt(r, SOL_SOCKET, SO_ERROR, &v, &vlen));
	printf("so_error value=%s len=%u\n", tp_errname(v), (unsigned)vlen);
	KEEP(nb, "socket(nb, SOCK_NONBLOCK)", socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CALL("connect(nb, not listening)", connect(nb, (struct sockaddr *)&h, hlen));
	{
		struct pollfd p = { .fd = nb, .events = POLLOUT };
		CALL("poll(nb)", poll(&p, 1, 10000));
	}
	/* a wrapped call on nb before the program asks: the pending error
	 * must still be there for the program's own getsockopt */
	CALL("setsockopt(nb, SO_KEEPALIVE)", setsockopt(nb, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)));
	vlen = sizeof(v);
	v = -1;
	CALL("getsockopt(nb, SO_ERROR)", getsockopt(nb, SOL_SOCKET, SO_ERROR, &v, &vlen));
	printf("so_error value=%s len=%u\n", tp_errname(v), (unsigned)vlen);
	v = -1;
	CALL("getsockopt(nb, SO_ERROR) again", getsockopt(nb, SOL_SOCKET, SO_ERROR, &v, &vlen));
	printf("so_error value=%s len=%u\n", tp_errname(v), (unsigned)vlen);
	CALL("close(nb)", close(nb));
	KEEP(r2, "socket(r2)", socket(AF_INET, SOCK_STREAM, 0));
	CALL("connect(r2, s)", connect(r2, (struct sockaddr *)&a, alen));
	CALL("connect(r2, s) again", connect(r2, (struct sockaddr *)&a, alen));
	CALL("connect(-1)", connect(-1, (struct sockaddr *)&a, alen));
	CALL("connect(/dev/null)", connect(devnull, (struct sockaddr *)&a, alen));
	KEEP(dummy, "accept(s)", accept(s, NULL, NULL));

	CALL("shutdown(u, SHUT_WR) unconnected", shutdown(u, SHUT_WR));
	CALL("shutdown(r2, 99)", shutdown(r2, 99));
	CALL("shutdown(/dev/null)", shutdown(devnull, SHUT_RDWR));
	CALL("shutdown(r2, SHUT_RD)", shutdown(r2, SHUT_RD));

	CALL("setsockopt(s, SOL_SOCKET, 99999)", setsockopt(s, SOL_SOCKET, 99999, &one, sizeof(one)));
	CALL("setsockopt(s, SO_REUSEADDR, len 1)", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 1));
	CALL("setsockopt(s, SO_REUSEADDR)", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CALL("setsockopt(/dev/null)", setsockopt(devnull, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	vlen = sizeof(v);
	CALL("getsockopt(/dev/null, SO_ERROR)", getsockopt(devnull, SOL_SOCKET, SO_ERROR, &v, &vlen));
	vlen = 2;
	CALL("getsockopt(s, SO_ERROR, len 2)", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &vlen));
	vlen = sizeof(v);
	CALL("getsockopt(s, SO_TYPE)", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vlen));
	printf("so_type value=%d\n", v);

	CALL("dup(-1)", dup(-1));
	CALL("dup2(s, -1)", dup2(s, -1));
	CALL("dup2(s, s)", dup2(s, s));
	CALL("dup3(s, s, 0)", dup3(s, s, 0));
	CALL("dup3(s, 77, bad flags)", dup3(s, 77, 12345));
	CALL("dup2(/dev/null, 80)", dup2(devnull, 80));
	CALL("close(80)", close(80));
	CALL("fcntl(s, F_DUPFD, -1)", fcntl(s, F_DUPFD, -1));
	CALL("fcntl(-1, F_DUPFD_CLOEXEC)", fcntl(-1, F_DUPFD_CLOEXEC, 0));
	CALL("fcntl(s, F_GETFD)", fcntl(s, F_GETFD));
	CALL("fcntl(s, F_GETFL) & O_NONBLOCK", fcntl(s, F_GETFL) & O_NONBLOCK);
	CALL("fcntl(s, F_DUPFD_CLOEXEC, 90)", fcntl(s, F_DUPFD_CLOEXEC, 90));
	CALL("close(90)", close(90));

	CALL("close_range(10, 5)", close_range(10, 5, 0));
	CALL("close(-1)", close(-1));
	CALL("close(1000)", close(1000));
	CALL("close(dummy)", close(dummy));
	CALL("close(r2)", close(r2));
	CALL("close(r)", close(r));
	CALL("close(holder)", close(holder));
	CALL("close(u)", close(u));
	CALL("close(sv[0])", close(sv[0]));
	CALL("close(sv[1])", close(sv[1]));
	CALL("close(s)", close(s));
	CALL("close(s) again", close(s));
	CALL("close(/dev/null)", close(devnull));
	CALL("close(/dev/null) again", close(devnull));
	KEEP(s, "socket(AF_UNIX, SOCK_DGRAM)", socket(AF_UNIX, SOCK_DGRAM, 0));
	CALL("close(s)", close(s));
	return 0;
}
