/* SPDX-License-Identifier: MIT */
/* fuzz_check.c - libFuzzer target: `socktrace check`, its --expect
 * pattern parser and matcher, and its rules.
 *
 * The input's first line is an --expect pattern, the rest the trace, as
 *   socktrace check --rule all --rule max-time-wait=0 --rule max-open=1
 *       --rule closed-by=client --expect 'FIRST LINE' <REST
 * would run it.  Exit status 0, 1 or 2; anything else is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	char *pattern, *argv[16];
	int argc = 0, rc;

	if (plen > 4096)
		return 0;
	pattern = malloc(plen + 1);
	if (!pattern)
		abort();
	memcpy(pattern, data, plen);
	pattern[plen] = '\0';
	argv[argc++] = "check";
	argv[argc++] = "--rule=all";
	argv[argc++] = "--rule=max-time-wait=0";
	argv[argc++] = "--rule=max-open=1";
	argv[argc++] = "--rule=closed-by=client";
	argv[argc++] = "--expect";
	argv[argc++] = pattern;
	argv[argc] = NULL;
	rc = fuzz_run_cmd(st_cmd_check, argc, argv, nl ? nl + 1 : data + size,
			  nl ? size - plen - 1 : 0);
	if (rc < 0 || rc > 2)
		abort();
	/* the same judged as a stream, letting go at every event
	 * (max-time-wait, which reads the whole trace, left out) */
	argc = 0;
	argv[argc++] = "check";
	argv[argc++] = "--rule=all";
	argv[argc++] = "--rule=max-open=1";
	argv[argc++] = "--rule=closed-by=client";
	argv[argc++] = "--hold=1";
	argv[argc++] = "--window=0";
	argv[argc++] = "--expect";
	argv[argc++] = pattern;
	argv[argc] = NULL;
	rc = fuzz_run_cmd(st_cmd_check, argc, argv, nl ? nl + 1 : data + size,
			  nl ? size - plen - 1 : 0);
	if (rc < 0 || rc > 2)
		abort();
	free(pattern);
	return 0;
}
