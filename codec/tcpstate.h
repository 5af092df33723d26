/* SPDX-License-Identifier: MIT */
/* tcpstate.h - the kernel's TCP states and what a close or a shutdown
 * does to them.
 *
 * Owns: the states' numbers (include/net/tcp_states.h, one numbering for
 * the shim and the runner's ptrace back end), the rules of
 * net/ipv4/tcp.c's tcp_close() that say what the last close of a TCP
 * socket leaves: a FIN or a reset, and the state after; those of
 * inet_shutdown() and tcp_shutdown() for a shutdown; and which states the
 * peer's packets alone can move a socket to.  Pure functions over their
 * arguments: safe anywhere, signal handlers included.
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

/* The state shutdown(how) (SHUT_RD, SHUT_WR, SHUT_RDWR) leaves a socket in
 * that was in state before, as inet_shutdown() and tcp_shutdown() decide:
 * a send side shut sends a FIN (ESTABLISHED and SYN_RECV become FIN_WAIT1,
 * CLOSE_WAIT becomes LAST_ACK); a connecting socket (and a listener whose
 * receive side is shut) is disconnected (CLOSE); every other state is
 * left as it was, and so is every state when the call failed (ok false).
 * Kernel numbers. */
int st_tcp_shutdown_state(int before, int how, bool ok);

/* Can the peer's packets (its SYN-ACK, ACK, FIN or RST) and the kernel's
 * timers alone move a socket from state from to state to, in any number
 * of steps (from == to included)?  A full socket past TIME_WAIT reads
 * CLOSE. */
bool st_tcp_reaches(int from, int to);

/* A shutdown(how) of a TCP socket recorded from two readings of its state
 * (TCP_INFO, kernel numbers, 0 unknown): read just before the call, after
 * just after it; ok: the call succeeded.  The peer's packets can land
 * between the reading and the call (its FIN: the socket was in CLOSE_WAIT
 * when the call ran) and between the call and the reading after (its ACK:
 * FIN_WAIT1 already FIN_WAIT2).  Fills *before with the state the socket
 * was in when the call ran: the reading, or, when only packets landing
 * before the call explain the reading after, the first state they took it
 * to that does; *made with the state the call left it in
 * (st_tcp_shutdown_state of *before); *moved with the reading after when
 * the peer's packets had already moved it on from *made, else 0.  When no
 * transition of the call explains the two readings (another thread acted
 * on the socket meanwhile), or read is unknown: *before 0, *made the
 * reading after, *moved 0. */
void st_tcp_shutdown_pair(int read, int how, bool ok, int after, int *before, int *made, int *moved);

struct st_event;
/* st_tcp_shutdown_pair's three states, as a shutdown event's names:
 * state_before, state and state_after, each set only when known (the shim
 * and the ptrace back end record a shutdown alike). */
void st_tcp_shutdown_event(struct st_event *ev, int read, int how, bool ok, int after);

#endif
