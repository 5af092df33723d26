/* recent.c - the tuples of the TCP connections this process closed, so
 * that at exit the kernel's lingering sockets (TIME_WAIT, FIN_WAIT2, ...)
 * can be told to be this process's.
 *
 * Owns: a bounded set of tuple hashes in two generations of 32768 slots
 * (512 KiB at most, mapped on first use): it remembers at least the last
 * 16384 closed connections, whatever their number.
 * Runs inside the traced program: no malloc, no locks (atomic slots).
 */
#define _GNU_SOURCE
#include "recent.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define SLOTS (1u << 15)
#define PROBES 16

static _Atomic(_Atomic uint64_t *) gens[2];
static _Atomic unsigned cur;
static _Atomic unsigned used;
static _Atomic bool any;	/* something was added since start or fork */

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

void st_recent_add(const char *local, const char *remote)
{
	uint64_t h = hash(local, remote);
	unsigned g = atomic_load(&cur);
	_Atomic uint64_t *t = table(g, true);

	if (!t)
		return;
	atomic_store(&any, true);
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

bool st_recent_any(void)
{
	return atomic_load(&any);
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
	atomic_store(&any, false);
}
