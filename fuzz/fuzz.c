/* SPDX-License-Identifier: MIT */
/* fuzz.c - see fuzz.h. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdlib.h>

static FILE *devnull;

int fuzz_run_cmd(int (*fn)(int, char **), int argc, char **argv, const uint8_t *data,
		 size_t size)
{
	FILE *saved_in = stdin, *saved_out = stdout, *saved_err = stderr, *in;
	int rc;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	/* fmemopen refuses a buffer of size 0 on older C libraries */
	in = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	if (!in)
		abort();
	stdin = in;
	stdout = devnull;
	stderr = devnull;
	rc = fn(argc, argv);
	stdin = saved_in;
	stdout = saved_out;
	stderr = saved_err;
	fclose(in);
	clearerr(devnull);
	return rc;
}
