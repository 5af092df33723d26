/* SPDX-License-Identifier: MIT */
/* passclose.c - close() of a descriptor that is not a socket: the shim's
 * passthrough path, measured per call.
 *
 * Descriptors come from dup() of /dev/null in batches of 256, outside the
 * timed part; only the close() calls are timed.  Batches alternate between
 * close() as the program calls it (through the PLT, so through the shim
 * when it is preloaded) and libc's own close() found with dlsym() on
 * libc.so.6 (never the shim).  Both run in the same process under the
 * same conditions, so their difference is the shim's cost per call.
 * Each figure is the median over batches of the batch's time per close (a
 * batch the scheduler interrupted does not move it):
 *   ns_per_iter  close() through the PLT
 *   ns_libc      libc's close() directly
 *   ns_delta     the median over batch pairs of (PLT batch - libc batch)
 *   ns_mean_plt, ns_mean_libc  plain means, interruptions included
 * -n N closes of each kind (default 2000000).
 */
#include "bench.h"

#include <dlfcn.h>
#include <fcntl.h>

enum { BATCH = 256 };

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double median_per_call(int64_t *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return (n % 2 ? (double)v[n / 2] : (double)(v[n / 2 - 1] + v[n / 2]) / 2.0) / BATCH;
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 2000000);
	long rounds = (n + BATCH - 1) / BATCH;
	int fds[BATCH];
	int64_t plt = 0, direct = 0;
	int64_t *bp = calloc((size_t)rounds, sizeof(int64_t)), *bl = calloc((size_t)rounds, sizeof(int64_t));
	int64_t *bd = calloc((size_t)rounds, sizeof(int64_t));
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	int (*libc_close)(int) = libc ? (int (*)(int))dlsym(libc, "close") : NULL;
	int dn = open("/dev/null", O_RDONLY);
	long rss_start = bench_rss_kb();

	if (dn < 0 || !libc_close || !bp || !bl || !bd)
		bench_die("setup");
	for (long r = 0; r < rounds; r++) {
		for (int pass = 0; pass < 2; pass++) {
			int64_t t0, t1;
			/* alternate which kind goes first */
			int use_libc = (pass ^ (int)(r & 1));

			for (int i = 0; i < BATCH; i++)
				if ((fds[i] = dup(dn)) < 0)
					bench_die("dup");
			if (use_libc) {
				t0 = bench_now_ns();
				for (int i = 0; i < BATCH; i++)
					libc_close(fds[i]);
				t1 = bench_now_ns();
				direct += t1 - t0;
				bl[r] = t1 - t0;
			} else {
				t0 = bench_now_ns();
				for (int i = 0; i < BATCH; i++)
					close(fds[i]);
				t1 = bench_now_ns();
				plt += t1 - t0;
				bp[r] = t1 - t0;
			}
		}
	}
	n = rounds * BATCH;
	for (long r = 0; r < rounds; r++)
		bd[r] = bp[r] - bl[r];
	{
		double md = median_per_call(bd, rounds), mp = median_per_call(bp, rounds);
		double ml = median_per_call(bl, rounds);
		/* ns_per_iter is the batch median: report it through iters */
		bench_report("passclose", n, (int64_t)(mp * (double)n), 0, 1, rss_start,
			     "ns_libc=%.2f ns_delta=%.2f ns_mean_plt=%.2f ns_mean_libc=%.2f", ml, md,
			     (double)plt / (double)n, (double)direct / (double)n);
	}
	return 0;
}
