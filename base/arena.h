/*
 * arena: one region of memory per compilation. AST, IR, interned names and
 * strings are allocated here and freed all at once by arena_release().
 * Allocation never fails: out of memory aborts with a message (xmalloc).
 */
#ifndef KILN_ARENA_H
#define KILN_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	char *cur, *end;
	size_t total; /* bytes obtained from malloc, for statistics */
};

#define ARENA_INIT                                                                                 \
	{                                                                                          \
		0                                                                                  \
	}

/* Zeroed memory of n bytes, 8-byte aligned (enough for every kiln object). */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow an array owned by the arena: returns a copy with room for new_n items. */
void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t size);
void arena_release(struct arena *a);

/* malloc wrappers that abort with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
