/*
 * Functions on lists and maps: length, lookup, range. All pure.
 */
#include "entries.h"
#include "fnlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- length(v) ----------------------------------------------------------------------------- */

static json_t *fn_length(json_t *const *args, size_t nargs, char **reterr)
{
	json_t *v = fnlib_arg(args, nargs, 0);
	size_t n = 0;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		/* code points: every byte that does not continue a sequence */
		for (size_t i = 0; i < len; i++)
			n += ((unsigned char)s[i] & 0xC0) != 0x80;
	} else if (json_is_array(v)) {
		n = json_array_size(v);
	} else if (json_is_object(v)) {
		n = json_object_size(v);
	} else {
		return fnlib_error(reterr, "length() takes a string, list or map, not %s",
		                   fnlib_type_name(v));
	}
	return json_integer((json_int_t)n);
}

static const struct kiln_arg length_args[] = {
    {"v", "string|list<any>|map<any>", true, NULL,
     "a string (its code points are counted), a list or a map (its entries)"},
    {0},
};

const struct kiln_schema fn_length_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "length",
    .doc = "the number of characters of a string, or of entries of a list or map",
    .args = length_args,
    .returns = "int",
    .fn = fn_length,
    .example = "let count = length([\"htop\", \"vim\"])",
};

/* ---- lookup(m, key, [default]) ------------------------------------------------------------- */

#define LOOKUP_KEYS_SHOWN 10

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "key 'x' not found; the keys are 'a', 'b' and 'c'" */
static json_t *missing_key(json_t *m, const char *key, char **reterr)
{
	size_t n = json_object_size(m), i = 0;
	struct strbuf b = STRBUF_INIT;
	const char *k;
	json_t *v;

	if (n == 0)
		return fnlib_error(reterr, "key '%s' not found in an empty map", key);
	const char **keys = malloc(n * sizeof(*keys));
	if (!keys)
		return fnlib_error(reterr, "key '%s' not found", key);
	json_object_foreach (m, k, v) {
		keys[i++] = k;
	}
	qsort(keys, n, sizeof(*keys), compare_keys);
	sb_addf(&b, "key '%s' not found; the key%s ", key, n == 1 ? " is" : "s are");
	for (i = 0; i < n && i < LOOKUP_KEYS_SHOWN; i++) {
		if (i > 0)
			sb_add(&b, i + 1 == n ? " and " : ", ", i + 1 == n ? 5 : 2);
		sb_addf(&b, "'%s'", keys[i]);
	}
	if (n > LOOKUP_KEYS_SHOWN)
		sb_addf(&b, " and %zu more", n - LOOKUP_KEYS_SHOWN);
	free(keys);
	if (reterr)
		*reterr = b.buf; /* the buffer's bytes become the message */
	else
		sb_release(&b);
	return NULL;
}

static json_t *fn_lookup(json_t *const *args, size_t nargs, char **reterr)
{
	json_t *m = fnlib_arg(args, nargs, 0);
	size_t len;
	const char *key = fnlib_string("lookup", "key", args, nargs, 1, &len, reterr);
	json_t *def = fnlib_arg(args, nargs, 2);

	if (!key)
		return NULL;
	if (!json_is_object(m))
		return fnlib_error(reterr, "argument 'm' of lookup() must be a map, not %s",
		                   fnlib_type_name(m));
	json_t *v = json_object_getn(m, key, len);
	if (v)
		return json_incref(v);
	if (def)
		return json_incref(def);
	return missing_key(m, key, reterr);
}

static const struct kiln_arg lookup_args[] = {
    {"m", "map<any>", true, NULL, "the map to look in"},
    {"key", "string", true, NULL, "the key to look up"},
    {"default", "any", false, NULL,
     "value when the key is missing; without it, a missing key is an error"},
    {0},
};

const struct kiln_schema fn_lookup_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "lookup",
    .doc = "the value of a key in a map, or a default when the key is missing",
    .args = lookup_args,
    .returns = "any",
    .fn = fn_lookup,
    .example = "let port = lookup({ http = 80, https = 443 }, \"https\", 8080)",
};

/* ---- range(a, [b]) ------------------------------------------------------------------------- */

#define RANGE_MAX 1000000

static json_t *fn_range(json_t *const *args, size_t nargs, char **reterr)
{
	json_int_t start = 0, end;

	if (!fnlib_int("range", "a", args, nargs, 0, &end, reterr))
		return NULL;
	if (fnlib_arg(args, nargs, 1)) {
		start = end;
		if (!fnlib_int("range", "b", args, nargs, 1, &end, reterr))
			return NULL;
	}
	if (end < start)
		return fnlib_error(reterr,
		                   "range() end %" JSON_INTEGER_FORMAT
		                   " is less than its start %" JSON_INTEGER_FORMAT,
		                   end, start);
	/* end >= start, so the difference fits in 64 unsigned bits */
	uint64_t count = (uint64_t)end - (uint64_t)start;
	if (count > RANGE_MAX)
		return fnlib_error(reterr, "range() of %llu numbers is longer than the limit of %d",
		                   (unsigned long long)count, RANGE_MAX);
	json_t *list = json_array();
	for (uint64_t i = 0; i < count; i++)
		json_array_append_new(list, json_integer((json_int_t)(start + (json_int_t)i)));
	return list;
}

static const struct kiln_arg range_args[] = {
    {"a", "int", true, NULL, "the end when alone (range(3) is [0, 1, 2]), else the start"},
    {"b", "int", false, NULL, "the end, not included (range(2, 5) is [2, 3, 4])"},
    {0},
};

const struct kiln_schema fn_range_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "range",
    .doc = "the ints from a start up to an end, not included (at most 1000000)",
    .args = range_args,
    .returns = "list<int>",
    .fn = fn_range,
    .example = "let ports = range(8080, 8084)",
};
