/*
 * hashmap: string keys to pointers, open addressing. Keys are not copied:
 * they must outlive the map (arena strings). Insertion order is kept for
 * iteration (hashmap_at), so output built from a map is deterministic.
 */
#ifndef KILN_HASHMAP_H
#define KILN_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct hashmap {
	uint32_t *slots; /* index+1 into entries, 0 = empty */
	uint32_t nslots;
	struct hashmap_entry {
		const char *key;
		void *value;
	} * entries;
	uint32_t n, cap;
};

#define HASHMAP_INIT                                                                               \
	{                                                                                          \
		0                                                                                  \
	}

void *hashmap_get(const struct hashmap *m, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *hashmap_put(struct hashmap *m, const char *key, void *value);
static inline uint32_t hashmap_len(const struct hashmap *m)
{
	return m->n;
}
static inline struct hashmap_entry *hashmap_at(const struct hashmap *m, uint32_t i)
{
	return &m->entries[i];
}
void hashmap_release(struct hashmap *m);

#endif
