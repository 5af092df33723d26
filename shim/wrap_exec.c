/* SPDX-License-Identifier: MIT */
/* wrap_exec.c - a new process image: the exec family (execve, execv,
 * execvp, execvpe, execl, execlp, execle, fexecve, execveat) and
 * posix_spawn/posix_spawnp.
 *
 * Owns: what an exec does to the sockets.  Each tracked socket whose
 * descriptor is close-on-exec is recorded as closed by the exec (an `exec`
 * event, written before the real call: after it there is no one to write
 * it); the others pass to the new image, whose start event lists them as
 * inherited.  A failed exec is recorded with the descriptors it left open
 * ("kept"), which are tracked again.  glibc's exec variants call execve
 * inside libc, so each one is wrapped.  A spawned child (posix_spawn, and
 * popen's shell) may hold every inheritable socket: they are marked shared.
 * A program executed from another directory than the one a relative
 * SOCKTRACE_OUTPUT was taken from is given the joined path instead
 * (settings.c), in a copy of its environment: the caller's is never
 * changed.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"
#include "shmsink.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

extern char **environ;

#define MAX_ANNOUNCED 256

struct announced {
	int fds[MAX_ANNOUNCED];
	int n;
};

static void announce_one(int fd, struct st_sock *s, void *arg)
{
	struct announced *a = arg;
	struct st_closing c;
	struct st_event ev;
	int flags = REAL(fcntl)(fd, F_GETFD);

	if (flags < 0 || !(flags & FD_CLOEXEC) || a->n >= MAX_ANNOUNCED)
		return;
	if (!st_fd_same(fd, s)) {
		st_gone(fd, s, ST_CALL_exec);
		return;
	}
	a->fds[a->n++] = fd;
	st_close_prepare(fd, s, &c);
	st_end(&ev, st_begin(&ev, ST_CALL_exec), 0, 0);
	ev.dur_ns = -1;
	st_close_finish(fd, &c, &ev);
	st_emit(&ev);
}

enum exec_kind { X_EXECVE, X_EXECV, X_EXECVP, X_EXECVPE, X_FEXECVE, X_EXECVEAT };

struct exec_call {
	enum exec_kind kind;
	const char *path;
	int fd;
	char *const *argv;
	char *const *envp;
	int flags;
	bool raw;	/* syscall(SYS_execve or SYS_execveat) */
};

static int run_exec(const struct exec_call *x)
{
	switch (x->kind) {
	case X_EXECVE:
		return REAL(execve)(x->path, x->argv, x->envp);
	case X_EXECV:
		return REAL(execv)(x->path, x->argv);
	case X_EXECVP:
		return REAL(execvp)(x->path, x->argv);
	case X_EXECVPE:
		return REAL(execvpe)(x->path, x->argv, x->envp);
	case X_FEXECVE:
		return REAL(fexecve)(x->fd, x->argv, x->envp);
	case X_EXECVEAT:
		return REAL(execveat)(x->fd, x->path, x->argv, x->envp, x->flags);
	}
	errno = ENOSYS;
	return -1;
}

/* ---- the trace file of an image started from another directory ---- */

/* An environment for a new image: env's entries, with its
 * SOCKTRACE_OUTPUT entry replaced as st_output_env_for says (a relative
 * path this image took from a directory the program has left).  On the
 * stack when it fits, else mapped (never in a vfork child: the mapping
 * would stay in its parent); env itself when nothing is replaced, or no
 * room is found (the new image then writes where it did before). */
#define ENV_ON_STACK 256
struct new_env {
	char *stack[ENV_ON_STACK];
	char **map;
	size_t map_len;
};

static char *const *env_for_image(char *const *env, struct new_env *ne)
{
	static const char key[] = "SOCKTRACE_OUTPUT=";
	const char *repl = NULL;
	size_t n, at = 0;
	char **out;

	ne->map = NULL;
	if (!st_cfg.output_env[0] || !env)
		return env;
	for (n = 0; env[n]; n++)
		if (!repl && !strncmp(env[n], key, sizeof(key) - 1)) {
			/* the first is the one getenv finds */
			if (!(repl = st_output_env_for(env[n])))
				return env;
			at = n;
		}
	if (!repl)
		return env;
	if (n + 1 > ENV_ON_STACK) {
		void *m;

		if (st_vfork_child)
			return env;
		ne->map_len = (n + 1) * sizeof(char *);
		m = mmap(NULL, ne->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return env;
		ne->map = m;
	}
	out = ne->map ? ne->map : ne->stack;
	memcpy(out, env, n * sizeof(char *));
	out[at] = (char *)repl;
	out[n] = NULL;
	return out;
}

/* After an exec that failed: the mapped copy, if any, is given back. */
static void env_release(struct new_env *ne)
{
	if (ne->map)
		munmap(ne->map, ne->map_len);
	ne->map = NULL;
}

/* x with the environment env_for_image gives, into *y: execv and execvp
 * (which pass environ) become execve and execvpe with it. */
static const struct exec_call *exec_in_new_env(const struct exec_call *x, struct exec_call *y, struct new_env *ne)
{
	char *const *env = x->kind == X_EXECV || x->kind == X_EXECVP ? environ : x->envp;
	char *const *e = env_for_image(env, ne);

	if (e == env)
		return x;
	*y = *x;
	y->envp = e;
	if (x->kind == X_EXECV)
		y->kind = X_EXECVE;
	else if (x->kind == X_EXECVP)
		y->kind = X_EXECVPE;
	return y;
}

/* ---- an image the shim cannot enter ---- */

/* The value of NAME= in env (NULL: none). */
static const char *env_get(char *const *env, const char *name, size_t len)
{
	for (; env && *env; env++)
		if (!strncmp(*env, name, len) && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

/* The file path names for an exec that searches PATH as execvp does
 * (a name without a slash), into buf; path itself otherwise.  NULL when
 * no executable file is found (the exec will fail: nothing to say). */
static const char *resolve(const char *path, bool search, char *buf, size_t cap)
{
	const char *dirs, *p;

	if (!search || strchr(path, '/'))
		return path;
	dirs = getenv("PATH");
	if (!dirs)
		dirs = "/bin:/usr/bin";	/* glibc's default for execvp */
	for (p = dirs;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p), nl = strlen(path);
		struct stat st;

		if (dl + nl + 2 <= cap) {
			if (dl)
				memcpy(buf, p, dl);
			else
				buf[dl++] = '.';	/* an empty entry is the current directory */
			buf[dl] = '/';
			memcpy(buf + dl + 1, path, nl + 1);
			if (access(buf, X_OK) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
				return buf;
		}
		if (!*end)
			return NULL;
		p = end;
	}
}

/* Does the ELF file open on fd carry a Go build note (a Go program makes
 * its own system calls, even with libc loaded)? */
static bool go_note(int fd, const Elf64_Phdr *ph, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned char notes[4096];
		size_t len, off = 0;

		if (ph[i].p_type != PT_NOTE || !ph[i].p_filesz)
			continue;
		len = ph[i].p_filesz < sizeof(notes) ? (size_t)ph[i].p_filesz : sizeof(notes);
		if (pread(fd, notes, len, (off_t)ph[i].p_offset) != (ssize_t)len)
			continue;
		while (off + 12 <= len) {
			uint32_t nsz, dsz, type;
			memcpy(&nsz, notes + off, 4);
			memcpy(&dsz, notes + off + 4, 4);
			memcpy(&type, notes + off + 8, 4);
			/* owner "Go" (namesz 4 as Go's linker writes it, "Go\0\0";
			 * 3 would do too), type 4: the Go build ID */
			if ((nsz == 3 || nsz == 4) && type == 4 && off + 15 <= len &&
			    !memcmp(notes + off + 12, "Go", 3))
				return true;
			off += 12 + ((nsz + 3u) & ~3u) + ((dsz + 3u) & ~3u);
		}
	}
	return false;
}

/* Does the LD_PRELOAD value pre name the shim by a path the loader can
 * open from here?  A name without a slash is searched for by the loader
 * and taken as found; a path (as "./libsocktrace.so" or
 * "build/shim/libsocktrace.so", relative to a directory the program has
 * left) must lead to a readable file, or the loader skips it with a
 * warning and the image runs without the shim.  buf (cap bytes) is
 * scratch space. */
static bool preload_found(const char *pre, char *buf, size_t cap)
{
	/* the loader splits the list at spaces and colons */
	for (const char *p = pre; *p;) {
		size_t n = strcspn(p, " :");

		if (n && memmem(p, n, "libsocktrace", 12)) {
			if (!memchr(p, '/', n))
				return true;
			if (n < cap) {
				memcpy(buf, p, n);
				buf[n] = '\0';
				if (access(buf, R_OK) == 0)
					return true;
			}
		}
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/* Why the image of the file open on fd will not load the shim, or NULL
 * when it will or that cannot be told.  A script ("#!") is judged by its
 * interpreter: its path is put in interp (cap bytes; "" none) for the
 * caller to open, as the kernel does. */
static const char *file_reason(int fd, char *interp, size_t cap)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	struct stat st;
	bool has_interp = false;

	interp[0] = '\0';
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	if (pread(fd, &eh, 2, 0) == 2 && !memcmp(eh.e_ident, "#!", 2)) {
		/* a script (its set-ID bits and capabilities are ignored):
		 * "#!" [blanks] PATH [blanks ARG], within the first cap bytes */
		ssize_t got = pread(fd, interp, cap - 1, 0);
		size_t i = 2, n;

		if (got <= 2) {
			interp[0] = '\0';
			return NULL;
		}
		interp[got] = '\0';
		while (interp[i] == ' ' || interp[i] == '\t')
			i++;
		n = strcspn(interp + i, " \t\n");
		if (!interp[i + n] && (size_t)got == cap - 1)
			n = 0;	/* cut: the kernel would not find it either */
		memmove(interp, interp + i, n);
		interp[n] = '\0';
		return NULL;
	}
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		return "setuid";	/* the loader drops LD_PRELOAD's paths */
	/* file capabilities give a user other than root more than it has:
	 * the kernel runs the image in secure mode (AT_SECURE), and the
	 * loader drops LD_PRELOAD's paths as for set-user-ID */
	if (geteuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0)
		return "capabilities";
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return NULL;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return "32-bit";	/* cannot load this 64-bit library */
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff) !=
		    (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr)))
		return NULL;
	for (int i = 0; i < eh.e_phnum; i++)
		has_interp |= ph[i].p_type == PT_INTERP;
	return !has_interp ? "static" : go_note(fd, ph, eh.e_phnum) ? "go" : NULL;
}

/* Why the image the exec x starts will not load the shim, or NULL when it
 * will (or when that cannot be told: an unreadable file, an exec that will
 * fail).  Reads the LD_PRELOAD the new image gets, the file's ELF header
 * and program headers, and a script's interpreter (as deep as the kernel
 * follows them); runs before the exec, in the process, with no
 * allocation. */
static const char *untraced_reason(const struct exec_call *x)
{
	char buf[4096], interp[256];
	const char *file = NULL, *pre, *why = NULL;
	char *const *env = x->envp ? x->envp : environ;
	int fd;

	pre = env_get(env, "LD_PRELOAD", 10);
	if (!pre || !preload_found(pre, buf, sizeof(buf)))
		return "no LD_PRELOAD";
	switch (x->kind) {
	case X_FEXECVE:
		fd = x->fd;	/* the program's own: read, never closed */
		break;
	case X_EXECVEAT:
		fd = (x->flags & AT_EMPTY_PATH) && x->path && !*x->path ? x->fd :
									  openat(x->fd, x->path, O_RDONLY | O_CLOEXEC);
		break;
	default:
		file = x->path ? resolve(x->path, x->kind == X_EXECVP || x->kind == X_EXECVPE, buf, sizeof(buf)) :
				 NULL;
		fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
		break;
	}
	/* the kernel follows an interpreter's own "#!" four deep at most */
	for (int depth = 0; fd >= 0 && depth < 5; depth++) {
		why = file_reason(fd, interp, sizeof(interp));
		if (fd != x->fd)
			REAL(close)(fd);
		fd = -1;
		if (!why && interp[0])
			fd = open(interp, O_RDONLY | O_CLOEXEC);
	}
	if (fd >= 0 && fd != x->fd)
		REAL(close)(fd);
	return why;
}

/* An untraced event for the exec x when its image will not load the shim:
 * written before the exec, as there is no one after it to write it.  For
 * a spawned child (child > 0: posix_spawn), written by its parent after
 * the spawn, with the child's pid. */
static void announce_untraced(const struct exec_call *x, pid_t child)
{
	struct st_event ev;
	const char *why = untraced_reason(x);

	if (!why)
		return;
	st_end(&ev, st_begin(&ev, ST_CALL_untraced), 0, 0);
	ev.dur_ns = -1;
	ev.exe = x->path;
	ev.untraced_reason = why;
	if (child > 0)
		ev.child = child;
	st_emit(&ev);
}

/* A vfork child's exec of an image that will not load the shim.  The
 * child records nothing (it runs in its parent's memory, on its parent's
 * thread), so it leaves the reason here, thread-local, and its parent says
 * it once it resumes (st_vfork_untraced_say), as posix_spawn's parent
 * does; an exec that fails clears it before the child goes on.  The path
 * is copied: the child's stack is the parent's again once it resumes. */
static __thread struct {
	const char *why;
	char exe[256];
	bool cut, set;
} vfork_untraced;

static void vfork_untraced_note(const struct exec_call *x)
{
	const char *why = untraced_reason(x);
	size_t n = 0;

	vfork_untraced.set = false;
	if (!why)
		return;
	vfork_untraced.why = why;
	vfork_untraced.exe[0] = '\0';
	vfork_untraced.cut = false;
	if (x->path) {
		n = strnlen(x->path, sizeof(vfork_untraced.exe));
		vfork_untraced.cut = n == sizeof(vfork_untraced.exe);
		if (vfork_untraced.cut)
			n--;
		memcpy(vfork_untraced.exe, x->path, n);
		vfork_untraced.exe[n] = '\0';
	}
	vfork_untraced.set = true;
}

void st_vfork_untraced_say(pid_t child)
{
	struct st_event ev;

	if (!vfork_untraced.set)
		return;
	vfork_untraced.set = false;
	if (!st_active() || child <= 0)
		return;
	st_end(&ev, st_begin(&ev, ST_CALL_untraced), 0, 0);
	ev.dur_ns = -1;
	ev.exe = vfork_untraced.cut || !vfork_untraced.exe[0] ? NULL : vfork_untraced.exe;
	ev.exe_cut = vfork_untraced.cut;
	ev.untraced_reason = vfork_untraced.why;
	ev.child = child;
	st_emit(&ev);
}

static int do_exec(enum st_call call, const struct exec_call *given)
{
	struct announced a;
	struct st_event ev;
	struct new_env ne;
	struct exec_call y;
	const struct exec_call *x;
	int64_t t0;
	int ret, err;

	if (!st_active()) {
		if (!st_vfork_child)
			return run_exec(given);
		/* a vfork child records nothing, but its next image gets a ring,
		 * and one that will not load the shim is said by its parent */
		x = exec_in_new_env(given, &y, &ne);
		vfork_untraced_note(x);
		st_shm_before_exec();
		ret = run_exec(x);
		err = errno;
		vfork_untraced.set = false;	/* still here: the exec failed */
		st_shm_exec_failed();
		errno = err;
		return ret;
	}
	x = exec_in_new_env(given, &y, &ne);
	a.n = 0;
	st_fd_each(0, ST_FD_MAX - 1, announce_one, &a);
	announce_untraced(x, 0);
	st_shm_before_exec();	/* the new image adopts the ring reserved for it */
	t0 = st_begin(&ev, call);
	ret = run_exec(x);
	err = errno;
	env_release(&ne);
	st_shm_exec_failed();
	/* still here: the exec failed, and the close-on-exec sockets are open */
	for (int i = 0; i < a.n; i++)
		st_sock_discover(a.fds[i], call);
	st_end(&ev, t0, ret, err);
	ev.exe = x->path;
	ev.via_syscall = x->raw;
	if (a.n) {
		ev.kept = a.fds;
		ev.nkept = a.n;
	}
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct exec_call x = { X_EXECVE, path, -1, argv, envp, 0, false };
	return do_exec(ST_CALL_execve, &x);
}

ST_EXPORT int execv(const char *path, char *const argv[])
{
	struct exec_call x = { X_EXECV, path, -1, argv, NULL, 0, false };
	return do_exec(ST_CALL_execv, &x);
}

ST_EXPORT int execvp(const char *file, char *const argv[])
{
	struct exec_call x = { X_EXECVP, file, -1, argv, NULL, 0, false };
	return do_exec(ST_CALL_execvp, &x);
}

ST_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct exec_call x = { X_EXECVPE, file, -1, argv, envp, 0, false };
	return do_exec(ST_CALL_execvpe, &x);
}

ST_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct exec_call x = { X_FEXECVE, NULL, fd, argv, envp, 0, false };
	return do_exec(ST_CALL_fexecve, &x);
}

ST_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	struct exec_call x = { X_EXECVEAT, path, dirfd, argv, envp, flags, false };
	return do_exec(ST_CALL_execveat, &x);
}

/* The arguments are longs, as syscall(2) takes them; those that are
 * pointers are cast back. */
// NOLINTBEGIN(performance-no-int-to-ptr)
long st_exec_syscall(long number, const long a[6])
{
	/* a NULL environment is an empty one to the kernel (and to glibc's
	 * execve, which makes the call run_exec makes) */
	static char *const none[] = { NULL };
	struct exec_call x = { X_EXECVE, (const char *)a[0], -1, (char *const *)a[1], (char *const *)a[2], 0, true };

	if (number == SYS_execveat)
		x = (struct exec_call){ X_EXECVEAT, (const char *)a[1], (int)a[0], (char *const *)a[2],
					(char *const *)a[3], (int)a[4], true };
	if (!x.envp)
		x.envp = none;
	return do_exec(number == SYS_execveat ? ST_CALL_execveat : ST_CALL_execve, &x);
}
// NOLINTEND(performance-no-int-to-ptr)

/* The execl family: the arguments up to the NULL, as an argv on the stack
 * (glibc does the same).  libc declares arg non-null, yet execl(path, NULL)
 * is a call programs make: it is compared with NULL all the same. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
static size_t count_args(const char *arg, va_list ap)
{
	va_list c;
	size_t n = 1;

	va_copy(c, ap);
	if (arg)
		while (va_arg(c, const char *))
			n++;
	va_end(c);
	return n;
}

ST_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		const char *argv[n + 1];
		argv[0] = arg;
		for (size_t i = 1; i <= n; i++)
			argv[i] = arg ? va_arg(ap, const char *) : NULL;
		va_end(ap);
		{
			struct exec_call x = { X_EXECVE, path, -1, (char *const *)argv, environ, 0, false };
			return do_exec(ST_CALL_execl, &x);
		}
	}
}

ST_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		const char *argv[n + 1];
		argv[0] = arg;
		for (size_t i = 1; i <= n; i++)
			argv[i] = arg ? va_arg(ap, const char *) : NULL;
		va_end(ap);
		{
			struct exec_call x = { X_EXECVP, file, -1, (char *const *)argv, NULL, 0, false };
			return do_exec(ST_CALL_execlp, &x);
		}
	}
}

ST_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		const char *argv[n + 1];
		char *const *envp;
		argv[0] = arg;
		for (size_t i = 1; i <= n; i++)
			argv[i] = arg ? va_arg(ap, const char *) : NULL;
		envp = va_arg(ap, char *const *);
		va_end(ap);
		{
			struct exec_call x = { X_EXECVE, path, -1, (char *const *)argv, envp, 0, false };
			return do_exec(ST_CALL_execle, &x);
		}
	}
}

/* ---- posix_spawn ---- */

static int do_spawn(enum st_call call, bool path_search, pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
		    char *const envp[])
{
	struct st_event ev;
	pid_t child = -1;
	int64_t t0;
	int ret, err;

	struct new_env ne;

#define REAL_SPAWN(P) (path_search ? REAL(posix_spawnp)((P), path, fa, attr, argv, envp) : \
			   REAL(posix_spawn)((P), path, fa, attr, argv, envp))
	if (!st_active())
		return REAL_SPAWN(pid);
	/* the child starts in this directory (unless a file action moves
	 * it): the trace file's path as a program executed here needs it */
	envp = env_for_image(envp, &ne);
	t0 = st_begin(&ev, call);
	/* a ring for the child, reserved under this pid, then handed to it;
	 * the child takes it under either */
	st_shm_before_fork();
	ret = REAL_SPAWN(&child);
	err = errno;
	st_shm_forked(ret == 0 ? child : -1);
	env_release(&ne);
#undef REAL_SPAWN
	if (pid && ret == 0)
		*pid = child;
	if (ret == 0)
		st_child_made(child);
	/* the child may hold every descriptor that is not close-on-exec */
	if (ret == 0)
		st_mark_all_shared();
	st_end(&ev, t0, ret == 0 ? 0 : -1, ret);
	ev.exe = path;
	if (ret == 0 && child > 0)
		ev.child = child;
	st_emit(&ev);
	if (ret == 0 && child > 0 && path) {
		/* a child whose image will not load the shim writes nothing:
		 * its parent says so (posix_spawnp searches the caller's PATH,
		 * as execvp does) */
		struct exec_call x = { path_search ? X_EXECVP : X_EXECVE, path, -1, argv,
				       envp ? envp : environ, 0, false };
		announce_untraced(&x, child);
	}
	errno = err;
	return ret;
}

ST_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return do_spawn(ST_CALL_posix_spawn, false, pid, path, fa, attr, argv, envp);
}

ST_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return do_spawn(ST_CALL_posix_spawnp, true, pid, file, fa, attr, argv, envp);
}

/* popen() spawns its shell inside libc, where no wrapper sees it */
ST_EXPORT FILE *popen(const char *command, const char *type)
{
	FILE *fp = REAL(popen)(command, type);
	int err = errno;

	if (fp && st_active())
		st_mark_all_shared();
	errno = err;
	return fp;
}
