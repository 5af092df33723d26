/* wrap_fd.c - descriptor calls: close, dup, dup2, dup3, fcntl(F_DUPFD*),
 * close_range, closefrom.
 *
 * Owns: the end of a socket's life (its last descriptor closed) and its
 * aliases.  Also hides the shim's own descriptor from the program: close()
 * and fcntl() on it fail with EBADF as if it were not open, dup2() onto it
 * moves it away first, bulk closes step around it.
 * Runs inside the traced program: no malloc, no stdio, no locks.  close()
 * of a descriptor that is not a socket costs one table lookup.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "kernelview.h"
#include "sockdiag.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/tcp.h>

void st_close_prepare(int fd, struct st_sock *s, struct st_closing *c)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	if (s->is_tcp) {
		c->state_before = st_tcp_state(fd, &c->tcp);
		switch (c->state_before) {
		case ST_TCP_ESTABLISHED:
		case ST_TCP_CLOSE_WAIT:
		case ST_TCP_SYN_RECV:
		case ST_TCP_FIN_WAIT1:
		case ST_TCP_FIN_WAIT2:
			/* nothing ever received, nothing left unread (the peer's
			 * FIN, received in CLOSE_WAIT, counts one byte) */
			if (c->tcp.bytes_received > (c->state_before == ST_TCP_CLOSE_WAIT ? 1u : 0u))
				c->tcp.unread = st_unread(fd);
			break;
		default:
			break;
		}
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
		alive = st_kv_alive_state(s);
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
			bool rst = false;
			if (c->state_before == ST_TCP_ESTABLISHED || c->state_before == ST_TCP_CLOSE_WAIT ||
			    c->state_before == ST_TCP_SYN_RECV || c->state_before == ST_TCP_FIN_WAIT1 ||
			    c->state_before == ST_TCP_FIN_WAIT2) {
				if (s->linger == 0) {
					rst = true;
					ev->reset_reason = "SO_LINGER 0";
				} else if (c->tcp.unread) {
					rst = true;
					ev->reset_reason = "unread data";
				}
			}
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

/* Closes one tracked socket, recording it as `call`. */
static int close_one(enum st_call call, int fd, struct st_sock *s, int64_t first, int64_t last_fd)
{
	struct st_event ev;
	struct st_closing c;
	int64_t t0;
	int ret, err;

	st_close_prepare(fd, s, &c);
	t0 = st_begin(&ev, call);
	ret = REAL(close)(fd);
	err = errno;
	st_end(&ev, t0, ret, err);
	ev.range_first = first;
	ev.range_last = last_fd;
	/* Linux releases the descriptor even when close() fails (EINTR, EIO);
	 * EBADF means it was already gone behind the shim's back */
	st_close_finish(fd, &c, &ev);
	if (ST_UNLIKELY(atomic_load_explicit(&st_sink_lost, memory_order_relaxed)))
		st_sink_retry();	/* a descriptor is free again */
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int close(int fd)
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
	return close_one(ST_CALL_close, fd, s, -1, -1);
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

	if (!s) {
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
		st_fd_set(ret, s);
	emit_dup(t0, &ev, fd, ret, err, s, NULL);
	errno = err;
	return ret;
}

static int do_dup2(enum st_call call, int oldfd, int newfd, int flags, bool three)
{
	struct st_event ev;
	struct st_sock *sa, *sb = NULL;
	struct st_closing c;
	int64_t t0;
	int ret, err;

	if (st_is_own_fd(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (st_is_own_fd(newfd))
		st_own_move_from(newfd);	/* the program wants this number */
	sa = st_fd_get(oldfd);
	if (newfd != oldfd)
		sb = st_fd_get(newfd);
	if ((!sa && !sb) || !st_active())
		return three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	if (sb && sb != sa)
		st_close_prepare(newfd, sb, &c);
	t0 = st_begin(&ev, call);
	ret = three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	err = errno;
	if (ret >= 0 && sb && sb != sa) {
		/* the socket that was at newfd is closed by this call */
		struct st_event cev;
		int64_t t1 = st_begin(&cev, call);
		cev.ts_us = ev.ts_us;
		st_end(&cev, t1, ret, err);
		cev.dur_ns = -1;
		cev.implicit_close = true;
		st_close_finish(newfd, &c, &cev);
		st_emit(&cev);
	} else if (ret < 0 && sb && sb != sa) {
		st_close_abort(newfd, &c);	/* nothing was closed */
	}
	if (sa) {
		if (ret >= 0 && newfd != oldfd)
			st_fd_set(newfd, sa);
		emit_dup(t0, &ev, oldfd, ret, err, sa, three && (flags & O_CLOEXEC) ? "O_CLOEXEC" : NULL);
	}
	errno = err;
	return ret;
}

ST_EXPORT int dup2(int oldfd, int newfd)
{
	return do_dup2(ST_CALL_dup2, oldfd, newfd, 0, false);
}

ST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return do_dup2(ST_CALL_dup3, oldfd, newfd, flags, true);
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
	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !(s = st_fd_get(fd)))
		return real(fd, cmd, arg);
	t0 = st_begin(&ev, call);
	ret = real(fd, cmd, arg);
	err = errno;
	if (ret >= 0)
		st_fd_set(ret, s);
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
};

static void bulk_close_one(int fd, struct st_sock *s, void *arg)
{
	struct bulk *b = arg;
	close_one(b->call, fd, s, b->first, b->last);
}

/* close_range() of [first, last] stepping around the shim's descriptors */
static int range_around_own(unsigned first, unsigned last, int flags)
{
	int cand[2] = { atomic_load(&st_sink_fd), atomic_load(&st_diag_fd) }, own[2], n = 0;
	unsigned lo = first;
	int ret = 0;

	for (int i = 0; i < 2; i++)
		if (cand[i] >= 0 && (unsigned)cand[i] >= first && (unsigned)cand[i] <= last)
			own[n++] = cand[i];
	if (n == 2 && own[0] > own[1]) {
		int t = own[0];
		own[0] = own[1];
		own[1] = t;
	}
	if (!n)
		return REAL(close_range)(first, last, flags);
	for (int i = 0; i < n && ret == 0; i++) {
		if ((unsigned)own[i] > lo)
			ret = REAL(close_range)(lo, (unsigned)own[i] - 1, flags);
		lo = (unsigned)own[i] + 1;
	}
	if (ret == 0 && (unsigned)own[n - 1] < last)
		ret = REAL(close_range)(lo, last, flags);
	return ret;
}

static int bulk_close(enum st_call call, unsigned first, unsigned last, int flags)
{
	struct bulk b = { call, first, last };
	int ret, err;

	/* sockets one by one, so each gets its close record... */
	st_fd_each(first, last, bulk_close_one, &b);
	/* ...then the rest in one call */
	ret = range_around_own(first, last, flags);
	if (ST_UNLIKELY(atomic_load_explicit(&st_sink_lost, memory_order_relaxed)) && ret == 0) {
		err = errno;
		st_sink_retry();
		errno = err;
	}
	return ret;
}

ST_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!st_active() || first > last ||
	    (flags & ~(int)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
		return REAL(close_range)(first, last, flags);
	if (flags & CLOSE_RANGE_CLOEXEC)
		return range_around_own(first, last, flags);
	return bulk_close(ST_CALL_close_range, first, last, flags);
}

ST_EXPORT void closefrom(int lowfd)
{
	unsigned first = lowfd < 0 ? 0 : (unsigned)lowfd;
	int saved = errno;

	if (!st_active()) {
		REAL(closefrom)(lowfd);
		return;
	}
	if (bulk_close(ST_CALL_closefrom, first, ~0U, 0) != 0)
		REAL(closefrom)(lowfd);	/* no close_range: the sink reopens on its next write */
	errno = saved;
}
