/* SPDX-License-Identifier: MIT */
/* addr.c - socket addresses as traces show them (see addr.h).
 * Runs inside the traced program too: no malloc, no stdio, no locks.
 */
#include "addr.h"

#include <stddef.h>
#include <string.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <linux/netlink.h>

#include "buf.h"

static void put_ip4(struct st_buf *b, const unsigned char *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			st_buf_putc(b, '.');
		st_buf_u64(b, a[i]);
	}
}

static void put_ip6(struct st_buf *b, const unsigned char *a)
{
	static const char hex[] = "0123456789abcdef";
	uint16_t w[8];
	int best = -1, bestlen = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	/* v4-mapped: ::ffff:a.b.c.d */
	if (!w[0] && !w[1] && !w[2] && !w[3] && !w[4] && w[5] == 0xffff) {
		st_buf_puts(b, "::ffff:");
		put_ip4(b, a + 12);
		return;
	}
	/* the longest run of two or more zero words becomes "::" (RFC 5952) */
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !w[j])
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			st_buf_puts(b, "::");
			i += bestlen - 1;
			continue;
		}
		if (i && i != best + bestlen)
			st_buf_putc(b, ':');
		{
			char tmp[4];
			int n = 0;
			uint16_t v = w[i];
			do {
				tmp[n++] = hex[v & 0xf];
				v >>= 4;
			} while (v);
			while (n)
				st_buf_putc(b, tmp[--n]);
		}
	}
}

void st_format_addr(const struct sockaddr *sa, socklen_t len, char out[ST_ADDR_MAX], bool *wild)
{
	struct st_buf b;

	st_buf_init(&b, out, ST_ADDR_MAX);
	if (wild)
		*wild = false;
	if (!sa || len < sizeof(sa_family_t)) {
		out[0] = '\0';
		return;
	}
	switch (sa->sa_family) {
	case AF_INET:
		if (len >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
			put_ip4(&b, (const unsigned char *)&in->sin_addr);
			st_buf_putc(&b, ':');
			st_buf_u64(&b, ntohs(in->sin_port));
			if (wild)
				*wild = in->sin_addr.s_addr == htonl(INADDR_ANY);
		}
		break;
	case AF_INET6:
		if (len >= sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
			st_buf_putc(&b, '[');
			put_ip6(&b, in6->sin6_addr.s6_addr);
			if (in6->sin6_scope_id) {
				st_buf_putc(&b, '%');
				st_buf_u64(&b, in6->sin6_scope_id);
			}
			st_buf_puts(&b, "]:");
			st_buf_u64(&b, ntohs(in6->sin6_port));
			if (wild)
				*wild = !memcmp(&in6->sin6_addr, &in6addr_any, sizeof(in6addr_any));
		}
		break;
	case AF_UNIX: {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t n = len - offsetof(struct sockaddr_un, sun_path);
		if (len <= offsetof(struct sockaddr_un, sun_path) || n == 0)
			break;	/* unnamed */
		if (n > sizeof(un->sun_path))
			n = sizeof(un->sun_path);
		if (un->sun_path[0] == '\0') {
			st_buf_putc(&b, '@');
			for (size_t i = 1; i < n; i++)
				st_buf_putc(&b, un->sun_path[i] ? un->sun_path[i] : '@');
		} else {
			for (size_t i = 0; i < n && un->sun_path[i]; i++)
				st_buf_putc(&b, un->sun_path[i]);
		}
		break;
	}
	case AF_NETLINK:
		if (len >= sizeof(struct sockaddr_nl)) {
			const struct sockaddr_nl *nl = (const struct sockaddr_nl *)sa;
			st_buf_puts(&b, "netlink:");
			st_buf_u64(&b, nl->nl_pid);
			if (nl->nl_groups) {
				st_buf_putc(&b, '/');
				st_buf_hex(&b, nl->nl_groups);
			}
		}
		break;
	default:
		break;
	}
	st_buf_finish(&b);
}

