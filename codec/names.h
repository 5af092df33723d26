/* SPDX-License-Identifier: MIT */
/* names.h - symbolic names of the kernel's constants.
 *
 * Owns: value <-> name lookups over the tables generated from
 * codec/tables/NAME.tbl.  Shared by the shim and the formatters.  Pure
 * functions over constant data: safe anywhere, signal handlers included.
 */
#ifndef SOCKTRACE_NAMES_H
#define SOCKTRACE_NAMES_H

struct st_name {
	int value;
	const char *name;
};

struct st_optname {
	int level, name;
	const char *level_name, *opt_name;
};

extern const struct st_name st_families[], st_socktypes[], st_protocols[],
	st_tcpstates[], st_errnos[], st_signals[];
extern const struct st_optname st_sockopts[];

/* NULL when the value has no name */
const char *st_name_of(const struct st_name *table, int value);
/* -1 when the name is not in the table */
int st_value_of(const struct st_name *table, const char *name);

static inline const char *st_family_name(int af) { return st_name_of(st_families, af); }
static inline const char *st_socktype_name(int t) { return st_name_of(st_socktypes, t); }
static inline const char *st_tcp_state_name(int s) { return st_name_of(st_tcpstates, s); }
static inline const char *st_errno_name(int e) { return st_name_of(st_errnos, e); }
static inline const char *st_signal_name(int s) { return st_name_of(st_signals, s); }

/* "tcp", "udp", ... for a socket's protocol, deducing the IP protocol from
 * the type when the program passed 0; NULL when it has none (AF_UNIX). */
const char *st_proto_name(int family, int type, int protocol);

/* A kind of socket's three names and their JSON run as the encoder writes
 * it (,"family":"AF_INET","type":"SOCK_STREAM","proto":"tcp"; no "proto"
 * when it has none), made at compile time for the common kinds. */
struct st_sock_names {
	const char *family, *type, *proto;	/* proto NULL: none */
	const char *json;
	unsigned len;		/* of json */
};
/* The entry whose names read as family, type and proto (proto may be
 * NULL), NULL for a kind not listed.  A caller that takes its names from
 * the entry (these very pointers) lets the encoder copy the run: it does
 * so only for an event whose three pointers are the entry's. */
const struct st_sock_names *st_sock_names_find(const char *family, const char *type, const char *proto);
/* level and option names; either may be NULL when unknown */
/* The flags socket(2), socketpair(2) and accept4(2) take with the type:
 * "SOCK_NONBLOCK", "SOCK_CLOEXEC", both joined by '|', or NULL for none. */
const char *st_sock_type_flags(int type);
const char *st_level_name(int level);
const char *st_sockopt_name(int level, int name);
/* the C library's description of an errno name ("Connection refused") */
const char *st_errno_desc(const char *name);

/* The words SOCKTRACE_FAMILIES and --families take, for messages. */
#define ST_FAMILY_WORDS "inet, inet6, unix (or local), netlink, packet, vsock or all"
/* A list of address families, "inet,inet6,unix" (the words of
 * ST_FAMILY_WORDS, any case, each also with AF_ before it; empty items are
 * skipped) -> *mask, one bit per AF_* value below 64 (bit 63: every other
 * family; "all" sets every bit).  Returns 1; 0 with *bad (a pointer into
 * s) and *badlen naming the first unknown word; -1 (*badlen 0) when the
 * list names no family at all (empty, or commas only).  Pure: no malloc,
 * safe in the shim's constructor. */
int st_families_parse(const char *s, unsigned long long *mask, const char **bad, unsigned long *badlen);

#endif
