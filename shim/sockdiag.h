/* SPDX-License-Identifier: MIT */
/* sockdiag.h - a small client of the kernel's socket table (sock_diag,
 * NETLINK_SOCK_DIAG / inet_diag), unprivileged.
 *
 * Owns: asking the kernel which TCP/UDP sockets exist, in which state,
 * with which timer, uid and inode, and which unix socket is at the other
 * end of an accepted one (unixdiag.h).  Its own netlink socket is made with
 * the real socket() (never recorded) and kept on a high descriptor hidden
 * from the program like the trace's.
 * Runs inside the traced program: no malloc, no stdio, no locks (a busy
 * shared socket makes a caller use a temporary one).
 */
#ifndef SOCKTRACE_SOCKDIAG_H
#define SOCKTRACE_SOCKDIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>

#include "event.h"

#define ST_TCPF(state) (1u << (state))

/* One socket of a reply, with what its attributes add. */
struct st_diag_rec {
	const struct inet_diag_msg *m;
	int v6only;		/* INET_DIAG_SKV6ONLY: 0 or 1; -1 not sent (IPv4, TIME_WAIT) */
};

/* Calls cb for every socket of family/protocol whose state is in the mask
 * and, when port >= 0, whose local port is port; cb returns false to
 * stop.  Returns 0, or -1 with errno (no descriptor, the kernel refused).
 * Cost: a dump of LISTEN alone, or of UDP, walks only the listeners (or
 * the port's bucket): flat.  Any other TCP state walks every connection
 * of the host, whatever the port filter (it only cuts the reply). */
int st_diag_dump(int family, int protocol, uint32_t states, int port,
		 bool (*cb)(const struct st_diag_rec *r, void *arg), void *arg);

/* Keep one netlink socket from now until st_diag_unhold() (a series of
 * queries: the exit's lookups, a failed bind's dumps). */
void st_diag_hold(void);
void st_diag_unhold(void);

/* The one socket with this exact tuple (addresses as the shim formats
 * them); 0 when found, -1 (errno ENOENT when the kernel has none). */
int st_diag_lookup(int protocol, const char *local, const char *remote, struct inet_diag_msg *out);

/* The inode of the socket at the other end of the AF_UNIX socket with this
 * inode (sock_diag unix_diag, UDIAG_SHOW_PEER: its UNIX_DIAG_PEER), as
 * `ss -xp` shows it: one request, one reply.  Returns 0 with *peer set, or
 * -1 with errno (ENOENT: no such socket, or it has no peer any more -- the
 * other end closed; the kernel's refusal, e.g. a kernel without
 * CONFIG_UNIX_DIAG).  Async-signal-safe; the caller's errno is its own to
 * keep. */
int st_diag_unix_peer(uint64_t inode, uint64_t *peer);

/* A diag record as the events show it (pid/comm not filled). */
void st_diag_ksock(const struct st_diag_rec *r, struct st_ksock *k);

/* Fills pid and comm of the process holding socket inode, as ss -p does
 * (only processes whose /proc/PID/fd this user may read).  A walk of every
 * process's descriptors: for rare paths only. */
void st_find_owner(uint64_t inode, struct st_ksock *k, char *comm_buf, size_t comm_cap);
/* k is held by process pid: its pid and comm (from /proc/PID/comm). */
void st_owner_is(long pid, struct st_ksock *k, char *comm_buf, size_t comm_cap);

/* Parses an endpoint the shim formatted ("1.2.3.4:80", "[::1]:80") */
bool st_parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* the shim's own diag descriptor, hidden from the program like the sink */
void st_diag_move_from(int fd);
/* In a child after fork: the inherited diag socket is left to the parent. */
void st_diag_after_fork(void);

#endif
