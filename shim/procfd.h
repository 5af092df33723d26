/* SPDX-License-Identifier: MIT */
/* procfd.h - walking the numbered entries of a /proc directory: the
 * descriptors of /proc/PID/fd, the processes of /proc.
 *
 * Owns: the one directory walk of the shim (getdents64 into a stack
 * buffer: no malloc, no opendir).  Runs inside the traced program.
 */
#ifndef SOCKTRACE_PROCFD_H
#define SOCKTRACE_PROCFD_H

#include <stdbool.h>

/* Calls fn(dir, name, number, arg) for each entry of the open directory
 * dir whose name is a decimal number, until fn returns false.  Returns 0,
 * or -1 with errno when the directory could not be read. */
int st_dir_numbers(int dir, bool (*fn)(int dir, const char *name, long number, void *arg), void *arg);

#endif
