/* SPDX-License-Identifier: MIT */
/* bindfail.c - the bind that fails with EADDRINUSE, the question users ask
 * socktrace about: a listener on 127.0.0.1:P, then in a loop socket(),
 * setsockopt(SO_REUSEADDR), bind(P) -> EADDRINUSE, close() (4 events per
 * iteration, 1 close).  Under the shim each failed bind asks the kernel
 * who holds P; that must cost the same whatever the size of the machine's
 * TIME_WAIT table (bench/run runs it with the table empty and filled).
 * -n N iterations (default 20000).
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 20000);
	long rss_start = bench_rss_kb();
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0, t1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		bench_die("listener");
	t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			bench_die("socket");
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EADDRINUSE)
			bench_die("bind did not fail with EADDRINUSE");
		close(s);
	}
	t1 = bench_now_ns();
	close(l);
	bench_report("bindfail", n, t1 - t0, 4, 1, rss_start, NULL);
	return 0;
}
