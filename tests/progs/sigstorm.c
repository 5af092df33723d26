/* SPDX-License-Identifier: MIT */
/* sigstorm.c - signal handlers that make and close sockets while the main
 * thread is inside socket calls.
 *
 *   sigstorm alarm [-n LOOPS] [-u USEC]    SIGALRM from setitimer every USEC
 *   sigstorm thread [-n LOOPS] [-u USEC]   SIGUSR1 from another thread
 *                                          (pthread_kill every USEC)
 * The main thread first makes a pool of 64 sockets, then runs LOOPS rounds
 * of 13 calls: socketpair, dup, close x3 (Unix); socket, setsockopt,
 * bind, listen, close (TCP listener on 127.0.0.1:0); socket, connect,
 * close (UDP to 127.0.0.1:9).  Each signal's handler makes a UDP socket
 * and closes it, and closes the next pool socket while any is left.
 * SA_RESTART; every call must succeed or the program exits 99.
 * Facts: "pool first=F last=L", "done loops=N handled=H pool_closed=P".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "alarm|thread [-n LOOPS] [-u USEC]";

#define POOL 64

static int pool[POOL];
static volatile sig_atomic_t handled, pool_next, failed;
static atomic_bool done;
static pthread_t main_thread;
static long usec = 50;

static void handler(int sig)
{
	int saved = errno;
	int s;

	(void)sig;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || close(s) < 0)
		failed = 1;
	if (pool_next < POOL) {
		if (close(pool[pool_next]) < 0)
			failed = 1;
		pool_next = pool_next + 1;
	}
	handled = handled + 1;
	errno = saved;
}

static void *killer(void *arg)
{
	struct timespec ts = { 0, usec * 1000 };

	(void)arg;
	while (!atomic_load(&done)) {
		int err = pthread_kill(main_thread, SIGUSR1);
		if (err)
			tp_die("pthread_kill: %s", tp_errname(err));
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void round_once(const struct sockaddr_storage *lo, socklen_t lolen,
		       const struct sockaddr_storage *discard, socklen_t dlen)
{
	int sv[2], d, t, u, one = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		tp_die_errno("socketpair");
	if ((d = dup(sv[0])) < 0)
		tp_die_errno("dup");
	if (close(sv[0]) < 0 || close(d) < 0 || close(sv[1]) < 0)
		tp_die_errno("close unix");
	if ((t = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		tp_die_errno("socket tcp");
	if (setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		tp_die_errno("setsockopt");
	if (bind(t, (const struct sockaddr *)lo, lolen) < 0)
		tp_die_errno("bind");
	if (listen(t, 8) < 0)
		tp_die_errno("listen");
	if (close(t) < 0)
		tp_die_errno("close tcp");
	if ((u = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		tp_die_errno("socket udp");
	if (connect(u, (const struct sockaddr *)discard, dlen) < 0)
		tp_die_errno("connect udp");
	if (close(u) < 0)
		tp_die_errno("close udp");
}

int main(int argc, char **argv)
{
	struct sockaddr_storage lo, discard;
	socklen_t lolen, dlen;
	struct sigaction sa;
	long loops = 20000;
	pthread_t th;
	bool by_thread;
	int opt;

	tp_init(argc, argv);
	if (argc < 2)
		tp_usage(usage);
	if (strcmp(argv[1], "alarm") == 0)
		by_thread = false;
	else if (strcmp(argv[1], "thread") == 0)
		by_thread = true;
	else
		tp_usage(usage);
	optind = 2;
	while ((opt = getopt(argc, argv, "n:u:")) != -1) {
		switch (opt) {
		case 'n': loops = tp_num(optarg); break;
		case 'u': usec = tp_num(optarg); break;
		default: tp_usage(usage);
		}
	}
	if (optind != argc || loops < 0 || usec < 1 || usec > 999999)
		tp_usage(usage);

	lolen = tp_inet_addr("127.0.0.1", 0, &lo);
	dlen = tp_inet_addr("127.0.0.1", 9, &discard);
	for (int i = 0; i < POOL; i++)
		if ((pool[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			tp_die_errno("socket pool");
	printf("pool first=%d last=%d\n", pool[0], pool[POOL - 1]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(by_thread ? SIGUSR1 : SIGALRM, &sa, NULL) < 0)
		tp_die_errno("sigaction");
	main_thread = pthread_self();
	if (by_thread) {
		int err = pthread_create(&th, NULL, killer, NULL);
		if (err)
			tp_die("pthread_create: %s", tp_errname(err));
	} else {
		struct itimerval it = { { 0, usec }, { 0, usec } };
		if (setitimer(ITIMER_REAL, &it, NULL) < 0)
			tp_die_errno("setitimer");
	}

	for (long i = 0; i < loops; i++)
		round_once(&lo, lolen, &discard, dlen);

	/* stop the signals before counting */
	if (by_thread) {
		atomic_store(&done, true);
		pthread_join(th, NULL);
	} else {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, NULL);
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, by_thread ? SIGUSR1 : SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (failed)
		tp_die("a call in the signal handler failed");
	printf("done loops=%ld handled=%d pool_closed=%d\n", loops, (int)handled, (int)pool_next);
	return 0;
}
