/* SPDX-License-Identifier: MIT */
/* recent.h - the TCP connections this process closed (recent.c): at exit,
 * which of the kernel's lingering sockets (TIME_WAIT, FIN_WAIT2, ...) are
 * this process's; at a failed bind, the options of the socket that left a
 * TIME_WAIT behind.
 * Runs inside the traced program: no malloc, no locks.
 */
#ifndef SOCKTRACE_RECENT_H
#define SOCKTRACE_RECENT_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

/* A closed connection: its tuple as the shim formats it, the options of
 * its socket, and when it was closed (ns, CLOCK_REALTIME). */
struct st_closed {
	char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];
	bool reuseaddr, reuseport;
	int64_t t_ns;
};

/* Remembers a closed connection: its tuple in a set of hashes (at least
 * the last 16384), and the whole record among the last ST_RECENT_LAST. */
void st_recent_add(const char *local, const char *remote, bool reuseaddr, bool reuseport);
bool st_recent_has(const char *local, const char *remote);
/* connections closed since start (or fork) */
uint64_t st_recent_count(void);
static inline bool st_recent_any(void)
{
	return st_recent_count() > 0;
}
/* Calls fn for each of the last ST_RECENT_LAST records, newest first. */
#define ST_RECENT_LAST 256
void st_recent_each(void (*fn)(const struct st_closed *c, void *arg), void *arg);
/* The record of tuple (local, remote) among the last ones, NULL none. */
const struct st_closed *st_recent_find(const char *local, const char *remote);
/* after fork: the child's closes are its own */
void st_recent_reset(void);

#endif
