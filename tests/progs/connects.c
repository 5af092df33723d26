/* SPDX-License-Identifier: MIT */
/* connects.c - connections whose connect() or close() does not end the
 * usual way.
 *
 *   connects cancel-close   a thread with a cancellation pending calls
 *                           close() on the client end: glibc acts on the
 *                           cancel before the system call, the descriptor
 *                           stays open, main closes it after the join
 *   connects cancel-connect a thread blocked in connect() (the listener's
 *                           queue is full) is cancelled; the kernel goes on
 *                           with the handshake; main waits with poll(),
 *                           reads SO_ERROR, sends a byte and closes first
 *   connects eintr          connect() cut short by SIGALRM (no SA_RESTART)
 *   connects restart        accept() interrupted by SIGALRM whose handler
 *                           has SA_RESTART: the kernel restarts it, and it
 *                           returns the connection a thread makes 300 ms
 *                           later (facts "accepted fd=N handled=H")
 *                           while the queue is full; then poll() and
 *                           SO_ERROR, a byte, and the client closes first
 *   connects nbpoll PORT    a non-blocking connect() to 127.0.0.1:PORT
 *                           completed through poll(POLLOUT) only (no
 *                           SO_ERROR), read to EOF, close
 *   connects late-accept    the client connects, sends "x" and closes
 *                           before the server's accept() returns
 * Facts: "listen fd= port=" (not nbpoll), "main tid=T", "client fd=N
 * local=A" (the socket under test), "connect ret=R errno=E",
 * "still_open fd=N open=0|1" (cancel-close), "completed so_error=E peer=0|1"
 * (whether getpeername names the listener), "accepted fd=N state=S
 * read=N", "read bytes=N eof=1", "closed fd=N".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char usage[] = "cancel-close|cancel-connect|eintr|restart|nbpoll PORT|late-accept";

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int client = -1;
static pthread_barrier_t bar;

/* A listener on 127.0.0.1 with a backlog of 0 and, with full, one
 * connection waiting in its queue: the next SYN is dropped and retried. */
static int listener(int backlog, bool full, int *filler)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	addrlen = tp_inet_addr("127.0.0.1", 0, &addr);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&addr, addrlen) < 0 || listen(l, backlog) < 0)
		tp_die_errno("listener");
	addrlen = sizeof(addr);
	getsockname(l, (struct sockaddr *)&addr, &addrlen);
	printf("listen fd=%d port=%d\n", l, tp_port(l));
	if (full) {
		*filler = socket(AF_INET, SOCK_STREAM, 0);
		if (*filler < 0 || connect(*filler, (struct sockaddr *)&addr, addrlen) < 0)
			tp_die_errno("filler");
	}
	return l;
}

static void print_client(void)
{
	char buf[TP_ADDR_MAX];

	printf("client fd=%d local=%s\n", client, tp_local(client, buf));
}

static void after_completion(void)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct pollfd p = { client, POLLOUT, 0 };
	int so = -1;

	if (poll(&p, 1, 10000) != 1)
		tp_die("poll: the connect did not complete");
	len = sizeof(so);
	getsockopt(client, SOL_SOCKET, SO_ERROR, &so, &len);
	len = sizeof(peer);
	printf("completed so_error=%s peer=%d\n", tp_errname(so),
	       getpeername(client, (struct sockaddr *)&peer, &len) == 0 &&
		       tp_port(client) > 0 && ((struct sockaddr_in *)&peer)->sin_port ==
		       ((struct sockaddr_in *)&addr)->sin_port);
	print_client();
}

/* the client sends a byte and closes first; the server reads it, then EOF */
static void exchange_and_close(int l)
{
	char b;
	int s = accept(l, NULL, NULL);

	if (s < 0)
		tp_die_errno("accept");
	tp_write_all(client, "x", 1);
	if (tp_read_full(s, &b, 1) != 1)
		tp_die("the server read nothing");
	if (close(client) != 0)
		tp_die_errno("close");
	printf("closed fd=%d\n", client);
	printf("read bytes=1 eof=%d\n", tp_read_eof(s) == 0);
	close(s);
}

static void *close_cancelled(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);	/* the cancel is pending now */
	close(client);			/* a cancellation point */
	return NULL;
}

static void *connect_cancelled(void *arg)
{
	(void)arg;
	connect(client, (struct sockaddr *)&addr, addrlen);	/* blocks; cancelled inside */
	return NULL;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void *connect_later(void *arg)
{
	(void)arg;
	usleep(300000);
	if (connect(client, (struct sockaddr *)&addr, addrlen) < 0)
		tp_die_errno("connect");
	return NULL;
}

int main(int argc, char **argv)
{
	int l = -1, filler = -1, s, r, e;
	pthread_t t;

	tp_init(argc, argv);
	if (argc < 2)
		tp_usage(usage);
	printf("main tid=%ld\n", (long)syscall(SYS_gettid));
	if (!strcmp(argv[1], "cancel-close")) {
		l = listener(8, false, NULL);
		client = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(client, (struct sockaddr *)&addr, addrlen) < 0)
			tp_die_errno("connect");
		print_client();
		s = accept(l, NULL, NULL);
		pthread_barrier_init(&bar, NULL, 2);
		pthread_create(&t, NULL, close_cancelled, NULL);
		pthread_barrier_wait(&bar);
		pthread_cancel(t);
		pthread_barrier_wait(&bar);
		pthread_join(t, NULL);
		printf("still_open fd=%d open=%d\n", client, fcntl(client, F_GETFD) != -1);
		if (close(client) != 0)
			tp_die_errno("close");
		printf("closed fd=%d\n", client);
		printf("read bytes=0 eof=%d\n", tp_read_eof(s) == 0);
		close(s);
	} else if (!strcmp(argv[1], "cancel-connect")) {
		int s1;
		l = listener(0, true, &filler);
		client = socket(AF_INET, SOCK_STREAM, 0);
		pthread_create(&t, NULL, connect_cancelled, NULL);
		/* the thread is in connect(): the SYN is in flight and dropped */
		for (int i = 0; i < 2000 && strcmp(tp_tcp_state(client), "SYN_SENT"); i++)
			usleep(1000);
		usleep(50000);
		pthread_cancel(t);
		pthread_join(t, NULL);
		printf("connect ret=cancelled errno=0\n");
		s1 = accept(l, NULL, NULL);	/* room in the queue: the retried SYN gets in */
		after_completion();
		exchange_and_close(l);
		close(s1);
	} else if (!strcmp(argv[1], "eintr")) {
		struct sigaction sa;
		int s1;
		l = listener(0, true, &filler);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;	/* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		client = socket(AF_INET, SOCK_STREAM, 0);
		ualarm(200000, 0);
		r = connect(client, (struct sockaddr *)&addr, addrlen);
		e = errno;
		printf("connect ret=%d errno=%s\n", r, r ? tp_errname(e) : "0");
		s1 = accept(l, NULL, NULL);
		after_completion();
		exchange_and_close(l);
		close(s1);
	} else if (!strcmp(argv[1], "restart")) {
		struct sigaction sa;
		l = listener(8, false, NULL);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		client = socket(AF_INET, SOCK_STREAM, 0);
		pthread_create(&t, NULL, connect_later, NULL);
		ualarm(100000, 0);
		s = accept(l, NULL, NULL);
		if (s < 0)
			tp_die_errno("accept");
		pthread_join(t, NULL);
		printf("accepted fd=%d handled=%d\n", s, (int)alarms);
		close(s);
		close(client);
	} else if (!strcmp(argv[1], "nbpoll") && argc > 2) {
		struct pollfd p;
		char buf[64];
		long n = 0, k;
		addrlen = tp_inet_addr("127.0.0.1", (int)tp_num(argv[2]), &addr);
		client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		r = connect(client, (struct sockaddr *)&addr, addrlen);
		e = errno;
		printf("connect ret=%d errno=%s\n", r, r ? tp_errname(e) : "0");
		p = (struct pollfd){ client, POLLOUT, 0 };
		if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLOUT))
			tp_die("poll: not writable");
		print_client();
		fcntl(client, F_SETFL, 0);
		while ((k = read(client, buf, sizeof(buf))) > 0)
			n += k;
		printf("read bytes=%ld eof=%d\n", n, k == 0);
		close(client);
		printf("closed fd=%d\n", client);
	} else if (!strcmp(argv[1], "late-accept")) {
		char b[4];
		long n;
		l = listener(8, false, NULL);
		client = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(client, (struct sockaddr *)&addr, addrlen) < 0)
			tp_die_errno("connect");
		print_client();
		tp_write_all(client, "x", 1);
		close(client);
		printf("closed fd=%d\n", client);
		usleep(10000);	/* the FIN reaches the queued connection (loopback) */
		s = accept(l, NULL, NULL);
		if (s < 0)
			tp_die_errno("accept");
		printf("accepted fd=%d state=%s", s, tp_tcp_state(s));
		n = tp_read_full(s, b, sizeof(b));
		printf(" read=%ld\n", n);
		close(s);
	} else {
		tp_usage(usage);
	}
	if (filler >= 0)
		close(filler);
	if (l >= 0)
		close(l);
	return 0;
}
