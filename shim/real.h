/* SPDX-License-Identifier: MIT */
/* real.h - the real functions behind the wrappers.
 *
 * Owns: resolving each wrapped symbol to the next definition (libc's, or
 * another preloaded library's) once, safely before main and from other
 * libraries' constructors.  A lookup that finds the shim's own wrapper is
 * refused and libc's definition is used instead.
 */
#ifndef SOCKTRACE_REAL_H
#define SOCKTRACE_REAL_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

struct st_real_table {
#define WRAP(name, kind, ret, params, args) union { ret (*fn) params; void *ptr; } name;
#define WRAPV WRAP
#define EVENT(name, kind)
#include "calls.def"
#undef WRAP
#undef WRAPV
#undef EVENT
};

extern struct st_real_table st_real;

/* Resolves every entry still unresolved.  Idempotent, lock-free, safe to
 * call from any thread at any time (racing callers store the same value). */
void st_real_resolve(void);

/* The real function; resolves on first use. */
#define REAL(name) \
	(__builtin_expect(st_real.name.ptr != NULL, 1) ? st_real.name.fn : (st_real_resolve(), st_real.name.fn))

#endif
