/* SPDX-License-Identifier: MIT */
/* fdtable.h - what the shim knows of each socket descriptor.
 *
 * Owns: the map from descriptor to socket record, and the records
 * themselves.  Descriptors made by dup*() point at the same record, which
 * counts them; the record lives until the last of them is closed.
 *
 * Runs inside the traced program, in signal handlers and right after
 * fork() too: memory comes from mmap() only, every update is one atomic
 * operation, no locks.
 */
#ifndef SOCKTRACE_FDTABLE_H
#define SOCKTRACE_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct st_sock {
	_Atomic int refs;	/* descriptors of this process pointing here */
	uint32_t next_free;	/* free-list link (index + 1), 0 = end */
	uint32_t idx;		/* place in the slabs, kept across reuse */
	uint32_t count_mark;	/* st_fd_count_sockets() */

	int family, type, protocol;
	const char *family_name, *type_name, *proto_name;
	const struct st_sock_names *names;	/* their JSON run, NULL none (names.h) */
	bool is_tcp;
	bool is_inet;
	uint64_t inode;

	char local[ST_ADDR_MAX];	/* "" until known */
	char remote[ST_ADDR_MAX];
	bool local_wild;	/* bound to a wildcard address (0.0.0.0, ::) */

	bool reuseaddr, reuseport;
	int linger;		/* -1 off, else seconds */

	bool connect_pending;	/* EINPROGRESS seen, completion not yet recorded */
	bool shared;		/* another process holds it too (fork, inherited) */
	bool adopted;		/* found rather than seen made (inherited, received) */
};

/* Largest descriptor the table can track. */
#define ST_FD_MAX (1 << 20)
#define ST_FD_CHUNK_BITS 12
#define ST_FD_NCHUNKS (ST_FD_MAX >> ST_FD_CHUNK_BITS)
typedef _Atomic(struct st_sock *) st_fd_slot;
extern _Atomic(st_fd_slot *) st_fd_chunks[ST_FD_NCHUNKS];

/* The record of fd, or NULL when fd is not a tracked socket.  Inline: it
 * is all a close() of a file costs. */
static inline struct st_sock *st_fd_get(int fd)
{
	st_fd_slot *chunk;

	if ((unsigned)fd >= ST_FD_MAX)
		return NULL;
	chunk = atomic_load_explicit(&st_fd_chunks[(unsigned)fd >> ST_FD_CHUNK_BITS], memory_order_acquire);
	if (!chunk)
		return NULL;
	return atomic_load_explicit(&chunk[(unsigned)fd & ((1u << ST_FD_CHUNK_BITS) - 1)], memory_order_acquire);
}

/* A fresh record with refs = 1 and every field cleared; NULL when out of
 * memory (the socket is then not tracked). */
struct st_sock *st_sock_new(void);

/* Points fd at s (which gains a reference).  Returns what fd pointed at
 * before, NULL none: a stale entry of a descriptor closed out of the shim's
 * sight, whose reference passes to the caller (st_sock_release).  When the
 * table cannot hold fd, s is freed if nothing else holds it. */
struct st_sock *st_fd_set(int fd, struct st_sock *s);

/* Records that share an inode (descriptors of one socket the shim found
 * rather than saw made): the record of another descriptor naming the
 * socket `inode`, NULL none.  Walks the table: for rare paths only. */
struct st_sock *st_fd_find_inode(uint64_t inode);

/* fd is about to be closed: takes it out of the table if it still points
 * at s; the caller then owns that reference (st_sock_release).  Done before
 * the real close, so that another thread's new descriptor of the same
 * number is never mistaken for this one. */
bool st_fd_take(int fd, struct st_sock *s);
/* Drops a reference taken with st_fd_take: true when it was the last one
 * (the caller frees s with st_sock_free once done reading it). */
bool st_sock_release(struct st_sock *s);

/* Drops a reference taken by st_fd_set; frees s at zero. */
void st_sock_put(struct st_sock *s);
/* Frees s, whose last reference st_fd_clear() dropped. */
void st_sock_free(struct st_sock *s);

/* Calls fn for each tracked descriptor in [first, last]. */
void st_fd_each(unsigned first, unsigned last, void (*fn)(int fd, struct st_sock *s, void *arg),
		void *arg);

/* Number of distinct open sockets (exit event). */
int64_t st_fd_count_sockets(void);

#endif
