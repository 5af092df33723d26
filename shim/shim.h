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

/* The data close() of a file reads (the real close, the descriptor table's
 * first chunk pointer, the shim's own descriptors, the sink's lost flag),
 * kept in one section of its own so that it shares one page.  On a kernel
 * that flushes the TLB at each system call (page-table isolation without
 * PCID), each further page the passthrough touches is a page walk per
 * call.  ST_HOT_FIRST marks st_real: real.c links before fdtable.c, sink.c
 * and sockdiag.c (shim/local.mk), so the section starts with it on a page
 * boundary and the rest (about 2.6 KiB in all) follows on the same page. */
#define ST_HOT __attribute__((section("st_hot")))
#define ST_HOT_FIRST __attribute__((section("st_hot"), aligned(4096)))

#endif
