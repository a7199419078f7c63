/*
 * fnlib: what the built-in functions (fn_*.c) share: reading arguments,
 * error messages, a growing byte buffer and a UTF-8 check. Internal to
 * stdlib/. Error messages follow the diagnostics' wording: lowercase, no
 * final period, names in '...'.
 */
#ifndef KILN_STDLIB_FNLIB_H
#define KILN_STDLIB_FNLIB_H

#include "builtins.h"

#include <stdbool.h>
#include <stddef.h>

/* args[i], or NULL when the call leaves it out (i past nargs, or a NULL hole). */
json_t *fnlib_arg(json_t *const *args, size_t nargs, size_t i);

/*
 * Set *reterr to a malloc'd message and return NULL, so that a function can
 * end with `return fnlib_error(reterr, ...);`.
 */
json_t *fnlib_error(char **reterr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The string argument args[i] of function `fn` (named `name` in its
 * schema): its bytes (NUL-terminated) and, if ret_len, its length. NULL
 * with *reterr set when the argument is missing or not a string.
 */
const char *fnlib_string(const char *fn, const char *name, json_t *const *args, size_t nargs,
                         size_t i, size_t *ret_len, char **reterr);

/* The int argument args[i]; false with *reterr set when missing or not an int. */
bool fnlib_int(const char *fn, const char *name, json_t *const *args, size_t nargs, size_t i,
               json_int_t *ret_value, char **reterr);

/*
 * A new string value holding s[0..len) (s may be NULL when len is 0), or
 * NULL with *reterr set if the bytes are not UTF-8.
 */
json_t *fnlib_stringn(const char *s, size_t len, char **reterr);

/* A value's type in the language's words: string, int, bool, list, map, null. */
const char *fnlib_type_name(const json_t *v);

/* Offset of the first byte of s[0..len) that is not valid UTF-8, or len if all are. */
size_t fnlib_utf8_check(const char *s, size_t len);

/* A growing byte buffer, always NUL-terminated once something was added. */
struct fnlib_buf {
	char *buf;
	size_t len, cap;
};

#define FNLIB_BUF_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Append n bytes; aborts when out of memory, like the rest of kiln. */
void fnlib_buf_add(struct fnlib_buf *b, const char *s, size_t n);
void fnlib_buf_addc(struct fnlib_buf *b, char c);
void fnlib_buf_addf(struct fnlib_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Free the bytes; the buffer is empty and reusable afterwards. */
void fnlib_buf_release(struct fnlib_buf *b);

#endif
