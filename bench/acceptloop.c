/* SPDX-License-Identifier: MIT */
/* acceptloop.c - a server's accept loop fed by 8 client threads.
 *
 * The main thread accepts N connections and closes each one at once (the
 * server closes first, so TIME_WAIT stays on the listener's port and the
 * clients' ephemeral ports are free again).  Each of the 8 client threads
 * does N/8 times: socket, connect, read() until end of file, close.
 * Per iteration = one connection: 5 events (socket, connect, accept,
 * close, close) spread over 9 threads.  -n N (default 40000), -t threads.
 * -u 1: AF_UNIX streams on an abstract name instead of TCP on loopback
 * (each accept then costs the shim one sock_diag query for its peer).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_in sa;
static struct sockaddr_un su;
static socklen_t su_len;
static int unix_mode;
static long per_thread;
static pthread_barrier_t go;

static void *client(void *arg)
{
	char b[16];

	(void)arg;
	pthread_barrier_wait(&go);
	for (long i = 0; i < per_thread; i++) {
		int c = socket(unix_mode ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			bench_die("socket");
		while (unix_mode ? connect(c, (struct sockaddr *)&su, su_len) < 0 :
				   connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				bench_die("connect");
		}
		while (read(c, b, sizeof(b)) > 0)
			;
		close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 40000);
	int nthreads = (int)bench_arg(argc, argv, 't', 8);
	socklen_t len = sizeof(sa);
	pthread_t th[64];
	int one = 1, l;
	long rss_start;
	int64_t t0, t1;

	unix_mode = bench_arg(argc, argv, 'u', 0) != 0;
	if (nthreads < 1 || nthreads > 64)
		nthreads = 8;
	per_thread = n / nthreads;
	n = per_thread * nthreads;
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(unix_mode ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		bench_die("socket");
	if (unix_mode) {
		/* an abstract name: nothing to remove afterwards */
		su.sun_family = AF_UNIX;
		snprintf(su.sun_path + 1, sizeof(su.sun_path) - 1, "socktrace-bench-%ld", (long)getpid());
		su_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(su.sun_path + 1));
		if (bind(l, (struct sockaddr *)&su, su_len) < 0 || listen(l, 1024) < 0)
			bench_die("listener");
	} else {
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1024) < 0 ||
		    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
			bench_die("listener");
	}
	pthread_barrier_init(&go, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, client, NULL) != 0)
			bench_die("pthread_create");
	rss_start = bench_rss_kb();
	pthread_barrier_wait(&go);
	t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int a = accept(l, NULL, NULL);
		if (a < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				i--;
				continue;
			}
			bench_die("accept");
		}
		close(a);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	t1 = bench_now_ns();
	close(l);
	bench_report("acceptloop", n, t1 - t0, 5, 2, rss_start, "threads=%d%s", nthreads, unix_mode ? " unix" : "");
	return 0;
}
