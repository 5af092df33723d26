/* SPDX-License-Identifier: MIT */
/* runner.h - the parts of `socktrace [options] -- PROGRAM` behind its
 * command line (run.c): where a run's end record goes (runout.c), the
 * watcher that records the end of a program exec'd in place (watcher.c),
 * and the fallback that stays the program's parent (relay.c).
 * Only src/ includes it.
 */
#ifndef SOCKTRACE_RUNNER_H
#define SOCKTRACE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the runner writes how the program ended: the trace file (the one
 * of the program's pid when the path holds %p), or a copy of stderr. */
struct st_runout {
	int fd;			/* close-on-exec; -1: nowhere */
	bool json;		/* JSON Lines, else the text log's line */
	bool file;		/* a regular file: readers wait for its lock */
};

/* Opens the destination of the end record of process prog: output (NULL:
 * stderr) in format (NULL: jsonl for a file, text for stderr), as the
 * shim would write there.  Returns 0, or -1 (o->fd -1) when there is no
 * such destination; says nothing. */
int st_runout_open(struct st_runout *o, const char *output, const char *format, pid_t prog);
/* Appends the end of process pid, from its wait status (-1: unknown), in
 * one write. */
void st_runout_end(const struct st_runout *o, pid_t pid, int wstatus);
void st_runout_close(struct st_runout *o);

/* The watcher of the process about to exec the program (this one). */
struct st_watch {
	int exec_fd;		/* tells the watcher the exec failed; close-on-exec */
	pid_t pid;		/* the watcher */
};

struct st_drain;

/* Starts a watcher, apart from this process (its own session, none of its
 * descriptors but o's, d's and a pidfd of this process), which records in
 * o how this process ends once it has exec'd the program, and holds o's
 * lock for readers until then.  With d (the run's shared memory), the
 * watcher also writes every event of the run to the trace, the end
 * record in its place among them, and stays until no traced process is
 * left.  o is closed here (d is the caller's to free).  Returns 0 when the
 * watcher runs (exec the program now; w->pid is the watcher), -1 when it
 * could not be made (no pidfd_open, no fork): o is closed, nothing was
 * left behind, and the caller falls back. */
int st_watch_start(struct st_runout *o, struct st_drain *d, struct st_watch *w);
/* The exec failed (err): the watcher leaves without a record. */
void st_watch_exec_failed(struct st_watch *w, int err);

/* The fallback: runs argv as a child, stays its parent, passes every
 * signal on to it, records its end in output/format, and ends as it did
 * (the same exit status, or death by the same signal).  Returns the exit
 * status only when it does not die of the program's signal. */
int st_relay(char *const *argv, const char *output, const char *format);

/* Ends this process by signal sig, as the program it ran did: RLIMIT_CORE
 * 0 first (no core of the runner's own), sig's default action, unblocked,
 * raised.  Returns only when sig's default action does not end a process. */
void st_die_as(int sig);

#endif
