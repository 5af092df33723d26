/* shim.h - what the parts of libsocktrace.so share.
 *
 * Everything declared here runs inside the traced program: no malloc, no
 * stdio, no locks, errno preserved for the program.
 */
#ifndef SOCKTRACE_SHIM_H
#define SOCKTRACE_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

#define ST_EXPORT __attribute__((visibility("default")))
#define ST_LIKELY(x) __builtin_expect(!!(x), 1)
#define ST_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- configuration (config.c), read once with secure_getenv ---- */
enum st_format { ST_FMT_TEXT, ST_FMT_JSONL };
enum st_probe { ST_PROBE_EXIT, ST_PROBE_CLOSE, ST_PROBE_OFF };

struct st_config {
	bool to_stderr;
	char output[4096];	/* path template, %p expanded at open */
	enum st_format format;
	int stack;		/* frames per event, 0 none */
	enum st_probe probe;
	uint64_t families;	/* bit per AF_* value < 64; bit 63: others */
};
extern struct st_config st_cfg;

/* 0: not started, 1: initializing, 2: recording, 3: off for good */
enum { ST_INIT_NONE, ST_INIT_BUSY, ST_INIT_READY, ST_INIT_OFF };
extern _Atomic int st_init_state;

void st_config_read(void);
bool st_family_enabled(int family);

/* Returns true when events may be recorded; starts the shim on first use. */
static inline bool st_active(void)
{
	extern void st_init(void);
	int s = atomic_load_explicit(&st_init_state, memory_order_acquire);
	if (ST_LIKELY(s == ST_INIT_READY))
		return true;
	if (s == ST_INIT_NONE) {
		st_init();
		return atomic_load_explicit(&st_init_state, memory_order_acquire) == ST_INIT_READY;
	}
	return false;
}

/* ---- process identity (shim.c) ---- */
extern pid_t st_pid;
pid_t st_gettid(void);
int64_t st_now_ns(void);	/* CLOCK_REALTIME */
void st_after_fork_child(void);
void st_emit_start(void);

/* ---- the sink (sink.c) ---- */
extern _Atomic int st_sink_fd;	/* the shim's own descriptor, -1 none */
int st_sink_open(void);		/* at init and after fork when %p */
void st_sink_write(const char *line, size_t len);
/* Is there a descriptor to write to (retrying a lost one now and then)? */
bool st_sink_ready(void);
/* Moves the sink away from fd (the program dup2()s onto it). */
void st_sink_move_from(int fd);
/* The shim's descriptors (trace, sock_diag): hidden from the program. */
extern _Atomic int st_diag_fd;
static inline bool st_is_own_fd(int fd)
{
	return fd >= 0 && (fd == atomic_load_explicit(&st_sink_fd, memory_order_relaxed) ||
			   fd == atomic_load_explicit(&st_diag_fd, memory_order_relaxed));
}
void st_own_move_from(int fd);
void st_sink_after_fork(void);
/* The sink was given up for want of a free high descriptor; the program
 * just freed one: try again (wrap_fd.c, after close()). */
extern _Atomic bool st_sink_lost;
void st_sink_retry(void);

/* ---- events ---- */
/* Fills pid/tid/seq, encodes in the configured format and writes it with
 * one write.  Keeps errno. */
void st_emit(struct st_event *ev);
void st_warn(const char *msg, const char *detail);	/* "socktrace: warning: msg: detail" */

#endif
