/* show.c - placeholder until the formatters land: renders jsonl as text. */
#include "formatters.h"
#include <stdio.h>

int st_cmd_show(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "socktrace: show: not built yet\n");
	return 2;
}
