/* wrap_process.c - fork: the parent records the new process; the child
 * starts over (its own pid, seq from 1, its own start event) in the
 * pthread_atfork handler set up by shim.c, so forks that do not pass
 * through this wrapper are seen too.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"

ST_EXPORT pid_t fork(void)
{
	struct st_event ev;
	int64_t t0;
	pid_t ret;
	int err;

	if (!st_active())
		return REAL(fork)();
	t0 = st_begin(&ev, ST_CALL_fork);
	ret = REAL(fork)();
	err = errno;
	if (ret == 0)
		return 0;	/* the child: its start event is already written */
	st_end(&ev, t0, ret, err);
	st_emit(&ev);
	errno = err;
	return ret;
}
