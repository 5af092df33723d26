/* SPDX-License-Identifier: MIT */
/* tcp_client.c - a TCP client for the shim's tests (peer of tcp_server).
 *
 * Makes -n connections to ADDR:PORT, one after the other: sends "ping\n",
 * reads "pong\n", and closes first (-c client, the default) or after the
 * server's FIN (-c server).  -L sets SO_LINGER {1,0} before the close (a
 * reset).
 * A failed connect prints its errno and exits 1.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "[-a ADDR] -p PORT [-n CONNS] [-c client|server] [-L]";

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	int port = -1, conns = 1, opt;
	bool client_first = true, linger0 = false;
	struct sockaddr_storage ss;
	char a1[TP_ADDR_MAX], a2[TP_ADDR_MAX];

	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "a:p:n:c:L")) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = (int)tp_num(optarg); break;
		case 'n': conns = (int)tp_num(optarg); break;
		case 'c':
			if (strcmp(optarg, "server") == 0)
				client_first = false;
			else if (strcmp(optarg, "client") != 0)
				tp_usage(usage);
			break;
		case 'L': linger0 = true; break;
		default: tp_usage(usage);
		}
	}
	if (optind != argc || port < 0)
		tp_usage(usage);

	socklen_t len = tp_inet_addr(host, port, &ss);
	for (int i = 0; i < conns; i++) {
		int s = socket(ss.ss_family, SOCK_STREAM, 0);
		if (s < 0)
			tp_die_errno("socket");
		printf("socket fd=%d ino=%lu pid=%d ppid=%d\n", s, tp_inode(s), (int)getpid(),
		       (int)getppid());
		if (connect(s, (struct sockaddr *)&ss, len) < 0) {
			printf("connect fd=%d ret=-1 errno=%s\n", s, tp_errname(errno));
			return 1;
		}
		printf("connect fd=%d local=%s remote=%s state=%s\n", s, tp_local(s, a1),
		       tp_remote(s, a2), tp_tcp_state(s));
		tp_write_all(s, "ping\n", 5);
		char resp[5];
		long n = tp_read_full(s, resp, sizeof(resp));
		if (n != (long)sizeof(resp) || memcmp(resp, "pong\n", 5) != 0)
			tp_die("bad response (%ld bytes)", n);
		if (!client_first) {
			int err = tp_read_eof(s);
			printf("eof fd=%d errno=%s state=%s\n", s, tp_errname(err), tp_tcp_state(s));
		}
		if (linger0) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
				tp_die_errno("setsockopt(SO_LINGER)");
		}
		tp_print_tcpinfo(s);
		if (close(s) < 0)
			tp_die_errno("close");
		printf("close fd=%d\n", s);
	}
	return 0;
}
