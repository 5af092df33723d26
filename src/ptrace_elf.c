/* SPDX-License-Identifier: MIT */
/* ptrace_elf.c - does a program need the ptrace back end? (see ptrace.h)
 *
 * Owns: reading the program's ELF headers with libelf: no PT_INTERP (a
 * static executable, which no preloaded library enters), or a Go binary
 * (a "Go" note, or a .go.buildinfo section: Go makes its system calls
 * itself, even with cgo).  Never runs the program, never writes.
 */
#define _GNU_SOURCE
#include "ptrace.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* path as execvp would find it; false when there is none */
static bool lookup(const char *name, char *out, size_t cap)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(out, cap, "%s", name);
		return true;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		int n = (int)(end - path);
		if ((size_t)snprintf(out, cap, "%.*s%s%s", n, path, n ? "/" : "", name) < cap &&
		    access(out, X_OK) == 0)
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

/* a note section holding a note of owner "Go" */
static bool go_note(Elf_Data *data)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0)
		if ((nh.n_namesz == 3 || nh.n_namesz == 4) &&	/* Go's linker writes "Go\0\0" */
		    !memcmp((const char *)data->d_buf + name_off, "Go", 3))
			return true;
	return false;
}

static const char *kind(Elf *e)
{
	size_t nph, shstr;
	bool interp = false;
	Elf_Scn *scn = NULL;

	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0)
		return NULL;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
			interp = true;
	}
	if (elf_getshdrstrndx(e, &shstr) == 0) {
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			const char *name;
			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(e, shstr, sh.sh_name);
			if (name && !strcmp(name, ".go.buildinfo"))
				return "go";
			if (sh.sh_type == SHT_NOTE) {
				Elf_Data *data = elf_getdata(scn, NULL);
				if (data && go_note(data))
					return "go";
			}
		}
	}
	{
		GElf_Ehdr eh;
		/* a shared object with no interpreter is the loader itself, or a
		 * static-pie: only ET_EXEC and ET_DYN executables are asked */
		if (!gelf_getehdr(e, &eh) || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
			return NULL;
	}
	return interp ? NULL : "static";
}

const char *st_ptrace_needed(const char *name)
{
	char path[PATH_MAX];
	const char *k = NULL;
	Elf *e;
	int fd;

	if (!lookup(name, path, sizeof(path)))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (e) {
		k = kind(e);
		elf_end(e);
	}
	close(fd);
	return k;
}
