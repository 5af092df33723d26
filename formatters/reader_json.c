/* SPDX-License-Identifier: MIT */
/* reader_json.c - one trace line into an event: st_rec_parse and
 * st_rec_free (see reader.h).
 *
 * Owns: JSON parsing (jansson), the typed values every key is read with
 * (reader_json.h), the top-level keys from codec/fields.def, and the words
 * of each reason a line is refused; the keys whose values are objects or
 * arrays are read by reader_nested.c.  Must never crash, nor refuse a line
 * without a reason, on any input however foreign; never reads files nor
 * prints (the caller, reader.c, says what is wrong and where).
 */
#include "reader_json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- typed values ------------------------------------------------------ */

const char *rd_type_name(const json_t *j)
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

bool rd_fail(struct parse *p, const char *fmt, ...)
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

bool rd_want(struct parse *p, const char *where, const char *key, const json_t *j,
	     const char *expected)
{
	return rd_fail(p, "%s\"%s\" is %s, expected %s", where, key, rd_type_name(j), expected);
}

bool rd_get_int(struct parse *p, const char *where, const char *key, const json_t *j,
		int64_t lo, int64_t hi, int64_t *out)
{
	json_int_t v;

	if (!json_is_integer(j))
		return rd_want(p, where, key, j, "an integer");
	v = json_integer_value(j);
	if (v < lo || v > hi)
		return rd_fail(p, "%s\"%s\" is %" PRId64 ", out of range", where, key, (int64_t)v);
	*out = v;
	return true;
}

bool rd_get_fd(struct parse *p, const char *key, const json_t *j, int *out)
{
	int64_t v;

	if (!rd_get_int(p, "", key, j, 0, INT_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

/* Strings that repeat from event to event (names of calls, families,
 * states, errnos; programs, hosts) are kept once for all records, up to
 * INTERN_MAX strings of at most INTERN_LEN bytes: a trace of unique
 * strings costs at most that, and the rest goes to the records' own
 * storage.  Never freed (reachable to the end); one reading thread. */
#define INTERN_SLOTS 8192	/* a power of two, twice INTERN_MAX */
#define INTERN_MAX 4096
#define INTERN_LEN 64
static char *interned[INTERN_SLOTS];
static size_t ninterned;

static const char *intern(const char *s, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	if (n > INTERN_LEN || memchr(s, '\0', n))
		return NULL;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	for (i = h & (INTERN_SLOTS - 1);; i = (i + 1) & (INTERN_SLOTS - 1)) {
		if (!interned[i])
			break;
		if (!strncmp(interned[i], s, n) && !interned[i][n])
			return interned[i];
	}
	if (ninterned >= INTERN_MAX || !(interned[i] = strndup(s, n)))
		return NULL;
	ninterned++;
	return interned[i];
}

bool rd_get_str(struct parse *p, const char *where, const char *key, const json_t *j,
		const char **out)
{
	size_t n;

	if (!json_is_string(j))
		return rd_want(p, where, key, j, "a string");
	n = json_string_length(j);
	if ((*out = intern(json_string_value(j), n)))
		return true;
	if (!p->rec->strs && !(p->rec->strs = malloc(p->strcap)))
		return rd_fail(p, "out of memory");
	if (n + 1 > p->strcap - p->strused)	/* cannot be: decoded <= quoted */
		return rd_fail(p, "strings longer than the line");
	memcpy(p->rec->strs + p->strused, json_string_value(j), n);
	p->rec->strs[p->strused + n] = '\0';
	*out = p->rec->strs + p->strused;
	p->strused += n + 1;
	return true;
}

bool rd_get_addr(struct parse *p, const char *where, const char *key, const json_t *j,
		 char out[ST_ADDR_MAX])
{
	const char *s;
	size_t n;

	/* copied straight from the JSON: an address is no name to intern
	 * (a churn of ports would fill the table) nor to keep twice */
	if (!json_is_string(j))
		return rd_want(p, where, key, j, "a string");
	s = json_string_value(j);
	n = strnlen(s, json_string_length(j));	/* as far as an embedded NUL */
	if (n >= ST_ADDR_MAX)
		return rd_fail(p, "%s\"%s\" is %zu bytes long, longer than any socket address", where,
			       key, n);
	memcpy(out, s, n + 1);
	return true;
}

bool rd_get_bool(struct parse *p, const char *where, const char *key, const json_t *j,
		 bool *out)
{
	if (!json_is_boolean(j))
		return rd_want(p, where, key, j, "true or false");
	*out = json_is_true(j);
	return true;
}

/* true/false/null as 1/0/-1 */
bool rd_get_tristate(struct parse *p, const char *where, const char *key, const json_t *j,
		     int *out)
{
	if (json_is_null(j)) {
		*out = -1;
		return true;
	}
	if (!json_is_boolean(j))
		return rd_want(p, where, key, j, "true, false or null");
	*out = json_is_true(j);
	return true;
}

bool rd_get_hex(struct parse *p, const char *where, const char *key, const json_t *j,
		uint64_t *out)
{
	const char *s = NULL;
	char *end;

	if (!rd_get_str(p, where, key, j, &s))
		return false;
	if (strncmp(s, "0x", 2) || !s[2])
		return rd_fail(p, "%s\"%s\" is \"%.40s\", expected a 0x... address", where, key, s);
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	if (*end || errno)
		return rd_fail(p, "%s\"%s\" is \"%.40s\", expected a 0x... address", where, key, s);
	return true;
}


/* ts: seconds with a fraction; kept as integer microseconds */
static bool parse_ts(struct parse *p, const json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);
		if (s < 0 || s > INT64_MAX / 1000000)
			return rd_fail(p, "\"ts\" is out of range");
		p->rec->ev.ts_us = (int64_t)s * 1000000;
		return true;
	}
	if (!json_is_real(v))
		return rd_want(p, "", "ts", v, "a number of seconds");
	d = json_real_value(v);
	if (!isfinite(d) || d < 0 || d > 9.0e12)
		return rd_fail(p, "\"ts\" is out of range");
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
		return rd_fail(p, "\"fds\" is %s, expected an array of two descriptors",
			       json_is_array(v) ? "an array of another size" : rd_type_name(v));
	return rd_get_fd(p, "fds[0]", json_array_get(v, 0), &ev->pair[0]) &&
	       rd_get_fd(p, "fds[1]", json_array_get(v, 1), &ev->pair[1]);
}

static bool dec_ret(struct parse *p, json_t *v)
{
	return rd_get_int(p, "", "ret", v, INT64_MIN, INT64_MAX, &p->rec->ev.ret);
}

static bool dec_optval(struct parse *p, json_t *v)
{
	return rd_optval(p, v);
}

static bool dec_range(struct parse *p, json_t *v)
{
	struct st_event *ev = &p->rec->ev;

	if (!json_is_array(v) || json_array_size(v) != 2)
		return rd_want(p, "", "range", v, "an array [first, last]");
	return rd_get_int(p, "", "range[0]", json_array_get(v, 0), 0, UINT32_MAX, &ev->range_first) &&
	       rd_get_int(p, "", "range[1]", json_array_get(v, 1), 0, UINT32_MAX, &ev->range_last);
}

static bool dec_opts(struct parse *p, json_t *v)
{
	return rd_opts(p, v);
}

static bool dec_tcp(struct parse *p, json_t *v)
{
	return rd_tcp(p, v);
}

/* "last": a close's "no other descriptor holds it" */
static bool dec_last(struct parse *p, json_t *v)
{
	struct st_event *ev = &p->rec->ev;

	if (!rd_get_bool(p, "", "last", v, &ev->last_ref))
		return false;
	ev->last_ref_known = true;
	return true;
}

static bool dec_reset(struct parse *p, json_t *v)
{
	p->rec->ev.reset_known = true;
	return rd_get_bool(p, "", "reset", v, &p->rec->ev.reset);
}

static bool dec_argv(struct parse *p, json_t *v)
{
	return rd_argv(p, v);
}

static bool dec_argv_cut(struct parse *p, json_t *v)
{
	return rd_argv_cut(p, v);
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
	return rd_verdict(p, v);
}

static bool dec_stack(struct parse *p, json_t *v)
{
	return rd_stack(p, v);
}

static bool dec_rights(struct parse *p, json_t *v)
{
	return rd_rights(p, v);
}

static bool dec_inherited(struct parse *p, json_t *v)
{
	return rd_inherited(p, v);
}

static bool dec_kept(struct parse *p, json_t *v)
{
	return rd_kept(p, v);
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
		return rd_get_int(p, "", f->key, v, f->lo, f->hi, (int64_t *)(void *)m);
	case FT_INT:
		if (!rd_get_int(p, "", f->key, v, f->lo, f->hi, &n))
			return false;
		*(int *)(void *)m = (int)n;
		return true;
	case FT_U64:
		if (!rd_get_int(p, "", f->key, v, f->lo, f->hi, &n))
			return false;
		*(uint64_t *)(void *)m = (uint64_t)n;
		return true;
	case FT_STR:
		return rd_get_str(p, "", f->key, v, (const char **)(void *)m);
	case FT_ADDR:
		return rd_get_addr(p, "", f->key, v, m);
	case FT_TRUE:
		return rd_get_bool(p, "", f->key, v, (bool *)(void *)m);
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
	return rd_ksocks(p, p->holders, p->lingering);
}

static bool parse_root(struct parse *p, json_t *root);

bool st_rec_parse(struct st_rec *rec, const char *line, size_t len, char *why, size_t whysz)
{
	struct parse p = { rec, why, whysz, true, NULL, NULL, len + 1, 0 };
	json_error_t jerr;
	const void *nul;
	json_t *root;
	bool ok;

	st_event_init(&rec->ev);
	rec->ev.fd = -1;
	nul = memchr(line, '\0', len);
	if (nul)
		return rd_fail(&p, "NUL byte at column %zu: not a text line",
			       (size_t)((const char *)nul - line) + 1);
	root = json_loadb(line, len, 0, &jerr);
	if (!root)
		return rd_fail(&p, "not JSON: %s (column %d)", jerr.text, jerr.column);
	ok = parse_root(&p, root);
	json_decref(root);	/* the record keeps copies of what it needs */
	return ok;
}

/* the event of the line's JSON object root into p->rec */
static bool parse_root(struct parse *p, json_t *root)
{
	struct st_rec *rec = p->rec;
	json_t *v, *ts, *call, *pid;
	const char *c;

	if (!json_is_object(root))
		return rd_fail(p, "%s where an event object was expected", rd_type_name(root));
	v = json_object_get(root, "v");
	if (!v)
		return rd_fail(p, "missing key \"v\" (the schema version): not a socktrace event");
	if (!json_is_integer(v))
		return rd_want(p, "", "v", v, "an integer");
	if (json_integer_value(v) > ST_SCHEMA_VERSION)
		return rd_fail(p, "schema version %" PRId64 " is newer than this socktrace reads (%d)",
			       (int64_t)json_integer_value(v), ST_SCHEMA_VERSION);
	if (json_integer_value(v) < 1)
		return rd_fail(p, "schema version %" PRId64 " does not exist",
			       (int64_t)json_integer_value(v));
	rec->ev.v = (int)json_integer_value(v);
	ts = json_object_get(root, "ts");
	call = json_object_get(root, "call");
	pid = json_object_get(root, "pid");
	if (!ts)
		return rd_fail(p, "missing key \"ts\"");
	if (!call)
		return rd_fail(p, "missing key \"call\"");
	if (!pid)
		return rd_fail(p, "missing key \"pid\"");
	if (!parse_ts(p, ts))
		return false;
	if (!rd_get_str(p, "", "call", call, &c))
		return false;
	rec->ev.call = st_call_lookup(c);
	if (rec->ev.call == ST_CALL_NONE)
		return rd_fail(p, "unknown call \"%.40s\"", c);
	rec->ev.tid = -1;
	if (!parse_keys(p, root))
		return false;
	if (rec->ev.tid < 0)
		rec->ev.tid = rec->ev.pid;
	if (rec->ev.err && rec->ev.ret >= 0)
		rec->ev.ret = -1;
	rec->origin = 0;	/* the file's reader may say otherwise (origins.c) */
	rec->pkey = rec->ev.pid;
	return true;
}

/* ---- records ----------------------------------------------------------- */

/* Records come from blocks of REC_BLOCK and go back to a free list.  A
 * record (1 168 bytes) is above glibc's per-thread cache, and a million of
 * them, one malloc each among the parser's many small frees, spent a fifth
 * of `show -f summary`'s time in malloc's bin sorting.  The blocks are
 * never given back: what a reader held once it may hold again (the
 * stream's window), and a whole trace's records live until its end.
 * Under AddressSanitizer every record is its own allocation, so that a
 * use after st_rec_free is still caught.  One thread: the readers run in
 * the command's only thread. */
#if defined(__SANITIZE_ADDRESS__)
#define REC_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REC_POOL 0
#endif
#endif
#ifndef REC_POOL
#define REC_POOL 1
#endif
#define REC_BLOCK 256

union rec_slot {
	struct st_rec rec;
	union rec_slot *next;	/* on the free list */
};

struct rec_block {
	struct rec_block *older;	/* every block stays reachable */
	union rec_slot slot[REC_BLOCK];
};

static union rec_slot *rec_free_list;
static struct rec_block *rec_block;	/* the newest block ... */
static size_t rec_block_used;		/* ... and its slots handed out */

struct st_rec *st_rec_new(void)
{
	union rec_slot *s;

	if (!REC_POOL)
		return calloc(1, sizeof(struct st_rec));
	if (rec_free_list) {
		s = rec_free_list;
		rec_free_list = s->next;
	} else {
		if (!rec_block || rec_block_used == REC_BLOCK) {
			struct rec_block *b = malloc(sizeof(*b));

			if (!b)
				return NULL;
			b->older = rec_block;
			rec_block = b;
			rec_block_used = 0;
		}
		s = &rec_block->slot[rec_block_used++];
	}
	memset(&s->rec, 0, sizeof(s->rec));
	return &s->rec;
}

void st_rec_free(struct st_rec *rec)
{
	if (!rec)
		return;
	free(rec->strs);
	free(rec->argv);
	free(rec->argcuts);
	free(rec->ksocks);
	free(rec->frames);
	free(rec->rights);
	free(rec->isocks);
	free(rec->kept);
	if (!REC_POOL) {
		free(rec);
		return;
	}
	union rec_slot *s = (union rec_slot *)rec;

	s->next = rec_free_list;
	rec_free_list = s;
}
