/* SPDX-License-Identifier: MIT */
/* outfile.c - opening an output path safely (see outfile.h).
 *
 * The path is walked one directory at a time from a descriptor (O_PATH),
 * so that every check is made on the object that is then opened, not on
 * whatever the name leads to a moment later.  The rules copy the kernel's
 * may_create_in_sticky() and may_follow_link() (fs/namei.c) at their
 * strictest, so they hold whatever fs.protected_* say.
 * Runs inside the traced program: no malloc (the scratch for the path is a
 * mapping, not the stack, which may be a small signal stack), no stdio,
 * no locks.
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40		/* as the kernel's MAXSYMLINKS */
#define SCRATCH 8192		/* the path and the link targets spliced into it */
#define OPEN_FLAGS (O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

bool st_outfile_mode(const char *s, mode_t *out)
{
	unsigned v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return false;
		v = v * 8 + (unsigned)(*s - '0');
		if (v > 07777)
			return false;
	}
	if ((v & ~0666u) || (v & 0600u) != 0600u)
		return false;
	*out = (mode_t)v;
	return true;
}

/* N of decimal digits s (all of it), -1 when s is not such a number or
 * above INT_MAX */
static int descriptor_number(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

int st_outfile_fd(const char *name)
{
	static const char *const forms[] = { "fd:", "/dev/fd/", "/proc/self/fd/" };

	if (!strcmp(name, "-") || !strcmp(name, "/dev/stdout"))
		return 1;
	if (!strcmp(name, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t k = strlen(forms[i]);
		int n;

		if (strncmp(name, forms[i], k))
			continue;
		n = descriptor_number(name + k);
		if (n >= 0)
			return n;
		return i ? -1 : -2;	/* /dev/fd/x: a path like any other */
	}
	return -1;
}

static void drop(const struct st_outfile *how, int fd)
{
	int e = errno;

	if (fd >= 0)
		(how->close_fd ? how->close_fd : close)(fd);
	errno = e;
}

/* A directory where others may create and delete names: sticky, and
 * writable by its group or by anyone (/tmp, /var/tmp, /dev/shm). */
static bool shared_sticky(const struct stat *dir)
{
	return (dir->st_mode & S_ISVTX) && (dir->st_mode & (S_IWGRP | S_IWOTH));
}

/* Owned by neither this user nor the directory's owner. */
static bool foreign(uid_t uid, const struct stat *dir)
{
	return uid != geteuid() && uid != dir->st_uid;
}

static int fail(int e, const char **why, const char *reason)
{
	errno = e;
	*why = reason;
	return -1;
}

static bool refuse(int e, const char **why, const char *reason)
{
	fail(e, why, reason);
	return false;
}

/* May an existing object st in directory dir be written to? */
static bool acceptable(const struct stat *st, const struct stat *dir, const char **why)
{
	if (S_ISLNK(st->st_mode))
		return refuse(ELOOP, why, "a symbolic link");
	if (S_ISDIR(st->st_mode))
		return refuse(EISDIR, why, "a directory");
	if (S_ISSOCK(st->st_mode))
		return refuse(ENXIO, why, "a socket");
	if (shared_sticky(dir) && (S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode)) && foreign(st->st_uid, dir))
		return refuse(EACCES, why, "owned by another user, in a sticky directory");
	if (S_ISREG(st->st_mode) && st->st_nlink > 1 && shared_sticky(dir))
		return refuse(EACCES, why, "a file with other hard links, in a sticky directory");
	if (S_ISREG(st->st_mode) && st->st_nlink > 1 && st->st_uid != geteuid())
		return refuse(EACCES, why, "another user's file with other hard links");
	return true;
}

/* The directory that holds path's last component, as an O_PATH
 * descriptor; *base is that component.  Links among the directories are
 * followed (at most MAX_LINKS) unless the kernel's protected_symlinks
 * would refuse them: a link in a shared sticky directory owned by neither
 * this user nor the directory's owner.  The components still to walk are
 * kept at the end of buf; a link's target is read in front of them. */
static int open_dir(const char *path, const struct st_outfile *how, char *buf, size_t cap,
		    const char **base, const char **why)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	char *rem;
	int dfd, links = 0;

	*base = slash ? slash + 1 : path;
	if (!**base)
		return fail(EISDIR, why, "a directory");
	if (dlen + 1 > cap || strlen(*base) > NAME_MAX)
		return fail(ENAMETOOLONG, why, "the path is too long");
	rem = buf + cap - dlen - 1;
	memcpy(rem, path, dlen);
	rem[dlen] = '\0';
	dfd = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	while (*rem) {
		char *comp = rem, *end;
		struct stat st, ds;
		ssize_t n;
		size_t room;
		int fd;

		while (*comp == '/')
			comp++;
		if (!*comp)
			break;
		end = strchrnul(comp, '/');
		rem = *end ? end + 1 : end;
		*end = '\0';
		if (!strcmp(comp, "."))
			continue;
		fd = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0)
			goto out;
		if (S_ISDIR(st.st_mode)) {
			drop(how, dfd);
			dfd = fd;
			continue;
		}
		if (!S_ISLNK(st.st_mode)) {
			drop(how, fd);
			fail(ENOTDIR, why, "a component of the path is not a directory");
			goto out;
		}
		if (fstat(dfd, &ds) != 0) {
			drop(how, fd);
			goto out;
		}
		if (shared_sticky(&ds) && foreign(st.st_uid, &ds)) {
			drop(how, fd);
			fail(EACCES, why, "it goes through a symbolic link of another user in a sticky directory");
			goto out;
		}
		if (++links > MAX_LINKS) {
			drop(how, fd);
			fail(ELOOP, why, "too many symbolic links");
			goto out;
		}
		/* the target, then '/', in front of what is left to walk; what
		 * lies before rem has been walked already */
		room = (size_t)(rem - buf);
		n = readlinkat(fd, "", buf, room);
		drop(how, fd);
		if (n < 0)
			goto out;
		if ((size_t)n + 1 > room) {
			fail(ENAMETOOLONG, why, "the path is too long");
			goto out;
		}
		memmove(rem - n - 1, buf, (size_t)n);
		rem[-1] = '/';
		rem -= n + 1;
		if (rem[0] == '/') {
			drop(how, dfd);
			dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0)
				return -1;
		}
	}
	return dfd;
out:
	drop(how, dfd);
	return -1;
}

/* Why an open of an existing st failed, in words. */
static const char *open_failure(int e, const struct stat *st)
{
	if (e == ENXIO && S_ISFIFO(st->st_mode))
		return "a FIFO nobody reads";
	if (e == ELOOP)
		return "a symbolic link";
	if (e == EISDIR)
		return "a directory";
	return NULL;
}

/* Makes writes on fd wait (a regular file, where O_NONBLOCK means nothing
 * but for leases, or a command's report). */
static void set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int open_in(int dfd, const struct stat *ds, const char *base, const struct st_outfile *how,
		   const char **why)
{
	mode_t mode = how->mode ? how->mode & 07777 : ST_OUT_MODE_DEFAULT;

	/* a name another process removes or replaces between the steps is
	 * looked at again, a few times */
	for (int tries = 0; tries < 4; tries++) {
		struct stat st0, st;
		int fd = openat(dfd, base, OPEN_FLAGS | O_CREAT | O_EXCL, mode);

		if (fd >= 0) {
			/* new, and ours: the exact mode, whatever the umask */
			if (fchmod(fd, mode) != 0 && errno != EPERM && errno != EROFS && errno != EOPNOTSUPP) {
				drop(how, fd);
				return -1;
			}
			set_blocking(fd);
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		/* it exists: judged before it is opened (opening a FIFO wakes
		 * its reader, opening a device may act), then again after */
		if (fstatat(dfd, base, &st0, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (!acceptable(&st0, ds, why))
			return -1;
		fd = openat(dfd, base, OPEN_FLAGS);
		if (fd < 0) {
			int e = errno;
			if (e == ENOENT)
				continue;
			*why = open_failure(e, &st0);
			errno = e;
			return -1;
		}
		if (fstat(fd, &st) != 0) {
			drop(how, fd);
			return -1;
		}
		if (st.st_dev != st0.st_dev || st.st_ino != st0.st_ino) {
			drop(how, fd);	/* replaced meanwhile */
			continue;
		}
		if (!acceptable(&st, ds, why)) {
			drop(how, fd);
			return -1;
		}
		if ((how->flags & ST_OUT_TRUNC) && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
			drop(how, fd);
			return -1;
		}
		if (S_ISREG(st.st_mode) || (how->flags & ST_OUT_BLOCK))
			set_blocking(fd);
		return fd;
	}
	return fail(EAGAIN, why, "it kept changing while it was opened");
}

int st_outfile_open(const char *path, const struct st_outfile *how, const char **why)
{
	static const struct st_outfile defaults;
	const char *base = NULL, *reason = NULL;
	struct stat ds;
	char *buf;
	int dfd, fd = -1, e;

	if (!how)
		how = &defaults;
	if (!path || !*path) {
		*why = "an empty path";
		errno = ENOENT;
		return -1;
	}
	buf = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		*why = strerrordesc_np(errno);
		return -1;
	}
	dfd = open_dir(path, how, buf, SCRATCH, &base, &reason);
	if (dfd >= 0) {
		if (fstat(dfd, &ds) == 0)
			fd = open_in(dfd, &ds, base, how, &reason);
		drop(how, dfd);
	}
	e = errno;
	munmap(buf, SCRATCH);
	if (fd < 0) {
		*why = reason ? reason : strerrordesc_np(e);
		if (!*why)
			*why = "cannot be opened";
	}
	errno = e;
	return fd;
}
