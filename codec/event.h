/* SPDX-License-Identifier: MIT */
/* event.h - one recorded event, as the shim encodes it and as the
 * formatters read it back.
 *
 * Owns: the in-memory shape of an event (schema version 1).  Every field
 * is presentation-ready (names, not numbers) so that the same renderer
 * (render_text.c) can be driven by the shim, from live calls, and by the
 * CLI, from a parsed trace file.  Nothing here allocates.
 */
#ifndef SOCKTRACE_EVENT_H
#define SOCKTRACE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calls.h"

struct st_sock_names;	/* names.h */

#define ST_SCHEMA_VERSION 1
/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535" and a
 * 108-byte AF_UNIX path with its leading '@' both fit. */
#define ST_ADDR_MAX 112
/* The most kernel sockets an exit event lists in "lingering" (the shim's
 * and the ptrace back end's, from /proc/net/tcp and tcp6); the rest are
 * only counted in lingering_total. */
#define ST_LINGERING_MAX 256

struct st_tcp {
	uint32_t rtt_us, rttvar_us, retrans, total_retrans, lost;
	uint64_t bytes_sent, bytes_received, bytes_acked;
	uint32_t unread;	/* bytes in the receive queue (SIOCINQ) */
	uint32_t unsent;	/* bytes in the send queue (SIOCOUTQ) */
};

struct st_opts {
	bool reuseaddr, reuseport;
	int linger;		/* -1: off (null); else l_linger seconds with l_onoff set */
};

struct st_frame {
	uint64_t ip;
	const char *obj;	/* object path, may be NULL */
	uint64_t off;		/* ip - object load base */
	const char *sym;	/* symbolized name (formatters only), may be NULL */
	uint64_t sym_off;
	const char *file;	/* its source file, from DWARF (formatters only), may be NULL */
	int line;		/* ... and line, 1.., valid with file */
};

/* A socket of the kernel's table (issue: holders, lingering). */
struct st_ksock {
	char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];
	const char *state;
	int64_t pid;		/* -1 when not found */
	const char *comm;	/* may be NULL */
	uint64_t inode;
	int64_t timer_ms;	/* time left on the socket's timer, -1 none */
	int64_t uid;		/* -1 when unknown */
	int dev;		/* the interface it is bound to (ifindex), 0 none */
	int v6only;		/* IPv6: IPV6_V6ONLY 0 or 1, -1 unknown or IPv4 */
};

/* An argument of the start event's argv kept only in part. */
struct st_argcut {
	int index;		/* in argv */
	int64_t bytes;		/* its whole length */
};

/* A descriptor passed in an SCM_RIGHTS message, and the socket it names. */
struct st_right {
	int fd;
	uint64_t inode;		/* 0: not a socket (or unknown) */
	bool listening;		/* received: it listens (SO_ACCEPTCONN), any family */
};

/* A socket a new process image holds from its start (exec, inheritance). */
struct st_isock {
	int fd;
	uint64_t inode;
	const char *family, *type, *proto;	/* NULL when unknown */
	char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];
	const char *state;	/* TCP state, NULL n/a */
	bool listening;		/* it listens (SO_ACCEPTCONN), any family */
};

struct st_event {
	int v;
	enum st_call call;	/* ST_CALL_socket, ...; its name: st_call_name() */
	int64_t ts_us;		/* wall clock at the call's start, microseconds */
	int64_t dur_ns;		/* time in the real call, -1 when not measured */
	int64_t pid, tid, seq;
	int64_t dropped;	/* events of this process not recorded just before this one */

	int64_t ret;
	const char *err;	/* symbolic errno when the call failed, else NULL */

	int fd;			/* the socket's descriptor, -1 none */
	int listen_fd;		/* accept*: the listening descriptor, -1 none */
	int newfd;		/* dup*, fcntl(F_DUPFD*): the new descriptor, -1 none */
	int pair[2];		/* socketpair: the two new descriptors */

	const char *family, *type, *proto;	/* NULL when unknown */
	/* the three names' JSON run, made once (names.h), or NULL: used only
	 * while family, type and proto are its very pointers */
	const struct st_sock_names *names;
	const char *flags;	/* SOCK_NONBLOCK|SOCK_CLOEXEC, O_CLOEXEC ... or NULL */
	char local[ST_ADDR_MAX], remote[ST_ADDR_MAX];	/* "" when unknown */
	char addr[ST_ADDR_MAX];	/* bind/connect: the address argument */
	uint64_t inode;		/* 0 when unknown */
	/* AF_UNIX stream/seqpacket: the inode of the socket at the other end
	 * (an accept's, from sock_diag UNIX_DIAG_PEER; a socketpair's second
	 * end, the first end's peer); 0 when unknown */
	uint64_t peer_inode;
	const char *state, *state_before;	/* TCP states, NULL when n/a */

	/* call arguments */
	int backlog;		/* listen, -1 none */
	const char *how;	/* shutdown: SHUT_RD/SHUT_WR/SHUT_RDWR */
	const char *level, *optname;	/* setsockopt/getsockopt */
	bool has_optval;
	int64_t optval;		/* integer option value */
	bool has_optlinger;
	int optlinger_onoff, optlinger_secs;
	const char *so_error;	/* getsockopt(SO_ERROR): errno name or "0" */
	const char *cmd;	/* fcntl: F_DUPFD / F_DUPFD_CLOEXEC */
	int64_t range_first, range_last;	/* close_range/closefrom, -1 none */

	/* what the shim knows of the socket */
	bool has_opts;
	struct st_opts opts;
	bool has_tcp;
	struct st_tcp tcp;
	bool last_ref_known;
	bool last_ref;		/* close: no other descriptor of this process holds it */
	bool shared;		/* the socket is shared with another process (fork) */
	bool implicit_close;	/* dup2/dup3/close_range closed the socket at fd */
	const char *connect_done;	/* a non-blocking connect finished: new state */
	bool reset_known;
	bool reset;		/* close sent RST instead of FIN */
	const char *reset_reason;
	const char *state_after;	/* SOCKTRACE_PROBE=close: the kernel's state after close */
	bool via_syscall;	/* made with syscall(2), not the libc function */
	bool self_connect;	/* connect: the socket is connected to itself */
	bool cancelled;		/* the thread was cancelled inside the call */
	const char *noticed;	/* gone: the call at which the shim noticed */
	const char *untraced_reason;	/* untraced: why the shim cannot enter the image
					 * exe ("static", "go", "32-bit", "no LD_PRELOAD",
					 * "setuid") */
	const struct st_right *rights;	/* sendmsg/recvmsg: SCM_RIGHTS descriptors */
	int nrights;
	const int *kept;	/* a failed exec: descriptors announced closed, still open */
	int nkept;

	/* start */
	const char *exe;
	bool exe_cut;		/* exe is longer than the kernel tells: absent or cut */
	const char *const *argv;
	int argc;		/* the arguments in argv */
	int64_t argc_total;	/* the program's arguments ("argc"), -1 unknown; more
				 * than argc: the last ones are not in argv */
	const struct st_argcut *argv_cut;	/* arguments kept only in part */
	int nargv_cut;
	int64_t ppid;
	const char *version;
	/* start: where the process ran, so that traces of many machines merge
	 * (socktrace(7): host, boot, run, cgroup, pidns); NULL / 0 when unknown */
	const char *host;	/* the host name (uname's nodename) */
	const char *boot;	/* the kernel's boot id, /proc/sys/kernel/random/boot_id */
	const char *run;	/* one id for every process of one run (SOCKTRACE_RUN) */
	const char *cgroup;	/* the cgroup path, /proc/self/cgroup */
	uint64_t pidns;		/* the inode of the pid namespace, /proc/self/ns/pid */
	const char *backend;	/* start: "ptrace" when the runner traced it with ptrace; NULL: the shim */

	const struct st_isock *inherited;	/* start: sockets held from the start */
	int ninherited;

	/* exit, end */
	int64_t open_sockets;	/* -1 none */
	int64_t status;		/* exit status, -1 unknown */
	const char *signal;	/* end: the signal that killed the process */
	bool core;		/* ... and it dumped core */
	const char *by;		/* end: who saw it ("parent", "runner") */
	int64_t child;		/* wait*: the child whose end was seen, -1 none */

	/* stacks */
	const struct st_frame *frames;
	int nframes;

	/* the kernel's view (EADDRINUSE, TIME_WAIT) */
	const struct st_ksock *holders;	/* NULL with holders_incomplete: not asked */
	int nholders;
	const char *holders_incomplete;	/* why the list is not all (or not known) */
	bool has_verdict;
	int verdict_reuseaddr, verdict_reuseport;	/* -1 unknown, 0, 1 */
	const char *verdict_why;	/* why a verdict is unknown */
	const struct st_ksock *lingering;
	int nlingering;
	int64_t lingering_total;	/* all of them; the list may be cut short */
	int64_t time_wait;	/* how many of them are in TIME_WAIT, -1 not asked */
	int reused_time_wait;	/* bind: sockets in TIME_WAIT this bind reused, -1 n/a */
};

/* Sets every field to its "absent" value. */
void st_event_init(struct st_event *ev);
/* Makes ev the `end` of process pid as a wait status says it (exit status,
 * or the signal and the core flag), seen by `by` ("parent", "runner") at
 * ts_us; wstatus < 0: how it ended is unknown (neither status nor signal).
 * Returns false, leaving ev alone, for a status that is no end (a stop). */
bool st_event_end(struct st_event *ev, int64_t pid, int wstatus, const char *by, int64_t ts_us);

/* Encoders: write one line (with its '\n') into buf; return its length, or
 * the length it would have had when cap is too small (snprintf-like).
 * Neither allocates nor uses stdio: safe inside the traced program. */
size_t st_encode_json(const struct st_event *ev, char *buf, size_t cap);

#define ST_RENDER_COLOR 0x1	/* ANSI colours for failures and states */
#define ST_RENDER_UTC 0x4	/* times in UTC rather than local time */
size_t st_render_text(const struct st_event *ev, char *buf, size_t cap, unsigned flags);
/* Seconds east of UTC that st_render_text adds to show local times; set
 * once, before rendering (localtime_r is not async-signal-safe). */
void st_render_set_tz(long offset_s);
/* Every string of an event st_render_text shows is escaped (st_buf_esc):
 * control bytes, bytes that are not UTF-8, and the code points that act on
 * a terminal or reorder text.  With ascii, every byte >= 0x80 too (the
 * reader's character set is not UTF-8).  Set once, before rendering. */
void st_render_set_ascii(bool ascii);

#endif
