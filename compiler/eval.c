/*
 * eval: compile-time evaluation; see eval.h. Invariant: a value derived from
 * a secret is always deferred, so its clear text never reaches the plan.
 *
 * Plan expressions (trees) are JSON objects with one key:
 *   {"const": V} {"fact": "os.family"} {"secret": "NAME"}
 *   {"op": ["==", A, B]} {"not": A} {"neg": A} {"if": [C, A, B]}
 *   {"concat": [A, ...]} {"call": ["NAME", A, ...]} {"get": [A, "key"]}
 *   {"index": [A, I]} {"list": [A, ...]} {"map": {"k": A, ...}}
 */
#include "eval.h"

#include "builtins.h"
#include "plan_format.h"
#include "plan_binop.h"

#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static struct val known(json_t *j)
{
	return (struct val){j, false, false};
}

static struct val failed(void)
{
	return (struct val){NULL, false, false};
}

void val_release(struct val *v)
{
	json_decref(v->json);
	v->json = NULL;
}

/* The tree of a value: a deferred one's own, or {"const": v}. Steals v's reference. */
static json_t *tree_of(struct val v)
{
	if (v.deferred)
		return v.json;
	return json_obj1(PLAN_E_CONST, v.json);
}

json_t *val_to_plan(const struct val *v)
{
	if (!v->json)
		return json_null();
	if (v->deferred)
		return json_pack("{s:O}", PLAN_K_EXPR, v->json);
	return json_incref(v->json);
}

static struct val deferred(json_t *tree, bool secret)
{
	return (struct val){tree, true, secret};
}

static void eval_error(struct program *p, const struct ast_expr *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void eval_error(struct program *p, const struct ast_expr *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(&p->cx->diags, E_EVAL_FAILED, e->span, "%s", msg);
	free(msg);
}

static bool truthy(const json_t *j)
{
	return json_is_true(j);
}

/* Text of a scalar for interpolation. Caller frees. */
static char *scalar_text(const json_t *j)
{
	if (json_is_string(j))
		return xstrndup(json_string_value(j), json_string_length(j));
	if (json_is_integer(j))
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(j));
	if (json_is_boolean(j))
		return xstrdup(json_is_true(j) ? "true" : "false");
	if (json_is_null(j))
		return xstrdup("");
	return NULL;
}

static const char *dir_of(struct program *p, uint32_t file)
{
	for (uint32_t i = 0; i < p->nfiles; i++)
		if (p->files[i]->file == file)
			return p->files[i]->dir;
	return ".";
}

static struct val eval_call(struct program *p, const struct env *env, const struct ast_expr *e)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_FUNCTION, e->call.fn->str.s);
	if (!s || !s->fn)
		return failed();
	size_t nargs = 0;
	for (const struct ast_arg *a = e->call.args; a; a = a->next)
		nargs++;
	size_t nschema = 0;
	while (s->args && s->args[nschema].name)
		nschema++;
	size_t cap = nargs > nschema ? nargs : nschema;
	struct val *vals = xcalloc(cap ? cap : 1, sizeof(*vals));
	bool any_deferred = false, secret = false, bad = false;
	size_t pos = 0, top = 0;
	/* arguments in schema order: positional first, then named into their slots */
	for (const struct ast_arg *a = e->call.args; a; a = a->next) {
		size_t idx = pos;
		if (a->name.len) {
			for (idx = 0; idx < nschema && strcmp(s->args[idx].name, a->name.s); idx++)
				;
		} else {
			pos++;
		}
		if (idx >= cap)
			continue;
		vals[idx] = eval_expr(p, env, a->value);
		bad |= !vals[idx].json;
		any_deferred |= vals[idx].deferred;
		secret |= vals[idx].secret;
		if (idx + 1 > top)
			top = idx + 1;
	}
	/* trailing optional arguments with defaults */
	size_t n = top;
	for (size_t i = 0; i < top; i++)
		if (!vals[i].json && !bad) {
			if (s->args[i].def) {
				vals[i] = known(json_loads(s->args[i].def, JSON_DECODE_ANY, NULL));
			} else {
				vals[i] = known(json_null());
			}
		}
	struct val out = failed();
	if (bad)
		goto done;
	if (any_deferred) {
		json_t *call = json_array();
		json_array_append_new(call, json_string(s->name));
		for (size_t i = 0; i < n; i++) {
			json_array_append_new(call, tree_of(vals[i]));
			vals[i].json = NULL;
		}
		out = deferred(json_obj1(PLAN_E_CALL, call), secret);
		goto done;
	}
	json_t **args = xcalloc(n ? n : 1, sizeof(*args));
	for (size_t i = 0; i < n; i++)
		args[i] = vals[i].json;
	for (size_t i = 0; i < n && i < nschema; i++) {
		if (!stdlib_is_input(s, s->args[i].name) || !json_is_string(args[i]) ||
		    json_string_value(args[i])[0] == '/')
			continue;
		/* a file the function reads: relative to the file that calls it */
		char *resolved =
		    xasprintf("%s/%s", dir_of(p, e->span.file), json_string_value(args[i]));
		json_decref(vals[i].json);
		vals[i].json = args[i] = json_string(resolved);
		free(resolved);
	}
	char *err = NULL;
	json_t *r = s->fn(args, n, &err);
	if (!r && p->lint && !strcmp(s->name, "env")) {
		/* the environment, like a param's value, is the build's: lint does not need it */
		free(err);
	} else if (!r) {
		struct diag *d = diag_error(&p->cx->diags, E_EVAL_FAILED, e->span,
		                            "%s() failed: %s", s->name, err ? err : "error");
		if (s->fail_help)
			diag_help(d, "%s", s->fail_help);
		free(err);
	} else {
		out = known(r);
	}
	free(args);
done:
	for (size_t i = 0; i < cap; i++)
		val_release(&vals[i]);
	free(vals);
	return out;
}

/* An ident: a local binding, a param or let, facts, or a bare enum value. */
static struct val eval_ident(struct program *p, const struct env *env, const struct ast_expr *e)
{
	struct symbol *sym = e->sym;
	if (!sym)
		return failed();
	if (sym->kind == SYM_LOCAL && !sym->decl && !strcmp(sym->name, "<enum value>"))
		return known(json_string(e->str.s));
	for (const struct env *b = env; b; b = b->parent)
		if (b->sym == sym) {
			struct val v = b->v;
			json_incref(v.json);
			return v;
		}
	switch (sym->kind) {
	case SYM_FACTS:
		return deferred(json_pack("{s:s}", PLAN_E_FACT, ""), false);
	case SYM_PARAM:
	case SYM_LET:
		if (sym->eval_state == 2 && sym->value.json) {
			struct val v = sym->value;
			json_incref(v.json);
			return v;
		}
		if (sym->kind == SYM_LET && sym->eval_state == 0 && sym->decl) {
			/* a global let is computed once; one in a body may depend on a
			   role's parameters or a loop variable, so it is computed at each use */
			bool global = hashmap_get(&p->globals.names, sym->name) == sym;
			if (p->let_depth >= LET_MAX_CHAIN) {
				const struct symbol *top = p->let_outer ? p->let_outer : sym;
				if (!p->let_chain_said) {
					struct diag *d =
					    diag_error(&p->cx->diags, E_LET_CHAIN, top->span,
					               "the value of '%s' depends on a chain of "
					               "more than %d lets, each "
					               "the value of the one before",
					               top->name, LET_MAX_CHAIN);
					diag_label(d, sym->span, "%d lets down", LET_MAX_CHAIN);
					diag_help(
					    d,
					    "shorten the chain (a list and a for expression, say)");
				}
				p->let_chain_said = true;
				return failed();
			}
			if (!p->let_depth)
				p->let_outer = sym;
			sym->eval_state = 1;
			p->let_depth++;
			struct val v = eval_expr(p, global ? NULL : env, sym->decl->value);
			p->let_depth--;
			sym->eval_state = global ? 2 : 0;
			if (global) {
				sym->value = v;
				if (v.json)
					json_incref(v.json);
			}
			return v;
		}
		return failed();
	default:
		return failed();
	}
}

/* facts.a.b: extend a fact path instead of building get-trees. */
static bool extend_fact(json_t *tree, const char *name)
{
	json_t *f = json_object_get(tree, PLAN_E_FACT);
	if (!f || json_object_size(tree) != 1)
		return false;
	const char *path = json_string_value(f);
	char *np = *path ? xasprintf("%s.%s", path, name) : xstrdup(name);
	json_object_set_new(tree, PLAN_E_FACT, json_string(np));
	free(np);
	return true;
}

static struct val eval_binary(struct program *p, const struct env *env, const struct ast_expr *e)
{
	enum ast_op op = e->binary.op;
	struct val l = eval_expr(p, env, e->binary.lhs);
	if (!l.json)
		return failed();
	/* && and || short-circuit when the left side is known */
	if ((op == OP_AND || op == OP_OR) && !l.deferred) {
		bool lv = truthy(l.json);
		val_release(&l);
		if (op == OP_AND ? !lv : lv)
			return known(json_boolean(lv));
		return eval_expr(p, env, e->binary.rhs);
	}
	struct val r = eval_expr(p, env, e->binary.rhs);
	if (!r.json) {
		val_release(&l);
		return failed();
	}
	if (l.deferred || r.deferred) {
		bool secret = l.secret || r.secret;
		return deferred(
		    json_pack("{s:[s,o,o]}", PLAN_E_OP, ast_op_str(op), tree_of(l), tree_of(r)),
		    secret);
	}
	enum plan_binop_status st;
	json_t *out = plan_binop(ast_op_str(op), l.json, r.json, &st);
	if (!out && st == PLAN_BINOP_DIV_ZERO)
		eval_error(p, e, "%s", "division by zero");
	else if (!out && st == PLAN_BINOP_OVERFLOW)
		eval_error(p, e, "integer overflow in '%s'", ast_op_str(op));
	/* other faults (operands of the wrong types) were reported by the checker */
	val_release(&l);
	val_release(&r);
	return out ? known(out) : failed();
}

struct val eval_expr(struct program *p, const struct env *env, const struct ast_expr *e)
{
	if (!(e->flags & AST_CHECKED) || (e->flags & AST_FAILED))
		return failed();
	switch (e->kind) {
	case EX_ERROR:
		return failed();
	case EX_NULL:
		return known(json_null());
	case EX_BOOL:
		return known(json_boolean(e->b));
	case EX_INT:
		return known(json_integer(e->i));
	case EX_STRING:
		/* from a file checked to be UTF-8 (escapes are checked by the lexer): no check
		   again; a template's text is not checked before */
		return known(source_get(&p->cx->sm, e->span.file)->utf8
		                 ? json_stringn_nocheck(e->str.s, e->str.len)
		                 : json_stringn(e->str.s, e->str.len));
	case EX_IDENT:
		return eval_ident(p, env, e);
	case EX_TEMPLATE: {
		/* the parts' values first: when all are known, the string is made from them
		   at once, without a tree of parts */
		size_t n = 0, k = 0;
		for (const struct ast_expr *x = e->tmpl.parts; x; x = x->next)
			n++;
		struct val small[8], *vs = n <= 8 ? small : xcalloc(n, sizeof(*vs));
		bool any_deferred = false, secret = false, ok = true;
		for (const struct ast_expr *x = e->tmpl.parts; x; x = x->next) {
			vs[k] = eval_expr(p, env, x);
			if (!vs[k].json) {
				ok = false;
				break;
			}
			any_deferred |= vs[k].deferred;
			secret |= vs[k].secret;
			k++;
		}
		struct val out = failed();
		if (!ok) {
			for (size_t i = 0; i < k; i++)
				json_decref(vs[i].json);
		} else if (any_deferred) {
			json_t *parts = json_array();
			for (size_t i = 0; i < k; i++)
				json_array_append_new(
				    parts, vs[i].deferred ? vs[i].json
				                          : json_obj1(PLAN_E_CONST, vs[i].json));
			out = deferred(json_obj1(PLAN_E_CONCAT, parts), secret);
		} else {
			struct strbuf sb = STRBUF_INIT;
			for (size_t i = 0; i < k; i++) {
				if (json_is_string(vs[i].json)) {
					sb_adds(&sb, json_string_value(vs[i].json));
				} else {
					char *t = scalar_text(vs[i].json);
					if (t)
						sb_adds(&sb, t);
					free(t);
				}
				json_decref(vs[i].json);
			}
			/* the parts are valid UTF-8 (JSON strings, numbers): so is the whole */
			out = known(json_stringn_nocheck(sb.buf ? sb.buf : "", sb.len));
			sb_release(&sb);
		}
		if (vs != small)
			free(vs);
		return out;
	}
	case EX_LIST: {
		json_t *items = json_array();
		bool any_deferred = false, secret = false;
		struct val *vs = NULL;
		size_t n = 0;
		for (const struct ast_expr *x = e->list.items; x; x = x->next)
			n++;
		vs = xcalloc(n ? n : 1, sizeof(*vs));
		n = 0;
		for (const struct ast_expr *x = e->list.items; x; x = x->next) {
			vs[n] = eval_expr(p, env, x);
			if (!vs[n].json) {
				for (size_t i = 0; i < n; i++)
					val_release(&vs[i]);
				free(vs);
				json_decref(items);
				return failed();
			}
			any_deferred |= vs[n].deferred;
			secret |= vs[n].secret;
			n++;
		}
		for (size_t i = 0; i < n; i++)
			json_array_append_new(items, any_deferred ? tree_of(vs[i]) : vs[i].json);
		free(vs);
		return any_deferred ? deferred(json_obj1(PLAN_E_LIST, items), secret)
		                    : known(items);
	}
	case EX_MAP: {
		json_t *obj = json_object();
		bool any_deferred = false, secret = false;
		for (const struct ast_entry *en = e->map.entries; en; en = en->next) {
			struct val v = eval_expr(p, env, en->value);
			if (!v.json) {
				json_decref(obj);
				return failed();
			}
			any_deferred |= v.deferred;
			secret |= v.secret;
			json_object_set_new(obj, en->key.s,
			                    v.deferred ? v.json : json_obj1(PLAN_E_CONST, v.json));
		}
		if (any_deferred)
			return deferred(json_obj1(PLAN_E_MAP, obj), secret);
		json_t *plain = json_object();
		const char *k;
		json_t *v;
		json_object_foreach (obj, k, v) {
			json_object_set(plain, k, json_object_get(v, PLAN_E_CONST));
		}
		json_decref(obj);
		return known(plain);
	}
	case EX_MEMBER: {
		struct val o = eval_expr(p, env, e->member.obj);
		if (!o.json)
			return failed();
		const char *name = e->member.name;
		if (o.deferred) {
			if (extend_fact(o.json, name))
				return o;
			return deferred(json_pack("{s:[o,s]}", PLAN_E_GET, o.json, name), o.secret);
		}
		json_t *v = json_object_get(o.json, name);
		if (!v) {
			eval_error(p, e, "no key '%s' in this value", name);
			val_release(&o);
			return failed();
		}
		json_incref(v);
		val_release(&o);
		return known(v);
	}
	case EX_INDEX: {
		struct val o = eval_expr(p, env, e->index.obj);
		if (!o.json)
			return failed();
		struct val i = eval_expr(p, env, e->index.index);
		if (!i.json) {
			val_release(&o);
			return failed();
		}
		if (o.deferred || i.deferred)
			return deferred(
			    json_pack("{s:[o,o]}", PLAN_E_INDEX, tree_of(o), tree_of(i)),
			    o.secret || i.secret);
		json_t *v = NULL;
		if (json_is_array(o.json) && json_is_integer(i.json)) {
			json_int_t k = json_integer_value(i.json);
			if (k < 0)
				k += (json_int_t)json_array_size(o.json);
			v = k >= 0 ? json_array_get(o.json, (size_t)k) : NULL;
			if (!v) {
				char *msg =
				    xasprintf("index %" JSON_INTEGER_FORMAT " is out of range "
				              "(the list has %zu items)",
				              json_integer_value(i.json), json_array_size(o.json));
				eval_error(p, e, "%s", msg);
				free(msg);
			}
		} else if (json_is_object(o.json) && json_is_string(i.json)) {
			v = json_object_get(o.json, json_string_value(i.json));
			if (!v)
				eval_error(p, e, "no key '%s' in this map",
				           json_string_value(i.json));
		}
		if (v)
			json_incref(v);
		val_release(&o);
		val_release(&i);
		return v ? known(v) : failed();
	}
	case EX_CALL:
		return eval_call(p, env, e);
	case EX_UNARY: {
		struct val v = eval_expr(p, env, e->unary.operand);
		if (!v.json)
			return failed();
		if (v.deferred)
			return deferred(
			    json_obj1(e->unary.op == OP_NOT ? PLAN_E_NOT : PLAN_E_NEG, v.json),
			    v.secret);
		json_t *out;
		if (e->unary.op == OP_NOT) {
			out = json_boolean(!truthy(v.json));
		} else {
			json_int_t x = json_integer_value(v.json);
			if (x == LLONG_MIN) {
				eval_error(p, e, "%s", "integer overflow in '-'");
				val_release(&v);
				return failed();
			}
			out = json_integer(-x);
		}
		val_release(&v);
		return known(out);
	}
	case EX_BINARY:
		return eval_binary(p, env, e);
	case EX_COND: {
		struct val c = eval_expr(p, env, e->cond.cond);
		if (!c.json)
			return failed();
		if (!c.deferred) {
			bool b = truthy(c.json);
			val_release(&c);
			return eval_expr(p, env, b ? e->cond.then : e->cond.els);
		}
		struct val a = eval_expr(p, env, e->cond.then);
		struct val b = eval_expr(p, env, e->cond.els);
		if (!a.json || !b.json) {
			val_release(&a);
			val_release(&b);
			val_release(&c);
			return failed();
		}
		bool secret = c.secret || a.secret || b.secret;
		return deferred(json_pack("{s:[o,o,o]}", PLAN_E_IF, c.json, tree_of(a), tree_of(b)),
		                secret);
	}
	}
	return failed();
}

bool val_fits(const struct type *t, const json_t *v)
{
	switch (t->kind) {
	case T_ERROR:
	case T_ANY:
		return true;
	case T_NULL:
		return json_is_null(v);
	case T_BOOL:
		return json_is_boolean(v);
	case T_INT:
		return json_is_integer(v);
	case T_STRING:
	case T_SECRET:
	case T_PATH:
		return json_is_string(v);
	case T_MODE:
		return json_is_integer(v) || json_is_string(v);
	case T_ENUM:
		return json_is_string(v) && type_enum_has(t, json_string_value(v));
	case T_LIST: {
		if (!json_is_array(v))
			return false;
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			if (!val_fits(t->elem, x))
				return false;
		}
		return true;
	}
	case T_MAP:
	case T_OBJECT: {
		if (!json_is_object(v))
			return false;
		const char *k;
		json_t *x;
		json_object_foreach ((json_t *)v, k, x) {
			const struct type *ft = t->kind == T_MAP ? t->elem : NULL;
			if (t->kind == T_OBJECT) {
				const struct type_field *f = type_field(t, k);
				if (!f)
					return false;
				ft = f->type;
			}
			if (!val_fits(ft, x))
				return false;
		}
		return true;
	}
	case T_UNION:
		for (uint32_t i = 0; i < t->nalts; i++)
			if (val_fits(t->alts[i], v))
				return true;
		return false;
	}
	return false;
}

char *val_show(const struct val *v)
{
	if (!v->json)
		return xstrdup("(error)");
	if (v->secret)
		return xstrdup("(secret)");
	if (v->deferred)
		return xstrdup("(known at build time)");
	if (json_is_string(v->json)) {
		char *d = json_dumps(v->json, JSON_ENCODE_ANY);
		return d ? d : xstrdup("\"\"");
	}
	char *d = json_dumps(v->json, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	return d ? d : xstrdup("?");
}
