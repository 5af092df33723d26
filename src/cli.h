/* cli.h - the socktrace command's parts. */
#ifndef SOCKTRACE_CLI_H
#define SOCKTRACE_CLI_H

/* `socktrace [-o FILE] [-f FORMAT] [--stack[=N]] [--probe=WHEN] [--] PROGRAM ...` */
int st_cmd_run(int argc, char **argv);

#endif
