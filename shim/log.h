/* SPDX-License-Identifier: MIT */
/* log.h - the shim's own diagnostics: one helper, on the program's stderr.
 *
 * Owns: how socktrace speaks to a person from inside the traced program;
 * depends on nothing of the shim.  Never writes to stdout, never changes
 * errno, never allocates.
 */
#ifndef SOCKTRACE_LOG_H
#define SOCKTRACE_LOG_H

#include <stdbool.h>
#include <sys/types.h>

/* Writes "socktrace: warning: msg[: detail]\n" to descriptor 2 with one
 * write(2), cut at 1 KiB; detail may be NULL. */
void st_warn(const char *msg, const char *detail);

struct iovec;
/* writev(2) on fd; with guard, SIGPIPE, SIGXFSZ and SIGTTOU are blocked
 * in this thread for the call and one it raised is taken back, so that a
 * write of the shim's never costs the program a signal.  Keeps errno of
 * the write for the caller. */
ssize_t st_writev_guarded(int fd, const struct iovec *iov, int n, bool guard);

#endif
