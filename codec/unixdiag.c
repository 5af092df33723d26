/* SPDX-License-Identifier: MIT */
/* unixdiag.c - the unix_diag peer query (see unixdiag.h).
 * Runs inside the traced program too: no malloc, no stdio, no locks.
 */
#include "unixdiag.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>

int st_unix_diag_peer(int fd, uint64_t inode, uint64_t *peer)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req;
	/* the reply: a unix_diag_msg with one attribute, or an error that
	 * quotes the request; aligned for the headers read in place */
	union {
		struct nlmsghdr align;
		char b[512];
	} buf;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int err = ENOENT;
	ssize_t n;

	if (!inode || inode > UINT32_MAX) {	/* the request holds 32 bits */
		errno = EINVAL;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 2;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_ino = (uint32_t)inode;
	req.r.udiag_show = UDIAG_SHOW_PEER;
	req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	do
		n = sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(req)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	do
		n = recv(fd, buf.b, sizeof(buf.b), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct nlmsghdr *h = &buf.align; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		const struct unix_diag_msg *m;
		int alen;

		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				err = -e->error;
			break;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		m = NLMSG_DATA(h);
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		if (m->udiag_ino != (uint32_t)inode)
			break;
		for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
				uint32_t p;
				memcpy(&p, RTA_DATA(a), sizeof(p));
				if (p) {
					*peer = p;
					return 0;
				}
			}
		break;	/* no peer: the other end is gone */
	}
	errno = err;
	return -1;
}
