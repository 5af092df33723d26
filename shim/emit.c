/* SPDX-License-Identifier: MIT */
/* emit.c - an event into a line in the sink (see emit.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; a long
 * line takes a mapping, never the (maybe small, signal) stack.
 */
#define _GNU_SOURCE
#include "emit.h"
#include "settings.h"
#include "shim.h"
#include "shmsink.h"
#include "sink.h"
#include "unwind.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t st_pid;
static _Atomic int64_t seq;
static _Atomic int64_t dropped;	/* events not written since the last one that was */
static __thread pid_t tid_cache;
/* emits in progress on this thread: 2 and more is a signal handler that
 * interrupted one, which must not wait for the runner */
static __thread int depth;

pid_t st_gettid(void)
{
	if (ST_UNLIKELY(!tid_cache))
		tid_cache = (pid_t)syscall(SYS_gettid);
	return tid_cache;
}

void st_emit_after_fork(void)
{
	st_pid = getpid();
	tid_cache = 0;
	atomic_store(&seq, 0);
	atomic_store(&dropped, 0);
}

#define LINE_ON_STACK 2048

static size_t encode(const struct st_event *ev, char *buf, size_t cap)
{
	if (st_cfg.format == ST_FMT_JSONL)
		return st_encode_json(ev, buf, cap);
	return st_render_text(ev, buf, cap, 0);
}

/* pid, tid and seq; not for another process's end, which has its pid and
 * stays outside its numbering */
static void number(struct st_event *ev)
{
	if (ST_UNLIKELY(ev->call == ST_CALL_end))
		return;
	ev->pid = st_pid;
	ev->tid = st_gettid();
	ev->seq = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed) + 1;
	if (ST_UNLIKELY(atomic_load_explicit(&dropped, memory_order_relaxed)))
		ev->dropped = atomic_exchange(&dropped, 0);
}

/* ev was not written: it is counted as dropped, and so are the events it
 * said were dropped before it (the next event written says them all). */
static void lost(const struct st_event *ev)
{
	atomic_fetch_add_explicit(&dropped, 1 + (ev->dropped > 0 ? ev->dropped : 0), memory_order_relaxed);
}

void st_emit_direct(const struct st_event *ev)
{
	char line[LINE_ON_STACK];
	size_t n = encode(ev, line, sizeof(line));

	if (ST_LIKELY(n < sizeof(line))) {
		if (ST_UNLIKELY(!st_sink_write(line, n)))
			lost(ev);
	} else {
		/* a long line (argv, stacks, holders): a mapping, not the stack,
		 * which may be a small signal stack */
		size_t cap = (n + 1 + 4095) & ~(size_t)4095;
		char *big = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (big != MAP_FAILED) {
			n = encode(ev, big, cap);
			if (!st_sink_write(big, n < cap ? n : cap - 1))
				lost(ev);
			munmap(big, cap);
		} else {
			lost(ev);
		}
	}
}

static void emit_line(struct st_event *ev)
{
	if (st_shm_active()) {
		/* the runner writes the trace: a compact record into its ring */
		number(ev);
		if (ST_LIKELY(st_shm_emit(ev, depth <= 1)))
			return;
		if (!st_shm_fall_back() || !st_sink_ready()) {
			lost(ev);
			return;
		}
		/* the runner is gone: this process writes the file itself */
	} else if (ST_UNLIKELY(!st_sink_ready())) {
		/* no descriptor to write to: the event is counted, not numbered,
		 * so seq stays without gaps and the next event says how many
		 * were lost */
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		return;
	} else {
		number(ev);
	}
	st_emit_direct(ev);
}

/* Kept apart so that the frames take stack space only when asked for. */
static __attribute__((noinline)) void emit_with_stack(struct st_event *ev)
{
	struct st_frame frames[ST_STACK_MAX];

	ev->nframes = st_unwind(frames, st_cfg.stack);
	ev->frames = frames;
	emit_line(ev);
	ev->frames = NULL;
	ev->nframes = 0;
}

void st_emit(struct st_event *ev)
{
	int saved = errno;

	depth++;
	if (ST_UNLIKELY(st_cfg.stack > 0) && !st_call_is(ev->call, ST_K_SELF))
		emit_with_stack(ev);
	else
		emit_line(ev);
	depth--;
	errno = saved;
}
