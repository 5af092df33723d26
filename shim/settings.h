/* SPDX-License-Identifier: MIT */
/* settings.h - what the environment asked of the shim.
 *
 * Owns: every SOCKTRACE_* variable the shim reads (documented in
 * socktrace(7); a test checks the two lists agree), read once with
 * secure_getenv at start.  Depends on log.h only.
 * Runs inside the traced program: no malloc, no stdio.
 */
#ifndef SOCKTRACE_SETTINGS_H
#define SOCKTRACE_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* the longest run id: SOCKTRACE_RUN's value, [A-Za-z0-9._:-] */
#define ST_RUN_MAX 64

enum st_format { ST_FMT_TEXT, ST_FMT_JSONL };
enum st_probe { ST_PROBE_EXIT, ST_PROBE_CLOSE, ST_PROBE_OFF };

struct st_config {
	bool to_stderr;
	char output[4096];	/* path template, %p expanded at open; a relative
				 * SOCKTRACE_OUTPUT joined to the directory this
				 * image started in (when that fits and is known) */
	/* a relative SOCKTRACE_OUTPUT, as the environment gave it ("" when it
	 * was absolute, or could not be joined): a program this image
	 * executes from another directory is given output_env (the
	 * "SOCKTRACE_OUTPUT=" entry with the joined path) in its place, so
	 * that it writes the same file (st_output_env_for) */
	char output_rel[4096];
	char output_env[sizeof("SOCKTRACE_OUTPUT=") + 4096];
	dev_t start_dev;	/* the directory output was joined to */
	ino_t start_ino;
	mode_t mode;		/* of a trace file the shim creates (SOCKTRACE_MODE) */
	enum st_format format;
	int stack;		/* frames per event, 0 none */
	enum st_probe probe;
	uint64_t families;	/* bit per AF_* value < 64; bit 63: others */
	bool ascii;		/* the locale's character set is not UTF-8: the text
				 * log escapes every byte >= 0x80 (st_render_set_ascii) */
	bool fallback;		/* SOCKTRACE_OUTPUT was given: where to write without the runner */
	char shm[256];		/* the runner's shared memory, "" none (SOCKTRACE_SHM) */
	char run[ST_RUN_MAX + 1];	/* the run's id (SOCKTRACE_RUN), "" none given:
					 * the run is unknown */
};
extern struct st_config st_cfg;

/* Reads the environment into st_cfg; a bad value gets one warning and the
 * default. */
void st_config_read(void);
/* The SOCKTRACE_OUTPUT entry a program executed now should get in place
 * of entry (an "SOCKTRACE_OUTPUT=VALUE" string of the environment it is
 * given): st_cfg.output_env when VALUE is this image's relative path and
 * the current directory is no longer the one it was joined to (the new
 * image would take it from there and write another file), else NULL
 * (leave the entry as it is).  One stat(2) of ".". */
const char *st_output_env_for(const char *entry);
/* Is this address family (AF_*) to be recorded? */
bool st_family_enabled(int family);

#endif
