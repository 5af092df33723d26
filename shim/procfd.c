/* SPDX-License-Identifier: MIT */
/* procfd.c - the numbered entries of a /proc directory (see procfd.h).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "procfd.h"

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static bool number_of(const char *s, long *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

int st_dir_numbers(int dir, bool (*fn)(int, const char *, long, void *), void *arg)
{
	char buf[4096];

	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			long number;
			off += d->d_reclen;
			if (number_of(d->d_name, &number) && !fn(dir, d->d_name, number, arg))
				return 0;
		}
	}
}
