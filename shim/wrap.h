/* SPDX-License-Identifier: MIT */
/* wrap.h - what the wrappers share: timing an event around the real call,
 * and the steps of closing a socket (close, dup2 over it, close_range).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_WRAP_H
#define SOCKTRACE_WRAP_H

#include <errno.h>
#include <string.h>

#include "clock.h"
#include "emit.h"
#include "fdtable.h"
#include "lifecycle.h"
#include "names.h"
#include "ownfd.h"
#include "real.h"
#include "settings.h"
#include "shim.h"
#include "sockinfo.h"

/* Starts an event: its call name and the time the call started. */
static inline int64_t st_begin(struct st_event *ev, enum st_call call)
{
	int64_t t0 = st_now_ns();
	st_event_init(ev);
	ev->call = call;
	ev->ts_us = t0 / 1000;
	return t0;
}

/* Ends it: duration, result, errno's name when the call failed. */
static inline void st_end(struct st_event *ev, int64_t t0, long ret, int err)
{
	ev->dur_ns = st_now_ns() - t0;
	ev->ret = ret;
	if (ret < 0) {
		ev->err = st_errno_name(err);
		if (!ev->err)
			ev->err = "EUNKNOWN";
	}
}

/* The record of a socket descriptor, learning about sockets the shim did
 * not see made (at `call`); NULL for anything else (no event is recorded). */
static inline struct st_sock *st_lookup(int fd, enum st_call call)
{
	struct st_sock *s = st_fd_get(fd);
	return s ? s : st_sock_discover(fd, call);
}

/* A non-blocking (or interrupted) connect seen finished: say so in this
 * event; a socket connected to its own address says that too. */
static inline void st_connect_check(struct st_sock *s, struct st_event *ev, int state)
{
	if (s->connect_pending && state && state != ST_TCP_SYN_SENT) {
		s->connect_pending = false;
		ev->connect_done = st_tcp_state_name(state);
		if (s->local[0] && !strcmp(s->local, s->remote))
			ev->self_connect = true;
	}
}

/* Closing a socket, in two steps around the real call. */
struct st_closing {
	int fd;
	struct st_sock *s;
	bool taken;		/* the table's reference is ours */
	int state_before;
	struct st_tcp tcp;
};
/* Before the real call: what the socket was, and its descriptor out of the table. */
void st_close_prepare(int fd, struct st_sock *s, struct st_closing *c);
/* The real call failed and left the descriptor open (dup2 with a bad oldfd). */
void st_close_abort(int fd, struct st_closing *c);
/* The descriptor is gone: fills ev (call, ts and result already set) and
 * releases the record when this was its last descriptor. */
void st_close_finish(int fd, struct st_closing *c, struct st_event *ev);

/* The descriptor calls, shared by their wrappers and syscall(2)'s: raw
 * makes the real call with syscall(2) (no cancellation point), and the
 * event says so. */
int st_close_tracked(enum st_call call, int fd, struct st_sock *s, bool raw);
/* Runs op(arg) and returns its result; when the thread is cancelled inside
 * op (a cancellation point), cleanup(carg) runs before the thread unwinds. */
int st_cancellable(int (*op)(void *), void *arg, void (*cleanup)(void *), void *carg);

/* Closes the tracked socket s at fd by running op(arg) (close, fclose...),
 * recorded as `call`; a cancellation inside op leaves it tracked.  first
 * and last: the range of a bulk close, -1 none.  Returns op's result with
 * its errno. */
int st_close_via(enum st_call call, int fd, struct st_sock *s, int (*op)(void *), void *arg, bool raw,
		 int64_t first, int64_t last);
int st_dup2_tracked(enum st_call call, int oldfd, int newfd, int flags, bool three, bool raw);
int st_close_range_tracked(unsigned first, unsigned last, int flags, bool raw);
int st_do_socket(int domain, int type, int protocol, bool raw);
int st_do_socketpair(int domain, int type, int protocol, int sv[2], bool raw);
int st_do_bind(int fd, const struct sockaddr *addr, socklen_t len, bool raw);
int st_do_listen(int fd, int backlog, bool raw);
int st_do_accept(enum st_call call, int fd, struct sockaddr *addr, socklen_t *len, int flags, bool four,
		 bool raw);
int st_do_connect(int fd, const struct sockaddr *addr, socklen_t len, bool raw);
int st_do_shutdown(int fd, int how, bool raw);
/* syscall(SYS_fork): a fork that runs no atfork handlers, as _Fork. */
pid_t st_do_sysfork(void);
/* syscall(SYS_execve, path, argv, envp) and syscall(SYS_execveat, dirfd,
 * path, argv, envp, flags), a[] the arguments as syscall(2) got them:
 * recorded as the libc functions are (wrap_exec.c), with "syscall": true
 * on a failure; -1 and errno when it fails, no return when it succeeds. */
long st_exec_syscall(long number, const long a[6]);
/* A child this process made (pid > 0; wrap_process.c), as the ends its
 * waits report are judged: a tracer's also report others'. */
void st_child_made(pid_t child);
/* The parent's side of a vfork (or vfork-like clone) whose child exec'd an
 * image that will not load the shim: an untraced event naming the child
 * (wrap_exec.c).  Nothing when it did not, or when child <= 0. */
void st_vfork_untraced_say(pid_t child);

#endif
