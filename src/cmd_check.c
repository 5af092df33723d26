/* cmd_check.c - `socktrace check`: the command line, loading the traces,
 * running the rules and patterns asked for, and the reports.
 *
 * Owns: the options of `check` and its exit status (0 every rule holds, 1 a
 * violation, 2 unusable input or usage, or a JUnit file that cannot be
 * written).  Judges nothing itself: the rules (formatters/check_rules.c)
 * and patterns (formatters/expect.c) do, and the reports
 * (formatters/report.c) write what they found.
 */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "expect.h"
#include "load.h"

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

static int usage_error(const char *fmt, const char *arg)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), fmt, arg);
	fprintf(stderr, "socktrace: check: %s\n", show_esc(msg));
	fputs(usage_text, stderr);
	return 2;
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
	struct check_rules rules = { NULL, 0 };
	struct expect_pattern *pats = NULL;
	size_t npats = 0;
	const char *junit = NULL;
	bool strict = false, github = false;
	char why[512];
	int opt, rc = 0;

	memset(&c, 0, sizeof(c));
	c.sh.out = stdout;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_RULE:
			switch (check_rules_add(&rules, optarg, why, sizeof(why))) {
			case 0:
				break;
			case -1:
				rc = usage_error("%s", why);
				goto out;
			default:	/* out of memory */
				rc = 2;
				goto out;
			}
			break;
		case OPT_EXPECT: {
			struct expect_pattern *grown = realloc(pats, (npats + 1) * sizeof(*pats));
			if (!grown) {
				rc = 2;
				goto out;
			}
			pats = grown;
			if (!expect_parse(optarg, &pats[npats], why, sizeof(why))) {
				fprintf(stderr, "socktrace: check: bad pattern '%s': %s\n", show_esc(optarg),
					show_esc(why));
				expect_free(&pats[npats]);
				rc = 2;
				goto out;
			}
			npats++;
			break;
		}
		case OPT_JUNIT:
			junit = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "github"))
				github = true;
			else if (strcmp(optarg, "text")) {
				rc = usage_error("--format is text or github, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			goto out;
		default:
			rc = usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (!rules.n && !npats && check_rules_add_defaults(&rules) < 0) {
		rc = 2;
		goto out;
	}

	loaded = st_load(&l, argv + optind, argc - optind, strict);
	if (loaded == ST_LOAD_STOPPED || l.trace.bad) {
		fprintf(stderr, "socktrace: check: the trace is not usable as it is; nothing was checked\n");
		rc = 2;
		goto out;
	}
	if (!l.trace.n) {
		fprintf(stderr, "socktrace: check: no events to check\n");
		rc = 2;
		goto out;
	}
	if (loaded == ST_LOAD_NOMEM) {
		fprintf(stderr, "socktrace: check: out of memory\n");
		rc = 2;
		goto out;
	}
	c.sh.trace = &l.trace;
	c.sh.model = &l.model;

	check_rules_run(&c, &rules);
	for (size_t i = 0; i < npats; i++)
		expect_check(&c, &pats[i]);
	if (github)
		rc = report_github(&c, stdout) ? 1 : 0;
	else
		rc = report_text(&c, stdout) ? 1 : 0;
	if (junit && report_junit(&c, junit) < 0)
		rc = 2;
	fflush(stdout);
out:
	check_free(&c);
	st_load_free(&l);
	check_rules_free(&rules);
	for (size_t i = 0; i < npats; i++)
		expect_free(&pats[i]);
	free(pats);
	return rc;
}
