/* SPDX-License-Identifier: MIT */
/* fmt_common.c - what the formats of `show` (and the reports of `check`)
 * share (see show.h).
 *
 * Owns: the words for times of day, relative times, durations and sizes,
 * the command line of a process (of the image that made an event or a
 * socket, or of its last two images), colours, and the --pid/--port filters on
 * sockets, connections and events.  Each helper writes into the buffer it
 * is handed or answers yes or no: none prints, reads a file, parses a
 * command line or exits.
 */
#include "show.h"
#include "buf.h"

#include <inttypes.h>
#include <string.h>

const char *show_c(const struct show *sh, const char *code)
{
	return sh->color ? code : "";
}

void show_clock(const struct show *sh, char *buf, size_t n, int64_t ts_us)
{
	int64_t s = ts_us / 1000000 + (sh->utc ? 0 : sh->tz_offset);
	int64_t day = ((s % 86400) + 86400) % 86400;

	snprintf(buf, n, "%02d:%02d:%02d.%06d", (int)(day / 3600), (int)(day / 60 % 60),
		 (int)(day % 60), (int)(((ts_us % 1000000) + 1000000) % 1000000));
}

void show_reltime(const struct show *sh, char *buf, size_t n, int64_t ts_us)
{
	int64_t d = ts_us - sh->model->t_first;

	snprintf(buf, n, "%s%" PRId64 ".%06" PRId64 "s", d < 0 ? "-" : "+", (d < 0 ? -d : d) / 1000000,
		 (d < 0 ? -d : d) % 1000000);
}

void show_dur(char *buf, size_t n, int64_t us)
{
	if (us < 0)
		snprintf(buf, n, "?");
	else if (us < 1000)
		snprintf(buf, n, "%" PRId64 "us", us);
	else if (us < 1000000)
		snprintf(buf, n, "%.3gms", (double)us / 1e3);
	else
		snprintf(buf, n, "%.3fs", (double)us / 1e6);
}

void show_bytes(char *buf, size_t n, uint64_t bytes)
{
	if (bytes < 1024)
		snprintf(buf, n, "%" PRIu64 " B", bytes);
	else if (bytes < 1024 * 1024)
		snprintf(buf, n, "%.1f KiB", (double)bytes / 1024);
	else
		snprintf(buf, n, "%.1f MiB", (double)bytes / (1024 * 1024));
}

void show_timer(char *buf, size_t n, int64_t ms)
{
	struct st_buf b;

	st_buf_init(&b, buf, n);
	st_buf_timer(&b, ms);
	st_buf_finish(&b);
}

const char *show_esc(const char *s)
{
	static char slots[SHOW_ESC_SLOTS][4096];
	static unsigned next;
	const unsigned char *c;
	struct st_buf b;
	char *out;

	if (!s)
		return NULL;
	for (c = (const unsigned char *)s; *c >= 0x20 && *c < 0x7f && *c != '\\'; c++)
		;
	if (!*c)
		return s;	/* printable ASCII: the common case, as it is */
	out = slots[next++ % SHOW_ESC_SLOTS];
	st_buf_init(&b, out, sizeof(slots[0]));
	st_buf_esc(&b, s, 0);
	if (b.len >= sizeof(slots[0])) {
		b.len = show_cut(out, sizeof(slots[0]) - 4);
		ST_PUTL(&b, "...");
	}
	st_buf_finish(&b);
	return strcmp(out, s) ? out : s;
}

size_t show_cut(const char *s, size_t max)
{
	size_t i = 0;

	while (s[i]) {
		size_t n = 1;
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			n = s[i + 1] == 'x' ? 4 : s[i + 1] == 'u' ? 6 : 2;
		else if (c >= 0xf0)
			n = 4;
		else if (c >= 0xe0)
			n = 3;
		else if (c >= 0xc0)
			n = 2;
		if (i + n > max)
			break;
		for (size_t k = 1; k < n; k++)
			if (!s[i + k])
				return i;
		i += n;
	}
	return i;
}

/* an argument of a command line in a label: a newline, tab or CR (of
 * `python -c CODE`) as a space, the rest escaped */
static void comm_word(struct st_buf *b, const char *a)
{
	for (;;) {
		size_t n = strcspn(a, "\n\t\r");

		st_buf_escn(b, a, n, 0);
		if (!a[n])
			break;
		st_buf_putc(b, ' ');
		a += n + 1;
	}
}

/* the command line of the image that start began */
static const char *start_comm(const struct st_rec *start, char *buf, size_t n)
{
	const struct st_event *ev;
	struct st_buf b;

	if (!start || !n)
		return NULL;
	ev = &start->ev;
	st_buf_init(&b, buf, n);
	for (int i = 0; i < ev->argc && b.len < n; i++) {
		const char *a = ev->argv[i];
		if (!i) {
			const char *slash = strrchr(a, '/');
			if (slash)
				a = slash + 1;
		}
		if (i)
			st_buf_putc(&b, ' ');
		comm_word(&b, a);
	}
	if (!b.len && ev->exe) {
		const char *slash = strrchr(ev->exe, '/');
		comm_word(&b, slash ? slash + 1 : ev->exe);
	}
	st_buf_finish(&b);
	if (strlen(buf) > 40)
		memcpy(buf + show_cut(buf, 37), "...", 4);
	return buf[0] ? buf : NULL;
}

const char *show_comm(const struct show *sh, int64_t pkey, char *buf, size_t n)
{
	return show_comm_at(sh, pkey, NULL, buf, n);
}

const char *show_comm_at(const struct show *sh, int64_t pkey, const struct st_rec *at, char *buf, size_t n)
{
	return start_comm(st_proc_image_at(st_model_proc_key(sh->model, pkey), at), buf, n);
}

const char *show_sock_comm(const struct show *sh, const struct st_msock *s, char *buf, size_t n)
{
	return start_comm(st_msock_maker_image(sh->model, s), buf, n);
}

const char *show_proc_comm(const struct show *sh, int64_t pkey, char *buf, size_t n)
{
	const struct st_proc *p = st_model_proc_key(sh->model, pkey);
	char one[128], prev[128] = "", last[128] = "";
	int distinct = 0;

	if (!p || !p->start || !n)
		return NULL;
	/* the last two programs it ran (a launcher's chain of wrappers before
	 * them, as pyenv's shims, would not fit a label) */
	for (int i = 0; i < p->images; i++) {
		if (!start_comm(p->starts[i], one, sizeof(one)) || !strcmp(one, last))
			continue;
		memcpy(prev, last, sizeof(prev));
		memcpy(last, one, sizeof(last));
		distinct++;
	}
	if (distinct > 2)
		snprintf(buf, n, "... -> %s -> %s", prev, last);
	else if (distinct == 2)
		snprintf(buf, n, "%s -> %s", prev, last);
	else
		snprintf(buf, n, "%s", last);
	if (strlen(buf) + 1 >= n)
		buf[show_cut(buf, n - 1)] = '\0';
	return buf[0] ? buf : NULL;
}

/* ---- filters ---------------------------------------------------------- */

static bool pid_ok(const struct show *sh, int64_t pid)
{
	if (!sh->npids)
		return true;
	for (int i = 0; i < sh->npids; i++)
		if (sh->pids[i] == pid)
			return true;
	return false;
}

/* Is port one of the --port values (want < 0), or that value (want)? */
static bool port_in_one(const struct show *sh, const char *addr, int want)
{
	int p = addr && addr[0] ? st_addr_port(addr) : -1;

	if (p < 0)
		return false;
	if (want >= 0)
		return p == want;
	for (int i = 0; i < sh->nports; i++)
		if (sh->ports[i] == p)
			return true;
	return false;
}

static bool port_in(const struct show *sh, const char *addr)
{
	return port_in_one(sh, addr, -1);
}

static bool sock_port_one(const struct show *sh, const struct st_msock *s, int want)
{
	if (!s)
		return false;
	return port_in_one(sh, s->local, want) || port_in_one(sh, s->remote, want) ||
	       (s->bind && port_in_one(sh, s->bind->ev.addr, want)) ||
	       (s->connect && port_in_one(sh, s->connect->ev.addr, want)) ||
	       (s->listener && port_in_one(sh, s->listener->local, want));
}

static bool sock_port_ok(const struct show *sh, const struct st_msock *s)
{
	return sock_port_one(sh, s, -1);
}

bool show_keep_sock(const struct show *sh, const struct st_msock *s)
{
	if (sh->npids) {
		bool any = pid_ok(sh, s->pid);
		for (size_t i = 0; !any && i < s->nevs; i++)
			any = pid_ok(sh, s->evs[i]->ev.pid);
		if (!any)
			return false;
	}
	return !sh->nports || sock_port_ok(sh, s);
}

bool show_keep_conn(const struct show *sh, const struct st_conn *c)
{
	return (c->client && show_keep_sock(sh, c->client)) ||
	       (c->server && show_keep_sock(sh, c->server));
}

void show_filters_seen(struct show *sh, const struct st_rec *r)
{
	for (int i = 0; i < sh->npids; i++)
		sh->pid_seen[i] |= sh->pids[i] == r->ev.pid;
	for (int i = 0; i < sh->nports; i++) {
		int p = sh->ports[i];
		sh->port_seen[i] |= port_in_one(sh, r->ev.local, p) || port_in_one(sh, r->ev.remote, p) ||
				    port_in_one(sh, r->ev.addr, p) || sock_port_one(sh, r->sock, p) ||
				    sock_port_one(sh, r->lsock, p);
		/* a socket the image held from its start (socket activation):
		 * its ports are in the start's list, maybe in no other event */
		for (int k = 0; k < r->ev.ninherited && !sh->port_seen[i]; k++)
			sh->port_seen[i] = port_in_one(sh, r->ev.inherited[k].local, p) ||
					   port_in_one(sh, r->ev.inherited[k].remote, p);
	}
}

bool show_keep_pid(const struct show *sh, int64_t pid)
{
	return pid_ok(sh, pid);
}

bool show_keep_rec(const struct show *sh, const struct st_rec *r)
{
	if (!pid_ok(sh, r->ev.pid))
		return false;
	if (!sh->nports)
		return true;
	return port_in(sh, r->ev.local) || port_in(sh, r->ev.remote) || port_in(sh, r->ev.addr) ||
	       sock_port_ok(sh, r->sock) || sock_port_ok(sh, r->lsock);
}

/* ---- --port as a stream ----------------------------------------------- */

/* st_rec.port_said: its socket (its listening socket) retired, and had a
 * --port value then */
#define SAID_SOCK 1u
#define SAID_SOCK_YES 2u
#define SAID_LSOCK 4u
#define SAID_LSOCK_YES 8u

/* addr has a --port value, and a port no later event of its socket takes
 * back (0: not yet bound) */
static bool port_fixed(const struct show *sh, const char *addr)
{
	return port_in(sh, addr) && st_addr_port(addr) > 0;
}

/* s has a --port value that it keeps whatever comes: its local port (the
 * kernel never moves a bound socket), a TCP socket's remote one, its
 * first connect's, a bind that worked, its listener's port */
static bool sock_port_fixed(const struct show *sh, const struct st_msock *s)
{
	return port_fixed(sh, s->local) || (st_msock_is_tcp(s) && port_fixed(sh, s->remote)) ||
	       (s->connect && port_in(sh, s->connect->ev.addr)) ||
	       (s->bind && !s->bind->ev.err && port_in(sh, s->bind->ev.addr)) ||
	       (s->listener && port_fixed(sh, s->listener->local));
}

/* s, without a --port value now, never gets one: a unix socket (its
 * addresses are paths), a TCP socket whose ports are both known (or that
 * listens), or one that ended (no descriptor names it, no message carries
 * it; its process gone on untraced a second ago: a daemon()'s child may
 * take it back).  A UDP socket's remote end may change at any call: it
 * waits for its end. */
static bool sock_port_gone(const struct st_model *m, const struct st_msock *s)
{
	if (s->family && !strcmp(s->family, "AF_UNIX"))
		return true;
	if (st_msock_is_tcp(s) && st_addr_port(s->local) > 0 && (st_addr_port(s->remote) > 0 || s->listen))
		return true;
	return s->end != ST_END_OPEN && s->end != ST_END_ELSEWHERE && s->nrefs <= 0 && s->in_flight <= 0 &&
	       (s->end != ST_END_UNTRACED || s->t_end <= m->t_last - 1000000);
}

enum show_port show_port_verdict(const struct show *sh, const struct st_model *m, const struct st_rec *r,
				 bool now)
{
	enum show_port v = SHOW_PORT_NO;

	if (!pid_ok(sh, r->ev.pid))
		return SHOW_PORT_NO;
	if (!sh->nports || port_in(sh, r->ev.local) || port_in(sh, r->ev.remote) || port_in(sh, r->ev.addr))
		return SHOW_PORT_YES;
	for (int k = 0; k < 2; k++) {
		const struct st_msock *s = k ? r->lsock : r->sock;
		unsigned said = k ? SAID_LSOCK : SAID_SOCK, yes = k ? SAID_LSOCK_YES : SAID_SOCK_YES;

		if (!s) {
			/* none, or retired: what it said then */
			if ((r->port_said & said) && (r->port_said & yes))
				return SHOW_PORT_YES;
			continue;
		}
		if (sock_port_ok(sh, s)) {
			if (now || sock_port_fixed(sh, s))
				return SHOW_PORT_YES;
			v = SHOW_PORT_WAIT;
		} else if (!now && !sock_port_gone(m, s)) {
			v = SHOW_PORT_WAIT;
		}
	}
	return v;
}

void show_port_retired(struct show *sh, const struct st_msock *s)
{
	bool ok = sock_port_ok(sh, s);

	for (size_t i = 0; i < s->nevs; i++) {
		struct st_rec *r = (struct st_rec *)s->evs[i];	/* the model's, written once */

		if (r->sock == s)
			r->port_said |= SAID_SOCK | (ok ? SAID_SOCK_YES : 0);
		if (r->lsock == s)
			r->port_said |= SAID_LSOCK | (ok ? SAID_LSOCK_YES : 0);
		show_filters_seen(sh, r);
	}
}
