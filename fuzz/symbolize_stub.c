/* SPDX-License-Identifier: MIT */
/* symbolize_stub.c - a stand-in for formatters/symbolize.c in the fuzz
 * targets.
 *
 * The real symbolizer reads the ELF files a trace names: files of this
 * machine, not bytes of the fuzz input, and slow to read once per input
 * under AddressSanitizer (a few runs a second instead of thousands).
 * This one names every frame of an object without opening anything, so
 * the formats still print named frames: "fn_OFF" for an object whose path
 * ends in ".so" or holds "bin", nothing for the others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "symbolize.h"

struct st_symbolizer {
	char **names;	/* every name handed out, freed with the symbolizer */
	size_t n;
};

struct st_symbolizer *st_symbolizer_new(void)
{
	return calloc(1, sizeof(struct st_symbolizer));
}

void st_symbolizer_free(struct st_symbolizer *sy)
{
	if (!sy)
		return;
	for (size_t i = 0; i < sy->n; i++)
		free(sy->names[i]);
	free(sy->names);
	free(sy);
}

const char *st_symbolize(struct st_symbolizer *sy, const char *obj, uint64_t off, int ret_addr,
			 uint64_t *sym_off)
{
	char name[64], **grown;
	size_t n;

	(void)ret_addr;
	if (!sy || !obj || !*obj)
		return NULL;
	n = strlen(obj);
	if (!(n > 3 && !strcmp(obj + n - 3, ".so")) && !strstr(obj, "bin"))
		return NULL;
	/* one name per 4 KiB, like the functions of a real object */
	snprintf(name, sizeof(name), "fn_%llx", (unsigned long long)(off & ~0xfffULL));
	grown = realloc(sy->names, (sy->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	sy->names = grown;
	sy->names[sy->n] = strdup(name);
	if (!sy->names[sy->n])
		return NULL;
	*sym_off = off & 0xfff;
	return sy->names[sy->n++];
}

void st_symbolize_rec(struct st_symbolizer *sy, struct st_rec *r)
{
	for (int j = 0; r->frames && j < r->ev.nframes; j++) {
		struct st_frame *f = &r->frames[j];
		if (!f->sym && f->obj)
			f->sym = st_symbolize(sy, f->obj, f->off, 1, &f->sym_off);
	}
}

void st_symbolize_trace(struct st_symbolizer *sy, struct st_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		st_symbolize_rec(sy, t->recs[i]);
}
