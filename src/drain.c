/* SPDX-License-Identifier: MIT */
/* drain.c - the runner's side of the shared memory (see drain.h).
 *
 * Each pass walks the rings (those of images that are over first); a
 * ring's process is taken as gone when kill(pid, 0) says it no longer
 * exists or /proc says it is a zombie (a record it did not finish is then
 * skipped).  A ring's lines are gathered in a buffer and written with one
 * write(2) before the ring is released: a runner killed in between leaves
 * the records in the ring, never a line lost between the two.
 */
#define _GNU_SOURCE
#include "drain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "record.h"
#include "ring.h"

#define OUT_BUF (256 * 1024)

struct st_drain {
	int memfd, out;
	struct st_shm *shm;
	size_t len;
	bool text, color, utc;
	char *buf;		/* lines waiting to be written */
	size_t nbuf;
	char *line;		/* one encoded line */
	size_t linecap;
	void *space;		/* a record's arrays */
	size_t spacecap;
	int error;		/* the first write error; nothing is written after it */
	uint64_t unwritten;	/* lines not written because of it */
	uint64_t lost;
	size_t events;		/* lines written from records */
	int64_t *asked;		/* per ring: when its owner was last looked for (ms) */
	int64_t *reserved_gone;	/* per ring: since when a reservation's maker is gone */
};

/* Sizes the shared memory.  A memfd's size counts against RLIMIT_FSIZE,
 * which the user may have set low for the program (ulimit -f): the soft
 * limit is raised to the hard one for this one call and SIGXFSZ ignored
 * meanwhile, then both are as they were (the program inherits them). */
static int size_memfd(int fd, size_t len)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct rlimit was, up;
	bool raised = false;
	int ret, err;

	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGXFSZ, &ign, &old) != 0)
		return -1;
	if (getrlimit(RLIMIT_FSIZE, &was) == 0 && was.rlim_cur != RLIM_INFINITY && was.rlim_cur < len) {
		up.rlim_cur = up.rlim_max = was.rlim_max;
		raised = setrlimit(RLIMIT_FSIZE, &up) == 0;
	}
	ret = ftruncate(fd, (off_t)len);
	err = errno;
	if (raised)
		setrlimit(RLIMIT_FSIZE, &was);
	sigaction(SIGXFSZ, &old, NULL);
	errno = err;
	return ret;
}

struct st_drain *st_drain_new(uint32_t nrings, uint32_t ring_bytes, int out_fd, bool text, bool color, bool utc)
{
	struct st_drain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->out = out_fd;
	d->text = text;
	d->color = color;
	d->utc = utc;
	d->len = st_shm_size(nrings, ring_bytes);
	d->memfd = memfd_create("socktrace", MFD_CLOEXEC);
	if (d->memfd >= 0 && d->memfd <= 2) {
		/* never on stdin, stdout or stderr, which the watcher reopens */
		int fd = fcntl(d->memfd, F_DUPFD_CLOEXEC, 3);
		close(d->memfd);
		d->memfd = fd;
	}
	d->buf = malloc(OUT_BUF);
	d->linecap = 64 * 1024;
	d->line = malloc(d->linecap);
	d->asked = calloc(nrings, sizeof(*d->asked));
	d->reserved_gone = calloc(nrings, sizeof(*d->reserved_gone));
	if (d->memfd < 0 || !d->buf || !d->line || !d->asked || !d->reserved_gone || size_memfd(d->memfd, d->len) != 0)
		goto fail;
	d->shm = mmap(NULL, d->len, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->shm == MAP_FAILED) {
		d->shm = NULL;
		goto fail;
	}
	st_shm_init(d->shm, nrings, ring_bytes, getpid(), st_record_stamp());
	if (text) {
		time_t now = time(NULL);
		struct tm tm;
		if (localtime_r(&now, &tm))
			st_render_set_tz(tm.tm_gmtoff);
	}
	return d;
fail:
	{
		int e = errno;
		st_drain_free(d);
		errno = e;
	}
	return NULL;
}

int st_drain_fd(const struct st_drain *d)
{
	return d->memfd;
}

int st_drain_out(const struct st_drain *d)
{
	return d->out;
}

bool st_drain_is_tty(const struct st_drain *d)
{
	return isatty(d->out);
}

void st_drain_wake(struct st_drain *d)
{
	st_ring_ring_doorbell(d->shm);
}

void st_drain_set_runner(struct st_drain *d, int pid)
{
	atomic_store(&d->shm->runner, pid);
}

int st_drain_error(const struct st_drain *d)
{
	return d->error;
}

uint64_t st_drain_unwritten(const struct st_drain *d)
{
	return d->unwritten;
}

/* The lines in buf[from, to). */
static uint64_t count_lines(const char *buf, size_t from, size_t to)
{
	uint64_t n = 0;

	for (const char *p = buf + from; (p = memchr(p, '\n', (size_t)(buf + to - p))) != NULL; p++)
		n++;
	return n;
}

static void flush(struct st_drain *d)
{
	size_t off = 0;

	while (off < d->nbuf && !d->error) {
		ssize_t w = write(d->out, d->buf + off, d->nbuf - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			d->error = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (off < d->nbuf) {
		struct stat st;
		size_t whole = off;

		d->unwritten += count_lines(d->buf, off, d->nbuf);
		/* a line cut by the error (a full disk, a file size limit) is
		 * taken back from a regular file: it ends at its last whole
		 * event, which readers read as such */
		while (whole && d->buf[whole - 1] != '\n')
			whole--;
		if (whole < off && fstat(d->out, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size >= (off_t)(off - whole)) {
			if (ftruncate(d->out, st.st_size - (off_t)(off - whole)) != 0) {
				/* left: a reader reports the cut last line */
			}
		}
	}
	d->nbuf = 0;
}

void st_drain_line(struct st_drain *d, const char *line, size_t len)
{
	if (d->error) {
		d->unwritten++;
		return;
	}
	if (len > OUT_BUF - d->nbuf)
		flush(d);
	if (len > OUT_BUF) {
		/* longer than the buffer: written on its own */
		memcpy(d->buf, line, OUT_BUF);
		d->nbuf = OUT_BUF;
		flush(d);
		st_drain_line(d, line + OUT_BUF, len - OUT_BUF);
		return;
	}
	memcpy(d->buf + d->nbuf, line, len);
	d->nbuf += len;
}

static size_t encode(struct st_drain *d, const struct st_event *ev, char *buf, size_t cap);

void st_drain_end(struct st_drain *d, int pid, int wstatus)
{
	struct st_event ev;
	struct timespec now;
	char line[1024];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!st_event_end(&ev, pid, wstatus, "runner", (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000))
		return;
	n = encode(d, &ev, line, sizeof(line));
	if (n < sizeof(line))
		st_drain_line(d, line, n);
	flush(d);
}

void st_drain_event(struct st_drain *d, const struct st_event *ev)
{
	size_t n = encode(d, ev, d->line, d->linecap);

	if (n >= d->linecap) {
		char *p = realloc(d->line, n + 1);
		if (!p) {
			d->lost++;
			return;
		}
		d->line = p;
		d->linecap = n + 1;
		n = encode(d, ev, d->line, d->linecap);
	}
	st_drain_line(d, d->line, n);
	d->events++;
}

void st_drain_flush(struct st_drain *d)
{
	flush(d);
}

static size_t encode(struct st_drain *d, const struct st_event *ev, char *buf, size_t cap)
{
	unsigned flags = (d->color ? ST_RENDER_COLOR : 0) | (d->utc ? ST_RENDER_UTC : 0);

	return d->text ? st_render_text(ev, buf, cap, flags) : st_encode_json(ev, buf, cap);
}

/* one record: decoded, encoded as a line, queued */
static void one(const void *rec, size_t len, void *arg)
{
	struct st_drain *d = arg;
	struct st_event ev;
	struct st_record_space sp;
	size_t need = st_record_space(rec, len);

	if (!need) {
		d->lost++;	/* damaged: never written by a shim of this build */
		return;
	}
	if (need > d->spacecap) {
		void *p = realloc(d->space, need);
		if (!p) {
			d->lost++;
			return;
		}
		d->space = p;
		d->spacecap = need;
	}
	sp.p = d->space;
	sp.len = d->spacecap;
	if (st_record_decode(rec, len, &ev, &sp) < 0) {
		d->lost++;
		return;
	}
	st_drain_event(d, &ev);
}

/* Is process pid gone (or a zombie: it writes no more)? */
static bool gone(int pid)
{
	if (pid <= 0)
		return true;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	return st_proc_zombie(pid);
}

/* One ring: what is published is written, then released; a ring whose
 * image is over is freed.  A reservation whose maker is gone is kept a
 * while: the child it was for may not have taken it yet. */
static size_t drain_ring(struct st_drain *d, uint32_t i, bool all_gone, int64_t now_ms)
{
	struct st_ring *r = st_shm_ring(d->shm, i);
	uint64_t o = atomic_load(&r->owner), h, upto;
	enum st_ring_state state = ST_OWNER_STATE(o);
	size_t before = d->events;
	bool owner_gone;

	if (state == ST_RING_FREE || state == ST_RING_FREEING)
		return 0;
	h = atomic_load(&r->head);
	/* whether the owner is gone matters only to a ring that is stuck on a
	 * record not published, or that could be freed: asked then, at most
	 * every 50 ms per ring */
	owner_gone = all_gone;
	if (!owner_gone && state != ST_RING_ENDED && now_ms - d->asked[i] >= 50) {
		d->asked[i] = now_ms;
		owner_gone = gone(ST_OWNER_PID(o));
		if (state == ST_RING_RESERVED) {
			/* the grace runs from when its maker was first seen gone,
			 * across passes, and starts again only if it is seen alive
			 * (a reservation for an image without the shim, after
			 * `env -i` or the exec of a static program, is never
			 * taken: it must not keep the run from ending) */
			if (!owner_gone)
				d->reserved_gone[i] = 0;
			else if (!d->reserved_gone[i])
				d->reserved_gone[i] = now_ms;
			owner_gone = owner_gone && now_ms - d->reserved_gone[i] >= 2000;
		}
	}
	upto = h > atomic_load(&r->tail) ? st_ring_read(d->shm, r, owner_gone, one, d, &d->lost)
					: atomic_load(&r->tail);
	flush(d);
	if (st_ring_release(d->shm, r, upto, owner_gone)) {
		d->asked[i] = 0;
		d->reserved_gone[i] = 0;
	}
	return d->events - before;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t pass(struct st_drain *d, bool all_gone)
{
	int64_t now = now_ms();
	size_t n = 0;

	/* the rings of images that are over first: an image before its exec
	 * wrote before the image after it */
	for (uint32_t i = 0; i < d->shm->nrings; i++)
		if (ST_OWNER_STATE(atomic_load(&st_shm_ring(d->shm, i)->owner)) == ST_RING_ENDED)
			n += drain_ring(d, i, all_gone, now);
	for (uint32_t i = 0; i < d->shm->nrings; i++)
		if (ST_OWNER_STATE(atomic_load(&st_shm_ring(d->shm, i)->owner)) != ST_RING_ENDED)
			n += drain_ring(d, i, all_gone, now);
	return n;
}

bool st_drain_idle(struct st_drain *d)
{
	for (uint32_t i = 0; i < d->shm->nrings; i++)
		if (ST_OWNER_STATE(atomic_load(&st_shm_ring(d->shm, i)->owner)) != ST_RING_FREE)
			return false;
	return true;
}

size_t st_drain_pass(struct st_drain *d)
{
	return pass(d, false);
}

void st_drain_wait(struct st_drain *d, int ms)
{
	st_shm_wait(d->shm, ms);
}

uint64_t st_drain_finish(struct st_drain *d)
{
	st_shm_leave(d->shm);
	pass(d, true);
	flush(d);
	return d->lost;
}

void st_drain_free(struct st_drain *d)
{
	if (!d)
		return;
	if (d->shm)
		munmap(d->shm, d->len);
	if (d->memfd >= 0)
		close(d->memfd);
	free(d->buf);
	free(d->line);
	free(d->space);
	free(d->asked);
	free(d->reserved_gone);
	free(d);
}
