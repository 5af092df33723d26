/* SPDX-License-Identifier: MIT */
/* report.c - the results of `socktrace check` and how they are written
 * (see check.h).
 *
 * Owns: the results and their violations, the words a violation names a
 * process, a socket and a place in the code with, and the three ways out:
 * one line per violation, GitHub workflow annotations, JUnit XML.  Judges
 * nothing (the rules and patterns do) and decides no exit status (the
 * command does); out of memory while recording a violation it says so and
 * exits 2, the one place in formatters/ that exits.
 */
#define _GNU_SOURCE
#include "check.h"
#include "buf.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- results ------------------------------------------------------------ */

static __attribute__((noreturn)) void out_of_memory(void)
{
	fprintf(stderr, "socktrace: check: out of memory\n");
	exit(2);
}

struct check_result *check_result_new(struct check *c, const char *name)
{
	struct check_result *grown = realloc(c->results, (c->nresults + 1) * sizeof(*grown));

	if (!grown)
		out_of_memory();
	c->results = grown;
	grown = &c->results[c->nresults++];
	memset(grown, 0, sizeof(*grown));
	grown->name = strdup(name);
	return grown;
}

/* FNV-1a of a key */
static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* the slot of key in r's index: the group's (index + 1) or an empty one */
static size_t *key_slot(struct check_result *r, const char *key)
{
	size_t mask = r->nslots - 1, i = (size_t)key_hash(key) & mask;

	while (r->slots[i] && strcmp(r->groups[r->slots[i] - 1].key, key))
		i = (i + 1) & mask;
	return &r->slots[i];
}

/* r's index with room for one more key: at most half full */
static void index_grow(struct check_result *r)
{
	size_t *old = r->slots, nold = r->nslots;

	if (r->nslots && (r->ngroups + 1) * 2 <= r->nslots)
		return;
	r->nslots = nold ? nold * 2 : 64;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	if (!r->slots)
		out_of_memory();
	for (size_t i = 0; i < nold; i++)
		if (old[i])
			*key_slot(r, r->groups[old[i] - 1].key) = old[i];
	free(old);
}

/* a new group at the end of r's, its first finding's sentence line */
static struct check_group *group_new(struct check_result *r, char *line)
{
	struct check_group *g;

	if (r->ngroups == r->capgroups) {
		size_t cap = r->capgroups ? r->capgroups * 2 : 8;
		g = realloc(r->groups, cap * sizeof(*g));
		if (!g)
			out_of_memory();
		r->groups = g;
		r->capgroups = cap;
	}
	g = &r->groups[r->ngroups++];
	memset(g, 0, sizeof(*g));
	g->line = line;
	g->count = 1;
	return g;
}

static char *dup_or_die(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		out_of_memory();
	return d;
}

static void group_add(struct check_group *g, const struct check_like *like)
{
	if (like->example && g->nex < CHECK_EXAMPLES)
		g->ex[g->nex++] = dup_or_die(like->example);
	if (g->nwho == g->capwho) {
		size_t cap = g->capwho ? g->capwho * 2 : 8;
		int64_t *w = realloc(g->who, cap * sizeof(*w));
		if (!w)
			out_of_memory();
		g->who = w;
		g->capwho = cap;
	}
	g->who[g->nwho++] = like->who;
}

void check_violation(struct check_result *r, const char *fmt, ...)
{
	char *line;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		out_of_memory();
	va_end(ap);
	group_new(r, line);
	r->violations++;
	r->last_merged = false;
}

static void vfinding(struct check_result *r, const struct check_like *like, const char *fmt, va_list ap)
{
	struct check_group *g;
	size_t *slot = NULL;
	char *line;

	r->violations++;
	if (like->key) {
		index_grow(r);
		slot = key_slot(r, like->key);
		if (*slot) {
			g = &r->groups[*slot - 1];
			g->count++;
			group_add(g, like);
			r->last_merged = true;
			return;
		}
	}
	if (vasprintf(&line, fmt, ap) < 0)
		out_of_memory();
	g = group_new(r, line);
	g->key = dup_or_die(like->key);
	g->noun = like->noun;
	g->image = like->each_a_process ? NULL : dup_or_die(like->image);
	g->each_a_process = like->each_a_process;
	group_add(g, like);
	if (slot)
		*slot = r->ngroups;
	r->last_merged = false;
}

void check_finding(struct check_result *r, const struct check_like *like, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(r, like, fmt, ap);
	va_end(ap);
}

void check_locate(struct check_result *r, const struct st_rec *where)
{
	struct check_group *g;

	if (!r->ngroups || !where || r->last_merged)
		return;
	g = &r->groups[r->ngroups - 1];
	for (int i = 0; i < where->ev.nframes; i++)
		if (where->ev.frames[i].file && where->ev.frames[i].line > 0) {
			/* a copy: the record may be gone before the report
			 * (a retiring model frees it) */
			struct st_frame *at = calloc(1, sizeof(*at));
			char *file = strdup(where->ev.frames[i].file);

			if (!at || !file)
				out_of_memory();
			at->file = file;
			at->line = where->ev.frames[i].line;
			g->at = at;
			return;
		}
}

static int by_key(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* the line of a group: its sentence, and when it stands for more than
 * one finding their count, processes and examples */
static char *group_line(struct check_group *g)
{
	size_t procs = 0;
	char *line, *in = NULL, *ex = NULL;

	if (g->count == 1) {
		line = g->line;
		g->line = NULL;
		return line;
	}
	qsort(g->who, g->nwho, sizeof(*g->who), by_key);
	for (size_t i = 0; i < g->nwho; i++)
		procs += !i || g->who[i] != g->who[i - 1];
	if (procs > 1 && !g->each_a_process && asprintf(&in, " in %zu processes%s%s", procs, g->image ? " of " : "",
				  g->image ? g->image : "") < 0)
		out_of_memory();
	for (size_t i = 0; i < g->nex; i++) {
		char *more;
		if (asprintf(&more, "%s%s%s", ex ? ex : "", i ? ", " : ": ", g->ex[i]) < 0)
			out_of_memory();
		free(ex);
		ex = more;
	}
	if (asprintf(&line, "%s; %zu %s%s%s", g->line, g->count, g->noun ? g->noun : "such findings", in ? in : "",
		     ex ? ex : "") < 0)
		out_of_memory();
	if (g->count > g->nex && g->nex) {
		char *more;
		if (asprintf(&more, "%s, and %zu more", line, g->count - g->nex) < 0)
			out_of_memory();
		free(line);
		line = more;
	}
	free(in);
	free(ex);
	return line;
}

/* a place check_locate copied, NULL none */
static void at_free(const struct st_frame *at)
{
	if (at)
		free((char *)at->file);	/* check_locate's copy */
	free((struct st_frame *)at);
}

static void groups_free(struct check_result *r)
{
	for (size_t i = 0; i < r->ngroups; i++) {
		struct check_group *g = &r->groups[i];
		free(g->key);
		free(g->line);
		free(g->image);
		for (size_t k = 0; k < g->nex; k++)
			free(g->ex[k]);
		free(g->who);
		at_free(g->at);
	}
	free(r->groups);
	free(r->slots);
	r->groups = NULL;
	r->slots = NULL;
	r->ngroups = r->capgroups = r->nslots = 0;
}

void check_result_done(struct check_result *r)
{
	if (!r->ngroups)
		return;
	r->lines = calloc(r->ngroups, sizeof(*r->lines));
	r->at = calloc(r->ngroups, sizeof(*r->at));
	r->counts = calloc(r->ngroups, sizeof(*r->counts));
	if (!r->lines || !r->at || !r->counts)
		out_of_memory();
	for (size_t i = 0; i < r->ngroups; i++) {
		r->lines[i] = group_line(&r->groups[i]);
		r->at[i] = r->groups[i].at;	/* the line's now */
		r->groups[i].at = NULL;
		r->counts[i] = r->groups[i].count;
	}
	r->n = r->ngroups;
	groups_free(r);
}

void check_note(struct check *c, const char *fmt, ...)
{
	static const struct check_like alone = { NULL, NULL, NULL, -1, NULL, false };
	va_list ap;

	va_start(ap, fmt);
	vfinding(&c->notes, &alone, fmt, ap);
	va_end(ap);
}

void check_note_like(struct check *c, const struct check_like *like, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(&c->notes, like, fmt, ap);
	va_end(ap);
}

void check_notes_done(struct check *c)
{
	check_result_done(&c->notes);
}

size_t check_violations(const struct check *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nresults; i++)
		n += c->results[i].violations;
	return n;
}

void check_free(struct check *c)
{
	for (size_t i = 0; i < c->nresults; i++) {
		for (size_t j = 0; j < c->results[i].n; j++) {
			free(c->results[i].lines[j]);
			at_free(c->results[i].at[j]);
		}
		free(c->results[i].lines);
		free(c->results[i].at);
		free(c->results[i].counts);
		free(c->results[i].name);
		groups_free(&c->results[i]);
	}
	free(c->results);
	c->results = NULL;
	c->nresults = 0;
	for (size_t j = 0; j < c->notes.n; j++) {
		free(c->notes.lines[j]);
		at_free(c->notes.at[j]);
	}
	free(c->notes.lines);
	free(c->notes.at);
	free(c->notes.counts);
	groups_free(&c->notes);
	memset(&c->notes, 0, sizeof(c->notes));
}

/* ---- the words of a violation --------------------------------------------- */

void check_image_of(const struct check *c, int64_t pid, int64_t pkey, const struct st_rec *start,
		    struct check_image *im)
{
	const struct st_proc *p = st_model_proc_key(c->sh.model, pkey);
	size_t k;

	if (p && (!start || start->pkey != pkey))
		start = p->start;
	im->words = show_comm_at(&c->sh, pkey, start, im->comm, sizeof(im->comm));
	if (!p || !start || !im->words) {
		snprintf(im->key, sizeof(im->key), "pid %" PRId64 "\037%" PRId64, pid, pkey);
		return;
	}
	k = (size_t)snprintf(im->key, sizeof(im->key), "%s", start->ev.exe ? start->ev.exe : "");
	for (int i = 0; i < start->ev.argc && k < sizeof(im->key); i++)
		k += (size_t)snprintf(im->key + k, sizeof(im->key) - k, "\037%s", start->ev.argv[i] ? start->ev.argv[i] : "");
}

static const char *who_words(int64_t pid, const char *name, char *buf, size_t n)
{
	if (name)
		snprintf(buf, n, "pid %" PRId64 " (%s)", pid, name);
	else
		snprintf(buf, n, "pid %" PRId64, pid);
	return buf;
}

const char *check_who(const struct check *c, int64_t pid, int64_t pkey, char *buf, size_t n)
{
	char comm[128];
	return who_words(pid, show_comm(&c->sh, pkey, comm, sizeof(comm)), buf, n);
}

const char *check_maker(const struct check *c, const struct st_msock *s, char *buf, size_t n)
{
	char comm[128];

	return who_words(s->pid, show_sock_comm(&c->sh, s, comm, sizeof(comm)), buf, n);
}

const char *check_who_rec(const struct check *c, const struct st_rec *r, char *buf, size_t n)
{
	char comm[128];

	return who_words(r->ev.pid, show_comm_at(&c->sh, r->pkey, r, comm, sizeof(comm)), buf, n);
}

/* does the protocol of s say its type (tcp is a stream, udp datagrams)? */
static bool type_implied(const struct st_msock *s)
{
	static const struct {
		const char *proto, *type;
	} implied[] = {
		{ "tcp", "SOCK_STREAM" }, { "mptcp", "SOCK_STREAM" },
		{ "udp", "SOCK_DGRAM" }, { "udplite", "SOCK_DGRAM" },
	};

	if (!s->type)
		return true;	/* nothing to add */
	for (size_t i = 0; s->proto && i < sizeof(implied) / sizeof(implied[0]); i++)
		if (!strcmp(s->proto, implied[i].proto) && !strcmp(s->type, implied[i].type))
			return true;
	return false;
}

const char *check_kind(const struct st_msock *s, char *buf, size_t n)
{
	const char *kind = st_msock_kind(s), *type = s->type;
	bool v6 = s->family && !strcmp(s->family, "AF_INET6") && s->proto && strcmp(s->proto, "icmpv6") &&
		  !st_msock_local(s)[0] && !st_msock_remote(s)[0];
	size_t k = (size_t)snprintf(buf, n, "%s%s", kind, v6 ? "6" : "");

	if (!type_implied(s) && k < n) {
		if (!strncmp(type, "SOCK_", 5))
			type += 5;
		k += (size_t)snprintf(buf + k, n - k, " ");
		for (; *type && k + 1 < n; type++)
			buf[k++] = (char)(*type >= 'A' && *type <= 'Z' ? *type - 'A' + 'a' : *type);
		buf[k < n ? k : n - 1] = '\0';
	}
	return buf;
}

const char *check_tuple(const struct st_msock *s, char *buf, size_t n)
{
	const char *local = st_msock_local(s), *remote = st_msock_remote(s);
	char kind[128];
	size_t k = (size_t)snprintf(buf, n, "%s", show_esc(check_kind(s, kind, sizeof(kind))));

	if (local[0] && k < n)
		k += (size_t)snprintf(buf + k, n - k, " %s", show_esc(local));
	if (remote[0] && k < n)
		snprintf(buf + k, n - k, " -> %s", show_esc(remote));
	return buf;
}

const char *check_where(const struct st_rec *r, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = '\0';
	if (!r || !r->ev.nframes)
		return buf;
	for (int i = 0; i < r->ev.nframes && i < 3 && k < n; i++) {
		const struct st_frame *f = &r->ev.frames[i];
		const char *obj = f->obj ? strrchr(f->obj, '/') : NULL;

		obj = obj ? obj + 1 : f->obj ? f->obj : "?";
		if (f->sym && f->file) {
			const char *base = strrchr(f->file, '/');

			k += (size_t)snprintf(buf + k, n - k, "%s%s (%s:%d)", i ? " <- " : " at ", show_esc(f->sym),
					      show_esc(base ? base + 1 : f->file), f->line);
		} else if (f->sym)
			k += (size_t)snprintf(buf + k, n - k, "%s%s+0x%" PRIx64 " (%s)", i ? " <- " : " at ",
					      show_esc(f->sym), f->sym_off, show_esc(obj));
		else
			k += (size_t)snprintf(buf + k, n - k, "%s%s+0x%" PRIx64, i ? " <- " : " at ",
					      show_esc(obj), f->off);
	}
	return buf;
}

/* ---- reports ------------------------------------------------------------- */

/* a line as it was made (its strings escaped there), with any control
 * byte left over escaped too: one violation is one line, whatever it says */
static void put_line(FILE *out, const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, out);
}

size_t report_text(const struct check *c, FILE *out)
{
	size_t violations = check_violations(c);

	for (size_t i = 0; i < c->nresults; i++)
		for (size_t j = 0; j < c->results[i].n; j++) {
			put_line(out, c->results[i].name);
			fputs(": ", out);
			put_line(out, c->results[i].lines[j]);
			fputc('\n', out);
		}
	if (!violations)
		fprintf(out, "socktrace: check: %zu rule%s held over %zu events\n", c->nresults,
			c->nresults == 1 ? "" : "s", c->nevents);
	for (size_t i = 0; i < c->notes.n; i++) {
		fputs("socktrace: check: note: ", out);
		put_line(out, c->notes.lines[i]);
		fputc('\n', out);
	}
	return violations;
}

/* GitHub's workflow-command parser (the runner's ActionCommand) reads
 * "::error KEY=VALUE,KEY=VALUE::DATA": the command info ends at the first
 * "::", properties are split at ',' and '=', and it unescapes %0D %0A
 * (and, in a property, %3A %2C) before %25.  So DATA escapes % CR LF, and
 * a property value also ':' and ',' -- else "[::1]" ends the title early
 * and "pid=1,2" splits it. */
static void github_escaped(FILE *f, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			fputs("%25", f);
		else if (*s == '\r')
			fputs("%0D", f);
		else if (*s == '\n')
			fputs("%0A", f);
		else if (property && *s == ':')
			fputs("%3A", f);
		else if (property && *s == ',')
			fputs("%2C", f);
		else
			fputc(*s, f);
	}
}

/* The annotation of one finding; n identical ones are said once, with
 * their count in the title ("socktrace handshakes (x200)"): GitHub shows
 * only the first ten error annotations of a step. */
static void github_annotation(FILE *out, const char *kind, const char *title, size_t n, const char *what,
			      const struct st_frame *at)
{
	char count[32] = "";

	if (n > 1)
		snprintf(count, sizeof(count), " (\xc3\x97%zu)", n);
	fprintf(out, "::%s ", kind);
	if (at) {
		/* GitHub places a file of the repository: relative to its checkout */
		const char *ws = getenv("GITHUB_WORKSPACE"), *file = at->file;
		size_t wl = ws ? strlen(ws) : 0;

		while (wl > 1 && ws[wl - 1] == '/')
			wl--;
		if (wl && !strncmp(file, ws, wl) && file[wl] == '/')
			file += wl + 1;
		fputs("file=", out);
		github_escaped(out, file, true);
		fprintf(out, ",line=%d,", at->line);
	}
	fputs("title=", out);
	github_escaped(out, title, true);
	github_escaped(out, count, true);
	fputs("::", out);
	github_escaped(out, what, false);
	fputc('\n', out);
}

/* For grouping: a result's violations in text order, first seen first. */
static int by_text(const void *a, const void *b, void *result)
{
	const struct check_result *r = result;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int d = strcmp(r->lines[i], r->lines[j]);

	return d ? d : (i > j) - (i < j);
}

size_t report_github(const struct check *c, FILE *out)
{
	for (size_t i = 0; i < c->nresults; i++) {
		const struct check_result *r = &c->results[i];
		size_t *order, *count;
		char title[1200];

		if (!r->n)
			continue;
		order = malloc(r->n * sizeof(*order));
		count = calloc(r->n, sizeof(*count));
		if (!order || !count)
			out_of_memory();
		for (size_t j = 0; j < r->n; j++)
			order[j] = j;
		qsort_r(order, r->n, sizeof(*order), by_text, (void *)r);
		/* count[first of a text] = how many violations have that text
		 * (a grouped line stands for several) */
		for (size_t j = 0, first = 0; j < r->n; j++) {
			if (j && strcmp(r->lines[order[j]], r->lines[order[first]]))
				first = j;
			count[order[first]] += r->counts[order[j]];
		}
		snprintf(title, sizeof(title), "socktrace %s", r->name);
		for (size_t j = 0; j < r->n; j++)
			if (count[j])
				github_annotation(out, "error", title, count[j], r->lines[j], r->at[j]);
		free(order);
		free(count);
	}
	for (size_t i = 0; i < c->notes.n; i++)
		github_annotation(out, "notice", "socktrace check", c->notes.counts[i], c->notes.lines[i], NULL);
	return check_violations(c);
}

/* the length of the valid UTF-8 character at s (shortest form, no
 * surrogate, at most U+10FFFF, not U+FFFE/FFFF), 0 when it is not one */
static int utf8_char(const unsigned char *s)
{
	unsigned c;
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	c = s[0] & (0x7fu >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/* Text as XML 1.0 may hold it, in an attribute or an element: the five
 * markup characters as entities, a control byte (none should be left:
 * the lines are escaped where they are made) as \xNN, and a byte that is
 * not part of valid UTF-8 (a line cut inside a character) as U+FFFD, so
 * the report is always well-formed. */
static void xml_escaped(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		int n;

		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f) {
				fprintf(f, "\\x%02x", *s);
				break;
			}
			n = utf8_char(s);
			if (!n) {
				fputs("\xef\xbf\xbd", f);
				break;
			}
			fwrite(s, 1, (size_t)n, f);
			s += n;
			continue;
		}
		s++;
	}
}

double check_elapsed(const struct check *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->started_mono.tv_sec) +
	       (double)(now.tv_nsec - c->started_mono.tv_nsec) / 1e9;
}

/* The attributes a strict JUnit consumer wants on a suite: time, timestamp
 * (the start, UTC, without a zone as the schema's pattern has it) and
 * hostname. */
static void junit_suite_attrs(FILE *f, const struct check *c, double seconds)
{
	char stamp[32] = "1970-01-01T00:00:00", host[256];
	struct tm tm;

	if (gmtime_r(&c->started.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	fprintf(f, " time=\"%.6f\" timestamp=\"%s\" hostname=\"", seconds, stamp);
	xml_escaped(f, host);
	fputc('"', f);
}

/* "cannot write PATH: why" on stderr, the path escaped (it may come from a
 * script's variables) */
static void cannot_write(const char *path, const char *why)
{
	char shown[1024];
	struct st_buf b;

	st_buf_init(&b, shown, sizeof(shown));
	st_buf_esc(&b, path, 0);
	st_buf_finish(&b);
	fprintf(stderr, "socktrace: check: cannot write %s: %s\n", shown, why);
}

/* The report file, with its XML declaration: created 0600 with O_EXCL, or
 * an existing one of this user emptied; never through a symbolic link,
 * never another user's file in a sticky directory, never a hang on a FIFO
 * nobody reads (codec/outfile.h).  NULL after a message. */
FILE *report_junit_open(const char *path)
{
	static const struct st_outfile how = { 0, ST_OUT_TRUNC | ST_OUT_BLOCK, NULL };
	const char *why = NULL;
	int named = st_outfile_fd(path), fd;
	FILE *f;

	if (named == -2) {
		cannot_write(path, "fd:N takes a descriptor number");
		return NULL;
	}
	if (named >= 0) {
		/* a descriptor the caller opened ("-", /dev/stdout, fd:N, a
		 * shell's >(...)): written through a copy of it, never
		 * emptied (it may be a pipe, or a file already written to) */
		int acc = fcntl(named, F_GETFL);

		if (acc < 0 || (acc & O_ACCMODE) == O_RDONLY) {
			char said[64];

			snprintf(said, sizeof(said), "descriptor %d", named);
			cannot_write(said, acc < 0 ? strerror(errno) : "open for reading only");
			return NULL;
		}
		fd = fcntl(named, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			cannot_write(path, strerror(errno));
			return NULL;
		}
	} else if ((fd = st_outfile_open(path, &how, &why)) < 0) {
		cannot_write(path, why);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		cannot_write(path, strerror(errno));
		close(fd);
		return NULL;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	return f;
}

static int junit_close(FILE *f, const char *path)
{
	if (fclose(f)) {
		cannot_write(path, strerror(errno));
		return -1;
	}
	return 0;
}

int report_junit(const struct check *c, FILE *f, const char *path)
{
	size_t failures = 0;
	double seconds = check_elapsed(c);

	for (size_t i = 0; i < c->nresults; i++)
		failures += c->results[i].n > 0;
	fprintf(f, "<testsuites name=\"socktrace check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.6f\">\n",
		c->nresults, failures, seconds);
	fprintf(f, "  <testsuite name=\"socktrace check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\"",
		c->nresults, failures);
	junit_suite_attrs(f, c, seconds);
	fputs(">\n", f);
	for (size_t i = 0; i < c->nresults; i++) {
		const struct check_result *r = &c->results[i];

		/* each name once (JUnit readers merge or drop testcases of one
		 * name): a rule or pattern given twice is judged once, and the
		 * names are escaped one way (show_esc) */
		fputs("    <testcase classname=\"socktrace.check\" name=\"", f);
		xml_escaped(f, r->name);
		fprintf(f, "\" time=\"%.6f\"", r->seconds);
		if (!r->n) {
			fputs("/>\n", f);
			continue;
		}
		fprintf(f, ">\n      <failure type=\"violation\" message=\"%zu violation%s: ", r->violations,
			r->violations == 1 ? "" : "s");
		xml_escaped(f, r->lines[0]);
		fputs("\">", f);
		for (size_t j = 0; j < r->n; j++) {
			xml_escaped(f, r->lines[j]);
			fputc('\n', f);
		}
		fputs("</failure>\n    </testcase>\n", f);
	}
	/* the notes, for a person reading the CI job: what was left
	 * unjudged (the schema's system-out comes after the testcases) */
	if (c->notes.n) {
		fputs("    <system-out>", f);
		for (size_t j = 0; j < c->notes.n; j++) {
			fputs("note: ", f);
			xml_escaped(f, c->notes.lines[j]);
			fputc('\n', f);
		}
		fputs("</system-out>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return junit_close(f, path);
}

int report_junit_error(const struct check *c, FILE *f, const char *path, const char *what, const char *why,
		       const char *detail)
{
	double seconds = check_elapsed(c);
	bool usage = !strcmp(what, "usage");
	const char *type = usage ? "usage" : !strcmp(what, "interrupted") ? "interrupted" : "unusable-input";

	fprintf(f, "<testsuites name=\"socktrace check\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"%.6f\">\n",
		seconds);
	fputs("  <testsuite name=\"socktrace check\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\"", f);
	junit_suite_attrs(f, c, seconds);
	fprintf(f, ">\n    <testcase classname=\"socktrace.check\" name=\"%s\" time=\"%.6f\">\n",
		usage ? "usage" : "input", seconds);
	fprintf(f, "      <error type=\"%s\" message=\"", type);
	xml_escaped(f, why);
	fputs("\">", f);
	xml_escaped(f, why);
	if (detail && detail[0]) {
		fputc('\n', f);
		xml_escaped(f, detail);
	}
	fputs("\n</error>\n    </testcase>\n  </testsuite>\n</testsuites>\n", f);
	return junit_close(f, path);
}
