/* SPDX-License-Identifier: MIT */
/* tcpstate.h - the kernel's TCP states and what a close does to them.
 *
 * Owns: the states' numbers (include/net/tcp_states.h, one numbering for
 * the shim and the runner's ptrace back end) and the rules of
 * net/ipv4/tcp.c's tcp_close() that say what the last close of a TCP
 * socket leaves: a FIN or a reset, and the state after.  Pure functions
 * over their arguments: safe anywhere, signal handlers included.
 */
#ifndef SOCKTRACE_TCPSTATE_H
#define SOCKTRACE_TCPSTATE_H

#include <stdbool.h>

/* TCP states as the kernel numbers them (include/net/tcp_states.h) */
enum {
	ST_TCP_ESTABLISHED = 1, ST_TCP_SYN_SENT, ST_TCP_SYN_RECV, ST_TCP_FIN_WAIT1,
	ST_TCP_FIN_WAIT2, ST_TCP_TIME_WAIT, ST_TCP_CLOSE, ST_TCP_CLOSE_WAIT,
	ST_TCP_LAST_ACK, ST_TCP_LISTEN, ST_TCP_CLOSING
};

/* The state a TCP socket enters when its last descriptor is closed in
 * state before (a kernel number above), as tcp_close() decides; reset
 * tells an RST instead of a FIN.  Returns a kernel number. */
int st_tcp_close_state(int before, bool reset);

/* Can the last close in state before send a reset instead of a FIN?
 * (tcp_close(): only a synchronized or closing connection: ESTABLISHED,
 * CLOSE_WAIT, SYN_RECV, FIN_WAIT1, FIN_WAIT2.)  The bytes left unread
 * matter only then: callers ask SIOCINQ only when this is true. */
bool st_tcp_close_may_reset(int before);

/* Why the last close in state before resets the connection: "SO_LINGER 0"
 * (linger: the socket's SO_LINGER seconds, -1 off), "unread data" (unread:
 * bytes in its receive queue), or NULL for a FIN. */
const char *st_tcp_close_reset(int before, int linger, unsigned unread);

#endif
