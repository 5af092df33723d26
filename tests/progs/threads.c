/* SPDX-License-Identifier: MIT */
/* threads.c - many threads opening and closing TCP connections at once.
 *
 * One listener on 127.0.0.1:0 and A acceptor threads (-A, 1) that between
 * them accept and close T*N connections; T client threads (-t) each make N
 * connections (-n): socket, connect, close.  With -d each client also
 * aliases its socket (dup) and closes the alias before the socket.  Every
 * call succeeds or the program exits 99.
 * Facts: "listen fd=N port=P", "thread tid=T" per client thread,
 * "acceptor tid=T accepted=K" per acceptor thread, "done connections=C".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static const char usage[] = "[-t THREADS] [-n CONNS_PER_THREAD] [-A ACCEPTORS] [-d]";

static struct sockaddr_storage srv;
static socklen_t srvlen;
static int lfd, per_thread, total;
static bool with_dup;
static atomic_int claimed;	/* connections an acceptor has taken on */

static void *acceptor(void *arg)
{
	int mine = 0;

	(void)arg;
	/* each acceptor claims a connection before accepting it: together
	 * they make exactly `total` accept4 calls */
	while (atomic_fetch_add(&claimed, 1) < total) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			tp_die_errno("accept4");
		if (close(c) < 0)
			tp_die_errno("close accepted");
		mine++;
	}
	printf("acceptor tid=%d accepted=%d\n", (int)gettid(), mine);
	return NULL;
}

static void *client(void *arg)
{
	(void)arg;
	printf("thread tid=%d\n", (int)gettid());
	for (int i = 0; i < per_thread; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			tp_die_errno("socket");
		if (connect(s, (struct sockaddr *)&srv, srvlen) < 0)
			tp_die_errno("connect");
		if (with_dup) {
			int d = dup(s);
			if (d < 0)
				tp_die_errno("dup");
			if (close(d) < 0)
				tp_die_errno("close alias");
		}
		if (close(s) < 0)
			tp_die_errno("close");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = 8, nacceptors = 1, opt;

	per_thread = 200;
	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "t:n:A:d")) != -1) {
		switch (opt) {
		case 't': nthreads = (int)tp_num(optarg); break;
		case 'n': per_thread = (int)tp_num(optarg); break;
		case 'A': nacceptors = (int)tp_num(optarg); break;
		case 'd': with_dup = true; break;
		default: tp_usage(usage);
		}
	}
	if (optind != argc || nthreads < 1 || nthreads > 256 || per_thread < 0 || nacceptors < 1 ||
	    nacceptors > 64)
		tp_usage(usage);
	total = nthreads * per_thread;

	srvlen = tp_inet_addr("127.0.0.1", 0, &srv);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&srv, srvlen) < 0 || listen(lfd, 4096) < 0)
		tp_die_errno("listener");
	srvlen = sizeof(srv);
	getsockname(lfd, (struct sockaddr *)&srv, &srvlen);
	printf("listen fd=%d port=%d\n", lfd, tp_port(lfd));

	pthread_t acc[64], th[256];
	int err;
	for (int i = 0; i < nacceptors; i++) {
		err = pthread_create(&acc[i], NULL, acceptor, NULL);
		if (err)
			tp_die("pthread_create: %d", err);
	}
	for (int i = 0; i < nthreads; i++) {
		err = pthread_create(&th[i], NULL, client, NULL);
		if (err)
			tp_die("pthread_create: %d", err);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < nacceptors; i++)
		pthread_join(acc[i], NULL);
	if (close(lfd) < 0)
		tp_die_errno("close listener");
	printf("done connections=%d\n", total);
	return 0;
}
