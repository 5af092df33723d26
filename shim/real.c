/* real.c - the table of real functions (see real.h).
 * Runs inside the traced program: no malloc of its own, no stdio. */
#define _GNU_SOURCE
#include "real.h"
#include "shim.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <fcntl.h>
#include <unistd.h>

struct st_real_table st_real;

static void *libc_handle(void)
{
	static void *h;
	if (!h)
		h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	return h;
}

/* Is p inside libsocktrace.so itself?  (Its own wrapper, found when the
 * shim is preloaded twice.)  The names cannot tell: when the shim is
 * dlopen()ed rather than preloaded, its own references to "socket" bind to
 * libc's. */
static bool in_shim(void *p)
{
	static void *self_base;
	Dl_info info;

	if (!self_base && dladdr((void *)&in_shim, &info))
		self_base = info.dli_fbase;
	return p && dladdr(p, &info) && info.dli_fbase == self_base;
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
#define WRAP(name, ret, params, args) \
	if (!st_real.name.ptr) \
		st_real.name.ptr = lookup(#name);
#define WRAPV WRAP
#include "wrapfuncs.def"
#undef WRAP
#undef WRAPV
}
