/* SPDX-License-Identifier: MIT */
/* bindrules.h - would a bind() conflict with the sockets that hold its
 * port, by the kernel's own rules (inet_csk_bind_conflict,
 * inet_rcv_saddr_equal, udp_lib_lport_inuse)?
 *
 * Owns: those rules, applied to what is known of the socket being bound
 * and of each holder, in three-valued logic (1 yes, 0 no, -1 unknown: a
 * holder's option that is not visible makes an answer unknown, never a
 * guess).  Shared by the shim (holders from sock_diag) and the runner's
 * ptrace back end (holders from /proc/net/tcp).  Pure functions over their
 * arguments: no allocation, no I/O, safe anywhere.  Never experiments:
 * nothing here binds.
 */
#ifndef SOCKTRACE_BINDRULES_H
#define SOCKTRACE_BINDRULES_H

#include <stdbool.h>
#include <stdint.h>

/* An address as the conflict rules see it. */
struct st_bind_ep {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char a[16];	/* IPv4 in a[0..3] */
	bool wild;		/* 0.0.0.0 or :: */
	bool mapped;		/* ::ffff:a.b.c.d (a[12..15] is the IPv4 address) */
};

/* Fills e from an address of family (AF_INET: 4 bytes, AF_INET6: 16). */
void st_bind_ep_set(struct st_bind_ep *e, int family, const void *addr);

/* The socket being bound. */
struct st_bind_new {
	struct st_bind_ep ep;
	bool tcp;
	int v6only;		/* its IPV6_V6ONLY (forced on by a specific IPv6 address) */
	int dev;		/* SO_BINDTOIFINDEX, 0 none */
	int64_t uid;		/* the socket's owner: the kernel compares sk_uid */
	bool ra, rp;
};

/* A socket that holds the port, as the kernel's table shows it. */
struct st_bind_holder {
	struct st_bind_ep ep;
	int state;
	bool connected;		/* has a remote end */
	int v6only;		/* -1 unknown */
	int dev;
	int64_t uid;		/* -1 unknown (TIME_WAIT) */
	int ra, rp;		/* SO_REUSEADDR, SO_REUSEPORT; -1 unknown (another
				 * process's options are not visible) */
};

/* Would h stand in the way of n's address (the wildcard, v4-mapped
 * addresses, the bound device)?  1, 0, or -1 when it depends on what is not
 * known (h's IPV6_V6ONLY). */
int st_bind_overlaps(const struct st_bind_new *n, const struct st_bind_holder *h);

/* Is there no conflict between n (with its options) and h?  TCP: (both
 * SO_REUSEADDR and h not listening) or (both SO_REUSEPORT and (h in
 * TIME_WAIT or the same owner)); UDP: both SO_REUSEADDR, or both
 * SO_REUSEPORT and the same owner.  1, 0, -1 unknown. */
int st_bind_no_conflict(const struct st_bind_new *n, const struct st_bind_holder *h);

/* Would the bind have succeeded with SO_REUSEADDR ra and SO_REUSEPORT rp
 * (see bindrules.c)?  1, 0, -1 unknown. */
int st_bind_verdict(const struct st_bind_new *n, const struct st_bind_holder *h, int nh, bool ra, bool rp,
		    bool complete);

#endif
