/* sockexit.c - ends in a chosen way after one socket call, for the tests
 * of exit statuses and of the trace's durability.
 *   status N     exit(N)
 *   signal SIG   raise(SIG) (a number or TERM, KILL, SEGV, ABRT, INT)
 *   abort        abort()
 * Facts: "socket fd=N ino=I pid=P ppid=Q".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "status N | signal SIG | abort";

static int signum(const char *s)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "TERM", SIGTERM }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
		{ "ABRT", SIGABRT }, { "INT", SIGINT }, { "HUP", SIGHUP },
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	return (int)tp_num(s);
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc < 2 || argc > 3)
		tp_usage(usage);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		tp_die_errno("socket");
	printf("socket fd=%d ino=%lu pid=%d ppid=%d\n", s, tp_inode(s), (int)getpid(), (int)getppid());

	if (strcmp(argv[1], "status") == 0 && argc == 3)
		exit((int)tp_num(argv[2]));
	if (strcmp(argv[1], "signal") == 0 && argc == 3) {
		int sig = signum(argv[2]);
		signal(sig, SIG_DFL);
		raise(sig);
		tp_die("still alive after signal %d", sig);
	}
	if (strcmp(argv[1], "abort") == 0 && argc == 2)
		abort();
	tp_usage(usage);
}
