/* SPDX-License-Identifier: MIT */
/* log.c - the shim's diagnostics (see log.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; errno kept.
 */
#define _GNU_SOURCE
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

ssize_t st_writev_guarded(int fd, const struct iovec *iov, int n, bool guard)
{
	sigset_t block, old, before, after;
	ssize_t r;
	int e;

	if (!guard)
		return writev(fd, iov, n);
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGXFSZ);
	sigaddset(&block, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigpending(&before);
	r = writev(fd, iov, n);
	e = errno;
	sigpending(&after);
	/* a signal this write raised (not one already pending) is taken back;
	 * SIGPIPE, SIGXFSZ and SIGTTOU from a write go to the writing thread */
	for (int sig = 1; sig < 32; sig++) {
		if (sigismember(&block, sig) == 1 && sigismember(&old, sig) != 1 &&
		    sigismember(&after, sig) == 1 && sigismember(&before, sig) != 1) {
			sigset_t one;
			struct timespec zero = { 0, 0 };
			sigemptyset(&one);
			sigaddset(&one, sig);
			sigtimedwait(&one, NULL, &zero);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

void st_warn(const char *msg, const char *detail)
{
	char line[1024];
	size_t n = 0;
	int saved = errno;
	const char *parts[] = { "socktrace: warning: ", msg, detail ? ": " : "", detail ? detail : "" };

	/* bytes and a length, never a C string: cut to leave room for '\n' */
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p && n < sizeof(line) - 1; p++)
			line[n++] = *p;
	line[n++] = '\n';
	{
		struct iovec v = { line, n };
		while (st_writev_guarded(2, &v, 1, true) < 0 && errno == EINTR)
			;
	}
	errno = saved;
}
