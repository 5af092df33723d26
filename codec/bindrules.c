/* SPDX-License-Identifier: MIT */
/* bindrules.c - the kernel's bind conflict rules (see bindrules.h).  Pure
 * functions: no allocation, no I/O.
 */
#include "bindrules.h"
#include "tcpstate.h"

#include <string.h>
#include <sys/socket.h>

static const unsigned char v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const unsigned char zero16[16];

void st_bind_ep_set(struct st_bind_ep *e, int family, const void *addr)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->a, addr, family == AF_INET ? 4 : 16);
	if (family == AF_INET) {
		e->wild = !memcmp(e->a, zero16, 4);
	} else {
		e->wild = !memcmp(e->a, zero16, 16);
		e->mapped = !memcmp(e->a, v4mapped_prefix, 12);
	}
}

/* As IPv4: an IPv4 address, or an IPv6 one mapped; false otherwise. */
static bool as_v4(const struct st_bind_ep *e, unsigned char out[4], bool *wild)
{
	if (e->family == AF_INET) {
		memcpy(out, e->a, 4);
		*wild = e->wild;
		return true;
	}
	if (!e->mapped)
		return false;
	memcpy(out, e->a + 12, 4);
	*wild = !memcmp(out, zero16, 4);
	return true;
}

static const unsigned char loopback4_ipv6[4] = { 127, 0, 0, 6 };

/* Kleene logic: 1 true, 0 false, -1 unknown */
static int k_and(int a, int b)
{
	if (!a || !b)
		return 0;
	return a < 0 || b < 0 ? -1 : 1;
}

static int k_or(int a, int b)
{
	if (a == 1 || b == 1)
		return 1;
	return a < 0 || b < 0 ? -1 : 0;
}

/* Would h stand in the way of n's address (inet_rcv_saddr_equal with the
 * wildcard, the bound device)?  -1 when it depends on what is not shown. */
int st_bind_overlaps(const struct st_bind_new *n, const struct st_bind_holder *h)
{
	unsigned char n4[4], h4[4];
	bool nwild, hwild;

	if (n->dev && h->dev && n->dev != h->dev)
		return 0;
	if (as_v4(&n->ep, n4, &nwild)) {
		if (as_v4(&h->ep, h4, &hwild))
			return nwild || hwild || !memcmp(n4, h4, 4);
		/* an IPv6 holder, not mapped */
		if (h->ep.wild)	/* [::]: all of IPv4 unless v6-only */
			return h->v6only < 0 ? -1 : !h->v6only;
		if (!h->connected)
			return 0;	/* bound to a specific IPv6 address: v6-only by force */
		/* a connection of a [::] socket stands for 127.0.0.6 */
		if (h->v6only == 1)
			return 0;
		if (n->tcp ? (n->ep.family == AF_INET && nwild) :
			     (nwild || !memcmp(n4, loopback4_ipv6, 4)))
			return h->v6only < 0 ? -1 : 1;
		return 0;
	}
	/* n is IPv6, not mapped */
	if (as_v4(&h->ep, h4, &hwild))
		return n->ep.wild && !n->v6only;	/* a specific IPv6 address is v6-only */
	return n->ep.wild || h->ep.wild || !memcmp(n->ep.a, h->ep.a, 16);
}

/* Is there no conflict between n (with its options) and h?  The kernel's
 * rules: TCP, (both SO_REUSEADDR and h not listening) or (both
 * SO_REUSEPORT and (h in TIME_WAIT or the same owner)); UDP, both
 * SO_REUSEADDR, or both SO_REUSEPORT and the same owner. */
int st_bind_no_conflict(const struct st_bind_new *n, const struct st_bind_holder *h)
{
	int owner = h->uid < 0 ? -1 : h->uid == n->uid;
	int path1, path2;

	if (n->tcp) {
		path1 = k_and(n->ra && h->state != ST_TCP_LISTEN, h->ra);
		path2 = k_and(k_and(n->rp, h->rp), h->state == ST_TCP_TIME_WAIT ? 1 : owner);
	} else {
		path1 = k_and(n->ra, h->ra);
		path2 = k_and(k_and(n->rp, h->rp), owner);
	}
	return k_or(path1, path2);
}

/* The verdict of one option: would the bind of n have succeeded with
 * SO_REUSEADDR ra and SO_REUSEPORT rp (n's own options but the one asked),
 * against the holders h[0..nh)?  complete: h is every holder there is.
 * 1 yes, 0 no, -1 unknown (a holder's option or address not known, or
 * holders not listed). */
int st_bind_verdict(const struct st_bind_new *n0, const struct st_bind_holder *h, int nh, bool ra, bool rp,
		    bool complete)
{
	struct st_bind_new n = *n0;
	int v = 1;

	n.ra = ra;
	n.rp = rp;
	for (int i = 0; i < nh && v != 0; i++) {
		int ov = st_bind_overlaps(&n, &h[i]);
		int ok = st_bind_no_conflict(&n, &h[i]);
		if (ov == 1)
			v = k_and(v, ok);
		else if (ov < 0 && ok != 1)
			v = -1;
	}
	if (v == 1 && !complete)
		v = -1;
	return v;
}
