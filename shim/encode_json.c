/* encode_json.c - one event as one JSON Lines record (schema v1).
 *
 * Owns: the byte layout of trace files.  Shared by the shim and the CLI.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#include "event.h"
#include "buf.h"

#include <string.h>

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
	ev->open_sockets = -1;
	ev->verdict_reuseaddr = ev->verdict_reuseport = -1;
	ev->reused_time_wait = -1;
	ev->time_wait = -1;
	ev->opts.linger = -1;
}

static void key(struct st_buf *b, const char *k)
{
	st_buf_putc(b, ',');
	st_buf_putc(b, '"');
	st_buf_puts(b, k);
	st_buf_puts(b, "\":");
}

static void kstr(struct st_buf *b, const char *k, const char *v)
{
	if (!v)
		return;
	key(b, k);
	st_buf_jstr(b, v);
}

static void kaddr(struct st_buf *b, const char *k, const char *v)
{
	if (v[0])
		kstr(b, k, v);
}

static void kint(struct st_buf *b, const char *k, int64_t v)
{
	key(b, k);
	st_buf_i64(b, v);
}

static void kbool(struct st_buf *b, const char *k, bool v)
{
	key(b, k);
	st_buf_puts(b, v ? "true" : "false");
}

static void ksock(struct st_buf *b, const struct st_ksock *s)
{
	st_buf_puts(b, "{\"local\":");
	st_buf_jstr(b, s->local);
	if (s->remote[0]) {
		st_buf_puts(b, ",\"remote\":");
		st_buf_jstr(b, s->remote);
	}
	kstr(b, "state", s->state);
	if (s->timer_ms >= 0)
		kint(b, "timer_ms", s->timer_ms);
	if (s->inode)
		kint(b, "inode", (int64_t)s->inode);
	if (s->uid >= 0)
		kint(b, "uid", s->uid);
	if (s->pid >= 0)
		kint(b, "pid", s->pid);
	kstr(b, "comm", s->comm);
	st_buf_putc(b, '}');
}

static void ksocks(struct st_buf *b, const char *k, const struct st_ksock *s, int n)
{
	key(b, k);
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

size_t st_encode_json(const struct st_event *ev, char *out, size_t cap)
{
	struct st_buf b;

	st_buf_init(&b, out, cap);
	st_buf_puts(&b, "{\"v\":");
	st_buf_i64(&b, ev->v);
	key(&b, "ts");
	st_buf_i64(&b, ev->ts_us / 1000000);
	st_buf_putc(&b, '.');
	st_buf_u64w(&b, (uint64_t)(ev->ts_us % 1000000), 6);
	if (ev->dur_ns >= 0)
		kint(&b, "dur_ns", ev->dur_ns);
	kint(&b, "pid", ev->pid);
	kint(&b, "tid", ev->tid);
	kint(&b, "seq", ev->seq);
	kstr(&b, "call", ev->call);
	if (ev->fd >= 0)
		kint(&b, "fd", ev->fd);
	if (ev->listen_fd >= 0)
		kint(&b, "listen_fd", ev->listen_fd);
	if (ev->newfd >= 0)
		kint(&b, "newfd", ev->newfd);
	if (ev->pair[0] >= 0) {
		key(&b, "fds");
		st_buf_putc(&b, '[');
		st_buf_i64(&b, ev->pair[0]);
		st_buf_putc(&b, ',');
		st_buf_i64(&b, ev->pair[1]);
		st_buf_putc(&b, ']');
	}
	if (!ev->call || (strcmp(ev->call, "start") && strcmp(ev->call, "exit")))
		kint(&b, "ret", ev->ret);
	kstr(&b, "errno", ev->err);
	kstr(&b, "family", ev->family);
	kstr(&b, "type", ev->type);
	kstr(&b, "proto", ev->proto);
	kstr(&b, "flags", ev->flags);
	kaddr(&b, "addr", ev->addr);
	kaddr(&b, "local", ev->local);
	kaddr(&b, "remote", ev->remote);
	if (ev->inode)
		kint(&b, "inode", (int64_t)ev->inode);
	kstr(&b, "state_before", ev->state_before);
	kstr(&b, "state", ev->state);
	kstr(&b, "state_after", ev->state_after);
	kstr(&b, "connect_done", ev->connect_done);

	if (ev->backlog >= 0)
		kint(&b, "backlog", ev->backlog);
	kstr(&b, "how", ev->how);
	kstr(&b, "level", ev->level);
	kstr(&b, "optname", ev->optname);
	if (ev->has_optval)
		kint(&b, "optval", ev->optval);
	if (ev->has_optlinger) {
		key(&b, "optval");
		st_buf_puts(&b, "{\"l_onoff\":");
		st_buf_i64(&b, ev->optlinger_onoff);
		st_buf_puts(&b, ",\"l_linger\":");
		st_buf_i64(&b, ev->optlinger_secs);
		st_buf_putc(&b, '}');
	}
	kstr(&b, "so_error", ev->so_error);
	kstr(&b, "cmd", ev->cmd);
	if (ev->range_first >= 0) {
		key(&b, "range");
		st_buf_putc(&b, '[');
		st_buf_i64(&b, ev->range_first);
		st_buf_putc(&b, ',');
		st_buf_i64(&b, ev->range_last);
		st_buf_putc(&b, ']');
	}

	if (ev->has_opts) {
		key(&b, "opts");
		st_buf_puts(&b, "{\"SO_REUSEADDR\":");
		st_buf_puts(&b, ev->opts.reuseaddr ? "true" : "false");
		st_buf_puts(&b, ",\"SO_REUSEPORT\":");
		st_buf_puts(&b, ev->opts.reuseport ? "true" : "false");
		st_buf_puts(&b, ",\"SO_LINGER\":");
		if (ev->opts.linger < 0)
			st_buf_puts(&b, "null");
		else
			st_buf_i64(&b, ev->opts.linger);
		st_buf_putc(&b, '}');
	}
	if (ev->has_tcp) {
		key(&b, "tcp");
		st_buf_puts(&b, "{\"rtt_us\":");
		st_buf_u64(&b, ev->tcp.rtt_us);
		st_buf_puts(&b, ",\"rttvar_us\":");
		st_buf_u64(&b, ev->tcp.rttvar_us);
		st_buf_puts(&b, ",\"retrans\":");
		st_buf_u64(&b, ev->tcp.total_retrans);
		st_buf_puts(&b, ",\"lost\":");
		st_buf_u64(&b, ev->tcp.lost);
		st_buf_puts(&b, ",\"bytes_sent\":");
		st_buf_u64(&b, ev->tcp.bytes_sent);
		st_buf_puts(&b, ",\"bytes_received\":");
		st_buf_u64(&b, ev->tcp.bytes_received);
		st_buf_puts(&b, ",\"bytes_acked\":");
		st_buf_u64(&b, ev->tcp.bytes_acked);
		st_buf_puts(&b, ",\"unread\":");
		st_buf_u64(&b, ev->tcp.unread);
		st_buf_puts(&b, ",\"unsent\":");
		st_buf_u64(&b, ev->tcp.unsent);
		st_buf_putc(&b, '}');
	}
	if (ev->last_ref_known)
		kbool(&b, "last", ev->last_ref);
	if (ev->shared)
		kbool(&b, "shared", true);
	if (ev->implicit_close)
		kbool(&b, "implicit_close", true);
	if (ev->reset_known) {
		kbool(&b, "reset", ev->reset);
		kstr(&b, "reset_reason", ev->reset_reason);
	}

	kstr(&b, "exe", ev->exe);
	if (ev->argv) {
		key(&b, "argv");
		st_buf_putc(&b, '[');
		for (int i = 0; i < ev->argc; i++) {
			if (i)
				st_buf_putc(&b, ',');
			st_buf_jstr(&b, ev->argv[i] ? ev->argv[i] : "");
		}
		st_buf_putc(&b, ']');
	}
	if (ev->ppid >= 0)
		kint(&b, "ppid", ev->ppid);
	kstr(&b, "version", ev->version);
	if (ev->open_sockets >= 0)
		kint(&b, "open", ev->open_sockets);

	if (ev->nholders || (ev->err && ev->holders))
		ksocks(&b, "holders", ev->holders, ev->nholders);
	if (ev->has_verdict) {
		key(&b, "reuse_verdict");
		st_buf_puts(&b, "{\"SO_REUSEADDR\":");
		verdict(&b, ev->verdict_reuseaddr);
		st_buf_puts(&b, ",\"SO_REUSEPORT\":");
		verdict(&b, ev->verdict_reuseport);
		st_buf_putc(&b, '}');
	}
	if (ev->reused_time_wait >= 0)
		kint(&b, "reused_time_wait", ev->reused_time_wait);
	if (ev->lingering) {
		ksocks(&b, "lingering", ev->lingering, ev->nlingering);
		if (ev->lingering_total > ev->nlingering)
			kint(&b, "lingering_total", ev->lingering_total);
	}
	if (ev->time_wait >= 0)
		kint(&b, "time_wait", ev->time_wait);

	if (ev->nframes > 0) {
		key(&b, "stack");
		st_buf_putc(&b, '[');
		for (int i = 0; i < ev->nframes; i++) {
			const struct st_frame *f = &ev->frames[i];
			if (i)
				st_buf_putc(&b, ',');
			st_buf_puts(&b, "{\"ip\":\"");
			st_buf_hex(&b, f->ip);
			st_buf_putc(&b, '"');
			if (f->obj) {
				st_buf_puts(&b, ",\"obj\":");
				st_buf_jstr(&b, f->obj);
				st_buf_puts(&b, ",\"off\":\"");
				st_buf_hex(&b, f->off);
				st_buf_putc(&b, '"');
			}
			if (f->sym) {
				st_buf_puts(&b, ",\"sym\":");
				st_buf_jstr(&b, f->sym);
				st_buf_puts(&b, ",\"sym_off\":\"");
				st_buf_hex(&b, f->sym_off);
				st_buf_putc(&b, '"');
			}
			st_buf_putc(&b, '}');
		}
		st_buf_putc(&b, ']');
	}
	st_buf_puts(&b, "}\n");
	return st_buf_finish(&b);
}
