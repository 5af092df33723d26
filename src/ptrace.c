/* SPDX-License-Identifier: MIT */
/* ptrace.c - the runner's ptrace back end (see ptrace.h).
 *
 * Owns: the tracer.  The runner forks the program's process, takes it with
 * PTRACE_SEIZE (the runner is its parent: Yama's scope 1 allows it), and
 * the child installs a seccomp filter that returns SECCOMP_RET_TRACE for
 * the socket lifecycle system calls only (every other call runs at full
 * speed) before it execs the program.  At each seccomp stop the tracer
 * reads the call's arguments (PTRACE_GET_SYSCALL_INFO); a call on a
 * descriptor that is no socket goes on at once; else the call runs to its
 * syscall-exit-stop for the result.  What the kernel knows of the socket
 * (endpoints, TCP state and counters, options, inode) is asked of a copy
 * of the tracee's descriptor (pidfd_getfd), closed at once; a close's
 * facts are taken before the call runs, so the program's close is still
 * the one that ends the socket.  Each call becomes the struct st_event the
 * shim would make and goes through the runner's drain (same encoder, same
 * text).  Never changes what the program sees: its arguments, results,
 * errno, signals (re-injected as they came) and exit status are its own;
 * it never reads or writes the program's memory but the addresses and
 * option values of the calls, with process_vm_readv.
 */
#define _GNU_SOURCE
#include "ptrace.h"
#include "runner.h"
#include "drain.h"

#include "addr.h"
#include "event.h"
#include "names.h"
#include "tcpstate.h"
#include "bindrules.h"
#include "unixdiag.h"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#if defined(__x86_64__)
#define ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NATIVE AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH_NATIVE AUDIT_ARCH_I386
#else
#define ARCH_NATIVE 0	/* not known here: st_ptrace_run refuses */
#endif

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* the system calls that stop the program */
static const int traced[] = {
#ifdef SYS_socket
	SYS_socket, SYS_socketpair, SYS_bind, SYS_listen, SYS_accept, SYS_accept4, SYS_connect,
	SYS_shutdown, SYS_setsockopt, SYS_getsockopt,
#endif
	SYS_close, SYS_close_range, SYS_dup,
#ifdef SYS_dup2
	SYS_dup2,
#endif
	SYS_dup3, SYS_fcntl, SYS_exit_group, SYS_execve, SYS_execveat,
};
/* rt_sigaction stops the program only when it sets a handler (its act
 * argument not NULL): which signals are caught, and with SA_RESTART, tell
 * whether a call a signal cut short comes back or fails with EINTR */

/* ---- the program's processes and threads ---- */

struct sock {			/* a socket descriptor of a process */
	int fd;
	uint64_t inode;
	bool shared;		/* held since a fork: another process may hold it */
	bool connect_pending;	/* a connect goes on without the program (EINPROGRESS) */
	bool has_id;		/* family, type and protocol below are known */
	int family, type, protocol;
	char remote[ST_ADDR_MAX];	/* its peer, once known: a reset connection
					 * has none for getpeername, the shim keeps it */
	char local[ST_ADDR_MAX];	/* its name while it is connected (with
					 * remote: a connection's tuple does not change
					 * but by a connect, whose facts renew it) */
	bool opts_known;	/* ra, rp, linger, v6only: the socket's options, as
				 * the last facts read them or as a new socket has
				 * them; every setsockopt of the program renews them */
	bool ra, rp;		/* SO_REUSEADDR, SO_REUSEPORT */
	int linger;		/* SO_LINGER seconds, -1 off */
	int v6only;		/* IPV6_V6ONLY, -1 not IPv6 or unknown */
};

/* FNV-1a of a connection's tuple (its two endpoints as the trace writes
 * them): what is kept of each connection a process closed */
static uint64_t tuple_hash(const char *local, const char *remote)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *c = local; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	h = (h ^ '|') * 1099511628211ULL;
	for (const char *c = remote; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return h;
}

struct closed {
	uint64_t tuple;		/* tuple_hash() of its endpoints */
	bool ra, rp;		/* its SO_REUSEADDR, SO_REUSEPORT at the close */
};

struct proc {
	pid_t pid, ppid;
	int64_t seq;
	int pidfd;
	bool started;		/* its start is written */
	uint64_t caught;	/* signals (bit sig-1) with a handler */
	uint64_t sa_restart;	/* ... whose handler has SA_RESTART */
	struct sock *socks;
	int nsocks, capsocks;
	struct closed *closed;	/* the connections it closed, for the lingering
				 * list of its exit and the verdict of a bind */
	int nclosed, capclosed;
};

struct thread {
	pid_t tid;
	struct proc *p;
	bool in_call;		/* between a seccomp stop and its exit stop */
	int restart;		/* the call ended with the kernel's -ERESTART* (512-514):
				 * it comes again, or fails with EINTR, as the next
				 * signal's handler decides; its event waits */
	int nr;
	uint64_t args[6];
	int64_t ts_us, t0_ns;
	struct facts *pre;	/* close, shutdown: the socket before the call */
	struct facts *ranged;	/* close_range: the facts of each socket of its range */
	int nranged, capranged;
	int *announced;		/* execve: the close-on-exec sockets told closed */
	int nannounced, capannounced;
	char exe[4096];		/* execve: the path it was given */
};

/* what the kernel tells of a socket */
struct facts {
	bool ok;
	int fd;			/* close_range: the descriptor */
	int family, type, protocol;
	uint64_t inode;
	char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];
	int state;		/* TCP state, 0 n/a */
	bool listening;		/* F_LISTEN: SO_ACCEPTCONN (any family) */
	struct st_tcp tcp;
	bool reuseaddr, reuseport;
	int linger;		/* -1 off */
	int v6only;		/* F_OPTS, IPv6: IPV6_V6ONLY; -1 otherwise */
	unsigned unread;
};

static struct proc **procs;
static int nprocs, capprocs;
static struct thread **threads;
static int nthreads, capthreads;
static struct st_drain *drain;
static pid_t main_pid;
static volatile sig_atomic_t pending_sig;

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *grow(void *p, int *cap, size_t each)
{
	int n = *cap ? *cap * 2 : 8;
	void *q = realloc(p, (size_t)n * each);

	if (!q) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(2);
	}
	*cap = n;
	return q;
}

static struct proc *proc_find(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->pid == pid)
			return procs[i];
	return NULL;
}

static struct proc *proc_new(pid_t pid, pid_t ppid, struct proc *parent)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		exit(2);
	p->pid = pid;
	p->ppid = ppid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (parent) {
		/* a fork's child has its parent's handlers */
		p->caught = parent->caught;
		p->sa_restart = parent->sa_restart;
	}
	if (parent && parent->nsocks) {
		/* a fork's child holds its parent's sockets, shared */
		p->socks = malloc((size_t)parent->nsocks * sizeof(*p->socks));
		if (!p->socks)
			exit(2);
		memcpy(p->socks, parent->socks, (size_t)parent->nsocks * sizeof(*p->socks));
		p->nsocks = p->capsocks = parent->nsocks;
		for (int i = 0; i < p->nsocks; i++)
			p->socks[i].shared = parent->socks[i].shared = true;
	}
	if (nprocs == capprocs)
		procs = grow(procs, &capprocs, sizeof(*procs));
	procs[nprocs++] = p;
	return p;
}

static void proc_free(struct proc *p)
{
	for (int i = 0; i < nprocs; i++) {
		if (procs[i] == p) {
			procs[i] = procs[--nprocs];
			break;
		}
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->socks);
	free(p->closed);
	free(p);
}

static struct sock *sock_at(struct proc *p, int fd)
{
	for (int i = 0; i < p->nsocks; i++)
		if (p->socks[i].fd == fd)
			return &p->socks[i];
	return NULL;
}

static struct sock *sock_set(struct proc *p, int fd, uint64_t inode, bool shared)
{
	struct sock *s = sock_at(p, fd);

	if (!s) {
		if (p->nsocks == p->capsocks)
			p->socks = grow(p->socks, &p->capsocks, sizeof(*p->socks));
		s = &p->socks[p->nsocks++];
		memset(s, 0, sizeof(*s));
	}
	if (s->inode != inode)
		memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->inode = inode;
	s->shared = shared;
	return s;
}

static void sock_drop(struct proc *p, int fd)
{
	struct sock *s = sock_at(p, fd);

	if (s)
		*s = p->socks[--p->nsocks];
}

/* another traced process holds the socket with this inode */
static bool sock_held_by_other(const struct proc *p, uint64_t inode)
{
	for (int i = 0; i < nprocs; i++) {
		if (procs[i] == p)
			continue;
		for (int k = 0; k < procs[i]->nsocks; k++)
			if (procs[i]->socks[k].inode == inode)
				return true;
	}
	return false;
}

/* another descriptor of p holds the socket with this inode */
static bool sock_held_elsewhere(const struct proc *p, int fd, uint64_t inode)
{
	for (int i = 0; i < p->nsocks; i++)
		if (p->socks[i].fd != fd && p->socks[i].inode == inode)
			return true;
	return false;
}

static struct thread *thread_find(pid_t tid)
{
	for (int i = 0; i < nthreads; i++)
		if (threads[i]->tid == tid)
			return threads[i];
	return NULL;
}

static struct thread *thread_new(pid_t tid, struct proc *p)
{
	struct thread *t = calloc(1, sizeof(*t));

	if (!t)
		exit(2);
	t->tid = tid;
	t->p = p;
	if (nthreads == capthreads)
		threads = grow(threads, &capthreads, sizeof(*threads));
	threads[nthreads++] = t;
	return t;
}

static void thread_free(struct thread *t)
{
	for (int i = 0; i < nthreads; i++) {
		if (threads[i] == t) {
			threads[i] = threads[--nthreads];
			break;
		}
	}
	free(t->pre);
	free(t->ranged);
	free(t->announced);
	free(t);
}

/* a value of /proc/PID/status ("Tgid", "PPid"), -1 unknown */
static long proc_status(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* ---- the kernel's facts of a tracee's socket ---- */

static int int_opt(int fd, int level, int name, int dflt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, level, name, &v, &len) == 0 ? v : dflt;
}

/* an inet socket's name before bind or connect (the wildcard, port 0):
 * traces say "" (not bound), as the shim does */
static bool unbound(const struct sockaddr_storage *ss, socklen_t len)
{
	if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return !in->sin_port && in->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		return !in6->sin6_port && !memcmp(&in6->sin6_addr, &in6addr_any, sizeof(in6addr_any));
	}
	return false;
}

/* what facts_of asks besides the socket's identity (family, type,
 * protocol, inode: from the table when known) */
#define F_NAMES 0x1		/* getsockname, getpeername */
#define F_OPTS 0x2		/* SO_REUSEADDR, SO_REUSEPORT, SO_LINGER */
#define F_TCP 0x4		/* TCP_INFO: state and counters */
#define F_UNREAD 0x8		/* SIOCINQ */
#define F_CACHED 0x10		/* names and options from the table where it
				 * knows them for sure (a close: see cached_ok) */
#define F_LISTEN 0x20		/* SO_ACCEPTCONN */

/* Are the options in s the socket's for sure?  Known, and no other process
 * may have changed them (not shared since a fork or from elsewhere); its
 * other descriptors in p get every renewal (opts_store). */
static bool cached_ok(const struct sock *s, uint64_t inode)
{
	return s && s->inode == inode && s->opts_known && !s->shared;
}

/* the options just read (f) into every descriptor of p on that socket */
static void opts_store(struct proc *p, const struct facts *f)
{
	for (int i = 0; i < p->nsocks; i++) {
		struct sock *x = &p->socks[i];
		if (x->inode != f->inode)
			continue;
		x->opts_known = true;
		x->ra = f->reuseaddr;
		x->rp = f->reuseport;
		x->linger = f->linger;
		x->v6only = f->v6only;
	}
}

/* The inode of the socket at the other end of an accepted unix socket, as
 * the shim asks it (sock_diag, unixdiag.h), on the runner's own netlink
 * socket (kept from the first such accept); only with --probe=close, as
 * the shim (the query walks every unix socket of the host); 0 when not
 * asked or the kernel cannot say. */
static uint64_t unix_peer(uint64_t inode)
{
	static int fd = -1;
	uint64_t peer = 0;
	const char *probe = getenv("SOCKTRACE_PROBE");

	if (!probe || strcmp(probe, "close") != 0)
		return 0;
	if (fd < 0)
		fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0 || st_unix_diag_peer(fd, inode, &peer) != 0)
		return 0;
	return peer;
}

/* Facts of descriptor fd of process p, from a copy of it (pidfd_getfd)
 * closed before this returns: its identity, and what mask asks; f->ok
 * false when fd is no socket or cannot be copied.  like: a socket of the
 * same family, type and protocol (an accepted one's listener), or NULL. */
static void facts_of(struct proc *p, int fd, struct facts *f, unsigned mask, const struct sock *like)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	struct stat st;
	struct linger lg;
	struct tcp_info ti;
	struct sock *s = sock_at(p, fd);
	int c;

	memset(f, 0, sizeof(*f));
	f->linger = -1;
	f->v6only = -1;
	if (p->pidfd < 0 || fd < 0)
		return;
	c = (int)syscall(SYS_pidfd_getfd, p->pidfd, fd, 0);
	if (c < 0)
		return;
	if (s && s->has_id && s->inode) {
		f->inode = s->inode;
	} else if (fstat(c, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		close(c);
		return;
	} else {
		f->inode = (uint64_t)st.st_ino;
	}
	f->ok = true;
	if (s && s->has_id) {
		like = s;
	} else if (like && !like->has_id) {
		like = NULL;
	}
	if (like) {
		f->family = like->family;
		f->type = like->type;
		f->protocol = like->protocol;
	} else {
		f->family = int_opt(c, SOL_SOCKET, SO_DOMAIN, -1);
		f->type = int_opt(c, SOL_SOCKET, SO_TYPE, 0);
		f->protocol = int_opt(c, SOL_SOCKET, SO_PROTOCOL, 0);
	}
	if (s && !s->has_id && s->inode == f->inode) {
		s->has_id = true;
		s->family = f->family;
		s->type = f->type;
		s->protocol = f->protocol;
	}
	if ((mask & F_NAMES) && (mask & F_CACHED) && s && s->inode == f->inode && s->local[0] && s->remote[0]) {
		/* a connection's tuple, as its last facts read it */
		memcpy(f->local, s->local, sizeof(f->local));
		memcpy(f->remote, s->remote, sizeof(f->remote));
	} else if (mask & F_NAMES) {
		len = sizeof(ss);
		if (getsockname(c, (struct sockaddr *)&ss, &len) == 0 && !unbound(&ss, len))
			st_format_addr((struct sockaddr *)&ss, len, f->local, NULL);
		len = sizeof(ss);
		if (getpeername(c, (struct sockaddr *)&ss, &len) == 0)
			st_format_addr((struct sockaddr *)&ss, len, f->remote, NULL);
		if (s && s->inode == f->inode) {
			if (f->remote[0]) {
				memcpy(s->remote, f->remote, sizeof(s->remote));
				memcpy(s->local, f->local, sizeof(s->local));
			} else if (s->remote[0]) {
				memcpy(f->remote, s->remote, sizeof(f->remote));
			}
		}
	}
	if ((mask & F_OPTS) && (mask & F_CACHED) && cached_ok(s, f->inode)) {
		f->reuseaddr = s->ra;
		f->reuseport = s->rp;
		f->linger = s->linger;
		f->v6only = s->v6only;
	} else if (mask & F_OPTS) {
		f->reuseaddr = int_opt(c, SOL_SOCKET, SO_REUSEADDR, 0) != 0;
		f->reuseport = int_opt(c, SOL_SOCKET, SO_REUSEPORT, 0) != 0;
		len = sizeof(lg);
		if (getsockopt(c, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff)
			f->linger = lg.l_linger;
		if (f->family == AF_INET6)
			f->v6only = int_opt(c, IPPROTO_IPV6, IPV6_V6ONLY, -1);
		/* kept for a close, and for the verdict of another socket's
		 * failed bind */
		opts_store(p, f);
	}
	if (mask & F_LISTEN)
		f->listening = int_opt(c, SOL_SOCKET, SO_ACCEPTCONN, 0) != 0;
	if ((f->family == AF_INET || f->family == AF_INET6) && f->type == SOCK_STREAM) {
		len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if ((mask & F_TCP) && getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
			f->state = ti.tcpi_state;
			f->tcp.rtt_us = ti.tcpi_rtt;
			f->tcp.rttvar_us = ti.tcpi_rttvar;
			f->tcp.retrans = ti.tcpi_retrans;
			f->tcp.total_retrans = ti.tcpi_total_retrans;
			f->tcp.lost = ti.tcpi_lost;
			f->tcp.bytes_acked = ti.tcpi_bytes_acked;
			f->tcp.bytes_received = ti.tcpi_bytes_received;
			f->tcp.bytes_sent = ti.tcpi_bytes_sent;
			f->tcp.unsent = ti.tcpi_notsent_bytes;
		}
		/* as the shim: asked only where a close could reset, and when
		 * something was ever received (the peer's FIN, received in
		 * CLOSE_WAIT, counts one byte) */
		if ((mask & F_UNREAD) && st_tcp_close_may_reset(f->state) &&
		    f->tcp.bytes_received > (f->state == ST_TCP_CLOSE_WAIT ? 1u : 0u)) {
			int n = 0;
			if (ioctl(c, SIOCINQ, &n) == 0 && n > 0)
				f->unread = (unsigned)n;
		}
	}
	close(c);
}

static bool is_tcp(const struct facts *f)
{
	return (f->family == AF_INET || f->family == AF_INET6) && f->type == SOCK_STREAM;
}

static void event_sock(struct st_event *ev, const struct facts *f, const struct sock *s)
{
	if (!f->ok)
		return;
	ev->family = st_family_name(f->family);
	ev->type = st_socktype_name(f->type);
	ev->proto = st_proto_name(f->family, f->type, f->protocol);
	memcpy(ev->local, f->local, sizeof(ev->local));
	memcpy(ev->remote, f->remote, sizeof(ev->remote));
	ev->inode = f->inode;
	if (s && s->shared)
		ev->shared = true;
}

static void event_opts(struct st_event *ev, const struct facts *f)
{
	if (!f->ok)
		return;
	ev->has_opts = true;
	ev->opts.reuseaddr = f->reuseaddr;
	ev->opts.reuseport = f->reuseport;
	ev->opts.linger = f->linger;
}

static void event_state(struct st_event *ev, const struct facts *f)
{
	if (f->ok && is_tcp(f) && f->state)
		ev->state = st_tcp_state_name(f->state);
}

/* a connect left pending (EINPROGRESS, EINTR) ended by now: the first
 * event of the socket that shows a state past SYN_SENT says so */
static void connect_check(struct st_event *ev, struct sock *s, const struct facts *f)
{
	if (!s || !s->connect_pending || !f->ok || !f->state || f->state == ST_TCP_SYN_SENT)
		return;
	s->connect_pending = false;
	ev->connect_done = st_tcp_state_name(f->state);
	if (f->local[0] && !strcmp(f->local, f->remote))
		ev->self_connect = true;
}

/* ptrace(2) and process_vm_readv(2) take the program's addresses and
 * ptrace's data as pointers: the casts below are theirs. */
// NOLINTBEGIN(performance-no-int-to-ptr)

/* bytes of the program's memory at addr; false when it cannot be read */
static bool peek(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return addr && process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

// NOLINTEND(performance-no-int-to-ptr)

static void peek_addr(pid_t tid, uint64_t addr, uint64_t len, char out[ST_ADDR_MAX])
{
	struct sockaddr_storage ss = { 0 };

	out[0] = '\0';
	if (len > sizeof(ss) || len < sizeof(sa_family_t) || !peek(tid, addr, &ss, len))
		return;
	st_format_addr((struct sockaddr *)&ss, (socklen_t)len, out, NULL);
}

/* ---- who holds an address (a failed bind) ---- */

#define MAX_HOLDERS 16

struct holders {
	struct st_ksock k[MAX_HOLDERS];
	struct st_bind_holder f[MAX_HOLDERS];	/* each one's facts, for the verdict */
	char comm[MAX_HOLDERS][17];
	int n, total;
	bool cut, unknown_dev;
};

/* the address of /proc/net/tcp's hex form ("0100007F:1F90", 32 hex digits
 * for IPv6, each 32-bit word in the machine's order) as a sockaddr */
static bool parse_hex_ep(const char *s, bool v6, struct sockaddr_storage *ss, socklen_t *len)
{
	char word[9];
	const char *colon = strchr(s, ':');
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (!colon || colon - s != (v6 ? 32 : 8))
		return false;
	port = strtoul(colon + 1, &end, 16);
	if (end == colon + 1 || port > 65535)
		return false;
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		memcpy(word, s, 8);
		word[8] = '\0';
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = (uint32_t)strtoul(word, &end, 16);
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		uint32_t w[4];
		for (int i = 0; i < 4; i++) {
			memcpy(word, s + 8 * i, 8);
			word[8] = '\0';
			w[i] = (uint32_t)strtoul(word, &end, 16);
		}
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, w, sizeof(w));
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
	}
	return true;
}

/* the next blank-separated field of a line of /proc/net/tcp */
static const char *field(const char **p, char *out, size_t cap)
{
	size_t n;

	*p += strspn(*p, " \t");
	n = strcspn(*p, " \t\n");
	if (!n || n >= cap)
		return NULL;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return out;
}

/* One line of /proc/net/tcp (tcp6 with v6): its ten first fields in fl
 * ("sl local rem st tx:rx tr:when retrnsmt uid timeout inode"), its TCP
 * state (st, ST_TCP_*) and both ends (l and r, their lengths in ll and
 * rl).  false for a line that is not a socket's (the header, a line cut
 * short, an end that does not parse). */
static bool tcp_row(const char *line, bool v6, char fl[10][64], unsigned *st, struct sockaddr_storage *l,
		    socklen_t *ll, struct sockaddr_storage *r, socklen_t *rl)
{
	const char *q = line;
	int nf = 0;

	while (nf < 10 && field(&q, fl[nf], sizeof(fl[nf])))
		nf++;
	if (nf < 10)
		return false;
	*st = (unsigned)strtoul(fl[3], NULL, 16);
	return parse_hex_ep(fl[1], v6, l, ll) && parse_hex_ep(fl[2], v6, r, rl);
}

/* The time left on the timer of a row tcp_row read ("tr:when": when in
 * clock ticks), in milliseconds; -1 when no timer runs. */
static int64_t row_timer_ms(const char fl[10][64])
{
	long hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	const char *colon = strchr(fl[5], ':');

	if (!colon || !strtoul(fl[5], NULL, 16))
		return -1;
	return (int64_t)strtoul(colon + 1, NULL, 16) * 1000 / hz;
}

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return -1;
}

/* the name of process pid (/proc/PID/comm), "" unknown */
static void read_comm(long pid, char comm[17])
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	comm[0] = '\0';
	if (fd >= 0) {
		ssize_t n = read(fd, comm, 16);
		close(fd);
		if (n > 0) {
			comm[n] = '\0';
			comm[strcspn(comm, "\n")] = '\0';
		}
	}
}

/* the process holding socket inode (its first, by /proc), -1 none */
static long owner_of(uint64_t inode, char comm[17])
{
	char want[64], path[600], link[64];
	DIR *proc = opendir("/proc");
	struct dirent *de;
	long found = -1;

	if (!proc)
		return -1;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)inode);
	while (found < 0 && (de = readdir(proc))) {
		DIR *fds;
		struct dirent *fe;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			ssize_t n;
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", de->d_name, fe->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0) {
				link[n] = '\0';
				if (!strcmp(link, want)) {
					found = strtol(de->d_name, NULL, 10);
					break;
				}
			}
		}
		closedir(fds);
	}
	closedir(proc);
	if (found > 0)
		read_comm(found, comm);
	return found;
}

/* The socket of p's descriptor fd being bound to addr, as the conflict
 * rules see it: its address, options (f: its facts after the call), owner
 * (the uid the kernel fixed at its making), IPV6_V6ONLY and bound device,
 * from a copy of the descriptor (p is stopped: closed before it goes on). */
static void new_socket(struct proc *p, int fd, const struct sockaddr_storage *addr, const struct facts *f,
		       struct st_bind_new *n)
{
	struct stat st;
	int c;

	memset(n, 0, sizeof(*n));
	if (addr->ss_family == AF_INET)
		st_bind_ep_set(&n->ep, AF_INET, &((const struct sockaddr_in *)addr)->sin_addr);
	else
		st_bind_ep_set(&n->ep, AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr);
	n->tcp = true;
	n->ra = f->reuseaddr;
	n->rp = f->reuseport;
	n->uid = -1;
	n->v6only = n->ep.family == AF_INET6 && !n->ep.wild && !n->ep.mapped ? 1 : f->v6only > 0;
	c = p->pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, p->pidfd, fd, 0) : -1;
	if (c < 0)
		return;
	if (fstat(c, &st) == 0)
		n->uid = (int64_t)st.st_uid;
#ifdef SO_BINDTOIFINDEX
	n->dev = int_opt(c, SOL_SOCKET, SO_BINDTOIFINDEX, 0);
#endif
	close(c);
}

/* A connection a traced process closed, by its tuple's hash; NULL none */
static const struct closed *closed_find(uint64_t tuple)
{
	for (int i = 0; i < nprocs; i++)
		for (int k = procs[i]->nclosed - 1; k >= 0; k--)
			if (procs[i]->closed[k].tuple == tuple)
				return &procs[i]->closed[k];
	return NULL;
}

/* A socket of a traced process by its inode, with the process; NULL none */
static struct sock *traced_sock(uint64_t inode, struct proc **owner)
{
	for (int i = 0; i < nprocs; i++)
		for (int k = 0; k < procs[i]->nsocks; k++)
			if (procs[i]->socks[k].inode == inode) {
				*owner = procs[i];
				return &procs[i]->socks[k];
			}
	return NULL;
}

/* The TCP sockets of the kernel's table (/proc/net/tcp and tcp6, this
 * network namespace's) that stand in the way of n's address, as the
 * kernel's rules see it (codec/bindrules.h), each with the facts the rules
 * need: its address, state, owner's uid from the table; its options when
 * it is a socket of a traced process (as the runner last read them), else
 * unknown; its bound device is not shown there (h->unknown_dev). */
static void find_holders(const struct st_bind_new *n, const struct sockaddr_storage *addr, struct holders *h)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int port = port_of(addr);

	memset(h, 0, sizeof(*h));
	for (int v6 = 0; v6 < 2; v6++) {
		FILE *f = fopen(files[v6], "re");
		char line[512];

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char fl[10][64];
			unsigned st, uid;
			unsigned long long ino;
			struct sockaddr_storage l, r;
			socklen_t ll, rl;
			struct st_ksock *k;
			struct st_bind_holder b;
			struct sock *ts;
			struct proc *tp = NULL;

			if (!tcp_row(line, v6, fl, &st, &l, &ll, &r, &rl))
				continue;
			uid = (unsigned)strtoul(fl[7], NULL, 10);
			ino = strtoull(fl[9], NULL, 10);
			if (port_of(&l) != port)
				continue;
			memset(&b, 0, sizeof(b));
			if (l.ss_family == AF_INET)
				st_bind_ep_set(&b.ep, AF_INET, &((struct sockaddr_in *)&l)->sin_addr);
			else
				st_bind_ep_set(&b.ep, AF_INET6, &((struct sockaddr_in6 *)&l)->sin6_addr);
			b.state = (int)st;
			b.connected = port_of(&r) > 0;
			b.uid = st == ST_TCP_TIME_WAIT ? -1 : (int64_t)uid;
			b.v6only = -1;
			b.ra = b.rp = -1;
			ts = ino ? traced_sock(ino, &tp) : NULL;
			if (ts && ts->opts_known) {
				b.ra = ts->ra;
				b.rp = ts->rp;
				b.v6only = v6 ? ts->v6only : -1;
			} else if (!ino && b.connected) {
				/* a connection a traced process closed (TIME_WAIT):
				 * its options at the close */
				char ls[ST_ADDR_MAX], rs[ST_ADDR_MAX];
				const struct closed *cl;
				st_format_addr((struct sockaddr *)&l, ll, ls, NULL);
				st_format_addr((struct sockaddr *)&r, rl, rs, NULL);
				if ((cl = closed_find(tuple_hash(ls, rs)))) {
					b.ra = cl->ra;
					b.rp = cl->rp;
				}
			}
			if (!st_bind_overlaps(n, &b))
				continue;
			h->total++;
			if (h->n == MAX_HOLDERS) {
				h->cut = true;
				continue;
			}
			h->f[h->n] = b;
			k = &h->k[h->n];
			memset(k, 0, sizeof(*k));
			st_format_addr((struct sockaddr *)&l, ll, k->local, NULL);
			if (port_of(&r) > 0)
				st_format_addr((struct sockaddr *)&r, rl, k->remote, NULL);
			k->state = st_tcp_state_name((int)st);
			k->inode = ino;
			k->uid = b.uid;
			k->timer_ms = row_timer_ms(fl);
			k->v6only = b.v6only;
			k->comm = NULL;
			if (tp) {
				k->pid = tp->pid;	/* a traced process: no walk of /proc */
				read_comm(tp->pid, h->comm[h->n]);
				k->comm = h->comm[h->n][0] ? h->comm[h->n] : NULL;
			} else {
				k->pid = ino ? owner_of(ino, h->comm[h->n]) : -1;
				k->comm = k->pid > 0 ? h->comm[h->n] : NULL;
			}
			h->unknown_dev |= !tp;
			h->n++;
		}
		fclose(f);
	}
}

/* ---- what lingers of the connections a process closed ---- */

static int cmp_closed(const void *a, const void *b)
{
	uint64_t x = ((const struct closed *)a)->tuple, y = ((const struct closed *)b)->tuple;

	return x < y ? -1 : x > y;
}


struct linger_list {
	struct st_ksock k[ST_LINGERING_MAX];
};

/* The exit's lingering list, as the shim gives it (socktrace(7)): the
 * connections process p closed that the kernel's table still holds, in
 * TIME_WAIT, FIN_WAIT1/2, LAST_ACK or CLOSING, each with its state and the
 * time left on its timer; read from /proc/net/tcp and tcp6 (this network
 * namespace's), matched by tuple.  No connection closed: an empty list,
 * the kernel not asked.  The table unreadable: no list (unknown). */
static void lingering(struct proc *p, struct st_event *ev, struct linger_list *out)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	const uint32_t states = 1u << ST_TCP_TIME_WAIT | 1u << ST_TCP_FIN_WAIT1 | 1u << ST_TCP_FIN_WAIT2 |
				1u << ST_TCP_LAST_ACK | 1u << ST_TCP_CLOSING;
	int n = 0;
	int64_t total = 0, tw = 0;

	if (!p->nclosed) {
		ev->lingering = out->k;
		ev->nlingering = 0;
		ev->time_wait = 0;
		return;
	}
	qsort(p->closed, (size_t)p->nclosed, sizeof(*p->closed), cmp_closed);
	for (int v6 = 0; v6 < 2; v6++) {
		FILE *f = fopen(files[v6], "re");
		char line[512];

		if (!f && v6 && errno == ENOENT)
			break;	/* no IPv6 in this kernel: no IPv6 socket lingers */
		if (!f)
			return;	/* unknown: no list rather than a false empty one */
		while (fgets(line, sizeof(line), f)) {
			char fl[10][64];
			struct sockaddr_storage l, r;
			socklen_t ll, rl;
			char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];
			unsigned st;
			struct closed key = { 0, false, false };

			if (!tcp_row(line, v6, fl, &st, &l, &ll, &r, &rl) || st > 31 || !(states & 1u << st))
				continue;
			st_format_addr((struct sockaddr *)&l, ll, local, NULL);
			st_format_addr((struct sockaddr *)&r, rl, remote, NULL);
			key.tuple = tuple_hash(local, remote);
			if (!bsearch(&key, p->closed, (size_t)p->nclosed, sizeof(key), cmp_closed))
				continue;
			total++;
			tw += st == ST_TCP_TIME_WAIT;
			if (n < ST_LINGERING_MAX) {
				struct st_ksock *k = &out->k[n++];
				memset(k, 0, sizeof(*k));
				memcpy(k->local, local, sizeof(k->local));
				memcpy(k->remote, remote, sizeof(k->remote));
				k->state = st_tcp_state_name((int)st);
				k->timer_ms = row_timer_ms(fl);
				k->inode = strtoull(fl[9], NULL, 10);
				k->uid = st == ST_TCP_TIME_WAIT ? -1 : (int64_t)strtoul(fl[7], NULL, 10);
				k->pid = -1;
				k->v6only = -1;
			}
		}
		fclose(f);
	}
	ev->lingering = out->k;
	ev->nlingering = n;
	ev->lingering_total = total;
	ev->time_wait = tw;
}

/* ---- events ---- */

static void begin(struct st_event *ev, struct thread *t, enum st_call call)
{
	st_event_init(ev);
	ev->call = call;
	ev->pid = t->p->pid;
	ev->tid = t->tid;
	ev->seq = ++t->p->seq;
}

/* Events queued in the runner and not yet written: what a SIGKILL of the
 * runner loses.  Written when every tracee runs or waits, and at the
 * latest after FLUSH_EVENTS events or FLUSH_NS since the first of them
 * (socktrace(7), GUARANTEES). */
#define FLUSH_EVENTS 32
#define FLUSH_NS (10 * 1000000LL)
static int unflushed;
static int64_t unflushed_since;

static void emit(const struct st_event *ev)
{
	st_drain_event(drain, ev);
	if (!unflushed++)
		unflushed_since = now_ns(CLOCK_MONOTONIC);
}

static void flush_now(void)
{
	st_drain_flush(drain);
	unflushed = 0;
}

/* The identity every start event carries (socktrace(7): host, boot, run,
 * cgroup, pidns), as the shim gives it, read here from outside: the host
 * and boot are the runner's own, the run the SOCKTRACE_RUN the runner set,
 * the cgroup (the v2 line of /proc/PID/cgroup, else the first line's) and
 * the pid namespace's inode the process's.  Unknown ones stay NULL / 0. */
struct origin {
	char host[65], boot[40], cgroup[512];
};

static void read_first_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void set_origin(struct st_event *ev, struct origin *o, pid_t pid)
{
	struct utsname u;
	struct stat st;
	char path[64], line[4096];
	FILE *f;

	if (uname(&u) == 0) {
		snprintf(o->host, sizeof(o->host), "%s", u.nodename);
		ev->host = o->host[0] ? o->host : NULL;
	}
	read_first_line("/proc/sys/kernel/random/boot_id", o->boot, sizeof(o->boot));
	ev->boot = o->boot[0] ? o->boot : NULL;
	ev->run = getenv("SOCKTRACE_RUN");
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	o->cgroup[0] = '\0';
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
			if (!b)
				continue;
			if (!o->cgroup[0] || !strncmp(line, "0::", 3)) {
				b[1 + strcspn(b + 1, "\n")] = '\0';
				snprintf(o->cgroup, sizeof(o->cgroup), "%s", b + 1);
			}
			if (!strncmp(line, "0::", 3))
				break;
		}
		fclose(f);
	}
	ev->cgroup = o->cgroup[0] ? o->cgroup : NULL;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &st) == 0)
		ev->pidns = (uint64_t)st.st_ino;
}

/* The sockets a new image holds from its start (inherited across exec, or
 * from the runner's caller), as the shim lists them: each descriptor of
 * /proc/PID/fd that names a socket, with what the kernel tells of it;
 * each goes into p's table, shared (another process may hold it).
 * Returns a list to free (NULL when there is none) and its length in *n;
 * *known false when /proc could not be read. */
static struct st_isock *inherited_socks(struct proc *p, int *n, bool *known)
{
	char path[64], link[64];
	struct st_isock *list = NULL;
	int cap = 0;
	DIR *d;
	struct dirent *de;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
	d = opendir(path);
	*known = d != NULL;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		struct facts f;
		struct st_isock *i;
		ssize_t len;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)p->pid, fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "socket:[", 8))
			continue;
		sock_set(p, (int)fd, strtoull(link + 8, NULL, 10), true);
		facts_of(p, (int)fd, &f, F_NAMES | F_TCP | F_LISTEN, NULL);
		if (!f.ok)
			continue;
		if (*n == cap)
			list = grow(list, &cap, sizeof(*list));
		i = &list[(*n)++];
		memset(i, 0, sizeof(*i));
		i->fd = (int)fd;
		i->inode = f.inode;
		i->family = st_family_name(f.family);
		i->type = st_socktype_name(f.type);
		i->proto = st_proto_name(f.family, f.type, f.protocol);
		memcpy(i->local, f.local, sizeof(i->local));
		memcpy(i->remote, f.remote, sizeof(i->remote));
		i->state = is_tcp(&f) && f.state ? st_tcp_state_name(f.state) : NULL;
		i->listening = f.listening;
	}
	closedir(d);
	return list;
}

/* The start of process p's image: exe, argv, ppid, "backend":"ptrace";
 * image: a new image (the program's, or after an exec), which lists the
 * sockets it holds from its start (a forked child's are its parent's). */
static void emit_start(struct thread *t, bool image)
{
	struct st_isock *isocks = NULL;
	int nisocks = 0;
	bool known = false;
	struct proc *p = t->p;
	char path[64], exe[4096], *args = NULL;
	const char **argv = NULL;
	size_t cap = 0, len = 0;
	struct st_event ev;
	struct origin origin;
	ssize_t n;
	int argc = 0, fd;

	p->seq = 0;
	p->started = true;
	begin(&ev, t, ST_CALL_start);
	ev.ts_us = now_ns(CLOCK_REALTIME) / 1000;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)p->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		ev.exe = exe;
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		for (;;) {
			if (len + 1 >= cap) {	/* one byte kept for a NUL */
				char *q = realloc(args, cap = cap ? cap * 2 : 4096);
				if (!q)
					break;
				args = q;
			}
			n = read(fd, args + len, cap - len - 1);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
	}
	if (args && len) {
		args[len] = '\0';	/* a last argument cut short stays terminated */
		for (size_t i = 0; i < len; i++)
			argc += !args[i];
		if (args[len - 1])
			argc++;
		argv = calloc((size_t)argc + 1, sizeof(*argv));
		if (argv) {
			int k = 0;
			for (size_t i = 0; i < len && k < argc; i += strnlen(args + i, len - i) + 1)
				argv[k++] = args + i;
			ev.argv = argv;
			ev.argc = k;
			ev.argc_total = k;
		}
	}
	ev.ppid = p->ppid > 0 ? p->ppid : proc_status(p->pid, "PPid");
	ev.version = PACKAGE_VERSION;
	ev.backend = "ptrace";
	set_origin(&ev, &origin, p->pid);
	if (image) {
		static const struct st_isock none[1];
		isocks = inherited_socks(p, &nisocks, &known);
		if (known) {
			ev.inherited = isocks ? isocks : none;
			ev.ninherited = nisocks;
		}
	}
	emit(&ev);
	free(isocks);
	free(argv);
	free(args);
}


static const char *how_name(int how)
{
	switch (how) {
	case SHUT_RD:
		return "SHUT_RD";
	case SHUT_WR:
		return "SHUT_WR";
	case SHUT_RDWR:
		return "SHUT_RDWR";
	default:
		return "SHUT_?";
	}
}

/* is descriptor fd of p a socket? (the table first, then the kernel) */
static bool is_socket(struct proc *p, int fd)
{
	char path[64], link[64];
	ssize_t n;

	if (fd < 0)
		return false;
	if (sock_at(p, fd))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)p->pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	if (strncmp(link, "socket:[", 8))
		return false;
	/* a socket from before: inherited, or made out of sight */
	sock_set(p, fd, strtoull(link + 8, NULL, 10), true);
	return true;
}

static void close_event(struct thread *t, int fd, const struct facts *f, struct st_event *ev);

/* Is descriptor fd of p close-on-exec?  (/proc/PID/fdinfo/FD's flags) */
static bool cloexec(const struct proc *p, int fd)
{
	char path[64], line[128];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)p->pid, fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags:", 6)) {
			yes = (strtoul(line + 6, NULL, 8) & O_CLOEXEC) != 0;
			break;
		}
	fclose(f);
	return yes;
}

/* a NUL-terminated string of the program's memory, cut to cap - 1 bytes */
static void peek_str(pid_t tid, uint64_t addr, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	while (addr && n + 1 < cap) {
		/* up to the next page boundary: the string may end before it */
		size_t chunk = 4096 - (size_t)((addr + n) & 4095);
		if (chunk > cap - 1 - n)
			chunk = cap - 1 - n;
		if (!peek(tid, addr + n, out + n, chunk))
			break;
		if (memchr(out + n, '\0', chunk))
			return;
		n += chunk;
	}
	out[n] = '\0';
}

/* The seccomp stop of an execve: each close-on-exec socket is recorded as
 * closed by the exec (an exec event, as the shim writes it before the
 * call: after it, its facts are gone).  Needs the exit stop when it
 * announced any: a failed exec keeps them, and says so. */
static bool exec_entry(struct thread *t)
{
	struct proc *p = t->p;
	int fds[64];
	int n = 0;

	t->nannounced = 0;
	for (int i = 0; i < p->nsocks && n < (int)(sizeof(fds) / sizeof(fds[0])); i++)
		if (cloexec(p, p->socks[i].fd))
			fds[n++] = p->socks[i].fd;
	for (int i = 0; i < n; i++) {
		struct st_event ev;
		struct facts f;

		facts_of(p, fds[i], &f, F_NAMES | F_OPTS | F_TCP | F_UNREAD, NULL);
		if (!f.ok)
			continue;
		begin(&ev, t, ST_CALL_exec);
		ev.ts_us = t->ts_us;
		ev.dur_ns = -1;
		ev.ret = 0;
		close_event(t, fds[i], &f, &ev);
		emit(&ev);
		if (t->nannounced == t->capannounced)
			t->announced = grow(t->announced, &t->capannounced, sizeof(*t->announced));
		t->announced[t->nannounced++] = fds[i];
	}
	if (!t->nannounced)
		return false;
	peek_str(t->tid, t->nr == SYS_execveat ? t->args[1] : t->args[0], t->exe, sizeof(t->exe));
	return true;
}

/* The seccomp stop of a traced call: does it need its exit stop? */
static bool call_entry(struct thread *t)
{
	struct proc *p = t->p;
	int fd = (int)t->args[0];

	switch (t->nr) {
#ifdef SYS_socket
	case SYS_socket:
	case SYS_socketpair:
		return true;
	case SYS_accept:
	case SYS_accept4:
	case SYS_bind:
	case SYS_listen:
	case SYS_connect:
	case SYS_setsockopt:
		return is_socket(p, fd);
	case SYS_getsockopt:
		return t->args[1] == SOL_SOCKET && t->args[2] == SO_ERROR && is_socket(p, fd);
	case SYS_shutdown:
#endif
	case SYS_close:
		if (!is_socket(p, fd))
			return false;
		if (!t->pre)
			t->pre = malloc(sizeof(*t->pre));
		if (!t->pre)
			return false;
		facts_of(p, fd, t->pre, t->nr == SYS_close ? F_NAMES | F_OPTS | F_TCP | F_UNREAD | F_CACHED : F_TCP, NULL);
		return t->pre->ok;
	case SYS_dup:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
		/* a descriptor put over a socket ends it there too */
		if (t->nr != SYS_dup && t->args[1] != t->args[0] && sock_at(p, (int)t->args[1])) {
			/* the socket at newfd, closed by the call: its facts now */
			if (!t->pre)
				t->pre = malloc(sizeof(*t->pre));
			if (t->pre)
				facts_of(p, (int)t->args[1], t->pre, F_NAMES | F_OPTS | F_TCP | F_UNREAD | F_CACHED, NULL);
			return true;
		}
		if (t->pre)
			t->pre->ok = false;
		return is_socket(p, fd);
	case SYS_fcntl:
		return (t->args[1] == F_DUPFD || t->args[1] == F_DUPFD_CLOEXEC) && is_socket(p, fd);
	case SYS_close_range:
		/* each socket of the range: its facts before the call, its
		 * event (as the shim's, one per socket) when the call is done */
		t->nranged = 0;
		if (t->args[2] & 4 /* CLOSE_RANGE_CLOEXEC: nothing closed now */)
			return false;
		if (t->args[2] & 2 /* CLOSE_RANGE_UNSHARE: one event, as the shim's */)
			return true;
		for (int i = 0; i < p->nsocks; i++) {
			unsigned sfd = (unsigned)p->socks[i].fd;
			if (sfd < (unsigned)t->args[0] || sfd > (unsigned)t->args[1])
				continue;
			if (t->nranged == t->capranged)
				t->ranged = grow(t->ranged, &t->capranged, sizeof(*t->ranged));
			facts_of(p, (int)sfd, &t->ranged[t->nranged], F_NAMES | F_OPTS | F_TCP | F_UNREAD | F_CACHED,
				 NULL);
			t->ranged[t->nranged].fd = (int)sfd;
			t->nranged++;
		}
		return t->nranged > 0;	/* no socket in it: no event, as under the shim */
	case SYS_execve:
	case SYS_execveat:
		return exec_entry(t);
	default:
		return false;
	}
}

static void ret_err(struct st_event *ev, int64_t ret)
{
	ev->ret = ret < 0 ? -1 : ret;
	ev->err = ret < 0 ? st_errno_name((int)-ret) : NULL;
}

/* a close, as the shim tells it: the socket's facts before, the state after */
static void close_event(struct thread *t, int fd, const struct facts *f, struct st_event *ev)
{
	struct proc *p = t->p;
	struct sock *s = sock_at(p, fd);
	bool shared = s && s->shared;
	bool last = !sock_held_elsewhere(p, fd, f->inode);

	ev->fd = fd;
	event_sock(ev, f, s);
	event_opts(ev, f);
	ev->last_ref_known = true;
	ev->last_ref = last;
	if (is_tcp(f) && f->state) {
		ev->state_before = st_tcp_state_name(f->state);
		connect_check(ev, s, f);
		if (f->state != ST_TCP_LISTEN && f->remote[0]) {
			ev->has_tcp = true;
			ev->tcp = f->tcp;
			ev->tcp.unread = f->unread;
		}
		if (!last || (shared && sock_held_by_other(p, f->inode))) {
			/* another descriptor, or another process, keeps it open */
			ev->state = ev->state_before;
		} else {
			if (f->local[0] && f->remote[0]) {
				/* for its exit's lingering list */
				if (p->nclosed == p->capclosed)
					p->closed = grow(p->closed, &p->capclosed, sizeof(*p->closed));
				p->closed[p->nclosed++] = (struct closed){ tuple_hash(f->local, f->remote),
									  f->reuseaddr, f->reuseport };
			}
			ev->reset_reason = st_tcp_close_reset(f->state, f->linger, f->unread);
			ev->reset_known = true;
			ev->reset = ev->reset_reason != NULL;
			ev->state = st_tcp_state_name(st_tcp_close_state(f->state, ev->reset));
		}
	}
	sock_drop(p, fd);
}

/* The exit stop of a traced call: its event. */
static void call_exit(struct thread *t, int64_t ret)
{
	struct proc *p = t->p;
	struct st_event ev;
	struct facts f;
	int fd = (int)t->args[0];
	uint64_t *a = t->args;
	enum st_call call;
	static struct holders hold;

	/* cut short by a signal: it comes again (restarted by the kernel),
	 * or fails with EINTR; which, the signal's delivery tells (see
	 * signal_stop()) */
	if (ret <= -512 && ret >= -516) {
		t->restart = (int)-ret;
		return;
	}
	t->restart = 0;
	switch (t->nr) {
#ifdef SYS_socket
	case SYS_socket: call = ST_CALL_socket; break;
	case SYS_socketpair: call = ST_CALL_socketpair; break;
	case SYS_bind: call = ST_CALL_bind; break;
	case SYS_listen: call = ST_CALL_listen; break;
	case SYS_accept: call = ST_CALL_accept; break;
	case SYS_accept4: call = ST_CALL_accept4; break;
	case SYS_connect: call = ST_CALL_connect; break;
	case SYS_shutdown: call = ST_CALL_shutdown; break;
	case SYS_setsockopt: call = ST_CALL_setsockopt; break;
	case SYS_getsockopt: call = ST_CALL_getsockopt; break;
#endif
	case SYS_close: call = ST_CALL_close; break;
	case SYS_close_range: call = ST_CALL_close_range; break;
	case SYS_dup: call = ST_CALL_dup; break;
#ifdef SYS_dup2
	case SYS_dup2: call = ST_CALL_dup2; break;
#endif
	case SYS_dup3: call = ST_CALL_dup3; break;
	case SYS_fcntl: call = ST_CALL_fcntl; break;
	case SYS_execve: call = ST_CALL_execve; break;
	case SYS_execveat: call = ST_CALL_execveat; break;
	default: return;
	}
	begin(&ev, t, call);
	ev.ts_us = t->ts_us;
	ev.dur_ns = now_ns(CLOCK_MONOTONIC) - t->t0_ns;
	ret_err(&ev, ret);

	switch (t->nr) {
#ifdef SYS_socket
	case SYS_socket: {
		int type = (int)a[1] & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
		ev.family = st_family_name((int)a[0]);
		ev.type = st_socktype_name(type);
		ev.proto = st_proto_name((int)a[0], type, (int)a[2]);
		ev.flags = st_sock_type_flags((int)a[1]);
		if (ret >= 0) {
			/* its identity is the call's: only the inode is asked */
			struct sock like = { .has_id = true, .family = (int)a[0], .type = type,
					     .protocol = (int)a[2] };
			ev.fd = (int)ret;
			sock_drop(p, (int)ret);	/* what the table had there is gone */
			facts_of(p, (int)ret, &f, 0, &like);
			if (f.ok) {
				struct sock *n = sock_set(p, (int)ret, f.inode, false);
				ev.inode = f.inode;
				n->has_id = true;
				n->family = (int)a[0];
				n->type = type;
				n->protocol = (int)a[2];
				/* a new socket's options: none set */
				n->opts_known = true;
				n->linger = -1;
				n->v6only = -1;
				if (is_tcp(&f))
					ev.state = "CLOSE";
			}
		}
		break;
	}
	case SYS_socketpair: {
		int type = (int)a[1] & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), sv[2] = { -1, -1 };
		ev.family = st_family_name((int)a[0]);
		ev.type = st_socktype_name(type);
		ev.proto = st_proto_name((int)a[0], type, (int)a[2]);
		ev.flags = st_sock_type_flags((int)a[1]);
		if (ret == 0 && peek(t->tid, a[3], sv, sizeof(sv))) {
			ev.pair[0] = sv[0];
			ev.pair[1] = sv[1];
			for (int i = 0; i < 2; i++) {
				facts_of(p, sv[i], &f, 0, NULL);
				if (!f.ok)
					continue;
				sock_set(p, sv[i], f.inode, false);
				if (i == 0)
					ev.inode = f.inode;
				else if (f.family == AF_UNIX && ev.inode)
					ev.peer_inode = f.inode;	/* the first end's peer */
			}
		}
		break;
	}
	case SYS_bind:
	case SYS_connect:
		ev.fd = fd;
		peek_addr(t->tid, a[1], a[2], ev.addr);
		facts_of(p, fd, &f, F_NAMES | F_TCP | (t->nr == SYS_bind ? F_OPTS : 0), NULL);
		event_sock(&ev, &f, sock_at(p, fd));
		if (t->nr == SYS_bind) {
			event_opts(&ev, &f);
			event_state(&ev, &f);
			if (ret < 0 && -ret == EADDRINUSE && is_tcp(&f) && a[2] <= sizeof(struct sockaddr_storage) &&
			    a[2] >= sizeof(sa_family_t)) {
				struct sockaddr_storage want;
				memset(&want, 0, sizeof(want));
				if (peek(t->tid, a[1], &want, a[2]) &&
				    (want.ss_family == AF_INET || want.ss_family == AF_INET6)) {
					struct st_bind_new n;
					bool complete;
					new_socket(p, fd, &want, &f, &n);
					find_holders(&n, &want, &hold);
					ev.holders = hold.k;
					ev.nholders = hold.n;
					if (hold.cut)
						ev.holders_incomplete = "more than 16 sockets hold the port";
					/* the kernel's rules over what is known of each
					 * holder: the options of a traced process's socket,
					 * nothing of another process's (unknown, as under
					 * the shim) */
					complete = !hold.cut && !(n.dev && hold.unknown_dev);
					/* the bind as made must be explained by a holder:
					 * else one is missing from the table (a socket bound
					 * and not listening is not in /proc/net/tcp) */
					if (st_bind_verdict(&n, hold.f, hold.n, n.ra, n.rp, true) != 0) {
						complete = false;
						if (!ev.holders_incomplete)
							ev.holders_incomplete = "sockets bound and not listening are not in "
										"/proc/net/tcp: some may hold the port";
					}
					ev.has_verdict = true;
					ev.verdict_reuseaddr = st_bind_verdict(&n, hold.f, hold.n, true, n.rp, complete);
					ev.verdict_reuseport = st_bind_verdict(&n, hold.f, hold.n, n.ra, true, complete);
					if (ev.verdict_reuseaddr < 0 || ev.verdict_reuseport < 0)
						ev.verdict_why = !complete ? "not every holder is known" :
								  "a holder's SO_REUSEADDR or SO_REUSEPORT is not visible to this process";
				}
			}
			break;
		}
		if (ret < 0 && (-ret == EINPROGRESS || -ret == EINTR) && is_tcp(&f)) {
			/* the handshake goes on without the program */
			struct sock *s = sock_at(p, fd);
			if (!ev.remote[0])
				memcpy(ev.remote, ev.addr, sizeof(ev.remote));
			if (s)
				s->connect_pending = true;
			if (-ret == EINPROGRESS)
				ev.state = "SYN_SENT";
			else
				event_state(&ev, &f);
		} else {
			event_state(&ev, &f);
		}
		ev.self_connect = ret == 0 && ev.local[0] && !strcmp(ev.local, ev.remote) &&
				  (f.family == AF_INET || f.family == AF_INET6);
		break;
	case SYS_listen:
		ev.fd = fd;
		ev.backlog = (int)a[1];
		facts_of(p, fd, &f, F_NAMES | F_OPTS | F_TCP, NULL);
		event_sock(&ev, &f, sock_at(p, fd));
		event_opts(&ev, &f);
		event_state(&ev, &f);
		break;
	case SYS_accept:
	case SYS_accept4:
		ev.listen_fd = fd;
		if (t->nr == SYS_accept4)
			ev.flags = st_sock_type_flags((int)a[3]);
		if (ret >= 0) {
			struct sock *l;
			ev.fd = (int)ret;
			sock_drop(p, (int)ret);	/* what the table had there is gone */
			l = sock_at(p, fd);
			facts_of(p, (int)ret, &f, F_NAMES | F_TCP, l);
			event_sock(&ev, &f, NULL);
			event_state(&ev, &f);
			if (f.ok && f.family == AF_UNIX && (f.type == SOCK_STREAM || f.type == SOCK_SEQPACKET))
				ev.peer_inode = unix_peer(f.inode);
			if (f.ok) {
				struct sock *n = sock_set(p, (int)ret, f.inode, false);
				l = sock_at(p, fd);	/* (the table may have moved) */
				n->has_id = true;
				n->family = f.family;
				n->type = f.type;
				n->protocol = f.protocol;
				memcpy(n->remote, f.remote, sizeof(n->remote));
				if (f.remote[0])
					memcpy(n->local, f.local, sizeof(n->local));
				if (cached_ok(l, l ? l->inode : 0)) {
					/* an accepted socket has its listener's options
					 * (the kernel clones the listener) */
					n->opts_known = true;
					n->ra = l->ra;
					n->rp = l->rp;
					n->linger = l->linger;
					n->v6only = -1;
				}
			}
		} else {
			facts_of(p, fd, &f, F_NAMES, NULL);
			event_sock(&ev, &f, sock_at(p, fd));
		}
		break;
	case SYS_shutdown:
		ev.fd = fd;
		ev.how = how_name((int)a[1]);
		facts_of(p, fd, &f, F_NAMES | F_TCP, NULL);
		event_sock(&ev, &f, sock_at(p, fd));
		if (t->pre)
			connect_check(&ev, sock_at(p, fd), t->pre);
		if (f.ok && is_tcp(&f)) {
			/* the kernel's transition, as the shim records it: the
			 * reading at the call's stop is older than the shim's */
			int read = t->pre && t->pre->ok && is_tcp(t->pre) ? t->pre->state : 0;

			st_tcp_shutdown_event(&ev, read, (int)a[1], ret == 0, f.state);
		}
		break;
	case SYS_setsockopt:
	case SYS_getsockopt: {
		int v = 0;
		ev.fd = fd;
		ev.level = st_level_name((int)a[1]);
		ev.optname = st_sockopt_name((int)a[1], (int)a[2]);
		if (t->nr == SYS_setsockopt) {
			if (a[1] == SOL_SOCKET && a[2] == SO_LINGER) {
				struct linger lg = { 0, 0 };
				if (a[4] >= sizeof(lg) && peek(t->tid, a[3], &lg, sizeof(lg))) {
					ev.has_optlinger = true;
					ev.optlinger_onoff = lg.l_onoff;
					ev.optlinger_secs = lg.l_linger;
				}
			} else if (a[4] >= sizeof(int) && peek(t->tid, a[3], &v, sizeof(v))) {
				ev.has_optval = true;
				ev.optval = v;
			}
		} else if (ret == 0 && peek(t->tid, a[3], &v, sizeof(v))) {
			ev.so_error = v ? st_errno_name(v) : "0";
		}
		facts_of(p, fd, &f, F_NAMES | (t->nr == SYS_setsockopt ? F_OPTS : F_TCP), NULL);
		event_sock(&ev, &f, sock_at(p, fd));
		if (t->nr == SYS_setsockopt) {
			event_opts(&ev, &f);
		} else {
			event_state(&ev, &f);
			connect_check(&ev, sock_at(p, fd), &f);
		}
		break;
	}
#endif
	case SYS_close:
		if (ret < 0 && -ret == EBADF)
			sock_drop(p, fd);
		if (!t->pre || !t->pre->ok)
			return;
		close_event(t, fd, t->pre, &ev);
		break;
	case SYS_close_range: {
		/* each socket of the range, as the shim records it: a
		 * close_range event per socket, with its facts from before */
		int n = 0;
		ev.range_first = (int64_t)a[0];
		ev.range_last = (int64_t)a[1];
		if (ret < 0 || !t->nranged) {
			emit(&ev);
			return;
		}
		/* in the order of the descriptors, from the seq ev took */
		p->seq = ev.seq - 1;
		for (int k = 0; k < t->nranged; k++) {
			int best = -1;
			for (int m = 0; m < t->nranged; m++)
				if (t->ranged[m].ok != false && (best < 0 || t->ranged[m].fd < t->ranged[best].fd))
					best = m;
			if (best < 0)
				break;
			{
				struct st_event c;
				struct facts *rf = &t->ranged[best];
				begin(&c, t, ST_CALL_close_range);
				c.ts_us = t->ts_us;
				c.dur_ns = ev.dur_ns;
				c.ret = 0;
				c.range_first = ev.range_first;
				c.range_last = ev.range_last;
				close_event(t, rf->fd, rf, &c);
				emit(&c);
				n++;
				rf->ok = false;
			}
		}
		/* sockets whose facts could not be read: gone from the table */
		for (int k = 0; k < t->nranged; k++)
			sock_drop(p, t->ranged[k].fd);
		t->nranged = 0;
		if (!n) {
			ev.seq = ++p->seq;
			emit(&ev);
		}
		return;
	}
	case SYS_dup:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
	case SYS_fcntl:
		ev.fd = fd;
		if (t->nr == SYS_fcntl)
			ev.cmd = a[1] == F_DUPFD ? "F_DUPFD" : "F_DUPFD_CLOEXEC";
		if (t->nr == SYS_dup3 && (a[2] & O_CLOEXEC))
			ev.flags = "O_CLOEXEC";
		facts_of(p, fd, &f, F_NAMES, NULL);
		if (!f.ok) {
			/* no socket duplicated: one at the new descriptor is gone */
			if (ret >= 0 && t->nr != SYS_dup && t->nr != SYS_fcntl)
				sock_drop(p, (int)ret);
			return;
		}
		event_sock(&ev, &f, sock_at(p, fd));
		if (ret >= 0) {
			struct sock *s = sock_at(p, fd);
			ev.newfd = (int)ret;
			if (t->nr != SYS_dup && t->nr != SYS_fcntl && (int)ret != fd && sock_at(p, (int)ret)) {
				/* dup2/dup3 closed the socket at newfd: its close first,
				 * as the shim records it */
				if (t->pre && t->pre->ok) {
					struct st_event c;
					begin(&c, t, (enum st_call)ev.call);
					c.seq = ev.seq;	/* before the dup's own event */
					ev.seq = p->seq;
					c.ts_us = t->ts_us;
					c.ret = ret;
					c.implicit_close = true;
					close_event(t, (int)ret, t->pre, &c);
					emit(&c);
				}
				sock_drop(p, (int)ret);
				s = sock_at(p, fd);
			}
			if (f.ok) {
				struct sock from = s ? *s : (struct sock){ 0 };
				struct sock *n = sock_set(p, (int)ret, f.inode, from.shared);
				n->has_id = true;
				n->family = f.family;
				n->type = f.type;
				n->protocol = f.protocol;
				if (from.inode == f.inode) {
					/* one socket: its tuple and options are the original's */
					memcpy(n->remote, from.remote, sizeof(n->remote));
					memcpy(n->local, from.local, sizeof(n->local));
					n->opts_known = from.opts_known;
					n->ra = from.ra;
					n->rp = from.rp;
					n->linger = from.linger;
					n->v6only = from.v6only;
				}
			}
		}
		break;
	case SYS_execve:
	case SYS_execveat:
		/* here only when it failed (a new image's stop clears in_call):
		 * the sockets told closed are still open, tracked again when
		 * next used */
		if (ret >= 0)
			return;
		ev.exe = t->exe[0] ? t->exe : NULL;
		ev.kept = t->announced;
		ev.nkept = t->nannounced;
		break;
	default:
		return;
	}
	emit(&ev);
}

/* A socket's close, recorded at its seccomp stop (see stopped()). */
static void close_now(struct thread *t)
{
	struct st_event ev;

	begin(&ev, t, ST_CALL_close);
	ev.ts_us = t->ts_us;
	ev.ret = 0;
	close_event(t, (int)t->args[0], t->pre, &ev);
	emit(&ev);
}

/* rt_sigaction setting a handler (its seccomp stop, before the call):
 * which signals are caught, and which with SA_RESTART.  A call that fails
 * (a bad signal number or set size, an address it cannot read) sets
 * nothing, and is left out here alike. */
static void sigaction_entry(struct thread *t)
{
	unsigned long act[2];	/* the kernel's sigaction: handler, flags first */
	int sig = (int)t->args[0];
	uint64_t bit;

	if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP || t->args[3] != 8 ||
	    !peek(t->tid, t->args[1], act, sizeof(act)))
		return;
	bit = 1ULL << (sig - 1);
	/* SIG_DFL is 0, SIG_IGN 1: anything else is a handler */
	if (act[0] > 1)
		t->p->caught |= bit;
	else
		t->p->caught &= ~bit;
	if (act[1] & SA_RESTART)
		t->p->sa_restart |= bit;
	else
		t->p->sa_restart &= ~bit;
}

/* A signal-delivery-stop of a thread whose call ended with -ERESTART*:
 * as the kernel decides at the signal's delivery (arch's handle_signal),
 * a signal with a handler ends the call with EINTR, unless the call
 * restarts whatever happens (ERESTARTNOINTR) or the handler has SA_RESTART
 * and the call allows it (ERESTARTSYS): then its event is written now.  A
 * signal without a handler (ignored, stopping) changes nothing: the call
 * comes again (its next seccomp stop clears t->restart). */
static void signal_stop(struct thread *t, int sig)
{
	uint64_t bit = sig >= 1 && sig <= 64 ? 1ULL << (sig - 1) : 0;
	bool again;

	if (!(t->p->caught & bit))
		return;
	again = t->restart == 513 /* ERESTARTNOINTR */ ||
		(t->restart == 512 /* ERESTARTSYS */ && (t->p->sa_restart & bit));
	t->restart = 0;
	if (!again)
		call_exit(t, -EINTR);
}

/* exit_group: the exit event, before the process goes */
static void exit_event(struct thread *t, int status)
{
	struct st_event ev;
	static struct linger_list ling;

	begin(&ev, t, ST_CALL_exit);
	ev.ts_us = now_ns(CLOCK_REALTIME) / 1000;
	ev.open_sockets = t->p->nsocks;
	ev.status = status & 0xff;
	lingering(t->p, &ev, &ling);
	emit(&ev);
}

/* ---- the child's side ---- */

static _Noreturn void child(char *const *argv, int go_fd, const sigset_t *orig)
{
	struct sock_filter f[16 + sizeof(traced) / sizeof(traced[0])];
	struct sock_fprog prog = { 0, f };
	size_t n = sizeof(traced) / sizeof(traced[0]), k = 0;
	char c;
	int err;

	/* wait until the runner has seized this process */
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	close(go_fd);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NATIVE, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* rt_sigaction: stopped on only when its act (args[1]) is not NULL */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigaction, 0, 6);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (size_t i = 0; i < n; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)traced[i],
						      (unsigned char)(n - i), 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	prog.len = (unsigned short)k;
	sigprocmask(SIG_SETMASK, orig, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		fprintf(stderr, "socktrace: cannot install the seccomp filter: %s\n", strerror(errno));
		_exit(126);
	}
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "socktrace: cannot run %s: %s\n", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

/* ---- the tracer ---- */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* the terminal's signals reach the program's group themselves */
	if (si->si_code == SI_KERNEL)
		return;
	pending_sig = sig;
}


// NOLINTBEGIN(performance-no-int-to-ptr)
static void resume(pid_t tid, int how, int sig)
{
	if (ptrace(how, tid, 0, (void *)(uintptr_t)sig) < 0 && errno != ESRCH)
		fprintf(stderr, "socktrace: ptrace(%d, %d): %s\n", how, (int)tid, strerror(errno));
}

static int seize(pid_t pid)
{
	return (int)ptrace(PTRACE_SEIZE, pid, 0,
			   (void *)(uintptr_t)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
					       PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP |
					       PTRACE_O_TRACESYSGOOD));
}
// NOLINTEND(performance-no-int-to-ptr)

/* a tracee we had not seen: a new process, or a thread of one */
static struct thread *adopt(pid_t tid)
{
	long tgid = proc_status(tid, "Tgid");
	struct proc *p = proc_find(tgid > 0 ? (pid_t)tgid : tid);

	if (!p) {
		long ppid = proc_status(tid, "PPid");
		p = proc_new(tgid > 0 ? (pid_t)tgid : tid, (pid_t)ppid, proc_find((pid_t)ppid));
	}
	return thread_new(tid, p);
}

static void stopped(pid_t tid, int status)
{
	struct thread *t = thread_find(tid);
	int sig = WSTOPSIG(status), event = status >> 16;

	if (!t)
		t = adopt(tid);
	if (sig == (SIGTRAP | 0x80)) {
		/* the exit stop of a call let run from its seccomp stop */
		struct __ptrace_syscall_info info;
		if (t->in_call &&
		    ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
		    info.op == PTRACE_SYSCALL_INFO_EXIT)
			call_exit(t, info.exit.rval);
		t->in_call = false;
		resume(tid, PTRACE_CONT, 0);
		return;
	}
	if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
		struct __ptrace_syscall_info info;
		bool again;
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0 ||
		    info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
			resume(tid, PTRACE_CONT, 0);
			return;
		}
		/* a call cut short that comes again keeps its start, as the
		 * shim's wrapper sees one call */
		again = t->restart && t->nr == (int)info.seccomp.nr &&
			!memcmp(t->args, info.seccomp.args, sizeof(t->args));
		t->nr = (int)info.seccomp.nr;
		memcpy(t->args, info.seccomp.args, sizeof(t->args));
		t->restart = 0;
		/* (an exec's image starts at its exec stop: the runner's child
		 * before its first exec is not the program) */
		if (!t->p->started && t->nr != SYS_execve && t->nr != SYS_execveat)
			emit_start(t, false);
		if (t->nr == SYS_rt_sigaction) {
			sigaction_entry(t);
			resume(tid, PTRACE_CONT, 0);
			return;
		}
		if (t->nr == SYS_exit_group) {
			exit_event(t, (int)t->args[0]);
			resume(tid, PTRACE_CONT, 0);
			return;
		}
		if (!again) {
			t->ts_us = now_ns(CLOCK_REALTIME) / 1000;
			t->t0_ns = now_ns(CLOCK_MONOTONIC);
		}
		t->in_call = call_entry(t);
		if (t->in_call && t->nr == SYS_close) {
			/* the close of a socket the runner just copied: the kernel
			 * releases the descriptor and returns 0 whatever happens
			 * next (net/socket.c: sock_close), so its event is made now
			 * and the call runs without a second stop (its time is not
			 * measured) */
			close_now(t);
			t->in_call = false;
		}
		resume(tid, t->in_call ? PTRACE_SYSCALL : PTRACE_CONT, 0);
		return;
	}
	if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
		unsigned long former = 0;
		/* a thread that exec'd took the leader's tid: the others are gone */
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &former) == 0 && (pid_t)former != tid) {
			struct thread *o = thread_find((pid_t)former);
			if (o)
				thread_free(o);
		}
		/* a new image: its sockets are what survived the exec, and
		 * its handlers are back to their defaults */
		t->p->nsocks = 0;
		t->p->caught = t->p->sa_restart = 0;
		t->restart = 0;
		t->in_call = false;	/* the exec's exit stop is not to come */
		emit_start(t, true);
		resume(tid, PTRACE_CONT, 0);
		return;
	}
	if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
			       event == PTRACE_EVENT_CLONE)) {
		unsigned long child_tid = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child_tid) == 0 && child_tid &&
		    !thread_find((pid_t)child_tid)) {
			if (event == PTRACE_EVENT_CLONE && proc_status((pid_t)child_tid, "Tgid") == t->p->pid) {
				thread_new((pid_t)child_tid, t->p);
			} else {
				struct proc *c = proc_new((pid_t)child_tid, t->p->pid, t->p);
				thread_new((pid_t)child_tid, c);
			}
		}
		resume(tid, PTRACE_CONT, 0);
		return;
	}
	if (event == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* a group-stop: stays stopped until SIGCONT, as bare */
			resume(tid, PTRACE_LISTEN, 0);
			return;
		}
		/* the first stop of a new tracee: a forked child starts */
		if (t->p->pid == tid && !t->p->started && tid != main_pid)
			emit_start(t, false);
		resume(tid, PTRACE_CONT, 0);
		return;
	}
	if (event) {
		resume(tid, PTRACE_CONT, 0);
		return;
	}
	/* a signal-delivery-stop: the signal goes on as it came */
	if (t->restart)
		signal_stop(t, sig);
	resume(tid, PTRACE_CONT, sig);
}

int st_ptrace_run(char *const *argv, struct st_drain *d)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO }, ign = { .sa_handler = SIG_IGN };
	static const int passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigset_t orig;
	int go[2], main_status = -1;
	pid_t pid;

	drain = d;
	if (!ARCH_NATIVE) {
		fprintf(stderr, "socktrace: the ptrace back end does not know this machine's system calls\n");
		return 2;
	}
	sigprocmask(SIG_SETMASK, NULL, &orig);
	if (pipe2(go, O_CLOEXEC) != 0) {
		fprintf(stderr, "socktrace: cannot make a pipe: %s\n", strerror(errno));
		return 2;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "socktrace: cannot make a process: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		close(go[1]);
		child(argv, go[0], &orig);
	}
	close(go[0]);
	main_pid = pid;
	if (seize(pid) != 0) {
		int err = errno;
		/* a tracer of the runner (strace -f, a debugger following forks)
		 * took the child first: ptrace allows one tracer */
		long tracer = proc_status(pid, "TracerPid");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (err == EPERM && tracer > 0)
			fprintf(stderr, "socktrace: the ptrace back end cannot trace %s: process %ld (a debugger, "
					"strace -f) already traces it, and a process has one tracer\n",
				argv[0], tracer);
		else
			fprintf(stderr, "socktrace: ptrace is not allowed here (%s): the ptrace back end cannot "
					"trace %s (see kernel.yama.ptrace_scope, or a container's seccomp profile)\n",
				strerror(err), argv[0]);
		return 2;
	}
	thread_new(pid, proc_new(pid, getpid(), NULL));
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaction(passed[i], &sa, NULL);
	sigaction(SIGTTOU, &ign, NULL);
	if (write(go[1], "", 1) != 1) {
		/* the child died before it could be told */
	}
	close(go[1]);

	while (nthreads > 0) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);

		if (tid == 0 || (tid < 0 && errno == EINTR)) {
			/* every tracee runs or waits: what is recorded is written
			 * now, one write for a batch of stops */
			if (unflushed)
				flush_now();
			tid = waitpid(-1, &status, __WALL);
		} else if (unflushed &&
			   (unflushed >= FLUSH_EVENTS || now_ns(CLOCK_MONOTONIC) - unflushed_since >= FLUSH_NS)) {
			/* tracees keep the runner busy: the queue stays short */
			flush_now();
		}

		if (pending_sig) {
			int sig = pending_sig;
			pending_sig = 0;
			kill(pid, sig);	/* the program gets what the runner was sent */
		}
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFSTOPPED(status)) {
			stopped(tid, status);
			continue;
		}
		/* a thread or a process is gone */
		{
			struct thread *t = thread_find(tid);
			struct proc *p = t ? t->p : proc_find(tid);
			if (t)
				thread_free(t);
			if (p && p->pid == tid) {
				if (p->started)
					st_drain_end(d, tid, status);	/* flushes */
				unflushed = 0;
				for (int i = nthreads - 1; i >= 0; i--)
					if (threads[i]->p == p)
						thread_free(threads[i]);
				proc_free(p);
			}
			if (tid == pid)
				main_status = status;
		}
	}
	for (int i = nprocs - 1; i >= 0; i--)
		proc_free(procs[i]);
	free(procs);
	free(threads);
	st_drain_finish(d);
	if (main_status >= 0 && WIFSIGNALED(main_status)) {
		st_die_as(WTERMSIG(main_status));
		return 128 + WTERMSIG(main_status);
	}
	return main_status >= 0 && WIFEXITED(main_status) ? WEXITSTATUS(main_status) : 2;
}
