/* SPDX-License-Identifier: MIT */
/* fuzz.h - what the libFuzzer targets of fuzz/ share.
 *
 * Owns: handing one fuzz input to the code under test the way a user's
 * trace reaches it: as the command's stdin (a FILE * over the input's
 * bytes), with its stdout and stderr thrown away.  Never used by the
 * product; built by `make fuzz` only (fuzz/local.mk).
 */
#ifndef SOCKTRACE_FUZZ_H
#define SOCKTRACE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Runs fn(argc, argv) with stdin reading data[0..size) and stdout/stderr
 * going to /dev/null; returns fn's status. */
int fuzz_run_cmd(int (*fn)(int, char **), int argc, char **argv, const uint8_t *data,
		 size_t size);

#endif
