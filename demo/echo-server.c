/* SPDX-License-Identifier: MIT */
/* echo-server.c - the bundled demo's server: a tiny TCP echo server.
 *
 * Listens on 127.0.0.1 (port 0 unless given: the kernel picks one) with
 * SO_REUSEADDR, prints the port on stdout once it listens (the ready
 * signal), then serves N clients one after the other: read one line, write
 * it back, close.  Exits 0 after the last client.
 *
 *   echo-server [N [PORT]]      N defaults to 1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "echo-server: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Echoes bytes until the first newline (included) or end of stream. */
static void serve(int c)
{
	char buf[512];
	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		if (write_all(c, buf, (size_t)r) < 0)
			return;
		if (memchr(buf, '\n', (size_t)r))
			return;
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int port = argc > 2 ? atoi(argv[2]) : 0;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1;

	if (n < 1 || port < 0 || port > 65535) {
		fprintf(stderr, "usage: echo-server [CLIENTS [PORT]]\n");
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(s, 16) < 0)
		die("listen");
	if (getsockname(s, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname");
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (int i = 0; i < n; i++) {
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR) {
				i--;
				continue;
			}
			die("accept");
		}
		serve(c);
		close(c);
	}
	close(s);
	return 0;
}
