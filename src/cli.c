/* SPDX-License-Identifier: MIT */
/* cli.c - what the commands' option parsers share (cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>

bool st_cli_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;	/* strtol would take a sign and blanks */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}
