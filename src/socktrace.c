/* SPDX-License-Identifier: MIT */
/* socktrace.c - the command: dispatch to run, show, check.  Parses
 * nothing but the subcommand's name. */
#include <string.h>
#include "cli.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "show"))
		return st_cmd_show(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "check"))
		return st_cmd_check(argc - 1, argv + 1);
	return st_cmd_run(argc, argv);
}
