/* real.c - the table of real functions (see real.h).
 * Runs inside the traced program: no malloc of its own, no stdio. */
#define _GNU_SOURCE
#include "real.h"
#include "shim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

struct st_real_table st_real;

/* The shim's own exported wrappers, to refuse a lookup that finds them. */
#define WRAP(name, ret, params, args) extern ret name params;
#define WRAPV(name, ret, params, args) extern ret name(int, int, ...);
#include "wrapfuncs.def"
#undef WRAP
#undef WRAPV

static void *libc_handle(void)
{
	static void *h;
	if (!h)
		h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	return h;
}

static void *lookup(const char *name, void *self)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (p == self || p == NULL) {
		void *h = libc_handle();
		p = h ? dlsym(h, name) : NULL;
		if (p == self)
			p = NULL;
	}
	return p;
}

void st_real_resolve(void)
{
#define WRAP(name, ret, params, args) \
	if (!st_real.name.ptr) \
		st_real.name.ptr = lookup(#name, (void *)&name);
#define WRAPV WRAP
#include "wrapfuncs.def"
#undef WRAP
#undef WRAPV
}
