/* SPDX-License-Identifier: MIT */
/* reader_json.h - what the two halves of the JSON reader share:
 * reader_json.c (the top-level keys of an event, from codec/fields.def, and
 * st_rec_parse) and reader_nested.c (the values that are objects or
 * arrays).  Not for anything else: the rest of the command reads events
 * through reader.h.
 *
 * Every rd_ function reads one JSON value into the event p->rec holds; on
 * a value it cannot take it returns false with the reason in p->why (the
 * first reason only: later failures keep it), and the line is refused.
 */
#ifndef SOCKTRACE_READER_JSON_H
#define SOCKTRACE_READER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "reader.h"

/* One line being parsed. */
struct parse {
	struct st_rec *rec;
	char *why;
	size_t whysz;
	bool ok;
	const json_t *holders, *lingering;	/* read last, into one allocation */
	size_t strcap, strused;	/* rec->strs: its size (the line's length + 1:
				 * a string is never longer decoded than
				 * quoted) and the bytes taken */
};

/* ---- typed values (reader_json.c) ---- */

/* "an object", "a string", ... for a reason */
const char *rd_type_name(const json_t *j);
/* Refuses the line with the reason fmt, ...; returns false. */
bool rd_fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuses the line: "WHERE"KEY" is TYPE, expected EXPECTED"; returns false. */
bool rd_want(struct parse *p, const char *where, const char *key, const json_t *j,
	     const char *expected);
/* An integer in [lo, hi]. */
bool rd_get_int(struct parse *p, const char *where, const char *key, const json_t *j,
		int64_t lo, int64_t hi, int64_t *out);
/* A descriptor: an integer in [0, INT_MAX]. */
bool rd_get_fd(struct parse *p, const char *key, const json_t *j, int *out);
/* A string, copied into the record's own string storage (rec->strs):
 * *out lives as long as the record, not the JSON tree it came from. */
bool rd_get_str(struct parse *p, const char *where, const char *key, const json_t *j,
		const char **out);
/* A socket address, copied; longer than ST_ADDR_MAX - 1 bytes is refused. */
bool rd_get_addr(struct parse *p, const char *where, const char *key, const json_t *j,
		 char out[ST_ADDR_MAX]);
/* true or false. */
bool rd_get_bool(struct parse *p, const char *where, const char *key, const json_t *j,
		 bool *out);
/* true, false or null as 1, 0, -1. */
bool rd_get_tristate(struct parse *p, const char *where, const char *key, const json_t *j,
		     int *out);
/* A "0x..." address. */
bool rd_get_hex(struct parse *p, const char *where, const char *key, const json_t *j,
		uint64_t *out);

/* ---- objects and arrays (reader_nested.c) ---- */

/* "holders" and "lingering" (either may be NULL: not in the event), into one
 * allocation behind ev.holders and ev.lingering */
bool rd_ksocks(struct parse *p, const json_t *holders, const json_t *lingering);
/* "argv": strings, behind ev.argv */
bool rd_argv(struct parse *p, const json_t *a);
/* "argv_cut": the arguments kept only in part {index, bytes}, behind
 * ev.argv_cut */
bool rd_argv_cut(struct parse *p, const json_t *a);
/* "stack": frames {ip, off, sym_off, obj, sym}, behind ev.frames */
bool rd_stack(struct parse *p, const json_t *a);
/* "opts": {SO_REUSEADDR, SO_REUSEPORT, SO_LINGER} */
bool rd_opts(struct parse *p, const json_t *o);
/* "tcp": the TCP_INFO counters */
bool rd_tcp(struct parse *p, const json_t *o);
/* "optval": an integer or {l_onoff, l_linger} */
bool rd_optval(struct parse *p, const json_t *v);
/* "reuse_verdict": {SO_REUSEADDR, SO_REUSEPORT, why} */
bool rd_verdict(struct parse *p, const json_t *o);
/* "rights": descriptors passed with SCM_RIGHTS {fd, inode}, behind ev.rights */
bool rd_rights(struct parse *p, json_t *v);
/* "inherited": the sockets a process started with, behind ev.inherited */
bool rd_inherited(struct parse *p, json_t *v);
/* "kept": descriptors, behind ev.kept */
bool rd_kept(struct parse *p, json_t *v);

#endif
