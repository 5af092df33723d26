/* check.c - `socktrace check`: assertions on recorded socket lifecycles,
 * for CI.
 *
 * Owns: the rules (no-leaks, reuseaddr, no-eaddrinuse, handshakes,
 * max-time-wait=N, no-resets, max-open=N, closed-by=client|server), the
 * --expect pattern language over `show -f lifecycle` lines, and the
 * reports (one line per violation; JUnit XML; GitHub annotations).
 * Exit status: 0 every rule holds, 1 a violation, 2 unusable input or usage.
 * Reads traces only, through the reader and the model that `show` uses.
 */
#define _GNU_SOURCE
#include "formatters.h"
#include "load.h"
#include "show.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: socktrace check [--rule RULE]... [--expect PATTERN]... [--junit FILE]\n"
	"                       [--format=text|github] [--strict] [TRACE...]\n"
	"Asserts on recorded socket lifecycles (stdin when no TRACE is given).\n"
	"Rules: no-leaks, reuseaddr, no-eaddrinuse, handshakes, no-resets,\n"
	"       max-time-wait=N, max-open=N, closed-by=client|server, all.\n"
	"       Without --rule and --expect: no-leaks, reuseaddr, no-eaddrinuse,\n"
	"       handshakes, no-resets.\n"
	"  --expect PATTERN   some socket's lifecycle matches PATTERN, e.g.\n"
	"                     'tcp *:8080 socket setsockopt(SO_REUSEADDR) bind listen accept+ close'\n"
	"  --junit FILE       also write a JUnit XML report (one testcase per rule)\n"
	"  --format=github    violations as GitHub workflow annotations\n"
	"  --strict           any bad trace line is fatal\n"
	"Exit status: 0 all hold, 1 a violation, 2 unusable input or usage.\n";

/* ---- reports ----------------------------------------------------------- */

struct result {
	char *name;		/* "no-leaks", "expect: tcp *:80 ..." */
	char **lines;		/* violations */
	size_t n;
};

struct check {
	struct show sh;		/* model, trace, helpers of the formats */
	struct result *results;
	size_t nresults;
	bool github;
};

static struct result *result_new(struct check *c, const char *name)
{
	struct result *grown = realloc(c->results, (c->nresults + 1) * sizeof(*grown));

	if (!grown) {
		fprintf(stderr, "socktrace: check: out of memory\n");
		exit(2);
	}
	c->results = grown;
	grown = &c->results[c->nresults++];
	memset(grown, 0, sizeof(*grown));
	grown->name = strdup(name);
	return grown;
}

static __attribute__((format(printf, 2, 3))) void violation(struct result *r, const char *fmt, ...)
{
	va_list ap;
	char *line, **grown;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	grown = line ? realloc(r->lines, (r->n + 1) * sizeof(*grown)) : NULL;
	if (!grown) {
		fprintf(stderr, "socktrace: check: out of memory\n");
		exit(2);
	}
	r->lines = grown;
	r->lines[r->n++] = line;
}

/* "pid 4242 (curl)" */
static const char *who(struct check *c, int64_t pid, char *buf, size_t n)
{
	char comm[128];
	const char *name = show_comm(&c->sh, pid, comm, sizeof(comm));

	if (name)
		snprintf(buf, n, "pid %" PRId64 " (%s)", pid, name);
	else
		snprintf(buf, n, "pid %" PRId64, pid);
	return buf;
}

/* "tcp 127.0.0.1:41234 -> 127.0.0.1:8080" */
static const char *tuple(const struct st_msock *s, char *buf, size_t n)
{
	const char *local = s->local[0] ? s->local : s->bind && s->bind->ev.addr[0] ? s->bind->ev.addr : "";
	const char *remote = s->remote[0] ? s->remote :
			     s->connect && s->connect->ev.addr[0] ? s->connect->ev.addr : "";
	size_t k = (size_t)snprintf(buf, n, "%s", st_msock_kind(s));

	if (local[0] && k < n)
		k += (size_t)snprintf(buf + k, n - k, " %s", local);
	if (remote[0] && k < n)
		snprintf(buf + k, n - k, " -> %s", remote);
	return buf;
}

/* " at open_tcp_socket+0x15 (prog) <- leaf_entry+0x9 (prog)", or "" */
static const char *where(const struct st_rec *r, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = '\0';
	if (!r || !r->ev.nframes)
		return buf;
	for (int i = 0; i < r->ev.nframes && i < 3 && k < n; i++) {
		const struct st_frame *f = &r->ev.frames[i];
		const char *obj = f->obj ? strrchr(f->obj, '/') : NULL;

		obj = obj ? obj + 1 : f->obj ? f->obj : "?";
		if (f->sym)
			k += (size_t)snprintf(buf + k, n - k, "%s%s+0x%" PRIx64 " (%s)", i ? " <- " : " at ",
					      f->sym, f->sym_off, obj);
		else
			k += (size_t)snprintf(buf + k, n - k, "%s%s+0x%" PRIx64, i ? " <- " : " at ", obj,
					      f->off);
	}
	return buf;
}

/* ---- rules ------------------------------------------------------------- */

static bool is_listener(const struct st_msock *s)
{
	return s->listen != NULL;
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

static void rule_no_leaks(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	bool *done = calloc(m->nsocks ? m->nsocks : 1, sizeof(bool));

	(void)arg;
	for (size_t i = 0; done && i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		char key[2048], k2[2048], w[256], t[300], st[2048];
		unsigned count = 1;

		/* a process killed by a signal records no exit: its sockets are not judged */
		if (done[i] || s->inherited || s->end != ST_END_EXIT)
			continue;
		/* the same leak from a loop: one line with a count */
		stack_key(s->made, key, sizeof(key));
		for (size_t j = i + 1; j < m->nsocks; j++) {
			const struct st_msock *o = m->socks[j];
			if (done[j] || o->inherited || o->pid != s->pid || o->end != s->end ||
			    strcmp(st_msock_kind(o), st_msock_kind(s)))
				continue;
			stack_key(o->made, k2, sizeof(k2));
			if (key[0] ? strcmp(key, k2) != 0 :
				     (k2[0] || strcmp(o->remote, s->remote) ||
				      (is_listener(o) != is_listener(s)) ||
				      (o->made && s->made && o->made->ev.call != s->made->ev.call)))
				continue;
			done[j] = true;
			count++;
		}
		violation(res, "%s: %s (fd %d%s%s) made by %s()%s was never closed before exit",
			  who(c, s->pid, w, sizeof(w)), tuple(s, t, sizeof(t)), s->fd,
			  s->final_state ? ", last seen " : "", s->final_state ? s->final_state : "",
			  s->made ? st_call_name(s->made->ev.call) : "an unrecorded call", where(s->made, st, sizeof(st)));
		if (count > 1) {
			char *line = res->lines[res->n - 1], *again;
			if (asprintf(&again, "%s; %u such sockets leaked from the same place", line, count) >= 0) {
				free(line);
				res->lines[res->n - 1] = again;
			}
		}
	}
	free(done);
}

static void rule_reuseaddr(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		const struct st_rec *at = s->bind ? s->bind : s->listen;
		char w[256], t[300];

		if (!is_listener(s) || !st_msock_is_tcp(s) || !at || !at->ev.has_opts || at->ev.opts.reuseaddr)
			continue;
		violation(res,
			  "%s: %s listens without SO_REUSEADDR (fd %d): a restart while its closed "
			  "connections are in TIME_WAIT fails with EADDRINUSE; set SO_REUSEADDR before bind()",
			  who(c, s->pid, w, sizeof(w)), tuple(s, t, sizeof(t)), s->fd);
	}
}

static void rule_no_eaddrinuse(struct check *c, struct result *res, const char *arg)
{
	const struct st_trace *tr = c->sh.trace;

	(void)arg;
	for (size_t i = 0; i < tr->n; i++) {
		const struct st_event *ev = &tr->recs[i]->ev;
		char w[256], held[1024] = "";
		size_t k = 0;

		if (ev->call != ST_CALL_bind || !ev->err || strcmp(ev->err, "EADDRINUSE"))
			continue;
		for (int h = 0; h < ev->nholders && k < sizeof(held); h++)
			k += (size_t)snprintf(held + k, sizeof(held) - k, "%s%s%s%s %s", h ? ", " : "; held by ",
					      ev->holders[h].local, ev->holders[h].remote[0] ? " -> " : "",
					      ev->holders[h].remote, ev->holders[h].state ? ev->holders[h].state : "?");
		violation(res, "%s: bind(%d, %s) failed with EADDRINUSE%s%s", who(c, ev->pid, w, sizeof(w)),
			  ev->fd, ev->addr[0] ? ev->addr : "?", held,
			  !ev->has_verdict ? "" :
			  ev->verdict_reuseaddr == 1 ? "; SO_REUSEADDR would have let it succeed" :
			  ev->verdict_reuseport == 1 ? "; SO_REUSEPORT on both sockets would have let it succeed" :
						       "; neither SO_REUSEADDR nor SO_REUSEPORT would have helped");
	}
}

static void rule_handshakes(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		char w[256], t[300], st[2048];

		if (!s->connect || !st_msock_is_tcp(s))
			continue;
		if (s->connect_failed)
			violation(res, "%s: connect to %s failed with %s (fd %d)%s",
				  who(c, s->pid, w, sizeof(w)), s->connect->ev.addr[0] ? s->connect->ev.addr : "?",
				  s->connect_err ? s->connect_err : "an error", s->fd,
				  where(s->connect, st, sizeof(st)));
		else if (!s->conn || !s->conn->established)
			violation(res, "%s: %s never reached ESTABLISHED (fd %d)%s", who(c, s->pid, w, sizeof(w)),
				  tuple(s, t, sizeof(t)), s->fd, where(s->connect, st, sizeof(st)));
	}
}

static void rule_no_resets(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;

	(void)arg;
	for (size_t i = 0; i < m->nsocks; i++) {
		const struct st_msock *s = m->socks[i];
		char w[256], t[300];

		if (!s->close || !s->close->ev.reset_known || !s->close->ev.reset)
			continue;
		violation(res, "%s: %s was closed with a reset (RST) instead of a FIN (%s): the peer sees "
			  "ECONNRESET and may lose data it had not read",
			  who(c, s->pid, w, sizeof(w)), tuple(s, t, sizeof(t)),
			  s->close->ev.reset_reason ? s->close->ev.reset_reason : "reason unknown");
	}
}

static bool parse_count(const char *arg, long *out)
{
	char *end;

	if (!arg || !*arg)
		return false;
	errno = 0;
	*out = strtol(arg, &end, 10);
	return !errno && !*end && *out >= 0;
}

static void rule_max_time_wait(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	long max;
	int64_t total = 0;
	char detail[1024] = "";
	size_t k = 0;

	parse_count(arg, &max);
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
		if (tw && k < sizeof(detail))
			k += (size_t)snprintf(detail + k, sizeof(detail) - k, "%s%s: %" PRId64, k ? ", " : "",
					      who(c, p->pid, w, sizeof(w)), tw);
		total += tw;
	}
	if (total > max)
		violation(res,
			  "%" PRId64 " closed connections in TIME_WAIT at exit (%s), more than %ld: the side that "
			  "closes first keeps TIME_WAIT for 60 s; let the client close first, or reuse connections",
			  total, detail, max);
}

struct span {
	int64_t t;
	int d;
};

static int by_time(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->d - y->d;	/* closes before opens at the same instant */
}

static void rule_max_open(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	long max;

	parse_count(arg, &max);
	for (size_t p = 0; p < m->nprocs; p++) {
		int64_t pid = m->procs[p]->pid;
		struct span *sp = calloc(2 * m->nsocks + 1, sizeof(*sp));
		size_t n = 0;
		int open = 0, peak = 0;
		int64_t at = 0;
		char w[256];

		if (!sp)
			return;
		for (size_t i = 0; i < m->nsocks; i++) {
			const struct st_msock *s = m->socks[i];
			if (s->pid != pid)
				continue;
			sp[n++] = (struct span){ s->t_first, +1 };
			if (s->end == ST_END_CLOSED || s->end == ST_END_ELSEWHERE)
				sp[n++] = (struct span){ s->t_end, -1 };
		}
		qsort(sp, n, sizeof(*sp), by_time);
		for (size_t i = 0; i < n; i++) {
			open += sp[i].d;
			if (open > peak) {
				peak = open;
				at = sp[i].t;
			}
		}
		free(sp);
		if (peak > max) {
			char clock[32];
			show_clock(&c->sh, clock, sizeof(clock), at);
			violation(res, "%s: %d sockets open at once (at %s), more than %ld",
				  who(c, pid, w, sizeof(w)), peak, clock, max);
		}
	}
}

static void rule_closed_by(struct check *c, struct result *res, const char *arg)
{
	const struct st_model *m = c->sh.model;
	enum st_closer want = !strcmp(arg, "client") ? ST_CLOSER_CLIENT : ST_CLOSER_SERVER;

	for (size_t i = 0; i < m->nconns; i++) {
		const struct st_conn *cn = m->conns[i];
		const struct st_msock *first;

		if (cn->closer != ST_CLOSER_CLIENT && cn->closer != ST_CLOSER_SERVER)
			continue;
		if (cn->closer == want)
			continue;
		first = cn->closer == ST_CLOSER_CLIENT ? cn->client : cn->server;
		violation(res, "connection %s -> %s: the %s closed first (pid %" PRId64 "), expected the %s%s",
			  cn->caddr[0] ? cn->caddr : "?", cn->saddr[0] ? cn->saddr : "?",
			  cn->closer == ST_CLOSER_CLIENT ? "client" : "server", first ? first->pid : -1,
			  want == ST_CLOSER_CLIENT ? "client" : "server",
			  cn->closer == ST_CLOSER_SERVER ? " (the server keeps TIME_WAIT for each connection)" : "");
	}
}

static const struct rule {
	const char *name;
	void (*fn)(struct check *, struct result *, const char *);
	enum { NO_ARG, COUNT_ARG, SIDE_ARG } arg;
	bool by_default;
} rules[] = {
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

/* ---- --expect ----------------------------------------------------------- */

/* One step of a pattern: a word (glob) and how often it may repeat. */
struct pstep {
	char *word;
	unsigned min, max;	/* max UINT_MAX: no bound */
};

struct pattern {
	char *text;
	char *pid, *fd, *kind, *local, *remote;	/* globs, NULL any */
	struct pstep *steps;
	size_t nsteps;
};

static bool looks_like_endpoint(const char *t)
{
	return strchr(t, ':') || t[0] == '/' || t[0] == '@' || t[0] == '[' || !strcmp(t, "*");
}

/* Parses PATTERN; on error returns false with a message in why. */
static bool pattern_parse(const char *text, struct pattern *p, char *why, size_t whysz)
{
	char *copy = strdup(text), *save = NULL, *tok;
	bool kind_seen = false;

	memset(p, 0, sizeof(*p));
	p->text = strdup(text);
	if (!copy || !p->text) {
		snprintf(why, whysz, "out of memory");
		free(copy);
		return false;
	}
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		size_t len = strlen(tok);
		struct pstep st = { NULL, 1, 1 };
		struct pstep *grown;

		if (!kind_seen && !strncmp(tok, "pid=", 4)) {
			free(p->pid);	/* the last one counts */
			p->pid = strdup(tok + 4);
			continue;
		}
		if (!kind_seen && !strncmp(tok, "fd=", 3)) {
			free(p->fd);
			p->fd = strdup(tok + 3);
			continue;
		}
		if (!kind_seen) {
			p->kind = strdup(tok);
			kind_seen = true;
			continue;
		}
		if (!p->nsteps && !p->local && !p->remote && looks_like_endpoint(tok)) {
			p->local = strdup(tok);
			continue;
		}
		if (!p->nsteps && !strcmp(tok, "->")) {
			tok = strtok_r(NULL, " \t", &save);
			if (!tok) {
				snprintf(why, whysz, "'->' must be followed by the remote endpoint");
				goto bad;
			}
			free(p->remote);
			p->remote = strdup(tok);
			continue;
		}
		/* repetition: word+, word?, word*, word×N */
		{
			char *times = strstr(tok, "\xc3\x97");	/* × in UTF-8 */
			if (times) {
				char *end;
				long n = strtol(times + 2, &end, 10);
				if (times == tok || *end || n < 1 || n > 100000) {
					snprintf(why, whysz, "'%s': ×N needs a word before it and a count from 1", tok);
					goto bad;
				}
				*times = '\0';
				st.min = st.max = (unsigned)n;
			} else if (len > 1 && tok[len - 1] == '+') {
				tok[len - 1] = '\0';
				st.max = UINT_MAX;
			} else if (len > 1 && tok[len - 1] == '?') {
				tok[len - 1] = '\0';
				st.min = 0;
			} else if (len > 1 && tok[len - 1] == '*' && tok[len - 2] != '(' && tok[len - 2] != ',') {
				tok[len - 1] = '\0';
				st.min = 0;
				st.max = UINT_MAX;
			}
		}
		if (!tok[0] || strchr("+?", tok[0])) {
			snprintf(why, whysz, "'%s' is not a step", tok);
			goto bad;
		}
		st.word = strdup(tok);
		grown = realloc(p->steps, (p->nsteps + 1) * sizeof(*grown));
		if (grown)	/* the old array may be gone: keep the new one at once */
			p->steps = grown;
		if (!st.word || !grown) {
			free(st.word);
			snprintf(why, whysz, "out of memory");
			goto bad;
		}
		p->steps[p->nsteps++] = st;
	}
	free(copy);
	if (!kind_seen) {
		snprintf(why, whysz, "empty pattern: it needs at least the kind (tcp, udp, unix, *)");
		return false;
	}
	return true;
bad:
	free(copy);
	return false;
}

static void pattern_free(struct pattern *p)
{
	for (size_t i = 0; i < p->nsteps; i++)
		free(p->steps[i].word);
	free(p->steps);
	free(p->text);
	free(p->pid);
	free(p->fd);
	free(p->kind);
	free(p->local);
	free(p->remote);
}

/* A socket's steps: the lifecycle words, repeats expanded, markers apart. */
struct steps {
	char **w;
	size_t n;
	char *line;		/* the lifecycle line as `show -f lifecycle` prints it */
};

static void steps_of(struct check *c, const struct st_msock *s, struct steps *out)
{
	static char words[65536];
	char t[300];
	char *p = words, *line = NULL;

	memset(out, 0, sizeof(*out));
	show_lifecycle_words(&c->sh, s, words, sizeof(words));
	if (asprintf(&line, "pid=%" PRId64 " fd=%d %s %s", s->pid, s->fd, tuple(s, t, sizeof(t)), words) < 0)
		line = NULL;
	out->line = line;
	while (*p) {
		char *start, *times, **grown;
		unsigned rep = 1;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		if (*p == '(') {	/* a marker: "(open at exit)" */
			p = strchr(p, ')');
			p = p ? p + 1 : start + strlen(start);
			continue;
		}
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		times = strstr(start, "\xc3\x97");
		if (times) {
			rep = (unsigned)strtoul(times + 2, NULL, 10);
			*times = '\0';
		}
		grown = realloc(out->w, (out->n + rep) * sizeof(*grown));
		if (!grown)
			return;
		out->w = grown;
		for (unsigned i = 0; i < rep; i++)
			out->w[out->n++] = strdup(start);
	}
}

static void steps_free(struct steps *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->w[i]);
	free(s->w);
	free(s->line);
}

/* Does pattern word pw match lifecycle word w?  "accept" matches accept4
 * (a call matches its variants), "close" matches "close(5)", a word without
 * "@" matches it in any process. */
static bool word_match(const char *pw, const char *w)
{
	char base[256];
	enum st_call c;

	if (!fnmatch(pw, w, 0))
		return true;
	snprintf(base, sizeof(base), "%s", w);
	if (!strchr(pw, '@'))
		base[strcspn(base, "@")] = '\0';
	if (!fnmatch(pw, base, 0))
		return true;
	if (!strchr(pw, '('))
		base[strcspn(base, "(")] = '\0';
	if (!fnmatch(pw, base, 0))
		return true;
	c = st_call_lookup(base);
	if (c != ST_CALL_NONE && st_call_base(c) != c)
		return !fnmatch(pw, st_call_name(st_call_base(c)), 0);
	return false;
}

static bool match_from(const struct pattern *p, size_t pi, const struct steps *s, size_t si)
{
	const struct pstep *st;
	unsigned k;

	if (pi == p->nsteps)
		return si == s->n;
	st = &p->steps[pi];
	/* take the fewest repeats first, then more */
	for (k = 0; k < st->min; k++)
		if (si + k >= s->n || !word_match(st->word, s->w[si + k]))
			return false;
	for (;; k++) {
		if (match_from(p, pi + 1, s, si + k))
			return true;
		if (k >= st->max || si + k >= s->n || !word_match(st->word, s->w[si + k]))
			return false;
	}
}

static bool glob_ok(const char *glob, const char *s)
{
	char norm[ST_ADDR_MAX];

	if (!glob)
		return true;
	if (!fnmatch(glob, s, 0))
		return true;
	st_addr_normalize(s, norm);
	return !fnmatch(glob, norm, 0);
}

static bool sock_matches(struct check *c, const struct pattern *p, const struct st_msock *s,
			 const struct steps *st)
{
	char num[32];
	const char *local = s->local[0] ? s->local : s->bind && s->bind->ev.addr[0] ? s->bind->ev.addr : "";
	const char *remote = s->remote[0] ? s->remote :
			     s->connect && s->connect->ev.addr[0] ? s->connect->ev.addr : "";

	(void)c;
	snprintf(num, sizeof(num), "%" PRId64, s->pid);
	if (p->pid && fnmatch(p->pid, num, 0))
		return false;
	snprintf(num, sizeof(num), "%d", s->fd);
	if (p->fd && fnmatch(p->fd, num, 0))
		return false;
	if (p->kind && fnmatch(p->kind, st_msock_kind(s), 0))
		return false;
	if (!glob_ok(p->local, local) || !glob_ok(p->remote, remote))
		return false;
	return match_from(p, 0, st, 0);
}

/* how far a socket is from the pattern, to show the closest ones */
static size_t distance(const struct pattern *p, const struct st_msock *s, const struct steps *st)
{
	size_t n = p->nsteps, m = st->n, *prev, *cur, d;

	prev = calloc(m + 1, sizeof(size_t));
	cur = calloc(m + 1, sizeof(size_t));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return SIZE_MAX;
	}
	for (size_t j = 0; j <= m; j++)
		prev[j] = j;
	for (size_t i = 1; i <= n; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t sub = prev[j - 1] + !word_match(p->steps[i - 1].word, st->w[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (m + 1) * sizeof(size_t));
	}
	d = prev[m];
	free(prev);
	free(cur);
	if (p->kind && fnmatch(p->kind, st_msock_kind(s), 0))
		d += 5;
	if (!glob_ok(p->local, s->local))
		d += 3;
	if (!glob_ok(p->remote, s->remote))
		d += 3;
	return d;
}

static void expect(struct check *c, const struct pattern *p)
{
	const struct st_model *m = c->sh.model;
	char name[1024];
	struct result *res;
	struct { size_t d; size_t i; } best[3] = { { SIZE_MAX, 0 }, { SIZE_MAX, 0 }, { SIZE_MAX, 0 } };
	bool found = false;

	snprintf(name, sizeof(name), "expect: %s", p->text);
	res = result_new(c, name);
	for (size_t i = 0; i < m->nsocks && !found; i++) {
		struct steps st;
		steps_of(c, m->socks[i], &st);
		if (sock_matches(c, p, m->socks[i], &st)) {
			found = true;
		} else {
			size_t d = distance(p, m->socks[i], &st);
			for (int k = 0; k < 3; k++) {
				if (d < best[k].d) {
					memmove(&best[k + 1], &best[k], (size_t)(2 - k) * sizeof(best[0]));
					best[k].d = d;
					best[k].i = i;
					break;
				}
			}
		}
		steps_free(&st);
	}
	if (found)
		return;
	if (best[0].d == SIZE_MAX) {
		violation(res, "no socket matches '%s': the trace has no sockets", p->text);
		return;
	}
	{
		char closest[8192];
		size_t k = 0;
		for (int b = 0; b < 3 && best[b].d != SIZE_MAX; b++) {
			struct steps st;
			steps_of(c, m->socks[best[b].i], &st);
			k += (size_t)snprintf(closest + k, k < sizeof(closest) ? sizeof(closest) - k : 0,
					      "%s%s", b ? " | " : "", st.line ? st.line : "?");
			steps_free(&st);
		}
		violation(res, "no socket matches '%s'; closest: %s", p->text, closest);
	}
}

/* ---- output ------------------------------------------------------------ */

static void xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static int write_junit(const struct check *c, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t failures = 0;

	if (!f) {
		fprintf(stderr, "socktrace: check: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < c->nresults; i++)
		failures += c->results[i].n > 0;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"socktrace check\" tests=\"%zu\" failures=\"%zu\">\n", c->nresults, failures);
	fprintf(f, "  <testsuite name=\"socktrace check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n",
		c->nresults, failures);
	for (size_t i = 0; i < c->nresults; i++) {
		const struct result *r = &c->results[i];
		fputs("    <testcase classname=\"socktrace.check\" name=\"", f);
		xml_escaped(f, r->name);
		if (!r->n) {
			fputs("\"/>\n", f);
			continue;
		}
		fprintf(f, "\">\n      <failure type=\"violation\" message=\"%zu violation%s: ", r->n, r->n == 1 ? "" : "s");
		xml_escaped(f, r->lines[0]);
		fputs("\">", f);
		for (size_t j = 0; j < r->n; j++) {
			xml_escaped(f, r->lines[j]);
			fputc('\n', f);
		}
		fputs("</failure>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (fclose(f)) {
		fprintf(stderr, "socktrace: check: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void github_escaped(const char *s)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", stdout);
		else if (*s == '\n')
			fputs("%0A", stdout);
		else if (*s == '\r')
			fputs("%0D", stdout);
		else
			putchar(*s);
	}
}

/* ---- the command -------------------------------------------------------- */

static int usage_error(const char *fmt, const char *arg)
{
	fputs("socktrace: check: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	return 2;
}

struct wanted {
	const struct rule *rule;
	char *arg;
	char *label;
};

/* room for one more rule in *want (which holds n); false when out of memory */
static bool want_grow(struct wanted **want, size_t n)
{
	struct wanted *grown = realloc(*want, (n + 1) * sizeof(*grown));

	if (!grown)
		return false;
	*want = grown;
	return true;
}

/* "max-time-wait=10" -> the rule and its argument; false when unknown */
static bool parse_rule(const char *spec, struct wanted *w, char *why, size_t whysz)
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

int st_cmd_check(int argc, char **argv)
{
	enum { OPT_RULE = 256, OPT_EXPECT, OPT_JUNIT, OPT_FORMAT, OPT_STRICT };
	static const struct option longopts[] = {
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "expect", required_argument, NULL, OPT_EXPECT },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check c;
	struct st_loaded l = { 0 };
	enum st_load_status loaded;
	struct wanted *want = NULL;
	struct pattern *pats = NULL;
	size_t nwant = 0, npats = 0, violations = 0;
	const char *junit = NULL;
	bool strict = false;
	char why[512];
	int opt, rc = 0;

	memset(&c, 0, sizeof(c));
	c.sh.out = stdout;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_RULE:
			if (!strcmp(optarg, "all")) {
				for (size_t i = 0; i < NRULES; i++) {
					if (rules[i].arg != NO_ARG)
						continue;
					if (!want_grow(&want, nwant)) {
						rc = 2;
						goto out_trace;
					}
					want[nwant++] = (struct wanted){ &rules[i], NULL, strdup(rules[i].name) };
				}
				break;
			}
			if (!want_grow(&want, nwant)) {
				rc = 2;
				goto out_trace;
			}
			want[nwant] = (struct wanted){ NULL, NULL, NULL };
			if (!parse_rule(optarg, &want[nwant], why, sizeof(why))) {
				free(want[nwant].arg);
				free(want[nwant].label);
				rc = usage_error("%s", why);
				goto out_trace;
			}
			nwant++;
			break;
		case OPT_EXPECT: {
			struct pattern *grown = realloc(pats, (npats + 1) * sizeof(*pats));
			if (!grown) {
				rc = 2;
				goto out_trace;
			}
			pats = grown;
			if (!pattern_parse(optarg, &pats[npats], why, sizeof(why))) {
				fprintf(stderr, "socktrace: check: bad pattern '%s': %s\n", optarg, why);
				pattern_free(&pats[npats]);
				rc = 2;
				goto out_trace;
			}
			npats++;
			break;
		}
		case OPT_JUNIT:
			junit = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "github"))
				c.github = true;
			else if (strcmp(optarg, "text")) {
				rc = usage_error("--format is text or github, not '%s'", optarg);
				goto out_trace;
			}
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			goto out_trace;
		default:
			rc = usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
			goto out_trace;
		}
	}
	if (!nwant && !npats) {
		for (size_t i = 0; i < NRULES; i++) {
			if (!rules[i].by_default)
				continue;
			if (!want_grow(&want, nwant)) {
				rc = 2;
				goto out_trace;
			}
			want[nwant++] = (struct wanted){ &rules[i], NULL, strdup(rules[i].name) };
		}
	}

	loaded = st_load(&l, argv + optind, argc - optind, strict);
	if (loaded == ST_LOAD_STOPPED || l.trace.bad) {
		fprintf(stderr, "socktrace: check: the trace is not usable as it is; nothing was checked\n");
		rc = 2;
		goto out_trace;
	}
	if (!l.trace.n) {
		fprintf(stderr, "socktrace: check: no events to check\n");
		rc = 2;
		goto out_trace;
	}
	if (loaded == ST_LOAD_NOMEM) {
		fprintf(stderr, "socktrace: check: out of memory\n");
		rc = 2;
		goto out_trace;
	}
	c.sh.trace = &l.trace;
	c.sh.model = &l.model;

	for (size_t i = 0; i < nwant; i++)
		want[i].rule->fn(&c, result_new(&c, want[i].label), want[i].arg);
	for (size_t i = 0; i < npats; i++)
		expect(&c, &pats[i]);

	for (size_t i = 0; i < c.nresults; i++) {
		const struct result *r = &c.results[i];
		for (size_t j = 0; j < r->n; j++) {
			violations++;
			if (c.github) {
				fputs("::error title=socktrace ", stdout);
				github_escaped(r->name);
				fputs("::", stdout);
				github_escaped(r->lines[j]);
				putchar('\n');
			} else {
				printf("%s: %s\n", r->name, r->lines[j]);
			}
		}
	}
	if (!violations && !c.github)
		printf("socktrace: check: %zu rule%s held over %zu events\n", c.nresults,
		       c.nresults == 1 ? "" : "s", l.trace.n);
	rc = violations ? 1 : 0;
	if (junit && write_junit(&c, junit) < 0)
		rc = 2;
	fflush(stdout);

	for (size_t i = 0; i < c.nresults; i++) {
		for (size_t j = 0; j < c.results[i].n; j++)
			free(c.results[i].lines[j]);
		free(c.results[i].lines);
		free(c.results[i].name);
	}
	free(c.results);
out_trace:
	st_load_free(&l);
	for (size_t i = 0; i < nwant; i++) {
		free(want[i].arg);
		free(want[i].label);
	}
	free(want);
	for (size_t i = 0; i < npats; i++)
		pattern_free(&pats[i]);
	free(pats);
	return rc;
}
