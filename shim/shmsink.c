/* SPDX-License-Identifier: MIT */
/* shmsink.c - events into the runner's shared memory (see shmsink.h).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "shmsink.h"
#include "emit.h"
#include "log.h"
#include "record.h"
#include "ring.h"
#include "settings.h"
#include "shim.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct st_shm *shm;
static _Atomic(struct st_ring *) ring;
/* emits between loading the ring and finishing with it, in this process */
static _Atomic int inflight;
/* the ring reserved before a fork by this thread, for the child */
static __thread struct st_ring *fork_ring;
static __thread pid_t fork_parent;
/* before an exec, for the next image */
static struct st_ring *exec_ring;

static void recover(struct st_ring *r);

bool st_shm_active(void)
{
	return atomic_load_explicit(&ring, memory_order_relaxed) != NULL;
}

static void no_ring(void)
{
	st_warn("the runner's shared memory has no ring for this process, writing the trace directly", NULL);
	if (st_cfg.fallback)
		st_sink_open();
}

bool st_shm_open(void)
{
	struct stat st;
	struct st_ring *r;
	void *mem;
	int fd;

	if (!st_cfg.shm[0])
		return false;
	/* a magic link of /proc (no O_NOFOLLOW): what it names is checked after */
	fd = open(st_cfg.shm, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		st_warn("cannot open the runner's shared memory, writing the trace directly",
			strerrordesc_np(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4096) {
		close(fd);
		st_warn("the runner's shared memory is not one, writing the trace directly", st_cfg.shm);
		return false;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);	/* the mapping stays: the program sees no descriptor */
	if (mem == MAP_FAILED) {
		st_warn("cannot map the runner's shared memory, writing the trace directly",
			strerrordesc_np(errno));
		return false;
	}
	shm = st_shm_check(mem, (size_t)st.st_size, st_record_stamp());
	if (!shm) {
		munmap(mem, (size_t)st.st_size);
		st_warn("the runner's shared memory is of another socktrace build, writing the trace "
			"directly", st_cfg.shm);
		return false;
	}
	if (!st_shm_runner_alive(shm))
		return false;	/* the run is over: the trace is written directly, quietly */
	r = st_ring_claim(shm, getpid(), getppid(), 1000);
	atomic_store(&ring, r);
	if (!r) {
		st_warn("the runner's shared memory has no ring for this process, writing the trace "
			"directly", NULL);
		return false;
	}
	return true;
}

#define REC_ON_STACK 2048

/* emits of this process, for the check every 64 of them: of the whole
 * process, not of a thread, or threads that make a few events each and
 * end (a thread per connection) would never check */
static _Atomic unsigned emits_unchecked;

/* A start event whose command line makes its record too long for a ring
 * (a record takes half of one at most): the last arguments are left out
 * until it fits, as the shim leaves out what is past its own bounds (argc
 * still counts them all, so a reader sees they are missing).  *n: the
 * record's length; cut: the copy that is returned, when one is needed. */
static const struct st_event *fit_argv(const struct st_event *ev, struct st_event *cut, size_t max,
				       unsigned char *buf, size_t cap, size_t *n)
{
	*cut = *ev;
	if (cut->argc_total < cut->argc)
		cut->argc_total = cut->argc;
	while (*n > max && cut->argc > 0) {
		cut->argc--;
		while (cut->nargv_cut > 0 && cut->argv_cut[cut->nargv_cut - 1].index >= cut->argc)
			cut->nargv_cut--;
		if (!cut->nargv_cut)
			cut->argv_cut = NULL;
		*n = st_record_encode(cut, buf, cap);
	}
	return cut;
}

bool st_shm_emit(const struct st_event *ev, bool may_wait)
{
	unsigned char buf[REC_ON_STACK];
	struct st_event cut;
	struct st_ring *r;
	size_t n;
	bool ok = false;

	atomic_fetch_add(&inflight, 1);
	r = atomic_load(&ring);
	if (!r || ST_UNLIKELY(atomic_load_explicit(&shm->runner_done, memory_order_relaxed)))
		goto out;
	n = st_record_encode(ev, buf, sizeof(buf));
	if (ST_UNLIKELY(n + 16 > shm->ring_bytes / 2) && ev->argc > 0)
		ev = fit_argv(ev, &cut, shm->ring_bytes / 2 - 16, buf, sizeof(buf), &n);
	if (ST_LIKELY(n <= sizeof(buf))) {
		ok = st_ring_write(shm, r, buf, n, may_wait);
	} else {
		/* a long record (argv, stacks, holders): a mapping, not the stack */
		size_t cap = (n + 4095) & ~(size_t)4095;
		void *big = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big != MAP_FAILED) {
			st_record_encode(ev, big, cap);
			ok = st_ring_write(shm, r, big, n, may_wait);
			munmap(big, cap);
		}
	}
out:
	atomic_fetch_sub(&inflight, 1);
	/* every 64 events of this process, whether the runner still reads:
	 * a killed one would leave them in the ring until this process ends
	 * (or lost with it); then what the ring holds, this one too, is
	 * written here, and the next ones directly */
	if (ok &&
	    ST_UNLIKELY((atomic_fetch_add_explicit(&emits_unchecked, 1, memory_order_relaxed) & 63) == 63) &&
	    !st_shm_runner_alive(shm))
		st_shm_fall_back();
	return ok;
}

void st_shm_before_fork(void)
{
	fork_ring = NULL;
	if (!atomic_load(&ring))
		return;
	fork_parent = getpid();
	fork_ring = st_ring_reserve(shm, fork_parent);
}

void st_shm_forked(pid_t child)
{
	struct st_ring *r = fork_ring;

	fork_ring = NULL;
	if (!r)
		return;
	if (child > 0)
		st_ring_hand(r, fork_parent, child);
	else
		st_ring_unreserve(shm, r, fork_parent);
}

void st_shm_after_fork(void)
{
	struct st_ring *r = fork_ring;
	pid_t me = getpid();

	fork_ring = NULL;
	/* the parent's ring stays the parent's; the child's other threads are
	 * gone, and with them every emit in flight */
	atomic_store(&inflight, 0);
	if (!atomic_load(&ring))
		return;
	if (r && st_ring_adopt(r, fork_parent, me)) {
		atomic_store(&ring, r);
		return;
	}
	r = st_ring_claim(shm, me, 0, 1000);
	atomic_store(&ring, r);
	if (!r)
		no_ring();
}

void st_shm_at_exit(void)
{
	struct st_ring *r = atomic_exchange(&ring, NULL);
	struct timespec nap = { 0, 100000 };

	if (!r)
		return;
	/* the other threads' emits that had the ring finish first (10 ms at
	 * most: one may be a handler that interrupted this very thread) */
	for (int i = 0; i < 100 && atomic_load(&inflight) > 0; i++)
		nanosleep(&nap, NULL);
	if (!st_ring_wait_drained(shm, r, 1000) && !st_shm_runner_alive(shm)) {
		/* the runner is gone: what it did not write is written here */
		atomic_store(&ring, r);
		st_shm_fall_back();
		return;
	}
	/* still in use: left to the runner, which frees it once the process
	 * is gone */
	if (!atomic_load(&inflight))
		st_ring_end(r);
}

void st_shm_before_exec(void)
{
	/* the next image adopts it; this image's ring ends when it does.  In a
	 * vfork child too: a ring is shared memory, not this process's state */
	exec_ring = NULL;
	if (shm && st_shm_runner_alive(shm))
		exec_ring = st_ring_reserve(shm, getpid());
}

void st_shm_exec_failed(void)
{
	if (exec_ring)
		st_ring_unreserve(shm, exec_ring, getpid());
	exec_ring = NULL;
}

/* a record of the ring, written by this process itself */
static void recover_one(const void *rec, size_t len, void *arg)
{
	struct st_record_space sp;
	struct st_event ev;
	size_t need = st_record_space(rec, len), cap;

	(void)arg;
	if (!need)
		return;
	cap = (need + 4095) & ~(size_t)4095;
	sp.p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sp.p == MAP_FAILED)
		return;
	sp.len = cap;
	if (st_record_decode(rec, len, &ev, &sp) == 0)
		st_emit_direct(&ev);
	munmap(sp.p, cap);
}

/* The runner is gone with records still in r: they are written here, in
 * order, once the other threads' writes into r are done (10 ms at most). */
static void recover(struct st_ring *r)
{
	struct timespec nap = { 0, 100000 };
	uint64_t upto;

	for (int i = 0; i < 100 && atomic_load(&inflight) > 0; i++)
		nanosleep(&nap, NULL);
	upto = st_ring_read(shm, r, true, recover_one, NULL, NULL);
	st_ring_release(shm, r, upto, true);
}

bool st_shm_fall_back(void)
{
	struct st_ring *r = atomic_load(&ring);

	if (!r || st_shm_runner_alive(shm))
		return false;
	/* the runner is gone: no one will read the ring again */
	if (atomic_exchange(&ring, NULL) != r)
		return st_sink_ready();
	if (!st_cfg.fallback) {
		st_warn("the runner is gone: the events from now on are not written", NULL);
		return false;
	}
	st_warn("the runner is gone: writing the trace directly", NULL);
	if (st_sink_open() < 0)
		return false;
	recover(r);
	return true;
}
