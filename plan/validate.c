/*
 * validate: check a whole plan before apply acts on it; see plan_view.h and
 * docs/plan-format.md ("Validation"). The first fault is reported with the
 * JSON path that leads to it. Keys the checks do not know are left alone, so
 * a plan may carry more than this kiln reads.
 */
#include "plan_binop.h"
#include "plan_format.h"
#include "plan_view.h"

#include "arena.h"
#include "builtins.h"
#include "path.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 1000 };

struct vstate {
	struct rt_error *err;
	json_t *params;
	json_t *groups;
	int climb; /* how many ".." a relative build-machine path may start with */
	char path[768];
	size_t len;
	bool failed;
};

/* ---- the JSON path -------------------------------------------------------- */

/* A key written .key in a path; others are written ["key"]. */
static bool plain_key(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return false;
	return strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-$") ==
	       strlen(k);
}

static size_t push_key(struct vstate *v, const char *key)
{
	size_t old = v->len;
	size_t room = sizeof(v->path) - v->len;
	int n = plain_key(key) ? snprintf(v->path + v->len, room, "%s%s", v->len ? "." : "", key)
	                       : snprintf(v->path + v->len, room, "[\"%s\"]", key);
	v->len = n < 0 ? v->len : (size_t)n >= room ? sizeof(v->path) - 1 : v->len + (size_t)n;
	return old;
}

static size_t push_index(struct vstate *v, size_t i)
{
	size_t old = v->len;
	size_t room = sizeof(v->path) - v->len;
	int n = snprintf(v->path + v->len, room, "[%zu]", i);
	v->len = n < 0 ? v->len : (size_t)n >= room ? sizeof(v->path) - 1 : v->len + (size_t)n;
	return old;
}

static void pop(struct vstate *v, size_t old)
{
	v->len = old;
	v->path[old] = '\0';
}

static int fail(struct vstate *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct vstate *v, const char *fmt, ...)
{
	if (v->failed)
		return -1;
	v->failed = true;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	rt_error_set(v->err, -EINVAL, "plan: %s: %s", v->len ? v->path : "(top level)", msg);
	free(msg);
	/* names and keys come from the file: no control character reaches a terminal */
	for (char *c = v->err ? v->err->msg : NULL; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

static const char *kind_of(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "a map";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an int";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a bool";
	default:
		return "null";
	}
}

/* ---- fields --------------------------------------------------------------- */

enum want { W_ANY, W_STRING, W_LIST, W_MAP, W_INT, W_BOOL, W_IDENT };

static bool is_expr(json_t *j)
{
	return json_is_object(j) && json_object_size(j) == 1 && json_object_get(j, PLAN_K_EXPR);
}

static int check_want(struct vstate *v, json_t *j, enum want w)
{
	static const char *const names[] = {"a value", "a string", "a list", "a map",
	                                    "an int",  "a bool",   "a name"};
	bool ok = w == W_ANY || (w == W_STRING && json_is_string(j)) ||
	          (w == W_LIST && json_is_array(j)) || (w == W_MAP && json_is_object(j)) ||
	          (w == W_INT && json_is_integer(j)) || (w == W_BOOL && json_is_boolean(j)) ||
	          (w == W_IDENT && json_is_string(j));
	if (!ok)
		return fail(v, "expected %s, got %s", names[w], kind_of(j));
	if (w == W_IDENT && !plan_is_identifier(json_string_value(j)))
		return fail(v, "'%s' is not a name ([A-Za-z_][A-Za-z0-9_-]*)",
		            json_string_value(j));
	return 0;
}

/* o[key] into *out (NULL when absent and not required). */
static int field(struct vstate *v, json_t *o, const char *key, enum want w, bool required,
                 json_t **out)
{
	json_t *j = json_object_get(o, key);
	*out = j;
	if (!j) {
		if (!required)
			return 0;
		return fail(v, "the key \"%s\" is missing", key);
	}
	size_t old = push_key(v, key);
	int r = check_want(v, j, w);
	pop(v, old);
	return r;
}

/* ---- expression trees ----------------------------------------------------- */

static int check_tree(struct vstate *v, json_t *t, int depth);

static int check_tree_list(struct vstate *v, json_t *a, size_t from, int depth)
{
	for (size_t i = from; i < json_array_size(a); i++) {
		size_t old = push_index(v, i);
		int r = check_tree(v, json_array_get(a, i), depth + 1);
		pop(v, old);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_tree(struct vstate *v, json_t *t, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(v, "an expression nested deeper than %d", MAX_DEPTH);
	if (!json_is_object(t) || json_object_size(t) != 1)
		return fail(v,
		            "expected an expression (a map with one key: const, fact, secret, "
		            "op, not, neg, if, concat, call, get, index, list or map), got %s",
		            json_is_object(t) ? "a map with another number of keys" : kind_of(t));
	const char *k = json_object_iter_key(json_object_iter(t));
	json_t *a = json_object_iter_value(json_object_iter(t));
	size_t old = push_key(v, k);
	int r = 0;
	if (!strcmp(k, PLAN_E_CONST)) {
		/* any value */
	} else if (!strcmp(k, PLAN_E_FACT)) {
		r = check_want(v, a, W_STRING);
	} else if (!strcmp(k, PLAN_E_SECRET)) {
		r = check_want(v, a, W_STRING);
		if (!r && !json_object_get(json_object_get(v->params, json_string_value(a)),
		                           PLAN_K_SECRET))
			r = fail(v, "'%s' is not a secret param of the plan", json_string_value(a));
	} else if (!strcmp(k, PLAN_E_NOT) || !strcmp(k, PLAN_E_NEG)) {
		r = check_tree(v, a, depth + 1);
	} else if (!strcmp(k, PLAN_E_OP)) {
		if (!json_is_array(a) || json_array_size(a) != 3)
			r = fail(v, "expected a list [OPERATOR, A, B], got %s", kind_of(a));
		else if (!plan_binop_known(json_string_value(json_array_get(a, 0))))
			r = fail(v, "not an operator (== != < <= > >= && || + - * / %%)");
		else
			r = check_tree_list(v, a, 1, depth);
	} else if (!strcmp(k, PLAN_E_IF)) {
		if (!json_is_array(a) || json_array_size(a) != 3)
			r = fail(v, "expected a list [CONDITION, A, B], got %s", kind_of(a));
		else
			r = check_tree_list(v, a, 0, depth);
	} else if (!strcmp(k, PLAN_E_CONCAT) || !strcmp(k, PLAN_E_LIST)) {
		r = check_want(v, a, W_LIST);
		if (!r)
			r = check_tree_list(v, a, 0, depth);
	} else if (!strcmp(k, PLAN_E_CALL)) {
		const char *fn = json_string_value(json_array_get(a, 0));
		const struct kiln_schema *s = fn ? stdlib_lookup(SCHEMA_FUNCTION, fn) : NULL;
		if (!json_is_array(a) || !fn)
			r = fail(v, "expected a list [\"FUNCTION\", ARG, ...], got %s", kind_of(a));
		else if (!s)
			r = fail(v, "no function '%s' in this kiln (kiln doc lists them)", fn);
		else
			r = check_tree_list(v, a, 1, depth);
	} else if (!strcmp(k, PLAN_E_GET)) {
		if (!json_is_array(a) || json_array_size(a) != 2 ||
		    !json_is_string(json_array_get(a, 1)))
			r = fail(v, "expected a list [A, \"KEY\"], got %s", kind_of(a));
		else {
			size_t o2 = push_index(v, 0);
			r = check_tree(v, json_array_get(a, 0), depth + 1);
			pop(v, o2);
		}
	} else if (!strcmp(k, PLAN_E_INDEX)) {
		if (!json_is_array(a) || json_array_size(a) != 2)
			r = fail(v, "expected a list [A, I], got %s", kind_of(a));
		else
			r = check_tree_list(v, a, 0, depth);
	} else if (!strcmp(k, PLAN_E_MAP)) {
		r = check_want(v, a, W_MAP);
		const char *mk;
		json_t *x;
		json_object_foreach (r ? NULL : a, mk, x) {
			size_t o2 = push_key(v, mk);
			r = check_tree(v, x, depth + 1);
			pop(v, o2);
			if (r < 0)
				break;
		}
	} else {
		r = fail(v, "not a kind of expression this kiln knows");
	}
	pop(v, old);
	return r;
}

/* Every {"$expr": TREE} inside a plan value is a well-formed tree. */
static int check_value_exprs(struct vstate *v, json_t *j, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(v, "a value nested deeper than %d", MAX_DEPTH);
	if (is_expr(j)) {
		size_t old = push_key(v, PLAN_K_EXPR);
		int r = check_tree(v, json_object_get(j, PLAN_K_EXPR), 0);
		pop(v, old);
		return r;
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *x;
		json_object_foreach (j, k, x) {
			size_t old = push_key(v, k);
			int r = check_value_exprs(v, x, depth + 1);
			pop(v, old);
			if (r < 0)
				return -1;
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *x;
		json_array_foreach (j, i, x) {
			size_t old = push_index(v, i);
			int r = check_value_exprs(v, x, depth + 1);
			pop(v, old);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

/* Does a plan value hold a deferred part? */
static bool has_expr(json_t *j, int depth)
{
	if (is_expr(j) || depth > MAX_DEPTH)
		return true;
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(j))
		json_object_foreach (j, k, x) {
			if (has_expr(x, depth + 1))
				return true;
		}
	if (json_is_array(j))
		json_array_foreach (j, i, x) {
			if (has_expr(x, depth + 1))
				return true;
		}
	return false;
}

/* ---- types of arguments --------------------------------------------------- */

static void trim(const char **t, size_t *n)
{
	while (*n && (**t == ' ' || **t == '\t'))
		(*t)++, (*n)--;
	while (*n && ((*t)[*n - 1] == ' ' || (*t)[*n - 1] == '\t'))
		(*n)--;
}

/* Is the word t[0..n) exactly w? */
static bool word_is(const char *t, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(t, w, n);
}

/* The next part of a list separated by sep at bracket depth 0: its length. */
static size_t part_len(const char *t, size_t n, char sep)
{
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '<' || t[i] == '(')
			depth++;
		else if (t[i] == '>' || t[i] == ')')
			depth--;
		else if (t[i] == sep && depth == 0)
			return i;
	}
	return n;
}

/* chmod's symbolic modes: "u=rw,go=r", "a+x" */
static bool symbolic_mode_ok(const char *s)
{
	if (!*s)
		return false;
	for (;;) {
		s += strspn(s, "ugoa");
		if (!strchr("+-=", *s) || !*s)
			return false;
		while (*s && strchr("+-=", *s))
			s += 1 + strspn(s + 1, "rwxXstugo");
		if (!*s)
			return true;
		if (*s++ != ',')
			return false;
	}
}

static bool mode_ok(json_t *j)
{
	if (json_is_integer(j))
		return json_integer_value(j) >= 0 && json_integer_value(j) <= 07777;
	if (!json_is_string(j))
		return false;
	/* during the move to ints, "0644" (octal digits) is still read */
	const char *s = json_string_value(j);
	size_t n = strlen(s);
	if (n > 0 && n <= 5 && strspn(s, "01234567") == n)
		return strtol(s, NULL, 8) <= 07777;
	return symbolic_mode_ok(s);
}

static bool type_accepts(const char *t, size_t n, json_t *j, int depth);

static bool one_type_accepts(const char *t, size_t n, json_t *j, int depth)
{
	trim(&t, &n);
	if (is_expr(j) || word_is(t, n, "any"))
		return true;
	if (word_is(t, n, "bool"))
		return json_is_boolean(j);
	if (word_is(t, n, "int"))
		return json_is_integer(j);
	if (word_is(t, n, "string") || word_is(t, n, "secret") || word_is(t, n, "path"))
		return json_is_string(j);
	if (word_is(t, n, "mode"))
		return mode_ok(j);
	if (n > 6 && !memcmp(t, "list<", 5) && t[n - 1] == '>') {
		if (!json_is_array(j))
			return false;
		size_t i;
		json_t *x;
		json_array_foreach (j, i, x) {
			if (!type_accepts(t + 5, n - 6, x, depth + 1))
				return false;
		}
		return true;
	}
	if (n > 5 && !memcmp(t, "map<", 4) && t[n - 1] == '>') {
		if (!json_is_object(j))
			return false;
		const char *k;
		json_t *x;
		json_object_foreach (j, k, x) {
			if (!type_accepts(t + 4, n - 5, x, depth + 1))
				return false;
		}
		return true;
	}
	if (n > 6 && !memcmp(t, "enum(", 5) && t[n - 1] == ')') {
		if (!json_is_string(j))
			return false;
		const char *p = t + 5;
		size_t rest = n - 6;
		while (rest) {
			size_t m = part_len(p, rest, ',');
			const char *w = p;
			size_t wn = m;
			trim(&w, &wn);
			if (word_is(w, wn, json_string_value(j)))
				return true;
			p += m < rest ? m + 1 : m;
			rest -= m < rest ? m + 1 : m;
		}
		return false;
	}
	if (n > 8 && !memcmp(t, "object(", 7) && t[n - 1] == ')')
		return json_is_object(j);
	return false;
}

static bool type_accepts(const char *t, size_t n, json_t *j, int depth)
{
	if (depth > MAX_DEPTH)
		return false;
	while (n) {
		size_t m = part_len(t, n, '|');
		if (one_type_accepts(t, m, j, depth))
			return true;
		t += m < n ? m + 1 : m;
		n -= m < n ? m + 1 : m;
	}
	return false;
}

static bool type_has_path(const char *t)
{
	const char *p = strstr(t, "path");
	return p && (p == t || p[-1] == '|' || p[-1] == '<' || p[-1] == ' ');
}

/* ---- build-machine paths -------------------------------------------------- */

static int leading_dotdots(const char *p)
{
	int n = 0;
	while (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
		n++;
		p += p[2] ? 3 : 2;
	}
	return n;
}

static int check_path(struct vstate *v, const char *p)
{
	if (!*p)
		return fail(v, "an empty path");
	size_t n = strlen(p);
	/* a trailing slash (copy: "the directory's contents") is kept by the compiler */
	char *bare = xstrndup(p, n > 1 && p[n - 1] == '/' ? n - 1 : n);
	char *norm = path_normalize(bare);
	int r = 0;
	if (strcmp(norm, bare))
		r = fail(v, "the path '%s' is not in normal form ('%s'); compile the plan again", p,
		         norm);
	else if (p[0] != '/' && leading_dotdots(norm) > v->climb)
		r = fail(v,
		         "the path '%s' leads out of the build's directories (paths are relative "
		         "to the directory of the first file compiled)",
		         p);
	free(norm);
	free(bare);
	return r;
}

/* Every string of a value of a path type (a list<path> too) is a sound path. */
static int check_paths_in(struct vstate *v, json_t *j)
{
	if (json_is_string(j))
		return check_path(v, json_string_value(j));
	if (json_is_array(j)) {
		size_t i;
		json_t *x;
		json_array_foreach (j, i, x) {
			size_t old = push_index(v, i);
			int r = check_paths_in(v, x);
			pop(v, old);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- arguments against a schema ------------------------------------------- */

static const struct kiln_arg *arg_of(const struct kiln_schema *s, const char *name)
{
	for (const struct kiln_arg *a = s->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* Arguments the compiler adds beside the schema's: a template's rendered text. */
static const char *extra_arg_type(const struct kiln_schema *s, const char *name)
{
	if (s->kind == SCHEMA_MODULE && !strcmp(s->name, "template") && !strcmp(name, "content"))
		return "string";
	return NULL;
}

/* args (an object) against schema s; skip: an argument kept out of args (an output's path). */
static int check_args(struct vstate *v, json_t *args, const struct kiln_schema *s, const char *skip)
{
	const char *kind = stdlib_kind_name(s->kind);
	const char *k;
	json_t *x;
	json_object_foreach (args, k, x) {
		size_t old = push_key(v, k);
		const struct kiln_arg *a = arg_of(s, k);
		const char *type = a ? a->type : extra_arg_type(s, k);
		int r = 0;
		if (!type)
			r = fail(v, "%s '%s' has no argument '%s' (kiln doc %s lists them)", kind,
			         s->name, k, s->name);
		else if (!type_accepts(type, strlen(type), x, 0))
			r = fail(v, "expected %s, got %s", type, kind_of(x));
		else if (check_value_exprs(v, x, 0) < 0)
			r = -1;
		else if (a && type_has_path(type))
			r = check_paths_in(v, x);
		pop(v, old);
		if (r < 0)
			return -1;
	}
	for (const struct kiln_arg *a = s->args; a && a->name; a++)
		if (a->required && (!skip || strcmp(a->name, skip)) &&
		    !json_object_get(args, a->name))
			return fail(v, "%s '%s' needs the argument '%s'", kind, s->name, a->name);
	return 0;
}

/* ---- the parts of a plan -------------------------------------------------- */

/* o[key] is a list; run each(element) with the path extended. */
typedef int (*each_fn)(struct vstate *v, json_t *elem, void *data);

static int each_of(struct vstate *v, json_t *o, const char *key, bool required, each_fn fn,
                   void *data)
{
	json_t *list;
	if (field(v, o, key, W_LIST, required, &list) < 0)
		return -1;
	size_t old = push_key(v, key);
	size_t i;
	json_t *x;
	int r = 0;
	json_array_foreach (list, i, x) {
		size_t o2 = push_index(v, i);
		r = json_is_object(x) ? fn(v, x, data)
		                      : fail(v, "expected a map, got %s", kind_of(x));
		pop(v, o2);
		if (r < 0)
			break;
	}
	pop(v, old);
	return r;
}

/* o[key], when present, is of kind w or a deferred value. */
static int check_deferrable(struct vstate *v, json_t *o, const char *key, enum want w)
{
	json_t *j = json_object_get(o, key);
	if (!j)
		return 0;
	size_t old = push_key(v, key);
	int r = is_expr(j) ? check_value_exprs(v, j, 0) : check_want(v, j, w);
	pop(v, old);
	return r;
}

static int check_source(struct vstate *v, json_t *o)
{
	json_t *j;
	return field(v, o, PLAN_K_SOURCE, W_STRING, true, &j);
}

static int check_task(struct vstate *v, json_t *t, void *data)
{
	json_t *handlers = data, *j, *module, *args;
	if (field(v, t, PLAN_K_ID, W_STRING, true, &j) < 0 || check_source(v, t) < 0 ||
	    field(v, t, PLAN_K_MODULE, W_STRING, true, &module) < 0 ||
	    field(v, t, PLAN_K_ARGS, W_MAP, true, &args) < 0 ||
	    field(v, t, PLAN_K_ROLE, W_IDENT, false, &j) < 0)
		return -1;
	const char *name = json_string_value(module);
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, name);
	if (!s) {
		size_t old = push_key(v, PLAN_K_MODULE);
		fail(v, "no module '%s' in this kiln (kiln doc lists the modules)", name);
		pop(v, old);
		return -1;
	}
	size_t old = push_key(v, PLAN_K_ARGS);
	int r = check_args(v, args, s, NULL);
	pop(v, old);
	if (r < 0)
		return -1;
	if (check_deferrable(v, t, PLAN_K_LABEL, W_STRING) < 0 ||
	    check_deferrable(v, t, PLAN_K_WHEN, W_BOOL) < 0 ||
	    check_deferrable(v, t, PLAN_K_IGNORE_ERRORS, W_BOOL) < 0)
		return -1;
	json_t *notify;
	if (field(v, t, PLAN_K_NOTIFY, W_LIST, false, &notify) < 0)
		return -1;
	old = push_key(v, PLAN_K_NOTIFY);
	size_t i;
	json_array_foreach (notify, i, j) {
		size_t o2 = push_index(v, i);
		r = check_want(v, j, W_IDENT);
		bool found = false;
		size_t hi;
		json_t *h;
		json_array_foreach (handlers, hi, h) {
			found |= json_equal(json_object_get(h, PLAN_K_NAME), j);
		}
		if (!r && !found)
			r = fail(v, "no handler '%s' here", json_string_value(j));
		pop(v, o2);
		if (r < 0)
			break;
	}
	pop(v, old);
	return r;
}

/* A stage, handler or test (named by an identifier unless it is a test). */
struct block_kind {
	bool ident_name;
	json_t *handlers;
};

static int check_block(struct vstate *v, json_t *b, void *data)
{
	const struct block_kind *bk = data;
	json_t *j = json_object_get(b, PLAN_K_NAME);
	/* a test's name is a string, deferred when it reads a fact */
	bool deferred_name = !bk->ident_name && is_expr(j);
	if (deferred_name) {
		size_t old = push_key(v, PLAN_K_NAME);
		int r = check_value_exprs(v, j, 0);
		pop(v, old);
		if (r < 0)
			return -1;
	}
	if ((!deferred_name &&
	     field(v, b, PLAN_K_NAME, bk->ident_name ? W_IDENT : W_STRING, true, &j) < 0) ||
	    check_source(v, b) < 0 || field(v, b, PLAN_K_ROLE, W_IDENT, false, &j) < 0)
		return -1;
	return each_of(v, b, PLAN_K_TASKS, true, check_task, bk->handlers);
}

static int check_output(struct vstate *v, json_t *o, void *data)
{
	json_t *type, *path, *args;
	if (field(v, o, PLAN_K_TYPE, W_STRING, true, &type) < 0 || check_source(v, o) < 0 ||
	    field(v, o, PLAN_K_PATH, W_STRING, true, &path) < 0 ||
	    field(v, o, PLAN_K_ARGS, W_MAP, true, &args) < 0)
		return -1;
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, json_string_value(type));
	size_t old = push_key(v, s ? PLAN_K_PATH : PLAN_K_TYPE);
	int r = s ? check_path(v, json_string_value(path))
	          : fail(v, "no output '%s' in this kiln (kiln doc lists the outputs)",
	                 json_string_value(type));
	pop(v, old);
	if (r < 0)
		return -1;
	old = push_key(v, PLAN_K_ARGS);
	r = check_args(v, args, s, s->label);
	pop(v, old);
	return r;
}

static int check_from(struct vstate *v, json_t *from, json_t *images, size_t self)
{
	json_t *img, *base, *args;
	if (field(v, from, PLAN_K_IMAGE, W_IDENT, false, &img) < 0 ||
	    field(v, from, PLAN_K_BASE, W_STRING, false, &base) < 0)
		return -1;
	if (!img == !base)
		return fail(v, "expected {\"image\": NAME} or {\"base\": NAME, \"args\": {...}}");
	if (img) {
		for (size_t i = 0; i < self; i++)
			if (json_equal(json_object_get(json_array_get(images, i), PLAN_K_NAME),
			               img))
				return 0;
		size_t old = push_key(v, PLAN_K_IMAGE);
		fail(v, "no image '%s' before this one in the plan (parents come first)",
		     json_string_value(img));
		pop(v, old);
		return -1;
	}
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_BASE, json_string_value(base));
	if (!s) {
		size_t old = push_key(v, PLAN_K_BASE);
		fail(v, "no base '%s' in this kiln (kiln doc lists the bases)",
		     json_string_value(base));
		pop(v, old);
		return -1;
	}
	if (field(v, from, PLAN_K_ARGS, W_MAP, true, &args) < 0)
		return -1;
	size_t old = push_key(v, PLAN_K_ARGS);
	int r = check_args(v, args, s, NULL);
	pop(v, old);
	return r;
}

struct images_ctx {
	json_t *images;
	size_t index;
};

static int check_image(struct vstate *v, json_t *img, void *data)
{
	struct images_ctx *ic = data;
	size_t self = ic->index++;
	json_t *name, *from, *j, *handlers;
	if (field(v, img, PLAN_K_NAME, W_IDENT, true, &name) < 0 || check_source(v, img) < 0 ||
	    field(v, img, PLAN_K_FROM, W_MAP, true, &from) < 0 ||
	    check_deferrable(v, img, PLAN_K_DESCRIPTION, W_STRING) < 0 ||
	    field(v, img, PLAN_K_CONFIG, W_MAP, false, &j) < 0 ||
	    field(v, img, PLAN_K_HANDLERS, W_LIST, true, &handlers) < 0)
		return -1;
	for (size_t i = 0; i < self; i++)
		if (json_equal(json_object_get(json_array_get(ic->images, i), PLAN_K_NAME), name)) {
			size_t old = push_key(v, PLAN_K_NAME);
			fail(v, "a second image named '%s'", json_string_value(name));
			pop(v, old);
			return -1;
		}
	size_t old = push_key(v, PLAN_K_FROM);
	int r = check_from(v, from, ic->images, self);
	pop(v, old);
	if (r < 0)
		return -1;
	if (j) {
		old = push_key(v, PLAN_K_CONFIG);
		r = check_value_exprs(v, j, 0);
		pop(v, old);
		if (r < 0)
			return -1;
	}
	struct block_kind stage = {true, handlers}, handler = {true, handlers},
	                  test = {false, handlers};
	return each_of(v, img, PLAN_K_STAGES, true, check_block, &stage) < 0 ||
	               each_of(v, img, PLAN_K_HANDLERS, true, check_block, &handler) < 0 ||
	               each_of(v, img, PLAN_K_TESTS, true, check_block, &test) < 0 ||
	               each_of(v, img, PLAN_K_OUTPUTS, true, check_output, NULL) < 0
	           ? -1
	           : 0;
}

static int check_apply(struct vstate *v, json_t *ap, void *data)
{
	json_t *target, *conn, *handlers;
	if (field(v, ap, PLAN_K_TARGET, W_IDENT, true, &target) < 0 || check_source(v, ap) < 0 ||
	    field(v, ap, PLAN_K_CONNECTION, W_MAP, true, &conn) < 0 ||
	    field(v, ap, PLAN_K_HANDLERS, W_LIST, true, &handlers) < 0)
		return -1;
	if (!json_object_get(v->groups, json_string_value(target))) {
		size_t old = push_key(v, PLAN_K_TARGET);
		fail(v, "no host group '%s' in the plan", json_string_value(target));
		pop(v, old);
		return -1;
	}
	size_t old = push_key(v, PLAN_K_CONNECTION);
	int r = check_value_exprs(v, conn, 0);
	pop(v, old);
	struct block_kind handler = {true, handlers};
	if (r < 0 || each_of(v, ap, PLAN_K_TASKS, true, check_task, handlers) < 0 ||
	    each_of(v, ap, PLAN_K_HANDLERS, true, check_block, &handler) < 0)
		return -1;
	return 0;
}

static int check_group(struct vstate *v, const char *name, json_t *g)
{
	if (!plan_is_identifier(name))
		return fail(v, "'%s' is not a name ([A-Za-z_][A-Za-z0-9_-]*)", name);
	if (!json_is_object(g))
		return fail(v, "expected a map, got %s", kind_of(g));
	json_t *hosts, *children, *vars;
	if (check_source(v, g) < 0 || field(v, g, PLAN_K_HOSTS, W_MAP, true, &hosts) < 0 ||
	    field(v, g, PLAN_K_CHILDREN, W_LIST, true, &children) < 0 ||
	    field(v, g, PLAN_K_VARS, W_MAP, true, &vars) < 0)
		return -1;
	size_t old = push_key(v, PLAN_K_HOSTS);
	const char *h;
	json_t *attrs;
	int r = 0;
	json_object_foreach (hosts, h, attrs) {
		size_t o2 = push_key(v, h);
		/* a host reached with connection = rootfs is a directory on the build
		   machine, named like a path: it is held to the rules of paths */
		bool pathlike = strchr(h, '/') || !strcmp(h, ".") || !strcmp(h, "..") || !*h;
		r = !json_is_object(attrs) ? fail(v, "expected a map, got %s", kind_of(attrs))
		    : pathlike             ? check_path(v, h)
		                           : 0;
		if (!r)
			r = check_value_exprs(v, attrs, 0);
		pop(v, o2);
		if (r < 0)
			break;
	}
	pop(v, old);
	if (r < 0)
		return -1;
	old = push_key(v, PLAN_K_CHILDREN);
	size_t i;
	json_t *c;
	json_array_foreach (children, i, c) {
		size_t o2 = push_index(v, i);
		r = check_want(v, c, W_STRING);
		if (!r && !json_object_get(v->groups, json_string_value(c)))
			r = fail(v, "no host group '%s' in the plan", json_string_value(c));
		pop(v, o2);
		if (r < 0)
			break;
	}
	pop(v, old);
	if (r < 0)
		return -1;
	old = push_key(v, PLAN_K_VARS);
	r = check_value_exprs(v, vars, 0);
	pop(v, old);
	return r;
}

static int check_param(struct vstate *v, const char *name, json_t *p)
{
	if (!plan_is_identifier(name))
		return fail(v, "'%s' is not a name ([A-Za-z_][A-Za-z0-9_-]*)", name);
	if (!json_is_object(p))
		return fail(v, "expected a map, got %s", kind_of(p));
	json_t *j, *secret;
	if (field(v, p, PLAN_K_TYPE, W_STRING, true, &j) < 0 ||
	    field(v, p, PLAN_K_SOURCE, W_STRING, true, &j) < 0 ||
	    field(v, p, PLAN_K_SECRET, W_MAP, false, &secret) < 0)
		return -1;
	if (!secret)
		return 0;
	size_t old = push_key(v, PLAN_K_SECRET);
	json_t *from;
	int r = field(v, secret, PLAN_K_FROM, W_STRING, true, &from);
	const char *f = json_string_value(from);
	if (!r && !strcmp(f, "env"))
		r = field(v, secret, PLAN_K_VAR, W_STRING, true, &j);
	else if (!r && !strcmp(f, "var-file"))
		r = field(v, secret, PLAN_K_FILE, W_STRING, true, &j);
	else if (!r && strcmp(f, "var")) {
		size_t o2 = push_key(v, PLAN_K_FROM);
		r = fail(v, "expected env, var or var-file, got '%s'", f);
		pop(v, o2);
	}
	pop(v, old);
	return r;
}

/* With each (name, value) of the object o[key], the path extended. */
static int each_entry(struct vstate *v, json_t *o, const char *key,
                      int (*fn)(struct vstate *, const char *, json_t *))
{
	json_t *map = json_object_get(o, key);
	size_t old = push_key(v, key);
	const char *k;
	json_t *x;
	int r = 0;
	json_object_foreach (map, k, x) {
		size_t o2 = push_key(v, k);
		r = fn(v, k, x);
		pop(v, o2);
		if (r < 0)
			break;
	}
	pop(v, old);
	return r;
}

int plan_validate(json_t *plan, struct rt_error *err)
{
	struct vstate v = {.err = err};
	if (!json_is_object(plan))
		return fail(&v, "expected a map, got %s", kind_of(plan)) < 0 ? -EINVAL : 0;
	json_t *version, *files, *j, *images;
	if (field(&v, plan, PLAN_K_FORMAT_VERSION, W_INT, true, &version) < 0)
		return -EINVAL;
	if (json_integer_value(version) != PLAN_FORMAT_VERSION) {
		size_t old = push_key(&v, PLAN_K_FORMAT_VERSION);
		fail(&v,
		     "format_version %" JSON_INTEGER_FORMAT
		     ": this kiln reads plan format %d; compile it again",
		     json_integer_value(version), PLAN_FORMAT_VERSION);
		pop(&v, old);
		return -EINVAL;
	}
	if (field(&v, plan, PLAN_K_KILN_VERSION, W_STRING, false, &j) < 0 ||
	    field(&v, plan, PLAN_K_FILES, W_LIST, true, &files) < 0 ||
	    field(&v, plan, PLAN_K_PARAMS, W_MAP, true, &v.params) < 0 ||
	    field(&v, plan, PLAN_K_IMAGES, W_LIST, true, &images) < 0 ||
	    field(&v, plan, PLAN_K_GROUPS, W_MAP, true, &v.groups) < 0 ||
	    field(&v, plan, PLAN_K_APPLIES, W_LIST, true, &j) < 0)
		return -EINVAL;
	size_t i;
	json_array_foreach (files, i, j) {
		size_t old = push_key(&v, PLAN_K_FILES);
		push_index(&v, i);
		int r = check_want(&v, j, W_STRING);
		pop(&v, old);
		if (r < 0)
			return -EINVAL;
	}
	v.climb = plan_path_climb(plan);
	struct images_ctx ic = {images, 0};
	if (each_entry(&v, plan, PLAN_K_PARAMS, check_param) < 0 ||
	    each_of(&v, plan, PLAN_K_IMAGES, true, check_image, &ic) < 0 ||
	    each_entry(&v, plan, PLAN_K_GROUPS, check_group) < 0 ||
	    each_of(&v, plan, PLAN_K_APPLIES, true, check_apply, NULL) < 0)
		return -EINVAL;
	return 0;
}

int plan_path_climb(json_t *plan)
{
	/* relative paths may climb as far as the build's own files do */
	int climb = 0;
	size_t i;
	json_t *j;
	json_array_foreach (json_object_get(plan, PLAN_K_FILES), i, j) {
		const char *f = json_string_value(j);
		if (!f || f[0] == '/')
			continue;
		char *norm = path_normalize(f);
		int up = leading_dotdots(norm);
		free(norm);
		if (up > climb)
			climb = up;
	}
	return climb;
}

int plan_check_resolved_args(const char *module, json_t *plan_args, json_t *args, int climb,
                             struct rt_error *err)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, module);
	struct vstate v = {.err = err, .climb = climb};
	push_key(&v, PLAN_K_ARGS);
	const char *k;
	json_t *x;
	json_object_foreach (plan_args, k, x) {
		const struct kiln_arg *a = s ? arg_of(s, k) : NULL;
		if (!a || !type_has_path(a->type) || !has_expr(x, 0))
			continue;
		size_t old = push_key(&v, k);
		int r = check_paths_in(&v, json_object_get(args, k));
		pop(&v, old);
		if (r < 0)
			return -EINVAL;
	}
	return 0;
}
