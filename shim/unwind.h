/* SPDX-License-Identifier: MIT */
/* unwind.h - call stacks of recorded calls, behind a tiny interface with
 * the unwinder (libunwind) as its back end.
 * Runs inside the traced program: no malloc, no stdio, no locks of its own.
 */
#ifndef SOCKTRACE_UNWIND_H
#define SOCKTRACE_UNWIND_H

#include "event.h"

#define ST_STACK_MAX 64

/* Prepares caching; false when this build has no unwinder. */
bool st_unwind_init(void);

/* Up to max frames of the program's call stack, the shim's own frames
 * left out: the first frame is the program's call site.  Each frame is an
 * instruction pointer with its object and offset (the ELF address within
 * the object); nothing is symbolized here. */
int st_unwind(struct st_frame *out, int max);

#endif
