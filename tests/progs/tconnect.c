/* SPDX-License-Identifier: MIT */
/* tconnect.c - connect() outcomes for the shim's tests, in one process.
 *
 *   refused            blocking connect to a port bound but not listening
 *   nb-sockopt         non-blocking connect, poll, getsockopt(SO_ERROR)
 *   nb-close           non-blocking connect, poll, close (no getsockopt)
 *   nb-synsent         non-blocking connect while the listener's queue is
 *                      full (its SYN is dropped: SYN_SENT for sure), then
 *                      getsockopt(SO_ERROR), accept to make room, poll
 *                      until the SYN's retransmission connects, getsockopt
 *   nb-synsent-close   as nb-synsent, without any getsockopt: poll, close
 *   nb-refused         non-blocking connect to a port not listening, poll,
 *                      getsockopt(SO_ERROR)
 *   halfclose          connect, accept, "ping", shutdown(SHUT_WR) on the
 *                      client; the server reads to EOF, answers "pong" and
 *                      closes; the client reads to EOF and closes.  Both
 *                      ends in one process, so no peer moves in between.
 * -6 uses ::1.  Facts: "connect fd=N ret=R errno=E state=S addr=A",
 * "so_error fd=N value=E state=S", "shutdown fd=N state=S", "eof fd=N
 * state=S", "close fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"[-6] refused|nb-sockopt|nb-close|nb-synsent|nb-synsent-close|nb-refused|halfclose";

static const char *host = "127.0.0.1";

/* A socket bound to a free port: listening (backlog >= 0) or not (-1). */
static int endpoint(int backlog, struct sockaddr_storage *ss, socklen_t *len)
{
	char a[TP_ADDR_MAX];

	*len = tp_inet_addr(host, 0, ss);
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)ss, *len) < 0)
		tp_die_errno("bind");
	if (backlog >= 0 && listen(fd, backlog) < 0)
		tp_die_errno("listen");
	*len = sizeof(*ss);
	if (getsockname(fd, (struct sockaddr *)ss, len) < 0)
		tp_die_errno("getsockname");
	printf("%s fd=%d local=%s port=%d\n", backlog >= 0 ? "listen" : "bound", fd,
	       tp_fmt_addr((struct sockaddr *)ss, *len, a), tp_port(fd));
	return fd;
}

static int try_connect(bool nonblock, const struct sockaddr_storage *ss, socklen_t len)
{
	char a[TP_ADDR_MAX];
	int fd = socket(ss->ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		tp_die_errno("socket");
	int r = connect(fd, (const struct sockaddr *)ss, len);
	int err = r < 0 ? errno : 0;
	printf("connect fd=%d ret=%d errno=%s state=%s addr=%s\n", fd, r, tp_errname(err),
	       tp_tcp_state(fd), tp_fmt_addr((const struct sockaddr *)ss, len, a));
	return fd;
}

static void wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, 10000);

	if (r != 1)
		tp_die("fd %d not writable within 10 s (poll %d)", fd, r);
}

static void so_error(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l) < 0)
		tp_die_errno("getsockopt(SO_ERROR)");
	printf("so_error fd=%d value=%s state=%s\n", fd, tp_errname(v), tp_tcp_state(fd));
}

static void do_close(int fd)
{
	if (close(fd) < 0)
		tp_die_errno("close %d", fd);
	printf("close fd=%d\n", fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
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
	const char *mode = argv[optind];

	if (strcmp(mode, "refused") == 0) {
		int holder = endpoint(-1, &ss, &len);
		int fd = try_connect(false, &ss, len);
		do_close(fd);
		do_close(holder);
	} else if (strcmp(mode, "nb-refused") == 0) {
		int holder = endpoint(-1, &ss, &len);
		int fd = try_connect(true, &ss, len);
		wait_writable(fd);
		so_error(fd);
		do_close(fd);
		do_close(holder);
	} else if (strcmp(mode, "nb-sockopt") == 0 || strcmp(mode, "nb-close") == 0) {
		int l = endpoint(16, &ss, &len);
		int fd = try_connect(true, &ss, len);
		wait_writable(fd);
		if (strcmp(mode, "nb-sockopt") == 0)
			so_error(fd);
		int a = accept(l, NULL, NULL);
		if (a < 0)
			tp_die_errno("accept");
		printf("accept fd=%d\n", a);
		do_close(fd);
		do_close(a);
		do_close(l);
	} else if (strcmp(mode, "nb-synsent") == 0 || strcmp(mode, "nb-synsent-close") == 0) {
		bool ask = strcmp(mode, "nb-synsent") == 0;
		int l = endpoint(0, &ss, &len);
		int filler = try_connect(false, &ss, len);	/* fills the queue */
		int fd = try_connect(true, &ss, len);	/* its SYN is dropped */
		if (ask)
			so_error(fd);
		int a = accept(l, NULL, NULL);
		if (a < 0)
			tp_die_errno("accept");
		printf("accept fd=%d\n", a);
		wait_writable(fd);	/* the SYN's retransmission, ~1 s */
		if (ask)
			so_error(fd);
		do_close(fd);
		do_close(filler);
		do_close(a);
		int b = accept(l, NULL, NULL);
		if (b < 0)
			tp_die_errno("accept");
		printf("accept fd=%d\n", b);
		do_close(b);
		do_close(l);
	} else if (strcmp(mode, "halfclose") == 0) {
		char buf[8];
		int l = endpoint(16, &ss, &len);
		int fd = try_connect(false, &ss, len);
		int a = accept(l, NULL, NULL);
		if (a < 0)
			tp_die_errno("accept");
		printf("accept fd=%d\n", a);
		tp_write_all(fd, "ping\n", 5);
		if (shutdown(fd, SHUT_WR) < 0)
			tp_die_errno("shutdown");
		printf("shutdown fd=%d state=%s\n", fd, tp_tcp_state(fd));
		if (tp_read_full(a, buf, 5) != 5 || tp_read_eof(a) != 0)
			tp_die_errno("server read");
		printf("eof fd=%d state=%s\n", a, tp_tcp_state(a));
		tp_write_all(a, "pong\n", 5);
		tp_print_tcpinfo(a);
		do_close(a);
		if (tp_read_full(fd, buf, 5) != 5 || tp_read_eof(fd) != 0)
			tp_die_errno("client read");
		printf("eof fd=%d state=%s\n", fd, tp_tcp_state(fd));
		tp_print_tcpinfo(fd);
		do_close(fd);
		do_close(l);
	} else {
		tp_usage(usage);
	}
	return 0;
}
