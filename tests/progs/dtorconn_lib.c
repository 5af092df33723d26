/* SPDX-License-Identifier: MIT */
/* dtorconn_lib.c - a library that keeps a listener, a client and the
 * accepted end, and closes them in its own destructor (as C libraries
 * with __attribute__((destructor)) and C++ static teardown do).  The
 * preloaded shim is finalized before the libraries the program links. */
#include "tprog.h"

#include <unistd.h>

void conn_open(void);

static int l = -1, c = -1, s = -1;

void conn_open(void)
{
	tp_loopback_trio(&l, &c, &s);
}

__attribute__((destructor)) static void conn_teardown(void)
{
	close(c);
	close(s);
	close(l);
}
