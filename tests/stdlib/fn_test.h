/*
 * fn_test: calling built-in functions from unit tests. EXPECT(name, args,
 * want) calls function `name` through stdlib_call with the values of the
 * JSON array `args`, and compares:
 *   want "error: MSG"   the call fails with exactly MSG
 *   want "error~ TEXT"  the call fails with a message containing TEXT
 *   otherwise           the result, as compact JSON, equals want
 */
#ifndef KILN_FN_TEST_H
#define KILN_FN_TEST_H

#include "check.h"
#include "builtins.h"

#include <stdlib.h>
#include <string.h>

/* The result of the call as compact JSON, or "error: MSG"; malloc'd. */
static char *fn_test_call(const char *name, const char *args_json)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_FUNCTION, name);
	json_error_t jerr;
	json_t *args = json_loads(args_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	char *err = NULL, *text;

	if (!s || !json_is_array(args)) {
		fprintf(stderr, "bad test: function '%s', arguments %s\n", name, args_json);
		json_decref(args);
		return strdup("(bad test)");
	}
	size_t n = json_array_size(args);
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(args, i);
	json_t *ret = stdlib_call(s, v, n, &err);
	if (ret) {
		text = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	} else {
		size_t len = strlen(err ? err : "(no message)") + 8;
		text = malloc(len);
		snprintf(text, len, "error: %s", err ? err : "(no message)");
	}
	json_decref(ret);
	free(err);
	free(v);
	json_decref(args);
	return text;
}

static void fn_test_expect(const char *file, int line, const char *name, const char *args,
                           const char *want)
{
	char *got = fn_test_call(name, args);
	int ok;

	if (!strncmp(want, "error~ ", 7))
		ok = !strncmp(got, "error: ", 7) && strstr(got + 7, want + 7) != NULL;
	else
		ok = !strcmp(got, want);
	check_count++;
	if (!ok) {
		check_failures++;
		fprintf(stderr, "%s:%d: %s(%s)\n    want %s\n    got  %s\n", file, line, name, args,
		        want, got);
	}
	free(got);
}

#define EXPECT(name, args, want) fn_test_expect(__FILE__, __LINE__, name, args, want)

#endif
