/* SPDX-License-Identifier: MIT */
/* model_build.h - what the two passes of st_model_build share: model.c
 * (descriptors into sockets) and model_conns.c (sockets into connections).
 * Not for the formats nor the commands: they read the model through
 * model.h only.
 */
#ifndef SOCKTRACE_MODEL_BUILD_H
#define SOCKTRACE_MODEL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A small map from 64-bit keys to sockets (model_map.c): chained buckets,
 * a power of two of them, grown at load 1.  It never owns the sockets. */
struct st_ent {
	uint64_t key;
	struct st_msock *sock;
	struct st_ent *next;
};

struct st_map {
	struct st_ent **b;
	size_t nb, n;
};

/* the socket at key, or NULL */
struct st_msock *st_map_get(const struct st_map *m, uint64_t key);
/* s at key; *old the socket it replaced, or NULL.  false when out of
 * memory (the map unchanged) */
bool st_map_put(struct st_map *m, uint64_t key, struct st_msock *s, struct st_msock **old);
/* removes key; the socket it held, or NULL */
struct st_msock *st_map_del(struct st_map *m, uint64_t key);
/* frees the buckets and entries; the map is then empty */
void st_map_free(struct st_map *m);

/* Room for element n of an array of *cap elements of size bytes: p itself
 * while n < *cap, else p reallocated to twice *cap (16 the first time) and
 * *cap updated.  NULL when out of memory, p then untouched and still owned
 * by the caller. */
void *st_model_grow(void *p, size_t *cap, size_t n, size_t size);
/* The same, with first elements the first time instead of 16. */
void *st_model_grow_from(void *p, size_t *cap, size_t n, size_t size, size_t first);

/* The second pass: joins the ends of the TCP connections among m's sockets
 * into m->conns (each socket's conn set), fills in each connection's
 * endpoints, times, outcome and closer, and numbers them 1.. in time order.
 * Returns 0, or -1 when out of memory (m is then only fit for
 * st_model_free). */
int st_model_join(struct st_model *m);

/* ---- retiring (model_retire.c; st_model_retiring) ---- */

/* r's reference count less one (st_rec.refs); freed, retiring, when
 * nothing holds it any more */
void st_model_unref(struct st_model *m, struct st_rec *r);
/* r added to the records kept to the end (m->pinned).  -1 when out of
 * memory. */
int st_model_pin(struct st_model *m, struct st_rec *r);
/* Lets go of s's events (and of its end's), each freed when nothing else
 * holds it; the records that named s no longer do (st_rec.sock, lsock). */
void st_model_drop_events(struct st_model *m, struct st_msock *s);
/* Clears st_msock.retiring of every socket a descriptor still names, or an
 * untraced end may give back (st_proc.held) (model.c). */
void st_model_unmark_held(struct st_model *m);
/* m->socks in the order a sorted trace would have made them known
 * (st_msock.seen_us, seen_order), retiring; else as they are */
void st_model_order_socks(struct st_model *m);
/* s gone from the builder's maps by inode (model.c) */
void st_model_forget(struct st_model *m, struct st_msock *s);
/* s's final_state from its last event that tells one, when nothing set it */
void st_model_settle(struct st_msock *s);
/* A round's joining: the connections of the TCP ends marked retiring
 * (st_msock.retiring) into m->conns (which holds only them), each end's
 * other end looked for among the sockets m still holds; an end whose other
 * end is not to retire yet, or a client a traced listener still open may
 * yet accept, is unmarked.  Numbered on from m->conns_retired, in time
 * order.  -1 when out of memory (model_conns.c). */
int st_model_join_round(struct st_model *m);

#endif
