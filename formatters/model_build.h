/* SPDX-License-Identifier: MIT */
/* model_build.h - what the two passes of st_model_build share: model.c
 * (descriptors into sockets) and model_conns.c (sockets into connections).
 * Not for the formats nor the commands: they read the model through
 * model.h only.
 */
#ifndef SOCKTRACE_MODEL_BUILD_H
#define SOCKTRACE_MODEL_BUILD_H

#include <stddef.h>

#include "model.h"

/* Room for element n of an array of *cap elements of size bytes: p itself
 * while n < *cap, else p reallocated to twice *cap (16 the first time) and
 * *cap updated.  NULL when out of memory, p then untouched and still owned
 * by the caller. */
void *st_model_grow(void *p, size_t *cap, size_t n, size_t size);

/* The second pass: joins the ends of the TCP connections among m's sockets
 * into m->conns (each socket's conn set), fills in each connection's
 * endpoints, times, outcome and closer, and numbers them 1.. in time order.
 * Returns 0, or -1 when out of memory (m is then only fit for
 * st_model_free). */
int st_model_join(struct st_model *m);

#endif
