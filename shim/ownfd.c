/* SPDX-License-Identifier: MIT */
/* ownfd.c - the descriptors the shim itself holds (see ownfd.h).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "ownfd.h"
#include "real.h"
#include "sockdiag.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>

void st_own_move_from(int fd)
{
	st_sink_move_from(fd);
	st_diag_move_from(fd);
}

int st_own_place_high(int fd, int depth)
{
	struct rlimit rl;
	long top = 4096;
	int hi = -1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < top)
		top = (long)rl.rlim_cur;
	top -= 1 + depth;
	/* F_DUPFD gives the lowest free number at or above its argument: from
	 * the top down, the first that is free */
	for (long n = top; n > top - 16 && n > 2 && hi < 0; n--) {
		hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, n);
		if (hi >= 0 && hi != n && hi > top) {
			REAL(close)(hi);	/* above our slot: the program's room */
			hi = -1;
		}
		if (hi < 0 && errno != EMFILE && errno != EINVAL)
			break;
	}
	REAL(close)(fd);
	return hi;
}
