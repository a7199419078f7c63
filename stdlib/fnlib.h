/*
 * fnlib: what the built-in functions (fn_*.c) share: reading arguments and
 * error messages (strings are built with base's strbuf). Internal to
 * stdlib/. Error messages follow the diagnostics' wording: lowercase, no
 * final period, names in '...'.
 */
#ifndef KILN_STDLIB_FNLIB_H
#define KILN_STDLIB_FNLIB_H

#include "builtins.h"
#include "strbuf.h" /* the functions build their strings with base's strbuf */
#include "utf8.h"

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

#endif
