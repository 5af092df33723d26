/* SPDX-License-Identifier: MIT */
/* fuzz_show.c - libFuzzer target: one format of `socktrace show`.
 *
 * Built once per format with -DFUZZ_FORMAT='"timeline"' (fuzz/local.mk).
 * The input is the trace, read from stdin as `socktrace show -f FORMAT`
 * reads it; the output is thrown away.  Also with --color=always and a
 * --port filter, which take other paths through the formats.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT='\"text\"' (or another format)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *plain[] = { "show", "-f", FUZZ_FORMAT, "--utc", NULL };
	char *filtered[] = { "show", "-f", FUZZ_FORMAT, "--color=always", "--port", "8080", NULL };

	/* the retiring model at every event, no look-ahead (model_retire.c) */
	char *held[] = { "show", "-f", FUZZ_FORMAT, "--utc", "--hold=1", "--window=0", NULL };
	int rc;

	rc = fuzz_run_cmd(st_cmd_show, 4, plain, data, size);
	if (rc != 0 && rc != 2)
		abort();	/* show exits 0 or 2 (1 only when stdout fails) */
	rc = fuzz_run_cmd(st_cmd_show, 6, held, data, size);
	if (rc != 0 && rc != 2)
		abort();
	/* the filters need a port in the input; skip the second run otherwise */
	if (size && memmem(data, size, ":8080", 5))
		fuzz_run_cmd(st_cmd_show, 6, filtered, data, size);
	return 0;
}
