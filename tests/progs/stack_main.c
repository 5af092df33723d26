/* SPDX-License-Identifier: MIT */
/* stack_main.c - call chains for the stack tests: main -> make_socket()
 * (stack_mid.c) -> a static function that calls socket() (stack_leaf.c),
 * or the same chain inside a plugin loaded with dlopen.  Each frame lives
 * in its own file and is noinline so the chain is real.
 * Prints "sock fd=N" for each socket made.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int make_socket(void);

int main(int argc, char **argv)
{
	int fd;

	if (argc > 2 && !strcmp(argv[1], "dlopen")) {
		void *h = dlopen(argv[2], RTLD_NOW);
		int (*fn)(void);
		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			return 1;
		}
		fn = (int (*)(void))dlsym(h, "plugin_make_socket");
		if (!fn)
			return 1;
		fd = fn();
	} else {
		fd = make_socket();
	}
	printf("sock fd=%d\n", fd);
	fflush(stdout);
	close(fd);
	return 0;
}
