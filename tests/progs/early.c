/* SPDX-License-Identifier: MIT */
/* early.c - libearly.so: socket calls at the edges of a process's life,
 * from another library than the program's.
 *
 * Its constructor (which may run before the shim's own) makes a TCP
 * socket, binds it to 127.0.0.1:0 and closes it, and registers an atexit
 * handler; the handler and the library's destructor (which may run after
 * the shim's exit event) each make a UDP socket and close it.
 * Facts on stdout: "early where=ctor|atexit|dtor fd=N ok=1".
 * Loaded by lateexit (linked) or by LD_PRELOAD; plain libc only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void udp_socket(const char *where)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int ok = s >= 0 && close(s) == 0;

	printf("early where=%s fd=%d ok=%d\n", where, s, ok);
	fflush(stdout);
}

static void early_atexit(void)
{
	udp_socket("atexit");
}

__attribute__((constructor)) static void early_ctor(void)
{
	struct sockaddr_in sin;
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = s >= 0 && bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 && close(s) == 0;
	printf("early where=ctor fd=%d ok=%d\n", s, ok);
	fflush(stdout);
	atexit(early_atexit);
}

__attribute__((destructor)) static void early_dtor(void)
{
	udp_socket("dtor");
}
