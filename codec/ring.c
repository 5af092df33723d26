/* SPDX-License-Identifier: MIT */
/* ring.c - the run's shared memory (see ring.h).
 *
 * A record in a ring: an 8-byte word (its length with the word, its flags
 * and a tag of its position), its bytes, and zeroes to the next multiple
 * of 8.  A writer reserves
 * space by moving the head on with one compare-and-swap (the head counts
 * bytes and never goes back, so no space is ever reserved twice), copies
 * the record and publishes the word last.  The reader stops at a
 * reservation whose word is still zero (its writer is at it); when the
 * ring's process is gone it steps over it to the next word whose tag names
 * its own position, and counts one record lost.  The reader zeroes what it
 * wrote before moving the tail, so every reservation starts on zeroes.  A
 * record never wraps: the rest of the ring is reserved as padding first.
 * Runs inside the traced program (the writer side): no malloc, no stdio,
 * no locks; futexes on the shared memory for waiting.
 */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define F_COMMITTED 1u
#define F_PAD 2u
#define F_MAGIC 0xa0u		/* in every word: zeroes or data rarely look like one */
/* bits 0-31 the length (word included), 32-39 the flags, 40-63 the tag;
 * the next word is STEP(length) further */
#define TAG(pos) (((pos) >> 3) & 0xffffffu)
#define WORD(len, flags, pos) ((uint64_t)TAG(pos) << 40 | (uint64_t)((flags) | F_MAGIC) << 32 | (uint32_t)(len))
#define LEN(w) ((uint32_t)(w))
#define STEP(len) (((uint64_t)(len) + 7) & ~(uint64_t)7)
#define FLAGS(w) ((uint32_t)((w) >> 32) & 0xffu)
#define WTAG(w) ((uint32_t)((w) >> 40))

#define PAGE 4096u

static size_t table_bytes(uint32_t nrings)
{
	return ((size_t)nrings * sizeof(struct st_ring) + PAGE - 1) & ~(size_t)(PAGE - 1);
}

size_t st_shm_size(uint32_t nrings, uint32_t ring_bytes)
{
	return PAGE + table_bytes(nrings) + (size_t)nrings * ring_bytes;
}

struct st_ring *st_shm_ring(struct st_shm *shm, uint32_t i)
{
	return (struct st_ring *)((char *)shm + PAGE) + i;
}

uint8_t *st_ring_data(struct st_shm *shm, const struct st_ring *r)
{
	size_t i = (size_t)(r - (const struct st_ring *)((char *)shm + PAGE));

	return (uint8_t *)shm + PAGE + table_bytes(shm->nrings) + i * shm->ring_bytes;
}

void st_shm_init(void *mem, uint32_t nrings, uint32_t ring_bytes, int32_t runner, uint32_t stamp)
{
	struct st_shm *shm = mem;

	memset(mem, 0, PAGE + table_bytes(nrings));
	shm->nrings = nrings;
	shm->ring_bytes = ring_bytes;
	shm->stamp = stamp;
	atomic_store(&shm->runner, runner);
	atomic_thread_fence(memory_order_release);
	shm->magic = ST_SHM_MAGIC;
}

struct st_shm *st_shm_check(void *mem, size_t len, uint32_t stamp)
{
	struct st_shm *shm = mem;

	if (len < PAGE || shm->magic != ST_SHM_MAGIC || shm->stamp != stamp || !shm->nrings ||
	    shm->nrings > (1u << 20) || shm->ring_bytes < PAGE || (shm->ring_bytes & (shm->ring_bytes - 1)) ||
	    st_shm_size(shm->nrings, shm->ring_bytes) > len)
		return NULL;
	return shm;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	return syscall(SYS_futex, (uint32_t *)addr, op, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

/* The kernel's task flags of /proc/PID/stat (include/linux/sched.h, the
 * same values since Linux 2.6): the task is in do_exit, or on its way
 * there from a fatal signal (set before a tracer's PTRACE_EVENT_EXIT stop
 * and before the memory is torn down, both of which may take long). */
#define PF_EXITING 0x4u
#define PF_SIGNALED 0x400u

/* The state letter and the flags (field 9) of /proc/PID/stat: 0 when it
 * cannot be read (no such process, no /proc).  The state is the field
 * after the last ')', which ends the command name.  Only open, read and
 * close: async-signal-safe.  In the shim, close() is its own passthrough
 * for a descriptor that is not a socket. */
static char proc_state(pid_t pid, unsigned long *flags)
{
	char path[32], buf[256], *p = path + sizeof(path);
	ssize_t n, i;
	int fd, field;
	char state;

	*flags = 0;
	*--p = '\0';
	*--p = 't', *--p = 'a', *--p = 't', *--p = 's', *--p = '/';
	for (unsigned v = (unsigned)pid; p > path + 6; v /= 10) {
		*--p = (char)('0' + v % 10);
		if (v < 10)
			break;
	}
	p -= 6;
	memcpy(p, "/proc/", 6);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (i = n - 1; i > 0 && buf[i] != ')'; i--)
		;
	if (i <= 0 || i + 2 >= n)
		return 0;
	/* state (3), ppid, pgrp, session, tty_nr, tpgid (8, may be -1), flags */
	i += 2;
	state = buf[i];
	for (field = 3; field < 9 && i < n; i++)
		if (buf[i] == ' ')
			field++;
	for (; field == 9 && i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		*flags = *flags * 10 + (unsigned long)(buf[i] - '0');
	return state;
}

/* (See ring.h.)  The runner's writer, killed, is a zombie until init or a
 * subreaper reaps it (it is a grandchild of the program's parent), which
 * may be never. */
bool st_proc_zombie(pid_t pid)
{
	unsigned long flags;
	char state = proc_state(pid, &flags);

	return state == 'Z' || state == 'X';
}

bool st_shm_runner_alive(const struct st_shm *shm)
{
	struct st_shm *s = (struct st_shm *)shm;
	int saved = errno;
	pid_t runner = atomic_load(&s->runner);
	bool alive;

	if (atomic_load(&s->runner_done))
		return false;
	alive = kill(runner, 0) == 0 || errno == EPERM;
	if (alive) {
		/* a killed writer is gone from its fatal signal on: it never
		 * reads a ring again, however long the kernel then takes to make
		 * it a zombie (a tracer holding its exit, the teardown of a large
		 * address space), and what it leaves in the rings must be
		 * written by their processes before they end too */
		unsigned long flags;
		char state = proc_state(runner, &flags);
		alive = state != 'Z' && state != 'X' && !(flags & (PF_EXITING | PF_SIGNALED));
	}
	errno = saved;
	return alive;
}

void st_ring_ring_doorbell(struct st_shm *shm)
{
	atomic_store(&shm->sleeping, 0);
	atomic_fetch_add(&shm->doorbell, 1);
	futex(&shm->doorbell, FUTEX_WAKE, 1, -1);
}

/* ---- owners ---- */

static bool take(struct st_ring *r, uint64_t from, uint64_t to)
{
	return atomic_compare_exchange_strong(&r->owner, &from, to);
}

static struct st_ring *take_free(struct st_shm *shm, enum st_ring_state state, pid_t pid)
{
	for (uint32_t i = 0; i < shm->nrings; i++) {
		struct st_ring *r = st_shm_ring(shm, i);
		if (atomic_load_explicit(&r->owner, memory_order_relaxed) == ST_OWNER(ST_RING_FREE, 0) &&
		    take(r, ST_OWNER(ST_RING_FREE, 0), ST_OWNER(state, pid))) {
			atomic_store(&r->given_up, 0);
			return r;
		}
	}
	return NULL;
}

struct st_ring *st_ring_claim(struct st_shm *shm, pid_t pid, pid_t parent, int wait_ms)
{
	struct st_ring *mine = NULL;
	int waited = 0;

	/* the ring reserved for this image before its exec (or by its parent) */
	for (uint32_t i = 0; i < shm->nrings && !mine; i++) {
		struct st_ring *r = st_shm_ring(shm, i);
		if (take(r, ST_OWNER(ST_RING_RESERVED, pid), ST_OWNER(ST_RING_OWNED, pid)))
			mine = r;
	}
	for (uint32_t i = 0; i < shm->nrings && !mine && parent > 0; i++) {
		struct st_ring *r = st_shm_ring(shm, i);
		if (take(r, ST_OWNER(ST_RING_RESERVED, parent), ST_OWNER(ST_RING_OWNED, pid)))
			mine = r;
	}
	while (!mine) {
		uint32_t seen = atomic_load(&shm->claims);
		mine = take_free(shm, ST_RING_OWNED, pid);
		if (mine)
			break;
		if ((wait_ms >= 0 && waited >= wait_ms) || !st_shm_runner_alive(shm))
			return NULL;
		/* every ring is taken: wait for the runner to free one */
		st_ring_ring_doorbell(shm);
		futex(&shm->claims, FUTEX_WAIT, seen, 10);
		waited += 10;
	}
	/* the image before the exec writes no more: its ring is read, then freed */
	for (uint32_t i = 0; i < shm->nrings; i++) {
		struct st_ring *r = st_shm_ring(shm, i);
		if (r != mine)
			take(r, ST_OWNER(ST_RING_OWNED, pid), ST_OWNER(ST_RING_ENDED, pid));
	}
	return mine;
}

struct st_ring *st_ring_reserve(struct st_shm *shm, pid_t pid)
{
	return take_free(shm, ST_RING_RESERVED, pid);
}

void st_ring_hand(struct st_ring *r, pid_t from, pid_t to)
{
	take(r, ST_OWNER(ST_RING_RESERVED, from), ST_OWNER(ST_RING_RESERVED, to));
}

void st_ring_unreserve(struct st_shm *shm, struct st_ring *r, pid_t pid)
{
	if (take(r, ST_OWNER(ST_RING_RESERVED, pid), ST_OWNER(ST_RING_FREE, 0))) {
		atomic_fetch_add(&shm->claims, 1);
		futex(&shm->claims, FUTEX_WAKE, INT32_MAX, -1);
	}
}

bool st_ring_adopt(struct st_ring *r, pid_t from, pid_t me)
{
	/* the parent may have handed it to this pid already */
	return take(r, ST_OWNER(ST_RING_RESERVED, from), ST_OWNER(ST_RING_OWNED, me)) ||
	       take(r, ST_OWNER(ST_RING_RESERVED, me), ST_OWNER(ST_RING_OWNED, me));
}

void st_ring_end(struct st_ring *r)
{
	uint64_t o = atomic_load(&r->owner);

	if (ST_OWNER_STATE(o) == ST_RING_OWNED)
		take(r, o, ST_OWNER(ST_RING_ENDED, ST_OWNER_PID(o)));
}

/* ---- writers ---- */

/* Waits for room (the tail to move): false when the writer should give up. */
static bool wait_room(struct st_shm *shm, struct st_ring *r, bool may_wait, int *waited)
{
	uint32_t seen = atomic_load(&r->tail_seq);

	if (*waited < 2) {
		(*waited)++;
		st_ring_ring_doorbell(shm);
		sched_yield();
		return true;
	}
	if ((!may_wait && *waited >= 100) || !st_shm_runner_alive(shm))
		return false;
	atomic_fetch_add(&r->waiters, 1);
	st_ring_ring_doorbell(shm);
	futex(&r->tail_seq, FUTEX_WAIT, seen, 10);
	atomic_fetch_sub(&r->waiters, 1);
	*waited += 10;
	return true;
}

bool st_ring_write(struct st_shm *shm, struct st_ring *r, const void *rec, size_t len, bool may_wait)
{
	const uint64_t size = shm->ring_bytes, mask = size - 1;
	uint8_t *data = st_ring_data(shm, r);
	uint64_t need = (sizeof(uint64_t) + len + 7) & ~(uint64_t)7;
	int waited = 0;

	if (need > size / 2) {
		atomic_fetch_add(&r->given_up, 1);
		return false;
	}
	for (;;) {
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		uint64_t off = h & mask, take_len = need;
		bool pad = off + need > size;

		if (pad)
			take_len = size - off;	/* the rest of the ring, as padding */
		if (h + take_len - t > size) {
			if (!wait_room(shm, r, may_wait, &waited)) {
				atomic_fetch_add(&r->given_up, 1);
				return false;
			}
			continue;
		}
		if (!atomic_compare_exchange_weak_explicit(&r->head, &h, h + take_len, memory_order_acq_rel,
							   memory_order_relaxed))
			continue;	/* another writer reserved first */
		if (!pad)
			memcpy(data + off + sizeof(uint64_t), rec, len);
		atomic_store_explicit((_Atomic uint64_t *)(data + off),
				      WORD(pad ? take_len : sizeof(uint64_t) + len, pad ? F_COMMITTED | F_PAD : F_COMMITTED, h),
				      memory_order_release);
		if (pad)
			continue;
		/* a quarter full and the runner asleep: wake it, once */
		if (h + take_len - t > size / 4 && atomic_load_explicit(&shm->sleeping, memory_order_relaxed) &&
		    atomic_exchange(&shm->sleeping, 0)) {
			atomic_fetch_add(&shm->doorbell, 1);
			futex(&shm->doorbell, FUTEX_WAKE, 1, -1);
		}
		return true;
	}
}

bool st_ring_wait_drained(struct st_shm *shm, struct st_ring *r, int ms)
{
	for (int waited = 0; waited < ms; waited += 5) {
		uint32_t seen = atomic_load(&r->tail_seq);
		if (atomic_load(&r->tail) >= atomic_load(&r->head))
			return true;
		if (!st_shm_runner_alive(shm))
			return false;
		atomic_fetch_add(&r->waiters, 1);
		st_ring_ring_doorbell(shm);
		futex(&r->tail_seq, FUTEX_WAIT, seen, 5);
		atomic_fetch_sub(&r->waiters, 1);
	}
	return atomic_load(&r->tail) >= atomic_load(&r->head);
}

/* ---- the reader ---- */

/* Is w a record's word, written at position pos, inside [pos, h)? */
static bool word_ok(uint64_t w, uint64_t pos, uint64_t h, uint64_t size)
{
	uint64_t off = pos & (size - 1);

	return (FLAGS(w) & 0xf0u) == F_MAGIC && (FLAGS(w) & F_COMMITTED) && WTAG(w) == TAG(pos) &&
	       LEN(w) >= sizeof(uint64_t) && STEP(LEN(w)) <= size - off && pos + STEP(LEN(w)) <= h;
}

/* The owner is gone and left the reservation at t unwritten: the
 * position of the next record after it (h when none). */
static uint64_t step_over(const uint8_t *data, uint64_t t, uint64_t h, uint64_t size)
{
	for (uint64_t pos = t + 8; pos < h; pos += 8) {
		uint64_t w = atomic_load_explicit((_Atomic uint64_t *)(data + (pos & (size - 1))),
						  memory_order_acquire);
		if (word_ok(w, pos, h, size))
			return pos;
	}
	return h;
}

uint64_t st_ring_read(struct st_shm *shm, struct st_ring *r, bool owner_gone,
		      void (*fn)(const void *, size_t, void *), void *arg, uint64_t *lost)
{
	const uint64_t size = shm->ring_bytes, mask = size - 1;
	const uint8_t *data = st_ring_data(shm, r);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	for (;;) {
		uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
		uint64_t w;

		if (t >= h)
			break;
		w = atomic_load_explicit((_Atomic uint64_t *)(data + (t & mask)), memory_order_acquire);
		if (word_ok(w, t, h, size)) {
			if (!(FLAGS(w) & F_PAD))
				fn(data + (t & mask) + sizeof(uint64_t), LEN(w) - sizeof(uint64_t), arg);
			t += STEP(LEN(w));
		} else if (!w && !owner_gone) {
			break;	/* reserved, its writer still at it */
		} else {
			/* its writer died before it published (or damage) */
			t = step_over(data, t, h, size);
			if (lost)
				(*lost)++;
		}
	}
	return t;
}

bool st_ring_release(struct st_shm *shm, struct st_ring *r, uint64_t upto, bool owner_gone)
{
	const uint64_t size = shm->ring_bytes;
	uint8_t *data = st_ring_data(shm, r);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed), o;

	if (upto > t) {
		for (uint64_t from = t; from < upto;) {
			uint64_t off = from & (size - 1), n = upto - from;
			if (n > size - off)
				n = size - off;
			memset(data + off, 0, n);
			from += n;
		}
		atomic_store_explicit(&r->tail, upto, memory_order_release);
		atomic_fetch_add(&r->tail_seq, 1);
		if (atomic_load(&r->waiters))
			futex(&r->tail_seq, FUTEX_WAKE, INT32_MAX, -1);
		t = upto;
	}
	/* read, and nobody will write again: free it */
	o = atomic_load(&r->owner);
	if (t < atomic_load(&r->head) || ST_OWNER_STATE(o) == ST_RING_FREE ||
	    (ST_OWNER_STATE(o) != ST_RING_ENDED && !owner_gone))
		return false;
	/* first out of everyone's reach (a reservation may be adopted this
	 * instant), then emptied, then free */
	if (!take(r, o, ST_OWNER(ST_RING_FREEING, 0)))
		return false;
	atomic_store(&r->head, 0);
	atomic_store(&r->tail, 0);
	/* the pages go back to the system until the ring is written again */
	madvise(data, size, MADV_REMOVE);
	atomic_store(&r->owner, ST_OWNER(ST_RING_FREE, 0));
	atomic_fetch_add(&shm->claims, 1);
	futex(&shm->claims, FUTEX_WAKE, INT32_MAX, -1);
	return true;
}

void st_shm_wait(struct st_shm *shm, int ms)
{
	uint32_t seen = atomic_load(&shm->doorbell);

	atomic_store(&shm->sleeping, 1);
	futex(&shm->doorbell, FUTEX_WAIT, seen, ms);
	atomic_store(&shm->sleeping, 0);
}

void st_shm_leave(struct st_shm *shm)
{
	atomic_store(&shm->runner_done, 1);
	/* writers waiting for room or for a ring learn it now */
	for (uint32_t i = 0; i < shm->nrings; i++) {
		struct st_ring *r = st_shm_ring(shm, i);
		atomic_fetch_add(&r->tail_seq, 1);
		if (atomic_load(&r->waiters))
			futex(&r->tail_seq, FUTEX_WAKE, INT32_MAX, -1);
	}
	atomic_fetch_add(&shm->claims, 1);
	futex(&shm->claims, FUTEX_WAKE, INT32_MAX, -1);
}
