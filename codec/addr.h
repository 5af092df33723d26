/* SPDX-License-Identifier: MIT */
/* addr.h - a socket address as traces show it.
 *
 * Owns: the one formatting of addresses, shared by the shim (sockinfo.c)
 * and the runner's ptrace back end (src/ptrace.c); moved here from
 * shim/sockinfo.c so that both can link it.  Formats without inet_ntop,
 * which is not async-signal-safe: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_ADDR_H
#define SOCKTRACE_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "event.h"

/* sa (len bytes, as the kernel or the program gave it) into out, NUL
 * terminated: "127.0.0.1:80", "[::1]:80", "[fe80::1%2]:80", "/path",
 * "@abstract", "netlink:PID[/GROUPS]", or "" (unnamed, too short, an
 * unknown family).  *wild (may be NULL): the address is the IPv4 or IPv6
 * wildcard.  Never fails. */
void st_format_addr(const struct sockaddr *sa, socklen_t len, char out[ST_ADDR_MAX], bool *wild);

#endif
