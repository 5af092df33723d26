/* SPDX-License-Identifier: MIT */
/* calls.h - the identity of every call and event in a trace.
 *
 * Owns: the call enum, each call's name as traces spell it and its kind,
 * all expanded from calls.def.  Code that must tell calls apart switches on
 * the id or tests a kind; it never compares names.  Pure constant data:
 * safe anywhere, signal handlers included.
 */
#ifndef SOCKTRACE_CALLS_H
#define SOCKTRACE_CALLS_H

#include <stdbool.h>

/* What a call does to sockets and descriptors (a call may have several). */
enum {
	ST_K_MAKE = 1u << 0,		/* returns a new socket descriptor */
	ST_K_PAIR = 1u << 1,		/* ... two of them (socketpair) */
	ST_K_ACCEPT = 1u << 2,		/* ... taken from a listening socket */
	ST_K_ADDR = 1u << 3,		/* gives a socket an address or a role: bind, listen, connect */
	ST_K_TEARDOWN = 1u << 4,	/* stops a direction of a connection (shutdown) */
	ST_K_CLOSE = 1u << 5,		/* closes descriptors */
	ST_K_RANGE = 1u << 6,		/* ... every one in a range (close_range, closefrom) */
	ST_K_DUP = 1u << 7,		/* makes another descriptor of the same socket */
	ST_K_OPT = 1u << 8,		/* sets or reads a socket option */
	ST_K_PROC = 1u << 9,		/* the process's life: fork, start, exit */
	ST_K_SELF = 1u << 10,		/* recorded by the shim on its own: no result, no duration */
	ST_K_VARIANT = 1u << 11,	/* a variant of the call listed just before it (accept4, fcntl64) */
	ST_K_RIGHTS = 1u << 12,		/* may carry descriptors to another process (SCM_RIGHTS) */
	ST_K_EXEC = 1u << 13,		/* replaces the process image */
	ST_K_WAIT = 1u << 14,		/* collects a child's end */
};

enum st_call {
	ST_CALL_NONE = 0,		/* unknown: never written */
#define WRAP(name, kind, ret, params, args) ST_CALL_##name,
#define WRAPV WRAP
#define EVENT(name, kind) ST_CALL_##name,
#include "calls.def"
#undef WRAP
#undef WRAPV
#undef EVENT
	ST_CALL_COUNT
};

struct st_call_info {
	const char *name;
	unsigned kind;
};

extern const struct st_call_info st_calls[ST_CALL_COUNT];

/* "socket", "accept4", "start", ...; "?" for ST_CALL_NONE */
static inline const char *st_call_name(enum st_call c)
{
	return (unsigned)c < ST_CALL_COUNT ? st_calls[c].name : "?";
}

/* Does call c have any of the kinds in mask? */
static inline bool st_call_is(enum st_call c, unsigned mask)
{
	return (unsigned)c < ST_CALL_COUNT && (st_calls[c].kind & mask);
}

/* The call a variant belongs to (accept for accept4); c itself otherwise. */
static inline enum st_call st_call_base(enum st_call c)
{
	while (st_call_is(c, ST_K_VARIANT) && c > ST_CALL_NONE + 1)
		c = (enum st_call)(c - 1);
	return c;
}

/* The id of a call name as traces spell it; ST_CALL_NONE when unknown. */
enum st_call st_call_lookup(const char *name);

#endif
