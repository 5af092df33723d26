/* SPDX-License-Identifier: MIT */
/* settings.c - the shim's configuration, read once from the environment
 * (see settings.h).
 * Runs in the traced program's constructor: no malloc, no stdio.
 */
#define _GNU_SOURCE
#include "settings.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "names.h"
#include "outfile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_config st_cfg;

/* A warning about a variable's value: the value is the environment's,
 * any byte at all, and is shown escaped. */
static void warn_value(const char *msg, const char *v)
{
	char shown[256];
	struct st_buf b;

	st_buf_init(&b, shown, sizeof(shown));
	st_buf_esc(&b, v, st_cfg.ascii ? ST_ESC_ASCII : 0);
	st_buf_finish(&b);
	st_warn(msg, shown);
}

static bool parse_uint(const char *s, long max, int *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = (int)v;
	return true;
}

/* Is the character set of the locale the program would use UTF-8?  The
 * first of LC_ALL, LC_CTYPE, LANG that is set and not empty names it, as
 * setlocale(LC_CTYPE, "") would choose (no locale is loaded here: the
 * shim runs before the program's own setlocale, and must not change it). */
static bool locale_is_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

/* A relative output path (st_cfg.output) joined to the current directory,
 * which is where it names a file now: the shim then opens that one file
 * wherever the program goes (a fork child that changed directory, a
 * reopen), and passes it to the programs it executes from elsewhere
 * (st_output_env_for).  Left relative, as before, when the directory is
 * unknown (getcwd fails: removed, or too deep) or the joined path does
 * not fit. */
static void join_output_to_cwd(void)
{
	static char cwd[sizeof(st_cfg.output)];
	static const char key[] = "SOCKTRACE_OUTPUT=";
	struct stat st;
	size_t nc, no = strlen(st_cfg.output);

	if (st_cfg.output[0] == '/' || !getcwd(cwd, sizeof(cwd)) || cwd[0] != '/' || stat(".", &st) != 0)
		return;
	nc = strlen(cwd);
	if (nc == 1)
		nc = 0;	/* "/" itself: no second slash */
	if (nc + 1 + no >= sizeof(st_cfg.output))
		return;
	memcpy(st_cfg.output_rel, st_cfg.output, no + 1);
	memmove(st_cfg.output + nc + 1, st_cfg.output, no + 1);
	memcpy(st_cfg.output, cwd, nc);
	st_cfg.output[nc] = '/';
	memcpy(st_cfg.output_env, key, sizeof(key) - 1);
	memcpy(st_cfg.output_env + sizeof(key) - 1, st_cfg.output, nc + 1 + no + 1);
	st_cfg.start_dev = st.st_dev;
	st_cfg.start_ino = st.st_ino;
}

const char *st_output_env_for(const char *entry)
{
	static const char key[] = "SOCKTRACE_OUTPUT=";
	struct stat st;

	if (!st_cfg.output_env[0] || strncmp(entry, key, sizeof(key) - 1) ||
	    strcmp(entry + sizeof(key) - 1, st_cfg.output_rel))
		return NULL;
	if (stat(".", &st) == 0 && st.st_dev == st_cfg.start_dev && st.st_ino == st_cfg.start_ino)
		return NULL;	/* the same directory: the new image finds the same file */
	return st_cfg.output_env;
}

bool st_family_enabled(int family)
{
	if (family < 0 || family >= 63)
		return st_cfg.families >> 63 & 1;
	return st_cfg.families >> family & 1;
}

void st_config_read(void)
{
	const char *v;
	bool format_given = false;

	st_cfg.to_stderr = true;
	st_cfg.output[0] = '\0';
	st_cfg.output_rel[0] = '\0';
	st_cfg.output_env[0] = '\0';
	st_cfg.format = ST_FMT_TEXT;
	st_cfg.stack = 0;
	st_cfg.probe = ST_PROBE_EXIT;
	st_cfg.families = ~(uint64_t)0;
	st_cfg.mode = ST_OUT_MODE_DEFAULT;
	st_cfg.ascii = !locale_is_utf8();
	st_render_set_ascii(st_cfg.ascii);

	st_cfg.shm[0] = '\0';
	v = secure_getenv("SOCKTRACE_SHM");
	if (v && *v) {
		if (strlen(v) >= sizeof(st_cfg.shm) || v[0] != '/')
			st_warn("SOCKTRACE_SHM must be the absolute path the runner gave, ignored; got", v);
		else
			strcpy(st_cfg.shm, v);
	}

	st_cfg.run[0] = '\0';
	v = secure_getenv("SOCKTRACE_RUN");
	if (v && *v) {
		size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");
		if (v[n] || n > ST_RUN_MAX)
			warn_value("SOCKTRACE_RUN must be 1 to 64 letters, digits, '.', '_', ':' or '-', "
				   "leaving the run unknown; got", v);
		else
			memcpy(st_cfg.run, v, n + 1);
	}

	v = secure_getenv("SOCKTRACE_OUTPUT");
	st_cfg.fallback = v && *v;
	if (v && *v && strcmp(v, "stderr")) {
		if (strlen(v) >= sizeof(st_cfg.output))
			st_warn("SOCKTRACE_OUTPUT is too long, writing to stderr", NULL);
		else {
			strcpy(st_cfg.output, v);
			st_cfg.to_stderr = false;
			join_output_to_cwd();
		}
	} else if (v && !*v) {
		st_warn("SOCKTRACE_OUTPUT is empty, writing to stderr", NULL);
	}

	v = secure_getenv("SOCKTRACE_MODE");
	if (v && !st_outfile_mode(v, &st_cfg.mode))
		warn_value("SOCKTRACE_MODE must be an octal mode of read and write bits, the owner's both (such as 0640), "
			   "using 0600; got", v);

	v = secure_getenv("SOCKTRACE_FORMAT");
	if (v) {
		if (!strcmp(v, "text")) {
			st_cfg.format = ST_FMT_TEXT;
			format_given = true;
		} else if (!strcmp(v, "jsonl") || !strcmp(v, "json")) {
			st_cfg.format = ST_FMT_JSONL;
			format_given = true;
		} else {
			warn_value("SOCKTRACE_FORMAT must be text or jsonl, using the default; got", v);
		}
	}
	if (!format_given)
		st_cfg.format = st_cfg.to_stderr ? ST_FMT_TEXT : ST_FMT_JSONL;

	v = secure_getenv("SOCKTRACE_STACK");
	if (v && !parse_uint(v, 64, &st_cfg.stack)) {
		st_cfg.stack = 0;
		warn_value("SOCKTRACE_STACK must be a number of frames from 0 to 64, using 0; got", v);
	}

	v = secure_getenv("SOCKTRACE_PROBE");
	if (v) {
		if (!strcmp(v, "exit"))
			st_cfg.probe = ST_PROBE_EXIT;
		else if (!strcmp(v, "close"))
			st_cfg.probe = ST_PROBE_CLOSE;
		else if (!strcmp(v, "off"))
			st_cfg.probe = ST_PROBE_OFF;
		else
			warn_value("SOCKTRACE_PROBE must be exit, close or off, using exit; got", v);
	}

	v = secure_getenv("SOCKTRACE_FAMILIES");
	if (v) {
		unsigned long long mask;
		const char *bad;
		unsigned long badlen;
		if (st_families_parse(v, &mask, &bad, &badlen) > 0)
			st_cfg.families = mask;
		else
			warn_value("SOCKTRACE_FAMILIES must list " ST_FAMILY_WORDS ", recording every family; got", v);
	}
}
