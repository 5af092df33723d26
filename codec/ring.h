/* SPDX-License-Identifier: MIT */
/* ring.h - the run's shared memory: how traced processes hand their events
 * to the runner, which writes the trace.
 *
 * Owns: the layout of the shared memory (a header page, a table of ring
 * control words, then the rings' data: one ring per traced process image)
 * and the protocol on it.  A process image takes a ring at its start (or
 * adopts the one its parent reserved for it before fork or exec); its
 * threads and signal handlers reserve space in it with one compare-and-swap
 * each, copy a compact record (record.h) and publish it; the runner reads
 * the published records in order, writes them, then zeroes them and moves
 * the tail, and frees the rings of the images that are over.  A record a
 * process was still writing when it died (SIGKILL) is skipped and counted;
 * every record published before is kept.  A full ring makes the writer
 * wait for the runner (back-pressure); a writer that must not wait (a
 * signal handler that interrupted a write of the same thread) gives up
 * after a bound, and the ring counts what was given up.
 * Shared by the shim (writer, inside the traced program: no malloc, no
 * stdio, no locks, nothing a vfork child may not do in the reservation
 * calls) and the runner (reader).
 */
#ifndef SOCKTRACE_RING_H
#define SOCKTRACE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ST_SHM_MAGIC 0x68737473u	/* "stsh" */

/* A ring's owner word: its state in the high 32 bits, a pid in the low. */
enum st_ring_state {
	ST_RING_FREE,		/* no owner: may be taken */
	ST_RING_RESERVED,	/* kept for the image pid will run (after fork or exec) */
	ST_RING_OWNED,		/* image pid writes into it */
	ST_RING_ENDED,		/* its image exited or exec'd: no more writes; freed once read */
	ST_RING_FREEING,	/* the reader empties it */
};
#define ST_OWNER(state, pid) ((uint64_t)(state) << 32 | (uint32_t)(pid))
#define ST_OWNER_STATE(o) ((enum st_ring_state)((o) >> 32))
#define ST_OWNER_PID(o) ((pid_t)(uint32_t)(o))

/* The header, at the start of the shared memory (one page). */
struct st_shm {
	uint32_t magic;		/* ST_SHM_MAGIC */
	uint32_t stamp;		/* ST_RECORD_STAMP of the runner's codec */
	uint32_t nrings;
	uint32_t ring_bytes;	/* data bytes of each ring, a power of two */
	_Atomic int32_t runner;	/* the reader's pid */
	_Atomic uint32_t runner_done;	/* the reader has left: write the trace yourself */
	_Atomic uint32_t doorbell;	/* futex: bumped to wake the reader */
	_Atomic uint32_t sleeping;	/* the reader waits on the doorbell */
	_Atomic uint32_t claims;	/* futex: bumped when a ring is freed */
	uint32_t pad;
	uint64_t reserved[4];
};

/* One ring's control words (64 bytes, in a table after the header). */
struct st_ring {
	_Atomic uint64_t owner;	/* ST_OWNER(state, pid) */
	_Atomic uint64_t head;	/* bytes reserved by writers (counted, not wrapped) */
	_Atomic uint64_t tail;	/* bytes the runner has written and released */
	_Atomic uint32_t tail_seq;	/* futex: bumped when the tail moves */
	_Atomic uint32_t waiters;	/* writers waiting for room or for the tail */
	_Atomic uint64_t given_up;	/* records writers gave up on */
	uint64_t pad[3];
};

/* Bytes of shared memory for nrings rings of ring_bytes each. */
size_t st_shm_size(uint32_t nrings, uint32_t ring_bytes);
/* Lays the header and the rings out in mem (size st_shm_size, zeroed). */
void st_shm_init(void *mem, uint32_t nrings, uint32_t ring_bytes, int32_t runner, uint32_t stamp);
/* The header in mem (len bytes) when this build reads it; NULL when not
 * (another build's runner, or not a socktrace memory). */
struct st_shm *st_shm_check(void *mem, size_t len, uint32_t stamp);
struct st_ring *st_shm_ring(struct st_shm *shm, uint32_t i);
/* Ring r's data (ring_bytes bytes). */
uint8_t *st_ring_data(struct st_shm *shm, const struct st_ring *r);
/* Is the reader there?  false once it left (runner_done), once its
 * process is gone (kill(pid, 0): ESRCH), a zombie, or on its way out
 * (PF_EXITING or PF_SIGNALED in the flags of /proc/PID/stat: killed, it
 * never reads again, though the kernel may take long to end it).  Keeps
 * errno; async-signal-safe, as st_proc_zombie. */
bool st_shm_runner_alive(const struct st_shm *shm);
/* Is process pid a zombie (dead, not reaped: it writes no more)?  true
 * when the state letter of /proc/PID/stat (the field after the last ')',
 * which ends the command name) is Z or X; false when it is another, and
 * when it cannot be told (no such process, no /proc): a caller that must
 * know a process is gone asks kill(pid, 0) first.  pid > 0.  Only
 * async-signal-safe calls (open, read, close), no malloc: a signal
 * handler's emit in the shim may ask. */
bool st_proc_zombie(pid_t pid);

/* ---- writers (the shim) ---- */

/* The ring of image pid at its start: the one reserved for it, else one
 * its parent reserved (a child of posix_spawn may start before its parent
 * handed it the reservation; parent 0: none), else a free one, waiting for
 * one up to wait_ms while the runner lives.  The rings of pid's earlier
 * image (before its exec) are ended.  NULL when none. */
struct st_ring *st_ring_claim(struct st_shm *shm, pid_t pid, pid_t parent, int wait_ms);
/* Reserves a free ring for the next image of process pid (before exec, or
 * before fork with the parent's pid).  NULL when none is free (no wait). */
struct st_ring *st_ring_reserve(struct st_shm *shm, pid_t pid);
/* The reservation of from passes to to (the child's pid, once known);
 * nothing when it was adopted already. */
void st_ring_hand(struct st_ring *r, pid_t from, pid_t to);
/* The reservation of pid is not needed (fork or exec failed). */
void st_ring_unreserve(struct st_shm *shm, struct st_ring *r, pid_t pid);
/* The child after fork: the ring its parent (from) reserved becomes its
 * own.  false when it was not there to take. */
bool st_ring_adopt(struct st_ring *r, pid_t from, pid_t me);
/* Writes one record (len bytes, at most ring_bytes / 2).  May wait for
 * room when may_wait, as long as the runner lives; else gives up after
 * about 100 ms.  false when the record was given up (counted in the ring)
 * or the runner is gone. */
bool st_ring_write(struct st_shm *shm, struct st_ring *r, const void *rec, size_t len, bool may_wait);
/* Wakes the runner now. */
void st_ring_ring_doorbell(struct st_shm *shm);
/* Waits up to ms for the runner to have written everything of r. */
bool st_ring_wait_drained(struct st_shm *shm, struct st_ring *r, int ms);
/* No more writes into r (its image exits). */
void st_ring_end(struct st_ring *r);

/* ---- the reader (the runner) ---- */

/* Calls fn for each record published in r after its tail, in order, and
 * counts one in *lost for each record whose writer died before publishing
 * it (owner_gone: the ring's process no longer exists, so what is not
 * published never will be).  Returns the position up to which r was read,
 * for st_ring_release once what fn was given is written. */
uint64_t st_ring_read(struct st_shm *shm, struct st_ring *r, bool owner_gone,
		      void (*fn)(const void *rec, size_t len, void *arg), void *arg, uint64_t *lost);
/* Zeroes r up to upto, moves its tail there, wakes its waiting writers,
 * and frees r when it is read and its image is over (ended, or
 * owner_gone).  Returns true when r was freed. */
bool st_ring_release(struct st_shm *shm, struct st_ring *r, uint64_t upto, bool owner_gone);
/* Sleeps until a writer rings the doorbell or ms pass. */
void st_shm_wait(struct st_shm *shm, int ms);
/* The reader leaves: writers write the trace themselves from now on. */
void st_shm_leave(struct st_shm *shm);

#endif
