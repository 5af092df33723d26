/* SPDX-License-Identifier: MIT */
/* sockinfo.c - socket identity, endpoints and TCP state (see sockinfo.h).
 * Runs inside the traced program: no malloc, no stdio.  Addresses are
 * formatted by codec/addr.c (shared with the runner's ptrace back end).
 */
#define _GNU_SOURCE
#include "sockinfo.h"
#include "names.h"
#include "real.h"
#include "drift.h"
#include "settings.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/sockios.h>
#include <linux/netlink.h>

#include "buf.h"

static uint64_t inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

void st_sock_identify(int fd, struct st_sock *s, int family, int type, int protocol)
{
	s->family = family;
	s->type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	s->protocol = protocol;
	s->family_name = st_family_name(family);
	s->type_name = st_socktype_name(s->type);
	s->proto_name = st_proto_name(family, s->type, protocol);
	/* a common kind: its names from the entry, whose JSON run the encoder copies */
	s->names = st_sock_names_find(s->family_name, s->type_name, s->proto_name);
	if (s->names) {
		s->family_name = s->names->family;
		s->type_name = s->names->type;
		s->proto_name = s->names->proto;
	}
	s->is_inet = family == AF_INET || family == AF_INET6;
	s->is_tcp = s->is_inet && s->type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP);
	s->inode = inode_of(fd);
}

void st_sock_local(int fd, struct st_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		st_format_addr((struct sockaddr *)&ss, len, s->local, &s->local_wild);
}

void st_sock_remote(int fd, struct st_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		st_format_addr((struct sockaddr *)&ss, len, s->remote, NULL);
}

static int int_opt(int fd, int level, int name, int dflt)
{
	int v = 0;
	socklen_t len = sizeof(v);
	return REAL(getsockopt)(fd, level, name, &v, &len) == 0 ? v : dflt;
}

struct st_sock *st_sock_discover(int fd, enum st_call noticed)
{
	struct st_sock *s;
	int family, type, protocol;
	struct linger lg;
	socklen_t len = sizeof(lg);

	family = int_opt(fd, SOL_SOCKET, SO_DOMAIN, -1);
	if (family < 0 || !st_family_enabled(family))
		return NULL;
	type = int_opt(fd, SOL_SOCKET, SO_TYPE, 0);
	protocol = int_opt(fd, SOL_SOCKET, SO_PROTOCOL, 0);
	/* another descriptor of the same socket: an alias of its record */
	s = st_fd_find_inode(inode_of(fd));
	if (s) {
		st_fd_install(fd, s, noticed);
		return s;
	}
	s = st_sock_new();
	if (!s)
		return NULL;
	st_sock_identify(fd, s, family, type, protocol);
	st_sock_local(fd, s);
	st_sock_remote(fd, s);
	s->reuseaddr = int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 0) != 0;
	s->reuseport = int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 0) != 0;
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff)
		s->linger = lg.l_linger;
	s->shared = true;	/* it came from elsewhere: another process may hold it */
	s->adopted = true;
	st_fd_install(fd, s, noticed);
	return s;
}

bool st_sock_listens(int fd)
{
	return int_opt(fd, SOL_SOCKET, SO_ACCEPTCONN, 0) != 0;
}

int st_tcp_state(int fd, struct st_tcp *tcp)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	if (tcp) {
		tcp->rtt_us = ti.tcpi_rtt;
		tcp->rttvar_us = ti.tcpi_rttvar;
		tcp->retrans = ti.tcpi_retrans;
		tcp->total_retrans = ti.tcpi_total_retrans;
		tcp->lost = ti.tcpi_lost;
		if (len >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received)) {
			tcp->bytes_acked = ti.tcpi_bytes_acked;
			tcp->bytes_received = ti.tcpi_bytes_received;
		}
		if (len >= offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof(ti.tcpi_bytes_sent))
			tcp->bytes_sent = ti.tcpi_bytes_sent;
		tcp->unsent = ti.tcpi_notsent_bytes;
	}
	return ti.tcpi_state;
}

unsigned st_unread(int fd)
{
	int n = 0;
	return ioctl(fd, SIOCINQ, &n) == 0 && n > 0 ? (unsigned)n : 0;
}

void st_event_sock(struct st_event *ev, const struct st_sock *s)
{
	ev->family = s->family_name;
	ev->type = s->type_name;
	ev->proto = s->proto_name;
	ev->names = s->names;
	memcpy(ev->local, s->local, sizeof(ev->local));
	memcpy(ev->remote, s->remote, sizeof(ev->remote));
	ev->inode = s->inode;
	if (s->shared)
		ev->shared = true;
}

void st_event_opts(struct st_event *ev, const struct st_sock *s)
{
	ev->has_opts = true;
	ev->opts.reuseaddr = s->reuseaddr;
	ev->opts.reuseport = s->reuseport;
	ev->opts.linger = s->linger;
}
