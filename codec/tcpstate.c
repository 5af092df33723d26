/* SPDX-License-Identifier: MIT */
/* tcpstate.c - what the last close does to a TCP connection (see
 * tcpstate.h).  Pure functions: no allocation, no I/O.
 */
#include "tcpstate.h"
#include "event.h"
#include "names.h"

#include <stddef.h>
#include <sys/socket.h>

int st_tcp_close_state(int before, bool reset)
{
	/* net/ipv4/tcp.c: new_state[] of tcp_close_state() */
	switch (before) {
	case ST_TCP_ESTABLISHED:
	case ST_TCP_SYN_RECV:
		return reset ? ST_TCP_CLOSE : ST_TCP_FIN_WAIT1;
	case ST_TCP_CLOSE_WAIT:
		return reset ? ST_TCP_CLOSE : ST_TCP_LAST_ACK;
	case ST_TCP_SYN_SENT:
	case ST_TCP_LISTEN:
	case ST_TCP_CLOSE:
		return ST_TCP_CLOSE;
	default:
		/* FIN_WAIT1/2, CLOSING, LAST_ACK, TIME_WAIT: unchanged (or reset) */
		return reset ? ST_TCP_CLOSE : before;
	}
}

bool st_tcp_close_may_reset(int before)
{
	return before == ST_TCP_ESTABLISHED || before == ST_TCP_CLOSE_WAIT || before == ST_TCP_SYN_RECV ||
	       before == ST_TCP_FIN_WAIT1 || before == ST_TCP_FIN_WAIT2;
}

const char *st_tcp_close_reset(int before, int linger, unsigned unread)
{
	if (!st_tcp_close_may_reset(before))
		return NULL;
	/* tcp_close(): either resets the connection (the reason named is
	 * the one the shim and the runner have always named first) */
	if (linger == 0)
		return "SO_LINGER 0";
	if (unread)
		return "unread data";
	return NULL;
}

int st_tcp_shutdown_state(int before, int how, bool ok)
{
	bool rd = how == SHUT_RD || how == SHUT_RDWR, wr = how == SHUT_WR || how == SHUT_RDWR;

	if (!ok)
		return before;
	/* net/ipv4/af_inet.c, inet_shutdown(); net/ipv4/tcp.c, tcp_shutdown() */
	switch (before) {
	case ST_TCP_SYN_SENT:
		return ST_TCP_CLOSE;	/* disconnected, whatever how */
	case ST_TCP_LISTEN:
		return rd ? ST_TCP_CLOSE : before;
	case ST_TCP_ESTABLISHED:
	case ST_TCP_SYN_RECV:
		return wr ? ST_TCP_FIN_WAIT1 : before;
	case ST_TCP_CLOSE_WAIT:
		return wr ? ST_TCP_LAST_ACK : before;
	default:
		return before;	/* a FIN already sent, or closed */
	}
}

#define B(s) (1u << (s))

bool st_tcp_reaches(int from, int to)
{
	/* by the peer's packets and the timers alone, transitively */
	static const unsigned reach[ST_TCP_CLOSING + 1] = {
		[ST_TCP_ESTABLISHED] = B(ST_TCP_ESTABLISHED) | B(ST_TCP_CLOSE_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_SYN_SENT] = B(ST_TCP_SYN_SENT) | B(ST_TCP_SYN_RECV) | B(ST_TCP_ESTABLISHED) |
				    B(ST_TCP_CLOSE_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_SYN_RECV] = B(ST_TCP_SYN_RECV) | B(ST_TCP_ESTABLISHED) | B(ST_TCP_CLOSE_WAIT) |
				    B(ST_TCP_CLOSE),
		[ST_TCP_FIN_WAIT1] = B(ST_TCP_FIN_WAIT1) | B(ST_TCP_FIN_WAIT2) | B(ST_TCP_CLOSING) |
				     B(ST_TCP_TIME_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_FIN_WAIT2] = B(ST_TCP_FIN_WAIT2) | B(ST_TCP_TIME_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_TIME_WAIT] = B(ST_TCP_TIME_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_CLOSE] = B(ST_TCP_CLOSE),
		[ST_TCP_CLOSE_WAIT] = B(ST_TCP_CLOSE_WAIT) | B(ST_TCP_CLOSE),
		[ST_TCP_LAST_ACK] = B(ST_TCP_LAST_ACK) | B(ST_TCP_CLOSE),
		[ST_TCP_LISTEN] = B(ST_TCP_LISTEN),
		[ST_TCP_CLOSING] = B(ST_TCP_CLOSING) | B(ST_TCP_TIME_WAIT) | B(ST_TCP_CLOSE),
	};

	if (from < ST_TCP_ESTABLISHED || from > ST_TCP_CLOSING || to < ST_TCP_ESTABLISHED || to > ST_TCP_CLOSING)
		return false;
	return (reach[from] & B(to)) != 0;
}

void st_tcp_shutdown_pair(int read, int how, bool ok, int after, int *before, int *made, int *moved)
{
	/* the states the socket can have been in when the call ran: the
	 * reading first, then the ones the peer's packets lead to, in the
	 * order they come (a FIN before a reset; a simultaneous open last) */
	static const int order[] = { ST_TCP_ESTABLISHED, ST_TCP_SYN_RECV, ST_TCP_CLOSE_WAIT, ST_TCP_FIN_WAIT2,
				     ST_TCP_CLOSING, ST_TCP_LAST_ACK, ST_TCP_TIME_WAIT, ST_TCP_CLOSE };

	*before = 0;
	*made = after;
	*moved = 0;
	if (!read)
		return;
	if (!after) {
		/* nothing read after: the call's transition from the reading */
		*before = read;
		*made = st_tcp_shutdown_state(read, how, ok);
		return;
	}
	for (int i = -1; i < (int)(sizeof(order) / sizeof(order[0])); i++) {
		int b = i < 0 ? read : order[i], m;

		if (i >= 0 && (b == read || !st_tcp_reaches(read, b)))
			continue;
		m = st_tcp_shutdown_state(b, how, ok);
		if (st_tcp_reaches(m, after)) {
			*before = b;
			*made = m;
			*moved = after != m ? after : 0;
			return;
		}
	}
}

void st_tcp_shutdown_event(struct st_event *ev, int read, int how, bool ok, int after)
{
	int before, made, moved;

	st_tcp_shutdown_pair(read, how, ok, after, &before, &made, &moved);
	if (before)
		ev->state_before = st_tcp_state_name(before);
	if (made)
		ev->state = st_tcp_state_name(made);
	if (moved)
		ev->state_after = st_tcp_state_name(moved);
}
