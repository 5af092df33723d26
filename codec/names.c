/* SPDX-License-Identifier: MIT */
/* names.c - lookups over the generated constant tables (see names.h).
 * Pure functions: safe inside the traced program, in signal handlers too. */
#define _GNU_SOURCE
#include "names.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>

const char *st_name_of(const struct st_name *t, int value)
{
	for (; t->name; t++)
		if (t->value == value)
			return t->name;
	return NULL;
}

int st_value_of(const struct st_name *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t->value;
	return -1;
}

const char *st_proto_name(int family, int type, int protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (protocol == 0) {
		if (type == SOCK_STREAM)
			protocol = IPPROTO_TCP;
		else if (type == SOCK_DGRAM)
			protocol = IPPROTO_UDP;
		else
			return NULL;
	}
	return st_name_of(st_protocols, protocol);
}

#define NAMES(f, t, p) { f, t, p, ",\"family\":\"" f "\",\"type\":\"" t "\",\"proto\":\"" p "\"", \
	sizeof(",\"family\":\"" f "\",\"type\":\"" t "\",\"proto\":\"" p "\"") - 1 }
#define NAMES2(f, t) { f, t, NULL, ",\"family\":\"" f "\",\"type\":\"" t "\"", \
	sizeof(",\"family\":\"" f "\",\"type\":\"" t "\"") - 1 }
/* names from codec/tables: plain ASCII, nothing to escape */
static const struct st_sock_names sock_names[] = {
	NAMES("AF_INET", "SOCK_STREAM", "tcp"),
	NAMES("AF_INET6", "SOCK_STREAM", "tcp"),
	NAMES("AF_INET", "SOCK_DGRAM", "udp"),
	NAMES("AF_INET6", "SOCK_DGRAM", "udp"),
	NAMES2("AF_UNIX", "SOCK_STREAM"),
	NAMES2("AF_UNIX", "SOCK_DGRAM"),
	NAMES2("AF_UNIX", "SOCK_SEQPACKET"),
};
#undef NAMES
#undef NAMES2

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

const struct st_sock_names *st_sock_names_find(const char *family, const char *type, const char *proto)
{
	if (!family || !type)
		return NULL;
	for (size_t i = 0; i < sizeof(sock_names) / sizeof(sock_names[0]); i++) {
		const struct st_sock_names *n = &sock_names[i];
		if (!strcmp(n->family, family) && !strcmp(n->type, type) && same_name(n->proto, proto))
			return n;
	}
	return NULL;
}

const char *st_level_name(int level)
{
	for (const struct st_optname *o = st_sockopts; o->level_name; o++)
		if (o->level == level)
			return o->level_name;
	return NULL;
}

const char *st_sockopt_name(int level, int name)
{
	for (const struct st_optname *o = st_sockopts; o->level_name; o++)
		if (o->level == level && o->name == name)
			return o->opt_name;
	return NULL;
}

const char *st_errno_desc(const char *name)
{
	int e = st_value_of(st_errnos, name);
	return e < 0 ? NULL : strerrordesc_np(e);
}

const char *st_sock_type_flags(int type)
{
	switch (type & (SOCK_NONBLOCK | SOCK_CLOEXEC)) {
	case SOCK_NONBLOCK | SOCK_CLOEXEC:
		return "SOCK_NONBLOCK|SOCK_CLOEXEC";
	case SOCK_NONBLOCK:
		return "SOCK_NONBLOCK";
	case SOCK_CLOEXEC:
		return "SOCK_CLOEXEC";
	default:
		return NULL;
	}
}

static const struct {
	const char *name;
	int family;
} family_words[] = {
	{ "inet", AF_INET },
	{ "inet6", AF_INET6 },
	{ "unix", AF_UNIX },
	{ "local", AF_UNIX },
	{ "netlink", AF_NETLINK },
	{ "packet", AF_PACKET },
	{ "vsock", AF_VSOCK },
};

int st_families_parse(const char *s, unsigned long long *mask, const char **bad, unsigned long *badlen)
{
	*mask = 0;
	*bad = NULL;
	*badlen = 0;
	while (*s) {
		const char *end = strchrnul(s, ',');
		size_t n = (size_t)(end - s);
		bool found = false;

		if (n == 3 && !strncasecmp(s, "all", 3)) {
			*mask = ~0ULL;
			found = true;
		}
		for (size_t i = 0; !found && i < sizeof(family_words) / sizeof(family_words[0]); i++) {
			const char *w = family_words[i].name;
			if ((strlen(w) == n && !strncasecmp(s, w, n)) ||
			    (n > 3 && !strncasecmp(s, "AF_", 3) && strlen(w) == n - 3 &&
			     !strncasecmp(s + 3, w, n - 3))) {
				*mask |= 1ULL << family_words[i].family;
				found = true;
			}
		}
		if (!found && n) {
			*bad = s;
			*badlen = n;
			return 0;
		}
		s = *end ? end + 1 : end;
	}
	return *mask ? 1 : -1;
}
