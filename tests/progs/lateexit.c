/* SPDX-License-Identifier: MIT */
/* lateexit.c - a program linked with libearly.so (see early.c) that
 * adds its own late socket calls: an atexit handler and a destructor that
 * each make a UDP socket and close it, and a TCP socket left open for the
 * exit event to count.  Exits with the status given (exit(), or return
 * from main with "return").
 * Facts: "main socket fd=N", "late where=atexit|dtor fd=N ok=1".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "STATUS [return]";

static void late_socket(const char *where)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int ok = s >= 0 && close(s) == 0;

	printf("late where=%s fd=%d ok=%d\n", where, s, ok);
	fflush(stdout);
}

static void late_atexit(void)
{
	late_socket("atexit");
}

__attribute__((destructor)) static void late_dtor(void)
{
	late_socket("dtor");
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "return") != 0))
		tp_usage(usage);
	int status = (int)tp_num(argv[1]);
	if (atexit(late_atexit) != 0)
		tp_die("atexit");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		tp_die_errno("socket");
	printf("main socket fd=%d\n", s);
	if (argc == 3)
		return status;
	exit(status);
}
