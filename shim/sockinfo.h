/* SPDX-License-Identifier: MIT */
/* sockinfo.h - what a socket is and what state it is in, asked of the
 * kernel as rarely as possible.
 * Runs inside the traced program: no malloc, no stdio, errno kept by callers.
 */
#ifndef SOCKTRACE_SOCKINFO_H
#define SOCKTRACE_SOCKINFO_H

#include <stdbool.h>
#include <sys/socket.h>

#include "addr.h"
#include "event.h"
#include "fdtable.h"
#include "tcpstate.h"

/* ST_TCP_* (the kernel's state numbers), st_tcp_close_state: codec/tcpstate.h */

/* st_format_addr: codec/addr.h */

/* Fills the identity of a new socket: family, type, protocol, names, inode. */
void st_sock_identify(int fd, struct st_sock *s, int family, int type, int protocol);
/* A socket the shim did not see made (inherited across exec, made before
 * the shim started, received with SCM_RIGHTS, made out of sight): learns
 * all of it from the kernel and installs fd (noticed: the call that found
 * it).  Another descriptor of the same socket (same inode) makes fd an
 * alias of its record.  Returns NULL when fd is not a socket or its family
 * is not recorded. */
struct st_sock *st_sock_discover(int fd, enum st_call noticed);

void st_sock_local(int fd, struct st_sock *s);	/* getsockname -> s->local */
void st_sock_remote(int fd, struct st_sock *s);	/* getpeername -> s->remote */

/* Does the socket at fd listen: SO_ACCEPTCONN, which the kernel answers
 * for every family (a unix or SCTP listener too); false when it does not,
 * or fd is no socket.  No descriptor made; errno kept by callers. */
bool st_sock_listens(int fd);

/* TCP_INFO: the state number (0 when unavailable); fills tcp when not NULL */
int st_tcp_state(int fd, struct st_tcp *tcp);
/* bytes waiting in the receive queue (SIOCINQ) */
unsigned st_unread(int fd);

/* Copies what every event on this socket carries. */
void st_event_sock(struct st_event *ev, const struct st_sock *s);
void st_event_opts(struct st_event *ev, const struct st_sock *s);

#endif
