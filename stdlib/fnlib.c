/*
 * fnlib: helpers of the built-in functions. Nothing here prints; failures
 * become messages in *reterr, and out of memory aborts.
 */
#include "fnlib.h"

#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *fnlib_arg(json_t *const *args, size_t nargs, size_t i)
{
	return i < nargs ? args[i] : NULL;
}

json_t *fnlib_error(char **reterr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (reterr)
		*reterr = msg;
	else
		free(msg);
	return NULL;
}

const char *fnlib_type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_ARRAY:
		return "list";
	case JSON_OBJECT:
		return "map";
	case JSON_NULL:
		break;
	}
	return "null";
}

const char *fnlib_string(const char *fn, const char *name, json_t *const *args, size_t nargs,
                         size_t i, size_t *ret_len, char **reterr)
{
	json_t *v = fnlib_arg(args, nargs, i);

	if (!v) {
		fnlib_error(reterr, "%s() needs argument '%s'", fn, name);
		return NULL;
	}
	if (!json_is_string(v)) {
		fnlib_error(reterr, "argument '%s' of %s() must be a string, not %s", name, fn,
		            fnlib_type_name(v));
		return NULL;
	}
	if (ret_len)
		*ret_len = json_string_length(v);
	return json_string_value(v);
}

bool fnlib_int(const char *fn, const char *name, json_t *const *args, size_t nargs, size_t i,
               json_int_t *ret_value, char **reterr)
{
	json_t *v = fnlib_arg(args, nargs, i);

	if (!v) {
		fnlib_error(reterr, "%s() needs argument '%s'", fn, name);
		return false;
	}
	if (!json_is_integer(v)) {
		fnlib_error(reterr, "argument '%s' of %s() must be an int, not %s", name, fn,
		            fnlib_type_name(v));
		return false;
	}
	*ret_value = json_integer_value(v);
	return true;
}

json_t *fnlib_stringn(const char *s, size_t len, char **reterr)
{
	if (!s)
		s = "";
	size_t bad = utf8_validate((const unsigned char *)s, len);

	if (bad < len)
		return fnlib_error(reterr, "result is not valid UTF-8 (byte %zu)", bad);
	json_t *v = json_stringn_nocheck(s, len);
	if (!v) {
		fputs("kiln: out of memory\n", stderr);
		abort();
	}
	return v;
}
