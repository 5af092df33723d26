/* SPDX-License-Identifier: MIT */
/* fdtable.c - descriptor -> socket record map (see fdtable.h).
 *
 * Layout: a fixed array of chunk pointers, each chunk 4096 atomic pointers,
 * mapped on first use.  Records come from mmap()ed slabs and go back to a
 * lock-free free list whose head carries a generation tag (no ABA).
 * Runs inside the traced program: no malloc, no locks, no stdio.
 */
#define _GNU_SOURCE
#include "fdtable.h"
#include "shim.h"

#include <string.h>
#include <sys/mman.h>

#define CHUNK_BITS ST_FD_CHUNK_BITS
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define NCHUNKS ST_FD_NCHUNKS

typedef st_fd_slot slot_t;
#define chunks st_fd_chunks
ST_HOT _Atomic(st_fd_slot *) st_fd_chunks[ST_FD_NCHUNKS];

#define SLAB_OBJS 128
#define MAX_SLABS 8192	/* up to 1M records */
static _Atomic(struct st_sock *) slabs[MAX_SLABS];
static _Atomic unsigned nslabs;
/* free list head: generation << 32 | (index + 1) */
static _Atomic uint64_t free_head;

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static slot_t *slot(int fd, bool create)
{
	unsigned c, i;
	slot_t *chunk;

	if (fd < 0 || fd >= ST_FD_MAX)
		return NULL;
	c = (unsigned)fd >> CHUNK_BITS;
	i = (unsigned)fd & (CHUNK_SIZE - 1);
	chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);
	if (!chunk) {
		slot_t *fresh, *expected = NULL;
		if (!create)
			return NULL;
		fresh = map(CHUNK_SIZE * sizeof(slot_t));
		if (!fresh)
			return NULL;
		if (atomic_compare_exchange_strong(&chunks[c], &expected, fresh))
			chunk = fresh;
		else {
			munmap(fresh, CHUNK_SIZE * sizeof(slot_t));
			chunk = expected;
		}
	}
	return &chunk[i];
}

static struct st_sock *by_index(uint32_t idx)
{
	struct st_sock *slab = atomic_load_explicit(&slabs[idx / SLAB_OBJS], memory_order_acquire);
	return &slab[idx % SLAB_OBJS];
}

static void push_free(struct st_sock *s, uint32_t idx)
{
	uint64_t head = atomic_load_explicit(&free_head, memory_order_acquire), next;
	do {
		s->next_free = (uint32_t)head;
		next = ((head >> 32) + 1) << 32 | (idx + 1);
	} while (!atomic_compare_exchange_weak(&free_head, &head, next));
}

static struct st_sock *pop_free(void)
{
	uint64_t head = atomic_load_explicit(&free_head, memory_order_acquire), next;
	struct st_sock *s;
	do {
		if (!(uint32_t)head)
			return NULL;
		s = by_index((uint32_t)head - 1);
		next = ((head >> 32) + 1) << 32 | s->next_free;
	} while (!atomic_compare_exchange_weak(&free_head, &head, next));
	return s;
}

struct st_sock *st_sock_new(void)
{
	struct st_sock *s = pop_free();

	if (!s) {
		unsigned k = atomic_fetch_add(&nslabs, 1);
		struct st_sock *slab;
		if (k >= MAX_SLABS)
			return NULL;
		slab = map(SLAB_OBJS * sizeof(struct st_sock));
		if (!slab)
			return NULL;
		for (uint32_t i = 0; i < SLAB_OBJS; i++)
			slab[i].idx = k * SLAB_OBJS + i;
		atomic_store_explicit(&slabs[k], slab, memory_order_release);
		for (uint32_t i = 1; i < SLAB_OBJS; i++)
			push_free(&slab[i], slab[i].idx);
		s = &slab[0];
	}
	{
		uint32_t idx = s->idx;
		memset((void *)s, 0, sizeof(*s));
		s->idx = idx;
	}
	atomic_store(&s->refs, 0);
	s->linger = -1;
	return s;
}

void st_sock_free(struct st_sock *s)
{
	push_free(s, s->idx);
}

void st_sock_put(struct st_sock *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		st_sock_free(s);
}

struct st_sock *st_fd_set(int fd, struct st_sock *s)
{
	slot_t *sl = slot(fd, true);

	if (!sl) {
		if (atomic_load(&s->refs) == 0)
			st_sock_free(s);
		return NULL;
	}
	atomic_fetch_add(&s->refs, 1);
	return atomic_exchange(sl, s);
}

struct find_inode {
	uint64_t inode;
	struct st_sock *found;
};

static void find_one(int fd, struct st_sock *s, void *arg)
{
	struct find_inode *f = arg;
	(void)fd;
	if (!f->found && s->inode == f->inode)
		f->found = s;
}

struct st_sock *st_fd_find_inode(uint64_t inode)
{
	struct find_inode f = { inode, NULL };

	if (inode)
		st_fd_each(0, ST_FD_MAX - 1, find_one, &f);
	return f.found;
}

bool st_fd_take(int fd, struct st_sock *s)
{
	slot_t *sl = slot(fd, false);
	struct st_sock *expected = s;

	return sl && atomic_compare_exchange_strong(sl, &expected, NULL);
}

bool st_sock_release(struct st_sock *s)
{
	return atomic_fetch_sub(&s->refs, 1) == 1;
}

void st_fd_each(unsigned first, unsigned last, void (*fn)(int, struct st_sock *, void *), void *arg)
{
	if (last >= ST_FD_MAX)
		last = ST_FD_MAX - 1;
	for (unsigned c = first >> CHUNK_BITS; c <= (last >> CHUNK_BITS); c++) {
		slot_t *chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);
		if (!chunk)
			continue;
		for (unsigned i = 0; i < CHUNK_SIZE; i++) {
			unsigned fd = c * CHUNK_SIZE + i;
			struct st_sock *s;
			if (fd < first || fd > last)
				continue;
			s = atomic_load_explicit(&chunk[i], memory_order_acquire);
			if (s)
				fn((int)fd, s, arg);
		}
	}
}

struct count {
	uint32_t mark;
	int64_t n;
};

static void count_one(int fd, struct st_sock *s, void *arg)
{
	struct count *c = arg;
	(void)fd;
	if (s->count_mark != c->mark) {
		s->count_mark = c->mark;
		c->n++;
	}
}

int64_t st_fd_count_sockets(void)
{
	static _Atomic uint32_t marks;
	struct count c = { atomic_fetch_add(&marks, 1) + 1, 0 };
	st_fd_each(0, ST_FD_MAX - 1, count_one, &c);
	return c.n;
}
