/* SPDX-License-Identifier: MIT */
/* real.c - the table of real functions (see real.h).
 * Runs inside the traced program: no malloc of its own, no stdio. */
#define _GNU_SOURCE
#include "real.h"
#include "shim.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdbool.h>
#include <fcntl.h>
#include <unistd.h>

ST_HOT_FIRST struct st_real_table st_real;

static void *libc_handle(void)
{
	static void *h;
	if (!h)
		h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	return h;
}

/* The address range of libsocktrace.so's own mappings. */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (me < lo || me >= hi)
		return 0;
	self_lo = lo;
	self_hi = hi;
	return 1;
}

/* Is p inside libsocktrace.so itself?  (Its own wrapper, found when the
 * shim is preloaded twice.)  The names cannot tell: when the shim is
 * dlopen()ed rather than preloaded, its own references to "socket" bind to
 * libc's. */
static bool in_shim(void *p)
{
	if (!self_hi)
		dl_iterate_phdr(find_self, (void *)&find_self);
	return p && (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi;
}

static void *lookup(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p || in_shim(p)) {
		void *h = libc_handle();
		p = h ? dlsym(h, name) : NULL;
		if (in_shim(p))
			p = NULL;
	}
	return p;
}

void st_real_resolve(void)
{
#define WRAP(name, kind, ret, params, args) \
	if (!st_real.name.ptr) \
		st_real.name.ptr = lookup(#name);
#define WRAPV WRAP
#define EVENT(name, kind)
#include "calls.def"
#undef WRAP
#undef WRAPV
#undef EVENT
}
