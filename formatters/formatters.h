/* formatters.h - entry points of the show and check subcommands. */
#ifndef SOCKTRACE_FORMATTERS_H
#define SOCKTRACE_FORMATTERS_H

/* `socktrace check ...`: argv[0] is "check". Returns the exit status. */
int st_cmd_check(int argc, char **argv);

#endif
