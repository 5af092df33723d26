/* SPDX-License-Identifier: MIT */
/* churn.c - connection churn on loopback, one process, one thread.
 *
 * Each iteration: socket, connect, accept, close, close (5 events).
 * -n N      iterations (default 20000)
 * -c ORDER  who closes first:
 *           server  (default) the accepted socket first: TIME_WAIT lands on
 *                   the server's side (local port = the listener's), so the
 *                   client's ephemeral ports are never held and N is free;
 *           client  the client first: TIME_WAIT holds each ephemeral port
 *                   for 60 s, so keep N well under the port range (~28000);
 *           linger  the client first with SO_LINGER 0: an RST, no TIME_WAIT
 *                   anywhere (one more setsockopt event per iteration).
 * -w W      iterations before rss_warm_kb is taken (default N/10, <= 1000)
 * Besides the common keys it prints rss_warm_kb (after W iterations).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 20000);
	const char *order = bench_sarg(argc, argv, 'c', "server");
	long warm = bench_arg(argc, argv, 'w', n / 10 < 1000 ? n / 10 : 1000);
	int server_first = strcmp(order, "server") == 0;
	int linger0 = strcmp(order, "linger") == 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1, l;
	long rss_start, rss_warm = -1;
	int64_t t0, t1;

	if (!server_first && !linger0 && strcmp(order, "client") != 0) {
		fprintf(stderr, "churn: -c server|client|linger\n");
		return 2;
	}
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		bench_die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 128) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		bench_die("listener");

	rss_start = bench_rss_kb();
	t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a;

		if (c < 0)
			bench_die("socket");
		if (linger0)
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			bench_die("connect");
		a = accept(l, NULL, NULL);
		if (a < 0)
			bench_die("accept");
		if (server_first) {
			close(a);
			close(c);
		} else {
			close(c);
			close(a);
		}
		if (i + 1 == warm)
			rss_warm = bench_rss_kb();
	}
	t1 = bench_now_ns();
	close(l);
	bench_report("churn", n, t1 - t0, linger0 ? 6 : 5, 2, rss_start, "rss_warm_kb=%ld close_first=%s",
		     rss_warm, order);
	return 0;
}
