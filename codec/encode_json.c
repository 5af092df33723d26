/* SPDX-License-Identifier: MIT */
/* encode_json.c - one event as one JSON Lines record (schema v1).
 *
 * Owns: the byte layout of trace files.  The top-level keys and their order
 * come from fields.def; the values of the CUSTOM keys are written here, by
 * enc_KEY().  Shared by the shim and the CLI.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#include "event.h"
#include "buf.h"
#include "names.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

void st_event_init(struct st_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->v = ST_SCHEMA_VERSION;
	ev->dur_ns = -1;
	ev->fd = ev->listen_fd = ev->newfd = -1;
	ev->pair[0] = ev->pair[1] = -1;
	ev->backlog = -1;
	ev->range_first = ev->range_last = -1;
	ev->ppid = -1;
	ev->argc_total = -1;
	ev->open_sockets = -1;
	ev->verdict_reuseaddr = ev->verdict_reuseport = -1;
	ev->reused_time_wait = -1;
	ev->time_wait = -1;
	ev->status = -1;
	ev->child = -1;
	ev->opts.linger = -1;
}

bool st_event_end(struct st_event *ev, int64_t pid, int wstatus, const char *by, int64_t ts_us)
{
	if (wstatus >= 0 && !WIFEXITED(wstatus) && !WIFSIGNALED(wstatus))
		return false;
	st_event_init(ev);
	ev->call = ST_CALL_end;
	ev->ts_us = ts_us;
	ev->pid = pid;
	ev->by = by;
	if (wstatus < 0)
		return true;
	if (WIFEXITED(wstatus)) {
		ev->status = WEXITSTATUS(wstatus);
	} else {
		ev->signal = st_signal_name(WTERMSIG(wstatus));
		if (!ev->signal)
			ev->signal = "SIG?";
		ev->core = WCOREDUMP(wstatus);
	}
	return true;
}

/* ,"key": for a literal key, copied in one move */
#define KEY(b, k) ST_PUTL((b), ",\"" k "\":")

static inline void str_or_skip(struct st_buf *b, const char *pre, size_t prelen, const char *v)
{
	if (!v)
		return;
	st_buf_putn(b, pre, prelen);
	st_buf_jstr(b, v);
}

#define KSTR(b, k, v) str_or_skip((b), ",\"" k "\":", sizeof(",\"" k "\":") - 1, (v))
#define KINT(b, k, v) do { KEY(b, k); st_buf_i64((b), (v)); } while (0)
#define KBOOL(b, k, v) do { KEY(b, k); if (v) ST_PUTL((b), "true"); else ST_PUTL((b), "false"); } while (0)

static void ksock(struct st_buf *b, const struct st_ksock *s)
{
	ST_PUTL(b, "{\"local\":");
	st_buf_jstr(b, s->local);
	if (s->remote[0]) {
		ST_PUTL(b, ",\"remote\":");
		st_buf_jstr(b, s->remote);
	}
	KSTR(b, "state", s->state);
	if (s->timer_ms >= 0)
		KINT(b, "timer_ms", s->timer_ms);
	if (s->inode)
		KINT(b, "inode", (int64_t)s->inode);
	if (s->uid >= 0)
		KINT(b, "uid", s->uid);
	if (s->pid >= 0)
		KINT(b, "pid", s->pid);
	KSTR(b, "comm", s->comm);
	if (s->dev > 0)
		KINT(b, "dev", s->dev);
	if (s->v6only >= 0)
		KBOOL(b, "v6only", s->v6only);
	st_buf_putc(b, '}');
}

static void ksocks(struct st_buf *b, const struct st_ksock *s, int n)
{
	st_buf_putc(b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			st_buf_putc(b, ',');
		ksock(b, &s[i]);
	}
	st_buf_putc(b, ']');
}

static void verdict(struct st_buf *b, int v)
{
	st_buf_puts(b, v < 0 ? "null" : v ? "true" : "false");
}

/* ---- the CUSTOM keys of fields.def ---- */

static void enc_v(struct st_buf *b, const struct st_event *ev)
{
	ST_PUTL(b, "{\"v\":");
	st_buf_i64(b, ev->v);
}

static void enc_ts(struct st_buf *b, const struct st_event *ev)
{
	KEY(b, "ts");
	if (ev->ts_us >= 0) {
		st_buf_micros(b, ev->ts_us);
	} else {
		st_buf_i64(b, ev->ts_us / 1000000);
		st_buf_putc(b, '.');
		st_buf_u64w(b, (uint64_t)(ev->ts_us % 1000000), 6);
	}
}

/* ,"call":"NAME" of every call, made at compile time from calls.def (the
 * names st_call_name gives: C identifiers, nothing to escape) */
#define CALL_JSON(name) ",\"call\":\"" #name "\""
static const struct {
	const char *json;
	unsigned len;
} call_json[ST_CALL_COUNT] = {
#define WRAP(name, kind, ret, params, args) [ST_CALL_##name] = { CALL_JSON(name), sizeof(CALL_JSON(name)) - 1 },
#define WRAPV WRAP
#define EVENT(name, kind) [ST_CALL_##name] = { CALL_JSON(name), sizeof(CALL_JSON(name)) - 1 },
#include "calls.def"
#undef WRAP
#undef WRAPV
#undef EVENT
};
#undef CALL_JSON

static void enc_call(struct st_buf *b, const struct st_event *ev)
{
	if (ev->call == ST_CALL_NONE)
		return;
	if ((unsigned)ev->call < ST_CALL_COUNT)
		st_buf_putn(b, call_json[ev->call].json, call_json[ev->call].len);
	else
		KSTR(b, "call", st_call_name(ev->call));	/* "?" */
}

static void enc_fds(struct st_buf *b, const struct st_event *ev)
{
	if (ev->pair[0] < 0)
		return;
	KEY(b, "fds");
	st_buf_putc(b, '[');
	st_buf_i64(b, ev->pair[0]);
	st_buf_putc(b, ',');
	st_buf_i64(b, ev->pair[1]);
	st_buf_putc(b, ']');
}

static void enc_ret(struct st_buf *b, const struct st_event *ev)
{
	if (!st_call_is(ev->call, ST_K_SELF))
		KINT(b, "ret", ev->ret);
}

static void enc_optval(struct st_buf *b, const struct st_event *ev)
{
	if (ev->has_optval)
		KINT(b, "optval", ev->optval);
	if (ev->has_optlinger) {
		KEY(b, "optval");
		ST_PUTL(b, "{\"l_onoff\":");
		st_buf_i64(b, ev->optlinger_onoff);
		ST_PUTL(b, ",\"l_linger\":");
		st_buf_i64(b, ev->optlinger_secs);
		st_buf_putc(b, '}');
	}
}

static void enc_range(struct st_buf *b, const struct st_event *ev)
{
	if (ev->range_first < 0)
		return;
	KEY(b, "range");
	st_buf_putc(b, '[');
	st_buf_i64(b, ev->range_first);
	st_buf_putc(b, ',');
	st_buf_i64(b, ev->range_last);
	st_buf_putc(b, ']');
}

static void enc_rights(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->rights)
		return;
	KEY(b, "rights");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->nrights; i++) {
		if (i)
			st_buf_putc(b, ',');
		ST_PUTL(b, "{\"fd\":");
		st_buf_i64(b, ev->rights[i].fd);
		if (ev->rights[i].inode) {
			ST_PUTL(b, ",\"inode\":");
			st_buf_u64(b, ev->rights[i].inode);
		}
		if (ev->rights[i].listening)
			KBOOL(b, "listening", true);
		st_buf_putc(b, '}');
	}
	st_buf_putc(b, ']');
}

static void enc_inherited(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->inherited)
		return;
	KEY(b, "inherited");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->ninherited; i++) {
		const struct st_isock *s = &ev->inherited[i];
		if (i)
			st_buf_putc(b, ',');
		ST_PUTL(b, "{\"fd\":");
		st_buf_i64(b, s->fd);
		if (s->inode)
			KINT(b, "inode", (int64_t)s->inode);
		KSTR(b, "family", s->family);
		KSTR(b, "type", s->type);
		KSTR(b, "proto", s->proto);
		if (s->local[0])
			KSTR(b, "local", s->local);
		if (s->remote[0])
			KSTR(b, "remote", s->remote);
		KSTR(b, "state", s->state);
		if (s->listening)
			KBOOL(b, "listening", true);
		st_buf_putc(b, '}');
	}
	st_buf_putc(b, ']');
}

static void enc_kept(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->kept)
		return;
	KEY(b, "kept");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->nkept; i++) {
		if (i)
			st_buf_putc(b, ',');
		st_buf_i64(b, ev->kept[i]);
	}
	st_buf_putc(b, ']');
}

static void enc_opts(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->has_opts)
		return;
	KEY(b, "opts");
	ST_PUTL(b, "{\"SO_REUSEADDR\":");
	st_buf_puts(b, ev->opts.reuseaddr ? "true" : "false");
	ST_PUTL(b, ",\"SO_REUSEPORT\":");
	st_buf_puts(b, ev->opts.reuseport ? "true" : "false");
	ST_PUTL(b, ",\"SO_LINGER\":");
	if (ev->opts.linger < 0)
		ST_PUTL(b, "null");
	else
		st_buf_i64(b, ev->opts.linger);
	st_buf_putc(b, '}');
}

static void enc_tcp(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->has_tcp)
		return;
	KEY(b, "tcp");
	ST_PUTL(b, "{\"rtt_us\":");
	st_buf_u64(b, ev->tcp.rtt_us);
	ST_PUTL(b, ",\"rttvar_us\":");
	st_buf_u64(b, ev->tcp.rttvar_us);
	ST_PUTL(b, ",\"retrans\":");
	st_buf_u64(b, ev->tcp.total_retrans);
	ST_PUTL(b, ",\"lost\":");
	st_buf_u64(b, ev->tcp.lost);
	ST_PUTL(b, ",\"bytes_sent\":");
	st_buf_u64(b, ev->tcp.bytes_sent);
	ST_PUTL(b, ",\"bytes_received\":");
	st_buf_u64(b, ev->tcp.bytes_received);
	ST_PUTL(b, ",\"bytes_acked\":");
	st_buf_u64(b, ev->tcp.bytes_acked);
	ST_PUTL(b, ",\"unread\":");
	st_buf_u64(b, ev->tcp.unread);
	ST_PUTL(b, ",\"unsent\":");
	st_buf_u64(b, ev->tcp.unsent);
	st_buf_putc(b, '}');
}

static void enc_last(struct st_buf *b, const struct st_event *ev)
{
	if (ev->last_ref_known)
		KBOOL(b, "last", ev->last_ref);
}

static void enc_reset(struct st_buf *b, const struct st_event *ev)
{
	if (ev->reset_known)
		KBOOL(b, "reset", ev->reset);
}

static void enc_argv(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->argv)
		return;
	KEY(b, "argv");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->argc; i++) {
		if (i)
			st_buf_putc(b, ',');
		st_buf_jstr(b, ev->argv[i] ? ev->argv[i] : "");
	}
	st_buf_putc(b, ']');
}

static void enc_argv_cut(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->argv_cut || ev->nargv_cut <= 0)
		return;
	KEY(b, "argv_cut");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->nargv_cut; i++) {
		if (i)
			st_buf_putc(b, ',');
		ST_PUTL(b, "{\"index\":");
		st_buf_i64(b, ev->argv_cut[i].index);
		ST_PUTL(b, ",\"bytes\":");
		st_buf_i64(b, ev->argv_cut[i].bytes);
		st_buf_putc(b, '}');
	}
	st_buf_putc(b, ']');
}

static void enc_holders(struct st_buf *b, const struct st_event *ev)
{
	if (ev->nholders || (ev->err && ev->holders)) {
		KEY(b, "holders");
		ksocks(b, ev->holders, ev->nholders);
	} else if (ev->holders_incomplete) {
		KEY(b, "holders");
		ST_PUTL(b, "null");	/* unknown: the kernel was not asked */
	}
}

static void enc_reuse_verdict(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->has_verdict)
		return;
	KEY(b, "reuse_verdict");
	ST_PUTL(b, "{\"SO_REUSEADDR\":");
	verdict(b, ev->verdict_reuseaddr);
	ST_PUTL(b, ",\"SO_REUSEPORT\":");
	verdict(b, ev->verdict_reuseport);
	KSTR(b, "why", ev->verdict_why);
	st_buf_putc(b, '}');
}

static void enc_lingering(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->lingering)
		return;
	KEY(b, "lingering");
	ksocks(b, ev->lingering, ev->nlingering);
}

static void enc_stack(struct st_buf *b, const struct st_event *ev)
{
	if (ev->nframes <= 0)
		return;
	KEY(b, "stack");
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->nframes; i++) {
		const struct st_frame *f = &ev->frames[i];
		if (i)
			st_buf_putc(b, ',');
		ST_PUTL(b, "{\"ip\":\"");
		st_buf_hex(b, f->ip);
		st_buf_putc(b, '"');
		if (f->obj) {
			ST_PUTL(b, ",\"obj\":");
			st_buf_jstr(b, f->obj);
			ST_PUTL(b, ",\"off\":\"");
			st_buf_hex(b, f->off);
			st_buf_putc(b, '"');
		}
		if (f->sym) {
			ST_PUTL(b, ",\"sym\":");
			st_buf_jstr(b, f->sym);
			ST_PUTL(b, ",\"sym_off\":\"");
			st_buf_hex(b, f->sym_off);
			st_buf_putc(b, '"');
		}
		st_buf_putc(b, '}');
	}
	st_buf_putc(b, ']');
}

/* ---- the scalar keys of fields.def, by type ---- */

#define ENC_I64(b, key, v) KINT(b, key, (v))
#define ENC_INT(b, key, v) KINT(b, key, (v))
#define ENC_U64(b, key, v) KINT(b, key, (int64_t)(v))
#define ENC_STR(b, key, v) KSTR(b, key, (v))
#define ENC_ADDR(b, key, v) KSTR(b, key, (v))
#define ENC_TRUE(b, key, v) KBOOL(b, key, true)

/* 1 for the key that starts the socket's names run (family), 2 for the
 * other two it holds, 0 for the rest: of a literal, folded at compile time */
#define NAMES_KEY(key) (!__builtin_strcmp(key, "family") ? 1 : \
			!__builtin_strcmp(key, "type") || !__builtin_strcmp(key, "proto") ? 2 : 0)

/* The last ,"pid":N,"tid":N run this thread wrote, kept by value: used
 * for an event with the same two numbers (exact whatever happened since:
 * fork, vfork, another thread).  busy is set around every use of it, so
 * that an event encoded by a signal handler that interrupted one (same
 * thread) neither reads a half-written run nor changes it under the
 * interrupted encoding: the handler's event is encoded without it. */
static __thread struct {
	volatile sig_atomic_t busy;
	unsigned len;
	int64_t pid, tid;
	char json[48];
} pid_run;

#define PID_KEY(key) (!__builtin_strcmp(key, "pid") ? 1 : !__builtin_strcmp(key, "tid") ? 2 : 0)

/* ,"pid":N and ,"tid":N (when tid > 0) as the field list would write them;
 * true when tid was written too */
static bool enc_pid_tid(struct st_buf *b, const struct st_event *ev)
{
	size_t mark = b->len;

	if (ev->tid <= 0 || pid_run.busy) {
		KINT(b, "pid", ev->pid);
		return false;
	}
	pid_run.busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	if (pid_run.len && pid_run.pid == ev->pid && pid_run.tid == ev->tid) {
		st_buf_putn(b, pid_run.json, pid_run.len);
	} else {
		KINT(b, "pid", ev->pid);
		KINT(b, "tid", ev->tid);
		pid_run.len = 0;
		if (b->len < b->cap && b->len - mark <= sizeof(pid_run.json)) {
			memcpy(pid_run.json, b->p + mark, b->len - mark);
			pid_run.pid = ev->pid;
			pid_run.tid = ev->tid;
			pid_run.len = (unsigned)(b->len - mark);
		}
	}
	atomic_signal_fence(memory_order_seq_cst);
	pid_run.busy = 0;
	return true;
}

size_t st_encode_json(const struct st_event *ev, char *out, size_t cap)
{
	struct st_buf b;
	/* the names run, made once, stands for the three keys when the event's
	 * names are its very pointers (immutable: the same bytes) */
	const struct st_sock_names *names = ev->names && ev->family == ev->names->family &&
		ev->type == ev->names->type && ev->proto == ev->names->proto ? ev->names : NULL;
	bool tid_done = false;

	st_buf_init(&b, out, cap);
#define FIELD(key, member, type, lo, hi, when) \
	if (PID_KEY(#key) == 1) { \
		tid_done = enc_pid_tid(&b, ev); \
	} else if (PID_KEY(#key) == 2 && tid_done) { \
	} else if (NAMES_KEY(#key) && names) { \
		if (NAMES_KEY(#key) == 1) \
			st_buf_putn(&b, names->json, names->len); \
	} else if (when) \
		ENC_##type(&b, #key, ev->member);
#define CUSTOM(key) enc_##key(&b, ev);
#include "fields.def"
#undef FIELD
#undef CUSTOM
	ST_PUTL(&b, "}\n");
	return st_buf_finish(&b);
}
