/* SPDX-License-Identifier: MIT */
/* wrap_fd.c - descriptor calls: close (and __close), dup, dup2, dup3,
 * fcntl(F_DUPFD*), close_range, closefrom.
 *
 * Owns: the end of a socket's life in this process (its last descriptor
 * closed) and its aliases.  A close of a tracked descriptor first checks
 * that it still names the recorded socket (drift.h).  Also hides the shim's
 * own descriptor from the program: close() and fcntl() on it fail with
 * EBADF as if it were not open, dup2() onto it moves it away first, bulk
 * closes step around it.
 * Runs inside the traced program: no malloc, no stdio, no locks.  close()
 * of a descriptor that is not a socket costs one table lookup.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"
#include "kernelview.h"
#include "sockdiag.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/tcp.h>

void st_close_prepare(int fd, struct st_sock *s, struct st_closing *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->s = s;
	if (s->is_tcp) {
		c->state_before = st_tcp_state(fd, &c->tcp);
		/* nothing ever received, nothing left unread (the peer's FIN,
		 * received in CLOSE_WAIT, counts one byte) */
		if (st_tcp_close_may_reset(c->state_before) &&
		    c->tcp.bytes_received > (c->state_before == ST_TCP_CLOSE_WAIT ? 1u : 0u))
			c->tcp.unread = st_unread(fd);
	}
	c->taken = st_fd_take(fd, s);
}

void st_close_abort(int fd, struct st_closing *c)
{
	if (!c->taken)
		return;
	st_fd_set(fd, c->s);
	st_sock_release(c->s);
}

void st_close_finish(int fd, struct st_closing *c, struct st_event *ev)
{
	struct st_sock *s = c->s;
	bool last = c->taken && st_sock_release(s);
	int alive = 0;

	ev->fd = fd;
	st_event_sock(ev, s);
	st_event_opts(ev, s);
	ev->last_ref_known = c->taken;
	ev->last_ref = last;
	/* shared with another process: does it still hold the socket? */
	if (last && s->shared && s->is_tcp)
		alive = st_kv_alive_state(s, c->state_before);
	if (c->state_before) {
		ev->state_before = st_tcp_state_name(c->state_before);
		st_connect_check(s, ev, c->state_before);
		/* a connection's numbers; a listener or a never-connected socket
		 * has none (a connection in TIME_WAIT leaves its socket in CLOSE) */
		if (c->state_before != ST_TCP_LISTEN && s->remote[0]) {
			ev->has_tcp = true;
			ev->tcp = c->tcp;
		}
		if (!last && c->taken) {
			ev->state = ev->state_before;	/* another descriptor keeps it open */
		} else if (last && alive > 0) {
			ev->state = st_tcp_state_name(alive);	/* another process keeps it open */
		} else if (last && alive == 0) {
			bool rst;
			ev->reset_reason = st_tcp_close_reset(c->state_before, s->linger, c->tcp.unread);
			rst = ev->reset_reason != NULL;
			ev->reset_known = true;
			ev->reset = rst;
			ev->state = st_tcp_state_name(st_tcp_close_state(c->state_before, rst));
		}
		/* alive < 0: shared, and the kernel was not asked (PROBE=off) */
	}
	if (last) {
		if (alive == 0)
			st_kv_closed(s, ev);
		st_sock_free(s);
	}
}

/* The real close: libc's (a cancellation point), or the raw system call
 * for syscall(SYS_close, fd), which is not one. */
static int real_close(int fd, bool raw)
{
	return raw ? (int)REAL(syscall)(SYS_close, fd) : REAL(close)(fd);
}

/* A cancellation acted on inside the real close: glibc does so before the
 * system call, so the descriptor is still open and goes back in the table. */
static void close_cancelled(void *arg)
{
	struct st_closing *c = arg;

	st_close_abort(c->fd, c);
}

int st_cancellable(int (*op)(void *), void *arg, void (*cleanup)(void *), void *carg)
{
	int ret;

	pthread_cleanup_push(cleanup, carg);
	ret = op(arg);
	pthread_cleanup_pop(0);
	return ret;
}

int st_close_via(enum st_call call, int fd, struct st_sock *s, int (*op)(void *), void *arg, bool raw,
		 int64_t first, int64_t last)
{
	struct st_event ev;
	struct st_closing c;
	int64_t t0;
	int ret, err;

	st_close_prepare(fd, s, &c);
	t0 = st_begin(&ev, call);
	ret = st_cancellable(op, arg, close_cancelled, &c);
	err = errno;
	st_end(&ev, t0, ret, err);
	ev.via_syscall = raw;
	ev.range_first = first;
	ev.range_last = last;
	/* Linux releases the descriptor even when close() fails (EINTR, EIO) */
	st_close_finish(fd, &c, &ev);
	if (ST_UNLIKELY(atomic_load_explicit(&st_sink_lost, memory_order_relaxed)))
		st_sink_retry();	/* a descriptor is free again */
	st_emit(&ev);
	errno = err;
	return ret;
}

struct raw_close {
	int fd;
	bool raw;
};

static int op_close(void *arg)
{
	const struct raw_close *r = arg;
	return real_close(r->fd, r->raw);
}

/* Closes one tracked socket, recording it as `call`. */
static int close_one(enum st_call call, int fd, struct st_sock *s, int64_t first, int64_t last_fd, bool raw)
{
	struct raw_close r = { fd, raw };

	return st_close_via(call, fd, s, op_close, &r, raw, first, last_fd);
}

/* close() of a descriptor the table holds: check it still names that
 * socket first.  When it does not, the socket was closed out of sight; what
 * the number names now is closed as the program asked (and recorded when it
 * is a socket too). */
int st_close_tracked(enum st_call call, int fd, struct st_sock *s, bool raw)
{
	if (ST_UNLIKELY(st_vfork_child))
		return real_close(fd, raw);	/* never the parent's table */
	if (ST_UNLIKELY(!st_fd_same(fd, s))) {
		st_gone(fd, s, call);
		s = st_sock_discover(fd, call);
		if (!s)
			return real_close(fd, raw);
	}
	return close_one(call, fd, s, -1, -1, raw);
}

static int do_close(enum st_call call, int fd)
{
	struct st_sock *s = st_fd_get(fd);

	if (ST_LIKELY(!s)) {
		int ret;
		if (ST_UNLIKELY(st_is_own_fd(fd))) {
			errno = EBADF;
			return -1;
		}
		if (ST_LIKELY(!atomic_load_explicit(&st_sink_lost, memory_order_relaxed)))
			return REAL(close)(fd);
		ret = REAL(close)(fd);
		if (ret == 0)
			st_sink_retry();	/* a descriptor is free again */
		return ret;
	}
	return st_close_tracked(call, fd, s, false);
}

ST_EXPORT int close(int fd)
{
	return do_close(ST_CALL_close, fd);
}

ST_EXPORT int __close(int fd)
{
	return do_close(ST_CALL___close, fd);
}

static void emit_dup(int64_t t0, struct st_event *ev, int oldfd, int ret, int err,
		     struct st_sock *s, const char *flags)
{
	st_end(ev, t0, ret, err);
	ev->fd = oldfd;
	if (ret >= 0)
		ev->newfd = ret;
	ev->flags = flags;
	st_event_sock(ev, s);
	st_emit(ev);
}

ST_EXPORT int dup(int fd)
{
	struct st_event ev;
	struct st_sock *s = st_fd_get(fd);
	int64_t t0;
	int ret, err;

	if (!s || ST_UNLIKELY(st_vfork_child)) {
		if (st_is_own_fd(fd)) {
			errno = EBADF;
			return -1;
		}
		return REAL(dup)(fd);
	}
	t0 = st_begin(&ev, ST_CALL_dup);
	ret = REAL(dup)(fd);
	err = errno;
	if (ret >= 0)
		st_fd_install(ret, s, ST_CALL_dup);
	emit_dup(t0, &ev, fd, ret, err, s, NULL);
	errno = err;
	return ret;
}

int st_dup2_tracked(enum st_call call, int oldfd, int newfd, int flags, bool three, bool raw)
{
	struct st_event ev;
	struct st_sock *sa, *sb = NULL;
	struct st_closing c;
	int64_t t0;
	int ret, err;

#define REAL_DUP2() (raw ? (three ? (int)REAL(syscall)(SYS_dup3, oldfd, newfd, flags) : \
				   (int)REAL(syscall)(SYS_dup2, oldfd, newfd)) : \
		      (three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd)))
	if (st_is_own_fd(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (st_is_own_fd(newfd))
		st_own_move_from(newfd);	/* the program wants this number */
	sa = st_fd_get(oldfd);
	if (newfd != oldfd)
		sb = st_fd_get(newfd);
	if ((!sa && !sb) || ST_UNLIKELY(st_vfork_child) || !st_active())
		return REAL_DUP2();
	if (sb && sb != sa && !st_fd_same(newfd, sb)) {
		st_gone(newfd, sb, call);	/* not the socket it was: closed out of sight */
		sb = NULL;
	}
	if (sb && sb != sa)
		st_close_prepare(newfd, sb, &c);
	t0 = st_begin(&ev, call);
	ret = REAL_DUP2();
	err = errno;
#undef REAL_DUP2
	if (ret >= 0 && sb && sb != sa) {
		/* the socket that was at newfd is closed by this call */
		struct st_event cev;
		int64_t t1 = st_begin(&cev, call);
		cev.ts_us = ev.ts_us;
		st_end(&cev, t1, ret, err);
		cev.dur_ns = -1;
		cev.implicit_close = true;
		cev.via_syscall = raw;
		st_close_finish(newfd, &c, &cev);
		st_emit(&cev);
	} else if (ret < 0 && sb && sb != sa) {
		st_close_abort(newfd, &c);	/* nothing was closed */
	}
	if (sa) {
		if (ret >= 0 && newfd != oldfd)
			st_fd_install(newfd, sa, call);
		ev.via_syscall = raw;
		emit_dup(t0, &ev, oldfd, ret, err, sa, three && (flags & O_CLOEXEC) ? "O_CLOEXEC" : NULL);
	}
	errno = err;
	return ret;
}

ST_EXPORT int dup2(int oldfd, int newfd)
{
	return st_dup2_tracked(ST_CALL_dup2, oldfd, newfd, 0, false, false);
}

ST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return st_dup2_tracked(ST_CALL_dup3, oldfd, newfd, flags, true, false);
}

static int do_fcntl(enum st_call call, int (*real)(int, int, ...), int fd, int cmd, long arg)
{
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err;

	if (ST_UNLIKELY(st_is_own_fd(fd))) {
		errno = EBADF;
		return -1;
	}
	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !(s = st_fd_get(fd)) || ST_UNLIKELY(st_vfork_child))
		return real(fd, cmd, arg);
	t0 = st_begin(&ev, call);
	ret = real(fd, cmd, arg);
	err = errno;
	if (ret >= 0)
		st_fd_install(ret, s, call);
	ev.cmd = cmd == F_DUPFD ? "F_DUPFD" : "F_DUPFD_CLOEXEC";
	emit_dup(t0, &ev, fd, ret, err, s, NULL);
	errno = err;
	return ret;
}

ST_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(ST_CALL_fcntl, REAL(fcntl), fd, cmd, arg);
}

ST_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(ST_CALL_fcntl64, REAL(fcntl64), fd, cmd, arg);
}

struct bulk {
	enum st_call call;
	int64_t first, last;
	bool raw;
};

static void bulk_close_one(int fd, struct st_sock *s, void *arg)
{
	struct bulk *b = arg;

	if (!st_fd_same(fd, s)) {
		st_gone(fd, s, b->call);	/* closed out of sight before */
		return;
	}
	close_one(b->call, fd, s, b->first, b->last, b->raw);
}

/* close_range() of [first, last] stepping around the shim's descriptors */
static int range_around_own(unsigned first, unsigned last, int flags, bool raw)
{
	int cand[2] = { atomic_load(&st_sink_fd), atomic_load(&st_diag_fd) }, own[2], n = 0;
	unsigned lo = first;
	int ret = 0;

#define REAL_RANGE(a, b) (raw ? (int)REAL(syscall)(SYS_close_range, (a), (b), flags) : \
			  REAL(close_range)((a), (b), flags))
	for (int i = 0; i < 2; i++)
		if (cand[i] >= 0 && (unsigned)cand[i] >= first && (unsigned)cand[i] <= last)
			own[n++] = cand[i];
	if (n == 2 && own[0] > own[1]) {
		int t = own[0];
		own[0] = own[1];
		own[1] = t;
	}
	if (!n)
		return REAL_RANGE(first, last);
	for (int i = 0; i < n && ret == 0; i++) {
		if ((unsigned)own[i] > lo)
			ret = REAL_RANGE(lo, (unsigned)own[i] - 1);
		lo = (unsigned)own[i] + 1;
	}
	if (ret == 0 && (unsigned)own[n - 1] < last)
		ret = REAL_RANGE(lo, last);
#undef REAL_RANGE
	return ret;
}

static int bulk_close(enum st_call call, unsigned first, unsigned last, int flags, bool raw)
{
	struct bulk b = { call, first, last, raw };
	int ret, err;

	/* sockets one by one, so each gets its close record... */
	st_fd_each(first, last, bulk_close_one, &b);
	/* ...then the rest in one call */
	ret = range_around_own(first, last, flags, raw);
	if (ST_UNLIKELY(atomic_load_explicit(&st_sink_lost, memory_order_relaxed)) && ret == 0) {
		err = errno;
		st_sink_retry();
		errno = err;
	}
	return ret;
}

/* CLOSE_RANGE_UNSHARE: the range is closed in a private copy of the
 * descriptor table, the calling thread's; the process's other threads keep
 * theirs, and the shim's table with them.  Recorded as one event. */
static int close_range_unshared(unsigned first, unsigned last, int flags, bool raw)
{
	struct st_event ev;
	int64_t t0 = st_begin(&ev, ST_CALL_close_range);
	int ret = range_around_own(first, last, flags, raw);
	int err = errno;

	st_end(&ev, t0, ret, err);
	ev.range_first = first;
	ev.range_last = last;
	ev.flags = flags & CLOSE_RANGE_CLOEXEC ? "CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC" : "CLOSE_RANGE_UNSHARE";
	ev.via_syscall = raw;
	st_emit(&ev);
	errno = err;
	return ret;
}

int st_close_range_tracked(unsigned first, unsigned last, int flags, bool raw)
{
	if (!st_active() || ST_UNLIKELY(st_vfork_child) || first > last ||
	    (flags & ~(int)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
		return raw ? (int)REAL(syscall)(SYS_close_range, first, last, flags) :
			     REAL(close_range)(first, last, flags);
	if (flags & CLOSE_RANGE_UNSHARE)
		return close_range_unshared(first, last, flags, raw);
	if (flags & CLOSE_RANGE_CLOEXEC)
		return range_around_own(first, last, flags, raw);
	return bulk_close(ST_CALL_close_range, first, last, flags, raw);
}

ST_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return st_close_range_tracked(first, last, flags, false);
}

ST_EXPORT void closefrom(int lowfd)
{
	unsigned first = lowfd < 0 ? 0 : (unsigned)lowfd;
	int saved = errno;

	if (!st_active() || ST_UNLIKELY(st_vfork_child)) {
		REAL(closefrom)(lowfd);
		return;
	}
	if (bulk_close(ST_CALL_closefrom, first, ~0U, 0, false) != 0)
		REAL(closefrom)(lowfd);	/* no close_range: the sink reopens on its next write */
	errno = saved;
}
