/* SPDX-License-Identifier: MIT */
/* expect.c - the --expect pattern language of `socktrace check` (see
 * expect.h).
 *
 * Owns: parsing a pattern, a socket's lifecycle as the words a pattern is
 * matched against (the line `show -f lifecycle` prints), matching with
 * repeats (word+, word?, word*, word×N) and globs, and naming the closest
 * sockets when none matches.  Reads the model only; never prints (the
 * reports do) and never parses a command line.
 */
#define _GNU_SOURCE
#include "expect.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool looks_like_endpoint(const char *t)
{
	return strchr(t, ':') || t[0] == '/' || t[0] == '@' || t[0] == '[' || !strcmp(t, "*");
}

/* The first byte of step t that breaks its parentheses (the lifecycle
 * words' "call(detail)"): a ')' that closes nothing or a '(' never
 * closed; -1 when they pair up.  Brackets are the globs' own: fnmatch
 * takes a lone '[' or ']' as itself. */
static long unpaired(const char *t)
{
	long open = -1;
	size_t depth = 0;

	for (long i = 0; t[i]; i++) {
		if (t[i] == '(') {
			if (!depth++)
				open = i;
		} else if (t[i] == ')') {
			if (!depth)
				return i;
			depth--;
		}
	}
	return depth ? open : -1;
}

/* Do step t's parentheses pair up?  Else false, with why naming the
 * byte's column in the pattern (t starts at column col). */
static bool parens_ok(const char *t, size_t col, char *why, size_t whysz)
{
	long bad = unpaired(t);

	if (bad < 0)
		return true;
	snprintf(why, whysz, "at column %zu: '%c' in '%s' %s", col + (size_t)bad, t[bad], t,
		 t[bad] == '(' ? "is never closed" : "closes no '(' before it");
	return false;
}

/* An endpoint: "[" starts an IPv6 address, which a ']' must end (a glob's
 * "[0-9]" has one too).  Else false, with why naming its column. */
static bool endpoint_ok(const char *t, size_t col, char *why, size_t whysz)
{
	if (t[0] != '[' || strchr(t, ']'))
		return true;
	snprintf(why, whysz, "at column %zu: '[' in '%s' is never closed", col, t);
	return false;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool expect_same(const struct expect_pattern *a, const struct expect_pattern *b)
{
	if (!same_str(a->pid, b->pid) || !same_str(a->fd, b->fd) || !same_str(a->kind, b->kind) ||
	    !same_str(a->local, b->local) || !same_str(a->remote, b->remote) || a->nsteps != b->nsteps)
		return false;
	for (size_t i = 0; i < a->nsteps; i++)
		if (!same_str(a->steps[i].word, b->steps[i].word) || a->steps[i].min != b->steps[i].min ||
		    a->steps[i].max != b->steps[i].max)
			return false;
	return true;
}

bool expect_parse(const char *text, struct expect_pattern *p, char *why, size_t whysz)
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
		size_t len = strlen(tok), col = (size_t)(tok - copy) + 1;	/* 1: the first byte */
		struct expect_step st = { NULL, 1, 1 };
		struct expect_step *grown;

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
			if (!parens_ok(tok, col, why, whysz))
				goto bad;
			p->kind = strdup(tok);
			kind_seen = true;
			continue;
		}
		if (!p->nsteps && !p->local && !p->remote && looks_like_endpoint(tok)) {
			if (!endpoint_ok(tok, col, why, whysz))
				goto bad;
			p->local = strdup(tok);
			continue;
		}
		if (!p->nsteps && !strcmp(tok, "->")) {
			tok = strtok_r(NULL, " \t", &save);
			if (!tok) {
				snprintf(why, whysz, "at column %zu: '->' must be followed by the remote endpoint", col);
				goto bad;
			}
			if (!endpoint_ok(tok, (size_t)(tok - copy) + 1, why, whysz))
				goto bad;
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
					snprintf(why, whysz, "at column %zu: '%s': ×N needs a word before it and a count from 1",
						 col, tok);
					goto bad;
				}
				*times = '\0';
				st.min = st.max = (unsigned)n;
			} else if (len > 1 && tok[len - 1] == '+') {
				tok[len - 1] = '\0';
				st.max = UINT_MAX;
			} else if (len > 1 && tok[len - 1] == '?' && tok[len - 2] != '@') {
				tok[len - 1] = '\0';
				st.min = 0;
			} else if (len > 1 && tok[len - 1] == '*' && tok[len - 2] != '(' && tok[len - 2] != ',' &&
				   tok[len - 2] != '@') {
				/* (close@* is the call in any process: a pid glob) */
				tok[len - 1] = '\0';
				st.min = 0;
				st.max = UINT_MAX;
			}
		}
		if (!tok[0] || strchr("+?", tok[0])) {
			snprintf(why, whysz, "at column %zu: '%s' is not a step", col, tok);
			goto bad;
		}
		if (!parens_ok(tok, col, why, whysz))
			goto bad;
		{
			/* "accept4x4": a count written with the letter x, which
			 * would silently match nothing */
			char *x = strrchr(tok, 'x');
			if (x && x > tok && x[1] >= '0' && x[1] <= '9' && strspn(x + 1, "0123456789") == strlen(x + 1)) {
				char call[64];
				snprintf(call, sizeof(call), "%.*s", (int)(x - tok), tok);
				if (st_call_lookup(call) != ST_CALL_NONE) {
					snprintf(why, whysz, "at column %zu: '%s': a count is written with the "
							     "multiplication sign, as lifecycle prints it: %s\xc3\x97%s",
						 col, tok, call, x + 1);
					goto bad;
				}
			}
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
	if (!p->nsteps) {
		/* the steps cover a socket's whole life: none matches no socket */
		snprintf(why, whysz, "no steps: a pattern names the socket's calls, its whole life (for any "
				     "socket of that kind and address: end it with '*+')");
		return false;
	}
	return true;
bad:
	free(copy);
	return false;
}

void expect_free(struct expect_pattern *p)
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
	char t[CHECK_TUPLE_MAX];
	char *p = words, *line = NULL;

	memset(out, 0, sizeof(*out));
	show_lifecycle_words(&c->sh, s, words, sizeof(words));
	if (asprintf(&line, "pid=%" PRId64 " fd=%d %s %s", s->pid, s->fd, check_tuple(s, t, sizeof(t)), words) < 0)
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
		/* "word×N": a count the lifecycle words wrote, never more than
		 * the socket's events (a forged name with "×N" in it costs no
		 * more than its own word) */
		times = strstr(start, "\xc3\x97");
		if (times && times != start) {
			char *end;
			unsigned long n = strtoul(times + 2, &end, 10);
			if (!*end && n >= 2 && n <= s->nevs && out->n + n <= s->nevs + 1) {
				rep = (unsigned)n;
				*times = '\0';
			}
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

static bool match_from(const struct expect_pattern *p, size_t pi, const struct steps *s, size_t si)
{
	const struct expect_step *st;
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

/* An endpoint glob that begins with an IPv6 literal, "[::1]:8080" or
 * "[fe80::*%2]:*": its brackets are the address's, not a bracket
 * expression of fnmatch(3) (one never holds a ':' but in "[[:digit:]]"),
 * so they are escaped in out.  false when glob is not one. */
static bool v6_literal(const char *glob, char *out, size_t n)
{
	const char *close;
	int k;

	if (glob[0] != '[' || glob[1] == '[' || glob[1] == '!' || glob[1] == '^' || !(close = strchr(glob, ']')) ||
	    !memchr(glob, ':', (size_t)(close - glob)))
		return false;
	k = snprintf(out, n, "\\[%.*s\\]%s", (int)(close - glob - 1), glob + 1, close + 1);
	return k > 0 && (size_t)k < n;
}

static bool glob_ok(const char *glob, const char *s)
{
	char norm[ST_ADDR_MAX], lit[ST_ADDR_MAX * 2];

	if (!glob)
		return true;
	if (!fnmatch(glob, s, 0) || !fnmatch(glob, show_esc(s), 0))
		return true;	/* as the trace has it, or as `show` prints it */
	st_addr_normalize(s, norm);
	if (!fnmatch(glob, norm, 0))
		return true;
	return v6_literal(glob, lit, sizeof(lit)) && (!fnmatch(lit, s, 0) || !fnmatch(lit, norm, 0));
}

static bool sock_matches(struct check *c, const struct expect_pattern *p, const struct st_msock *s,
			 const struct steps *st)
{
	char num[32];
	const char *local = st_msock_local(s), *remote = st_msock_remote(s);

	(void)c;
	snprintf(num, sizeof(num), "%" PRId64, s->pid);
	if (p->pid && fnmatch(p->pid, num, 0))
		return false;
	snprintf(num, sizeof(num), "%d", s->fd);
	if (p->fd && fnmatch(p->fd, num, 0))
		return false;
	if (p->kind && fnmatch(p->kind, show_esc(st_msock_kind(s)), 0))
		return false;
	if (!glob_ok(p->local, local) || !glob_ok(p->remote, remote))
		return false;
	return match_from(p, 0, st, 0);
}

/* how far a socket is from the pattern, to show the closest ones */
static size_t distance(const struct expect_pattern *p, const struct st_msock *s, const struct steps *st)
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

void expect_sock(struct check *c, const struct expect_pattern *p, struct expect_seen *seen,
		 const struct st_msock *s)
{
	struct steps st;
	size_t d, k;

	if (seen->found)
		return;
	steps_of(c, s, &st);
	if (sock_matches(c, p, s, &st)) {
		seen->found = true;
		for (k = 0; k < seen->nbest; k++)
			free(seen->best[k].line);
		seen->nbest = 0;
		steps_free(&st);
		return;
	}
	d = distance(p, s, &st);
	/* the closest first; of two as close, the socket that appeared first
	 * (st_msock.id), whatever the order they are judged in */
	for (k = 0; d != SIZE_MAX && k < EXPECT_CLOSEST; k++)
		if (k == seen->nbest || d < seen->best[k].d || (d == seen->best[k].d && s->id < seen->best[k].id))
			break;
	if (d != SIZE_MAX && k < EXPECT_CLOSEST) {
		char *line = strdup(st.line ? st.line : "?");

		if (!line) {
			fprintf(stderr, "socktrace: check: out of memory\n");
			exit(2);
		}
		if (seen->nbest == EXPECT_CLOSEST)
			free(seen->best[--seen->nbest].line);
		memmove(&seen->best[k + 1], &seen->best[k], (seen->nbest - k) * sizeof(seen->best[0]));
		seen->best[k].d = d;
		seen->best[k].id = s->id;
		seen->best[k].line = line;
		seen->nbest++;
	}
	steps_free(&st);
}

void expect_done(struct check *c, const struct expect_pattern *p, struct expect_seen *seen)
{
	char name[1024], closest[8192];
	struct check_result *res;
	size_t k = 0;

	snprintf(name, sizeof(name), "expect: %s", show_esc(p->text));
	res = check_result_new(c, name);
	if (seen->found)
		return;
	if (!seen->nbest) {
		check_violation(res, "no socket matches '%s': the trace has no sockets", show_esc(p->text));
		return;
	}
	for (size_t b = 0; b < seen->nbest; b++) {
		k += (size_t)snprintf(closest + k, k < sizeof(closest) ? sizeof(closest) - k : 0, "%s%s",
				      b ? " | " : "", seen->best[b].line);
		free(seen->best[b].line);
	}
	seen->nbest = 0;
	check_violation(res, "no socket matches '%s'; closest: %s", show_esc(p->text), closest);
}

