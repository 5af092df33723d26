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
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static char host[65];
static char boot[40];
static char cgroup[512];
static uint64_t pidns;
static char run_id[ST_RUN_MAX + 1];

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
	/* the run's id comes from the environment (the runner's, or the
	 * user's); the shim never makes one: that would mean changing the
	 * environment the program and its children see */
	memcpy(run_id, st_cfg.run, strlen(st_cfg.run) + 1);
}

void st_origin_to_event(struct st_event *ev)
{
	ev->host = host[0] ? host : NULL;
	ev->boot = boot[0] ? boot : NULL;
	ev->run = run_id[0] ? run_id : NULL;
	ev->cgroup = cgroup[0] ? cgroup : NULL;
	ev->pidns = pidns;
}
