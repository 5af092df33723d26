/* SPDX-License-Identifier: MIT */
/* wrap_syscall.c - syscall(2) for the socket lifecycle numbers.
 *
 * Owns: routing syscall(SYS_close, fd) and its kin (libuv closes every
 * descriptor this way, so every Node.js program does) to the handler of
 * the call they make, which records it with "syscall": true and makes the
 * real call with syscall(2) where libc's function differs (close, connect,
 * accept are cancellation points; syscall(2) is not), and the process's
 * end by SYS_exit_group, or by SYS_exit from its last thread, to its exit
 * event.  Every other number passes through untouched.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "sink.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The arguments are longs, as syscall(2) takes them; those that are
 * pointers are cast back. */
// NOLINTBEGIN(performance-no-int-to-ptr)
ST_EXPORT long syscall(long number, ...)
{
	va_list ap;
	long a[6];

	/* as glibc's own syscall(): six arguments, whatever the number takes */
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!st_active())
		return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	switch (number) {
	case SYS_close: {
		struct st_sock *s = st_fd_get((int)a[0]);
		if (!s)
			break;
		return st_close_tracked(ST_CALL_close, (int)a[0], s, true);
	}
	case SYS_close_range:
		return st_close_range_tracked((unsigned)a[0], (unsigned)a[1], (int)a[2], true);
	case SYS_dup2:
		return st_dup2_tracked(ST_CALL_dup2, (int)a[0], (int)a[1], 0, false, true);
	case SYS_dup3:
		return st_dup2_tracked(ST_CALL_dup3, (int)a[0], (int)a[1], (int)a[2], true, true);
	case SYS_socket:
		return st_do_socket((int)a[0], (int)a[1], (int)a[2], true);
	case SYS_socketpair:
		return st_do_socketpair((int)a[0], (int)a[1], (int)a[2], (int *)a[3], true);
	case SYS_bind:
		return st_do_bind((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2], true);
	case SYS_listen:
		return st_do_listen((int)a[0], (int)a[1], true);
	case SYS_accept:
		return st_do_accept(ST_CALL_accept, (int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0, false,
				    true);
	case SYS_accept4:
		return st_do_accept(ST_CALL_accept4, (int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2],
				    (int)a[3], true, true);
	case SYS_connect:
		return st_do_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2], true);
	case SYS_shutdown:
		return st_do_shutdown((int)a[0], (int)a[1], true);
#ifdef SYS_fork
	case SYS_fork:
		return st_do_sysfork();
#endif
	case SYS_execve:
	case SYS_execveat:
		return st_exec_syscall(number, a);
	case SYS_exit_group:
		st_exit_now((int)a[0]);
		break;
	case SYS_exit: {
		/* the calling thread's end, and the process's when it is the
		 * last one: /proc/self/task holds ".", ".." and one entry per
		 * thread (its link count is 2 + threads) */
		struct stat st;
		if (stat("/proc/self/task", &st) == 0 && st.st_nlink == 3)
			st_exit_now((int)a[0]);
		break;
	}
	case SYS_setrlimit:
	case SYS_prlimit64: {
		long r = REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		int e = errno;
		if (r == 0)
			st_sink_limits_changed();
		errno = e;
		return r;
	}
	default:
		break;
	}
	return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
// NOLINTEND(performance-no-int-to-ptr)
