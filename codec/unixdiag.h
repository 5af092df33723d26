/* SPDX-License-Identifier: MIT */
/* unixdiag.h - the one sock_diag question about AF_UNIX sockets that both
 * the shim and the ptrace back end ask: which socket is at the other end.
 *
 * Owns: the unix_diag request (UDIAG_SHOW_PEER) and the reading of its
 * reply, on a NETLINK_SOCK_DIAG socket the caller opened.  No malloc, no
 * stdio, no locks: async-signal-safe, fit for the shim.
 */
#ifndef SOCKTRACE_UNIXDIAG_H
#define SOCKTRACE_UNIXDIAG_H

#include <stdint.h>

/* Asks the kernel, on netlink socket fd (NETLINK_SOCK_DIAG), for the inode
 * of the socket at the other end of the AF_UNIX socket with this inode (its
 * UNIX_DIAG_PEER, as `ss -xp` shows it): one request, one reply.  Returns 0
 * with *peer set, or -1 with errno: ENOENT when there is no such socket or
 * it has no peer any more (the other end closed), EINVAL for an inode the
 * request cannot hold (unix inodes are 32-bit), the kernel's refusal
 * otherwise (a kernel without CONFIG_UNIX_DIAG). */
int st_unix_diag_peer(int fd, uint64_t inode, uint64_t *peer);

#endif
