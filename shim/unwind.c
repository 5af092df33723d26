/* SPDX-License-Identifier: MIT */
/* unwind.c - stack capture (see unwind.h).
 *
 * Owns: a map of the loaded objects (address ranges, load bias, path),
 * built with dl_iterate_phdr and rebuilt only when an address falls
 * outside it (dlopen); two copies, swapped atomically, so readers never
 * see a half-built map.  libunwind does the unwinding with its per-thread
 * cache.
 * Runs inside the traced program: no malloc, no stdio.
 */
#define _GNU_SOURCE
#include "unwind.h"
#include "settings.h"
#include "shim.h"
#include "real.h"

#include "config.h"

#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define MAX_OBJS 512
#define PATH_POOL (64 * 1024)

struct obj {
	uintptr_t start, end, bias;
	const char *path;
};

struct objmap {
	int n;
	struct obj objs[MAX_OBJS];
	char pool[PATH_POOL];
	size_t used;
};

static struct objmap maps[2];
static _Atomic(struct objmap *) current;
static _Atomic int building;
static uintptr_t self_start, self_end;
static char exe[4096];

static int add_obj(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct objmap *m = arg;
	const char *name = info->dlpi_name;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	size_t len;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (hi <= lo || m->n >= MAX_OBJS)
		return 0;
	if (!name || !*name)
		name = exe[0] ? exe : "?";
	len = strlen(name) + 1;
	if (m->used + len > PATH_POOL)
		return 0;
	memcpy(m->pool + m->used, name, len);
	m->objs[m->n].path = m->pool + m->used;
	m->used += len;
	m->objs[m->n].start = lo;
	m->objs[m->n].end = hi;
	m->objs[m->n].bias = info->dlpi_addr;
	m->n++;
	return 0;
}

static void rebuild(void)
{
	struct objmap *cur, *next;

	if (atomic_exchange(&building, 1))
		return;	/* another thread is at it */
	cur = atomic_load(&current);
	next = cur == &maps[0] ? &maps[1] : &maps[0];
	next->n = 0;
	next->used = 0;
	dl_iterate_phdr(add_obj, next);
	atomic_store(&current, next);
	atomic_store(&building, 0);
}

static const struct obj *find(uintptr_t ip)
{
	struct objmap *m = atomic_load(&current);
	if (!m)
		return NULL;
	for (int i = 0; i < m->n; i++)
		if (ip >= m->objs[i].start && ip < m->objs[i].end)
			return &m->objs[i];
	return NULL;
}

/* libunwind opens a pipe when it starts (to validate addresses).  So
 * that it never takes a descriptor the program would have got, it starts
 * while every free descriptor below the shim's high ones is held. */
static void start_unwinder_high(void)
{
	struct rlimit rl;
	long limit = 4096;
	int *held, n = 0, dn;
	void *ip[2];
	size_t cap;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < limit)
		limit = (long)rl.rlim_cur;
	limit -= 32;	/* the shim's own descriptors live above */
	cap = (size_t)(limit > 0 ? limit : 1) * sizeof(int);
	held = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (held != MAP_FAILED && dn >= 0) {
		if (dn < limit)
			held[n++] = dn;
		while (n < limit) {
			int fd = REAL(fcntl)(dn, F_DUPFD_CLOEXEC, 0L);
			if (fd < 0)
				break;
			if (fd >= limit) {
				REAL(close)(fd);
				break;
			}
			held[n++] = fd;
		}
	}
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	unw_backtrace(ip, 2);
	for (int i = 0; i < n; i++)
		REAL(close)(held[i]);
	if (dn >= limit)
		REAL(close)(dn);
	if (held != MAP_FAILED)
		munmap(held, cap);
}

bool st_unwind_init(void)
{
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const struct obj *self;

	exe[n > 0 ? n : 0] = '\0';
	start_unwinder_high();
	rebuild();
	self = find((uintptr_t)&st_unwind);
	if (self) {
		self_start = self->start;
		self_end = self->end;
	}
	return true;
}

int st_unwind(struct st_frame *out, int max)
{
	void *ips[ST_STACK_MAX + 16];
	int n, k = 0;
	bool rebuilt = false;

	if (max > ST_STACK_MAX)
		max = ST_STACK_MAX;
	n = unw_backtrace(ips, max + 16);
	for (int i = 0; i < n && k < max; i++) {
		uintptr_t ip = (uintptr_t)ips[i];
		const struct obj *o;
		if (ip >= self_start && ip < self_end)
			continue;	/* the shim's own frames */
		o = find(ip);
		if (!o && !rebuilt) {
			rebuild();	/* an object loaded since (dlopen) */
			rebuilt = true;
			o = find(ip);
		}
		out[k].ip = ip;
		out[k].obj = o ? o->path : NULL;
		out[k].off = o ? ip - o->bias : 0;
		out[k].sym = NULL;
		out[k].sym_off = 0;
		k++;
	}
	return k;
}

#else

bool st_unwind_init(void)
{
	return false;
}

int st_unwind(struct st_frame *out, int max)
{
	(void)out;
	(void)max;
	return 0;
}

#endif
