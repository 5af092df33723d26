/* SPDX-License-Identifier: MIT */
/* record.h - one event as a compact binary record, for the shared memory
 * between the traced processes and the runner that writes the trace.
 *
 * Owns: the record's byte layout.  Its keys are those of fields.def, each
 * a one-byte tag (its place in the list) and its value as raw bytes: an
 * integer as 8 bytes, a string as its length, its bytes and a NUL, a call
 * as its id.  Encoding is copies, no formatting: the JSON or the text is
 * made once, by the runner, from the decoded event.  A record is only ever
 * read by a runner built with the same codec (the shared memory's header
 * says which: st_record_stamp()).
 * The encoder runs inside the traced program: no malloc, no stdio, no
 * locks.  The decoder never writes outside what it is given.
 */
#ifndef SOCKTRACE_RECORD_H
#define SOCKTRACE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* A 32-bit hash of what the layout depends on (the keys of fields.def and
 * their types, the calls of calls.def, the sizes of the event's parts):
 * a runner and a shim of builds that would misread each other's records
 * have different stamps.  Computed once; safe anywhere after that. */
uint32_t st_record_stamp(void);

/* The record of ev in buf: its length in bytes, or the length it would
 * have had when cap is too small (nothing is written past cap). */
size_t st_record_encode(const struct st_event *ev, void *buf, size_t cap);

/* What a decoded event's arrays live in: the caller's, sized for the
 * record (st_record_space tells how much). */
struct st_record_space {
	void *p;
	size_t len;
};

/* Bytes of array storage (argv, holders, lingering, inherited, rights,
 * kept, stack) the record at buf needs to be decoded; 0 on a malformed
 * record. */
size_t st_record_space(const void *buf, size_t len);

/* Decodes the record at buf (len bytes) into ev: its strings point into
 * buf (which must outlive ev), its arrays into space.  Returns 0, or -1 on
 * a malformed record (a length past the end, an unknown tag, a call id out
 * of range), ev then undefined. */
int st_record_decode(const void *buf, size_t len, struct st_event *ev, struct st_record_space *space);

#endif
