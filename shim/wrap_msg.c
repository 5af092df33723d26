/* SPDX-License-Identifier: MIT */
/* wrap_msg.c - descriptors passed between processes: sendmsg, recvmsg,
 * sendmmsg, recvmmsg carrying SCM_RIGHTS.
 *
 * Owns: the hand-over of a socket.  A socket sent is marked shared (its
 * last close here is not its end while the receiver holds it); a socket
 * received is adopted with its identity (inode), so the two processes'
 * records join.  Messages without control data (nearly all) pass through
 * after one test; the control data is read only after the kernel accepted
 * it.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"

#include <string.h>
#include <sys/socket.h>

#define MAX_RIGHTS 64

struct rights {
	struct st_right r[MAX_RIGHTS];
	int n;
};

/* Walks the SCM_RIGHTS descriptors of a message the kernel took or gave. */
static void scan(const struct msghdr *msg, bool received, enum st_call call, struct rights *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		size_t n;
		const unsigned char *data;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		data = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			struct st_sock *s;

			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (received)
				s = st_sock_discover(fd, call);	/* NULL: not a socket, or not recorded */
			else if ((s = st_fd_get(fd)))
				s->shared = true;	/* the receiver holds it too */
			if (out->n < MAX_RIGHTS) {
				out->r[out->n].fd = fd;
				out->r[out->n].inode = s ? s->inode : 0;
				/* a unix listener has no TCP state to say it */
				out->r[out->n].listening = received && s && st_sock_listens(fd);
				out->n++;
			}
		}
	}
}

static bool has_control(const struct msghdr *msg)
{
	return msg && msg->msg_control && msg->msg_controllen >= sizeof(struct cmsghdr);
}

static void emit_rights(enum st_call call, int64_t t0, int fd, long ret, int err, const struct rights *r)
{
	struct st_event ev;
	struct st_sock *s = st_fd_get(fd);

	st_begin(&ev, call);
	st_end(&ev, t0, ret, err);
	ev.ts_us = t0 / 1000;
	ev.fd = fd;
	if (s)
		st_event_sock(&ev, s);
	ev.rights = r->r;
	ev.nrights = r->n;
	st_emit(&ev);
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct rights r;
	int64_t t0;
	ssize_t ret;
	int err;

	if (ST_LIKELY(!has_control(msg)) || !st_active())
		return REAL(sendmsg)(fd, msg, flags);
	t0 = st_now_ns();
	ret = REAL(sendmsg)(fd, msg, flags);
	err = errno;
	if (ret >= 0) {
		r.n = 0;
		scan(msg, false, ST_CALL_sendmsg, &r);
		if (r.n)
			emit_rights(ST_CALL_sendmsg, t0, fd, ret, err, &r);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct rights r;
	int64_t t0;
	ssize_t ret;
	int err;

	if (ST_LIKELY(!has_control(msg)) || !st_active())
		return REAL(recvmsg)(fd, msg, flags);
	t0 = st_now_ns();
	ret = REAL(recvmsg)(fd, msg, flags);
	err = errno;
	if (ret >= 0 && has_control(msg)) {
		r.n = 0;
		scan(msg, true, ST_CALL_recvmsg, &r);
		if (r.n)
			emit_rights(ST_CALL_recvmsg, t0, fd, ret, err, &r);
	}
	errno = err;
	return ret;
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct rights r;
	int64_t t0;
	bool any = false;
	int ret, err;

	for (unsigned i = 0; vec && i < vlen && !any; i++)
		any = has_control(&vec[i].msg_hdr);
	if (ST_LIKELY(!any) || !st_active())
		return REAL(sendmmsg)(fd, vec, vlen, flags);
	t0 = st_now_ns();
	ret = REAL(sendmmsg)(fd, vec, vlen, flags);
	err = errno;
	r.n = 0;
	for (int i = 0; i < ret; i++)
		if (has_control(&vec[i].msg_hdr))
			scan(&vec[i].msg_hdr, false, ST_CALL_sendmmsg, &r);
	if (r.n)
		emit_rights(ST_CALL_sendmmsg, t0, fd, ret, err, &r);
	errno = err;
	return ret;
}

ST_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout)
{
	struct rights r;
	int64_t t0;
	bool any = false;
	int ret, err;

	for (unsigned i = 0; vec && i < vlen && !any; i++)
		any = has_control(&vec[i].msg_hdr);
	if (ST_LIKELY(!any) || !st_active())
		return REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	t0 = st_now_ns();
	ret = REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	err = errno;
	r.n = 0;
	for (int i = 0; i < ret; i++)
		if (has_control(&vec[i].msg_hdr))
			scan(&vec[i].msg_hdr, true, ST_CALL_recvmmsg, &r);
	if (r.n)
		emit_rights(ST_CALL_recvmmsg, t0, fd, ret, err, &r);
	errno = err;
	return ret;
}
