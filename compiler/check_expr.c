/*
 * check_expr: the types of expressions (and of declared types), and the
 * reports of a value that does not fit where it is used.
 */
#include "check_int.h"

#include "builtins.h"
#include "lang.h"

#include <stdlib.h>
#include <string.h>

/* An EX_IDENT that is a bare enumeration value (state = present) points here. */
/* The span of a member expression's name (x.NAME). */
static struct src_span member_name_span(const struct ast_expr *e)
{
	return (struct src_span){e->span.file, e->member.name_start, e->member.name_end};
}

static struct symbol enum_literal = {.name = "<enum value>", .kind = SYM_LOCAL};

/* ---- types ------------------------------------------------------------- */

const struct type *ck_schema_type(struct checker *ck, const char *text)
{
	const struct type *t = hashmap_get(&ck->type_cache, text);
	if (!t) {
		t = type_parse(ck->a, text);
		if (!t)
			t = &type_any; /* the stdlib's own tests keep its strings well-formed */
		hashmap_put(&ck->type_cache, text, (void *)t);
	}
	return t;
}

const char *ck_tstr(struct checker *ck, const struct type *t)
{
	return type_str(ck->a, t);
}

const struct type *check_ast_type(struct program *p, const struct ast_type *t)
{
	struct arena *a = p->a;
	switch (t->kind) {
	case TY_NAMED: {
		static const char *const names[] = {"any",    "bool", "int", "string",
		                                    "secret", "path", "mode"};
		const struct type *types[] = {&type_any,    &type_bool, &type_int, &type_string,
		                              &type_secret, &type_path, &type_mode};
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (!strcmp(t->name.s, names[i]))
				return types[i];
		struct diag *d = diag_error(&p->cx->diags, E_UNKNOWN_TYPE, t->span,
		                            "unknown type '%s'", t->name.s);
		static const char *const all[] = {"any",  "bool", "int", "string", "secret", "path",
		                                  "mode", "list", "map", "object", "enum"};
		diag_suggest(d, all, sizeof(all) / sizeof(*all), t->name.s);
		if (!d->help)
			diag_help(d,
			          "the types are bool, int, string, secret, path, mode, list<T>, "
			          "map<T>, object{ name: T, ... } and enum(a, b, ...)");
		return &type_error;
	}
	case TY_LIST:
		return type_list(a, check_ast_type(p, t->elem));
	case TY_MAP:
		return type_map(a, check_ast_type(p, t->elem));
	case TY_OBJECT: {
		uint32_t n = 0;
		for (const struct ast_field *f = t->fields; f; f = f->next)
			n++;
		struct type_field *fields = arena_alloc(a, (n ? n : 1) * sizeof(*fields));
		n = 0;
		for (const struct ast_field *f = t->fields; f; f = f->next)
			fields[n++] = (struct type_field){f->name.s, check_ast_type(p, f->type)};
		return type_object(a, fields, n);
	}
	case TY_ENUM: {
		uint32_t n = 0;
		for (const struct ast_enum_value *v = t->values; v; v = v->next)
			n++;
		const char **vals = arena_alloc(a, (n ? n : 1) * sizeof(*vals));
		n = 0;
		for (const struct ast_enum_value *v = t->values; v; v = v->next)
			vals[n++] = v->name.s;
		return type_enum(a, vals, n);
	}
	}
	return &type_error;
}

static const struct type *facts_type(struct arena *a)
{
	/* built once in an arena of its own: it outlives every compilation */
	static struct arena facts_arena = ARENA_INIT;
	static const struct type *t;
	(void)a;
	if (!t)
		t = type_parse(&facts_arena, stdlib_facts_type()); /* stdlib/lang.c */
	return t;
}

/* ---- reporting helpers ------------------------------------------------- */

static bool is_octal_literal(struct checker *ck, const struct ast_expr *e)
{
	const struct source_file *f = source_get(&ck->p->cx->sm, e->span.file);
	return e->span.end - e->span.start > 1 && f->text[e->span.start] == '0';
}

/* Does a union take any string through an alternative other than its enum en (as
   string|enum(...) does, and enum(...)|bool does not)? */
static bool union_takes_any_string(const struct type *u, const struct type *en)
{
	if (u->kind != T_UNION)
		return false;
	for (uint32_t i = 0; i < u->nalts; i++)
		if (u->alts[i] != en && type_assignable(u->alts[i], &type_string))
			return true;
	return false;
}

/*
 * e (of type got) is used where `want` is expected: report a mismatch,
 * a value outside an enumeration, or a decimal file mode. Returns false if
 * something was reported.
 */
char *ck_what(char *buf, size_t cap, const char *pre, const char *name, const char *post)
{
	size_t a = strlen(pre), b = strlen(name), c = strlen(post);
	char *out = a + b + c < cap ? buf : xmalloc(a + b + c + 1);
	memcpy(out, pre, a);
	memcpy(out + a, name, b);
	memcpy(out + a + b, post, c + 1);
	return out;
}

bool ck_expect(struct checker *ck, const struct ast_expr *e, const struct type *want,
               const struct type *got, const char *what)
{
	if (!want || got->kind == T_ERROR || want->kind == T_ERROR)
		return true;
	const struct type *en = type_find_enum(want);
	if (en && e->kind == EX_STRING && got->kind == T_STRING &&
	    !(union_takes_any_string(want, en) && !type_enum_has(en, e->str.s))) {
		if (!type_enum_has(en, e->str.s)) {
			struct diag *d =
			    diag_error(ck->d, E_BAD_ENUM, e->span, "%s must be one of %s, not '%s'",
			               what, ck_tstr(ck, en), e->str.s);
			diag_suggest(d, en->values, en->nvalues, e->str.s);
			return false;
		}
		return true;
	}
	if (want->kind == T_MODE && e->kind == EX_INT && !is_octal_literal(ck, e) && e->i > 7) {
		struct diag *d = diag_error(ck->d, E_BAD_MODE, e->span,
		                            "%s %lld is a decimal number, not an octal mode", what,
		                            (long long)e->i);
		diag_help(d, "write modes in octal with a leading zero: 0%lld", (long long)e->i);
		return false;
	}
	if (want->kind == T_MODE && e->kind == EX_INT && (e->i < 0 || e->i > 07777)) {
		diag_help(diag_error(ck->d, E_BAD_MODE, e->span, "%s 0%llo is not a file mode",
		                     what, (unsigned long long)e->i),
		          "a mode is at most 4 octal digits, e.g. 0644 or 4755");
		return false;
	}
	/* the rule the modules apply (stdlib_mode_parse): what lints, applies */
	unsigned mode;
	const char *why;
	if (want->kind == T_MODE && e->kind == EX_STRING &&
	    stdlib_mode_parse(e->str.s, &mode, &why) < 0) {
		diag_help(diag_error(ck->d, E_BAD_MODE, e->span, "%s '%s' is not a file mode", what,
		                     e->str.s),
		          "%s", why);
		return false;
	}
	if (!type_assignable(want, got)) {
		struct diag *d =
		    diag_error(ck->d, E_TYPE_MISMATCH, e->span, "%s expects %s, found %s", what,
		               ck_tstr(ck, want), ck_tstr(ck, got));
		if (want->kind == T_LIST && type_assignable(want->elem, got))
			diag_help(d, "put it in a list: [ ... ]");
		else if (type_is_stringish(want) && got->kind == T_INT)
			diag_help(d, "quote it, or interpolate it: \"${...}\"");
		return false;
	}
	return true;
}

/* ---- expressions -------------------------------------------------------- */

static const struct type *typed(struct ast_expr *e, const struct type *t)
{
	e->flags = AST_CHECKED | (t->kind == T_ERROR ? AST_FAILED : 0) |
	           (t->kind == T_SECRET ? AST_SECRET : 0);
	return t;
}

static const struct type *check_ident(struct checker *ck, struct ast_expr *e,
                                      const struct type *expected)
{
	const char *name = e->str.s;
	struct symbol *sym = scope_lookup(ck->scope, name);
	const struct type *en = expected ? type_find_enum(expected) : NULL;
	if ((!sym || sym->kind == SYM_ROLE || sym->kind == SYM_IMAGE || sym->kind == SYM_GROUP ||
	     sym->kind == SYM_HANDLER) &&
	    en && type_enum_has(en, name)) {
		e->sym = &enum_literal;
		return typed(e, en);
	}
	if (!sym && !strcmp(name, "facts"))
		sym = ck->p->facts;
	if (!sym) {
		struct diag *d =
		    diag_error(ck->d, E_UNKNOWN_NAME, e->span, "unknown name '%s'", name);
		if (en) {
			diag_suggest(d, en->values, en->nvalues, name);
			if (!d->help)
				diag_help(d, "expected one of %s", ck_tstr(ck, en));
		} else {
			size_t n;
			const char *const *names = scope_names(ck->scope, &n);
			diag_suggest(d, names, n, name);
			if (!d->help && !strcmp(name, "item"))
				diag_help(d,
				          "name the loop variable in the task: for item in LIST");
			else if (!d->help)
				diag_help(d,
				          "declare it with 'param' or 'let', or quote it as a "
				          "string: \"%s\"",
				          name);
		}
		return typed(e, &type_error);
	}
	sym->used = true;
	e->sym = sym;
	switch (sym->kind) {
	case SYM_LET:
		check_let(ck, sym);
		return typed(e, sym->type);
	case SYM_PARAM:
	case SYM_LOCAL:
		return typed(e, sym->type);
	case SYM_FACTS:
		return typed(e, facts_type(ck->a));
	default: {
		struct diag *d =
		    diag_error(ck->d, E_TYPE_MISMATCH, e->span, "'%s' is a %s, not a value", name,
		               sym_kind_name(sym->kind));
		diag_label(d, sym->span, "declared here");
		return typed(e, &type_error);
	}
	}
}

static const struct type *check_call(struct checker *ck, struct ast_expr *e)
{
	struct ast_expr *fn = e->call.fn;
	if (fn->kind != EX_IDENT) {
		diag_error(ck->d, E_UNKNOWN_FUNCTION, fn->span,
		           "only a function's name can be called");
		return typed(e, &type_error);
	}
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_FUNCTION, fn->str.s);
	if (!s) {
		struct diag *d;
		if (stdlib_lookup(SCHEMA_BASE, fn->str.s)) {
			d = diag_error(ck->d, E_UNKNOWN_FUNCTION, fn->span,
			               "'%s' is a base, not a function", fn->str.s);
			diag_help(d, "bases come after 'from': image NAME from %s(...) { ... }",
			          fn->str.s);
		} else {
			d = diag_error(ck->d, E_UNKNOWN_FUNCTION, fn->span, "unknown function '%s'",
			               fn->str.s);
			size_t n;
			const char *const *names = stdlib_names(SCHEMA_FUNCTION, &n);
			diag_suggest(d, names, n, fn->str.s);
			if (!d->help)
				diag_help(d, "'kiln doc' lists the functions");
		}
		for (struct ast_arg *a = e->call.args; a; a = a->next)
			check_expr(ck, a->value, NULL);
		return typed(e, &type_error);
	}
	fn->flags = AST_CHECKED;
	check_args(ck, s, e->call.args, e->span, "function");
	const struct type *ret = ck_schema_type(ck, s->returns ? s->returns : "any");
	/* a function of a secret is a secret */
	if (type_is_stringish(ret))
		for (struct ast_arg *a = e->call.args; a; a = a->next)
			if (a->value->flags & AST_SECRET)
				ret = &type_secret;
	return typed(e, ret);
}

static const struct type *check_binary(struct checker *ck, struct ast_expr *e)
{
	const struct type *l = check_expr(ck, e->binary.lhs, NULL);
	const struct type *r = check_expr(ck, e->binary.rhs, NULL);
	if (l->kind == T_ERROR || r->kind == T_ERROR)
		return typed(e, &type_error);
	enum ast_op op = e->binary.op;
	bool any = l->kind == T_ANY || r->kind == T_ANY;
	switch (op) {
	case OP_AND:
	case OP_OR:
		if (!ck_expect(ck, e->binary.lhs, &type_bool, l, "the operand of '&&'/'||'") ||
		    !ck_expect(ck, e->binary.rhs, &type_bool, r, "the operand of '&&'/'||'"))
			return typed(e, &type_error);
		return typed(e, &type_bool);
	case OP_EQ:
	case OP_NE:
		if (!any && !type_join(ck->a, l, r) &&
		    !(type_is_stringish(l) && r->kind == T_ENUM) &&
		    !(l->kind == T_ENUM && type_is_stringish(r))) {
			diag_error(ck->d, E_BAD_OPERANDS, e->span,
			           "'%s' compares %s with %s: they are never equal", ast_op_str(op),
			           ck_tstr(ck, l), ck_tstr(ck, r));
			return typed(e, &type_error);
		}
		return typed(e, &type_bool);
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		if (!any && !((l->kind == T_INT && r->kind == T_INT) ||
		              (type_is_stringish(l) && type_is_stringish(r)))) {
			diag_error(ck->d, E_BAD_OPERANDS, e->span, "'%s' cannot compare %s with %s",
			           ast_op_str(op), ck_tstr(ck, l), ck_tstr(ck, r));
			return typed(e, &type_error);
		}
		return typed(e, &type_bool);
	case OP_ADD:
		if (any)
			return typed(e, &type_any);
		if (l->kind == T_INT && r->kind == T_INT)
			return typed(e, &type_int);
		if (type_is_stringish(l) && type_is_stringish(r))
			return typed(e, l->kind == T_SECRET || r->kind == T_SECRET ? &type_secret
			                                                           : &type_string);
		if (l->kind == T_LIST && r->kind == T_LIST && type_join(ck->a, l, r))
			return typed(e, type_join(ck->a, l, r));
		diag_help(diag_error(ck->d, E_BAD_OPERANDS, e->span, "'+' cannot add %s and %s",
		                     ck_tstr(ck, l), ck_tstr(ck, r)),
		          "'+' adds two ints, joins two strings or two lists; "
		          "to build a string use \"${a}${b}\"");
		return typed(e, &type_error);
	default:
		if (any)
			return typed(e, &type_int);
		if (l->kind != T_INT || r->kind != T_INT) {
			diag_error(ck->d, E_BAD_OPERANDS, e->span,
			           "'%s' needs two ints, found %s and %s", ast_op_str(op),
			           ck_tstr(ck, l), ck_tstr(ck, r));
			return typed(e, &type_error);
		}
		return typed(e, &type_int);
	}
}

const struct type *check_expr(struct checker *ck, struct ast_expr *e, const struct type *expected)
{
	switch (e->kind) {
	case EX_ERROR:
		return typed(e, &type_error);
	case EX_NULL:
		return typed(e, &type_null);
	case EX_BOOL:
		return typed(e, &type_bool);
	case EX_INT:
		return typed(e, &type_int);
	case EX_STRING:
		return typed(e, &type_string);
	case EX_TEMPLATE: {
		const struct type *t = &type_string;
		for (struct ast_expr *p = e->tmpl.parts; p; p = p->next) {
			const struct type *pt = check_expr(ck, p, NULL);
			if (pt->kind == T_SECRET)
				t = &type_secret;
			if (pt->kind == T_LIST || pt->kind == T_MAP || pt->kind == T_OBJECT) {
				diag_help(diag_error(ck->d, E_TYPE_MISMATCH, p->span,
				                     "cannot interpolate a %s into a string",
				                     ck_tstr(ck, pt)),
				          "pick one element, or join a list: ${join(\", \", xs)}");
			}
		}
		return typed(e, t);
	}
	case EX_IDENT:
		return check_ident(ck, e, expected);
	case EX_LIST: {
		const struct type *want =
		    expected && expected->kind == T_LIST ? expected->elem : NULL;
		const struct type *t = NULL;
		for (struct ast_expr *p = e->list.items; p; p = p->next) {
			const struct type *it = check_expr(ck, p, want);
			if (want) {
				ck_expect(ck, p, want, it, "this list");
				it = want;
			}
			const struct type *j = t ? type_join(ck->a, t, it) : it;
			if (!j) {
				diag_error(ck->d, E_TYPE_MISMATCH, p->span,
				           "list items have different types: %s and %s",
				           ck_tstr(ck, t), ck_tstr(ck, it));
				return typed(e, &type_error);
			}
			t = j;
		}
		return typed(e, type_list(ck->a, t ? t : &type_any));
	}
	case EX_MAP: {
		uint32_t n = 0;
		for (struct ast_entry *en = e->map.entries; en; en = en->next)
			n++;
		struct type_field *f = arena_alloc(ck->a, (n ? n : 1) * sizeof(*f));
		n = 0;
		struct hashmap seen = HASHMAP_INIT;
		for (struct ast_entry *en = e->map.entries; en; en = en->next) {
			const struct type *want = NULL;
			if (expected && expected->kind == T_MAP)
				want = expected->elem;
			else if (expected && expected->kind == T_OBJECT &&
			         type_field(expected, en->key.s))
				want = type_field(expected, en->key.s)->type;
			const struct type *vt = check_expr(ck, en->value, want);
			if (want)
				ck_expect(ck, en->value, want, vt, "this value");
			struct ast_entry *dup = hashmap_get(&seen, en->key.s);
			if (dup) {
				struct diag *d = diag_error(ck->d, E_DUPLICATE_NAME, en->key_span,
				                            "key '%s' appears twice", en->key.s);
				diag_label(d, dup->key_span, "first here");
				continue;
			}
			hashmap_put(&seen, en->key.s, en);
			f[n++] = (struct type_field){en->key.s, vt};
		}
		hashmap_release(&seen);
		return typed(e, type_object(ck->a, f, n));
	}
	case EX_MEMBER: {
		const struct type *t = check_expr(ck, e->member.obj, NULL);
		const char *name = e->member.name;
		if (t->kind == T_ERROR || t->kind == T_ANY)
			return typed(e, t);
		if (t->kind == T_MAP)
			return typed(e, t->elem);
		if (t->kind == T_OBJECT) {
			const struct type_field *f = type_field(t, name);
			if (f)
				return typed(e, f->type);
			struct diag *d = diag_error(ck->d, E_UNKNOWN_FIELD, member_name_span(e),
			                            "no field '%s' in %s", name, ck_tstr(ck, t));
			const char *names[128];
			uint32_t k = 0;
			for (uint32_t i = 0; i < t->nfields && k < 128; i++)
				names[k++] = t->fields[i].name;
			diag_suggest(d, names, k, name);
			return typed(e, &type_error);
		}
		diag_error(ck->d, E_UNKNOWN_FIELD, member_name_span(e), "a %s has no field '%s'",
		           ck_tstr(ck, t), name);
		return typed(e, &type_error);
	}
	case EX_INDEX: {
		const struct type *t = check_expr(ck, e->index.obj, NULL);
		const struct type *it = check_expr(ck, e->index.index, NULL);
		if (t->kind == T_ERROR || t->kind == T_ANY)
			return typed(e, t);
		if (t->kind == T_LIST) {
			ck_expect(ck, e->index.index, &type_int, it, "a list index");
			return typed(e, t->elem);
		}
		if (t->kind == T_MAP || t->kind == T_OBJECT) {
			ck_expect(ck, e->index.index, &type_string, it, "a map key");
			if (t->kind == T_MAP)
				return typed(e, t->elem);
			if (e->index.index->kind == EX_STRING) {
				const struct type_field *f = type_field(t, e->index.index->str.s);
				if (!f) {
					diag_error(ck->d, E_UNKNOWN_FIELD, e->index.index->span,
					           "no key '%s' in %s", e->index.index->str.s,
					           ck_tstr(ck, t));
					return typed(e, &type_error);
				}
				return typed(e, f->type);
			}
			return typed(e, &type_any);
		}
		diag_error(ck->d, E_TYPE_MISMATCH, e->index.obj->span, "a %s cannot be indexed",
		           ck_tstr(ck, t));
		return typed(e, &type_error);
	}
	case EX_CALL:
		return check_call(ck, e);
	case EX_UNARY: {
		const struct type *t = check_expr(ck, e->unary.operand, NULL);
		if (e->unary.op == OP_NOT)
			return typed(e, ck_expect(ck, e->unary.operand, &type_bool, t, "'!'")
			                    ? &type_bool
			                    : &type_error);
		return typed(e, ck_expect(ck, e->unary.operand, &type_int, t, "'-'") ? &type_int
		                                                                     : &type_error);
	}
	case EX_BINARY:
		return check_binary(ck, e);
	case EX_COND: {
		const struct type *c = check_expr(ck, e->cond.cond, NULL);
		ck_expect(ck, e->cond.cond, &type_bool, c, "the condition of '?:'");
		const struct type *t = check_expr(ck, e->cond.then, expected);
		const struct type *f = check_expr(ck, e->cond.els, expected);
		const struct type *j = type_join(ck->a, t, f);
		if (!j) {
			diag_error(ck->d, E_TYPE_MISMATCH, e->span,
			           "the branches of '?:' have different types: %s and %s",
			           ck_tstr(ck, t), ck_tstr(ck, f));
			return typed(e, &type_error);
		}
		return typed(e, j);
	}
	}
	return typed(e, &type_error);
}
