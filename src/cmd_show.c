/* SPDX-License-Identifier: MIT */
/* cmd_show.c - `socktrace show`: the command line, loading the traces,
 * the events the filters keep, and one format to render them.
 *
 * Owns: the options of `show` and its exit status (0 fine, 2 unusable input
 * or usage, 1 when the output could not be written).  Renders nothing
 * itself: the formats (formatters/fmt_*.c, behind show.h) do.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "show.h"

static const char usage_text[] =
	"usage: socktrace show [-f FORMAT] [--color=WHEN] [--pid PID] [--port PORT]\n"
	"                      [--strict] [--utc] [TRACE...]\n"
	"Render JSON Lines traces (stdin when no TRACE is given); several traces\n"
	"are merged by time.  Options may come before or after the traces; after\n"
	"--, every word is a trace.\n"
	"  -f, --format=FORMAT  text (default), timeline, summary, lifecycle, json, mermaid,\n"
	"                       connections (one JSON object per TCP connection),\n"
	"                       chrome (Chrome trace event JSON, for Perfetto and chrome://tracing)\n"
	"      --color=WHEN     auto (default: on a terminal, unless NO_COLOR is set\n"
	"                       and not empty), always, never\n"
	"      --pid=PID        only this process (repeatable)\n"
	"      --port=PORT      only sockets with this port at either end (repeatable)\n"
	"      --strict         any bad line is fatal (exit 2, nothing rendered)\n"
	"      --utc            times of day in UTC\n"
	"Exit status: 0, or 2 when some input was unusable (the rest is still shown).\n";

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
	{ "connections", show_connections },
	{ "chrome", show_chrome },
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
	while ((opt = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fn = NULL;
			for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (!strcmp(optarg, formats[i].name))
					fn = formats[i].fn;
			if (!fn)
				return usage_error("unknown format '%s' (text, timeline, summary, "
						   "lifecycle, json, mermaid, connections, chrome)", optarg);
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
				return usage_error("unknown option '-%s'", (char[]){ (char)optopt, 0 });
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (!strcmp(color, "always"))
		sh.color = true;
	else if (!strcmp(color, "auto")) {
		const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");

		/* no-color.org: NO_COLOR set and not empty */
		sh.color = isatty(STDOUT_FILENO) && !(no_color && *no_color) && term && strcmp(term, "dumb");
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
