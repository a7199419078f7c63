/*
 * fnlib: helpers of the built-in functions. Nothing here prints; failures
 * become messages in *reterr, and out of memory aborts.
 */
#include "fnlib.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fputs("kiln: out of memory\n", stderr);
		abort();
	}
	return q;
}

json_t *fnlib_arg(json_t *const *args, size_t nargs, size_t i)
{
	return i < nargs ? args[i] : NULL;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
	va_list ap2;

	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *s = xrealloc(NULL, (size_t)n + 1);
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) < 0)
		s[0] = '\0';
	return s;
}

json_t *fnlib_error(char **reterr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
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
	size_t bad = fnlib_utf8_check(s, len);

	if (bad < len)
		return fnlib_error(reterr, "result is not valid UTF-8 (byte %zu)", bad);
	json_t *v = json_stringn_nocheck(s, len);
	if (!v) {
		fputs("kiln: out of memory\n", stderr);
		abort();
	}
	return v;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t fnlib_utf8_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return i;
		i += n + 1;
	}
	return len;
}

void fnlib_buf_add(struct fnlib_buf *b, const char *s, size_t n)
{
	if (n >= SIZE_MAX / 2 - b->len) {
		fputs("kiln: out of memory\n", stderr);
		abort();
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->buf = xrealloc(b->buf, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void fnlib_buf_addc(struct fnlib_buf *b, char c)
{
	fnlib_buf_add(b, &c, 1);
}

void fnlib_buf_addf(struct fnlib_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	char *s = vformat(fmt, ap);
	va_end(ap);
	fnlib_buf_add(b, s, strlen(s));
	free(s);
}

void fnlib_buf_release(struct fnlib_buf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}
