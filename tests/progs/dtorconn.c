/* SPDX-License-Identifier: MIT */
/* dtorconn.c - a program whose sockets belong to a library it links
 * (dtorconn_lib.c): it calls conn_open() and returns; the library's
 * destructor closes them after main.
 * Facts: those of tp_loopback_trio, "main done pid=P".
 */
#include "tprog.h"

#include <stdio.h>
#include <unistd.h>

void conn_open(void);

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	conn_open();
	printf("main done pid=%d\n", (int)getpid());
	return 0;
}
