/* SPDX-License-Identifier: MIT */
/* drift.h - keeping the shim's descriptor table true to the kernel's.
 *
 * Owns: noticing a descriptor that no longer names the socket the shim
 * recorded for it (closed out of sight: a raw system call, libc's own
 * close, an RTLD_DEEPBIND plugin, io_uring) and recording that socket's end
 * as such, with when it was noticed; installing new descriptors over stale
 * entries.  The checks are made where a wrong identity would write a false
 * record: a close of a tracked descriptor, a new descriptor whose number the
 * table still holds, process exit.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#ifndef SOCKTRACE_DRIFT_H
#define SOCKTRACE_DRIFT_H

#include <stdbool.h>

#include "calls.h"
#include "fdtable.h"

/* Does fd still name the socket s?  One fstat(2), compared by inode.
 * False when fd is closed or names another object. */
bool st_fd_same(int fd, const struct st_sock *s);

/* fd no longer names s: takes fd out of the table and records a `gone`
 * event for s (noticed at call `noticed`); frees s when it was its last
 * descriptor. */
void st_gone(int fd, struct st_sock *s, enum st_call noticed);

/* Points fd at s, a socket `noticed` just made (socket, accept, dup,
 * recvmsg...).  A record fd still held is reported gone first. */
void st_fd_install(int fd, struct st_sock *s, enum st_call noticed);

/* Checks every tracked descriptor (at exit, after fcloseall, daemon, a
 * failed exec): each one found not to name its socket is reported gone. */
void st_drift_check_all(enum st_call noticed);

#endif
