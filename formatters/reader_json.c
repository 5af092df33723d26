/* reader_json.c - one trace line into an event: st_rec_parse and
 * st_rec_free (see reader.h).
 *
 * Owns: JSON parsing (jansson) and the schema check of every key, the
 * top-level keys from codec/fields.def, and the words of each reason a line
 * is refused.  Must never crash, nor refuse a line without a reason, on any
 * input however foreign; never reads files nor prints (the caller, reader.c,
 * says what is wrong and where).
 */
#include "reader.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- the schema, key by key ------------------------------------------ */

struct parse {
	struct st_rec *rec;
	char *why;
	size_t whysz;
	bool ok;
	const json_t *holders, *lingering;	/* read last, into one allocation */
};

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

static bool fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->ok) {
		va_start(ap, fmt);
		vsnprintf(p->why, p->whysz, fmt, ap);
		va_end(ap);
	}
	p->ok = false;
	return false;
}

static bool want(struct parse *p, const char *where, const char *key, const json_t *j,
		 const char *expected)
{
	return fail(p, "%s\"%s\" is %s, expected %s", where, key, type_name(j), expected);
}

static bool get_int(struct parse *p, const char *where, const char *key, const json_t *j,
		    int64_t lo, int64_t hi, int64_t *out)
{
	json_int_t v;

	if (!json_is_integer(j))
		return want(p, where, key, j, "an integer");
	v = json_integer_value(j);
	if (v < lo || v > hi)
		return fail(p, "%s\"%s\" is %" PRId64 ", out of range", where, key, (int64_t)v);
	*out = v;
	return true;
}

static bool get_fd(struct parse *p, const char *key, const json_t *j, int *out)
{
	int64_t v;

	if (!get_int(p, "", key, j, 0, INT_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

static bool get_str(struct parse *p, const char *where, const char *key, const json_t *j,
		    const char **out)
{
	if (!json_is_string(j))
		return want(p, where, key, j, "a string");
	*out = json_string_value(j);
	return true;
}

static bool get_addr(struct parse *p, const char *where, const char *key, const json_t *j,
		     char out[ST_ADDR_MAX])
{
	const char *s = NULL;
	size_t n;

	if (!get_str(p, where, key, j, &s))
		return false;
	n = strlen(s);
	if (n >= ST_ADDR_MAX)
		return fail(p, "%s\"%s\" is %zu bytes long, longer than any socket address", where,
			    key, n);
	memcpy(out, s, n + 1);
	return true;
}

static bool get_bool(struct parse *p, const char *where, const char *key, const json_t *j,
		     bool *out)
{
	if (!json_is_boolean(j))
		return want(p, where, key, j, "true or false");
	*out = json_is_true(j);
	return true;
}

/* true/false/null as 1/0/-1 */
static bool get_tristate(struct parse *p, const char *where, const char *key, const json_t *j,
			 int *out)
{
	if (json_is_null(j)) {
		*out = -1;
		return true;
	}
	if (!json_is_boolean(j))
		return want(p, where, key, j, "true, false or null");
	*out = json_is_true(j);
	return true;
}

static bool get_hex(struct parse *p, const char *where, const char *key, const json_t *j,
		    uint64_t *out)
{
	const char *s = NULL;
	char *end;

	if (!get_str(p, where, key, j, &s))
		return false;
	if (strncmp(s, "0x", 2) || !s[2])
		return fail(p, "%s\"%s\" is \"%.40s\", expected a 0x... address", where, key, s);
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	if (*end || errno)
		return fail(p, "%s\"%s\" is \"%.40s\", expected a 0x... address", where, key, s);
	return true;
}

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
		return want(p, where, "entry", o, "an object");
	json_object_foreach((json_t *)o, key, v) {
		int64_t n;

		if (!strcmp(key, "local")) {
			if (!get_addr(p, where, key, v, k->local))
				return false;
		} else if (!strcmp(key, "remote")) {
			if (!get_addr(p, where, key, v, k->remote))
				return false;
		} else if (!strcmp(key, "state")) {
			if (!get_str(p, where, key, v, &k->state))
				return false;
		} else if (!strcmp(key, "comm")) {
			if (!get_str(p, where, key, v, &k->comm))
				return false;
		} else if (!strcmp(key, "timer_ms")) {
			if (!get_int(p, where, key, v, 0, INT64_MAX, &k->timer_ms))
				return false;
		} else if (!strcmp(key, "inode")) {
			if (!get_int(p, where, key, v, 0, INT64_MAX, &n))
				return false;
			k->inode = (uint64_t)n;
		} else if (!strcmp(key, "uid")) {
			if (!get_int(p, where, key, v, 0, INT64_MAX, &k->uid))
				return false;
		} else if (!strcmp(key, "pid")) {
			if (!get_int(p, where, key, v, 0, INT64_MAX, &k->pid))
				return false;
		} else if (!strcmp(key, "dev")) {
			if (!get_int(p, where, key, v, 0, INT_MAX, &n))
				return false;
			k->dev = (int)n;
		} else if (!strcmp(key, "v6only")) {
			bool b6 = false;
			if (!get_bool(p, where, key, v, &b6))
				return false;
			k->v6only = b6;
		}
	}
	return true;
}

/* holders and lingering share one allocation in rec->ksocks */
static bool parse_ksocks(struct parse *p, const json_t *holders, const json_t *lingering)
{
	struct st_rec *r = p->rec;
	size_t nh = 0, nl = 0;

	if (holders && !json_is_array(holders))
		return want(p, "", "holders", holders, "an array");
	if (lingering && !json_is_array(lingering))
		return want(p, "", "lingering", lingering, "an array");
	nh = holders ? json_array_size(holders) : 0;
	nl = lingering ? json_array_size(lingering) : 0;
	if (nh > INT_MAX / 2 || nl > INT_MAX / 2)
		return fail(p, "too many kernel sockets");
	if (nh + nl) {
		r->ksocks = calloc(nh + nl, sizeof(*r->ksocks));
		if (!r->ksocks)
			return fail(p, "out of memory");
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

static bool parse_argv(struct parse *p, const json_t *a)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!json_is_array(a))
		return want(p, "", "argv", a, "an array");
	n = json_array_size(a);
	if (n > INT_MAX)
		return fail(p, "argv is too long");
	r->argv = calloc(n + 1, sizeof(*r->argv));
	if (!r->argv)
		return fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char key[32];

		snprintf(key, sizeof(key), "argv[%zu]", i);
		if (!get_str(p, "", key, json_array_get(a, i), &r->argv[i]))
			return false;
	}
	r->ev.argv = r->argv;
	r->ev.argc = (int)n;
	return true;
}

static bool parse_stack(struct parse *p, const json_t *a)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!json_is_array(a))
		return want(p, "", "stack", a, "an array");
	n = json_array_size(a);
	if (n > 4096)
		return fail(p, "stack has %zu frames, more than the shim ever records", n);
	if (!n)
		return true;
	r->frames = calloc(n, sizeof(*r->frames));
	if (!r->frames)
		return fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);
		struct st_frame *f = &r->frames[i];
		char where[32];
		const char *key;
		json_t *v;

		snprintf(where, sizeof(where), "stack[%zu]: ", i);
		if (!json_is_object(o))
			return want(p, where, "frame", o, "an object");
		if (!json_object_get(o, "ip"))
			return fail(p, "%smissing key \"ip\"", where);
		json_object_foreach((json_t *)o, key, v) {
			if (!strcmp(key, "ip")) {
				if (!get_hex(p, where, key, v, &f->ip))
					return false;
			} else if (!strcmp(key, "off")) {
				if (!get_hex(p, where, key, v, &f->off))
					return false;
			} else if (!strcmp(key, "sym_off")) {
				if (!get_hex(p, where, key, v, &f->sym_off))
					return false;
			} else if (!strcmp(key, "obj")) {
				if (!get_str(p, where, key, v, &f->obj))
					return false;
			} else if (!strcmp(key, "sym")) {
				if (!get_str(p, where, key, v, &f->sym))
					return false;
			}
		}
	}
	r->ev.frames = r->frames;
	r->ev.nframes = (int)n;
	return true;
}

static bool parse_opts(struct parse *p, const json_t *o)
{
	struct st_event *ev = &p->rec->ev;
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return want(p, "", "opts", o, "an object");
	ev->has_opts = true;
	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "SO_REUSEADDR")) {
			if (!get_bool(p, "opts: ", key, v, &ev->opts.reuseaddr))
				return false;
		} else if (!strcmp(key, "SO_REUSEPORT")) {
			if (!get_bool(p, "opts: ", key, v, &ev->opts.reuseport))
				return false;
		} else if (!strcmp(key, "SO_LINGER")) {
			int64_t n;

			if (json_is_null(v)) {
				ev->opts.linger = -1;
			} else {
				if (!get_int(p, "opts: ", key, v, 0, INT_MAX, &n))
					return false;
				ev->opts.linger = (int)n;
			}
		}
	}
	return true;
}

static bool parse_tcp(struct parse *p, const json_t *o)
{
	struct st_tcp *t = &p->rec->ev.tcp;
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return want(p, "", "tcp", o, "an object");
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
			if (!get_int(p, "tcp: ", key, v, 0,
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

static bool parse_optval(struct parse *p, const json_t *v)
{
	struct st_event *ev = &p->rec->ev;
	int64_t n;

	if (json_is_integer(v)) {
		ev->has_optval = true;
		ev->optval = json_integer_value(v);
		return true;
	}
	if (!json_is_object(v))
		return want(p, "", "optval", v, "an integer or {\"l_onoff\":..,\"l_linger\":..}");
	ev->has_optlinger = true;
	if (!json_object_get(v, "l_onoff") || !json_object_get(v, "l_linger"))
		return fail(p, "optval: expected the keys \"l_onoff\" and \"l_linger\"");
	if (!get_int(p, "optval: ", "l_onoff", json_object_get(v, "l_onoff"), INT_MIN, INT_MAX, &n))
		return false;
	ev->optlinger_onoff = (int)n;
	if (!get_int(p, "optval: ", "l_linger", json_object_get(v, "l_linger"), INT_MIN, INT_MAX,
		     &n))
		return false;
	ev->optlinger_secs = (int)n;
	return true;
}

static bool parse_verdict(struct parse *p, const json_t *o)
{
	struct st_event *ev = &p->rec->ev;
	const json_t *a, *b;

	if (!json_is_object(o))
		return want(p, "", "reuse_verdict", o, "an object");
	ev->has_verdict = true;
	a = json_object_get(o, "SO_REUSEADDR");
	b = json_object_get(o, "SO_REUSEPORT");
	if (a && !get_tristate(p, "reuse_verdict: ", "SO_REUSEADDR", a, &ev->verdict_reuseaddr))
		return false;
	if (b && !get_tristate(p, "reuse_verdict: ", "SO_REUSEPORT", b, &ev->verdict_reuseport))
		return false;
	a = json_object_get(o, "why");
	if (a && !get_str(p, "reuse_verdict: ", "why", a, &ev->verdict_why))
		return false;
	return true;
}

/* ts: seconds with a fraction; kept as integer microseconds */
static bool parse_ts(struct parse *p, const json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);
		if (s < 0 || s > INT64_MAX / 1000000)
			return fail(p, "\"ts\" is out of range");
		p->rec->ev.ts_us = (int64_t)s * 1000000;
		return true;
	}
	if (!json_is_real(v))
		return want(p, "", "ts", v, "a number of seconds");
	d = json_real_value(v);
	if (!isfinite(d) || d < 0 || d > 9.0e12)
		return fail(p, "\"ts\" is out of range");
	p->rec->ev.ts_us = (int64_t)(d * 1e6 + 0.5);	/* no libm needed */
	return true;
}

/* ---- the top-level keys, from fields.def ---- */

/* v, ts and call are read first, by st_rec_parse */
static bool dec_v(struct parse *p, json_t *v) { (void)p; (void)v; return true; }
static bool dec_ts(struct parse *p, json_t *v) { (void)p; (void)v; return true; }
static bool dec_call(struct parse *p, json_t *v) { (void)p; (void)v; return true; }

static bool dec_fds(struct parse *p, json_t *v)
{
	struct st_event *ev = &p->rec->ev;

	if (!json_is_array(v) || json_array_size(v) != 2)
		return fail(p, "\"fds\" is %s, expected an array of two descriptors",
			    json_is_array(v) ? "an array of another size" : type_name(v));
	return get_fd(p, "fds[0]", json_array_get(v, 0), &ev->pair[0]) &&
	       get_fd(p, "fds[1]", json_array_get(v, 1), &ev->pair[1]);
}

static bool dec_ret(struct parse *p, json_t *v)
{
	return get_int(p, "", "ret", v, INT64_MIN, INT64_MAX, &p->rec->ev.ret);
}

static bool dec_optval(struct parse *p, json_t *v)
{
	return parse_optval(p, v);
}

static bool dec_range(struct parse *p, json_t *v)
{
	struct st_event *ev = &p->rec->ev;

	if (!json_is_array(v) || json_array_size(v) != 2)
		return want(p, "", "range", v, "an array [first, last]");
	return get_int(p, "", "range[0]", json_array_get(v, 0), 0, UINT32_MAX, &ev->range_first) &&
	       get_int(p, "", "range[1]", json_array_get(v, 1), 0, UINT32_MAX, &ev->range_last);
}

static bool dec_opts(struct parse *p, json_t *v)
{
	return parse_opts(p, v);
}

static bool dec_tcp(struct parse *p, json_t *v)
{
	return parse_tcp(p, v);
}

/* "last": a close's "no other descriptor holds it" */
static bool dec_last(struct parse *p, json_t *v)
{
	struct st_event *ev = &p->rec->ev;

	if (!get_bool(p, "", "last", v, &ev->last_ref))
		return false;
	ev->last_ref_known = true;
	return true;
}

static bool dec_reset(struct parse *p, json_t *v)
{
	p->rec->ev.reset_known = true;
	return get_bool(p, "", "reset", v, &p->rec->ev.reset);
}

static bool dec_argv(struct parse *p, json_t *v)
{
	return parse_argv(p, v);
}

/* holders and lingering share one allocation: read once both are known */
static bool dec_holders(struct parse *p, json_t *v)
{
	p->holders = json_is_null(v) ? NULL : v;	/* null: the kernel was not asked */
	return true;
}

static bool dec_lingering(struct parse *p, json_t *v)
{
	p->lingering = v;
	return true;
}

static bool dec_reuse_verdict(struct parse *p, json_t *v)
{
	return parse_verdict(p, v);
}

static bool dec_stack(struct parse *p, json_t *v)
{
	return parse_stack(p, v);
}

/* an array of at most max entries, counted into *n */
static bool array_of(struct parse *p, const char *key, const json_t *v, size_t max, size_t *n)
{
	if (!json_is_array(v))
		return want(p, "", key, v, "an array");
	*n = json_array_size(v);
	if (*n > max)
		return fail(p, "\"%s\" has %zu entries, more than the shim ever records", key, *n);
	return true;
}

static bool dec_rights(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "rights", v, 4096, &n))
		return false;
	r->rights = calloc(n ? n : 1, sizeof(*r->rights));
	if (!r->rights)
		return fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(v, i);
		const json_t *fd = json_is_object(o) ? json_object_get(o, "fd") : NULL;
		const json_t *ino = json_is_object(o) ? json_object_get(o, "inode") : NULL;
		char where[48];
		int64_t x;

		snprintf(where, sizeof(where), "rights[%zu]: ", i);
		if (!json_is_object(o))
			return want(p, where, "entry", o, "an object");
		if (!fd)
			return fail(p, "%smissing key \"fd\"", where);
		if (!get_int(p, where, "fd", fd, 0, INT_MAX, &x))
			return false;
		r->rights[i].fd = (int)x;
		if (ino) {
			if (!get_int(p, where, "inode", ino, 0, INT64_MAX, &x))
				return false;
			r->rights[i].inode = (uint64_t)x;
		}
	}
	r->ev.rights = r->rights;
	r->ev.nrights = (int)n;
	return true;
}

static bool dec_inherited(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "inherited", v, 1u << 20, &n))
		return false;
	r->isocks = calloc(n ? n : 1, sizeof(*r->isocks));
	if (!r->isocks)
		return fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(v, i);
		struct st_isock *s = &r->isocks[i];
		char where[48];
		const char *key;
		json_t *x;

		snprintf(where, sizeof(where), "inherited[%zu]: ", i);
		if (!json_is_object(o))
			return want(p, where, "entry", o, "an object");
		if (!json_object_get(o, "fd"))
			return fail(p, "%smissing key \"fd\"", where);
		json_object_foreach((json_t *)o, key, x) {
			int64_t k;
			bool ok = true;

			if (!strcmp(key, "fd")) {
				ok = get_int(p, where, key, x, 0, INT_MAX, &k);
				s->fd = (int)k;
			} else if (!strcmp(key, "inode")) {
				ok = get_int(p, where, key, x, 0, INT64_MAX, &k);
				s->inode = (uint64_t)k;
			} else if (!strcmp(key, "family")) {
				ok = get_str(p, where, key, x, &s->family);
			} else if (!strcmp(key, "type")) {
				ok = get_str(p, where, key, x, &s->type);
			} else if (!strcmp(key, "proto")) {
				ok = get_str(p, where, key, x, &s->proto);
			} else if (!strcmp(key, "local")) {
				ok = get_addr(p, where, key, x, s->local);
			} else if (!strcmp(key, "remote")) {
				ok = get_addr(p, where, key, x, s->remote);
			} else if (!strcmp(key, "state")) {
				ok = get_str(p, where, key, x, &s->state);
			}
			if (!ok)
				return false;
		}
	}
	r->ev.inherited = r->isocks;
	r->ev.ninherited = (int)n;
	return true;
}

static bool dec_kept(struct parse *p, json_t *v)
{
	struct st_rec *r = p->rec;
	size_t n;

	if (!array_of(p, "kept", v, 1u << 20, &n))
		return false;
	r->kept = calloc(n ? n : 1, sizeof(*r->kept));
	if (!r->kept)
		return fail(p, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char key[32];
		int64_t x;

		snprintf(key, sizeof(key), "kept[%zu]", i);
		if (!get_int(p, "", key, json_array_get(v, i), 0, INT_MAX, &x))
			return false;
		r->kept[i] = (int)x;
	}
	r->ev.kept = r->kept;
	r->ev.nkept = (int)n;
	return true;
}

enum ftype { FT_I64, FT_INT, FT_U64, FT_STR, FT_ADDR, FT_TRUE, FT_CUSTOM };

struct field {
	const char *key;
	enum ftype type;
	size_t off;		/* of the member in struct st_event */
	int64_t lo, hi;
	bool (*dec)(struct parse *p, json_t *v);
};

static const struct field fields[] = {
#define FIELD(key, member, type, lo, hi, when) \
	{ #key, FT_##type, offsetof(struct st_event, member), (int64_t)(lo), (int64_t)(hi), NULL },
#define CUSTOM(key) { #key, FT_CUSTOM, 0, 0, 0, dec_##key },
#include "fields.def"
#undef FIELD
#undef CUSTOM
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int field_cmp(const void *a, const void *b)
{
	return strcmp(((const struct field *)a)->key, ((const struct field *)b)->key);
}

/* The field of key, NULL for a key this reader does not know. */
static const struct field *field_of(const char *key)
{
	static struct field sorted[NFIELDS];
	static bool ready;
	struct field k = { .key = key };

	if (!ready) {
		memcpy(sorted, fields, sizeof(fields));
		qsort(sorted, NFIELDS, sizeof(sorted[0]), field_cmp);
		ready = true;
	}
	return bsearch(&k, sorted, NFIELDS, sizeof(sorted[0]), field_cmp);
}

static bool dec_scalar(struct parse *p, const struct field *f, json_t *v)
{
	char *m = (char *)&p->rec->ev + f->off;
	int64_t n;

	switch (f->type) {
	case FT_I64:
		return get_int(p, "", f->key, v, f->lo, f->hi, (int64_t *)(void *)m);
	case FT_INT:
		if (!get_int(p, "", f->key, v, f->lo, f->hi, &n))
			return false;
		*(int *)(void *)m = (int)n;
		return true;
	case FT_U64:
		if (!get_int(p, "", f->key, v, f->lo, f->hi, &n))
			return false;
		*(uint64_t *)(void *)m = (uint64_t)n;
		return true;
	case FT_STR:
		return get_str(p, "", f->key, v, (const char **)(void *)m);
	case FT_ADDR:
		return get_addr(p, "", f->key, v, m);
	case FT_TRUE:
		return get_bool(p, "", f->key, v, (bool *)(void *)m);
	case FT_CUSTOM:
		return f->dec(p, v);
	}
	return false;
}

static bool parse_keys(struct parse *p, json_t *root)
{
	struct st_event *ev = &p->rec->ev;
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		const struct field *f = field_of(key);

		/* other keys: ignored, a v1 reader may meet keys added later to v1 */
		if (f && !dec_scalar(p, f, v))
			return false;
	}
	if (ev->range_first >= 0 && ev->range_last < 0)
		ev->range_last = UINT32_MAX;
	return parse_ksocks(p, p->holders, p->lingering);
}

bool st_rec_parse(struct st_rec *rec, const char *line, size_t len, char *why, size_t whysz)
{
	struct parse p = { rec, why, whysz, true, NULL, NULL };
	json_error_t jerr;
	const void *nul;
	json_t *root, *v, *ts, *call, *pid;
	const char *c;

	st_event_init(&rec->ev);
	rec->ev.fd = -1;
	nul = memchr(line, '\0', len);
	if (nul)
		return fail(&p, "NUL byte at column %zu: not a text line",
			    (size_t)((const char *)nul - line) + 1);
	root = json_loadb(line, len, 0, &jerr);
	if (!root)
		return fail(&p, "not JSON: %s (column %d)", jerr.text, jerr.column);
	rec->json = root;
	if (!json_is_object(root))
		return fail(&p, "%s where an event object was expected", type_name(root));
	v = json_object_get(root, "v");
	if (!v)
		return fail(&p, "missing key \"v\" (the schema version): not a socktrace event");
	if (!json_is_integer(v))
		return want(&p, "", "v", v, "an integer");
	if (json_integer_value(v) > ST_SCHEMA_VERSION)
		return fail(&p, "schema version %" PRId64 " is newer than this socktrace reads (%d)",
			    (int64_t)json_integer_value(v), ST_SCHEMA_VERSION);
	if (json_integer_value(v) < 1)
		return fail(&p, "schema version %" PRId64 " does not exist",
			    (int64_t)json_integer_value(v));
	rec->ev.v = (int)json_integer_value(v);
	ts = json_object_get(root, "ts");
	call = json_object_get(root, "call");
	pid = json_object_get(root, "pid");
	if (!ts)
		return fail(&p, "missing key \"ts\"");
	if (!call)
		return fail(&p, "missing key \"call\"");
	if (!pid)
		return fail(&p, "missing key \"pid\"");
	if (!parse_ts(&p, ts))
		return false;
	if (!get_str(&p, "", "call", call, &c))
		return false;
	rec->ev.call = st_call_lookup(c);
	if (rec->ev.call == ST_CALL_NONE)
		return fail(&p, "unknown call \"%.40s\"", c);
	rec->ev.tid = -1;
	if (!parse_keys(&p, root))
		return false;
	if (rec->ev.tid < 0)
		rec->ev.tid = rec->ev.pid;
	if (rec->ev.err && rec->ev.ret >= 0)
		rec->ev.ret = -1;
	return true;
}

void st_rec_free(struct st_rec *rec)
{
	if (!rec)
		return;
	if (rec->json)
		json_decref(rec->json);
	free(rec->argv);
	free(rec->ksocks);
	free(rec->frames);
	free(rec->rights);
	free(rec->isocks);
	free(rec->kept);
	free(rec);
}
