/* SPDX-License-Identifier: MIT */
/* symbolize.c - ELF symbol lookup for stack frames (see symbolize.h).
 *
 * Owns: one cache entry per object: its function symbols sorted by
 * address, from the best table found (a debug file's .symtab, the
 * object's .symtab, its .dynsym).  Objects that cannot be read are cached
 * as empty, so each is opened once.  Must never run inside the traced
 * program, never wait on what is not a regular file (a FIFO, a device: the
 * paths come from the trace), and never print: a frame it cannot name
 * stays unnamed.
 */
#define _GNU_SOURCE
#include "symbolize.h"
#include "reader.h"

#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBELF
#include <gelf.h>
#include <libelf.h>
#endif

struct sym {
	uint64_t addr, size;
	char *name;
};

struct object {
	char *path;
	struct sym *syms;
	size_t nsyms;
	bool exported_only;	/* names from .dynsym: the nearest one may be far */
};

struct st_symbolizer {
	struct object *objs;
	size_t nobjs, cap;
};

struct st_symbolizer *st_symbolizer_new(void)
{
#ifdef HAVE_LIBELF
	elf_version(EV_CURRENT);
#endif
	return calloc(1, sizeof(struct st_symbolizer));
}

void st_symbolizer_free(struct st_symbolizer *sy)
{
	if (!sy)
		return;
	for (size_t i = 0; i < sy->nobjs; i++) {
		for (size_t j = 0; j < sy->objs[i].nsyms; j++)
			free(sy->objs[i].syms[j].name);
		free(sy->objs[i].syms);
		free(sy->objs[i].path);
	}
	free(sy->objs);
	free(sy);
}

#ifdef HAVE_LIBELF
static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The symbols of one table (SHT_SYMTAB or SHT_DYNSYM) of an open ELF. */
static bool read_table(Elf *elf, Elf64_Word type, struct object *o)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			struct sym *grown;
			if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_value || s.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			grown = realloc(o->syms, (o->nsyms + 1) * sizeof(*o->syms));
			if (!grown)
				return false;
			o->syms = grown;
			o->syms[o->nsyms].addr = s.st_value;
			o->syms[o->nsyms].size = s.st_size;
			o->syms[o->nsyms].name = strdup(name);
			if (!o->syms[o->nsyms].name)
				return false;
			o->nsyms++;
		}
		return o->nsyms > 0;
	}
	return false;
}

/* "ab/cdef..." of the object's GNU build-id, or "" */
static void build_id(Elf *elf, char *out, size_t cap)
{
	Elf_Scn *scn = NULL;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
				const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;
				size_t k = 0;
				for (size_t i = 0; i < nh.n_descsz && k + 4 < cap; i++) {
					k += (size_t)snprintf(out + k, cap - k, "%02x", d[i]);
					if (i == 0)
						out[k++] = '/';
				}
				out[k] = '\0';
				return;
			}
		}
	}
}

static bool load_file(const char *path, Elf64_Word type, struct object *o, char *bid, size_t bidcap)
{
	/* a trace may name any path: never wait on a FIFO or read a device */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	Elf *elf;
	bool ok = false;

	if (bid)
		bid[0] = '\0';
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		if (bid)
			build_id(elf, bid, bidcap);
		ok = read_table(elf, type, o);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

static void load(struct object *o)
{
	char bid[128], dbg[4096];

	/* the object's own .symtab, noting its build-id on the way */
	if (load_file(o->path, SHT_SYMTAB, o, bid, sizeof(bid)))
		goto sort;
	/* a separate debug file */
	if (bid[0]) {
		snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%s.debug", bid);
		if (load_file(dbg, SHT_SYMTAB, o, NULL, 0))
			goto sort;
	}
	snprintf(dbg, sizeof(dbg), "/usr/lib/debug%s.debug", o->path);
	if (load_file(dbg, SHT_SYMTAB, o, NULL, 0))
		goto sort;
	/* exported names only */
	if (load_file(o->path, SHT_DYNSYM, o, NULL, 0))
		o->exported_only = true;
sort:
	if (o->nsyms)
		qsort(o->syms, o->nsyms, sizeof(*o->syms), by_addr);
}
#else
static void load(struct object *o)
{
	(void)o;
}
#endif

static struct object *object(struct st_symbolizer *sy, const char *path)
{
	struct object *o;

	for (size_t i = 0; i < sy->nobjs; i++)
		if (!strcmp(sy->objs[i].path, path))
			return &sy->objs[i];
	if (sy->nobjs == sy->cap) {
		size_t cap = sy->cap ? sy->cap * 2 : 16;
		struct object *grown = realloc(sy->objs, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		sy->objs = grown;
		sy->cap = cap;
	}
	o = &sy->objs[sy->nobjs];
	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path)
		return NULL;
	sy->nobjs++;
	load(o);
	return o;
}

void st_symbolize_trace(struct st_symbolizer *sy, struct st_trace *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct st_rec *r = t->recs[i];
		for (int j = 0; r->frames && j < r->ev.nframes; j++) {
			struct st_frame *f = &r->frames[j];
			if (!f->sym && f->obj)
				f->sym = st_symbolize(sy, f->obj, f->off, 1, &f->sym_off);
		}
	}
}

const char *st_symbolize(struct st_symbolizer *sy, const char *obj, uint64_t off, int ret_addr,
			 uint64_t *sym_off)
{
	struct object *o;
	uint64_t at = ret_addr && off ? off - 1 : off;
	size_t lo = 0, hi;
	const struct sym *best = NULL;

	if (!sy || !obj || !*obj || !(o = object(sy, obj)) || !o->nsyms)
		return NULL;
	hi = o->nsyms;
	while (lo < hi) {	/* the last symbol at or below `at` */
		size_t mid = lo + (hi - lo) / 2;
		if (o->syms[mid].addr <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	best = &o->syms[lo - 1];
	/* inside it; or, with exported names only, the nearest one before */
	if (best->size && at >= best->addr + best->size && !o->exported_only) {
		/* an inner alias of equal address may have the size */
		return NULL;
	}
	*sym_off = off - best->addr;
	return best->name;
}
