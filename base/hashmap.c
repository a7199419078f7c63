/* hashmap: see hashmap.h. FNV-1a, linear probing, load factor <= 1/2. */
#include "hashmap.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t *find(const struct hashmap *m, const char *key)
{
	uint32_t mask = m->nslots - 1;
	for (uint32_t j = hash(key) & mask;; j = (j + 1) & mask) {
		uint32_t *s = &m->slots[j];
		if (*s == 0 || !strcmp(m->entries[*s - 1].key, key))
			return s;
	}
}

void *hashmap_get(const struct hashmap *m, const char *key)
{
	if (!m->nslots)
		return NULL;
	uint32_t *s = find(m, key);
	return *s ? m->entries[*s - 1].value : NULL;
}

static void grow(struct hashmap *m)
{
	uint32_t n = m->nslots ? m->nslots * 2 : 16;
	free(m->slots);
	m->slots = xcalloc(n, sizeof(*m->slots));
	m->nslots = n;
	for (uint32_t i = 0; i < m->n; i++)
		*find(m, m->entries[i].key) = i + 1;
}

void *hashmap_put(struct hashmap *m, const char *key, void *value)
{
	if ((m->n + 1) * 2 > m->nslots)
		grow(m);
	uint32_t *s = find(m, key);
	if (*s) {
		void *old = m->entries[*s - 1].value;
		m->entries[*s - 1].value = value;
		return old;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->entries = xrealloc(m->entries, m->cap * sizeof(*m->entries));
	}
	m->entries[m->n] = (struct hashmap_entry){key, value};
	*s = ++m->n;
	return NULL;
}

void hashmap_release(struct hashmap *m)
{
	free(m->slots);
	free(m->entries);
	*m = (struct hashmap)HASHMAP_INIT;
}
