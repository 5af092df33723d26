/* SPDX-License-Identifier: MIT */
/* outfile.h - opening a file to write a trace or a report into, safely in
 * a directory other users share (/tmp).
 *
 * Owns: the one way socktrace opens an output path, for the shim's sink,
 * the runner's -o and check's --junit alike: what it refuses and why, the
 * mode of what it creates, when it truncates.  Runs inside the traced
 * program too: no malloc, no stdio, no locks; keeps no descriptor but the
 * one it returns (the ones it walks the path with are closed before it
 * returns, through the caller's close when given).
 */
#ifndef SOCKTRACE_OUTFILE_H
#define SOCKTRACE_OUTFILE_H

#include <sys/types.h>

#define ST_OUT_TRUNC 0x1	/* empty an existing regular file (after the checks) */
#define ST_OUT_BLOCK 0x2	/* blocking writes on whatever it is (a command's
				 * report; never the shim's trace) */

/* The mode of created files when none is asked for: the trace may hold
 * command lines and addresses, for the user who made it only. */
#define ST_OUT_MODE_DEFAULT 0600

struct st_outfile {
	mode_t mode;		/* of a file it creates, exactly (fchmod after the
				 * create: the umask does not narrow it); 0: 0600 */
	unsigned flags;		/* ST_OUT_* */
	int (*close_fd)(int fd);	/* NULL: close(2) (the shim gives its real close) */
};

/* Opens path for writing, appending (O_WRONLY|O_APPEND|O_CLOEXEC|O_NOCTTY),
 * and returns the descriptor; -1 with errno set and *why saying why in a
 * few words (never NULL then), e.g. "owned by another user, in a sticky
 * directory".  It
 *  - never follows a symbolic link in the last component, and follows one
 *    in the directories before it only where the kernel's
 *    fs.protected_symlinks would: not when the link is in a sticky
 *    directory others may write to and belongs neither to this user nor to
 *    the directory's owner;
 *  - creates a new file with O_EXCL, then sets its mode exactly;
 *  - refuses an existing regular file or FIFO of another user (neither the
 *    caller's effective uid nor the directory's owner) in a sticky
 *    directory others may write to, as fs.protected_regular and
 *    protected_fifos=2 would, without relying on them, and without opening
 *    it first (opening a FIFO wakes its reader);
 *  - refuses a regular file with other hard links in such a directory, and
 *    anywhere when it is another user's;
 *  - never blocks: a FIFO nobody reads is refused, one with a reader stays
 *    non-blocking (unless ST_OUT_BLOCK); a regular file is made blocking;
 *  - truncates only after every check (ST_OUT_TRUNC), never a FIFO or a
 *    device. */
int st_outfile_open(const char *path, const struct st_outfile *how, const char **why);

/* The descriptor an output name stands for, as strace's -o and a shell's
 * process substitution have it: 1 for "-" and "/dev/stdout", 2 for
 * "/dev/stderr", N for "fd:N", "/dev/fd/N" and "/proc/self/fd/N" (N
 * decimal digits, at most INT_MAX); -1 for any other name (a path to
 * open, "/dev/fd/x" included); -2 for "fd:" without such a number (a
 * usage error: the caller says so).  Looks at the name only: whether the
 * descriptor is open, and for writing, is the caller's to find out.  The
 * runner's -o and check's --junit read their names with it. */
int st_outfile_fd(const char *name);

/* SOCKTRACE_MODE's value: an octal mode of read and write bits only (no
 * execute, set-id or sticky bit), the owner's both, such as 0640; false
 * (and *out untouched) for anything else.  The shim and the runner read
 * it alike. */
#include <stdbool.h>
bool st_outfile_mode(const char *s, mode_t *out);

#endif
