/* arena: bump allocation in chunks; see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	uint64_t data[];
};

/* 8-byte alignment serves every object kiln allocates here (no long double) */
enum { CHUNK_MIN = 64 * 1024, ALIGN = 8 };

static void oom(size_t n)
{
	fprintf(stderr, "kiln: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xvasprintf(const char *fmt, va_list ap)
{
	/* most texts are short: one pass into a buffer on the stack, a second only
	   for a longer one */
	char small[256];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		n = 0;
		small[0] = '\0';
	}
	char *p = xmalloc((size_t)n + 1);
	if ((size_t)n < sizeof(small))
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if ((size_t)(a->end - a->cur) < n) {
		size_t size = n > CHUNK_MIN / 4 ? n : CHUNK_MIN;
		struct arena_chunk *c = malloc(sizeof(*c) + size);
		if (!c)
			oom(size);
		c->size = size;
		a->total += size;
		if (size != CHUNK_MIN) {
			/* a big object gets a chunk of its own, keeping the current one */
			c->next = a->head ? a->head->next : NULL;
			if (a->head)
				a->head->next = c;
			else
				a->head = c;
			memset(c->data, 0, n);
			return c->data;
		}
		c->next = a->head;
		a->head = c;
		a->cur = (char *)c->data;
		a->end = a->cur + size;
	}
	void *p = a->cur;
	a->cur += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *tmp = xvasprintf(fmt, ap);
	va_end(ap);
	char *p = arena_strdup(a, tmp);
	free(tmp);
	return p;
}

void *arena_grow(struct arena *a, void *old, size_t old_n, size_t new_n, size_t size)
{
	void *p = arena_alloc(a, new_n * size);
	if (old_n)
		memcpy(p, old, old_n * size);
	return p;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	*a = (struct arena)ARENA_INIT;
}
