/* SPDX-License-Identifier: MIT */
/* cli.h - the socktrace command's parts: one entry point per subcommand,
 * each parsing its own command line and returning its exit status.  Only
 * src/ (and the fuzz targets, which run the commands as a user would)
 * include it; nothing in formatters/ calls back into a command.
 */
#ifndef SOCKTRACE_CLI_H
#define SOCKTRACE_CLI_H

#include <stdbool.h>

/* `socktrace [-o FILE] [-f FORMAT] [--stack[=N]] [--probe=WHEN] [--] PROGRAM ...` */
int st_cmd_run(int argc, char **argv);
/* `socktrace show ...`: argv[0] is "show".  Returns the exit status: 0, or
 * 2 for a usage error or unusable input, 1 when a --pid or --port value
 * names no process or socket of the traces (said on stderr) or stdout
 * could not be written. */
int st_cmd_show(int argc, char **argv);
/* `socktrace check ...`: argv[0] is "check".  Returns the exit status: 0
 * every rule holds, 1 a violation, 2 a usage error or unusable input. */
int st_cmd_check(int argc, char **argv);

/* An option's decimal value (cli.c): s all digits (no sign, no blank),
 * within lo..hi, into *out.  false, *out untouched, otherwise. */
bool st_cli_number(const char *s, long lo, long hi, long *out);

#endif
