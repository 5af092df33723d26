/* SPDX-License-Identifier: MIT */
/* render_text.c - one event as one human line, strace-like.
 *
 * Owns: the `text` format.  The shim calls it for SOCKTRACE_FORMAT=text and
 * `socktrace show -f text` calls it for parsed traces, so the two can never
 * disagree.  Every string that comes from the event (addresses, names,
 * paths, argv, states and errno names as a forged trace may spell them)
 * is escaped on its way out (put, quoted): no byte of a trace reaches a
 * terminal raw.  Runs inside the traced program: no malloc, no stdio, no locks
 * (times are shown with an offset fixed once by st_render_set_tz).
 */
#include "event.h"
#include "buf.h"
#include "names.h"

#include <string.h>

static long tz_offset_s;

void st_render_set_tz(long offset_s)
{
	tz_offset_s = offset_s;
}

#define C_RED "\033[31m"
#define C_BOLD_RED "\033[1;31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_CYAN "\033[36m"
#define C_DIM "\033[2m"
#define C_OFF "\033[0m"

static unsigned esc_flags;	/* ST_ESC_ASCII: the reader's terminal is not UTF-8 */

void st_render_set_ascii(bool ascii)
{
	esc_flags = ascii ? ST_ESC_ASCII : 0;
}

/* A string of the event: whatever a trace, a peer or another user put in
 * it reaches the screen escaped (buf.h). */
static void put(struct st_buf *b, const char *s)
{
	st_buf_esc(b, s, esc_flags);
}

/* ... the same, in double quotes (argv, a program's path) */
static void quoted(struct st_buf *b, const char *s)
{
	st_buf_putc(b, '"');
	st_buf_esc(b, s, esc_flags | ST_ESC_QUOTED);
	st_buf_putc(b, '"');
}

static void color(struct st_buf *b, unsigned flags, const char *c)
{
	if (flags & ST_RENDER_COLOR)
		st_buf_puts(b, c);
}

static void sep(struct st_buf *b, bool *first)
{
	if (!*first)
		st_buf_puts(b, ", ");
	*first = false;
}

static void arg_fd(struct st_buf *b, bool *first, int fd)
{
	sep(b, first);
	st_buf_i64(b, fd);
}

static void arg_str(struct st_buf *b, bool *first, const char *s)
{
	sep(b, first);
	put(b, s ? s : "?");
}

static const char *state_color(const char *st)
{
	if (!strcmp(st, "ESTABLISHED") || !strcmp(st, "LISTEN"))
		return C_GREEN;
	if (!strcmp(st, "TIME_WAIT") || !strcmp(st, "CLOSE_WAIT"))
		return C_YELLOW;
	return C_CYAN;
}

static void state(struct st_buf *b, unsigned flags, const char *st)
{
	color(b, flags, state_color(st));
	put(b, st);
	color(b, flags, C_OFF);
}

static void ksock_line(struct st_buf *b, const struct st_ksock *k)
{
	put(b, k->local);
	if (k->remote[0]) {
		st_buf_puts(b, " -> ");
		put(b, k->remote);
	}
	if (k->state) {
		st_buf_putc(b, ' ');
		put(b, k->state);
	}
	if (k->timer_ms >= 0) {
		st_buf_puts(b, " (");
		st_buf_timer(b, k->timer_ms);
		st_buf_puts(b, " left)");
	}
	if (k->pid >= 0) {
		st_buf_puts(b, " pid ");
		st_buf_i64(b, k->pid);
		if (k->comm) {
			st_buf_puts(b, " (");
			put(b, k->comm);
			st_buf_putc(b, ')');
		}
	} else if (k->uid >= 0) {
		st_buf_puts(b, " uid ");
		st_buf_i64(b, k->uid);
	}
	if (k->dev > 0) {
		st_buf_puts(b, " dev ");
		st_buf_i64(b, k->dev);
	}
	if (k->v6only == 1)
		st_buf_puts(b, " v6only");
}

/* "wait Ns for them to expire", or, when no holder's timer is known
 * (ms < 0), what TIME_WAIT lasts: never a wait of 0 s that is not one. */
static void tw_wait(struct st_buf *b, int64_t ms)
{
	if (ms < 0) {
		st_buf_puts(b, "wait for them to expire (TIME_WAIT lasts 60s on Linux; their timers are not known here)");
		return;
	}
	st_buf_puts(b, "wait ");
	st_buf_i64(b, (ms + 999) / 1000);
	st_buf_puts(b, "s for them to expire");
}

/* What a person can do about an EADDRINUSE, from the holders and the
 * kernel's verdict. */
static void explain_eaddrinuse(struct st_buf *b, const struct st_event *ev)
{
	int listen = -1, tw = 0, other = 0;
	int64_t tw_left = -1;
	bool had_reuseaddr = ev->has_opts && ev->opts.reuseaddr;

	for (int i = 0; i < ev->nholders; i++) {
		const struct st_ksock *k = &ev->holders[i];
		if (k->state && !strcmp(k->state, "LISTEN")) {
			if (listen < 0)
				listen = i;
		} else if (k->state && !strcmp(k->state, "TIME_WAIT")) {
			tw++;
			if (k->timer_ms > tw_left)
				tw_left = k->timer_ms;
		} else {
			other++;
		}
	}
	st_buf_puts(b, "\n    hint: ");
	if (listen >= 0) {
		const struct st_ksock *k = &ev->holders[listen];
		st_buf_puts(b, "another socket is listening on ");
		put(b, k->local);
		if (k->pid >= 0) {
			st_buf_puts(b, " (pid ");
			st_buf_i64(b, k->pid);
			if (k->comm) {
				st_buf_putc(b, ' ');
				put(b, k->comm);
			}
			st_buf_putc(b, ')');
		}
		if (ev->verdict_reuseport == 1)
			st_buf_puts(b, "; both set SO_REUSEPORT, so setting it here would make them share the port");
		else
			st_buf_puts(b, "; stop it or use another port (SO_REUSEADDR does not share a listening port)");
	} else if (!ev->holders) {
		st_buf_puts(b, "the holders of the address could not be found");
	} else if (ev->verdict_reuseaddr == 1 && !had_reuseaddr) {
		st_buf_puts(b, "set SO_REUSEADDR before bind(): the port is held only by closed connections "
			       "that allow reuse");
	} else if (tw && !other && ev->verdict_reuseaddr == 0) {
		st_buf_puts(b, had_reuseaddr ? "SO_REUSEADDR here is not enough: " : "SO_REUSEADDR here alone would not help: ");
		st_buf_puts(b, "the connections in TIME_WAIT were made by a socket without SO_REUSEADDR (on Linux "
			       "both sides must set it); set it in the program that made them too, or ");
		tw_wait(b, tw_left);
	} else if (tw && !other && ev->verdict_reuseaddr < 0) {
		st_buf_puts(b, had_reuseaddr ? "SO_REUSEADDR is set here, " : "set SO_REUSEADDR before bind(): ");
		st_buf_puts(b, "the port is held by connections in TIME_WAIT, which let a SO_REUSEADDR socket "
			       "bind only if the socket that made them set SO_REUSEADDR too (another process's "
			       "options are not visible from here); or ");
		tw_wait(b, tw_left);
	} else if (ev->verdict_reuseaddr == 1) {
		st_buf_puts(b, "the kernel lets this address be reused now: the holders were gone or changed "
			       "by the time socktrace asked");
	} else if (ev->verdict_reuseaddr == 0 && ev->verdict_reuseport == 0) {
		st_buf_puts(b, "the address is in use by the sockets above; neither option would have helped");
	} else {
		st_buf_puts(b, "the address is in use by the sockets above; whether an option would help is "
			       "unknown");
	}
}

/* ["prog", "arg", ...], as strace shows it: an argument kept only in part
 * is followed by ... and its whole length, arguments not kept by their
 * count */
static void argv_list(struct st_buf *b, bool *first, const struct st_event *ev)
{
	sep(b, first);
	st_buf_putc(b, '[');
	for (int i = 0; i < ev->argc; i++) {
		if (i)
			ST_PUTL(b, ", ");
		quoted(b, ev->argv[i] ? ev->argv[i] : "");
		for (int k = 0; ev->argv_cut && k < ev->nargv_cut; k++) {
			if (ev->argv_cut[k].index != i)
				continue;
			ST_PUTL(b, "... /* ");
			st_buf_i64(b, ev->argv_cut[k].bytes);
			ST_PUTL(b, " bytes */");
			break;
		}
	}
	if (ev->argc_total > ev->argc) {
		if (ev->argc)
			ST_PUTL(b, ", ");
		ST_PUTL(b, "... /* ");
		st_buf_i64(b, ev->argc_total);
		ST_PUTL(b, " args */");
	}
	st_buf_putc(b, ']');
}

static void args(struct st_buf *b, const struct st_event *ev)
{
	bool first = true;
	enum st_call c = ev->call;

	if (st_call_is(c, ST_K_MAKE) && !st_call_is(c, ST_K_ACCEPT)) {
		arg_str(b, &first, ev->family);
		sep(b, &first);
		put(b, ev->type ? ev->type : "?");
		if (ev->flags) {
			st_buf_putc(b, '|');
			put(b, ev->flags);
		}
		arg_str(b, &first, ev->proto ? ev->proto : "0");
		if (st_call_is(c, ST_K_PAIR) && ev->pair[0] >= 0) {
			sep(b, &first);
			st_buf_putc(b, '[');
			st_buf_i64(b, ev->pair[0]);
			st_buf_putc(b, ',');
			st_buf_i64(b, ev->pair[1]);
			st_buf_putc(b, ']');
		}
		return;
	}
	if (st_call_is(c, ST_K_ACCEPT)) {
		arg_fd(b, &first, ev->listen_fd);
		if (ev->remote[0] && ev->ret >= 0)
			arg_str(b, &first, ev->remote);
		if (ev->flags)
			arg_str(b, &first, ev->flags);
		return;
	}
	switch (c) {
	case ST_CALL_dup:
	case ST_CALL_dup2:
	case ST_CALL_dup3:
		if (ev->implicit_close) {
			/* the socket that was at the target descriptor */
			arg_str(b, &first, "...");
			arg_fd(b, &first, ev->fd);
		} else {
			arg_fd(b, &first, ev->fd);
			if (c != ST_CALL_dup)
				arg_fd(b, &first, ev->newfd);
		}
		if (ev->flags)
			arg_str(b, &first, ev->flags);
		return;
	case ST_CALL_fcntl:
	case ST_CALL_fcntl64:
		arg_fd(b, &first, ev->fd);
		arg_str(b, &first, ev->cmd);
		return;
	case ST_CALL_close_range:
	case ST_CALL_closefrom:
		sep(b, &first);
		st_buf_i64(b, ev->range_first);
		if (c == ST_CALL_close_range) {
			sep(b, &first);
			if (ev->range_last >= 0xffffffffLL)
				st_buf_puts(b, "~0U");
			else
				st_buf_i64(b, ev->range_last);
		}
		if (ev->flags)
			arg_str(b, &first, ev->flags);
		return;
	case ST_CALL_exit:
		if (ev->status >= 0) {
			sep(b, &first);
			st_buf_i64(b, ev->status);
		}
		return;
	case ST_CALL_execve:
	case ST_CALL_execv:
	case ST_CALL_execvp:
	case ST_CALL_execvpe:
	case ST_CALL_execl:
	case ST_CALL_execlp:
	case ST_CALL_execle:
	case ST_CALL_execveat:
	case ST_CALL_posix_spawn:
	case ST_CALL_posix_spawnp:
	case ST_CALL_untraced:
		if (ev->exe) {
			sep(b, &first);
			quoted(b, ev->exe);
		}
		return;
	case ST_CALL_fexecve:
		break;	/* the descriptor of the program */
	default:
		if (st_call_is(c, ST_K_PROC) && c != ST_CALL_start)
			return;	/* fork, vfork, clone, daemon, ... */
		break;
	case ST_CALL_start:
		sep(b, &first);
		if (ev->exe) {
			quoted(b, ev->exe);
			if (ev->exe_cut)
				ST_PUTL(b, "...");
		} else {
			st_buf_putc(b, '?');
		}
		if (ev->exe_cut)
			ST_PUTL(b, " /* longer than the kernel tells */");
		if (ev->argv)
			argv_list(b, &first, ev);
		return;
	}
	/* calls on one descriptor */
	arg_fd(b, &first, ev->fd);
	if (ev->addr[0])
		arg_str(b, &first, ev->addr);
	if (ev->backlog >= 0) {
		sep(b, &first);
		st_buf_i64(b, ev->backlog);
	}
	if (ev->how)
		arg_str(b, &first, ev->how);
	if (ev->level) {
		arg_str(b, &first, ev->level);
		arg_str(b, &first, ev->optname);
		if (ev->so_error)
			arg_str(b, &first, ev->so_error);
		else if (ev->has_optval) {
			sep(b, &first);
			st_buf_i64(b, ev->optval);
		} else if (ev->has_optlinger) {
			sep(b, &first);
			st_buf_puts(b, "{l_onoff=");
			st_buf_i64(b, ev->optlinger_onoff);
			st_buf_puts(b, ", l_linger=");
			st_buf_i64(b, ev->optlinger_secs);
			st_buf_putc(b, '}');
		} else {
			arg_str(b, &first, "...");
		}
	}
}

static void tuple(struct st_buf *b, const struct st_event *ev)
{
	if (!ev->proto && !ev->family)
		return;
	st_buf_puts(b, "  ");
	if (ev->proto)
		put(b, ev->proto);
	else
		put(b, ev->family);
	if (ev->local[0]) {
		st_buf_putc(b, ' ');
		put(b, ev->local);
	}
	if (ev->remote[0]) {
		st_buf_puts(b, " -> ");
		put(b, ev->remote);
	}
}

size_t st_render_text(const struct st_event *ev, char *out, size_t cap, unsigned flags)
{
	struct st_buf b;
	const char *call = st_call_name(ev->call);
	bool self = st_call_is(ev->call, ST_K_SELF);

	st_buf_init(&b, out, cap);

	/* time of day */
	{
		int64_t s = ev->ts_us / 1000000 + ((flags & ST_RENDER_UTC) ? 0 : tz_offset_s);
		int64_t day = ((s % 86400) + 86400) % 86400;
		st_buf_u64w(&b, (uint64_t)(day / 3600), 2);
		st_buf_putc(&b, ':');
		st_buf_u64w(&b, (uint64_t)(day / 60 % 60), 2);
		st_buf_putc(&b, ':');
		st_buf_u64w(&b, (uint64_t)(day % 60), 2);
		st_buf_putc(&b, '.');
		st_buf_u64w(&b, (uint64_t)(ev->ts_us % 1000000), 6);
	}
	st_buf_puts(&b, " [");
	st_buf_i64(&b, ev->pid);
	if (ev->tid > 0 && ev->tid != ev->pid) {
		st_buf_putc(&b, '/');
		st_buf_i64(&b, ev->tid);
	}
	st_buf_puts(&b, "] ");

	/* another process's end, as strace says it */
	if (ev->call == ST_CALL_end) {
		if (ev->signal) {
			st_buf_puts(&b, "+++ killed by ");
			put(&b, ev->signal);
			if (ev->core)
				st_buf_puts(&b, " (core dumped)");
		} else if (ev->status >= 0) {
			st_buf_puts(&b, "+++ exited with ");
			st_buf_i64(&b, ev->status);
		} else {
			st_buf_puts(&b, "+++ ended, how is unknown");
		}
		st_buf_puts(&b, " +++");
		if (ev->by) {
			st_buf_puts(&b, "  (seen by ");
			put(&b, ev->by);
			st_buf_putc(&b, ')');
		}
		st_buf_putc(&b, '\n');
		return st_buf_finish(&b);
	}

	if (ev->err)
		color(&b, flags, C_BOLD_RED);
	st_buf_puts(&b, call);
	st_buf_putc(&b, '(');
	args(&b, ev);
	st_buf_putc(&b, ')');
	if (!self) {
		st_buf_puts(&b, " = ");
		st_buf_i64(&b, ev->ret);
		if (ev->err) {
			const char *desc = st_errno_desc(ev->err);
			st_buf_putc(&b, ' ');
			put(&b, ev->err);
			if (desc) {
				st_buf_puts(&b, " (");
				st_buf_puts(&b, desc);
				st_buf_putc(&b, ')');
			}
		}
	}
	if (ev->err)
		color(&b, flags, C_OFF);

	if (ev->call == ST_CALL_start) {
		if (ev->ppid >= 0) {
			st_buf_puts(&b, "  ppid ");
			st_buf_i64(&b, ev->ppid);
		}
		if (ev->version) {
			st_buf_puts(&b, "  socktrace ");
			put(&b, ev->version);
		}
		if (ev->backend) {
			st_buf_puts(&b, "  backend ");
			put(&b, ev->backend);
		}
	}
	if (ev->call == ST_CALL_exit && ev->open_sockets >= 0) {
		st_buf_puts(&b, "  ");
		st_buf_i64(&b, ev->open_sockets);
		st_buf_puts(&b, ev->open_sockets == 1 ? " socket still open" : " sockets still open");
	}
	if (ev->child >= 0) {
		st_buf_puts(&b, "  child ");
		st_buf_i64(&b, ev->child);
	}
	if (ev->inherited && ev->ninherited) {
		st_buf_puts(&b, "  inherited:");
		for (int i = 0; i < ev->ninherited; i++) {
			const struct st_isock *s = &ev->inherited[i];
			st_buf_puts(&b, "\n    fd ");
			st_buf_i64(&b, s->fd);
			st_buf_putc(&b, ' ');
			put(&b, s->proto ? s->proto : s->family ? s->family : "socket");
			if (s->local[0]) {
				st_buf_putc(&b, ' ');
				put(&b, s->local);
			}
			if (s->remote[0]) {
				st_buf_puts(&b, " -> ");
				put(&b, s->remote);
			}
			if (s->state) {
				st_buf_putc(&b, ' ');
				state(&b, flags, s->state);
			} else if (s->listening) {
				st_buf_puts(&b, " listening");	/* no TCP state: a unix listener */
			}
		}
	}
	if (ev->rights && ev->nrights) {
		st_buf_puts(&b, "  [SCM_RIGHTS");
		for (int i = 0; i < ev->nrights; i++) {
			st_buf_puts(&b, i ? ", " : " ");
			st_buf_i64(&b, ev->rights[i].fd);
		}
		st_buf_putc(&b, ']');
	}
	if (ev->kept && ev->nkept) {
		st_buf_puts(&b, "  (still open:");
		for (int i = 0; i < ev->nkept; i++) {
			st_buf_putc(&b, ' ');
			st_buf_i64(&b, ev->kept[i]);
		}
		st_buf_putc(&b, ')');
	}

	tuple(&b, ev);
	if (ev->state_before && ev->state && strcmp(ev->state_before, ev->state)) {
		st_buf_putc(&b, ' ');
		state(&b, flags, ev->state_before);
		st_buf_puts(&b, " -> ");
		state(&b, flags, ev->state);
	} else if (ev->state) {
		st_buf_putc(&b, ' ');
		state(&b, flags, ev->state);
	}
	if (ev->state_after) {
		st_buf_puts(&b, " (kernel: ");
		state(&b, flags, ev->state_after);
		st_buf_putc(&b, ')');
	}
	if (ev->connect_done) {
		st_buf_puts(&b, "  [non-blocking connect finished: ");
		put(&b, ev->connect_done);
		st_buf_putc(&b, ']');
	}
	if (ev->has_opts && (ev->opts.reuseaddr || ev->opts.reuseport || ev->opts.linger >= 0)) {
		bool first = true;
		st_buf_puts(&b, "  [");
		if (ev->opts.reuseaddr) {
			sep(&b, &first);
			st_buf_puts(&b, "SO_REUSEADDR");
		}
		if (ev->opts.reuseport) {
			sep(&b, &first);
			st_buf_puts(&b, "SO_REUSEPORT");
		}
		if (ev->opts.linger >= 0) {
			sep(&b, &first);
			st_buf_puts(&b, "SO_LINGER=");
			st_buf_i64(&b, ev->opts.linger);
		}
		st_buf_putc(&b, ']');
	}
	if (ev->has_tcp) {
		st_buf_puts(&b, "  rtt=");
		st_buf_u64(&b, ev->tcp.rtt_us);
		st_buf_puts(&b, "us sent=");
		st_buf_u64(&b, ev->tcp.bytes_sent);
		st_buf_puts(&b, " recv=");
		st_buf_u64(&b, ev->tcp.bytes_received);
		if (ev->tcp.total_retrans) {
			st_buf_puts(&b, " retrans=");
			st_buf_u64(&b, ev->tcp.total_retrans);
		}
		if (ev->tcp.unread) {
			st_buf_puts(&b, " unread=");
			st_buf_u64(&b, ev->tcp.unread);
		}
	}
	if (ev->last_ref_known && !ev->last_ref)
		st_buf_puts(&b, "  (another descriptor still holds this socket)");
	if (ev->shared)
		st_buf_puts(&b, "  (shared with another process)");
	if (ev->call == ST_CALL_gone) {
		st_buf_puts(&b, "  (closed out of sight; noticed at ");
		put(&b, ev->noticed ? ev->noticed : "?");
		st_buf_puts(&b, "())");
	} else if (ev->call == ST_CALL_exec) {
		st_buf_puts(&b, "  (closed by exec: close-on-exec)");
	} else if (ev->call == ST_CALL_untraced) {
		st_buf_puts(&b, "  exec of an image the shim cannot enter (");
		put(&b, ev->untraced_reason ? ev->untraced_reason : "?");
		st_buf_puts(&b, "): its socket calls are not in this trace; socktrace --backend=ptrace traces it");
	}
	if (ev->self_connect)
		st_buf_puts(&b, "  (connected to itself)");
	if (ev->cancelled)
		st_buf_puts(&b, "  (thread cancelled in the call)");
	if (ev->via_syscall)
		st_buf_puts(&b, "  [syscall]");
	if (ev->reset_known && ev->reset) {
		color(&b, flags, C_YELLOW);
		st_buf_puts(&b, "  RST sent");
		if (ev->reset_reason) {
			st_buf_puts(&b, " (");
			put(&b, ev->reset_reason);
			st_buf_putc(&b, ')');
		}
		color(&b, flags, C_OFF);
	}
	if (ev->dur_ns >= 0 && !self) {
		color(&b, flags, C_DIM);
		st_buf_puts(&b, "  <");
		st_buf_u64(&b, (uint64_t)ev->dur_ns / 1000);
		st_buf_putc(&b, '.');
		st_buf_u64w(&b, (uint64_t)ev->dur_ns % 1000, 3);
		st_buf_puts(&b, "us>");
		color(&b, flags, C_OFF);
	}
	if (ev->dropped > 0) {
		st_buf_puts(&b, "\n    (");
		st_buf_i64(&b, ev->dropped);
		st_buf_puts(&b, ev->dropped == 1 ? " event before this one was" : " events before this one were");
		st_buf_puts(&b, " not recorded: the program held every descriptor the trace could use)");
	}
	if (ev->reused_time_wait > 0) {
		st_buf_puts(&b, "\n    SO_REUSEADDR let this bind reuse the port held by ");
		st_buf_i64(&b, ev->reused_time_wait);
		st_buf_puts(&b, ev->reused_time_wait == 1 ? " connection in TIME_WAIT" :
			    " connections in TIME_WAIT");
	}
	if (ev->err && ev->holders) {
		st_buf_puts(&b, "\n    ");
		put(&b, ev->addr[0] ? ev->addr : "the address");
		st_buf_puts(&b, " is held by:");
		for (int i = 0; i < ev->nholders; i++) {
			st_buf_puts(&b, "\n      ");
			ksock_line(&b, &ev->holders[i]);
		}
		if (!ev->nholders && !ev->holders_incomplete)
			st_buf_puts(&b, " no socket the kernel would show (it may have been released since)");
	} else if (ev->err && ev->holders_incomplete) {
		st_buf_puts(&b, "\n    ");
		put(&b, ev->addr[0] ? ev->addr : "the address");
		st_buf_puts(&b, " is held by: unknown");
	}
	if (ev->err && ev->holders_incomplete) {
		st_buf_puts(&b, "\n      (");
		put(&b, ev->holders_incomplete);
		st_buf_putc(&b, ')');
	}
	if (ev->has_verdict) {
		st_buf_puts(&b, "\n    SO_REUSEADDR on this socket ");
		st_buf_puts(&b, ev->verdict_reuseaddr < 0 ? "might or might not have helped (unknown)" :
			    ev->verdict_reuseaddr ? "would have let the bind succeed" : "would not have helped");
		st_buf_puts(&b, "; SO_REUSEPORT ");
		st_buf_puts(&b, ev->verdict_reuseport < 0 ? "unknown" :
			    ev->verdict_reuseport ? "would have let it succeed" : "would not have helped");
		if (ev->verdict_why) {
			st_buf_puts(&b, " (");
			put(&b, ev->verdict_why);
			st_buf_putc(&b, ')');
		}
	}
	if (ev->has_verdict)
		explain_eaddrinuse(&b, ev);
	if (ev->lingering && ev->nlingering) {
		int64_t total = ev->lingering_total > ev->nlingering ? ev->lingering_total : ev->nlingering;
		st_buf_puts(&b, "\n    ");
		st_buf_i64(&b, total);
		st_buf_puts(&b, total == 1 ? " closed connection still in the kernel's table:" :
			    " closed connections still in the kernel's table:");
		for (int i = 0; i < ev->nlingering; i++) {
			st_buf_puts(&b, "\n      ");
			ksock_line(&b, &ev->lingering[i]);
		}
		if (total > ev->nlingering) {
			st_buf_puts(&b, "\n      ... and ");
			st_buf_i64(&b, total - ev->nlingering);
			st_buf_puts(&b, " more");
		}
	}
	for (int i = 0; i < ev->nframes; i++) {
		const struct st_frame *f = &ev->frames[i];
		st_buf_puts(&b, "\n    #");
		st_buf_i64(&b, i);
		st_buf_putc(&b, ' ');
		if (f->sym && f->file) {
			/* as addr2line -f gives it: the function and its source line */
			put(&b, f->sym);
			st_buf_puts(&b, " (");
			put(&b, f->file);
			st_buf_putc(&b, ':');
			st_buf_i64(&b, f->line);
			st_buf_puts(&b, ") in ");
			put(&b, f->obj ? f->obj : "?");
		} else if (f->sym) {
			put(&b, f->sym);
			st_buf_puts(&b, "+");
			st_buf_hex(&b, f->sym_off);
			st_buf_puts(&b, " (");
			put(&b, f->obj ? f->obj : "?");
			st_buf_putc(&b, ')');
		} else if (f->obj) {
			put(&b, f->obj);
			st_buf_putc(&b, '+');
			st_buf_hex(&b, f->off);
		} else {
			st_buf_hex(&b, f->ip);
		}
	}
	st_buf_putc(&b, '\n');
	return st_buf_finish(&b);
}
