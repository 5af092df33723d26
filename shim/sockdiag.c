/* SPDX-License-Identifier: MIT */
/* sockdiag.c - the sock_diag client (see sockdiag.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; buffers
 * come from mmap().
 */
#define _GNU_SOURCE
#include "sockdiag.h"
#include "buf.h"
#include "names.h"
#include "ownfd.h"
#include "procfd.h"
#include "real.h"
#include "settings.h"
#include "shim.h"
#include "sockinfo.h"
#include "unixdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/rtnetlink.h>

#define RECV_BUF (64 * 1024)

/* The descriptor of the query in progress (hidden from the program like
 * the trace's).  A netlink socket lives only for the queries that need it
 * (a failed bind, the exit, a shared socket's close), placed high at once;
 * with SOCKTRACE_PROBE=close, which asks at every close, one is kept, and
 * so it is from a program's first accept of a unix stream connection on
 * (each asks once: a server's accept loop would open and close one per
 * connection, two thirds of the query's cost). */
ST_HOT _Atomic int st_diag_fd = -1;
static _Atomic bool diag_busy;
static _Atomic int keep_depth;	/* st_diag_hold() nesting */
static _Atomic bool keep_unix;	/* a unix accept asked: keep it */

static int open_diag(void)
{
	int fd = REAL(socket)(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	/* one below the trace's descriptor; never kept low, where the
	 * program would see it */
	return fd < 0 ? -1 : st_own_place_high(fd, 1);
}

static bool keep(void)
{
	return st_cfg.probe == ST_PROBE_CLOSE || atomic_load(&keep_depth) > 0 || atomic_load(&keep_unix);
}

/* A socket for one query: the kept one when free, else a temporary. */
static int acquire(bool *temp)
{
	int fd;

	*temp = false;
	if (!atomic_exchange(&diag_busy, true)) {
		fd = atomic_load(&st_diag_fd);
		if (fd >= 0)
			return fd;
		fd = open_diag();
		if (fd >= 0) {
			atomic_store(&st_diag_fd, fd);
			return fd;
		}
		atomic_store(&diag_busy, false);
		return -1;
	}
	*temp = true;
	return open_diag();
}

static void drop_kept(void)
{
	int fd = atomic_exchange(&st_diag_fd, -1);
	if (fd >= 0)
		REAL(close)(fd);
}

static void release(int fd, bool temp)
{
	if (temp) {
		REAL(close)(fd);
		return;
	}
	if (!keep())
		drop_kept();
	atomic_store(&diag_busy, false);
}

void st_diag_hold(void)
{
	atomic_fetch_add(&keep_depth, 1);
}

void st_diag_unhold(void)
{
	if (atomic_fetch_sub(&keep_depth, 1) == 1 && !keep() && !atomic_exchange(&diag_busy, true)) {
		drop_kept();
		atomic_store(&diag_busy, false);
	}
}

void st_diag_after_fork(void)
{
	/* the parent's socket: its replies are the parent's to read */
	int fd = atomic_exchange(&st_diag_fd, -1);
	if (fd >= 0)
		REAL(close)(fd);
	atomic_store(&diag_busy, false);
	atomic_store(&keep_depth, 0);
}

void st_diag_move_from(int fd)
{
	int cur = atomic_load(&st_diag_fd);
	if (cur == fd && atomic_compare_exchange_strong(&st_diag_fd, &cur, -1))
		REAL(close)(fd);	/* reopened on the next query */
}

/* A request, with a bytecode that keeps only local port `port` (-1: all). */
static int send_req(int fd, const struct inet_diag_req_v2 *r, bool dump, int port)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
		struct rtattr rta;
		struct inet_diag_bc_op bc[4];
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	size_t len = NLMSG_LENGTH(sizeof(req.r));

	memset(&req, 0, sizeof(req));
	req.r = *r;
	if (port >= 0) {
		/* sport >= port, then sport <= port: accept at the end (16),
		 * reject past it (20) */
		req.rta.rta_type = INET_DIAG_REQ_BYTECODE;
		req.rta.rta_len = RTA_LENGTH(sizeof(req.bc));
		req.bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_GE, 8, 20 };
		req.bc[1] = (struct inet_diag_bc_op){ 0, 0, (unsigned short)port };
		req.bc[2] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_LE, 8, 12 };
		req.bc[3] = (struct inet_diag_bc_op){ 0, 0, (unsigned short)port };
		len = NLMSG_LENGTH(sizeof(req.r)) + RTA_LENGTH(sizeof(req.bc));
	}
	req.nlh.nlmsg_len = (uint32_t)len;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	req.nlh.nlmsg_seq = 1;
	for (;;) {
		ssize_t n = sendto(fd, &req, len, 0, (struct sockaddr *)&nl, sizeof(nl));
		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* The kept socket's buffer: its user holds diag_busy. */
static char *shared_buf;

/* Reads replies until NLMSG_DONE (or one reply when !dump). */
static int read_replies(int fd, bool temp, bool dump, bool (*cb)(const struct st_diag_rec *, void *),
			void *arg)
{
	char *buf = temp ? NULL : shared_buf;
	int ret = -1, err = EIO;
	bool go = true, done = false;

	if (!buf) {
		buf = mmap(NULL, RECV_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return -1;
		if (!temp && keep())
			shared_buf = buf;
		else
			temp = true;	/* unmapped below */
	}
	while (!done) {
		ssize_t n = recv(fd, buf, RECV_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (n == 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				ret = 0;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				done = true;
				err = e->error ? -e->error : ENOENT;
				break;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && go &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
				struct st_diag_rec r = { (const struct inet_diag_msg *)NLMSG_DATA(h), -1 };
				int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg)));
				for (struct rtattr *a = (struct rtattr *)(r.m + 1); RTA_OK(a, alen);
				     a = RTA_NEXT(a, alen))
					if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
						r.v6only = *(const uint8_t *)RTA_DATA(a) ? 1 : 0;
				go = cb(&r, arg);
			}
			if (!dump) {
				done = true;
				ret = 0;
				break;
			}
		}
	}
	if (temp)
		munmap(buf, RECV_BUF);
	else if (!keep() && buf == shared_buf) {
		munmap(buf, RECV_BUF);
		shared_buf = NULL;
	}
	if (ret < 0)
		errno = err;
	return ret;
}

int st_diag_dump(int family, int protocol, uint32_t states, int port,
		 bool (*cb)(const struct st_diag_rec *, void *), void *arg)
{
	struct inet_diag_req_v2 r;
	bool temp;
	int fd, ret, saved = errno;

	memset(&r, 0, sizeof(r));
	r.sdiag_family = (uint8_t)family;
	r.sdiag_protocol = (uint8_t)protocol;
	r.idiag_states = states;
	fd = acquire(&temp);
	if (fd < 0)
		return -1;
	ret = send_req(fd, &r, true, port);
	if (ret == 0)
		ret = read_replies(fd, temp, true, cb, arg);
	release(fd, temp);
	if (ret == 0)
		errno = saved;
	return ret;
}

bool st_parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *colon;
	long port = 0;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		size_t n;
		if (!end || end[1] != ':')
			return false;
		n = (size_t)(end - s - 1);
		if (n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		{
			char *pct = strchr(host, '%');
			if (pct) {
				in6->sin6_scope_id = (uint32_t)strtoul(pct + 1, NULL, 10);
				*pct = '\0';
			}
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return false;
		colon = end + 1;
		in6->sin6_family = AF_INET6;
		for (const char *p = colon + 1; *p; p++)
			port = port * 10 + (*p - '0');
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return true;
	}
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	{
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return false;
		in->sin_family = AF_INET;
		for (const char *p = colon + 1; *p; p++)
			port = port * 10 + (*p - '0');
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
	}
	return true;
}

static void fill_id(struct inet_diag_sockid *id, const struct sockaddr_storage *l,
		    const struct sockaddr_storage *r)
{
	if (l->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)l, *b = (const struct sockaddr_in *)r;
		id->idiag_sport = a->sin_port;
		id->idiag_dport = b->sin_port;
		memcpy(id->idiag_src, &a->sin_addr, 4);
		memcpy(id->idiag_dst, &b->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)l, *b = (const struct sockaddr_in6 *)r;
		id->idiag_sport = a->sin6_port;
		id->idiag_dport = b->sin6_port;
		memcpy(id->idiag_src, &a->sin6_addr, 16);
		memcpy(id->idiag_dst, &b->sin6_addr, 16);
		id->idiag_if = a->sin6_scope_id;
	}
	id->idiag_cookie[0] = id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

static bool copy_one(const struct st_diag_rec *r, void *arg)
{
	*(struct inet_diag_msg *)arg = *r->m;
	return false;
}

int st_diag_lookup(int protocol, const char *local, const char *remote, struct inet_diag_msg *out)
{
	struct sockaddr_storage l, r;
	socklen_t ll, rl;
	struct inet_diag_req_v2 req;
	bool temp;
	int fd, ret;

	if (!st_parse_endpoint(local, &l, &ll) || !st_parse_endpoint(remote, &r, &rl) ||
	    l.ss_family != r.ss_family) {
		errno = EINVAL;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.sdiag_family = (uint8_t)l.ss_family;
	req.sdiag_protocol = (uint8_t)protocol;
	req.idiag_states = ~0u;
	fill_id(&req.id, &l, &r);
	fd = acquire(&temp);
	if (fd < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->idiag_family = 0;
	ret = send_req(fd, &req, false, -1);
	if (ret == 0)
		ret = read_replies(fd, temp, false, copy_one, out);
	release(fd, temp);
	if (ret == 0 && !out->idiag_family) {
		errno = ENOENT;
		ret = -1;
	}
	return ret;
}

int st_diag_unix_peer(uint64_t inode, uint64_t *peer)
{
	bool temp;
	int fd, ret, err;

	atomic_store(&keep_unix, true);
	fd = acquire(&temp);
	if (fd < 0)
		return -1;
	ret = st_unix_diag_peer(fd, inode, peer);
	err = errno;
	release(fd, temp);
	errno = err;
	return ret;
}

void st_diag_ksock(const struct st_diag_rec *rec, struct st_ksock *k)
{
	const struct inet_diag_msg *m = rec->m;
	struct sockaddr_storage l, r;
	socklen_t len;

	memset(&l, 0, sizeof(l));
	memset(&r, 0, sizeof(r));
	if (m->idiag_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&l, *b = (struct sockaddr_in *)&r;
		a->sin_family = b->sin_family = AF_INET;
		a->sin_port = m->id.idiag_sport;
		b->sin_port = m->id.idiag_dport;
		memcpy(&a->sin_addr, m->id.idiag_src, 4);
		memcpy(&b->sin_addr, m->id.idiag_dst, 4);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l, *b = (struct sockaddr_in6 *)&r;
		a->sin6_family = b->sin6_family = AF_INET6;
		a->sin6_port = m->id.idiag_sport;
		b->sin6_port = m->id.idiag_dport;
		memcpy(&a->sin6_addr, m->id.idiag_src, 16);
		memcpy(&b->sin6_addr, m->id.idiag_dst, 16);
		len = sizeof(*a);
	}
	st_format_addr((struct sockaddr *)&l, len, k->local, NULL);
	if (m->id.idiag_dport)
		st_format_addr((struct sockaddr *)&r, len, k->remote, NULL);
	else
		k->remote[0] = '\0';
	k->state = st_tcp_state_name(m->idiag_state);
	k->timer_ms = m->idiag_timer ? (int64_t)m->idiag_expires : -1;
	k->inode = m->idiag_inode;
	/* sockets in TIME_WAIT belong to nobody: no uid, no inode */
	k->uid = m->idiag_state == ST_TCP_TIME_WAIT ? -1 : (int64_t)m->idiag_uid;
	k->pid = -1;
	k->comm = NULL;
	k->dev = (int)m->id.idiag_if;
	k->v6only = m->idiag_family == AF_INET6 ? rec->v6only : -1;
}

/* ---- the owner of a socket, as ss -p finds it ---- */

struct owner {
	const char *want;	/* "socket:[inode]" */
	bool found;		/* in the fd directory being walked */
	long pid;		/* the process holding it, -1 none found */
};

/* one descriptor of /proc/PID/fd: is it the socket? */
static bool fd_is(int dir, const char *name, long fd, void *arg)
{
	struct owner *o = arg;
	char link[64];
	ssize_t l = readlinkat(dir, name, link, sizeof(link) - 1);

	(void)fd;
	if (l <= 0)
		return true;
	link[l] = '\0';
	if (strcmp(link, o->want))
		return true;
	o->found = true;
	return false;
}

/* one process of /proc: does its fd directory hold the socket? */
static bool pid_holds(int proc, const char *name, long pid, void *arg)
{
	struct owner *o = arg;
	char path[64];
	struct st_buf b;
	int dir;

	(void)proc;
	st_buf_init(&b, path, sizeof(path));
	st_buf_puts(&b, "/proc/");
	st_buf_puts(&b, name);
	st_buf_puts(&b, "/fd");
	st_buf_finish(&b);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return true;
	st_dir_numbers(dir, fd_is, o);
	REAL(close)(dir);
	if (!o->found)
		return true;
	o->pid = pid;
	return false;
}

void st_find_owner(uint64_t inode, struct st_ksock *k, char *comm_buf, size_t comm_cap)
{
	char want[48];
	struct owner o = { want, false, -1 };
	struct st_buf b;
	int proc;

	if (!inode)
		return;
	st_buf_init(&b, want, sizeof(want));
	st_buf_puts(&b, "socket:[");
	st_buf_u64(&b, inode);
	st_buf_putc(&b, ']');
	st_buf_finish(&b);
	proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return;
	st_dir_numbers(proc, pid_holds, &o);
	REAL(close)(proc);
	if (o.pid < 0)
		return;
	st_owner_is(o.pid, k, comm_buf, comm_cap);
}

void st_owner_is(long pid, struct st_ksock *k, char *comm_buf, size_t comm_cap)
{
	char path[64];
	struct st_buf b;
	int fd;

	k->pid = pid;
	st_buf_init(&b, path, sizeof(path));
	st_buf_puts(&b, "/proc/");
	st_buf_u64(&b, (uint64_t)pid);
	st_buf_puts(&b, "/comm");
	st_buf_finish(&b);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, comm_buf, comm_cap - 1);
		REAL(close)(fd);
		if (r > 0) {
			if (comm_buf[r - 1] == '\n')
				r--;
			comm_buf[r] = '\0';
			k->comm = comm_buf;
		}
	}
}
