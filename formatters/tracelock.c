/* SPDX-License-Identifier: MIT */
/* tracelock.c - the finishing writer's lock on a trace file (see
 * tracelock.h).
 *
 * Owns: where the lock sits (the byte's offset and what it encodes), how a
 * reader finds every such lock and decides whether its program has
 * ended, and the reading of /proc/PID/stat that decision needs.  Never
 * takes a lock as a reader, never blocks without a bound.
 */
#define _GNU_SOURCE
#include "tracelock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The locks sit in [BASE, BASE + 2^60): far past any file's data, so they
 * never stand in the way of a lock on the trace's bytes.  Offset = BASE +
 * (start ticks << 22 | pid): a pid is below 2^22 (PID_MAX_LIMIT), 38 bits
 * of ticks are 87 years at 100 Hz. */
#define LOCK_BASE (INT64_C(1) << 62)
#define PID_BITS 22
#define TICK_MASK ((UINT64_C(1) << 38) - 1)
#define POLL_NS (2 * 1000000L)
/* locks looked at on one file, at most */
#define MAX_WRITERS 64

int st_procstat_read(pid_t pid, struct st_procstat *ps)
{
	char path[48], buf[2048];
	const char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	/* the command name, field 2, may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		errno = EINVAL;
		return -1;
	}
	memset(ps, 0, sizeof(*ps));
	ps->state = p[2];
	p += 3;
	for (field = 4; *p && field <= 52; field++) {
		char *end;
		unsigned long long v;

		while (*p == ' ')
			p++;
		v = strtoull(p, &end, 10);
		if (end == p)
			break;
		if (field == 22)
			ps->start_ticks = v;
		else if (field == 52)
			ps->exit_code = (int)v;
		p = end;
	}
	return 0;
}

static off_t lock_offset(pid_t pid, uint64_t start_ticks)
{
	return (off_t)(LOCK_BASE + (int64_t)((start_ticks & TICK_MASK) << PID_BITS | (uint64_t)pid));
}

int st_tracelock_hold(int fd, pid_t pid, uint64_t start_ticks)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };

	if (pid <= 0 || (uint64_t)pid >> PID_BITS) {
		errno = EOVERFLOW;
		return -1;
	}
	fl.l_start = lock_offset(pid, start_ticks);
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Has the program a lock at offset names ended (gone, a zombie, or its pid
 * now another process's)?  A lock that is not one of ours is taken for a
 * running one: it is not waited for. */
static bool lock_finishing(off_t start, off_t len, pid_t *pid)
{
	struct st_procstat ps;
	uint64_t v;

	if (len != 1 || start < LOCK_BASE)
		return false;
	v = (uint64_t)(start - LOCK_BASE);
	*pid = (pid_t)(v & ((UINT64_C(1) << PID_BITS) - 1));
	if (st_procstat_read(*pid, &ps) < 0)
		return true;
	return (ps.start_ticks & TICK_MASK) != v >> PID_BITS || ps.state == 'Z' || ps.state == 'X';
}

/* The write locks of [lo, hi]: the kernel names one that conflicts, the
 * ranges on either side of it are asked again.  Returns the pid of a
 * finishing writer, 0 when there is none, -1 when the kernel cannot say. */
static pid_t find_finishing(int fd, off_t lo, off_t hi, int *budget)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	off_t first, last;
	pid_t pid = 0;

	if (lo > hi || *budget <= 0)
		return 0;
	--*budget;
	fl.l_start = lo;
	fl.l_len = hi - lo + 1;
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -1;
	if (fl.l_type == F_UNLCK)
		return 0;
	if (lock_finishing(fl.l_start, fl.l_len, &pid))
		return pid;
	first = fl.l_start;
	last = fl.l_len > 0 && fl.l_start + fl.l_len - 1 < hi ? fl.l_start + fl.l_len - 1 : hi;
	if (first > lo && (pid = find_finishing(fd, lo, first - 1, budget)) != 0)
		return pid;
	return last < hi ? find_finishing(fd, last + 1, hi, budget) : 0;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

pid_t st_tracelock_wait(int fd, int max_ms)
{
	int64_t deadline = now_ns() + (int64_t)max_ms * 1000000;

	for (;;) {
		int budget = 2 * MAX_WRITERS + 1;
		pid_t pid = find_finishing(fd, LOCK_BASE, LOCK_BASE + (off_t)(TICK_MASK << PID_BITS) +
								 ((off_t)1 << PID_BITS) - 1, &budget);
		struct timespec nap = { 0, POLL_NS };

		if (pid <= 0)
			return 0;
		if (now_ns() >= deadline)
			return pid;
		nanosleep(&nap, NULL);
	}
}

pid_t st_tracelock_writer(int fd)
{
	struct flock fl;
	off_t at = LOCK_BASE;

	/* each lock is one byte; a few runs at most share a file */
	for (int i = 0; i < 64; i++) {
		pid_t pid;

		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_RDLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = at;
		fl.l_len = 0;	/* to the end of the offsets */
		if (fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
			return 0;
		if (fl.l_len == 1 && fl.l_start >= LOCK_BASE && !lock_finishing(fl.l_start, fl.l_len, &pid))
			return pid;
		if (fl.l_len <= 0)
			return 0;	/* a lock to the end that is not ours */
		at = fl.l_start + fl.l_len;
	}
	return 0;
}
