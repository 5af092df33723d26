/* SPDX-License-Identifier: MIT */
/* shim.h - the attributes every file of libsocktrace.so uses.
 *
 * Owns: nothing but these macros.  Each part of the shim has a header of
 * its own (settings.h, log.h, clock.h, sink.h, emit.h, lifecycle.h, ...);
 * this one must never grow into a header that includes them all.
 */
#ifndef SOCKTRACE_SHIM_H
#define SOCKTRACE_SHIM_H

#define ST_EXPORT __attribute__((visibility("default")))
#define ST_LIKELY(x) __builtin_expect(!!(x), 1)
#define ST_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
