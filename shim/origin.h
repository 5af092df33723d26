/* SPDX-License-Identifier: MIT */
/* origin.h - where this process runs: host, boot, run, container.
 *
 * Owns: the identity every start event carries so that traces of many
 * machines, boots and runs merge without mixing their processes
 * (socktrace(7): host, boot, run, cgroup, pidns): the host name (uname(2)'s nodename), the boot
 * id (/proc/sys/kernel/random/boot_id, 36 characters), the run id
 * (SOCKTRACE_RUN, which the runner sets; unknown without it: the shim
 * never changes the environment), the cgroup path (/proc/self/cgroup: the cgroup v2 line, else the first) and
 * the pid namespace's inode (/proc/self/ns/pid).  Each is read once per
 * process image; a forked child keeps its parent's.
 * Runs inside the traced program: no malloc, no stdio.
 */
#ifndef SOCKTRACE_ORIGIN_H
#define SOCKTRACE_ORIGIN_H

#include "event.h"

/* Reads the identity (after st_config_read: SOCKTRACE_RUN).  What cannot
 * be read stays unknown (absent from the event); never fails. */
void st_origin_read(void);

/* Points ev's host, boot, run, cgroup and pidns at what st_origin_read
 * found (static storage; NULL / 0 when unknown). */
void st_origin_to_event(struct st_event *ev);

#endif
