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
#define KADDR(b, k, v) do { if ((v)[0]) KSTR(b, k, v); } while (0)
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

size_t st_encode_json(const struct st_event *ev, char *out, size_t cap)
{
	struct st_buf b;

	st_buf_init(&b, out, cap);
	ST_PUTL(&b, "{\"v\":");
	st_buf_i64(&b, ev->v);
	KEY(&b, "ts");
	st_buf_i64(&b, ev->ts_us / 1000000);
	st_buf_putc(&b, '.');
	st_buf_u64w(&b, (uint64_t)(ev->ts_us % 1000000), 6);
	if (ev->dur_ns >= 0)
		KINT(&b, "dur_ns", ev->dur_ns);
	KINT(&b, "pid", ev->pid);
	KINT(&b, "tid", ev->tid);
	KINT(&b, "seq", ev->seq);
	if (ev->dropped > 0)
		KINT(&b, "dropped", ev->dropped);
	KSTR(&b, "call", ev->call);
	if (ev->fd >= 0)
		KINT(&b, "fd", ev->fd);
	if (ev->listen_fd >= 0)
		KINT(&b, "listen_fd", ev->listen_fd);
	if (ev->newfd >= 0)
		KINT(&b, "newfd", ev->newfd);
	if (ev->pair[0] >= 0) {
		KEY(&b, "fds");
		st_buf_putc(&b, '[');
		st_buf_i64(&b, ev->pair[0]);
		st_buf_putc(&b, ',');
		st_buf_i64(&b, ev->pair[1]);
		st_buf_putc(&b, ']');
	}
	if (!ev->call || (strcmp(ev->call, "start") && strcmp(ev->call, "exit")))
		KINT(&b, "ret", ev->ret);
	KSTR(&b, "errno", ev->err);
	KSTR(&b, "family", ev->family);
	KSTR(&b, "type", ev->type);
	KSTR(&b, "proto", ev->proto);
	KSTR(&b, "flags", ev->flags);
	KADDR(&b, "addr", ev->addr);
	KADDR(&b, "local", ev->local);
	KADDR(&b, "remote", ev->remote);
	if (ev->inode)
		KINT(&b, "inode", (int64_t)ev->inode);
	KSTR(&b, "state_before", ev->state_before);
	KSTR(&b, "state", ev->state);
	KSTR(&b, "state_after", ev->state_after);
	KSTR(&b, "connect_done", ev->connect_done);

	if (ev->backlog >= 0)
		KINT(&b, "backlog", ev->backlog);
	KSTR(&b, "how", ev->how);
	KSTR(&b, "level", ev->level);
	KSTR(&b, "optname", ev->optname);
	if (ev->has_optval)
		KINT(&b, "optval", ev->optval);
	if (ev->has_optlinger) {
		KEY(&b, "optval");
		ST_PUTL(&b, "{\"l_onoff\":");
		st_buf_i64(&b, ev->optlinger_onoff);
		ST_PUTL(&b, ",\"l_linger\":");
		st_buf_i64(&b, ev->optlinger_secs);
		st_buf_putc(&b, '}');
	}
	KSTR(&b, "so_error", ev->so_error);
	KSTR(&b, "cmd", ev->cmd);
	if (ev->range_first >= 0) {
		KEY(&b, "range");
		st_buf_putc(&b, '[');
		st_buf_i64(&b, ev->range_first);
		st_buf_putc(&b, ',');
		st_buf_i64(&b, ev->range_last);
		st_buf_putc(&b, ']');
	}

	if (ev->has_opts) {
		KEY(&b, "opts");
		ST_PUTL(&b, "{\"SO_REUSEADDR\":");
		st_buf_puts(&b, ev->opts.reuseaddr ? "true" : "false");
		ST_PUTL(&b, ",\"SO_REUSEPORT\":");
		st_buf_puts(&b, ev->opts.reuseport ? "true" : "false");
		ST_PUTL(&b, ",\"SO_LINGER\":");
		if (ev->opts.linger < 0)
			ST_PUTL(&b, "null");
		else
			st_buf_i64(&b, ev->opts.linger);
		st_buf_putc(&b, '}');
	}
	if (ev->has_tcp) {
		KEY(&b, "tcp");
		ST_PUTL(&b, "{\"rtt_us\":");
		st_buf_u64(&b, ev->tcp.rtt_us);
		ST_PUTL(&b, ",\"rttvar_us\":");
		st_buf_u64(&b, ev->tcp.rttvar_us);
		ST_PUTL(&b, ",\"retrans\":");
		st_buf_u64(&b, ev->tcp.total_retrans);
		ST_PUTL(&b, ",\"lost\":");
		st_buf_u64(&b, ev->tcp.lost);
		ST_PUTL(&b, ",\"bytes_sent\":");
		st_buf_u64(&b, ev->tcp.bytes_sent);
		ST_PUTL(&b, ",\"bytes_received\":");
		st_buf_u64(&b, ev->tcp.bytes_received);
		ST_PUTL(&b, ",\"bytes_acked\":");
		st_buf_u64(&b, ev->tcp.bytes_acked);
		ST_PUTL(&b, ",\"unread\":");
		st_buf_u64(&b, ev->tcp.unread);
		ST_PUTL(&b, ",\"unsent\":");
		st_buf_u64(&b, ev->tcp.unsent);
		st_buf_putc(&b, '}');
	}
	if (ev->last_ref_known)
		KBOOL(&b, "last", ev->last_ref);
	if (ev->shared)
		KBOOL(&b, "shared", true);
	if (ev->implicit_close)
		KBOOL(&b, "implicit_close", true);
	if (ev->reset_known) {
		KBOOL(&b, "reset", ev->reset);
		KSTR(&b, "reset_reason", ev->reset_reason);
	}

	KSTR(&b, "exe", ev->exe);
	if (ev->argv) {
		KEY(&b, "argv");
		st_buf_putc(&b, '[');
		for (int i = 0; i < ev->argc; i++) {
			if (i)
				st_buf_putc(&b, ',');
			st_buf_jstr(&b, ev->argv[i] ? ev->argv[i] : "");
		}
		st_buf_putc(&b, ']');
	}
	if (ev->ppid >= 0)
		KINT(&b, "ppid", ev->ppid);
	KSTR(&b, "version", ev->version);
	if (ev->open_sockets >= 0)
		KINT(&b, "open", ev->open_sockets);

	if (ev->nholders || (ev->err && ev->holders)) {
		KEY(&b, "holders");
		ksocks(&b, ev->holders, ev->nholders);
	}
	if (ev->has_verdict) {
		KEY(&b, "reuse_verdict");
		ST_PUTL(&b, "{\"SO_REUSEADDR\":");
		verdict(&b, ev->verdict_reuseaddr);
		ST_PUTL(&b, ",\"SO_REUSEPORT\":");
		verdict(&b, ev->verdict_reuseport);
		st_buf_putc(&b, '}');
	}
	if (ev->reused_time_wait >= 0)
		KINT(&b, "reused_time_wait", ev->reused_time_wait);
	if (ev->lingering) {
		KEY(&b, "lingering");
		ksocks(&b, ev->lingering, ev->nlingering);
		if (ev->lingering_total > ev->nlingering)
			KINT(&b, "lingering_total", ev->lingering_total);
	}
	if (ev->time_wait >= 0)
		KINT(&b, "time_wait", ev->time_wait);

	if (ev->nframes > 0) {
		KEY(&b, "stack");
		st_buf_putc(&b, '[');
		for (int i = 0; i < ev->nframes; i++) {
			const struct st_frame *f = &ev->frames[i];
			if (i)
				st_buf_putc(&b, ',');
			ST_PUTL(&b, "{\"ip\":\"");
			st_buf_hex(&b, f->ip);
			st_buf_putc(&b, '"');
			if (f->obj) {
				ST_PUTL(&b, ",\"obj\":");
				st_buf_jstr(&b, f->obj);
				ST_PUTL(&b, ",\"off\":\"");
				st_buf_hex(&b, f->off);
				st_buf_putc(&b, '"');
			}
			if (f->sym) {
				ST_PUTL(&b, ",\"sym\":");
				st_buf_jstr(&b, f->sym);
				ST_PUTL(&b, ",\"sym_off\":\"");
				st_buf_hex(&b, f->sym_off);
				st_buf_putc(&b, '"');
			}
			st_buf_putc(&b, '}');
		}
		st_buf_putc(&b, ']');
	}
	ST_PUTL(&b, "}\n");
	return st_buf_finish(&b);
}
