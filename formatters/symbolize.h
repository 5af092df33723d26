/* SPDX-License-Identifier: MIT */
/* symbolize.h - names and source lines for recorded stack frames, read
 * from the objects' ELF symbol tables with libelf and their DWARF line
 * tables with libdw (never inside the traced program).  The
 * fuzz targets link a stand-in (fuzz/symbolize_stub.c) with the same
 * interface.
 */
#ifndef SOCKTRACE_SYMBOLIZE_H
#define SOCKTRACE_SYMBOLIZE_H

#include <stdint.h>

struct st_symbolizer;

struct st_symbolizer *st_symbolizer_new(void);
void st_symbolizer_free(struct st_symbolizer *sy);

/* The function holding address `off` of object `obj` (an ELF address, as
 * the shim records it), and the distance into it.  `ret_addr` tells that
 * off is a return address (every frame but a signal frame's), looked up
 * one byte back so a call at a function's end is named right.  Looks in
 * .symtab, else .dynsym, of the object or of its separate debug file
 * (/usr/lib/debug/.build-id/xx/rest.debug, /usr/lib/debug/PATH.debug).
 * NULL when nothing names it.  The string lives as long as sy. */
const char *st_symbolize(struct st_symbolizer *sy, const char *obj, uint64_t off, int ret_addr,
			 uint64_t *sym_off);

struct st_trace;
/* Names every frame of every event of the trace (frames' sym, sym_off),
 * C++ names demangled (libiberty), and gives it its source file and line
 * where the object's DWARF line table has one (libdw; file, line: the
 * line holding the call, as addr2line gives it for the return address
 * less one).  Frames keep what the trace said when nothing is found. */
void st_symbolize_trace(struct st_symbolizer *sy, struct st_trace *t);

struct st_rec;
/* The same for the frames of one event (a stream's, as it comes). */
void st_symbolize_rec(struct st_symbolizer *sy, struct st_rec *r);

#endif
