/* SPDX-License-Identifier: MIT */
/* torn.c - writers of a shared trace that are cut short, for the tests of
 * torn lines.
 *   kill MS      a child with 8 threads making and closing UDP sockets
 *                without pause is SIGKILLed after MS milliseconds (most
 *                likely inside a write of an event); then this process
 *                makes and closes one TCP socket, writing into the same
 *                trace after the killed one
 *   phases N1 FILE N2
 *                N1 sockets made and closed; then waits (10 s at most)
 *                until FILE is gone (the test frees space meanwhile);
 *                then N2 more
 * Facts: "killed pid=P", "after fd=N" (kill); "phase1 done", "phase2 done
 * fd=N" (phases: the last socket's descriptor).
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "kill MS | phases N1 FILE N2";

static void *churn(void *arg)
{
	(void)arg;
	for (;;)
		close(socket(AF_INET, SOCK_DGRAM, 0));
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int make_close(long n)
{
	int fd = -1;

	for (long i = 0; i < n; i++) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			tp_die_errno("socket");
		close(fd);
	}
	return fd;
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc == 3 && strcmp(argv[1], "kill") == 0) {
		pid_t p = fork();
		int fd;

		if (p < 0)
			tp_die_errno("fork");
		if (p == 0) {
			pthread_t t;
			for (int i = 0; i < 8; i++)
				if (pthread_create(&t, NULL, churn, NULL) != 0)
					_exit(TP_EXIT_SETUP);
			pause();
			_exit(0);
		}
		sleep_ms(tp_num(argv[2]));
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
		printf("killed pid=%d\n", (int)p);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			tp_die_errno("socket");
		close(fd);
		printf("after fd=%d\n", fd);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "phases") == 0) {
		int fd;

		make_close(tp_num(argv[2]));
		printf("phase1 done\n");
		for (int i = 0; i < 1000 && access(argv[3], F_OK) == 0; i++)
			sleep_ms(10);
		fd = make_close(tp_num(argv[4]));
		printf("phase2 done fd=%d\n", fd);
		return 0;
	}
	tp_usage(usage);
}
