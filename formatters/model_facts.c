/* SPDX-License-Identifier: MIT */
/* model_facts.c - the small facts about the model's sockets and addresses
 * the formats and rules ask for (see model.h): an address normalized, its
 * port, a socket's kind, its last known ends, its teardown, whether a
 * state is one only a connection reaches, how its life ended in words,
 * whether it listened, whether it leaked and which processes leaked it,
 * which program image was running at an event and which made a socket,
 * the data bytes an end moved.
 *
 * Owns: nothing; reads a built model.  Never changes it, never prints.
 */
#include "model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- images ------------------------------------------------------------ */

const struct st_rec *st_proc_image_at(const struct st_proc *p, const struct st_rec *r)
{
	if (!p || !p->images)
		return p ? p->start : NULL;
	if (!r || r->pkey != p->key)
		return p->start;
	for (int i = p->images; i-- > 1;)
		if (p->starts[i] == r || p->starts[i]->ev.ts_us <= r->ev.ts_us)
			return p->starts[i];
	return p->starts[0];
}

const struct st_rec *st_proc_image_at_us(const struct st_proc *p, int64_t ts_us)
{
	if (!p || !p->images || !ts_us)
		return p ? p->start : NULL;
	for (int i = p->images; i-- > 1;)
		if (p->starts[i]->ev.ts_us <= ts_us)
			return p->starts[i];
	return p->starts[0];
}

const struct st_rec *st_msock_maker_image(const struct st_model *m, const struct st_msock *s)
{
	const struct st_rec *at = s->made;

	if (!at && s->nevs && s->evs[0]->pkey == s->pkey)
		at = s->evs[0];	/* first seen there (inherited, received) */
	return st_proc_image_at(st_model_proc_key(m, s->pkey), at);
}

/* ---- addresses -------------------------------------------------------- */

void st_addr_normalize(const char *in, char out[ST_ADDR_MAX])
{
	static const char mapped[] = "[::ffff:";
	const char *end;

	if (!strncmp(in, mapped, sizeof(mapped) - 1) && (end = strchr(in, ']')) &&
	    memchr(in + sizeof(mapped) - 1, '.', (size_t)(end - in))) {
		size_t n = (size_t)(end - in) - (sizeof(mapped) - 1);
		memcpy(out, in + sizeof(mapped) - 1, n);
		snprintf(out + n, ST_ADDR_MAX - n, "%s", end + 1);
		return;
	}
	snprintf(out, ST_ADDR_MAX, "%s", in);
}

int st_addr_port(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (!colon || addr[0] == '/' || addr[0] == '@' || !colon[1])
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 0 || p > 65535)
		return -1;
	return (int)p;
}

const char *st_msock_kind(const struct st_msock *s)
{
	if (s->proto)
		return s->proto;
	if (s->family && !strcmp(s->family, "AF_UNIX"))
		return "unix";
	if (s->family && !strncmp(s->family, "AF_", 3))
		return s->family + 3;
	return "socket";
}

bool st_msock_is_tcp(const struct st_msock *s)
{
	if (s->proto)
		return !strcmp(s->proto, "tcp") || !strcmp(s->proto, "mptcp");
	return s->type && !strcmp(s->type, "SOCK_STREAM") && s->family &&
	       (!strcmp(s->family, "AF_INET") || !strcmp(s->family, "AF_INET6"));
}

const char *st_msock_local(const struct st_msock *s)
{
	if (s->local[0])
		return s->local;
	return s->bind ? s->bind->ev.addr : "";
}

const char *st_msock_remote(const struct st_msock *s)
{
	if (s->remote[0])
		return s->remote;
	return s->connect ? s->connect->ev.addr : "";
}

int64_t st_rec_end_us(const struct st_rec *r)
{
	return r->ev.ts_us + (r->ev.dur_ns > 0 ? r->ev.dur_ns / 1000 : 0);
}

const struct st_rec *st_msock_teardown(const struct st_msock *s)
{
	if (s->shutdown && (!s->close || s->shutdown->ev.ts_us <= s->close->ev.ts_us))
		return s->shutdown;
	return s->close;
}

bool st_state_connected(const char *st)
{
	static const char *const states[] = { "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT1", "FIN_WAIT2",
					      "CLOSING", "LAST_ACK", "TIME_WAIT" };

	for (size_t i = 0; st && i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(st, states[i]))
			return true;
	return false;
}

bool st_msock_listening(const struct st_msock *s)
{
	if (s->listen || s->accepted || s->told_listening)
		return true;
	if (s->final_state && !strcmp(s->final_state, "LISTEN"))
		return true;
	for (size_t i = 0; i < s->nevs; i++) {
		const struct st_event *ev = &s->evs[i]->ev;
		if (s->evs[i]->sock == s && ((ev->state && !strcmp(ev->state, "LISTEN")) ||
					     (ev->state_before && !strcmp(ev->state_before, "LISTEN"))))
			return true;
	}
	return false;
}

/* Did this hold end with its process's exit, not handed over? */
static bool hold_leaked(const struct st_hold *h)
{
	return h->how == ST_END_EXIT && !h->handed;
}

bool st_msock_leaked(const struct st_msock *s)
{
	if (s->inherited && !s->made)
		return false;	/* held from before the trace: not the process's to close */
	for (size_t i = 0; i < s->nended; i++)
		if (hold_leaked(&s->holds[i]))
			return true;
	return s->end == ST_END_EXIT && !s->handed;
}

size_t st_msock_leakers(const struct st_msock *s, const struct st_hold **out, size_t max)
{
	size_t n = 0;
	uint64_t after = 0;

	if (!st_msock_leaked(s))
		return 0;
	/* in the order the holds began (fork order), never the order of the
	 * exits: the same program names the same processes in every run */
	for (;;) {
		const struct st_hold *next = NULL;
		for (size_t i = 0; i < s->nended; i++)
			if (hold_leaked(&s->holds[i]) && s->holds[i].from_n > after &&
			    (!next || s->holds[i].from_n < next->from_n))
				next = &s->holds[i];
		if (!next)
			return n;
		if (n < max)
			out[n] = next;
		n++;
		after = next->from_n;
	}
}

int64_t st_msock_leaker(const struct st_msock *s)
{
	const struct st_hold *h[1];

	if (st_msock_leakers(s, h, 1))
		return h[0]->pkey & ST_PID_MASK;
	return st_msock_leaked(s) ? s->end_pid : -1;
}

/* Did the peer's FIN reach this end before the event ev? */
static bool fin_received(const struct st_event *ev)
{
	const char *st = ev->state_before ? ev->state_before : ev->state;

	return st && (!strcmp(st, "CLOSE_WAIT") || !strcmp(st, "LAST_ACK") || !strcmp(st, "CLOSING") ||
		      !strcmp(st, "TIME_WAIT"));
}

/* Was the state before ev (its state when there is no before) st? */
static bool closed_in(const struct st_event *ev, const char *st)
{
	const char *b = ev->state_before ? ev->state_before : ev->state;

	return b && !strcmp(b, st);
}

static uint64_t data_sent(const struct st_event *ev)
{
	const struct st_tcp *t = &ev->tcp;

	/* bytes_acked counts our FIN once the peer acked it */
	return t->bytes_acked && t->bytes_acked < t->bytes_sent ? t->bytes_acked : t->bytes_sent;
}

bool st_msock_data(const struct st_msock *s, const struct st_rec *t, uint64_t *sent, uint64_t *received)
{
	const struct st_msock *o = NULL;
	uint64_t r;

	*sent = *received = 0;
	if (!t || !t->ev.has_tcp)
		return false;
	*sent = data_sent(&t->ev);
	r = t->ev.tcp.bytes_received;
	if (s && s->conn)
		o = s->conn->client == s ? s->conn->server : s->conn->server == s ? s->conn->client : NULL;
	/* the state tells; else (CLOSE: the kernel moved the connection to
	 * its TIME_WAIT, or a reset ended it) the kernel's TIME_WAIT for this
	 * end at exit does (only both FINs lead there), or the other end's
	 * count */
	if (r && (fin_received(&t->ev) || (s && t == s->close && closed_in(&t->ev, "CLOSE") && s->final_state &&
					   !strcmp(s->final_state, "TIME_WAIT")) ||
		  (o && o->tcp_final && o->tcp_rec && r == data_sent(&o->tcp_rec->ev) + 1)))
		r--;
	*received = r;
	return true;
}

const char *st_msock_end_words(const struct st_msock *s, char *buf, size_t n)
{
	const struct st_rec *r = s->end_rec;

	switch (s->end) {
	case ST_END_CLOSED:
		return "closed";
	case ST_END_EXEC:
		return "closed by exec (close-on-exec)";
	case ST_END_UNSEEN:
		snprintf(buf, n, "closed out of sight (noticed at %s())",
			 r && r->ev.noticed ? r->ev.noticed : "?");
		return buf;
	case ST_END_EXIT:
		return r && r->ev.call == ST_CALL_end && r->ev.by ?
			       "held by its process when it ended" : "held by its process when it exited";
	case ST_END_KILLED:
		snprintf(buf, n, "held by its process when %s killed it",
			 r && r->ev.signal ? r->ev.signal : "a signal");
		return buf;
	case ST_END_ELSEWHERE:
		return "closed here, still held by another process";
	case ST_END_UNTRACED:
		snprintf(buf, n, "held by pid %" PRId64 " when it ended, in a program the trace does not "
			 "follow: its fate unknown", s->end_pid);
		return buf;
	case ST_END_OPEN:
		break;
	}
	return "open at the end of the trace";
}
