/* SPDX-License-Identifier: MIT */
/* syscost.c - what each system call the shim adds to a churn iteration
 * costs on this machine, measured bare (no shim), to tell which part of
 * the shim's overhead is the kernel's price for an exact record.
 *
 * On one established loopback TCP connection, each call is timed over
 * batches of -n calls (default 20000), 15 batches; the figure is the
 * median batch's ns per call:
 *   ns_getppid       a system call that does nothing (the entry's price)
 *   ns_fstat         fstat() of the socket (its inode; the drift check)
 *   ns_tcp_info      getsockopt(TCP_INFO) (state and counters)
 *   ns_getsockname   getsockname() (the local endpoint after connect)
 *   ns_writev        writev() of one 350-byte line to an O_APPEND file
 *                    in $TMPDIR (/tmp): a trace line written by the shim
 *   ns_clock         clock_gettime(CLOCK_REALTIME) (vdso: no system call)
 * Prints one line: bench=syscost iters=N ns_per_iter=<ns_getppid> ... and
 * the keys above.  Not driven by bench/run: run it by hand, alone.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

enum { BATCHES = 15 };

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define MEDIAN_NS(out, n, stmt) do { \
	double v_[BATCHES]; \
	for (int r_ = 0; r_ < BATCHES; r_++) { \
		int64_t t0_ = bench_now_ns(); \
		for (long i_ = 0; i_ < (n); i_++) { \
			stmt; \
		} \
		v_[r_] = (double)(bench_now_ns() - t0_) / (double)(n); \
	} \
	qsort(v_, BATCHES, sizeof(v_[0]), cmp_dbl); \
	(out) = v_[BATCHES / 2]; \
} while (0)

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, 'n', 20000);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s, f;
	struct stat st;
	struct tcp_info ti;
	struct sockaddr_storage ss;
	socklen_t tl, sl;
	struct timespec ts;
	char line[350], path[4096];
	struct iovec iov = { line, sizeof(line) };
	const char *tmp = getenv("TMPDIR");
	double ppid, fst, tinfo, gsn, wv, clk;

	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al) || connect(c, (struct sockaddr *)&a, sizeof(a)))
		bench_die("setup");
	if ((s = accept(l, NULL, NULL)) < 0)
		bench_die("accept");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	snprintf(path, sizeof(path), "%s/syscost.%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	if ((f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600)) < 0)
		bench_die("open");
	unlink(path);
	MEDIAN_NS(ppid, n, syscall(SYS_getppid));
	MEDIAN_NS(fst, n, fstat(s, &st));
	MEDIAN_NS(tinfo, n, (tl = sizeof(ti), getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl)));
	MEDIAN_NS(gsn, n, (sl = sizeof(ss), getsockname(c, (struct sockaddr *)&ss, &sl)));
	MEDIAN_NS(wv, n, if (writev(f, &iov, 1) < 0) bench_die("writev"));
	MEDIAN_NS(clk, n, clock_gettime(CLOCK_REALTIME, &ts));
	printf("bench=syscost iters=%ld ns_per_iter=%.1f events_per_iter=0 closes_per_iter=0 "
	       "ns_getppid=%.1f ns_fstat=%.1f ns_tcp_info=%.1f ns_getsockname=%.1f ns_writev=%.1f "
	       "ns_clock=%.1f\n", n, ppid, ppid, fst, tinfo, gsn, wv, clk);
	return 0;
}
