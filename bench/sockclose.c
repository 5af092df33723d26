/* SPDX-License-Identifier: MIT */
/* sockclose.c - socket() + close() in a loop (2 events per iteration).
 * -n N iterations (default 200000).
 */
#include "bench.h"

#include <sys/socket.h>

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 200000);
	long rss_start = bench_rss_kb();
	int64_t t0 = bench_now_ns(), t1;

	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			bench_die("socket");
		close(s);
	}
	t1 = bench_now_ns();
	bench_report("sockclose", n, t1 - t0, 2, 1, rss_start, NULL);
	return 0;
}
