/* threads.c - many threads opening and closing TCP connections at once.
 *
 * One listener on 127.0.0.1:0 and one acceptor thread that accepts and
 * closes T*N connections; T client threads each make N connections
 * (socket, connect, close).  Every call succeeds or the program exits 99.
 * Facts: "listen fd=N port=P", "thread tid=T" per client thread,
 * "done connections=C".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static const char usage[] = "[-t THREADS] [-n CONNS_PER_THREAD]";

static struct sockaddr_storage srv;
static socklen_t srvlen;
static int lfd, per_thread, total;

static void *acceptor(void *arg)
{
	(void)arg;
	for (int i = 0; i < total; i++) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			tp_die_errno("accept4");
		if (close(c) < 0)
			tp_die_errno("close accepted");
	}
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
		if (close(s) < 0)
			tp_die_errno("close");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = 8, opt;

	per_thread = 200;
	tp_init(argc, argv);
	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		switch (opt) {
		case 't': nthreads = (int)tp_num(optarg); break;
		case 'n': per_thread = (int)tp_num(optarg); break;
		default: tp_usage(usage);
		}
	}
	if (optind != argc || nthreads < 1 || nthreads > 256 || per_thread < 0)
		tp_usage(usage);
	total = nthreads * per_thread;

	srvlen = tp_inet_addr("127.0.0.1", 0, &srv);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&srv, srvlen) < 0 || listen(lfd, 4096) < 0)
		tp_die_errno("listener");
	srvlen = sizeof(srv);
	getsockname(lfd, (struct sockaddr *)&srv, &srvlen);
	printf("listen fd=%d port=%d\n", lfd, tp_port(lfd));

	pthread_t acc, th[256];
	int err = pthread_create(&acc, NULL, acceptor, NULL);
	if (err)
		tp_die("pthread_create: %d", err);
	for (int i = 0; i < nthreads; i++) {
		err = pthread_create(&th[i], NULL, client, NULL);
		if (err)
			tp_die("pthread_create: %d", err);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	pthread_join(acc, NULL);
	if (close(lfd) < 0)
		tp_die_errno("close listener");
	printf("done connections=%d\n", total);
	return 0;
}
