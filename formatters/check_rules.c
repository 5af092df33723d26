/* SPDX-License-Identifier: MIT */
/* check_rules.c - the rules of `socktrace check` (see check.h): no-leaks,
 * reuseaddr, no-eaddrinuse, handshakes, no-resets, max-time-wait=N,
 * max-open=N, closed-by=client|server.
 *
 * Owns: what each rule asks of the model and the trace, the sentence of
 * each violation (what broke, where, and what to do about it), the table
 * of rules and the spelling of a rule asked for ("max-open=10", "all").
 * Reads the model only; never prints (the reports do), never parses a
 * command line (the command hands each --rule over as it is).
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool is_listener(const struct st_msock *s)
{
	return st_msock_listening(s);
}

/* a frame list as a grouping key */
static void stack_key(const struct st_rec *r, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; r && i < r->ev.nframes && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s+%" PRIx64 ";", r->ev.frames[i].obj ? r->ev.frames[i].obj : "",
				      r->ev.frames[i].off);
}

/* What kind of socket s is, for a finding's key: its family, type and
 * protocol as the trace names them (a unix stream and a unix datagram
 * socket, udp over IPv4 and over IPv6, a netlink socket of each type are
 * each a kind of its own) */
static const char *kind_key(const struct st_msock *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s", s->family ? s->family : "", s->type ? s->type : "", s->proto ? s->proto : "");
	return buf;
}

/* The end of s that its kind of finding shares with the others made at
 * the same place, after its side, for a finding's key: an accepted
 * socket's local end (the server's: "accepted 127.0.0.1:8080"), a
 * listener's ("listening ..."), a connected one's remote end (the peer
 * it was made for: "to ..."), else its local end (bound, never
 * connected: "at ..."), "" when neither end is known.  The side keeps a
 * server's resets of the connections it accepted apart from its own
 * clients' to the same address. */
static const char *fixed_end(const struct st_msock *s, char *buf, size_t n)
{
	bool accepted = s->made && (s->made->ev.call == ST_CALL_accept || s->made->ev.call == ST_CALL_accept4);
	const char *remote = st_msock_remote(s), *local = st_msock_local(s);

	/* a local end the program bound is the address it asked for: a
	 * loop binding port 0 gets another port each time, the same place */
	if (!accepted && s->bind && s->bind->ev.addr[0] && !s->bind->ev.err)
		local = s->bind->ev.addr;
	if (accepted || is_listener(s))
		snprintf(buf, n, "%s %s", accepted ? "accepted" : "listening", local);
	else if (remote[0])
		snprintf(buf, n, "to %s", remote);
	else
		snprintf(buf, n, "at %s", local);
	return buf;
}

/* "pid 4242 fd 4 127.0.0.1:8080 -> 127.0.0.1:41234": one finding of a
 * group, escaped; the ends left out when unknown */
static const char *socket_example(int64_t pid, int fd, const struct st_msock *s, char *buf, size_t n)
{
	const char *local = s ? st_msock_local(s) : "", *remote = s ? st_msock_remote(s) : "";
	size_t k = (size_t)snprintf(buf, n, "pid %" PRId64 " fd %d", pid, fd);

	if (local[0] && k < n)
		k += (size_t)snprintf(buf + k, n - k, " %s", show_esc(local));
	if (remote[0] && k < n)
		snprintf(buf + k, n - k, " -> %s", show_esc(remote));
	return buf;
}

/* the process that leaked s, named first: the first whose hold of it began
 * (its maker when the maker leaked it), whatever the order of the exits;
 * -1 none */
static int64_t leaker_key(const struct st_msock *s)
{
	const struct st_hold *h[1];

	return st_msock_leakers(s, h, 1) ? h[0]->pkey : s->end_pkey;
}

/* The descriptor by which process pkey held s: its last own event on s
 * that names one (a descriptor it received s by, in an SCM_RIGHTS
 * message), else s's first (a forked child holds its parent's copies at
 * the parent's numbers). */
static int holder_fd(const struct st_msock *s, int64_t pkey)
{
	for (size_t i = s->nevs; i-- > 0;) {
		const struct st_rec *r = s->evs[i];
		if (r->pkey != pkey)
			continue;
		if (r->sock == s && r->ev.fd >= 0 && r->ev.call != ST_CALL_exit)
			return r->ev.fd;
		for (int k = 0; k < r->ev.nrights; k++)
			if (s->inode && r->ev.rights[k].inode == s->inode && r->ev.rights[k].fd >= 0)
				return r->ev.rights[k].fd;
	}
	return s->fd;
}

/* ", nor by pids 41 and 42, which also held copies to their exit": the
 * other processes that held a copy of s to their exit (after the one
 * named first, st_msock_leakers' order), "" none */
static void holders_words(const struct st_msock *s, char *buf, size_t n)
{
	const struct st_hold *h[9];
	size_t all = st_msock_leakers(s, h, 9), np = all > 9 ? 9 : all, len;

	buf[0] = '\0';
	if (all < 2)
		return;
	len = (size_t)snprintf(buf, n, ", nor by pid%s", all > 2 ? "s" : "");
	for (size_t k = 1; k < np && len < n; k++)
		len += (size_t)snprintf(buf + len, n - len, "%s %" PRId64, k == 1 ? "" : k + 1 == np && all == np ? " and" : ",",
					h[k]->pkey & ST_PID_MASK);
	if (all > np && len < n)
		len += (size_t)snprintf(buf + len, n - len, " and %zu more", all - np);
	if (len < n)
		snprintf(buf + len, n - len, ", which also held %s to their exit", all > 2 ? "copies" : "a copy");
}

/* The state s was last seen in while the process named first for its leak
 * still held it (its events up to that process's exit), not the state a
 * later close by another holder left: the same line whichever let go
 * last.  NULL unknown. */
static const char *leak_state(const struct st_msock *s)
{
	const struct st_hold *h[1];

	if (!st_msock_leakers(s, h, 1))
		return s->final_state;
	for (size_t i = s->nevs; i-- > 0;) {
		const struct st_rec *r = s->evs[i];
		if (r->sock == s && r->ev.state && r->ev.ts_us <= h[0]->to_us)
			return r->ev.state;
	}
	return s->final_state;
}

static void rule_no_leaks(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		char key[12288], place[2048], end[ST_ADDR_MAX + 16], w[256], t[CHECK_TUPLE_MAX], st[2048], ex[CHECK_TUPLE_MAX + 64];
		char others[512], kind[256];
		int64_t lk = leaker_key(s);
		bool elsewhere = lk >= 0 && lk != s->pkey;
		struct check_image holder, maker;
		struct check_like like;
		const char *last;

		/* a socket a signal's death ended is not judged (check says how many);
		 * one a process inherited from the start of the trace is not its to close */
		if (!st_msock_leaked(s))
			continue;
		/* the same leak from a loop, or from each child of a forking
		 * server: one line with a count.  The same leak is the same
		 * kind of socket made at the same place (the same call stack;
		 * without stacks, by the same call for the same end), left open
		 * by the same program */
		check_image_of(c, s->pid, s->pkey, st_msock_maker_image(m, s), &maker);
		if (elsewhere)
			check_image_of(c, lk & ST_PID_MASK, lk, NULL, &holder);
		else
			holder = maker;
		stack_key(s->made, place, sizeof(place));
		snprintf(key, sizeof(key), "%d\036%s\036%s\036%s\036%d\036%s\036%s\036%s",
			 elsewhere ? 1 : !s->made && s->received ? 2 : 3, holder.key, maker.key, kind_key(s, kind, sizeof(kind)),
			 is_listener(s), s->made ? st_call_name(s->made->ev.call) : "", place,
			 place[0] ? "" : fixed_end(s, end, sizeof(end)));
		like = (struct check_like){ key, "such sockets leaked from the same place", holder.words,
					    elsewhere ? lk : s->pkey,
					    socket_example(elsewhere ? lk & ST_PID_MASK : s->pid,
							   elsewhere ? holder_fd(s, lk) : s->fd, s, ex, sizeof(ex)),
					    false };
		holders_words(s, others, sizeof(others));
		last = leak_state(s);
		if (elsewhere) {
			/* made in one process, held to its exit by another; the
			 * others that held a copy to their exit (forked children that
			 * never closed the listener) are named too.  Named in the
			 * order their holds began: which of them exited last, or
			 * whether the maker's close came before or after, is only a
			 * matter of timing */
			char w2[256];
			check_finding(res, &like, "%s: %s (last seen %s) was never closed before exit%s; it was made by "
				      "%s()%s in %s (fd %d), which closed its copy or handed it on",
				      check_who(c, lk & ST_PID_MASK, lk, w, sizeof(w)), check_tuple(s, t, sizeof(t)),
				      last ? show_esc(last) : "open", others,
				      s->made ? st_call_name(s->made->ev.call) : "an unrecorded call",
				      check_where(s->made, st, sizeof(st)), check_maker(c, s, w2, sizeof(w2)),
				      s->fd);
			check_locate(res, s->made);
		} else if (!s->made && s->received) {
			check_finding(res, &like, "%s: %s (fd %d%s%s), received over SCM_RIGHTS from a process outside "
				      "the traces, was never closed before exit%s",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd,
				      last ? ", last seen " : "", last ? show_esc(last) : "",
				      others);
		} else {
			check_finding(res, &like, "%s: %s (fd %d%s%s) made by %s()%s was never closed before exit%s",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd,
				      last ? ", last seen " : "", last ? show_esc(last) : "",
				      s->made ? st_call_name(s->made->ev.call) : "an unrecorded call",
				      check_where(s->made, st, sizeof(st)), others);
			check_locate(res, s->made);
		}
	}
	{
		size_t killed = 0;
		const char *sig = NULL;
		for (size_t i = 0; i < m->nsocks; i++) {
			const struct st_msock *s = m->socks[i];
			const struct st_proc *dead = NULL;
			bool by_death = s->end == ST_END_KILLED;
			/* a copy a killed process held, whether or not its death was
			 * the socket's end (the order of the ends is not a verdict) */
			for (size_t k = 0; k < s->nended && !by_death; k++)
				if (s->holds[k].how == ST_END_KILLED) {
					by_death = true;
					dead = st_model_proc_key(m, s->holds[k].pkey);
				}
			if (!by_death || st_msock_leaked(s))
				continue;
			killed++;
			if (s->end == ST_END_KILLED && s->end_rec && s->end_rec->ev.signal)
				sig = s->end_rec->ev.signal;
			else if (dead && dead->end && dead->end->ev.signal)
				sig = dead->end->ev.signal;
		}
		if (killed)
			check_note(c, "no-leaks: %zu socket%s ended with a process a signal killed (%s): "
				   "not judged as leak%s", killed, killed == 1 ? "" : "s", sig ? show_esc(sig) : "?",
				   killed == 1 ? "" : "s");
	}
}

static void rule_reuseaddr(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		const struct st_rec *at = s->bind ? s->bind : s->listen;
		char w[256], t[CHECK_TUPLE_MAX], key[8192], ex[CHECK_TUPLE_MAX + 64], kind[256];
		struct check_image im;
		bool late;
		struct check_like like;

		if (!is_listener(s) || !st_msock_is_tcp(s) || !at || !at->ev.has_opts || at->ev.opts.reuseaddr)
			continue;
		/* each worker of a pre-forked server with a listener of its own
		 * (SO_REUSEPORT): one line */
		late = s->bind && s->listen && s->listen->ev.has_opts && s->listen->ev.opts.reuseaddr;
		check_image_of(c, s->pid, s->pkey, st_msock_maker_image(c->sh.model, s), &im);
		snprintf(key, sizeof(key), "%d\036%s\036%s\036%s", late, im.key, kind_key(s, kind, sizeof(kind)),
			 st_msock_local(s));
		like = (struct check_like){ key, "such listeners", im.words, s->pkey,
					    socket_example(s->pid, s->fd, s, ex, sizeof(ex)), false };
		if (late)
			check_finding(res, &like,
				      "%s: %s sets SO_REUSEADDR only after bind() (fd %d): too late for the bind, so its "
				      "restart, binding before it sets it, fails with EADDRINUSE while its closed "
				      "connections are in TIME_WAIT; set it before bind()",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd);
		else
			check_finding(res, &like,
				      "%s: %s listens without SO_REUSEADDR (fd %d): a restart while its closed "
				      "connections are in TIME_WAIT fails with EADDRINUSE; set SO_REUSEADDR before bind()",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd);
	}
}

/* What a failed bind's verdict says, as one clause: each option would
 * help (1), would not (0) or cannot be told from this trace (-1, a
 * holder's options not visible): an unknown is never given as a no. */
static const char *verdict_words(const struct st_event *ev)
{
	int a = ev->verdict_reuseaddr, p = ev->verdict_reuseport;

	if (!ev->has_verdict)
		return "";
	if (a == 1)
		return "; SO_REUSEADDR would have let it succeed";
	if (p == 1)
		return "; SO_REUSEPORT on both sockets would have let it succeed";
	if (a == 0 && p == 0)
		return "; neither SO_REUSEADDR nor SO_REUSEPORT would have helped";
	if (a == 0)
		return "; SO_REUSEADDR would not have helped; whether SO_REUSEPORT would is unknown";
	if (p == 0)
		return "; SO_REUSEPORT would not have helped; whether SO_REUSEADDR would is unknown";
	return "; whether SO_REUSEADDR or SO_REUSEPORT would have helped is unknown (the holders' options are "
	       "not visible to this process)";
}

static void rule_no_eaddrinuse(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_trace *tr = c->sh.trace;

	(void)arg;
	for (size_t i = 0; i < tr->n; i++) {
		const struct st_event *ev = &tr->recs[i]->ev;
		char w[256], held[1024] = "", key[8192], ex[64], kind[128], of[160] = "";
		const struct st_msock *s = tr->recs[i]->sock;
		size_t k = 0;
		struct check_image im;
		struct check_like like;

		if (ev->call != ST_CALL_bind || !ev->err || strcmp(ev->err, "EADDRINUSE"))
			continue;
		for (int h = 0; h < ev->nholders && k < sizeof(held); h++) {
			const struct st_ksock *hs = &ev->holders[h];
			k += (size_t)snprintf(held + k, sizeof(held) - k, "%s%s%s%s %s", h ? ", " : "; held by ",
					      show_esc(hs->local), hs->remote[0] ? " -> " : "", show_esc(hs->remote),
					      hs->state ? show_esc(hs->state) : "?");
			if (hs->pid >= 0 && k < sizeof(held))
				k += (size_t)snprintf(held + k, sizeof(held) - k, " pid %" PRId64 "%s%s%s", hs->pid,
						      hs->comm ? " (" : "", hs->comm ? show_esc(hs->comm) : "",
						      hs->comm ? ")" : "");
		}
		/* a restart loop, or each worker of a server, failing on one
		 * address: one line */
		check_image_of(c, ev->pid, tr->recs[i]->pkey,
			 st_proc_image_at(st_model_proc_key(c->sh.model, tr->recs[i]->pkey), tr->recs[i]), &im);
		snprintf(key, sizeof(key), "%s\036%s/%s/%s\036%s\036%s", im.key, ev->family ? ev->family : "",
			 ev->type ? ev->type : "", ev->proto ? ev->proto : "", ev->addr, verdict_words(ev));
		snprintf(ex, sizeof(ex), "pid %" PRId64 " fd %d", ev->pid, ev->fd);
		like = (struct check_like){ key, "such binds failed", im.words, tr->recs[i]->pkey, ex, false };
		/* a TCP bind is the usual one; any other says its kind (a udp
		 * and a tcp bind of one port are two findings) */
		if (s && !st_msock_is_tcp(s))
			snprintf(of, sizeof(of), " of a %s socket", show_esc(check_kind(s, kind, sizeof(kind))));
		check_finding(res, &like, "%s: bind(%d, %s)%s failed with EADDRINUSE%s%s",
			      check_who_rec(c, tr->recs[i], w, sizeof(w)), ev->fd,
			      ev->addr[0] ? show_esc(ev->addr) : "?", of, held, verdict_words(ev));
	}
}

static void rule_handshakes(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		char w[256], t[CHECK_TUPLE_MAX], st[2048], key[8192], place[2048], ex[CHECK_TUPLE_MAX + 64];
		const char *to;
		struct check_image im;
		struct check_like like;
		int how;

		if (!s->connect || !st_msock_is_tcp(s))
			continue;
		how = s->conn && s->conn->self ? 1 : s->connect_failed ? 2 : !s->conn || !s->conn->established ? 3 : 0;
		if (!how)
			continue;
		/* a client retrying, or many processes of one program, failing
		 * the same way at the same place to the same address: one line */
		to = s->connect->ev.addr[0] ? s->connect->ev.addr : st_msock_remote(s);
		check_image_of(c, s->pid, s->pkey, st_msock_maker_image(c->sh.model, s), &im);
		stack_key(s->connect, place, sizeof(place));
		snprintf(key, sizeof(key), "%d\036%s\036%s\036%s\036%s", how, im.key,
			 s->connect_err ? s->connect_err : "", how == 1 ? "" : to, place);
		like = (struct check_like){ key, how == 1 ? "such sockets connected to themselves" :
						   how == 2 ? "such connects failed the same way" :
							      "such connects never reached ESTABLISHED",
					    im.words, s->pkey, socket_example(s->pid, s->fd, s, ex, sizeof(ex)), false };
		if (how == 1)
			check_finding(res, &like, "%s: %s connected to itself (fd %d): a TCP simultaneous open with "
				      "its own address, no server listened on it%s",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd,
				      check_where(s->connect, st, sizeof(st)));
		else if (how == 2 && s->connect_err && s->connect_err[0] != 'E')
			/* a non-blocking connect whose error the program never read
			 * (SO_ERROR): the state it went to is known, its errno not */
			check_finding(res, &like, "%s: connect to %s failed: the socket went to %s, its error never read "
				      "with getsockopt(SO_ERROR) (fd %d)%s",
				      check_maker(c, s, w, sizeof(w)),
				      s->connect->ev.addr[0] ? show_esc(s->connect->ev.addr) : "?", show_esc(s->connect_err),
				      s->fd, check_where(s->connect, st, sizeof(st)));
		else if (how == 2)
			check_finding(res, &like, "%s: connect to %s failed with %s (fd %d)%s",
				      check_maker(c, s, w, sizeof(w)),
				      s->connect->ev.addr[0] ? show_esc(s->connect->ev.addr) : "?",
				      s->connect_err ? show_esc(s->connect_err) : "an error", s->fd,
				      check_where(s->connect, st, sizeof(st)));
		else
			check_finding(res, &like, "%s: %s never reached ESTABLISHED (fd %d)%s",
				      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)), s->fd,
				      check_where(s->connect, st, sizeof(st)));
		check_locate(res, s->connect);
	}
}

static void rule_no_resets(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		const char *why;
		char w[256], t[CHECK_TUPLE_MAX], key[8192], ex[CHECK_TUPLE_MAX + 64], end[ST_ADDR_MAX + 16], kind[256];
		struct check_image im;
		struct check_like like;

		if (!s->close || !s->close->ev.reset_known || !s->close->ev.reset)
			continue;
		/* a server resetting each of its connections: one line */
		why = s->close->ev.reset_reason ? s->close->ev.reset_reason : "";
		check_image_of(c, s->pid, s->pkey, st_msock_maker_image(c->sh.model, s), &im);
		snprintf(key, sizeof(key), "%s\036%s\036%s\036%s", im.key, kind_key(s, kind, sizeof(kind)), why,
			 fixed_end(s, end, sizeof(end)));
		like = (struct check_like){ key, "such sockets were reset", im.words, s->pkey,
					    socket_example(s->pid, s->fd, s, ex, sizeof(ex)), false };
		check_finding(res, &like, "%s: %s was closed with a reset (RST) instead of a FIN (%s): the peer sees "
			      "ECONNRESET and may lose data it had not read",
			      check_maker(c, s, w, sizeof(w)), check_tuple(s, t, sizeof(t)),
			      why[0] ? show_esc(why) : "reason unknown");
	}
}

static bool parse_count(const char *arg, long *out)
{
	char *end;

	if (!arg || *arg < '0' || *arg > '9')
		return false;	/* no sign, no space: digits only */
	errno = 0;
	*out = strtol(arg, &end, 10);
	return !errno && !*end && *out >= 0;
}

/* Does the kernel's table after s's end say what became of it?  Its tuple
 * was found at an exit after its end (s->later), or the process that
 * closed it wrote an exit after that close with the kernel's count (in
 * it when still in TIME_WAIT, listed or not).  Not for an end by the process's
 * own end: its exit event looked before the kernel closed the socket. */
static bool tw_seen(const struct st_model *m, const struct st_msock *s)
{
	const struct st_proc *p;

	if (s->later)
		return true;
	if (s->end != ST_END_CLOSED || !s->close)
		return false;
	p = st_model_proc_key(m, s->end_pkey);
	return p && p->exit && p->exit->ev.ts_us >= s->close->ev.ts_us && p->exit->ev.time_wait >= 0;
}

/* Did s close its connection actively, the other end closing too, with
 * no reset: by TCP's rules it then waits in TIME_WAIT (60 s on Linux). */
static bool tw_expected(const struct st_msock *s)
{
	const struct st_conn *c = s->conn;
	const struct st_msock *peer;
	bool mine;

	if (!c || c->reset || !c->established || !c->client || !c->server)
		return false;
	peer = s == c->client ? c->server : c->client;
	mine = c->closer == ST_CLOSER_BOTH || (c->closer == ST_CLOSER_CLIENT && s == c->client) ||
	       (c->closer == ST_CLOSER_SERVER && s == c->server);
	return mine && s->end != ST_END_OPEN && peer->end != ST_END_OPEN;
}

static void rule_max_time_wait(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	long max = 0;	/* the spelling was checked when the rule was asked for */
	int64_t total = 0, expected = 0, unknown = 0;
	char detail[2048] = "", more[1024] = "";
	size_t k = 0, km = 0, shown = 0;
	int64_t rest = 0;

	parse_count(arg, &max);
	/* what the kernel showed at each exit */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct st_proc *p = m->procs[i];
		int64_t tw = 0;
		char w[256];

		if (!p->exit)
			continue;
		if (p->exit->ev.time_wait >= 0) {
			tw = p->exit->ev.time_wait;
		} else {
			for (int j = 0; j < p->exit->ev.nlingering; j++)
				tw += p->exit->ev.lingering[j].state &&
				      !strcmp(p->exit->ev.lingering[j].state, "TIME_WAIT");
		}
		/* the first few processes by name, the others counted: a
		 * forking server's hundreds of children make one line */
		if (tw && ++shown <= CHECK_EXAMPLES && k < sizeof(detail))
			k += (size_t)snprintf(detail + k, sizeof(detail) - k, "%s%s: %" PRId64, k ? ", " : "",
					      check_who(c, p->pid, p->key, w, sizeof(w)), tw);
		else if (tw)
			rest += tw;
		total += tw;
	}
	if (shown > CHECK_EXAMPLES && k < sizeof(detail))
		snprintf(detail + k, sizeof(detail) - k, ", and %zu more processes: %" PRId64, shown - CHECK_EXAMPLES,
			 rest);
	/* connections no exit's look at the kernel's table covers (their
	 * process was killed, ended holding them, or did not ask the kernel):
	 * an active close whose other end closed too is in TIME_WAIT by TCP's
	 * rules; one whose other end was not traced may be */
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		const struct st_conn *cn = s->conn;

		if (!cn || !st_msock_is_tcp(s) || s->end == ST_END_OPEN || tw_seen(m, s))
			continue;
		if (tw_expected(s)) {
			char w[256];
			if (!expected && km < sizeof(more))
				km += (size_t)snprintf(more + km, sizeof(more) - km, "the first by %s",
						       s->end_rec && s->end_rec->pkey == s->end_pkey ?
						       check_who_rec(c, s->end_rec, w, sizeof(w)) :
						       check_who(c, s->end_pid, s->end_pkey, w, sizeof(w)));
			expected++;
		} else if (!cn->reset && cn->established && (!cn->client || !cn->server) &&
			   ((cn->closer == ST_CLOSER_CLIENT && s == cn->client) ||
			    (cn->closer == ST_CLOSER_SERVER && s == cn->server) || cn->closer == ST_CLOSER_UNKNOWN)) {
			unknown++;
		}
	}
	if (total + expected > max) {
		if (expected)
			check_violation(res,
					"%" PRId64 " closed connections in TIME_WAIT (%" PRId64 " in the kernel's table at exit%s%s%s; "
					"%" PRId64 " closed actively, the other end closing too, where no exit read the kernel's table "
					"after: %s), more than %ld: the side that closes first keeps TIME_WAIT for 60 s; let the "
					"other side close first, or reuse connections",
					total + expected, total, k ? " (" : "", detail, k ? ")" : "", expected, more, max);
		else
			check_violation(res,
					"%" PRId64 " closed connections in TIME_WAIT at exit (%s), more than %ld: the side that "
					"closes first keeps TIME_WAIT for 60 s; let the other side close first, or reuse "
					"connections",
					total, detail, max);
	}
	if (unknown)
		check_note(c,
			   "max-time-wait: %" PRId64 " more connection%s closed first here, whose other end is not in the trace, "
			   "may be in TIME_WAIT: no exit read the kernel's table after %s",
			   unknown, unknown == 1 ? " was" : "s were", unknown == 1 ? "it" : "them");
}

/* Each process's peak of sockets open at once (st_proc.open_peak): the
 * sockets its own descriptors named, each once; a copy it closed stops
 * counting there even while a child still holds the socket, and a child
 * counts what it inherited from its fork on. */
static void rule_max_open(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	long max = 0;	/* the spelling was checked when the rule was asked for */

	parse_count(arg, &max);
	for (size_t p = 0; p < m->nprocs; p++) {
		const struct st_proc *pr = m->procs[p];
		char w[320], clock[32], key[8192], ex[96];
		const struct st_rec *at;
		struct check_image im;
		struct check_like like;

		if (pr->open_peak <= max)
			continue;
		show_clock(&c->sh, clock, sizeof(clock), pr->open_peak_us);
		/* named by the image that held them at the peak, as the other
		 * rules name the image that made a socket, not by the
		 * process's latest (an exec after the peak) */
		at = st_proc_image_at_us(pr, pr->open_peak_us);
		/* a forking server's children, each over the bound by as much:
		 * one line */
		check_image_of(c, pr->pid, pr->key, at, &im);
		snprintf(key, sizeof(key), "%s\036%d", im.key, pr->open_peak);
		snprintf(ex, sizeof(ex), "pid %" PRId64 " at %s", pr->pid, clock);
		like = (struct check_like){ key, "such processes", im.words, pr->key, ex, true };
		if (im.words)
			snprintf(w, sizeof(w), "pid %" PRId64 " (%s)", pr->pid, im.words);
		else
			snprintf(w, sizeof(w), "pid %" PRId64, pr->pid);
		check_finding(res, &like, "%s: %d sockets open at once (at %s), more than %ld", w, pr->open_peak, clock,
			      max);
	}
}

static void rule_closed_by(struct check *c, struct check_result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	enum st_closer want = !strcmp(arg, "client") ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;

	for (size_t i = 0; i < m->nconns; i++) {
		const struct st_conn *cn = m->conns[i];
		const struct st_msock *first;
		enum st_closer closer = cn->closer;
		char key[8192], ex[CHECK_TUPLE_MAX + 64];
		struct check_image im;
		struct check_like like;

		/* the side that sent the first FIN: a reset with none before it
		 * sent no FIN at all (no-resets judges it) */
		if (cn->reset) {
			if (!cn->fin_before_reset || !cn->fin_by)
				continue;
			closer = cn->fin_by == cn->client ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;
		}
		if (closer != ST_CLOSER_CLIENT && closer != ST_CLOSER_SERVER)
			continue;
		if (closer == want)
			continue;
		first = closer == ST_CLOSER_CLIENT ? cn->client : cn->server;
		/* every connection of a server, each closed the wrong way round:
		 * one line */
		if (first)
			check_image_of(c, first->pid, first->pkey, st_msock_maker_image(c->sh.model, first), &im);
		else
			snprintf(im.key, sizeof(im.key), "?"), im.words = NULL;
		snprintf(key, sizeof(key), "%d\036%d\036%s\036%s", closer, cn->reset, im.key, cn->saddr);
		snprintf(ex, sizeof(ex), "pid %" PRId64 " %s -> %s", first ? first->pid : -1,
			 cn->caddr[0] ? show_esc(cn->caddr) : "?", cn->saddr[0] ? show_esc(cn->saddr) : "?");
		like = (struct check_like){ key, "such connections", im.words, first ? first->pkey : -1, ex, false };
		check_finding(res, &like, "connection %s -> %s: the %s closed first (pid %" PRId64 "), expected the %s%s",
			      cn->caddr[0] ? show_esc(cn->caddr) : "?", cn->saddr[0] ? show_esc(cn->saddr) : "?",
			      closer == ST_CLOSER_CLIENT ? "client" : "server", first ? first->pid : -1,
			      want == ST_CLOSER_CLIENT ? "client" : "server",
			      closer == ST_CLOSER_SERVER && !cn->reset ? " (the server keeps TIME_WAIT for each connection)" :
									 "");
	}
}

/* ---- the table ----------------------------------------------------------- */

struct check_rule {
	const char *name;
	void (*fn)(struct check *, struct check_result *, const char *);
	enum { NO_ARG, COUNT_ARG, SIDE_ARG } arg;	/* the value after '=' */
	bool by_default;	/* checked when no rule is asked for */
};

static const struct check_rule rules[] = {
	{ "no-leaks", rule_no_leaks, NO_ARG, true },
	{ "reuseaddr", rule_reuseaddr, NO_ARG, true },
	{ "no-eaddrinuse", rule_no_eaddrinuse, NO_ARG, true },
	{ "handshakes", rule_handshakes, NO_ARG, true },
	{ "no-resets", rule_no_resets, NO_ARG, true },
	{ "max-time-wait", rule_max_time_wait, COUNT_ARG, false },
	{ "max-open", rule_max_open, COUNT_ARG, false },
	{ "closed-by", rule_closed_by, SIDE_ARG, false },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* ---- the rules asked for -------------------------------------------------- */

/* room for one more rule in rs; false when out of memory */
static bool rules_grow(struct check_rules *rs)
{
	struct check_wanted *grown = realloc(rs->v, (rs->n + 1) * sizeof(*grown));

	if (!grown)
		return false;
	rs->v = grown;
	return true;
}

/* "max-time-wait=10" -> the rule and its argument, a count written as
 * digits without leading zeros ("max-open=03" is "max-open=3"); false
 * when unknown or wrong */
static bool parse_rule(const char *spec, struct check_wanted *w, char *why, size_t whysz)
{
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
	long v;

	for (size_t i = 0; i < NRULES; i++) {
		if (strlen(rules[i].name) != n || strncmp(rules[i].name, spec, n))
			continue;
		w->rule = &rules[i];
		w->arg = eq ? strdup(eq + 1) : NULL;
		w->label = strdup(spec);
		switch (rules[i].arg) {
		case NO_ARG:
			if (eq) {
				snprintf(why, whysz, "rule %s takes no value", rules[i].name);
				return false;
			}
			return true;
		case COUNT_ARG:
			if (!eq || !parse_count(eq + 1, &v)) {
				snprintf(why, whysz, "rule %s needs a count: %s=N", rules[i].name, rules[i].name);
				return false;
			}
			/* one spelling of one count: max-open=03 is max-open=3,
			 * judged once and named so */
			free(w->arg);
			free(w->label);
			if (asprintf(&w->arg, "%ld", v) < 0)
				w->arg = NULL;
			if (asprintf(&w->label, "%s=%ld", rules[i].name, v) < 0)
				w->label = NULL;
			return true;
		case SIDE_ARG:
			if (!eq || (strcmp(eq + 1, "client") && strcmp(eq + 1, "server"))) {
				snprintf(why, whysz, "rule %s needs a side: %s=client or %s=server", rules[i].name,
					 rules[i].name, rules[i].name);
				return false;
			}
			return true;
		}
	}
	snprintf(why, whysz, "unknown rule '%s' (no-leaks, reuseaddr, no-eaddrinuse, handshakes, "
		 "no-resets, max-time-wait=N, max-open=N, closed-by=client|server, all)", spec);
	return false;
}

/* Is the rule of this label (its spec: "no-leaks", "max-open=3") asked
 * for already? */
static bool rules_have(const struct check_rules *rs, const char *label)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].label && !strcmp(rs->v[i].label, label))
			return true;
	return false;
}

int check_rules_add(struct check_rules *rs, const char *spec, char *why, size_t whysz)
{
	if (!strcmp(spec, "all")) {
		for (size_t i = 0; i < NRULES; i++) {
			if (rules[i].arg != NO_ARG || rules_have(rs, rules[i].name))
				continue;
			if (!rules_grow(rs))
				return -2;
			rs->v[rs->n++] = (struct check_wanted){ &rules[i], NULL, strdup(rules[i].name) };
		}
		return 0;
	}
	if (!rules_grow(rs))
		return -2;
	rs->v[rs->n] = (struct check_wanted){ NULL, NULL, NULL };
	if (!parse_rule(spec, &rs->v[rs->n], why, whysz)) {
		free(rs->v[rs->n].arg);
		free(rs->v[rs->n].label);
		return -1;
	}
	if (!rs->v[rs->n].label || (rs->v[rs->n].rule->arg != NO_ARG && !rs->v[rs->n].arg)) {
		free(rs->v[rs->n].arg);	/* out of memory */
		free(rs->v[rs->n].label);
		return -2;
	}
	if (rules_have(rs, rs->v[rs->n].label)) {	/* given twice: judged once */
		free(rs->v[rs->n].arg);
		free(rs->v[rs->n].label);
		return 0;
	}
	rs->n++;
	return 0;
}

int check_rules_add_defaults(struct check_rules *rs)
{
	for (size_t i = 0; i < NRULES; i++) {
		if (!rules[i].by_default)
			continue;
		if (!rules_grow(rs))
			return -2;
		rs->v[rs->n++] = (struct check_wanted){ &rules[i], NULL, strdup(rules[i].name) };
	}
	return 0;
}

void check_rules_run(struct check *c, const struct check_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		double t0 = check_elapsed(c);

		rs->v[i].rule->fn(c, check_result_new(c, rs->v[i].label), rs->v[i].arg);
		check_result_done(&c->results[c->nresults - 1]);
		c->results[c->nresults - 1].seconds = check_elapsed(c) - t0;
	}
}

void check_rules_free(struct check_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].arg);
		free(rs->v[i].label);
	}
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}
