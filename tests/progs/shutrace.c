/* SPDX-License-Identifier: MIT */
/* shutrace.c - a teardown racing the peer's: one end stops sending while
 * the other end closes at the same moment, N times on loopback.
 *
 *   shutrace N wr|rd|rdwr|close
 *                 N connections to a listener on 127.0.0.1; on each, the
 *                 client calls shutdown(SHUT_WR, SHUT_RD or SHUT_RDWR), or
 *                 close() (close), in this thread while another thread
 *                 closes the accepted end, both released by one spin
 *                 barrier, each after a spin of 0 to 63 steps that varies
 *                 with the round (so the peer's FIN lands anywhere around
 *                 the call); then the client is closed (when it was shut
 *                 down)
 * Facts: "listen ..." (tp_loopback_trio's, the first connection), "runs
 * n=N how=H".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] = "N wr|rd|rdwr|close";

static atomic_int go, done;	/* the round released; the round the closer finished */
static atomic_int peer = -1;	/* the accepted end the closer closes */

static void spin(int n)
{
	for (volatile int i = 0; i < n * 8; i++)
		;
}

static void *closer(void *arg)
{
	(void)arg;
	for (int round = 1;; round++) {
		int s;
		while (atomic_load(&go) < round)
			;
		s = atomic_load(&peer);
		if (s < 0)
			return NULL;	/* no more rounds */
		spin(round % 64);
		if (close(s) != 0)
			tp_die_errno("close (peer)");
		atomic_store(&done, round);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	pthread_t t;
	long n;
	int how = -1, l, c, s;

	tp_init(argc, argv);
	if (argc != 3)
		tp_usage(usage);
	n = tp_num(argv[1]);
	if (!strcmp(argv[2], "wr"))
		how = SHUT_WR;
	else if (!strcmp(argv[2], "rd"))
		how = SHUT_RD;
	else if (!strcmp(argv[2], "rdwr"))
		how = SHUT_RDWR;
	else if (strcmp(argv[2], "close"))
		tp_usage(usage);
	tp_loopback_trio(&l, &c, &s);
	if (getsockname(l, (struct sockaddr *)&ss, &len) != 0)
		tp_die_errno("getsockname");
	if (pthread_create(&t, NULL, closer, NULL) != 0)
		tp_die("pthread_create failed");
	for (int round = 1; round <= n; round++) {
		if (round > 1) {
			c = socket(ss.ss_family, SOCK_STREAM, 0);
			if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0)
				tp_die_errno("connect");
			s = accept(l, NULL, NULL);
			if (s < 0)
				tp_die_errno("accept");
		}
		atomic_store(&peer, s);
		atomic_store(&go, round);
		spin(round * 7 % 64);
		if (how < 0) {
			if (close(c) != 0)
				tp_die_errno("close");
		} else if (shutdown(c, how) != 0) {
			tp_die_errno("shutdown");
		}
		while (atomic_load(&done) < round)
			;
		if (how >= 0 && close(c) != 0)
			tp_die_errno("close");
	}
	atomic_store(&peer, -1);
	atomic_store(&go, (int)n + 1);
	pthread_join(t, NULL);
	close(l);
	printf("runs n=%ld how=%s\n", n, argv[2]);
	return 0;
}
