/* SPDX-License-Identifier: MIT */
/* kernelview.h - what the kernel's socket table adds to events: sockets
 * lingering after close (TIME_WAIT, ...), who holds an address a bind()
 * could not get and whether SO_REUSEADDR / SO_REUSEPORT would have
 * changed that, and TIME_WAIT sockets a bind() reused.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_KERNELVIEW_H
#define SOCKTRACE_KERNELVIEW_H

#include <stddef.h>
#include <sys/socket.h>

#include "event.h"
#include "fdtable.h"

/* Memory an event borrows until it is written. */
struct st_scratch {
	void *p;
	size_t len;
};
void st_scratch_free(struct st_scratch *sc);

/* A TCP socket's last descriptor was closed (ev is its close event). */
void st_kv_closed(const struct st_sock *s, struct st_event *ev);

/* A socket shared with another process (fork, inheritance, SCM_RIGHTS)
 * lost its last descriptor here (state_before: its TCP state then): its
 * TCP state when another process still holds it, 0 when it is gone or
 * orphaned (this close ended it), -1 when the kernel is not to be asked
 * (SOCKTRACE_PROBE=off) or could not be.  An exact lookup for a
 * connection, the port's listeners for a listener: no walk. */
int st_kv_alive_state(const struct st_sock *s, int state_before);

/* bind() returned: explains EADDRINUSE (holders, reuse_verdict), and with
 * SOCKTRACE_PROBE=close counts the TIME_WAIT sockets a bind reused. */
void st_kv_bind(int fd, const struct st_sock *s, const struct sockaddr *addr, socklen_t len, int ret,
		int err, struct st_event *ev, struct st_scratch *sc);

/* The exit event: this process's closed connections the kernel still holds
 * (lingering, time_wait), each of the last 256 looked up by its tuple. */
void st_kv_exit(struct st_event *ev, struct st_scratch *sc);

#endif
