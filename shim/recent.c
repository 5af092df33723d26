/* SPDX-License-Identifier: MIT */
/* recent.c - the TCP connections this process closed (see recent.h).
 *
 * Owns: a bounded set of tuple hashes in two generations of 32768 slots
 * (512 KiB at most, mapped on first use): it remembers at least the last
 * 16384 closed connections, whatever their number; and a ring of the last
 * 256 whole records (58 KiB, mapped on first use), so that the exit can
 * look each of them up exactly rather than read the kernel's whole table.
 * Runs inside the traced program: no malloc, no locks (atomic slots).
 */
#define _GNU_SOURCE
#include "recent.h"
#include "clock.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define SLOTS (1u << 15)
#define PROBES 16

static _Atomic(_Atomic uint64_t *) gens[2];
static _Atomic unsigned cur;
static _Atomic unsigned used;
static _Atomic uint64_t count;	/* adds since start or fork */
static _Atomic(struct st_closed *) ring;
static _Atomic uint64_t ring_next;

static uint64_t hash(const char *local, const char *remote)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = local; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = remote; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ? h : 1;
}

static _Atomic uint64_t *table(unsigned g, bool create)
{
	_Atomic uint64_t *t = atomic_load(&gens[g]);
	if (!t && create) {
		_Atomic uint64_t *expected = NULL;
		void *p = mmap(NULL, SLOTS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (atomic_compare_exchange_strong(&gens[g], &expected, p))
			t = p;
		else {
			munmap(p, SLOTS * sizeof(uint64_t));
			t = expected;
		}
	}
	return t;
}

static struct st_closed *ring_map(bool create)
{
	struct st_closed *r = atomic_load(&ring);
	if (!r && create) {
		struct st_closed *expected = NULL;
		void *p = mmap(NULL, ST_RECENT_LAST * sizeof(*r), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (atomic_compare_exchange_strong(&ring, &expected, p))
			r = p;
		else {
			munmap(p, ST_RECENT_LAST * sizeof(*r));
			r = expected;
		}
	}
	return r;
}

static void ring_add(const char *local, const char *remote, bool reuseaddr, bool reuseport, int64_t t_ns)
{
	struct st_closed *r = ring_map(true), *c;

	if (!r)
		return;
	c = &r[atomic_fetch_add(&ring_next, 1) % ST_RECENT_LAST];
	memcpy(c->local, local, sizeof(c->local));
	memcpy(c->remote, remote, sizeof(c->remote));
	c->reuseaddr = reuseaddr;
	c->reuseport = reuseport;
	c->t_ns = t_ns;
}

uint64_t st_recent_count(void)
{
	return atomic_load(&count);
}

void st_recent_each(void (*fn)(const struct st_closed *, void *), void *arg)
{
	struct st_closed *r = ring_map(false);
	uint64_t next = atomic_load(&ring_next);
	uint64_t n = next < ST_RECENT_LAST ? next : ST_RECENT_LAST;

	for (uint64_t i = 1; r && i <= n; i++)
		fn(&r[(next - i) % ST_RECENT_LAST], arg);
}

const struct st_closed *st_recent_find(const char *local, const char *remote)
{
	struct st_closed *r = ring_map(false);
	uint64_t next = atomic_load(&ring_next);
	uint64_t n = next < ST_RECENT_LAST ? next : ST_RECENT_LAST;

	for (uint64_t i = 1; r && i <= n; i++) {
		const struct st_closed *c = &r[(next - i) % ST_RECENT_LAST];
		if (!strcmp(c->local, local) && !strcmp(c->remote, remote))
			return c;
	}
	return NULL;
}

void st_recent_add(const char *local, const char *remote, bool reuseaddr, bool reuseport)
{
	uint64_t h = hash(local, remote);
	unsigned g = atomic_load(&cur);
	_Atomic uint64_t *t = table(g, true);

	ring_add(local, remote, reuseaddr, reuseport, st_now_ns());
	if (!t)
		return;
	atomic_fetch_add(&count, 1);
	for (unsigned i = 0; i < PROBES; i++) {
		_Atomic uint64_t *slot = &t[(h + i) & (SLOTS - 1)];
		uint64_t expected = 0;
		if (atomic_load(slot) == h)
			return;
		if (atomic_compare_exchange_strong(slot, &expected, h))
			break;
	}
	/* half full: the other generation is emptied and becomes current */
	if (atomic_fetch_add(&used, 1) + 1 >= SLOTS / 2) {
		unsigned expected = g;
		if (atomic_compare_exchange_strong(&cur, &expected, g ^ 1)) {
			_Atomic uint64_t *o = table(g ^ 1, true);
			if (o)
				memset((void *)o, 0, SLOTS * sizeof(uint64_t));
			atomic_store(&used, 0);
		}
	}
}

bool st_recent_has(const char *local, const char *remote)
{
	uint64_t h = hash(local, remote);

	for (unsigned g = 0; g < 2; g++) {
		_Atomic uint64_t *t = table(g, false);
		if (!t)
			continue;
		for (unsigned i = 0; i < PROBES; i++) {
			uint64_t v = atomic_load(&t[(h + i) & (SLOTS - 1)]);
			if (v == h)
				return true;
			if (!v)
				break;
		}
	}
	return false;
}

void st_recent_reset(void)
{
	for (unsigned g = 0; g < 2; g++) {
		_Atomic uint64_t *t = table(g, false);
		if (t)
			memset((void *)t, 0, SLOTS * sizeof(uint64_t));
	}
	atomic_store(&used, 0);
	atomic_store(&count, 0);
	atomic_store(&ring_next, 0);
}
