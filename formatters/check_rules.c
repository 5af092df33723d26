/* SPDX-License-Identifier: MIT */
/* check_rules.c - the rules of `socktrace check` (see check.h): no-leaks,
 * reuseaddr, no-eaddrinuse, handshakes, no-resets, max-time-wait=N
 * (check_tw.c), max-open=N, closed-by=client|server.
 *
 * Owns: what each rule asks of the model and the trace, the sentence of
 * each violation (what broke, where, and what to do about it), the table
 * of rules and the spelling of a rule asked for ("max-open=10", "all").
 * Each rule judges a socket, a connection or an event at a time, so that
 * a model that lets go of what has ended (st_model_retiring) can be
 * judged as it goes (check_rules_sock ...); what outlives them is
 * copied.  Reads the model only; never prints (the reports do), never parses a
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

/* s, not leaked, counted when a process a signal killed held it (no-leaks
 * says how many such it did not judge, and the signal of the last) */
static void killed_sock(const struct st_model *m, struct check_wanted *wt, const struct st_msock *s)
{
	const struct st_proc *dead = NULL;
	bool by_death = s->end == ST_END_KILLED;
	const char *sig = NULL;

	/* a copy a killed process held, whether or not its death was the
	 * socket's end (the order of the ends is not a verdict) */
	for (size_t k = 0; k < s->nended && !by_death; k++)
		if (s->holds[k].how == ST_END_KILLED) {
			by_death = true;
			dead = st_model_proc_key(m, s->holds[k].pkey);
		}
	if (!by_death)
		return;
	wt->killed++;
	if (s->end == ST_END_KILLED && s->end_rec && s->end_rec->ev.signal)
		sig = s->end_rec->ev.signal;
	else if (dead && dead->end && dead->end->ev.signal)
		sig = dead->end->ev.signal;
	if (sig)	/* a copy: the record may go before the end */
		snprintf(wt->sig, sizeof(wt->sig), "%s", sig);
}

static void leaks_sock(struct check *c, struct check_wanted *wt, struct check_result *res, const struct st_msock *s)
{
	const struct st_model *m = c->sh.model;

	{
		char key[12288], place[2048], end[ST_ADDR_MAX + 16], w[256], t[CHECK_TUPLE_MAX], st[2048], ex[CHECK_TUPLE_MAX + 64];
		char others[512], kind[256];
		int64_t lk = leaker_key(s);
		bool elsewhere = lk >= 0 && lk != s->pkey;
		struct check_image holder, maker;
		struct check_like like;
		const char *last;

		/* a socket a signal's death ended is not judged (check says how many);
		 * one a process inherited from the start of the trace is not its to close */
		if (!st_msock_leaked(s)) {
			killed_sock(m, wt, s);
			return;
		}
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
}

/* the note of the sockets killed_sock counted, if any */
static void leaks_end(struct check *c, struct check_wanted *wt, struct check_result *res)
{
	(void)res;
	if (wt->killed)
		check_note(c, "no-leaks: %zu socket%s ended with a process a signal killed (%s): "
			   "not judged as leak%s", wt->killed, wt->killed == 1 ? "" : "s",
			   wt->sig[0] ? show_esc(wt->sig) : "?", wt->killed == 1 ? "" : "s");
}

static void reuseaddr_sock(struct check *c, struct check_wanted *wt, struct check_result *res,
			   const struct st_msock *s)
{
	(void)wt;
	{
		const struct st_rec *at = s->bind ? s->bind : s->listen;
		char w[256], t[CHECK_TUPLE_MAX], key[8192], ex[CHECK_TUPLE_MAX + 64], kind[256];
		struct check_image im;
		bool late;
		struct check_like like;

		if (!is_listener(s) || !st_msock_is_tcp(s) || !at || !at->ev.has_opts || at->ev.opts.reuseaddr)
			return;
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

/* a bind that failed with EADDRINUSE: no-eaddrinuse's finding */
static bool eaddrinuse_wants(const struct st_rec *r)
{
	return r->ev.call == ST_CALL_bind && r->ev.err && !strcmp(r->ev.err, "EADDRINUSE");
}

static void eaddrinuse_rec(struct check *c, struct check_wanted *wt, struct check_result *res,
			   const struct st_rec *r)
{
	(void)wt;
	{
		const struct st_event *ev = &r->ev;
		char w[256], held[1024] = "", key[8192], ex[64], kind[128], of[160] = "";
		const struct st_msock *s = r->sock;
		size_t k = 0;
		struct check_image im;
		struct check_like like;

		if (ev->call != ST_CALL_bind || !ev->err || strcmp(ev->err, "EADDRINUSE"))
			return;
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
		check_image_of(c, ev->pid, r->pkey,
			 st_proc_image_at(st_model_proc_key(c->sh.model, r->pkey), r), &im);
		snprintf(key, sizeof(key), "%s\036%s/%s/%s\036%s\036%s", im.key, ev->family ? ev->family : "",
			 ev->type ? ev->type : "", ev->proto ? ev->proto : "", ev->addr, verdict_words(ev));
		snprintf(ex, sizeof(ex), "pid %" PRId64 " fd %d", ev->pid, ev->fd);
		like = (struct check_like){ key, "such binds failed", im.words, r->pkey, ex, false };
		/* a TCP bind is the usual one; any other says its kind (a udp
		 * and a tcp bind of one port are two findings) */
		if (s && !st_msock_is_tcp(s))
			snprintf(of, sizeof(of), " of a %s socket", show_esc(check_kind(s, kind, sizeof(kind))));
		check_finding(res, &like, "%s: bind(%d, %s)%s failed with EADDRINUSE%s%s",
			      check_who_rec(c, r, w, sizeof(w)), ev->fd,
			      ev->addr[0] ? show_esc(ev->addr) : "?", of, held, verdict_words(ev));
	}
}

static void handshakes_sock(struct check *c, struct check_wanted *wt, struct check_result *res,
			    const struct st_msock *s)
{
	(void)wt;
	{
		char w[256], t[CHECK_TUPLE_MAX], st[2048], key[8192], place[2048], ex[CHECK_TUPLE_MAX + 64];
		const char *to;
		struct check_image im;
		struct check_like like;
		int how;

		if (!s->connect || !st_msock_is_tcp(s))
			return;
		how = s->conn && s->conn->self ? 1 : s->connect_failed ? 2 : !s->conn || !s->conn->established ? 3 : 0;
		if (!how)
			return;
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

static void resets_sock(struct check *c, struct check_wanted *wt, struct check_result *res, const struct st_msock *s)
{
	(void)wt;
	{
		const char *why;
		char w[256], t[CHECK_TUPLE_MAX], key[8192], ex[CHECK_TUPLE_MAX + 64], end[ST_ADDR_MAX + 16], kind[256];
		struct check_image im;
		struct check_like like;

		if (!s->close || !s->close->ev.reset_known || !s->close->ev.reset)
			return;
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

/* Each process's peak of sockets open at once (st_proc.open_peak): the
 * sockets its own descriptors named, each once; a copy it closed stops
 * counting there even while a child still holds the socket, and a child
 * counts what it inherited from its fork on. */
static void max_open_end(struct check *c, struct check_wanted *wt, struct check_result *res)
{
	const struct st_model *m = c->sh.model;
	const char *arg = wt->arg;
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

static void closed_by_conn(struct check *c, struct check_wanted *wt, struct check_result *res,
			   const struct st_conn *cn)
{
	enum st_closer want = !strcmp(wt->arg, "client") ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;

	{
		const struct st_msock *first;
		enum st_closer closer = cn->closer;
		char key[8192], ex[CHECK_TUPLE_MAX + 64];
		struct check_image im;
		struct check_like like;

		/* the side that sent the first FIN: a reset with none before it
		 * sent no FIN at all (no-resets judges it) */
		if (cn->reset) {
			if (!cn->fin_before_reset || !cn->fin_by)
				return;
			closer = cn->fin_by == cn->client ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;
		}
		/* a socketpair's two ends are no client and server */
		if ((closer != ST_CLOSER_CLIENT && closer != ST_CLOSER_SERVER) || cn->pair)
			return;
		if (closer == want)
			return;
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
			      closer == ST_CLOSER_SERVER && !cn->reset && !cn->is_unix ?
			      " (the server keeps TIME_WAIT for each connection)" :
									 "");
	}
}

/* ---- the table ----------------------------------------------------------- */

struct check_rule {
	const char *name;
	/* what the rule judges: each socket once (as it retires, or at the
	 * end), each connection once, each event once (as the model is fed,
	 * in time order), then what only the end tells (the processes, the
	 * rule's notes); NULL none */
	void (*sock)(struct check *, struct check_wanted *, struct check_result *, const struct st_msock *);
	void (*conn)(struct check *, struct check_wanted *, struct check_result *, const struct st_conn *);
	void (*rec)(struct check *, struct check_wanted *, struct check_result *, const struct st_rec *);
	/* the events rec judges, NULL every one.  A retiring model's: judged
	 * with the socket they are of (st_rec.sock) as it goes, in its
	 * order, or at the end in time order; those of no socket at the end */
	bool (*wants)(const struct st_rec *);
	void (*end)(struct check *, struct check_wanted *, struct check_result *);
	enum { NO_ARG, COUNT_ARG, SIDE_ARG } arg;	/* the value after '=' */
	bool by_default;	/* checked when no rule is asked for */
	/* each event as a retiring model is fed it (check_rules_fed), for
	 * what waits on it (max-time-wait: a process's exit); NULL none */
	void (*fed)(struct check *, struct check_wanted *, const struct st_rec *);
};

static const struct check_rule rules[] = {
	{ "no-leaks", leaks_sock, NULL, NULL, NULL, leaks_end, NO_ARG, true, NULL },
	{ "reuseaddr", reuseaddr_sock, NULL, NULL, NULL, NULL, NO_ARG, true, NULL },
	{ "no-eaddrinuse", NULL, NULL, eaddrinuse_rec, eaddrinuse_wants, NULL, NO_ARG, true, NULL },
	{ "handshakes", handshakes_sock, NULL, NULL, NULL, NULL, NO_ARG, true, NULL },
	{ "no-resets", resets_sock, NULL, NULL, NULL, NULL, NO_ARG, true, NULL },
	{ "max-time-wait", check_tw_sock, NULL, NULL, NULL, check_tw_end, COUNT_ARG, false, check_tw_fed },
	{ "max-open", NULL, NULL, NULL, NULL, max_open_end, COUNT_ARG, false, NULL },
	{ "closed-by", NULL, closed_by_conn, NULL, NULL, NULL, SIDE_ARG, false, NULL },
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
			rs->v[rs->n++] = (struct check_wanted){ .rule = &rules[i], .label = strdup(rules[i].name) };
		}
		return 0;
	}
	if (!rules_grow(rs))
		return -2;
	rs->v[rs->n] = (struct check_wanted){ .rule = NULL };
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
		rs->v[rs->n++] = (struct check_wanted){ .rule = &rules[i], .label = strdup(rules[i].name) };
	}
	return 0;
}

void check_rules_begin(struct check *c, struct check_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		rs->v[i].result = c->nresults;
		rs->v[i].killed = 0;
		rs->v[i].sig[0] = '\0';
		rs->v[i].seconds = 0;
		check_tw_free(rs->v[i].tw);
		rs->v[i].tw = NULL;
		check_result_new(c, rs->v[i].label);
	}
}

/* s judged by each rule that judges sockets */
static void judge_sock(struct check *c, struct check_rules *rs, const struct st_msock *s)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].rule->sock) {
			double t0 = check_elapsed(c);

			rs->v[i].rule->sock(c, &rs->v[i], &c->results[rs->v[i].result], s);
			rs->v[i].seconds += check_elapsed(c) - t0;
		}
}

/* r judged by each rule that wants it (all but those that judge no event) */
static void judge_rec(struct check *c, struct check_rules *rs, const struct st_rec *r, bool wanted_only)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].rule->rec && (!wanted_only || !rs->v[i].rule->wants || rs->v[i].rule->wants(r))) {
			double t0 = check_elapsed(c);

			rs->v[i].rule->rec(c, &rs->v[i], &c->results[rs->v[i].result], r);
			rs->v[i].seconds += check_elapsed(c) - t0;
		}
}

bool check_rules_want(const struct check_rules *rs, const struct st_rec *r)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].rule->rec && (!rs->v[i].rule->wants || rs->v[i].rule->wants(r)))
			return true;
	return false;
}

void check_rules_sock(struct check *c, struct check_rules *rs, const struct st_msock *s)
{
	judge_sock(c, rs, s);
	for (size_t k = 0; k < s->nevs; k++)
		if (s->evs[k]->sock == s && check_rules_want(rs, s->evs[k]))
			judge_rec(c, rs, s->evs[k], true);
}

void check_rules_fed(struct check *c, struct check_rules *rs, const struct st_rec *r)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].rule->fed) {
			double t0 = check_elapsed(c);

			rs->v[i].rule->fed(c, &rs->v[i], r);
			rs->v[i].seconds += check_elapsed(c) - t0;
		}
}

void check_rules_conn(struct check *c, struct check_rules *rs, const struct st_conn *cn)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].rule->conn) {
			double t0 = check_elapsed(c);

			rs->v[i].rule->conn(c, &rs->v[i], &c->results[rs->v[i].result], cn);
			rs->v[i].seconds += check_elapsed(c) - t0;
		}
}

static int by_time(const void *a, const void *b)
{
	const struct st_rec *x = *(const struct st_rec *const *)a, *y = *(const struct st_rec *const *)b;
	int64_t tx = st_rec_effect_us(x), ty = st_rec_effect_us(y);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int check_rules_held(struct check *c, struct check_rules *rs, const struct st_rec *const *alone, size_t nalone)
{
	const struct st_model *m = c->sh.model;
	const struct st_rec **v;
	size_t n = nalone, k = 0;

	for (size_t i = 0; i < m->nsocks; i++)
		judge_sock(c, rs, m->socks[i]);
	for (size_t i = 0; i < m->nconns; i++)
		check_rules_conn(c, rs, m->conns[i]);
	/* the events the rules judge, in time order as in a whole trace */
	for (size_t i = 0; i < m->nsocks; i++)
		for (size_t j = 0; j < m->socks[i]->nevs; j++)
			n += m->socks[i]->evs[j]->sock == m->socks[i] && check_rules_want(rs, m->socks[i]->evs[j]);
	if (!(v = malloc((n ? n : 1) * sizeof(*v))))
		return -1;
	for (size_t i = 0; i < m->nsocks; i++)
		for (size_t j = 0; j < m->socks[i]->nevs; j++)
			if (m->socks[i]->evs[j]->sock == m->socks[i] && check_rules_want(rs, m->socks[i]->evs[j]))
				v[k++] = m->socks[i]->evs[j];
	for (size_t i = 0; i < nalone; i++)
		v[k++] = alone[i];
	if (k > 1)
		qsort(v, k, sizeof(*v), by_time);
	for (size_t i = 0; i < k; i++)
		judge_rec(c, rs, v[i], true);
	free(v);
	return 0;
}

void check_rules_end(struct check *c, struct check_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct check_result *res = &c->results[rs->v[i].result];
		double t0 = check_elapsed(c);

		if (rs->v[i].rule->end)
			rs->v[i].rule->end(c, &rs->v[i], res);
		check_result_done(res);
		res->seconds = rs->v[i].seconds + check_elapsed(c) - t0;
	}
}

void check_rules_free(struct check_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].arg);
		free(rs->v[i].label);
		check_tw_free(rs->v[i].tw);
	}
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}
