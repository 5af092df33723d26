/* SPDX-License-Identifier: MIT */
/* record.c - events as compact binary records (see record.h).
 *
 * The scalar keys are written and read from fields.def; the CUSTOM ones by
 * rec_enc_KEY() and rec_dec_KEY() here.  A string is a 16-bit length, its
 * bytes and a NUL (so a decoded event points into the record); 0xffff is
 * NULL.  An integer is 8 bytes in the machine's order: the record never
 * leaves the machine.
 * The encoder runs inside the traced program: no malloc, no stdio, no
 * locks.
 */
#include "record.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

enum {
#define FIELD(key, member, type, lo, hi, when) TAG_##key,
#define CUSTOM(key) TAG_##key,
#include "fields.def"
#undef FIELD
#undef CUSTOM
	TAG_COUNT
};

#define NULL_STR 0xffffu

/* ---- the stamp ---- */

static const char layout[] =
#define FIELD(key, member, type, lo, hi, when) #key ":" #type ","
#define CUSTOM(key) #key ":custom,"
#include "fields.def"
#undef FIELD
#undef CUSTOM
	;

/* fields.def names a CUSTOM key, not what its rec_enc_KEY() writes: a
 * change of that is named here too, so that it changes the stamp. */
static const char custom_layout[] = "inherited:fd,inode,family,type,proto,local,remote,state,listening;"
				    "rights:fd,inode,listening;";

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

uint32_t st_record_stamp(void)
{
	static _Atomic uint32_t stamp;
	uint32_t h = atomic_load_explicit(&stamp, memory_order_relaxed);
	size_t sizes[] = { sizeof(struct st_event), sizeof(struct st_ksock), sizeof(struct st_isock),
			   sizeof(struct st_right), sizeof(int64_t), sizeof(void *) };

	if (h)
		return h;
	h = fnv(2166136261u, layout, sizeof(layout));
	h = fnv(h, custom_layout, sizeof(custom_layout));
	for (int c = 0; c < ST_CALL_COUNT; c++) {
		const char *name = st_call_name((enum st_call)c);
		h = fnv(h, name, strlen(name) + 1);
	}
	h = fnv(h, sizes, sizeof(sizes));
	h |= !h;	/* never 0: 0 is "not computed yet" */
	atomic_store_explicit(&stamp, h, memory_order_relaxed);
	return h;
}

/* ---- writing ---- */

struct w {
	uint8_t *p;
	size_t cap, len;
};

static inline void put(struct w *w, const void *v, size_t n)
{
	if (w->len + n <= w->cap)
		memcpy(w->p + w->len, v, n);
	w->len += n;
}

static inline void put_u8(struct w *w, uint8_t v)
{
	put(w, &v, 1);
}

static inline void put_i64v(struct w *w, int64_t v)
{
	put(w, &v, sizeof(v));
}

static inline void put_u32v(struct w *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static inline void put_strv(struct w *w, const char *s)
{
	uint16_t n;

	if (!s) {
		n = NULL_STR;
		put(w, &n, sizeof(n));
		return;
	}
	{
		size_t l = strlen(s);
		n = l < NULL_STR ? (uint16_t)l : (uint16_t)(NULL_STR - 1);
	}
	put(w, &n, sizeof(n));
	put(w, s, n);
	put_u8(w, 0);
}

/* the scalar keys, by type */
static inline void put_I64(struct w *w, uint8_t tag, int64_t v)
{
	put_u8(w, tag);
	put_i64v(w, v);
}

static inline void put_INT(struct w *w, uint8_t tag, int v)
{
	put_I64(w, tag, v);
}

static inline void put_U64(struct w *w, uint8_t tag, uint64_t v)
{
	put_I64(w, tag, (int64_t)v);
}

static inline void put_STR(struct w *w, uint8_t tag, const char *s)
{
	put_u8(w, tag);
	put_strv(w, s);
}

static inline void put_ADDR(struct w *w, uint8_t tag, const char *s)
{
	put_STR(w, tag, s);
}

static inline void put_TRUE(struct w *w, uint8_t tag, bool v)
{
	(void)v;
	put_u8(w, tag);
}

static void put_ksocks(struct w *w, const struct st_ksock *k, int n)
{
	put_u32v(w, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		put_strv(w, k[i].local);
		put_strv(w, k[i].remote);
		put_strv(w, k[i].state);
		put_i64v(w, k[i].pid);
		put_strv(w, k[i].comm);
		put_i64v(w, (int64_t)k[i].inode);
		put_i64v(w, k[i].timer_ms);
		put_i64v(w, k[i].uid);
		put_i64v(w, k[i].dev);
		put_i64v(w, k[i].v6only);
	}
}

/* ---- the CUSTOM keys: writing ---- */

static void rec_enc_v(struct w *w, const struct st_event *ev)
{
	put_I64(w, TAG_v, ev->v);
}

static void rec_enc_ts(struct w *w, const struct st_event *ev)
{
	put_I64(w, TAG_ts, ev->ts_us);
}

static void rec_enc_call(struct w *w, const struct st_event *ev)
{
	put_I64(w, TAG_call, ev->call);
}

static void rec_enc_fds(struct w *w, const struct st_event *ev)
{
	if (ev->pair[0] < 0)
		return;
	put_u8(w, TAG_fds);
	put_i64v(w, ev->pair[0]);
	put_i64v(w, ev->pair[1]);
}

static void rec_enc_ret(struct w *w, const struct st_event *ev)
{
	put_I64(w, TAG_ret, ev->ret);
}

static void rec_enc_optval(struct w *w, const struct st_event *ev)
{
	if (!ev->has_optval && !ev->has_optlinger)
		return;
	put_u8(w, TAG_optval);
	put_u8(w, (uint8_t)((ev->has_optval ? 1 : 0) | (ev->has_optlinger ? 2 : 0)));
	put_i64v(w, ev->optval);
	put_i64v(w, ev->optlinger_onoff);
	put_i64v(w, ev->optlinger_secs);
}

static void rec_enc_range(struct w *w, const struct st_event *ev)
{
	if (ev->range_first < 0)
		return;
	put_u8(w, TAG_range);
	put_i64v(w, ev->range_first);
	put_i64v(w, ev->range_last);
}

static void rec_enc_rights(struct w *w, const struct st_event *ev)
{
	if (!ev->rights)
		return;
	put_u8(w, TAG_rights);
	put_u32v(w, (uint32_t)ev->nrights);
	for (int i = 0; i < ev->nrights; i++) {
		put_i64v(w, ev->rights[i].fd);
		put_i64v(w, (int64_t)ev->rights[i].inode);
		put_u8(w, ev->rights[i].listening);
	}
}

static void rec_enc_opts(struct w *w, const struct st_event *ev)
{
	if (!ev->has_opts)
		return;
	put_u8(w, TAG_opts);
	put_u8(w, (uint8_t)((ev->opts.reuseaddr ? 1 : 0) | (ev->opts.reuseport ? 2 : 0)));
	put_i64v(w, ev->opts.linger);
}

static void rec_enc_tcp(struct w *w, const struct st_event *ev)
{
	if (!ev->has_tcp)
		return;
	put_u8(w, TAG_tcp);
	put(w, &ev->tcp, sizeof(ev->tcp));
}

static void rec_enc_last(struct w *w, const struct st_event *ev)
{
	if (!ev->last_ref_known)
		return;
	put_u8(w, TAG_last);
	put_u8(w, ev->last_ref);
}

static void rec_enc_reset(struct w *w, const struct st_event *ev)
{
	if (!ev->reset_known)
		return;
	put_u8(w, TAG_reset);
	put_u8(w, ev->reset);
}

static void rec_enc_argv(struct w *w, const struct st_event *ev)
{
	if (!ev->argv)
		return;
	put_u8(w, TAG_argv);
	put_u32v(w, (uint32_t)ev->argc);
	for (int i = 0; i < ev->argc; i++)
		put_strv(w, ev->argv[i] ? ev->argv[i] : "");
}

static void rec_enc_argv_cut(struct w *w, const struct st_event *ev)
{
	if (!ev->argv_cut || ev->nargv_cut <= 0)
		return;
	put_u8(w, TAG_argv_cut);
	put_u32v(w, (uint32_t)ev->nargv_cut);
	for (int i = 0; i < ev->nargv_cut; i++) {
		put_i64v(w, ev->argv_cut[i].index);
		put_i64v(w, ev->argv_cut[i].bytes);
	}
}

static void rec_enc_inherited(struct w *w, const struct st_event *ev)
{
	if (!ev->inherited)
		return;
	put_u8(w, TAG_inherited);
	put_u32v(w, (uint32_t)ev->ninherited);
	for (int i = 0; i < ev->ninherited; i++) {
		const struct st_isock *s = &ev->inherited[i];
		put_i64v(w, s->fd);
		put_i64v(w, (int64_t)s->inode);
		put_strv(w, s->family);
		put_strv(w, s->type);
		put_strv(w, s->proto);
		put_strv(w, s->local);
		put_strv(w, s->remote);
		put_strv(w, s->state);
		put_u8(w, s->listening);
	}
}

static void rec_enc_kept(struct w *w, const struct st_event *ev)
{
	if (!ev->kept)
		return;
	put_u8(w, TAG_kept);
	put_u32v(w, (uint32_t)ev->nkept);
	for (int i = 0; i < ev->nkept; i++)
		put_i64v(w, ev->kept[i]);
}

static void rec_enc_holders(struct w *w, const struct st_event *ev)
{
	if (!ev->holders)
		return;
	put_u8(w, TAG_holders);
	put_ksocks(w, ev->holders, ev->nholders);
}

static void rec_enc_reuse_verdict(struct w *w, const struct st_event *ev)
{
	if (!ev->has_verdict)
		return;
	put_u8(w, TAG_reuse_verdict);
	put_i64v(w, ev->verdict_reuseaddr);
	put_i64v(w, ev->verdict_reuseport);
	put_strv(w, ev->verdict_why);
}

static void rec_enc_lingering(struct w *w, const struct st_event *ev)
{
	if (!ev->lingering)
		return;
	put_u8(w, TAG_lingering);
	put_ksocks(w, ev->lingering, ev->nlingering);
}

static void rec_enc_stack(struct w *w, const struct st_event *ev)
{
	if (ev->nframes <= 0)
		return;
	put_u8(w, TAG_stack);
	put_u32v(w, (uint32_t)ev->nframes);
	for (int i = 0; i < ev->nframes; i++) {
		put_i64v(w, (int64_t)ev->frames[i].ip);
		put_strv(w, ev->frames[i].obj);
		put_i64v(w, (int64_t)ev->frames[i].off);
	}
}

size_t st_record_encode(const struct st_event *ev, void *buf, size_t cap)
{
	struct w w = { buf, cap, sizeof(uint32_t) };
	uint32_t total;

#define FIELD(key, member, type, lo, hi, when) \
	if (when) \
		put_##type(&w, TAG_##key, ev->member);
#define CUSTOM(key) rec_enc_##key(&w, ev);
#include "fields.def"
#undef FIELD
#undef CUSTOM
	total = (uint32_t)w.len;
	if (cap >= sizeof(total))
		memcpy(buf, &total, sizeof(total));
	return w.len;
}

/* ---- reading ---- */

struct r {
	const uint8_t *p;
	size_t len, at;
};

struct space {
	uint8_t *p;	/* NULL: only count */
	size_t cap, used;
};

static bool get(struct r *r, void *v, size_t n)
{
	if (r->len - r->at < n)
		return false;
	memcpy(v, r->p + r->at, n);
	r->at += n;
	return true;
}

static bool get_u8(struct r *r, uint8_t *v)
{
	return get(r, v, 1);
}

static bool get_i64v(struct r *r, int64_t *v)
{
	return get(r, v, sizeof(*v));
}

static bool get_u32v(struct r *r, uint32_t *v)
{
	return get(r, v, sizeof(*v));
}

static bool get_strv(struct r *r, const char **s)
{
	uint16_t n;

	if (!get(r, &n, sizeof(n)))
		return false;
	if (n == NULL_STR) {
		*s = NULL;
		return true;
	}
	if (r->len - r->at < (size_t)n + 1 || r->p[r->at + n] != '\0')
		return false;
	*s = (const char *)r->p + r->at;
	r->at += (size_t)n + 1;
	return true;
}

static bool get_addrv(struct r *r, char out[ST_ADDR_MAX])
{
	const char *s;

	if (!get_strv(r, &s))
		return false;
	if (!s) {
		out[0] = '\0';
		return true;
	}
	if (strlen(s) >= ST_ADDR_MAX)
		return false;
	strcpy(out, s);
	return true;
}

static bool get_I64(struct r *r, int64_t *v)
{
	return get_i64v(r, v);
}

static bool get_INT(struct r *r, int *v)
{
	int64_t x;

	if (!get_i64v(r, &x) || x < INT_MIN || x > INT_MAX)
		return false;
	*v = (int)x;
	return true;
}

static bool get_U64(struct r *r, uint64_t *v)
{
	int64_t x;

	if (!get_i64v(r, &x))
		return false;
	*v = (uint64_t)x;
	return true;
}

static bool get_STR(struct r *r, const char **s)
{
	return get_strv(r, s);
}

static bool get_ADDR(struct r *r, char (*a)[ST_ADDR_MAX])
{
	return get_addrv(r, *a);
}

static bool get_TRUE(struct r *r, bool *b)
{
	(void)r;
	*b = true;
	return true;
}

/* n elements of size bytes from the space; NULL (counted) when counting */
static void *take(struct space *sp, size_t n, size_t size, bool *ok)
{
	size_t bytes = n * size, align = 8;
	void *p = NULL;

	if (size && n > SIZE_MAX / size) {
		*ok = false;
		return NULL;
	}
	sp->used = (sp->used + align - 1) & ~(align - 1);
	if (sp->p) {
		if (sp->used + bytes > sp->cap) {
			*ok = false;
			return NULL;
		}
		p = sp->p + sp->used;
	}
	sp->used += bytes;
	return p;
}

static bool get_count(struct r *r, uint32_t *n, size_t min_each)
{
	/* a count that the rest of the record could not hold is malformed */
	return get_u32v(r, n) && (size_t)*n <= (r->len - r->at) / (min_each ? min_each : 1);
}

/* An array's header: its count *n (each element at least min_each bytes
 * of the record, at most INT_MAX of them), and room for n + extra
 * elements of size bytes taken from sp (NULL while only measuring).
 * *ok false when the record is short or the room is not there. */
static void *get_array(struct r *r, struct space *sp, size_t min_each, size_t size, size_t extra, uint32_t *n,
		       bool *ok)
{
	*ok = get_count(r, n, min_each) && *n <= INT_MAX;
	if (!*ok)
		return NULL;
	return take(sp, *n ? (size_t)*n + extra : 1, size, ok);
}

static bool get_ksocks(struct r *r, struct space *sp, const struct st_ksock **out, int *nout)
{
	uint32_t n;
	bool ok;
	struct st_ksock *k;

	k = get_array(r, sp, 5 * sizeof(uint16_t) + 6 * sizeof(int64_t), sizeof(*k), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct st_ksock x;
		const char *local, *remote;
		int64_t inode, dev, v6;

		memset(&x, 0, sizeof(x));
		if (!get_strv(r, &local) || !get_strv(r, &remote) || !get_strv(r, &x.state) ||
		    !get_i64v(r, &x.pid) || !get_strv(r, &x.comm) || !get_i64v(r, &inode) ||
		    !get_i64v(r, &x.timer_ms) || !get_i64v(r, &x.uid) || !get_i64v(r, &dev) ||
		    !get_i64v(r, &v6))
			return false;
		if ((local && strlen(local) >= ST_ADDR_MAX) || (remote && strlen(remote) >= ST_ADDR_MAX))
			return false;
		strcpy(x.local, local ? local : "");
		strcpy(x.remote, remote ? remote : "");
		x.inode = (uint64_t)inode;
		x.dev = (int)dev;
		x.v6only = (int)v6;
		if (k)
			k[i] = x;
	}
	*out = k;
	*nout = (int)n;
	return true;
}

/* ---- the CUSTOM keys: reading ---- */

static bool rec_dec_v(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_INT(r, &ev->v);
}

static bool rec_dec_ts(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_i64v(r, &ev->ts_us);
}

static bool rec_dec_call(struct r *r, struct st_event *ev, struct space *sp)
{
	int64_t c;

	(void)sp;
	if (!get_i64v(r, &c) || c <= ST_CALL_NONE || c >= ST_CALL_COUNT)
		return false;
	ev->call = (enum st_call)c;
	return true;
}

static bool rec_dec_fds(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_INT(r, &ev->pair[0]) && get_INT(r, &ev->pair[1]);
}

static bool rec_dec_ret(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_i64v(r, &ev->ret);
}

static bool rec_dec_optval(struct r *r, struct st_event *ev, struct space *sp)
{
	uint8_t which;

	(void)sp;
	if (!get_u8(r, &which) || !get_i64v(r, &ev->optval) || !get_INT(r, &ev->optlinger_onoff) ||
	    !get_INT(r, &ev->optlinger_secs))
		return false;
	ev->has_optval = which & 1;
	ev->has_optlinger = which & 2;
	return true;
}

static bool rec_dec_range(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_i64v(r, &ev->range_first) && get_i64v(r, &ev->range_last);
}

static bool rec_dec_rights(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	struct st_right *v;

	v = get_array(r, sp, 2 * sizeof(int64_t) + 1, sizeof(*v), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		int fd;
		uint64_t inode;
		uint8_t listening;
		if (!get_INT(r, &fd) || !get_U64(r, &inode) || !get_u8(r, &listening) || listening > 1)
			return false;
		if (v) {
			v[i].fd = fd;
			v[i].inode = inode;
			v[i].listening = listening;
		}
	}
	ev->rights = v;
	ev->nrights = (int)n;
	return true;
}

static bool rec_dec_opts(struct r *r, struct st_event *ev, struct space *sp)
{
	uint8_t b;

	(void)sp;
	if (!get_u8(r, &b) || !get_INT(r, &ev->opts.linger))
		return false;
	ev->has_opts = true;
	ev->opts.reuseaddr = b & 1;
	ev->opts.reuseport = b & 2;
	return true;
}

static bool rec_dec_tcp(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	ev->has_tcp = true;
	return get(r, &ev->tcp, sizeof(ev->tcp));
}

/* a flag whose absence means "unknown": one byte, 0 or not */
static bool get_known(struct r *r, bool *known, bool *val)
{
	uint8_t b;

	if (!get_u8(r, &b))
		return false;
	*known = true;
	*val = b != 0;
	return true;
}

static bool rec_dec_last(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_known(r, &ev->last_ref_known, &ev->last_ref);
}

static bool rec_dec_reset(struct r *r, struct st_event *ev, struct space *sp)
{
	(void)sp;
	return get_known(r, &ev->reset_known, &ev->reset);
}

static bool rec_dec_argv(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	const char **v;

	v = get_array(r, sp, sizeof(uint16_t), sizeof(*v), 1, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		const char *s;
		if (!get_strv(r, &s))
			return false;
		if (v)
			v[i] = s;
	}
	ev->argv = v;
	ev->argc = (int)n;
	return true;
}

static bool rec_dec_argv_cut(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	struct st_argcut *v;

	v = get_array(r, sp, 2 * sizeof(int64_t), sizeof(*v), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		int index;
		int64_t bytes;
		if (!get_INT(r, &index) || !get_i64v(r, &bytes))
			return false;
		if (v) {
			v[i].index = index;
			v[i].bytes = bytes;
		}
	}
	ev->argv_cut = v;
	ev->nargv_cut = (int)n;
	return true;
}

static bool rec_dec_inherited(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	struct st_isock *v;

	v = get_array(r, sp, 2 * sizeof(int64_t) + 6 * sizeof(uint16_t) + 1, sizeof(*v), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct st_isock x;
		uint8_t listening;
		memset(&x, 0, sizeof(x));
		if (!get_INT(r, &x.fd) || !get_U64(r, &x.inode) || !get_strv(r, &x.family) ||
		    !get_strv(r, &x.type) || !get_strv(r, &x.proto) || !get_addrv(r, x.local) ||
		    !get_addrv(r, x.remote) || !get_strv(r, &x.state) || !get_u8(r, &listening) ||
		    listening > 1)
			return false;
		x.listening = listening;
		if (v)
			v[i] = x;
	}
	ev->inherited = v;
	ev->ninherited = (int)n;
	return true;
}

static bool rec_dec_kept(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	int *v;

	v = get_array(r, sp, sizeof(int64_t), sizeof(*v), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		int fd;
		if (!get_INT(r, &fd))
			return false;
		if (v)
			v[i] = fd;
	}
	ev->kept = v;
	ev->nkept = (int)n;
	return true;
}

static bool rec_dec_holders(struct r *r, struct st_event *ev, struct space *sp)
{
	return get_ksocks(r, sp, &ev->holders, &ev->nholders);
}

static bool rec_dec_reuse_verdict(struct r *r, struct st_event *ev, struct space *sp)
{
	int64_t a, b;

	(void)sp;
	if (!get_i64v(r, &a) || !get_i64v(r, &b) || !get_strv(r, &ev->verdict_why))
		return false;
	ev->has_verdict = true;
	ev->verdict_reuseaddr = a < 0 ? -1 : a > 0;
	ev->verdict_reuseport = b < 0 ? -1 : b > 0;
	return true;
}

static bool rec_dec_lingering(struct r *r, struct st_event *ev, struct space *sp)
{
	return get_ksocks(r, sp, &ev->lingering, &ev->nlingering);
}

static bool rec_dec_stack(struct r *r, struct st_event *ev, struct space *sp)
{
	uint32_t n;
	bool ok;
	struct st_frame *v;

	v = get_array(r, sp, 2 * sizeof(int64_t) + sizeof(uint16_t), sizeof(*v), 0, &n, &ok);
	if (!ok)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct st_frame f;
		memset(&f, 0, sizeof(f));
		if (!get_U64(r, &f.ip) || !get_strv(r, &f.obj) || !get_U64(r, &f.off))
			return false;
		if (v)
			v[i] = f;
	}
	ev->frames = v;
	ev->nframes = (int)n;
	return true;
}

static int decode(const void *buf, size_t len, struct st_event *ev, struct space *sp)
{
	struct r r = { buf, len, 0 };
	uint32_t total;

	st_event_init(ev);
	if (!get_u32v(&r, &total) || total != len)
		return -1;
	while (r.at < r.len) {
		uint8_t tag;
		bool ok;

		if (!get_u8(&r, &tag))
			return -1;
		switch (tag) {
#define FIELD(key, member, type, lo, hi, when) \
		case TAG_##key: \
			ok = get_##type(&r, &ev->member); \
			break;
#define CUSTOM(key) \
		case TAG_##key: \
			ok = rec_dec_##key(&r, ev, sp); \
			break;
#include "fields.def"
#undef FIELD
#undef CUSTOM
		default:
			ok = false;
			break;
		}
		if (!ok)
			return -1;
	}
	return ev->call == ST_CALL_NONE ? -1 : 0;
}

size_t st_record_space(const void *buf, size_t len)
{
	struct st_event ev;
	struct space sp = { NULL, 0, 0 };

	return decode(buf, len, &ev, &sp) < 0 ? 0 : sp.used + 8;
}

int st_record_decode(const void *buf, size_t len, struct st_event *ev, struct st_record_space *space)
{
	struct space sp = { space ? space->p : NULL, space ? space->len : 0, 0 };

	if (!sp.p && st_record_space(buf, len) > 8)
		return -1;	/* arrays to hold and nowhere to put them */
	return decode(buf, len, ev, &sp);
}
