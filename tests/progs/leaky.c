/* SPDX-License-Identifier: MIT */
/* leaky.c - a client that forgets close() on one path, for the leak
 * checks: fetch_once() connects to an in-process listener and, when asked
 * for an odd request, returns early without closing its socket.
 *   leaky [-n N]   N requests (default 6): N/2 sockets leak
 * Prints "listen port=P" and one "leak fd=F" per leaked socket.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static __attribute__((noinline)) int fetch_once(const struct sockaddr_in *srv, int i)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) < 0)
		tp_die_errno("connect");
	if (i % 2) {
		printf("leak fd=%d\n", fd);
		return -1;	/* the error path: the socket is forgotten */
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int n = argc > 2 && argv[1][0] == '-' && argv[1][1] == 'n' ? atoi(argv[2]) : 6;
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 64) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		tp_die_errno("listen");
	printf("listen port=%d\n", ntohs(a.sin_port));
	for (int i = 0; i < n; i++) {
		int c;
		fetch_once(&a, i);
		c = accept(l, NULL, NULL);
		if (c < 0)
			tp_die_errno("accept");
		close(c);
	}
	close(l);
	fflush(stdout);
	return 0;
}
