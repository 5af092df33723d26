/* SPDX-License-Identifier: MIT */
/* secure.c - a program that loads the shim itself, for the test of
 * AT_SECURE (setuid) processes, where the dynamic loader ignores an
 * LD_PRELOAD path.
 *
 *   secure SHIM    dlopen(SHIM) (an absolute path, which the loader accepts
 *                  in a setuid program: the shim's constructor runs), then
 *                  socket() and close() through the shim's own wrappers
 *                  (dlsym), and once more through the plain calls
 * Every call must succeed, or the program exits 99.
 * Facts: "secure at_secure=0|1 uid=U euid=E", "socket fd=N via=shim|libc", "close fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <dlfcn.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

static const char usage[] = "SHIM";

int main(int argc, char **argv)
{
	int (*shim_socket)(int, int, int);
	int (*shim_close)(int);
	void *h;
	int s;

	tp_init(argc, argv);
	if (argc != 2)
		tp_usage(usage);
	printf("secure at_secure=%lu uid=%d euid=%d\n", getauxval(AT_SECURE), (int)getuid(),
	       (int)geteuid());
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		tp_die("dlopen: %s", dlerror());
	*(void **)&shim_socket = dlsym(h, "socket");
	*(void **)&shim_close = dlsym(h, "close");
	if (!shim_socket || !shim_close)
		tp_die("dlsym: %s", dlerror());

	s = shim_socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		tp_die_errno("socket (shim)");
	printf("socket fd=%d via=shim\n", s);
	if (shim_close(s) < 0)
		tp_die_errno("close (shim)");
	printf("close fd=%d\n", s);

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		tp_die_errno("socket");
	printf("socket fd=%d via=libc\n", s);
	if (close(s) < 0)
		tp_die_errno("close");
	printf("close fd=%d\n", s);
	return 0;
}
