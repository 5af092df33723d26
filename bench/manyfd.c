/* SPDX-License-Identifier: MIT */
/* manyfd.c - many descriptors at once: 10 000 sockets opened, then all
 * closed, R times.  Per iteration = one socket (socket + close, 2 events).
 * Raises RLIMIT_NOFILE when it must.  Besides the common keys it prints
 * ns_open and ns_close (per socket) and rss_open_kb, the resident size with
 * all the sockets open (the shim's table grows with open descriptors).
 * -n sockets at once (default 10000), -r rounds (default 5).
 */
#include "bench.h"

#include <sys/resource.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 10000);
	long rounds = bench_arg(argc, argv, 'r', 5);
	struct rlimit rl;
	int *fds = calloc((size_t)n, sizeof(int));
	int64_t t_open = 0, t_close = 0;
	long rss_start, rss_open = 0;

	if (!fds)
		bench_die("calloc");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur; /* only root may raise it */
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			bench_die("setrlimit(RLIMIT_NOFILE)");
	}
	rss_start = bench_rss_kb();
	for (long r = 0; r < rounds; r++) {
		int64_t t0 = bench_now_ns(), t1, t2;
		for (long i = 0; i < n; i++)
			if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
				bench_die("socket");
		t1 = bench_now_ns();
		if (r == 0)
			rss_open = bench_rss_kb();
		for (long i = 0; i < n; i++)
			close(fds[i]);
		t2 = bench_now_ns();
		t_open += t1 - t0;
		t_close += t2 - t1;
	}
	bench_report("manyfd", n * rounds, t_open + t_close, 2, 1, rss_start,
		     "ns_open=%.1f ns_close=%.1f rss_open_kb=%ld", (double)t_open / (double)(n * rounds),
		     (double)t_close / (double)(n * rounds), rss_open);
	free(fds);
	return 0;
}
