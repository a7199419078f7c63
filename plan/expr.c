/*
 * expr: apply-time evaluation of plan expression trees; see plan_expr.h. The
 * operators mean what they mean at compile time (compiler/eval.c): the
 * compiler folds what it can, the runtime finishes with facts and secrets.
 */
#include "plan_expr.h"

#include "arena.h"
#include "builtins.h"
#include "plan_binop.h"
#include "plan_format.h"
#include "strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static json_t *eval(const struct expr_env *env, json_t *t, int depth, struct rt_error *err);

static json_t *fail(struct rt_error *err, const char *what)
{
	rt_error_set(err, -EINVAL, "cannot evaluate %s", what);
	return NULL;
}

static json_t *fact(const struct expr_env *env, const char *path, struct rt_error *err)
{
	json_t *v = env->facts;
	char *copy = xstrdup(path);
	char *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	free(copy);
	if (!v) {
		rt_error_set(err, -ENOENT, "the target has no fact '%s'", path);
		return NULL;
	}
	return json_incref(v);
}

static char *text_of(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	if (json_is_null(v))
		return xstrdup("");
	return NULL;
}

static json_t *binary(const char *op, json_t *a, json_t *b, struct rt_error *err)
{
	enum plan_binop_status st;
	json_t *r = plan_binop(op, a, b, &st);
	switch (r ? PLAN_BINOP_OK : st) {
	case PLAN_BINOP_OK:
		return r;
	case PLAN_BINOP_UNKNOWN:
		return fail(err, "an unknown operator");
	case PLAN_BINOP_DIV_ZERO:
		return fail(err, "a division by zero or an overflow");
	case PLAN_BINOP_OVERFLOW:
		return fail(err, op[0] == '/' || op[0] == '%' ? "a division by zero or an overflow"
		                                              : "an integer overflow");
	case PLAN_BINOP_TYPES:
		break;
	}
	rt_error_set(err, -EINVAL, "operator '%s' does not apply to these values", op);
	return NULL;
}

static json_t *eval(const struct expr_env *env, json_t *t, int depth, struct rt_error *err)
{
	if (depth > 1000 || !json_is_object(t) || json_object_size(t) != 1)
		return fail(err, "a malformed plan expression");
	const char *k = json_object_iter_key(json_object_iter(t));
	json_t *a = json_object_iter_value(json_object_iter(t));
	if (!strcmp(k, PLAN_E_CONST))
		return json_incref(a);
	if (!strcmp(k, PLAN_E_FACT))
		return json_is_string(a) ? fact(env, json_string_value(a), err)
		                         : fail(err, "a fact");
	if (!strcmp(k, PLAN_E_SECRET)) {
		json_t *v = json_object_get(env->secrets, json_string_value(a));
		if (!v) {
			rt_error_set(err, -ENOENT, "secret '%s' has no value",
			             json_string_value(a));
			return NULL;
		}
		return json_incref(v);
	}
	if (!strcmp(k, PLAN_E_NOT) || !strcmp(k, PLAN_E_NEG)) {
		json_t *v = eval(env, a, depth + 1, err);
		if (!v)
			return NULL;
		json_t *r = k[0] == 'n' && k[1] == 'o' ? json_boolean(!json_is_true(v))
		            : json_is_integer(v)       ? json_integer(-json_integer_value(v))
		                                       : NULL;
		json_decref(v);
		return r ? r : fail(err, "'-' of a value that is not an int");
	}
	if (!strcmp(k, PLAN_E_OP)) {
		const char *op = json_string_value(json_array_get(a, 0));
		json_t *l = op ? eval(env, json_array_get(a, 1), depth + 1, err) : NULL;
		if (!l)
			return NULL;
		/* && and || short-circuit */
		if (!strcmp(op, "&&") && !json_is_true(l)) {
			json_decref(l);
			return json_false();
		}
		if (!strcmp(op, "||") && json_is_true(l)) {
			json_decref(l);
			return json_true();
		}
		json_t *r = eval(env, json_array_get(a, 2), depth + 1, err);
		json_t *out = r ? binary(op, l, r, err) : NULL;
		json_decref(l);
		json_decref(r);
		return out;
	}
	if (!strcmp(k, PLAN_E_IF)) {
		json_t *c = eval(env, json_array_get(a, 0), depth + 1, err);
		if (!c)
			return NULL;
		bool b = json_is_true(c);
		json_decref(c);
		return eval(env, json_array_get(a, b ? 1 : 2), depth + 1, err);
	}
	if (!strcmp(k, PLAN_E_CONCAT)) {
		struct strbuf sb = STRBUF_INIT;
		size_t i;
		json_t *p;
		json_array_foreach (a, i, p) {
			json_t *v = eval(env, p, depth + 1, err);
			char *s = v ? text_of(v) : NULL;
			json_decref(v);
			if (!s) {
				sb_release(&sb);
				return v ? fail(err, "an interpolation of a list or map") : NULL;
			}
			sb_adds(&sb, s);
			free(s);
		}
		json_t *r = json_stringn(sb.buf ? sb.buf : "", sb.len);
		sb_release(&sb);
		return r;
	}
	if (!strcmp(k, PLAN_E_CALL)) {
		const char *name = json_string_value(json_array_get(a, 0));
		const struct kiln_schema *s = name ? stdlib_lookup(SCHEMA_FUNCTION, name) : NULL;
		if (!s)
			return fail(err, "a call of an unknown function");
		size_t n = json_array_size(a) - 1;
		json_t **args = xcalloc(n ? n : 1, sizeof(*args));
		json_t *r = NULL;
		size_t i;
		for (i = 0; i < n; i++) {
			args[i] = eval(env, json_array_get(a, i + 1), depth + 1, err);
			if (!args[i])
				goto call_done;
		}
		char *msg = NULL;
		r = stdlib_call(s, args, n, &msg);
		if (!r) {
			rt_error_set(err, -EINVAL, "%s() failed: %s", name, msg ? msg : "error");
			free(msg);
		}
	call_done:
		for (size_t j = 0; j < n; j++)
			json_decref(args[j]);
		free(args);
		return r;
	}
	if (!strcmp(k, PLAN_E_GET) || !strcmp(k, PLAN_E_INDEX)) {
		json_t *o = eval(env, json_array_get(a, 0), depth + 1, err);
		if (!o)
			return NULL;
		json_t *key = k[0] == 'g' ? json_incref(json_array_get(a, 1))
		                          : eval(env, json_array_get(a, 1), depth + 1, err);
		json_t *v = NULL;
		if (key && json_is_object(o) && json_is_string(key))
			v = json_object_get(o, json_string_value(key));
		else if (key && json_is_array(o) && json_is_integer(key)) {
			json_int_t i = json_integer_value(key);
			if (i < 0)
				i += (json_int_t)json_array_size(o);
			v = i >= 0 ? json_array_get(o, (size_t)i) : NULL;
		}
		if (key && !v)
			rt_error_set(err, -ENOENT, "no such key or index in the value");
		json_incref(v);
		json_decref(o);
		json_decref(key);
		return v;
	}
	if (!strcmp(k, PLAN_E_LIST)) {
		json_t *r = json_array();
		size_t i;
		json_t *p;
		json_array_foreach (a, i, p) {
			json_t *v = eval(env, p, depth + 1, err);
			if (!v) {
				json_decref(r);
				return NULL;
			}
			json_array_append_new(r, v);
		}
		return r;
	}
	if (!strcmp(k, PLAN_E_MAP)) {
		json_t *r = json_object();
		const char *key;
		json_t *p;
		json_object_foreach (a, key, p) {
			json_t *v = eval(env, p, depth + 1, err);
			if (!v) {
				json_decref(r);
				return NULL;
			}
			json_object_set_new(r, key, v);
		}
		return r;
	}
	return fail(err, "a plan expression of an unknown kind");
}

json_t *expr_resolve(const struct expr_env *env, json_t *v, struct rt_error *err)
{
	if (json_is_object(v)) {
		json_t *e = json_object_get(v, PLAN_K_EXPR);
		if (e && json_object_size(v) == 1)
			return eval(env, e, 0, err);
		json_t *r = json_object();
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			json_t *y = expr_resolve(env, x, err);
			if (!y) {
				json_decref(r);
				return NULL;
			}
			json_object_set_new(r, k, y);
		}
		return r;
	}
	if (json_is_array(v)) {
		json_t *r = json_array();
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			json_t *y = expr_resolve(env, x, err);
			if (!y) {
				json_decref(r);
				return NULL;
			}
			json_array_append_new(r, y);
		}
		return r;
	}
	return json_incref(v);
}
