/* SPDX-License-Identifier: MIT */
/* wrap_socket.c - the socket calls: socket, socketpair, bind, listen,
 * accept, accept4, connect, shutdown, setsockopt, getsockopt(SO_ERROR).
 *
 * Each wrapper lets the real call run with the program's own arguments,
 * then records it.  The program sees the same result and errno as without
 * the shim.  Each call has one handler (st_do_*), shared with syscall(2)'s
 * wrapper: `raw` makes the real call with syscall(2).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#define _GNU_SOURCE
#include "wrap.h"
#include "drift.h"
#include "kernelview.h"
#include "names.h"
#include "sockdiag.h"

#include <string.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/tcp.h>


static void tcp_state(struct st_event *ev, struct st_sock *s, int fd)
{
	int st;

	if (!s->is_tcp)
		return;
	st = st_tcp_state(fd, NULL);
	if (st) {
		ev->state = st_tcp_state_name(st);
		st_connect_check(s, ev, st);
	}
}

int st_do_socket(int domain, int type, int protocol, bool raw)
{
	struct st_event ev;
	int64_t t0;
	int ret, err;

#define REAL_SOCKET() (raw ? (int)REAL(syscall)(SYS_socket, domain, type, protocol) : \
		       REAL(socket)(domain, type, protocol))
	if (!st_active() || !st_family_enabled(domain))
		return REAL_SOCKET();
	t0 = st_begin(&ev, ST_CALL_socket);
	ret = REAL_SOCKET();
	err = errno;
#undef REAL_SOCKET
	ev.via_syscall = raw;
	st_end(&ev, t0, ret, err);
	ev.family = st_family_name(domain);
	ev.type = st_socktype_name(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
	ev.proto = st_proto_name(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol);
	ev.flags = st_sock_type_flags(type);
	if (ret >= 0) {
		struct st_sock *s = st_sock_new();
		ev.fd = ret;
		if (s) {
			st_sock_identify(ret, s, domain, type, protocol);
			st_fd_install(ret, s, ST_CALL_socket);
			st_event_sock(&ev, s);
			if (s->is_tcp)
				ev.state = "CLOSE";
		}
	}
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int socket(int domain, int type, int protocol)
{
	return st_do_socket(domain, type, protocol, false);
}

int st_do_socketpair(int domain, int type, int protocol, int sv[2], bool raw)
{
	struct st_event ev;
	int64_t t0;
	int ret, err;

#define REAL_PAIR() (raw ? (int)REAL(syscall)(SYS_socketpair, domain, type, protocol, sv) : \
		     REAL(socketpair)(domain, type, protocol, sv))
	if (!st_active() || !st_family_enabled(domain))
		return REAL_PAIR();
	t0 = st_begin(&ev, ST_CALL_socketpair);
	ret = REAL_PAIR();
	err = errno;
#undef REAL_PAIR
	ev.via_syscall = raw;
	st_end(&ev, t0, ret, err);
	ev.family = st_family_name(domain);
	ev.type = st_socktype_name(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
	ev.proto = st_proto_name(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol);
	ev.flags = st_sock_type_flags(type);
	if (ret == 0) {
		ev.pair[0] = sv[0];
		ev.pair[1] = sv[1];
		for (int i = 0; i < 2; i++) {
			struct st_sock *s = st_sock_new();
			if (!s)
				continue;
			st_sock_identify(sv[i], s, domain, type, protocol);
			st_fd_install(sv[i], s, ST_CALL_socketpair);
			if (i == 0)
				ev.inode = s->inode;
			else if (domain == AF_UNIX && ev.inode)
				ev.peer_inode = s->inode;	/* the first end's peer: the second */
		}
	}
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	return st_do_socketpair(domain, type, protocol, sv, false);
}

/* The kernel copied the address (so reading it cannot fault) unless the
 * call failed with EFAULT or a length it refused before copying. */
static bool addr_readable(int ret, int err, socklen_t len)
{
	return ret == 0 || (err != EFAULT && len <= sizeof(struct sockaddr_storage));
}

static bool port_zero(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return ((const struct sockaddr_in *)sa)->sin_port == 0;
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ((const struct sockaddr_in6 *)sa)->sin6_port == 0;
	if (sa->sa_family == AF_UNIX)
		return len <= sizeof(sa_family_t);	/* autobind */
	return true;
}

int st_do_bind(int fd, const struct sockaddr *addr, socklen_t len, bool raw)
{
	struct st_scratch sc = { NULL, 0 };
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err;

#define REAL_BIND() (raw ? (int)REAL(syscall)(SYS_bind, fd, addr, len) : REAL(bind)(fd, addr, len))
	if (!st_active() || !(s = st_lookup(fd, ST_CALL_bind)))
		return REAL_BIND();
	t0 = st_begin(&ev, ST_CALL_bind);
	ret = REAL_BIND();
	err = errno;
#undef REAL_BIND
	ev.via_syscall = raw;
	st_end(&ev, t0, ret, err);
	ev.fd = fd;
	if (addr_readable(ret, err, len))
		st_format_addr(addr, len, ev.addr, NULL);
	if (ret == 0) {
		if (port_zero(addr, len) || addr->sa_family != s->family)
			st_sock_local(fd, s);
		else
			st_format_addr(addr, len, s->local, &s->local_wild);
	}
	st_event_sock(&ev, s);
	st_event_opts(&ev, s);
	tcp_state(&ev, s, fd);
	if (addr_readable(ret, err, len))
		st_kv_bind(fd, s, addr, len, ret, err, &ev, &sc);
	st_emit(&ev);
	st_scratch_free(&sc);
	errno = err;
	return ret;
}

ST_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	return st_do_bind(fd, addr, len, false);
}

int st_do_listen(int fd, int backlog, bool raw)
{
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err;

#define REAL_LISTEN() (raw ? (int)REAL(syscall)(SYS_listen, fd, backlog) : REAL(listen)(fd, backlog))
	if (!st_active() || !(s = st_lookup(fd, ST_CALL_listen)))
		return REAL_LISTEN();
	t0 = st_begin(&ev, ST_CALL_listen);
	ret = REAL_LISTEN();
	err = errno;
#undef REAL_LISTEN
	ev.via_syscall = raw;
	st_end(&ev, t0, ret, err);
	ev.fd = fd;
	ev.backlog = backlog;
	if (ret == 0) {
		if (!s->local[0])
			st_sock_local(fd, s);	/* listen() bound an ephemeral port */
		if (s->is_tcp)
			ev.state = "LISTEN";
	} else {
		tcp_state(&ev, s, fd);
	}
	st_event_sock(&ev, s);
	st_event_opts(&ev, s);
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int listen(int fd, int backlog)
{
	return st_do_listen(fd, backlog, false);
}

/* An accepted AF_UNIX stream or seqpacket socket: the inode of its client
 * end, which the kernel alone knows: one sock_diag query, which walks the
 * kernel's unix sockets, so its cost grows with other processes' sockets:
 * asked only with SOCKTRACE_PROBE=close, which asks the kernel more; none
 * when it cannot say (the client already closed, no unix_diag). */
static void unix_peer(struct st_event *ev, const struct st_sock *s)
{
	uint64_t peer;
	int saved = errno;

	if (s->family != AF_UNIX || (s->type != SOCK_STREAM && s->type != SOCK_SEQPACKET) || !s->inode ||
	    st_cfg.probe != ST_PROBE_CLOSE)
		return;
	if (st_diag_unix_peer(s->inode, &peer) == 0)
		ev->peer_inode = peer;
	errno = saved;
}

int st_do_accept(enum st_call call, int fd, struct sockaddr *addr, socklen_t *len, int flags, bool four,
		 bool raw)
{
	struct st_event ev;
	struct st_sock *ls;
	struct sockaddr_storage own;
	socklen_t own_len = sizeof(own);
	struct sockaddr *a = addr;
	socklen_t *l = len;
	int64_t t0;
	int ret, err;

#define REAL_ACCEPT(A, L) (raw ? (four ? (int)REAL(syscall)(SYS_accept4, fd, (A), (L), flags) : \
					 (int)REAL(syscall)(SYS_accept, fd, (A), (L))) : \
			       (four ? REAL(accept4)(fd, (A), (L), flags) : REAL(accept)(fd, (A), (L))))
	if (!st_active() || !(ls = st_lookup(fd, call)))
		return REAL_ACCEPT(addr, len);
	/* the peer's address comes with the call: ask for it when the program
	 * does not want it (the kernel does the same work either way).  The
	 * program's own buffer and length are the program's to pass, untouched
	 * and unread before the call: a missing or unreadable length is the
	 * kernel's to answer (EFAULT, and the connection is gone), as bare. */
	if (!addr) {
		a = (struct sockaddr *)&own;
		l = &own_len;
	}
	t0 = st_begin(&ev, call);
	ret = REAL_ACCEPT(a, l);
	err = errno;
#undef REAL_ACCEPT
	st_end(&ev, t0, ret, err);
	ev.via_syscall = raw;
	ev.listen_fd = fd;
	if (four)
		ev.flags = st_sock_type_flags(flags);
	if (ret >= 0) {
		struct st_sock *s = st_sock_new();
		ev.fd = ret;
		if (s) {
			st_sock_identify(ret, s, ls->family, ls->type, ls->protocol);
			/* the kernel clones the listener: its options come along */
			s->reuseaddr = ls->reuseaddr;
			s->reuseport = ls->reuseport;
			s->linger = ls->linger;
			if (a == addr)
				st_sock_remote(ret, s);	/* the program's buffer may be short */
			else
				st_format_addr(a, *l, s->remote, NULL);
			if (ls->local_wild || !ls->local[0] || !s->is_inet)
				st_sock_local(ret, s);
			else
				memcpy(s->local, ls->local, sizeof(s->local));
			st_fd_install(ret, s, call);
			st_event_sock(&ev, s);
			tcp_state(&ev, s, ret);
			unix_peer(&ev, s);
		}
	} else {
		st_event_sock(&ev, ls);
		ev.fd = -1;
	}
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return st_do_accept(ST_CALL_accept, fd, addr, len, 0, false, false);
}

ST_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return st_do_accept(ST_CALL_accept4, fd, addr, len, flags, true, false);
}

/* The remote end a connect names, and its start while the handshake goes
 * on without the program (EINPROGRESS, EINTR, a cancelled thread): its end
 * is recorded at the next event that shows the state. */
static void connect_started(struct st_sock *s, int fd, const struct sockaddr *addr, socklen_t len)
{
	if (s->is_inet)
		st_format_addr(addr, len, s->remote, NULL);
	else
		st_sock_remote(fd, s);
}

struct connecting {
	struct st_event *ev;
	struct st_sock *s;
	int fd;
	const struct sockaddr *addr;
	socklen_t len;
	int64_t t0;
	bool raw;
};

static int op_connect(void *arg)
{
	const struct connecting *k = arg;

	return k->raw ? (int)REAL(syscall)(SYS_connect, k->fd, k->addr, k->len) : REAL(connect)(k->fd, k->addr, k->len);
}

/* The thread was cancelled inside a blocking connect: the kernel goes on
 * with the handshake; recorded as a connect left pending. */
static void connect_cancelled(void *arg)
{
	struct connecting *k = arg;
	struct st_event *ev = k->ev;

	st_end(ev, k->t0, -1, EINTR);
	ev->err = NULL;
	ev->cancelled = true;
	ev->fd = k->fd;
	if (k->addr && k->len >= sizeof(sa_family_t)) {
		st_format_addr(k->addr, k->len, ev->addr, NULL);
		connect_started(k->s, k->fd, k->addr, k->len);
		k->s->connect_pending = k->s->is_tcp;
		if (k->s->is_inet)
			st_sock_local(k->fd, k->s);
	}
	st_event_sock(ev, k->s);
	st_emit(ev);
}

int st_do_connect(int fd, const struct sockaddr *addr, socklen_t len, bool raw)
{
	struct st_event ev;
	struct st_sock *s;
	struct connecting k;
	int64_t t0;
	int ret, err;

#define REAL_CONNECT() (raw ? (int)REAL(syscall)(SYS_connect, fd, addr, len) : REAL(connect)(fd, addr, len))
	if (!st_active() || !(s = st_lookup(fd, ST_CALL_connect)))
		return REAL_CONNECT();
	t0 = st_begin(&ev, ST_CALL_connect);
	k = (struct connecting){ &ev, s, fd, addr, len, t0, raw };
	ret = st_cancellable(op_connect, &k, connect_cancelled, &k);
	err = errno;
#undef REAL_CONNECT
	st_end(&ev, t0, ret, err);
	ev.via_syscall = raw;
	ev.fd = fd;
	if (addr_readable(ret, err, len))
		st_format_addr(addr, len, ev.addr, NULL);
	if (ret == 0 || err == EINPROGRESS || err == EALREADY || err == EISCONN || err == EINTR) {
		if (addr && len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
			s->remote[0] = '\0';	/* a datagram socket dissolved its association */
		} else if (ret == 0 || err == EINPROGRESS || (err == EINTR && addr_readable(ret, err, len))) {
			connect_started(s, fd, addr, len);
		}
		if (s->is_inet || !s->local[0])
			st_sock_local(fd, s);
		/* EINTR: a blocking connect cut short by a signal goes on in
		 * the kernel, as a non-blocking one does */
		if ((err == EINPROGRESS || err == EINTR) && ret < 0 && s->is_tcp)
			s->connect_pending = true;
	} else if (s->is_inet && !s->local[0]) {
		st_sock_local(fd, s);
	}
	st_event_sock(&ev, s);
	if (ret < 0 && err == EINPROGRESS && s->is_tcp) {
		/* the kernel answers EINPROGRESS from SYN_SENT; the handshake
		 * goes on without the program, its end is recorded later */
		ev.state = "SYN_SENT";
	} else {
		tcp_state(&ev, s, fd);
	}
	ev.self_connect = ret == 0 && s->is_inet && s->local[0] && !strcmp(s->local, s->remote);
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return st_do_connect(fd, addr, len, false);
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

int st_do_shutdown(int fd, int how, bool raw)
{
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err, read = 0;

#define REAL_SHUTDOWN() (raw ? (int)REAL(syscall)(SYS_shutdown, fd, how) : REAL(shutdown)(fd, how))
	if (!st_active() || !(s = st_lookup(fd, ST_CALL_shutdown)))
		return REAL_SHUTDOWN();
	t0 = st_begin(&ev, ST_CALL_shutdown);
	if (s->is_tcp) {
		err = errno;	/* a successful call leaves the program's */
		read = st_tcp_state(fd, NULL);	/* as close to the call as can be */
		errno = err;
	}
	ret = REAL_SHUTDOWN();
	err = errno;
#undef REAL_SHUTDOWN
	ev.via_syscall = raw;
	st_end(&ev, t0, ret, err);
	ev.fd = fd;
	ev.how = how_name(how);
	st_event_sock(&ev, s);
	if (s->is_tcp) {
		/* the kernel's transition, which the peer's packets landing
		 * around the call can hide from the two readings */
		int after = st_tcp_state(fd, NULL);

		st_tcp_shutdown_event(&ev, read, how, ret == 0, after);
		if (read)
			st_connect_check(s, &ev, read);
		if (after)
			st_connect_check(s, &ev, after);
	}
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int shutdown(int fd, int how)
{
	return st_do_shutdown(fd, how, false);
}

ST_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err;

	if (!st_active() || !(s = st_fd_get(fd)))
		return REAL(setsockopt)(fd, level, name, val, len);
	t0 = st_begin(&ev, ST_CALL_setsockopt);
	ret = REAL(setsockopt)(fd, level, name, val, len);
	err = errno;
	st_end(&ev, t0, ret, err);
	ev.fd = fd;
	ev.level = st_level_name(level);
	ev.optname = st_sockopt_name(level, name);
	if (!ev.level)
		ev.level = "?";
	if (!ev.optname)
		ev.optname = "?";
	/* the value is read only once the kernel found the pointer good */
	if (ret == 0 && val) {
		if (level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger)) {
			const struct linger *lg = val;
			ev.has_optlinger = true;
			ev.optlinger_onoff = lg->l_onoff;
			ev.optlinger_secs = lg->l_linger;
			s->linger = lg->l_onoff ? lg->l_linger : -1;
		} else if (len == sizeof(int) ||
			   (len > sizeof(int) && level == SOL_SOCKET &&
			    (name == SO_REUSEADDR || name == SO_REUSEPORT))) {
			/* the kernel reads an int from any optlen that holds one */
			int v;
			memcpy(&v, val, sizeof(v));
			ev.has_optval = true;
			ev.optval = v;
			if (level == SOL_SOCKET && name == SO_REUSEADDR)
				s->reuseaddr = v != 0;
			else if (level == SOL_SOCKET && name == SO_REUSEPORT)
				s->reuseport = v != 0;
		} else if (len == sizeof(char)) {
			ev.has_optval = true;
			ev.optval = *(const unsigned char *)val;
		}
	}
	st_event_sock(&ev, s);
	st_event_opts(&ev, s);
	st_emit(&ev);
	errno = err;
	return ret;
}

ST_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct st_event ev;
	struct st_sock *s;
	int64_t t0;
	int ret, err;

	/* only SO_ERROR is recorded: it completes a non-blocking connect */
	if (level != SOL_SOCKET || name != SO_ERROR || !st_active() || !(s = st_fd_get(fd)))
		return REAL(getsockopt)(fd, level, name, val, len);
	t0 = st_begin(&ev, ST_CALL_getsockopt);
	ret = REAL(getsockopt)(fd, level, name, val, len);
	err = errno;
	st_end(&ev, t0, ret, err);
	ev.fd = fd;
	ev.level = "SOL_SOCKET";
	ev.optname = "SO_ERROR";
	if (ret == 0 && val && len && *len >= sizeof(int)) {
		int e;
		memcpy(&e, val, sizeof(e));
		ev.so_error = e ? st_errno_name(e) : "0";
		if (!ev.so_error)
			ev.so_error = "EUNKNOWN";
	}
	if (s->connect_pending && s->is_inet && !s->local[0])
		st_sock_local(fd, s);
	st_event_sock(&ev, s);
	tcp_state(&ev, s, fd);
	st_emit(&ev);
	errno = err;
	return ret;
}
