/* SPDX-License-Identifier: MIT */
/* reader_nested.c - the values of an event that are objects or arrays
 * (see reader_json.h): kernel sockets (holders, lingering), argv, stack
 * frames, socket options, TCP counters, a setsockopt value, the reuse
 * verdict, passed rights, inherited sockets, kept descriptors.
 *
 * Owns: the schema check of every key inside them and the storage the
 * record keeps for the arrays.  Must never crash, nor refuse a value
 * without a reason, on any input however foreign; never reads files nor
 * prints.
 */
#include "reader_json.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_ksock(struct parse *p, const char *list, size_t idx, const json_t *o,
			struct st_ksock *k)
{
	char where[64];
	const char *key;
	json_t *v;

	snprintf(where, sizeof(where), "%s[%zu]: ", list, idx);
	memset(k, 0, sizeof(*k));
	k->pid = k->timer_ms = k->uid = -1;
	k->v6only = -1;
	if (!json_is_object(o))
		return rd_want(p, where, "entry", o, "an object");
	json_object_foreach((json_t *)o, key, v) {
		int64_t n;

		if (!strcmp(key, "local")) {
			if (!rd_get_addr(p, where, key, v, k->local))
				return false;
		} else if (!strcmp(key, "remote")) {
			if (!rd_get_addr(p, where, key, v, k->remote))
				return false;
		} else if (!strcmp(key, "state")) {
			if (!rd_get_str(p, where, key, v, &k->state))
				return false;
		} else if (!strcmp(key, "comm")) {
			if (!rd_get_str(p, where, key, v, &k->comm))
				return false;
		} else if (!strcmp(key, "timer_ms")) {
			if (!rd_get_int(p, where, key, v, 0, INT64_MAX, &k->timer_ms))
				return false;
		} else if (!strcmp(key, "inode")) {
			if (!rd_get_int(p, where, key, v, 0, INT64_MAX, &n))
				return false;
			k->inode = (uint64_t)n;
		} else if (!strcmp(key, "uid")) {
			if (!rd_get_int(p, where, key, v, 0, INT64_MAX, &k->uid))
				return false;
		} else if (!strcmp(key, "pid")) {
			if (!rd_get_int(p, where, key, v, 0, INT64_MAX, &k->pid))
				return false;
		} else if (!strcmp(key, "dev")) {
			if (!rd_get_int(p, where, key, v, 0, INT_MAX, &n))
				return false;
			k->dev = (int)n;
		} else if (!strcmp(key, "v6only")) {
			bool b6 = false;
			if (!rd_get_bool(p, where, key, v, &b6))
				return false;
			k->v6only = b6;
		}
	}
	return true;
}

#define HOLDERS_MAX 1024
#define LINGERING_MAX 4096
/* the shim keeps 512 arguments and 64 frames */
#define ARGV_MAX 4096
#define STACK_MAX 256

/* holders and lingering share one allocation in rec->ksocks */
bool rd_ksocks(struct parse *p, const json_t *holders, const json_t *lingering)
{
	struct st_rec *r = p->rec;
	size_t nh = 0, nl = 0;

	if (holders && !json_is_array(holders))
		return rd_want(p, "", "holders", holders, "an array");
	if (lingering && !json_is_array(lingering))
		return rd_want(p, "", "lingering", lingering, "an array");
	nh = holders ? json_array_size(holders) : 0;
	nl = lingering ? json_array_size(lingering) : 0;
	/* a few bytes of JSON ({}) become a few hundred here: bounded by what
	 * the shim writes (32 holders, 256 lingering), with room to spare */
	if (nh > HOLDERS_MAX)
		return rd_fail(p, "\"holders\" has %zu entries, more than the shim ever records", nh);
	if (nl > LINGERING_MAX)
		return rd_fail(p, "\"lingering\" has %zu entries, more than the shim ever records", nl);
	if (nh + nl) {
		r->ksocks = calloc(nh + nl, sizeof(*r->ksocks));
		if (!r->ksocks)
			return rd_fail(p, "out of memory");
	}
	for (size_t i = 0; i < nh; i++)
		if (!parse_ksock(p, "holders", i, json_array_get(holders, i), &r->ksocks[i]))
			return false;
	for (size_t i = 0; i < nl; i++)
		if (!parse_ksock(p, "lingering", i, json_array_get(lingering, i),
				 &r->ksocks[nh + i]))
			return false;
	if (holders) {
		/* a failed bind with an empty holders list still says "looked, found none" */
		r->ev.holders = r->ksocks ? r->ksocks : (const struct st_ksock *)r;
		r->ev.nholders = (int)nh;
	}
	if (lingering) {
		r->ev.lingering = r->ksocks ? r->ksocks + nh : (const struct st_ksock *)r;
		r->ev.nlingering = (int)nl;
	}
	return true;
}

bool rd_argv(struct parse *p, const json_t *a)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!json_is_array(a))
		return rd_want(p, "", "argv", a, "an array");
	n = json_array_size(a);
	if (n > ARGV_MAX)
		return rd_fail(p, "\"argv\" has %zu entries, more than the shim ever records", n);
	r->argv = calloc(n + 1, sizeof(*r->argv));
	if (!r->argv)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char key[32];

		snprintf(key, sizeof(key), "argv[%zu]", i);
		if (!rd_get_str(p, "", key, json_array_get(a, i), &r->argv[i]))
			return false;
	}
	r->ev.argv = r->argv;
	r->ev.argc = (int)n;
	return true;
}

/* an array of at most max entries, counted into *n */
static bool array_of(struct parse *p, const char *key, const json_t *v, size_t max, size_t *n)
{
	*n = 0;
	if (!json_is_array(v))
		return rd_want(p, "", key, v, "an array");
	*n = json_array_size(v);
	if (*n > max)
		return rd_fail(p, "\"%s\" has %zu entries, more than the shim ever records", key, *n);
	return true;
}

/* what the shim ever keeps in part of a command line (a few arguments of
 * 16 KiB in 64 KiB), with room to spare */
#define ARGV_CUT_MAX 64

bool rd_argv_cut(struct parse *p, const json_t *a)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "argv_cut", a, ARGV_CUT_MAX, &n))
		return false;
	if (!n)
		return true;
	r->argcuts = calloc(n, sizeof(*r->argcuts));
	if (!r->argcuts)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);
		const json_t *idx = json_is_object(o) ? json_object_get(o, "index") : NULL;
		const json_t *bytes = json_is_object(o) ? json_object_get(o, "bytes") : NULL;
		char where[48];
		int64_t x;

		snprintf(where, sizeof(where), "argv_cut[%zu]: ", i);
		if (!json_is_object(o))
			return rd_want(p, where, "entry", o, "an object");
		if (!idx || !bytes)
			return rd_fail(p, "%sexpected the keys \"index\" and \"bytes\"", where);
		if (!rd_get_int(p, where, "index", idx, 0, INT_MAX, &x))
			return false;
		r->argcuts[i].index = (int)x;
		if (!rd_get_int(p, where, "bytes", bytes, 0, INT64_MAX, &r->argcuts[i].bytes))
			return false;
	}
	r->ev.argv_cut = r->argcuts;
	r->ev.nargv_cut = (int)n;
	return true;
}

bool rd_stack(struct parse *p, const json_t *a)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!json_is_array(a))
		return rd_want(p, "", "stack", a, "an array");
	n = json_array_size(a);
	if (n > STACK_MAX)
		return rd_fail(p, "stack has %zu frames, more than the shim ever records", n);
	if (!n)
		return true;
	r->frames = calloc(n, sizeof(*r->frames));
	if (!r->frames)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);
		struct st_frame *f = &r->frames[i];
		char where[32];
		const char *key;
		json_t *v;

		snprintf(where, sizeof(where), "stack[%zu]: ", i);
		if (!json_is_object(o))
			return rd_want(p, where, "frame", o, "an object");
		if (!json_object_get(o, "ip"))
			return rd_fail(p, "%smissing key \"ip\"", where);
		json_object_foreach((json_t *)o, key, v) {
			if (!strcmp(key, "ip")) {
				if (!rd_get_hex(p, where, key, v, &f->ip))
					return false;
			} else if (!strcmp(key, "off")) {
				if (!rd_get_hex(p, where, key, v, &f->off))
					return false;
			} else if (!strcmp(key, "sym_off")) {
				if (!rd_get_hex(p, where, key, v, &f->sym_off))
					return false;
			} else if (!strcmp(key, "obj")) {
				if (!rd_get_str(p, where, key, v, &f->obj))
					return false;
			} else if (!strcmp(key, "sym")) {
				if (!rd_get_str(p, where, key, v, &f->sym))
					return false;
			}
		}
	}
	r->ev.frames = r->frames;
	r->ev.nframes = (int)n;
	return true;
}

bool rd_opts(struct parse *p, const json_t *o)
{
	struct st_event *ev = &p->rec->ev;
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return rd_want(p, "", "opts", o, "an object");
	ev->has_opts = true;
	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "SO_REUSEADDR")) {
			if (!rd_get_bool(p, "opts: ", key, v, &ev->opts.reuseaddr))
				return false;
		} else if (!strcmp(key, "SO_REUSEPORT")) {
			if (!rd_get_bool(p, "opts: ", key, v, &ev->opts.reuseport))
				return false;
		} else if (!strcmp(key, "SO_LINGER")) {
			int64_t n;

			if (json_is_null(v)) {
				ev->opts.linger = -1;
			} else {
				if (!rd_get_int(p, "opts: ", key, v, 0, INT_MAX, &n))
					return false;
				ev->opts.linger = (int)n;
			}
		}
	}
	return true;
}

bool rd_tcp(struct parse *p, const json_t *o)
{
	struct st_tcp *t = &p->rec->ev.tcp;
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return rd_want(p, "", "tcp", o, "an object");
	p->rec->ev.has_tcp = true;
	json_object_foreach((json_t *)o, key, v) {
		static const struct {
			const char *name;
			size_t off;
			bool wide;
		} fields[] = {
			{ "rtt_us", offsetof(struct st_tcp, rtt_us), false },
			{ "rttvar_us", offsetof(struct st_tcp, rttvar_us), false },
			{ "retrans", offsetof(struct st_tcp, total_retrans), false },
			{ "lost", offsetof(struct st_tcp, lost), false },
			{ "bytes_sent", offsetof(struct st_tcp, bytes_sent), true },
			{ "bytes_received", offsetof(struct st_tcp, bytes_received), true },
			{ "bytes_acked", offsetof(struct st_tcp, bytes_acked), true },
			{ "unread", offsetof(struct st_tcp, unread), false },
			{ "unsent", offsetof(struct st_tcp, unsent), false },
		};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			int64_t n;

			if (strcmp(key, fields[i].name))
				continue;
			if (!rd_get_int(p, "tcp: ", key, v, 0,
					fields[i].wide ? INT64_MAX : (int64_t)UINT32_MAX, &n))
				return false;
			if (fields[i].wide)
				*(uint64_t *)((char *)t + fields[i].off) = (uint64_t)n;
			else
				*(uint32_t *)((char *)t + fields[i].off) = (uint32_t)n;
		}
	}
	t->retrans = t->total_retrans;
	return true;
}

bool rd_optval(struct parse *p, const json_t *v)
{
	struct st_event *ev = &p->rec->ev;
	int64_t n;

	if (json_is_integer(v)) {
		ev->has_optval = true;
		ev->optval = json_integer_value(v);
		return true;
	}
	if (!json_is_object(v))
		return rd_want(p, "", "optval", v, "an integer or {\"l_onoff\":..,\"l_linger\":..}");
	ev->has_optlinger = true;
	if (!json_object_get(v, "l_onoff") || !json_object_get(v, "l_linger"))
		return rd_fail(p, "optval: expected the keys \"l_onoff\" and \"l_linger\"");
	if (!rd_get_int(p, "optval: ", "l_onoff", json_object_get(v, "l_onoff"), INT_MIN, INT_MAX, &n))
		return false;
	ev->optlinger_onoff = (int)n;
	if (!rd_get_int(p, "optval: ", "l_linger", json_object_get(v, "l_linger"), INT_MIN, INT_MAX,
			&n))
		return false;
	ev->optlinger_secs = (int)n;
	return true;
}

bool rd_verdict(struct parse *p, const json_t *o)
{
	struct st_event *ev = &p->rec->ev;
	const json_t *a, *b;

	if (!json_is_object(o))
		return rd_want(p, "", "reuse_verdict", o, "an object");
	ev->has_verdict = true;
	a = json_object_get(o, "SO_REUSEADDR");
	b = json_object_get(o, "SO_REUSEPORT");
	if (a && !rd_get_tristate(p, "reuse_verdict: ", "SO_REUSEADDR", a, &ev->verdict_reuseaddr))
		return false;
	if (b && !rd_get_tristate(p, "reuse_verdict: ", "SO_REUSEPORT", b, &ev->verdict_reuseport))
		return false;
	a = json_object_get(o, "why");
	if (a && !rd_get_str(p, "reuse_verdict: ", "why", a, &ev->verdict_why))
		return false;
	return true;
}

bool rd_rights(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "rights", v, 4096, &n))
		return false;
	r->rights = calloc(n ? n : 1, sizeof(*r->rights));
	if (!r->rights)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(v, i);
		const json_t *fd = json_is_object(o) ? json_object_get(o, "fd") : NULL;
		const json_t *ino = json_is_object(o) ? json_object_get(o, "inode") : NULL;
		const json_t *lis = json_is_object(o) ? json_object_get(o, "listening") : NULL;
		char where[48];
		int64_t x;

		snprintf(where, sizeof(where), "rights[%zu]: ", i);
		if (!json_is_object(o))
			return rd_want(p, where, "entry", o, "an object");
		if (!fd)
			return rd_fail(p, "%smissing key \"fd\"", where);
		if (!rd_get_int(p, where, "fd", fd, 0, INT_MAX, &x))
			return false;
		r->rights[i].fd = (int)x;
		if (ino) {
			if (!rd_get_int(p, where, "inode", ino, 0, INT64_MAX, &x))
				return false;
			r->rights[i].inode = (uint64_t)x;
		}
		if (lis && !rd_get_bool(p, where, "listening", lis, &r->rights[i].listening))
			return false;
	}
	r->ev.rights = r->rights;
	r->ev.nrights = (int)n;
	return true;
}

bool rd_inherited(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "inherited", v, 1u << 20, &n))
		return false;
	r->isocks = calloc(n ? n : 1, sizeof(*r->isocks));
	if (!r->isocks)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(v, i);
		struct st_isock *s = &r->isocks[i];
		char where[48];
		const char *key;
		json_t *x;

		snprintf(where, sizeof(where), "inherited[%zu]: ", i);
		if (!json_is_object(o))
			return rd_want(p, where, "entry", o, "an object");
		if (!json_object_get(o, "fd"))
			return rd_fail(p, "%smissing key \"fd\"", where);
		json_object_foreach((json_t *)o, key, x) {
			int64_t k;
			bool ok = true;

			if (!strcmp(key, "fd")) {
				ok = rd_get_int(p, where, key, x, 0, INT_MAX, &k);
				s->fd = (int)k;
			} else if (!strcmp(key, "inode")) {
				ok = rd_get_int(p, where, key, x, 0, INT64_MAX, &k);
				s->inode = (uint64_t)k;
			} else if (!strcmp(key, "family")) {
				ok = rd_get_str(p, where, key, x, &s->family);
			} else if (!strcmp(key, "type")) {
				ok = rd_get_str(p, where, key, x, &s->type);
			} else if (!strcmp(key, "proto")) {
				ok = rd_get_str(p, where, key, x, &s->proto);
			} else if (!strcmp(key, "local")) {
				ok = rd_get_addr(p, where, key, x, s->local);
			} else if (!strcmp(key, "remote")) {
				ok = rd_get_addr(p, where, key, x, s->remote);
			} else if (!strcmp(key, "state")) {
				ok = rd_get_str(p, where, key, x, &s->state);
			} else if (!strcmp(key, "listening")) {
				ok = rd_get_bool(p, where, key, x, &s->listening);
			}
			if (!ok)
				return false;
		}
	}
	r->ev.inherited = r->isocks;
	r->ev.ninherited = (int)n;
	return true;
}

bool rd_kept(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "kept", v, 1u << 20, &n))
		return false;
	r->kept = calloc(n ? n : 1, sizeof(*r->kept));
	if (!r->kept)
		return rd_fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char key[32];
		int64_t x;

		snprintf(key, sizeof(key), "kept[%zu]", i);
		if (!rd_get_int(p, "", key, json_array_get(v, i), 0, INT_MAX, &x))
			return false;
		r->kept[i] = (int)x;
	}
	r->ev.kept = r->kept;
	r->ev.nkept = (int)n;
	return true;
}
