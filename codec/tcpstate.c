/* SPDX-License-Identifier: MIT */
/* tcpstate.c - what the last close does to a TCP connection (see
 * tcpstate.h).  Pure functions: no allocation, no I/O.
 */
#include "tcpstate.h"

#include <stddef.h>

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
