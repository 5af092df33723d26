/* SPDX-License-Identifier: MIT */
/* model_map.c - the model's small hash map from 64-bit keys (a process's
 * descriptor, an inode) to sockets (see model_build.h).
 *
 * Owns: its buckets and entries, never the sockets.  Never prints.
 */
#include "model_build.h"

#include <stdlib.h>
#include <string.h>

static size_t hash64(uint64_t k, size_t nb)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)(k & (nb - 1));
}

static bool map_grow(struct st_map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 256;
	struct st_ent **b = calloc(nb, sizeof(*b));

	if (!b)
		return false;
	for (size_t i = 0; i < m->nb; i++)
		for (struct st_ent *e = m->b[i], *next; e; e = next) {
			size_t h = hash64(e->key, nb);
			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return true;
}

struct st_msock *st_map_get(const struct st_map *m, uint64_t key)
{
	if (!m->nb)
		return NULL;
	for (struct st_ent *e = m->b[hash64(key, m->nb)]; e; e = e->next)
		if (e->key == key)
			return e->sock;
	return NULL;
}

bool st_map_put(struct st_map *m, uint64_t key, struct st_msock *s, struct st_msock **old)
{
	struct st_ent *e;
	size_t h;

	*old = NULL;
	if (m->n >= m->nb && !map_grow(m))
		return false;
	h = hash64(key, m->nb);
	for (e = m->b[h]; e; e = e->next)
		if (e->key == key) {
			*old = e->sock;
			e->sock = s;
			return true;
		}
	e = malloc(sizeof(*e));
	if (!e)
		return false;
	e->key = key;
	e->sock = s;
	e->next = m->b[h];
	m->b[h] = e;
	m->n++;
	return true;
}

struct st_msock *st_map_del(struct st_map *m, uint64_t key)
{
	if (!m->nb)
		return NULL;
	for (struct st_ent **pe = &m->b[hash64(key, m->nb)]; *pe; pe = &(*pe)->next)
		if ((*pe)->key == key) {
			struct st_ent *e = *pe;
			struct st_msock *s = e->sock;
			*pe = e->next;
			free(e);
			m->n--;
			return s;
		}
	return NULL;
}

void st_map_free(struct st_map *m)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct st_ent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
