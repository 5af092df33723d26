/* SPDX-License-Identifier: MIT */
/* symbolize.c - ELF symbol lookup for stack frames (see symbolize.h).
 *
 * Owns: one cache entry per object: its function symbols sorted by
 * address, from the best table found (a debug file's .symtab, the
 * object's .symtab, its .dynsym).  Objects that cannot be read are cached
 * as empty, so each is opened once.  The paths come from the trace, so
 * an object may be hostile: nothing is handed to libelf (which allocates
 * what the headers claim) before the ELF header's section count and each
 * section's size are checked against what the file really holds (a sparse
 * file claims gigabytes on a few kilobytes of disk) and against sizes no
 * real object reaches; such an object is refused with one message on
 * stderr naming it (escaped).  Source lines come from the DWARF line
 * tables of the object (or of the debug file its symbols came from), read
 * with elfutils' libdw once a frame of it asks, after the same checks
 * and a check of every .debug_* section's size (compressed ones too);
 * C++ names are demangled with libiberty's cplus_demangle when a frame is
 * named by them.  Must never run inside the traced program,
 * never wait on what is not a regular file (a FIFO, a device), and never
 * print anything else: a frame it cannot name stays unnamed.
 */
#define _GNU_SOURCE
#include "symbolize.h"
#include "buf.h"
#include "reader.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBELF
#include <gelf.h>
#include <libelf.h>
#endif
#ifdef HAVE_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#endif
#ifdef HAVE_LIBIBERTY
#include <libiberty/demangle.h>
#endif

struct sym {
	uint64_t addr, size;
	char *name;
	bool demangled;		/* name was looked at by the demangler */
};

struct object {
	char *path;
	struct sym *syms;
	size_t nsyms, cap;
	bool exported_only;	/* names from .dynsym: the nearest one may be far */
	bool refused;		/* said once why it is not symbolized */
	bool note_refused;	/* said once why its build-id is not read */
	bool lines_refused;	/* said once why its source lines are not read */
	char *dwarf_path;	/* the file its symbols came from (its DWARF), NULL: path */
	bool dwarf_tried;	/* its DWARF was looked for */
#ifdef HAVE_LIBDW
	int dw_fd;
	Elf *dw_elf;
	Dwarf *dw;		/* NULL: no source lines */
#endif
	char **files;		/* source paths handed out (joined to their unit's directory) */
	size_t nfiles, capfiles;
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
		free(sy->objs[i].dwarf_path);
		for (size_t j = 0; j < sy->objs[i].nfiles; j++)
			free(sy->objs[i].files[j]);
		free(sy->objs[i].files);
#ifdef HAVE_LIBDW
		if (sy->objs[i].dw)
			dwarf_end(sy->objs[i].dw);
		if (sy->objs[i].dw_elf)
			elf_end(sy->objs[i].dw_elf);
		if (sy->objs[i].dw)
			close(sy->objs[i].dw_fd);
#endif
	}
	free(sy->objs);
	free(sy);
}

#ifdef HAVE_LIBELF
/* What no real object reaches (the largest seen: a 20 MB .strtab, 6 MB
 * .symtab, 55 KB of notes, 74 sections); a bigger claim is refused before
 * libelf allocates for it. */
#define MAX_SECTIONS 65536
#define MAX_TABLE (512ull << 20)	/* a symbol table or its string table */
#define MAX_NOTES (1ull << 20)		/* an SHT_NOTE section */
#define MAX_SYMS (16u << 20)		/* function symbols kept of one object */
#define HOLE_STEPS 4096			/* extents looked at in one range */

/* One open object being read. */
struct elf_file {
	const char *path;
	int fd;
	struct stat st;
	struct object *o;
	bool lines;		/* opened for its DWARF */
};

/* "socktrace: OBJ: not symbolized: why", once per object; for its notes
 * (the build-id), "OBJ: build-id not read: why", and symbols are still
 * read; for its DWARF (f->lines), "OBJ: no source lines: why", and the
 * frames keep their names. */
static void refuse(struct elf_file *f, bool note, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(struct elf_file *f, bool note, const char *fmt, ...)
{
	char why[256], shown[1024];
	bool *said = f->lines ? &f->o->lines_refused : note ? &f->o->note_refused : &f->o->refused;
	struct st_buf b;
	va_list ap;

	if (*said)
		return;
	*said = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	st_buf_init(&b, shown, sizeof(shown));
	st_buf_esc(&b, f->path, 0);
	st_buf_finish(&b);
	fprintf(stderr, "socktrace: %s: %s: %s\n", shown,
		f->lines ? "no source lines" : note ? "build-id not read" : "not symbolized", why);
}

/* Does the file hold [off, off + size): inside it, and data rather than
 * a hole for at least half of it (a sparse file claims what it does not
 * hold; a real object may have a hole where a copy found zeros)?  Where
 * the file system cannot tell holes, its size is all there is. */
static bool backed(const struct elf_file *f, uint64_t off, uint64_t size)
{
	uint64_t end, pos, data = 0;

	if (off > (uint64_t)f->st.st_size || size > (uint64_t)f->st.st_size - off)
		return false;
	if (size < (1u << 20))
		return true;	/* small: bounded by the caps anyway */
	end = off + size;
	pos = off;
	for (int i = 0; i < HOLE_STEPS && pos < end && data < size / 2; i++) {
		off_t d = lseek(f->fd, (off_t)pos, SEEK_DATA), h;

		if (d < 0)
			return errno != ENXIO;	/* ENXIO: only a hole up to the end */
		if ((uint64_t)d >= end)
			break;
		h = lseek(f->fd, d, SEEK_HOLE);
		if (h < 0)
			return true;	/* no holes known here */
		data += ((uint64_t)h < end ? (uint64_t)h : end) - (uint64_t)d;
		pos = (uint64_t)h;
	}
	return data >= size / 2;
}

/* The section table the ELF header claims, checked before elf_begin
 * (which allocates for every section claimed). */
static bool sane_header(struct elf_file *f)
{
	unsigned char e[sizeof(Elf64_Ehdr)];
	uint64_t shoff, shnum, entsize, want;
	ssize_t n = pread(f->fd, e, sizeof(e), 0);

	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(e, ELFMAG, SELFMAG))
		return true;	/* not ELF: libelf says so itself */
	if (e[EI_CLASS] == ELFCLASS64 && n >= (ssize_t)sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr h;
		memcpy(&h, e, sizeof(h));
		shoff = h.e_shoff;
		shnum = h.e_shnum;
		entsize = h.e_shentsize;
		want = sizeof(Elf64_Shdr);
	} else if (e[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;
		memcpy(&h, e, sizeof(h));
		shoff = h.e_shoff;
		shnum = h.e_shnum;
		entsize = h.e_shentsize;
		want = sizeof(Elf32_Shdr);
	} else {
		return true;
	}
	if (!shoff)
		return true;	/* no sections */
	if (entsize != want) {
		refuse(f, false, "section headers of %" PRIu64 " bytes", entsize);
		return false;
	}
	if (!shnum) {
		/* extended numbering: the count is section 0's sh_size */
		if (want == sizeof(Elf64_Shdr)) {
			Elf64_Shdr s0;
			if (pread(f->fd, &s0, sizeof(s0), (off_t)shoff) != (ssize_t)sizeof(s0)) {
				refuse(f, false, "its section headers are not in the file");
				return false;
			}
			shnum = s0.sh_size;
		} else {
			Elf32_Shdr s0;
			if (pread(f->fd, &s0, sizeof(s0), (off_t)shoff) != (ssize_t)sizeof(s0)) {
				refuse(f, false, "its section headers are not in the file");
				return false;
			}
			shnum = s0.sh_size;
		}
	}
	if (shnum > MAX_SECTIONS) {
		refuse(f, false, "it claims %" PRIu64 " sections, more than any real object has", shnum);
		return false;
	}
	if (!backed(f, shoff, shnum * entsize)) {
		refuse(f, false, "its %" PRIu64 " section headers are not in the file", shnum);
		return false;
	}
	return true;
}

/* A section's data, before libelf reads it: of a sane size, and held by
 * the file. */
static bool sane_section(struct elf_file *f, const GElf_Shdr *sh, uint64_t cap)
{
	bool note = sh->sh_type == SHT_NOTE;

	if (sh->sh_type == SHT_NOBITS)
		return false;
	if (sh->sh_size > cap) {
		refuse(f, note, "a section claims %" PRIu64 " bytes, more than any real object's", (uint64_t)sh->sh_size);
		return false;
	}
	if (!backed(f, sh->sh_offset, sh->sh_size)) {
		refuse(f, note, "a section claims %" PRIu64 " bytes the file does not hold (%" PRIu64 " bytes on disk)",
		       (uint64_t)sh->sh_size, (uint64_t)f->st.st_blocks * 512);
		return false;
	}
	return true;
}

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One more symbol, the array grown geometrically. */
static bool add_sym(struct object *o, uint64_t addr, uint64_t size, const char *name)
{
	if (o->nsyms == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct sym *grown = realloc(o->syms, cap * sizeof(*grown));
		if (!grown)
			return false;
		o->syms = grown;
		o->cap = cap;
	}
	o->syms[o->nsyms].addr = addr;
	o->syms[o->nsyms].size = size;
	o->syms[o->nsyms].demangled = false;
	o->syms[o->nsyms].name = strdup(name);
	if (!o->syms[o->nsyms].name)
		return false;
	o->nsyms++;
	return true;
}

/* The symbols of one table (SHT_SYMTAB or SHT_DYNSYM) of an open ELF. */
static bool read_table(Elf *elf, Elf64_Word type, struct elf_file *f)
{
	struct object *o = f->o;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, strsh;
		Elf_Scn *strscn;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		strscn = elf_getscn(elf, sh.sh_link);
		if (!sane_section(f, &sh, MAX_TABLE) || !strscn || !gelf_getshdr(strscn, &strsh) ||
		    !sane_section(f, &strsh, MAX_TABLE))
			return false;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n && o->nsyms < MAX_SYMS; i++) {
			GElf_Sym s;
			const char *name;
			if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_value || s.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (!add_sym(o, s.st_value, s.st_size, name))
				return false;
		}
		return o->nsyms > 0;
	}
	return false;
}

/* "ab/cdef..." of the object's GNU build-id, or "" */
static void build_id(Elf *elf, char *out, size_t cap, struct elf_file *f)
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
		if (!sane_section(f, &sh, MAX_NOTES))
			continue;	/* said; the symbols may still be read */
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
	struct elf_file f = { path, -1, { 0 }, o, false };
	Elf *elf;
	bool ok = false;

	if (bid)
		bid[0] = '\0';
	f.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (f.fd < 0)
		return false;
	if (fstat(f.fd, &f.st) || !S_ISREG(f.st.st_mode) || !sane_header(&f)) {
		close(f.fd);
		return false;
	}
	elf = elf_begin(f.fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		if (bid)
			build_id(elf, bid, bidcap, &f);
		ok = read_table(elf, type, &f);
	}
	if (elf)
		elf_end(elf);
	close(f.fd);
	return ok;
}

/* An absolute path without a "." or ".." component: one that, put under
 * /usr/lib/debug, stays there (a trace names objects as it likes). */
static bool plain_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; *c; c++) {
		if (c[0] != '/')
			continue;
		if (c[1] == '.' && (c[2] == '/' || !c[2]))
			return false;
		if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || !c[3]))
			return false;
	}
	return true;
}

static void load(struct object *o)
{
	char bid[128], dbg[4096];

	/* the object's own .symtab, noting its build-id on the way */
	if (load_file(o->path, SHT_SYMTAB, o, bid, sizeof(bid)))
		goto sort;
	/* (a debug file found below holds the DWARF too) */
	if (o->refused && !o->nsyms && !bid[0])
		return;	/* a hostile object: not read again */
	/* a separate debug file */
	if (bid[0]) {
		snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%s.debug", bid);
		if (load_file(dbg, SHT_SYMTAB, o, NULL, 0)) {
			o->dwarf_path = strdup(dbg);
			goto sort;
		}
	}
	if (plain_path(o->path)) {
		snprintf(dbg, sizeof(dbg), "/usr/lib/debug%s.debug", o->path);
		if (load_file(dbg, SHT_SYMTAB, o, NULL, 0)) {
			o->dwarf_path = strdup(dbg);
			goto sort;
		}
	}
	/* exported names only */
	if (!o->refused && load_file(o->path, SHT_DYNSYM, o, NULL, 0))
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

#ifdef HAVE_LIBDW
/* Every DWARF section of the object: of a sane size, held by the file,
 * and, compressed, claiming no more than a real one holds (libdw
 * allocates what the compression header claims). */
static bool sane_debug(struct elf_file *f, Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8))
			continue;
		if (sh.sh_type == SHT_NOBITS)
			continue;	/* stripped: no data, nothing to read */
		if (!sane_section(f, &sh, MAX_TABLE))
			return false;
		if (sh.sh_flags & SHF_COMPRESSED) {
			GElf_Chdr ch;

			if (!gelf_getchdr(scn, &ch) || ch.ch_size > MAX_TABLE) {
				refuse(f, false, "a compressed section claims more than any real object's");
				return false;
			}
		} else if (!strncmp(name, ".zdebug_", 8)) {
			refuse(f, false, "an old-style compressed section (.zdebug)");
			return false;
		}
	}
	return true;
}

/* The DWARF of the object (of its debug file when its symbols came from
 * one), opened once; NULL without one. */
static Dwarf *dwarf_of(struct object *o)
{
	struct elf_file f = { o->dwarf_path ? o->dwarf_path : o->path, -1, { 0 }, o, true };
	Elf *elf = NULL;
	Dwarf *dw = NULL;

	if (o->dwarf_tried)
		return o->dw;
	o->dwarf_tried = true;
	if (o->refused || !o->nsyms || o->exported_only)
		return NULL;	/* no symbols read from it: no DWARF either */
	f.fd = open(f.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (f.fd < 0)
		return NULL;
	if (!fstat(f.fd, &f.st) && S_ISREG(f.st.st_mode) && sane_header(&f))
		elf = elf_begin(f.fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && sane_debug(&f, elf))
		dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		if (elf)
			elf_end(elf);
		close(f.fd);
		return NULL;
	}
	o->dw_fd = f.fd;
	o->dw_elf = elf;
	o->dw = dw;
	return dw;
}

/* The compilation unit holding address at: from .debug_aranges, else by
 * walking the units (compilers no longer always write aranges). */
static bool unit_of(Dwarf *dw, uint64_t at, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(dw, at, cu))
		return true;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dw, off + hsize, cu) && dwarf_haspc(cu, at) > 0)
			return true;
		off = next;
	}
	return false;
}

/* A source path as addr2line shows it: a relative one joined to its unit's
 * compilation directory; kept by the object, each path once. */
static const char *keep_path(struct object *o, Dwarf_Die *cu, const char *src)
{
	Dwarf_Attribute a;
	const char *dir = src[0] == '/' ? NULL : dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
	size_t need = strlen(src) + (dir ? strlen(dir) + 2 : 1);
	char *p;

	for (size_t i = 0; i < o->nfiles; i++) {
		const char *f = o->files[i];
		size_t dl = dir ? strlen(dir) : 0;

		if (dir ? !strncmp(f, dir, dl) && f[dl] == '/' && !strcmp(f + dl + 1, src) : !strcmp(f, src))
			return f;
	}
	if (o->nfiles == o->capfiles) {
		size_t cap = o->capfiles ? 2 * o->capfiles : 16;
		char **grown = realloc(o->files, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		o->files = grown;
		o->capfiles = cap;
	}
	p = malloc(need);
	if (!p)
		return NULL;
	if (dir)
		snprintf(p, need, "%s/%s", dir, src);
	else
		memcpy(p, src, need);
	o->files[o->nfiles++] = p;
	return p;
}

/* The source file and line of address `at` of the object, as addr2line
 * gives them; NULL when its DWARF does not say. */
static const char *source_line(struct object *o, uint64_t at, int *line)
{
	Dwarf *dw = dwarf_of(o);
	Dwarf_Die cu;
	Dwarf_Line *l;
	const char *src;
	int n;

	if (!dw || !unit_of(dw, at, &cu) || !(l = dwarf_getsrc_die(&cu, at)) || dwarf_lineno(l, &n) || n <= 0 ||
	    !(src = dwarf_linesrc(l, NULL, NULL)) || !*src)
		return NULL;
	src = keep_path(o, &cu, src);
	if (src)
		*line = n;
	return src;
}
#else
static const char *source_line(struct object *o, uint64_t at, int *line)
{
	(void)o, (void)at, (void)line;
	return NULL;
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

void st_symbolize_rec(struct st_symbolizer *sy, struct st_rec *r)
{
	for (int j = 0; r->frames && j < r->ev.nframes; j++) {
		struct st_frame *f = &r->frames[j];
		struct object *o;

		if (!f->sym && f->obj)
			f->sym = st_symbolize(sy, f->obj, f->off, 1, &f->sym_off);
		if (f->obj && *f->obj && f->off && (o = object(sy, f->obj)))
			f->file = source_line(o, f->off - 1, &f->line);
	}
}

void st_symbolize_trace(struct st_symbolizer *sy, struct st_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		st_symbolize_rec(sy, t->recs[i]);
}

const char *st_symbolize(struct st_symbolizer *sy, const char *obj, uint64_t off, int ret_addr,
			 uint64_t *sym_off)
{
	struct object *o;
	uint64_t at = ret_addr && off ? off - 1 : off;
	size_t lo = 0, hi;
	struct sym *best = NULL;

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
#ifdef HAVE_LIBIBERTY
	/* a C++ name as people read it: "ns::Server::accept_one(int)" */
	if (!best->demangled) {
		char *d = !strncmp(best->name, "_Z", 2) ? cplus_demangle(best->name, DMGL_PARAMS | DMGL_ANSI | DMGL_GNU_V3) : NULL;

		best->demangled = true;
		if (d) {
			free(best->name);
			best->name = d;
		}
	}
#endif
	*sym_off = off - best->addr;
	return best->name;
}
