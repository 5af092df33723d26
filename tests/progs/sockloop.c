/* SPDX-License-Identifier: MIT */
/* sockloop.c - socket calls without a pause, from several processes, until
 * killed: what a tracer that dies in the middle loses.
 *
 *   sockloop [-P PROCS]   PROCS processes (default 3: the first and
 *                         PROCS-1 forked children), each making a Unix
 *                         datagram socket and closing it, forever
 * After each close returns, the process writes one line "closed fd=N" to
 * its standard output with write(2) (no stdio buffer: a line is out of the
 * process as soon as the close is done), so a count of the lines is the
 * count of closes made.  The first line is "ready pid=P".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] = "[-P PROCS]";

int main(int argc, char **argv)
{
	int procs = 3, opt;
	char line[64];

	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "P:")) != -1) {
		switch (opt) {
		case 'P': procs = (int)tp_num(optarg); break;
		default: tp_usage(usage);
		}
	}
	printf("ready pid=%d\n", (int)getpid());
	fflush(stdout);
	for (int i = 1; i < procs; i++)
		if (fork() == 0)
			break;
	for (;;) {
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		int n;
		if (s < 0)
			tp_die_errno("socket");
		if (close(s) != 0)
			tp_die_errno("close");
		n = snprintf(line, sizeof(line), "closed fd=%d\n", s);
		tp_write_all(1, line, (size_t)n);
	}
}
