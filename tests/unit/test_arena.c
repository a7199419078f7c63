/* Unit tests of the arena and strbuf. */
#include "arena.h"
#include "check.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct arena a = ARENA_INIT;
	char *p = arena_alloc(&a, 10);
	CHECK(p != NULL);
	for (int i = 0; i < 10; i++)
		CHECK(p[i] == 0);
	CHECK((uintptr_t)p % 8 == 0);
	/* many small and some big allocations, all zeroed and distinct */
	char *prev = p;
	for (int i = 0; i < 10000; i++) {
		size_t n = (size_t)(i % 7 == 0 ? 100000 : 24);
		char *q = arena_alloc(&a, n);
		CHECK(q[0] == 0 && q[n - 1] == 0);
		memset(q, 0xAB, n);
		CHECK(q != prev);
		prev = q;
	}
	CHECK(!strcmp(arena_strdup(&a, "kiln"), "kiln"));
	CHECK(!strcmp(arena_strndup(&a, "kilnfile", 4), "kiln"));
	CHECK(!strcmp(arena_printf(&a, "%s:%d", "a", 7), "a:7"));
	int *v = arena_grow(&a, NULL, 0, 4, sizeof(int));
	v[3] = 9;
	int *w = arena_grow(&a, v, 4, 8, sizeof(int));
	CHECK(w[3] == 9 && w[7] == 0);
	arena_release(&a);
	CHECK(a.head == NULL);

	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		sb_addc(&sb, 'x');
	CHECK(sb.len == 1000 && sb.buf[1000] == '\0');
	sb_reset(&sb);
	sb_addf(&sb, "%d-%s", 42, "z");
	CHECK(!strcmp(sb.buf, "42-z"));
	char *d = sb_detach(&sb);
	CHECK(!strcmp(d, "42-z") && sb.buf == NULL);
	free(d);
	sb_release(&sb);
	return CHECK_DONE();
}
