/* SPDX-License-Identifier: MIT */
/* tracelock.h - the lock that tells a reader a trace file is about to get
 * its last record.
 *
 * Owns: the one agreement between the runner's watcher, which appends how
 * the program ended once the program has ended, and the readers (show,
 * check), which must see that record when they start after the program's
 * end, yet never wait on a program that is still running.
 *
 * The writer holds an open-file-description lock (F_OFD_SETLK, a write
 * lock on one byte far past any real data) from before the program
 * starts until its record is written; the byte's offset names the
 * program: its pid and its start time (clock ticks after boot, which
 * with the pid names one process for good, as /proc/PID/stat says it).
 * A reader asks (F_OFD_GETLK) for every such lock on the file; a lock
 * whose program is gone, or a zombie, belongs to a writer that is
 * finishing, and the reader waits for it, bounded.  A lock whose program
 * still runs is not waited for: the reader reads what is there.  The
 * kernel drops the lock when the writer's last descriptor of the file
 * closes, so a killed writer never leaves a reader waiting.
 *
 * Never blocks without a bound, never takes a lock itself as a reader,
 * never touches the file's bytes.
 */
#ifndef SOCKTRACE_TRACELOCK_H
#define SOCKTRACE_TRACELOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What /proc/PID/stat says of a process. */
struct st_procstat {
	char state;		/* R, S, D, T, t, Z, X, ... */
	uint64_t start_ticks;	/* field 22: start time, clock ticks after boot */
	int exit_code;		/* field 52: a zombie's wait status, else 0 */
};

/* Reads /proc/PID/stat; -1 (errno set) when there is no such process. */
int st_procstat_read(pid_t pid, struct st_procstat *ps);

/* The writer: holds the lock for program (pid, start_ticks) on fd (a
 * regular file open for writing) until fd's file description closes.
 * Returns 0, or -1 with errno when the file system takes no such lock. */
int st_tracelock_hold(int fd, pid_t pid, uint64_t start_ticks);

/* The reader: waits, at most max_ms milliseconds, until no writer of fd's
 * file (open for reading) is finishing.  Returns 0 when none is (or the
 * file system has no such locks), else the pid of a program whose writer
 * still holds its lock when the time is up. */
pid_t st_tracelock_wait(int fd, int max_ms);

/* Another run: the pid of a program whose writer holds its lock on fd's
 * file (open for reading) and still runs, 0 when there is none (or the
 * file system has no such locks).  A runner asks before emptying a file,
 * so two runs given the same file do not wipe each other's events. */
pid_t st_tracelock_writer(int fd);

#endif
