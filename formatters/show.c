/* show.c - `socktrace show`: options, reading and merging the traces,
 * filters, and the formats that are a line per event (text, json).
 *
 * Owns: the command line of `show` and its exit status (0 fine, 2 unusable
 * input or usage).  The text format is st_render_text, the very code the
 * shim uses; json is st_encode_json.  Neither is written a second time here.
 */
#include "formatters.h"
#include "show.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "load.h"


static const char usage_text[] =
	"usage: socktrace show [-f FORMAT] [--color=WHEN] [--pid PID] [--port PORT]\n"
	"                      [--strict] [--utc] [TRACE...]\n"
	"Render JSON Lines traces (stdin when no TRACE is given); several traces\n"
	"are merged by time.\n"
	"  -f, --format=FORMAT  text (default), timeline, summary, lifecycle, json, mermaid\n"
	"      --color=WHEN     auto (default), always, never\n"
	"      --pid=PID        only this process (repeatable)\n"
	"      --port=PORT      only sockets with this port at either end (repeatable)\n"
	"      --strict         any bad line is fatal (exit 2, nothing rendered)\n"
	"      --utc            times of day in UTC\n"
	"Exit status: 0, or 2 when some input was unusable (the rest is still shown).\n";

/* ---- helpers shared by the formats ------------------------------------ */

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

const char *show_comm(const struct show *sh, int64_t pid, char *buf, size_t n)
{
	const struct st_proc *p = st_model_proc(sh->model, pid);
	const struct st_event *ev;
	size_t len = 0;

	if (!p || !p->start)
		return NULL;
	ev = &p->start->ev;
	buf[0] = '\0';
	for (int i = 0; i < ev->argc && len + 1 < n; i++) {
		const char *a = ev->argv[i];
		if (!i) {
			const char *slash = strrchr(a, '/');
			if (slash)
				a = slash + 1;
		}
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " " : "", a);
		if (len >= n)
			break;
	}
	if (!buf[0] && ev->exe) {
		const char *slash = strrchr(ev->exe, '/');
		snprintf(buf, n, "%s", slash ? slash + 1 : ev->exe);
	}
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = ' ';	/* a newline in `python -c CODE` */
	if (strlen(buf) > 40)
		memcpy(buf + 37, "...", 4);
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

static bool port_in(const struct show *sh, const char *addr)
{
	int p = addr && addr[0] ? st_addr_port(addr) : -1;

	if (p < 0)
		return false;
	for (int i = 0; i < sh->nports; i++)
		if (sh->ports[i] == p)
			return true;
	return false;
}

static bool sock_port_ok(const struct show *sh, const struct st_msock *s)
{
	if (!s)
		return false;
	return port_in(sh, s->local) || port_in(sh, s->remote) ||
	       (s->bind && port_in(sh, s->bind->ev.addr)) ||
	       (s->connect && port_in(sh, s->connect->ev.addr)) ||
	       (s->listener && port_in(sh, s->listener->local));
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

bool show_keep_rec(const struct show *sh, const struct st_rec *r)
{
	if (!pid_ok(sh, r->ev.pid))
		return false;
	if (!sh->nports)
		return true;
	return port_in(sh, r->ev.local) || port_in(sh, r->ev.remote) || port_in(sh, r->ev.addr) ||
	       sock_port_ok(sh, r->sock) || sock_port_ok(sh, r->lsock);
}

/* ---- line-per-event formats ------------------------------------------- */

/* a buffer that grows until the longest line fits */
struct linebuf {
	char *p;
	size_t cap;
};

static bool linebuf_fit(struct linebuf *b, size_t need)
{
	char *p;

	if (need < b->cap)
		return true;
	p = realloc(b->p, need + 1);
	if (!p)
		return false;
	b->p = p;
	b->cap = need + 1;
	return true;
}

static int per_event(struct show *sh, bool json)
{
	struct linebuf b = { NULL, 0 };
	unsigned flags = (sh->color ? ST_RENDER_COLOR : 0) | (sh->utc ? ST_RENDER_UTC : 0);
	int rc = 0;

	if (!linebuf_fit(&b, 4096))
		return 2;
	st_render_set_tz(sh->tz_offset);
	for (size_t i = 0; i < sh->nrecs; i++) {
		const struct st_event *ev = &sh->recs[i]->ev;
		size_t n = json ? st_encode_json(ev, b.p, b.cap) : st_render_text(ev, b.p, b.cap, flags);

		if (n >= b.cap) {
			if (!linebuf_fit(&b, n)) {
				rc = 2;
				break;
			}
			n = json ? st_encode_json(ev, b.p, b.cap) : st_render_text(ev, b.p, b.cap, flags);
		}
		fwrite(b.p, 1, n, sh->out);
	}
	free(b.p);
	return rc;
}

int show_text(struct show *sh)
{
	return per_event(sh, false);
}

int show_json(struct show *sh)
{
	return per_event(sh, true);
}

/* ---- the command ------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(struct show *);
} formats[] = {
	{ "text", show_text },
	{ "timeline", show_timeline },
	{ "summary", show_summary },
	{ "lifecycle", show_lifecycle },
	{ "json", show_json },
	{ "jsonl", show_json },
	{ "mermaid", show_mermaid },
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "socktrace: show: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'socktrace show --help'.\n");
	return 2;
}

static bool parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static long local_offset(int64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return tm.tm_gmtoff;
}

int st_cmd_show(int argc, char **argv)
{
	enum { OPT_COLOR = 256, OPT_PID, OPT_PORT, OPT_STRICT, OPT_UTC };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "color", optional_argument, NULL, OPT_COLOR },
		{ "colour", optional_argument, NULL, OPT_COLOR },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "utc", no_argument, NULL, OPT_UTC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show sh = { .out = stdout };
	struct st_loaded l;
	enum st_load_status loaded;
	int (*fn)(struct show *) = show_text;
	const char *color = "auto";
	bool strict = false;
	int opt, rc;
	long v;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fn = NULL;
			for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (!strcmp(optarg, formats[i].name))
					fn = formats[i].fn;
			if (!fn)
				return usage_error("unknown format '%s' (text, timeline, summary, "
						   "lifecycle, json, mermaid)", optarg);
			break;
		case OPT_COLOR:
			color = optarg ? optarg : "always";
			if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
				return usage_error("--color is auto, always or never, not '%s'", color);
			break;
		case OPT_PID:
			if (sh.npids == SHOW_MAX_FILTERS || !parse_num(optarg, 0, INT_MAX, &v))
				return usage_error("bad --pid '%s'", optarg);
			sh.pids[sh.npids++] = v;
			break;
		case OPT_PORT:
			if (sh.nports == SHOW_MAX_FILTERS || !parse_num(optarg, 0, 65535, &v))
				return usage_error("bad --port '%s' (0-65535)", optarg);
			sh.ports[sh.nports++] = (int)v;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_UTC:
			sh.utc = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			if (optopt && optopt < 256)
				return usage_error("unknown option '-%c'", (char[]){ (char)optopt, 0 });
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (!strcmp(color, "always"))
		sh.color = true;
	else if (!strcmp(color, "auto")) {
		const char *term = getenv("TERM");
		sh.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
	}

	loaded = st_load(&l, argv + optind, argc - optind, strict);
	if (loaded == ST_LOAD_STOPPED || loaded == ST_LOAD_NOMEM) {
		fprintf(stderr, "socktrace: show: %s\n", loaded == ST_LOAD_STOPPED ?
			"stopped at the first bad line (--strict)" : "out of memory");
		st_load_free(&l);
		return 2;
	}
	sh.trace = &l.trace;
	sh.model = &l.model;
	sh.tz_offset = l.trace.n ? local_offset(l.trace.recs[0]->ev.ts_us) : 0;
	sh.recs = calloc(l.trace.n ? l.trace.n : 1, sizeof(*sh.recs));
	if (!sh.recs) {
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < l.trace.n; i++)
		if (show_keep_rec(&sh, l.trace.recs[i]))
			sh.recs[sh.nrecs++] = l.trace.recs[i];

	rc = fn(&sh);
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "socktrace: show: writing the output: %s\n", strerror(errno));
		rc = rc ? rc : 1;
	}
	if (!rc && loaded == ST_LOAD_BAD)
		rc = 2;
out:
	free(sh.recs);
	st_load_free(&l);
	return rc;
}
