/*
 * types: kiln's static types. Built from the AST (param/let/role types),
 * from the stdlib's type strings, and by the checker for expressions.
 * Types live in the compilation's arena; the scalar ones are static.
 */
#ifndef KILN_TYPES_H
#define KILN_TYPES_H

#include "arena.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdint.h>

enum type_kind {
	T_ERROR, /* an expression that already failed: never reported again */
	T_ANY,   /* anything (facts' unknown parts, lookup's result) */
	T_NULL,
	T_BOOL,
	T_INT,
	T_STRING,
	T_SECRET, /* a string that is never shown */
	T_PATH,   /* a string naming a file */
	T_MODE,   /* a file mode: an octal int (0644) or a string ("0644", "u+rwx") */
	T_LIST,
	T_MAP,
	T_OBJECT,
	T_ENUM,
	T_UNION, /* one of alts */
};

struct type_field {
	const char *name;
	const struct type *type;
};

struct type {
	enum type_kind kind;
	const struct type *elem;         /* T_LIST, T_MAP */
	const struct type_field *fields; /* T_OBJECT, sorted by name */
	uint32_t nfields;
	const char *const *values; /* T_ENUM */
	uint32_t nvalues;
	const struct type *const *alts; /* T_UNION */
	uint32_t nalts;
};

extern const struct type type_error, type_any, type_null, type_bool, type_int, type_string,
    type_secret, type_path, type_mode;

const struct type *type_list(struct arena *a, const struct type *elem);
const struct type *type_map(struct arena *a, const struct type *elem);
/* fields are copied and sorted */
const struct type *type_object(struct arena *a, const struct type_field *fields, uint32_t n);
const struct type *type_enum(struct arena *a, const char *const *values, uint32_t n);
const struct type *type_union(struct arena *a, const struct type *const *alts, uint32_t n);

/* Parse the stdlib's type syntax ("list<string>", "enum(a, b)", "string|list<string>").
   Returns NULL on a malformed string. */
const struct type *type_parse(struct arena *a, const char *text);

/* Can a value of type `from` be used where `to` is expected? */
bool type_assignable(const struct type *to, const struct type *from);
/* The type both a and b fit (for list items and ?: branches), or NULL. */
const struct type *type_join(struct arena *a, const struct type *x, const struct type *y);
bool type_is_stringish(const struct type *t); /* string, secret, path */
bool type_enum_has(const struct type *t, const char *value);
/* The enum inside t (t itself or one of a union's alternatives), or NULL. */
const struct type *type_find_enum(const struct type *t);
const struct type_field *type_field(const struct type *t, const char *name);

/* "list<string>", "object(name: string)" */
void type_print(struct strbuf *sb, const struct type *t);
const char *type_str(struct arena *a, const struct type *t);

#endif
