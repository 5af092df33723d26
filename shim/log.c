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
	const char *parts[] = { "socktrace: warning: ", msg, detail ? ": " : "", detail ? detail : "", "\n" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t l = strlen(parts[i]);
		if (n + l > sizeof(line) - 2)
			l = sizeof(line) - 2 - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	{
		struct iovec v = { line, n };
		while (st_writev_guarded(2, &v, 1, true) < 0 && errno == EINTR)
			;
	}
	errno = saved;
}
