/* SPDX-License-Identifier: MIT */
/* tcp_server.c - a TCP server for the shim's tests.
 *
 * Binds (port 0 by default), listens, prints its ready line
 *   listen fd=N local=ADDR port=P pid=PID ppid=PPID ino=I
 * then serves -n connections: reads "ping\n", answers "pong\n", and closes
 * first (-c server) or after the client's FIN (-c client).  With -F each
 * connection is served by a child process, started only after the parent
 * closed its copy of the connection.  Every step prints a fact line the
 * tests compare with the trace.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
	"[-a ADDR] [-p PORT] [-r] [-n CONNS] [-c server|client] [-F] [-L] [-A] [-b BACKLOG]\n"
	"  -r  set SO_REUSEADDR before bind     -F  fork a child per connection\n"
	"  -L  SO_LINGER {1,0} before closing   -A  accept() instead of accept4()\n"
	"  -c  who closes first (default client)";

static bool server_closes_first, linger0;

static void serve(int c)
{
	char req[5];
	long n = tp_read_full(c, req, sizeof(req));

	if (n != (long)sizeof(req) || memcmp(req, "ping\n", 5) != 0) {
		printf("request fd=%d bytes=%ld errno=%s\n", c, n, tp_errname(n < 0 ? errno : 0));
	} else {
		tp_write_all(c, "pong\n", 5);
	}
	if (!server_closes_first) {
		int err = tp_read_eof(c);
		printf("eof fd=%d errno=%s state=%s\n", c, tp_errname(err), tp_tcp_state(c));
	}
	if (linger0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
			tp_die_errno("setsockopt(SO_LINGER)");
	}
	tp_print_tcpinfo(c);
	if (close(c) < 0)
		tp_die_errno("close fd %d", c);
	printf("close fd=%d pid=%d\n", c, (int)getpid());
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	int port = 0, conns = 1, backlog = 16, opt;
	bool reuse = false, forking = false, plain_accept = false;
	struct sockaddr_storage ss;
	char a1[TP_ADDR_MAX], a2[TP_ADDR_MAX];

	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "a:p:rn:c:FLAb:")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = (int)tp_num(optarg); break;
		case 'r': reuse = true; break;
		case 'n': conns = (int)tp_num(optarg); break;
		case 'c':
			if (strcmp(optarg, "server") == 0)
				server_closes_first = true;
			else if (strcmp(optarg, "client") != 0)
				tp_usage(usage);
			break;
		case 'F': forking = true; break;
		case 'L': linger0 = true; break;
		case 'A': plain_accept = true; break;
		case 'b': backlog = (int)tp_num(optarg); break;
		default: tp_usage(usage);
		}
	}
	if (optind != argc)
		tp_usage(usage);

	socklen_t len = tp_inet_addr(host, port, &ss);
	int l = socket(ss.ss_family, SOCK_STREAM, 0);
	if (l < 0)
		tp_die_errno("socket");
	printf("socket fd=%d ino=%lu\n", l, tp_inode(l));
	if (reuse) {
		int one = 1;
		if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			tp_die_errno("setsockopt(SO_REUSEADDR)");
	}
	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		int zero = 0;
		if (setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
			tp_die_errno("setsockopt(IPV6_V6ONLY)");
	}
	if (bind(l, (struct sockaddr *)&ss, len) < 0) {
		printf("bind fd=%d ret=-1 errno=%s\n", l, tp_errname(errno));
		return 1;
	}
	if (listen(l, backlog) < 0)
		tp_die_errno("listen");
	printf("listen fd=%d local=%s port=%d pid=%d ppid=%d ino=%lu\n", l, tp_local(l, a1),
	       tp_port(l), (int)getpid(), (int)getppid(), tp_inode(l));

	pid_t *children = calloc((size_t)conns, sizeof(*children));
	if (!children)
		tp_die("out of memory");
	for (int i = 0; i < conns; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int c = plain_accept ? accept(l, (struct sockaddr *)&peer, &plen)
				     : accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c < 0)
			tp_die_errno("accept");
		printf("accept fd=%d listen_fd=%d local=%s remote=%s ino=%lu pid=%d\n", c, l,
		       tp_local(c, a1), tp_fmt_addr((struct sockaddr *)&peer, plen, a2), tp_inode(c),
		       (int)getpid());
		if (!forking) {
			serve(c);
			continue;
		}
		int go[2];
		if (pipe(go) < 0)
			tp_die_errno("pipe");
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			tp_die_errno("fork");
		if (pid == 0) {
			char b;
			close(go[1]);
			if (close(l) < 0)
				tp_die_errno("child close listener");
			printf("child-close fd=%d pid=%d ppid=%d\n", l, (int)getpid(), (int)getppid());
			if (read(go[0], &b, 1) != 1)
				tp_die("parent went away");
			close(go[0]);
			serve(c);
			exit(0);
		}
		children[i] = pid;
		close(go[0]);
		printf("child pid=%d fd=%d\n", (int)pid, c);
		if (close(c) < 0)
			tp_die_errno("parent close fd %d", c);
		printf("parent-close fd=%d pid=%d\n", c, (int)getpid());
		tp_write_all(go[1], "g", 1);
		close(go[1]);
	}
	int failed = 0;
	for (int i = 0; forking && i < conns; i++) {
		int status;
		if (waitpid(children[i], &status, 0) < 0)
			tp_die_errno("waitpid");
		printf("reaped pid=%d status=%d\n", (int)children[i], status);
		failed |= status != 0;
	}
	free(children);
	if (close(l) < 0)
		tp_die_errno("close listener");
	printf("done listen_fd=%d\n", l);
	return failed;
}
