/* SPDX-License-Identifier: MIT */
/* bench.h - what every benchmark program shares: the clock, the memory
 * figures and the one result line the driver (bench/run) parses.
 *
 * Each program times its own loop with clock_gettime(CLOCK_MONOTONIC), so
 * process start-up and the shim's start/exit events are left out, and
 * prints one line of key=value pairs on stdout:
 *   bench=NAME iters=N ns_per_iter=X events_per_iter=E closes_per_iter=C
 *   rss_start_kb=.. rss_end_kb=.. maxrss_kb=.. [more keys]
 */
#ifndef SOCKTRACE_BENCH_H
#define SOCKTRACE_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Resident set size now, in KiB, from /proc/self/statm. */
static inline long bench_rss_kb(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Peak resident set size of this process, in KiB: VmHWM from
 * /proc/self/status (ru_maxrss would include the image before exec, e.g.
 * the driver's own size). */
static inline long bench_maxrss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static inline void bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads -n N (iterations) and other single-letter options with a value. */
static inline long bench_arg(int argc, char **argv, char opt, long def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] == opt && argv[i][2] == '\0')
			return strtol(argv[i + 1], NULL, 0);
	return def;
}

static inline const char *bench_sarg(int argc, char **argv, char opt, const char *def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] == opt && argv[i][2] == '\0')
			return argv[i + 1];
	return def;
}

/* Prints the result line; extra is a printf format of more key=value pairs. */
static inline void bench_report(const char *name, long iters, int64_t ns, int events, int closes,
				long rss_start, const char *extra, ...)
{
	printf("bench=%s iters=%ld ns_per_iter=%.1f events_per_iter=%d closes_per_iter=%d "
	       "rss_start_kb=%ld rss_end_kb=%ld maxrss_kb=%ld",
	       name, iters, iters ? (double)ns / (double)iters : 0.0, events, closes, rss_start,
	       bench_rss_kb(), bench_maxrss_kb());
	if (extra && *extra) {
		va_list ap;
		va_start(ap, extra);
		putchar(' ');
		vprintf(extra, ap);
		va_end(ap);
	}
	putchar('\n');
	fflush(stdout);
}

#endif
