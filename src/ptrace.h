/* SPDX-License-Identifier: MIT */
/* ptrace.h - the runner's ptrace back end: for programs the shim cannot
 * enter (static, Go).
 *
 * Owns: choosing the back end for a program (ptrace_elf.c) and tracing a
 * program with ptrace and a seccomp filter (ptrace.c), writing the same
 * events the shim writes through the runner's drain.
 */
#ifndef SOCKTRACE_PTRACE_H
#define SOCKTRACE_PTRACE_H

#include <stdbool.h>

struct st_drain;

/* Why the program at path (a name looked up in PATH as execvp does) needs
 * the ptrace back end: "static" (an ELF executable without PT_INTERP), "go"
 * (a Go build-id note or a .go.buildinfo section), or NULL when the shim
 * can enter it, or when it cannot be read as ELF (a script, a missing
 * file: the exec's own error is then the one the user sees).  The string
 * is static.  Reads the file with libelf; never fails otherwise. */
const char *st_ptrace_needed(const char *path);

/* Runs argv as a child of this process, traced with PTRACE_SEIZE and a
 * seccomp filter that stops it only on the socket lifecycle system calls,
 * its children and threads followed; each call is written to d as the
 * shim would record it (with "backend":"ptrace" on each start event), and
 * each process's end.  Signals reach the program unchanged; SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to the runner alone are passed on to
 * the program.  Returns what the runner exits with: the program's exit
 * status; on its death by a signal the runner dies of the same signal
 * (128 + the signal when it cannot); 126 or 127 when it cannot be run; 2
 * after a message when ptrace is not allowed here. */
int st_ptrace_run(char *const *argv, struct st_drain *d);

#endif
