/* SPDX-License-Identifier: MIT */
/* origin.c - where this process runs (see origin.h).
 * Runs inside the traced program: no stdio; errno is the caller's to keep.
 */
#define _GNU_SOURCE
#include "origin.h"
#include "real.h"
#include "settings.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static char host[65];
static char boot[40];
static char cgroup[512];
static uint64_t pidns;
/* "SOCKTRACE_RUN=" and the id, as the environment holds it */
static char run_env[sizeof("SOCKTRACE_RUN=") + ST_RUN_MAX];
#define RUN_ID (run_env + sizeof("SOCKTRACE_RUN=") - 1)

/* The first line of a small file, its '\n' dropped; "" when unreadable. */
static void read_line(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r = -1;

	buf[0] = '\0';
	if (fd < 0)
		return;
	r = read(fd, buf, n - 1);
	REAL(close)(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The cgroup path: the v2 line "0::PATH", else the first line's path
 * (v1: "ID:CONTROLLERS:PATH"). */
static void read_cgroup(void)
{
	char buf[4096];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t r;
	const char *line, *path = NULL;

	cgroup[0] = '\0';
	if (fd < 0)
		return;
	r = read(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (r <= 0)
		return;
	buf[r] = '\0';
	for (line = buf; *line; line = strchrnul(line, '\n'), line += *line == '\n') {
		const char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b || b > strchrnul(line, '\n'))
			continue;
		if (!path || !strncmp(line, "0::", 3))
			path = b + 1;
		if (!strncmp(line, "0::", 3))
			break;
	}
	if (path) {
		size_t n = strcspn(path, "\n");
		if (n >= sizeof(cgroup))
			n = sizeof(cgroup) - 1;
		memcpy(cgroup, path, n);
		cgroup[n] = '\0';
	}
}

extern char **environ;

/* The environment with run_env added, for the children: a copy of the
 * list of pointers in static storage, never malloc (the constructor may run
 * before the program's allocator is ready: redis's jemalloc waits forever
 * on a putenv here).  libc's setenv copies the list when the program
 * changes it later.  Environments of more than ENV_MAX entries are left
 * alone (the children then make run ids of their own). */
#define ENV_MAX 4096
static char *env_copy[ENV_MAX + 2];

static void add_to_environ(void)
{
	size_t n = 0, bad = (size_t)-1;

	if (!environ)
		return;
	for (; environ[n]; n++) {
		if (n >= ENV_MAX)
			return;
		if (!strncmp(environ[n], "SOCKTRACE_RUN=", sizeof("SOCKTRACE_RUN=") - 1))
			bad = n;	/* one settings.c refused: replaced */
	}
	memcpy(env_copy, environ, n * sizeof(*env_copy));
	if (bad != (size_t)-1) {
		env_copy[bad] = run_env;
	} else {
		env_copy[n++] = run_env;
	}
	env_copy[n] = NULL;
	environ = env_copy;
}

/* A new run id: 16 random bytes from the kernel (getrandom(2), never
 * waiting; at early boot, the time and the pid instead), in hex, put into
 * the environment for the children. */
static void make_run(void)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	char *id = RUN_ID;

	memcpy(run_env, "SOCKTRACE_RUN=", sizeof("SOCKTRACE_RUN=") - 1);
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;
		uint64_t a, b;

		clock_gettime(CLOCK_REALTIME, &ts);
		a = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		b = (uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ a;
		memcpy(rnd, &a, 8);
		memcpy(rnd + 8, &b, 8);
	}
	for (int i = 0; i < 16; i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 15];
	}
	id[32] = '\0';
	add_to_environ();
}

void st_origin_read(void)
{
	struct utsname u;
	struct stat st;

	host[0] = '\0';
	if (uname(&u) == 0) {
		size_t n = strnlen(u.nodename, sizeof(host) - 1);
		memcpy(host, u.nodename, n);
		host[n] = '\0';
	}
	read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	read_cgroup();
	pidns = stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
	if (st_cfg.run[0]) {
		memcpy(run_env, "SOCKTRACE_RUN=", sizeof("SOCKTRACE_RUN=") - 1);
		memcpy(RUN_ID, st_cfg.run, strlen(st_cfg.run) + 1);
	} else {
		make_run();
	}
}

void st_origin_to_event(struct st_event *ev)
{
	ev->host = host[0] ? host : NULL;
	ev->boot = boot[0] ? boot : NULL;
	ev->run = RUN_ID[0] ? RUN_ID : NULL;
	ev->cgroup = cgroup[0] ? cgroup : NULL;
	ev->pidns = pidns;
}
