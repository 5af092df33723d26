/* SPDX-License-Identifier: MIT */
/* echo-client.c - the bundled demo's client.
 *
 * Connects to 127.0.0.1:PORT, sends one line, reads it back, prints it on
 * stdout and closes.  Exits 0 when the echo matches what was sent.
 *
 *   echo-client PORT [MESSAGE]
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
	fprintf(stderr, "echo-client: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *msg = argc > 2 ? argv[2] : "hello, socktrace";
	int port = argc > 1 ? atoi(argv[1]) : 0;
	char line[512], got[512];
	struct sockaddr_in sa;
	size_t n = 0;

	if (port < 1 || port > 65535) {
		fprintf(stderr, "usage: echo-client PORT [MESSAGE]\n");
		return 2;
	}
	int len = snprintf(line, sizeof(line), "%s\n", msg);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		fprintf(stderr, "echo-client: message too long\n");
		return 2;
	}

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");

	for (size_t off = 0; off < (size_t)len;) {
		ssize_t w = write(s, line + off, (size_t)len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		off += (size_t)w;
	}
	while (n < sizeof(got) && (n == 0 || got[n - 1] != '\n')) {
		ssize_t r = read(s, got + n, sizeof(got) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (close(s) < 0)
		die("close");

	fwrite(got, 1, n, stdout);
	if (n != (size_t)len || memcmp(got, line, n) != 0) {
		fprintf(stderr, "echo-client: the echo differs from what was sent\n");
		return 1;
	}
	return 0;
}
