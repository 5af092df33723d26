/* SPDX-License-Identifier: MIT */
/* drift.c - the table kept true to the kernel's (see drift.h).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "drift.h"
#include "clock.h"
#include "emit.h"
#include "recent.h"
#include "sockinfo.h"

#include <errno.h>
#include <sys/stat.h>

bool st_fd_same(int fd, const struct st_sock *s)
{
	struct stat st;
	int saved = errno;
	bool same;

	if (fstat(fd, &st) != 0)
		same = false;	/* EBADF: closed out of sight */
	else
		same = S_ISSOCK(st.st_mode) && (!s->inode || (uint64_t)st.st_ino == s->inode);
	errno = saved;
	return same;
}

/* Records s's end at fd as closed out of sight.  held: the caller holds a
 * reference to s (taken from the table) and gives it up here. */
static void report_gone(int fd, struct st_sock *s, bool held, enum st_call noticed)
{
	struct st_event ev;
	bool last = held && st_sock_release(s);

	st_event_init(&ev);
	ev.call = ST_CALL_gone;
	ev.ts_us = st_now_ns() / 1000;
	ev.fd = fd;
	ev.noticed = st_call_name(noticed);
	st_event_sock(&ev, s);
	ev.last_ref_known = held;
	ev.last_ref = last;
	if (last) {
		/* a connection that ended out of sight may linger in the kernel's
		 * table: the exit event looks for it */
		if (s->is_tcp && s->local[0] && s->remote[0])
			st_recent_add(s->local, s->remote, s->reuseaddr, s->reuseport);
		st_sock_free(s);
	}
	st_emit(&ev);
}

void st_gone(int fd, struct st_sock *s, enum st_call noticed)
{
	report_gone(fd, s, st_fd_take(fd, s), noticed);
}

void st_fd_install(int fd, struct st_sock *s, enum st_call noticed)
{
	struct st_sock *old = st_fd_set(fd, s);

	if (old == s)
		st_sock_release(old);	/* the same socket again: one reference */
	else if (old)
		/* the number was still the old socket's: its descriptor was
		 * closed out of sight before the kernel handed it out again */
		report_gone(fd, old, true, noticed);
}

struct check_all {
	enum st_call noticed;
};

static void check_one(int fd, struct st_sock *s, void *arg)
{
	const struct check_all *c = arg;

	if (!st_fd_same(fd, s))
		st_gone(fd, s, c->noticed);
}

void st_drift_check_all(enum st_call noticed)
{
	struct check_all c = { noticed };

	st_fd_each(0, ST_FD_MAX - 1, check_one, &c);
}
