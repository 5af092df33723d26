/* SPDX-License-Identifier: MIT */
/* tprog.c - shared helpers of the test programs (see tprog.h). */
#define _GNU_SOURCE
#include "tprog.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *tp_progname = "tprog";

void tp_init(int argc, char **argv)
{
	(void)argc;
	if (argv[0]) {
		const char *slash = strrchr(argv[0], '/');
		tp_progname = slash ? slash + 1 : argv[0];
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static __attribute__((noreturn)) void vdie(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", tp_progname);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(TP_EXIT_SETUP);
}

void tp_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

void tp_die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vdie(err, fmt, ap);
}

void tp_usage(const char *usage)
{
	fprintf(stderr, "usage: %s %s\n", tp_progname, usage);
	exit(TP_EXIT_SETUP);
}

const char *tp_errname(int err)
{
	const char *n;

	if (err == 0)
		return "0";
	n = strerrorname_np(err);
	return n ? n : "E?";
}

long tp_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		tp_die("not a number: '%s'", s);
	return v;
}

socklen_t tp_inet_addr(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof(*sin6);
	}
	tp_die("not a numeric address: '%s'", host);
}

socklen_t tp_unix_addr(const char *name, struct sockaddr_storage *ss)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t n = strlen(name);

	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	if (n >= sizeof(sun->sun_path))
		tp_die("unix address too long: '%s'", name);
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@') {
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

const char *tp_fmt_addr(const struct sockaddr *sa, socklen_t len, char *buf)
{
	char host[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (len < sizeof(sa_family_t))
		return buf;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, TP_ADDR_MAX, "%s:%u", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, TP_ADDR_MAX, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const void *)sa;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		if (len <= offsetof(struct sockaddr_un, sun_path))
			break;	/* unnamed */
		if (sun->sun_path[0] == '\0') {
			buf[0] = '@';
			memcpy(buf + 1, sun->sun_path + 1, n - 1);
			buf[n] = '\0';
		} else {
			snprintf(buf, TP_ADDR_MAX, "%.*s", (int)n, sun->sun_path);
		}
		break;
	}
	default:
		snprintf(buf, TP_ADDR_MAX, "family%d", sa->sa_family);
	}
	return buf;
}

const char *tp_local(int fd, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		buf[0] = '\0';
		return buf;
	}
	return tp_fmt_addr((struct sockaddr *)&ss, len, buf);
}

const char *tp_remote(int fd, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		buf[0] = '\0';
		return buf;
	}
	return tp_fmt_addr((struct sockaddr *)&ss, len, buf);
}

int tp_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

unsigned long tp_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

/* tcpi_state values, as in the kernel's include/net/tcp_states.h */
static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV", [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE", [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING",
};

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

const char *tp_tcp_state(int fd)
{
	struct tcp_info ti;
	int saved = errno;

	if (tcp_info(fd, &ti) < 0) {
		errno = saved;
		return "-";
	}
	if (ti.tcpi_state < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[ti.tcpi_state])
		return tcp_states[ti.tcpi_state];
	return "?";
}

void tp_print_tcpinfo(int fd)
{
	struct tcp_info ti;

	if (tcp_info(fd, &ti) < 0)
		tp_die_errno("getsockopt(TCP_INFO) fd %d", fd);
	printf("tcpinfo fd=%d state=%s bytes_sent=%llu bytes_received=%llu retrans=%u\n", fd,
	       tp_tcp_state(fd), (unsigned long long)ti.tcpi_bytes_sent,
	       (unsigned long long)ti.tcpi_bytes_received, ti.tcpi_total_retrans);
}

long tp_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

int tp_read_eof(int fd)
{
	char buf[256];

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return errno;
	}
}

void tp_write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, (const char *)buf + done, n - done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			tp_die_errno("write fd %d", fd);
		}
		done += (size_t)r;
	}
}

void tp_loopback_trio(int *listener, int *client, int *accepted)
{
	struct sockaddr_storage ss;
	socklen_t len = tp_inet_addr("127.0.0.1", 0, &ss);
	char buf[TP_ADDR_MAX];
	int one = 1;

	*listener = socket(AF_INET, SOCK_STREAM, 0);
	if (*listener < 0)
		tp_die_errno("socket");
	if (setsockopt(*listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(*listener, (struct sockaddr *)&ss, len) < 0 || listen(*listener, 8) < 0)
		tp_die_errno("listener");
	len = sizeof(ss);
	if (getsockname(*listener, (struct sockaddr *)&ss, &len) < 0)
		tp_die_errno("getsockname");
	printf("listen fd=%d port=%d ino=%lu\n", *listener, tp_port(*listener), tp_inode(*listener));
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&ss, len) < 0)
		tp_die_errno("connect");
	printf("client fd=%d ino=%lu local=%s\n", *client, tp_inode(*client), tp_local(*client, buf));
	*accepted = accept(*listener, NULL, NULL);
	if (*accepted < 0)
		tp_die_errno("accept");
	printf("accept fd=%d ino=%lu\n", *accepted, tp_inode(*accepted));
}

int tp_count_sockets(void)
{
	unsigned long seen[1024];
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		tp_die_errno("opendir /proc/self/fd");
	while ((e = readdir(d))) {
		int fd, domain = 0;
		socklen_t len = sizeof(domain);
		struct stat st;
		bool dup = false;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d) || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK)
			continue;
		for (int i = 0; i < n && !dup; i++)
			dup = seen[i] == (unsigned long)st.st_ino;
		if (!dup && n < (int)(sizeof(seen) / sizeof(seen[0])))
			seen[n++] = (unsigned long)st.st_ino;
	}
	closedir(d);
	return n;
}
