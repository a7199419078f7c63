/*
 * registry: every schema of stdlib.def, found by kind and name. The table
 * is sorted once, on first use (C11 call_once, so threads may race to it):
 * by kind, then by name, so each kind is one contiguous, sorted slice.
 */
#include "entries.h"

#include "arena.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#define ENTRY(var) &var,
static const struct kiln_schema *const entries[] = {
#include "stdlib.def"
};
#undef ENTRY

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))
#define N_KINDS (SCHEMA_FUNCTION + 1) /* the kinds are 0, 1, ... in enum order */

static const struct kiln_schema *sorted[N_ENTRIES];
static const char *names[N_ENTRIES];
static size_t kind_start[N_KINDS], kind_count[N_KINDS];
static once_flag sorted_once = ONCE_FLAG_INIT;

static int compare_entries(const void *a, const void *b)
{
	const struct kiln_schema *x = *(const struct kiln_schema *const *)a;
	const struct kiln_schema *y = *(const struct kiln_schema *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void sort_entries(void)
{
	memcpy(sorted, entries, sizeof(entries));
	qsort(sorted, N_ENTRIES, sizeof(sorted[0]), compare_entries);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		size_t k = (size_t)sorted[i]->kind;

		names[i] = sorted[i]->name;
		if (kind_count[k]++ == 0)
			kind_start[k] = i;
	}
}

static bool valid_kind(enum kiln_schema_kind kind)
{
	return (unsigned)kind < N_KINDS;
}

size_t stdlib_all(enum kiln_schema_kind kind, const struct kiln_schema *const **ret_list)
{
	call_once(&sorted_once, sort_entries);
	if (!valid_kind(kind)) {
		*ret_list = sorted;
		return 0;
	}
	*ret_list = sorted + kind_start[kind];
	return kind_count[kind];
}

const struct kiln_schema *stdlib_lookup(enum kiln_schema_kind kind, const char *name)
{
	const struct kiln_schema *const *list;
	size_t lo = 0, hi = stdlib_all(kind, &list);

	if (!name)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, list[mid]->name);

		if (c == 0)
			return list[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *const *stdlib_names(enum kiln_schema_kind kind, size_t *ret_n)
{
	const struct kiln_schema *const *list;

	*ret_n = stdlib_all(kind, &list);
	return names + (list - sorted);
}

const char *stdlib_kind_name(enum kiln_schema_kind kind)
{
	switch (kind) {
	case SCHEMA_MODULE:
		return "module";
	case SCHEMA_BASE:
		return "base";
	case SCHEMA_OUTPUT:
		return "output";
	case SCHEMA_FUNCTION:
		return "function";
	}
	return "unknown";
}

const struct kiln_arg *stdlib_arg(const struct kiln_schema *s, const char *name)
{
	for (const struct kiln_arg *a = s && name ? s->args : NULL; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

bool stdlib_is_input(const struct kiln_schema *s, const char *name)
{
	for (const char *const *i = s && name ? s->inputs : NULL; i && *i; i++)
		if (!strcmp(*i, name))
			return true;
	return false;
}

char *stdlib_check_impls(enum kiln_schema_kind kind, const char *const *impl_names, size_t n)
{
	const char *what = stdlib_kind_name(kind);
	const struct kiln_schema *const *list;
	size_t nlist = stdlib_all(kind, &list);
	for (size_t i = 0; i < nlist; i++) {
		size_t found = 0;
		for (size_t j = 0; j < n; j++)
			found += !strcmp(impl_names[j], list[i]->name);
		if (found != 1)
			return xasprintf("%s %s has %zu implementations, not one", what,
			                 list[i]->name, found);
	}
	for (size_t j = 0; j < n; j++)
		if (!stdlib_lookup(kind, impl_names[j]))
			return xasprintf("%s %s is implemented but has no schema", what,
			                 impl_names[j]);
	return NULL;
}
