/*
 * check: resolve names and check types, in one walk over every file.
 * Input: the program's ASTs with globals declared. Output: each EX_IDENT's
 * symbol and each expression's type stored in the AST; diagnostics E2xxx
 * (names) and E3xxx (types). Invariant: an expression that failed has type
 * T_ERROR, which fits everywhere, so one mistake yields one report.
 */
#include "program.h"

#include "builtins.h"
#include "path.h"
#include "template.h"

#include <stdlib.h>
#include <string.h>

struct checker {
	struct program *p;
	struct diag_sink *d;
	struct arena *a;
	struct scope *scope;       /* innermost scope */
	struct hashmap *handlers;  /* handlers a 'notify' may name here */
	struct hashmap type_cache; /* stdlib type strings, parsed once */
};

/* An EX_IDENT that is a bare enumeration value (state = present) points here. */
static struct symbol enum_literal = {.name = "<enum value>", .kind = SYM_LOCAL};

const char *sym_kind_name(enum sym_kind kind)
{
	switch (kind) {
	case SYM_PARAM:
		return "param";
	case SYM_LET:
		return "let";
	case SYM_ROLE:
		return "role";
	case SYM_IMAGE:
		return "image";
	case SYM_GROUP:
		return "host group";
	case SYM_HANDLER:
		return "handler";
	case SYM_LOCAL:
		return "variable";
	case SYM_FACTS:
		return "facts";
	}
	return "name";
}

/* ---- scopes ------------------------------------------------------------ */

struct symbol *scope_lookup(const struct scope *s, const char *name)
{
	for (; s; s = s->parent) {
		struct symbol *sym = hashmap_get(&s->names, name);
		if (sym)
			return sym;
	}
	return NULL;
}

struct symbol *scope_declare(struct program *p, struct scope *s, const char *name,
                             enum sym_kind kind, struct ast_node *decl, struct src_span span)
{
	struct symbol *old = hashmap_get(&s->names, name);
	if (old) {
		struct diag *d = diag_error(&p->cx->diags, E_DUPLICATE_NAME, span,
		                            "'%s' is declared twice", name);
		diag_label(d, old->span, "the first '%s' is this %s", name,
		           sym_kind_name(old->kind));
		diag_help(d, "rename one of them");
		return old;
	}
	struct symbol *sym = arena_alloc(p->a, sizeof(*sym));
	sym->name = name;
	sym->kind = kind;
	sym->decl = decl;
	sym->span = span;
	sym->type = &type_error;
	hashmap_put(&s->names, name, sym);
	if (decl)
		decl->sym = sym;
	return sym;
}

const char *const *scope_names(const struct scope *s, size_t *ret_n)
{
	static const char **names;
	static size_t cap;
	size_t n = 0;
	for (; s; s = s->parent) {
		for (uint32_t i = 0; i < hashmap_len(&s->names); i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				names = xrealloc(names, cap * sizeof(*names));
			}
			names[n++] = hashmap_at(&s->names, i)->key;
		}
	}
	*ret_n = n;
	return names;
}

static void scope_enter(struct checker *ck, struct scope *s)
{
	*s = (struct scope){.parent = ck->scope, .names = HASHMAP_INIT};
	ck->scope = s;
}

static void scope_leave(struct checker *ck, struct scope *s)
{
	ck->scope = s->parent;
	hashmap_release(&s->names);
}

/* ---- types ------------------------------------------------------------- */

static const struct type *schema_type(struct checker *ck, const char *text)
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

static const char *tstr(struct checker *ck, const struct type *t)
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
		t = type_parse(&facts_arena,
		               "object(os: object(family: string, distribution: string, "
		               "version: string, codename: string, id: string), arch: string, "
		               "hostname: string, kernel: string)");
	return t;
}

/* ---- reporting helpers ------------------------------------------------- */

static bool is_octal_literal(struct checker *ck, const struct ast_expr *e)
{
	const struct source_file *f = source_get(&ck->p->cx->sm, e->span.file);
	return e->span.end - e->span.start > 1 && f->text[e->span.start] == '0';
}

/*
 * e (of type got) is used where `want` is expected: report a mismatch,
 * a value outside an enumeration, or a decimal file mode. Returns false if
 * something was reported.
 */
static bool expect(struct checker *ck, const struct ast_expr *e, const struct type *want,
                   const struct type *got, const char *what)
{
	if (!want || got->kind == T_ERROR || want->kind == T_ERROR)
		return true;
	const struct type *en = type_find_enum(want);
	if (en && e->kind == EX_STRING && got->kind == T_STRING &&
	    !(want->kind == T_UNION && type_assignable(want, &type_string) &&
	      !type_enum_has(en, e->str.s))) {
		if (!type_enum_has(en, e->str.s)) {
			struct diag *d =
			    diag_error(ck->d, E_BAD_ENUM, e->span, "%s must be one of %s, not '%s'",
			               what, tstr(ck, en), e->str.s);
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
		               tstr(ck, want), tstr(ck, got));
		if (want->kind == T_LIST && type_assignable(want->elem, got))
			diag_help(d, "put it in a list: [ ... ]");
		else if (type_is_stringish(want) && got->kind == T_INT)
			diag_help(d, "quote it, or interpolate it: \"${...}\"");
		return false;
	}
	return true;
}

/* ---- expressions -------------------------------------------------------- */

static const struct type *check_expr(struct checker *ck, struct ast_expr *e,
                                     const struct type *expected);
static void check_let(struct checker *ck, struct symbol *sym);

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
				diag_help(d, "expected one of %s", tstr(ck, en));
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

/* Check arguments of a call against a schema (function, base). */
static void check_args(struct checker *ck, const struct kiln_schema *s, struct ast_arg *args,
                       struct src_span call_span, const char *what);

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
	const struct type *ret = schema_type(ck, s->returns ? s->returns : "any");
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
		if (!expect(ck, e->binary.lhs, &type_bool, l, "the operand of '&&'/'||'") ||
		    !expect(ck, e->binary.rhs, &type_bool, r, "the operand of '&&'/'||'"))
			return typed(e, &type_error);
		return typed(e, &type_bool);
	case OP_EQ:
	case OP_NE:
		if (!any && !type_join(ck->a, l, r) &&
		    !(type_is_stringish(l) && r->kind == T_ENUM) &&
		    !(l->kind == T_ENUM && type_is_stringish(r))) {
			diag_error(ck->d, E_BAD_OPERANDS, e->span,
			           "'%s' compares %s with %s: they are never equal", ast_op_str(op),
			           tstr(ck, l), tstr(ck, r));
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
			           ast_op_str(op), tstr(ck, l), tstr(ck, r));
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
		                     tstr(ck, l), tstr(ck, r)),
		          "'+' adds two ints, joins two strings or two lists; "
		          "to build a string use \"${a}${b}\"");
		return typed(e, &type_error);
	default:
		if (any)
			return typed(e, &type_int);
		if (l->kind != T_INT || r->kind != T_INT) {
			diag_error(ck->d, E_BAD_OPERANDS, e->span,
			           "'%s' needs two ints, found %s and %s", ast_op_str(op),
			           tstr(ck, l), tstr(ck, r));
			return typed(e, &type_error);
		}
		return typed(e, &type_int);
	}
}

static const struct type *check_expr(struct checker *ck, struct ast_expr *e,
                                     const struct type *expected)
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
				                     tstr(ck, pt)),
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
				expect(ck, p, want, it, "this list");
				it = want;
			}
			const struct type *j = t ? type_join(ck->a, t, it) : it;
			if (!j) {
				diag_error(ck->d, E_TYPE_MISMATCH, p->span,
				           "list items have different types: %s and %s",
				           tstr(ck, t), tstr(ck, it));
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
				expect(ck, en->value, want, vt, "this value");
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
			struct diag *d = diag_error(ck->d, E_UNKNOWN_FIELD, e->member.name_span,
			                            "no field '%s' in %s", name, tstr(ck, t));
			const char *names[128];
			uint32_t k = 0;
			for (uint32_t i = 0; i < t->nfields && k < 128; i++)
				names[k++] = t->fields[i].name;
			diag_suggest(d, names, k, name);
			return typed(e, &type_error);
		}
		diag_error(ck->d, E_UNKNOWN_FIELD, e->member.name_span, "a %s has no field '%s'",
		           tstr(ck, t), name);
		return typed(e, &type_error);
	}
	case EX_INDEX: {
		const struct type *t = check_expr(ck, e->index.obj, NULL);
		const struct type *it = check_expr(ck, e->index.index, NULL);
		if (t->kind == T_ERROR || t->kind == T_ANY)
			return typed(e, t);
		if (t->kind == T_LIST) {
			expect(ck, e->index.index, &type_int, it, "a list index");
			return typed(e, t->elem);
		}
		if (t->kind == T_MAP || t->kind == T_OBJECT) {
			expect(ck, e->index.index, &type_string, it, "a map key");
			if (t->kind == T_MAP)
				return typed(e, t->elem);
			if (e->index.index->kind == EX_STRING) {
				const struct type_field *f = type_field(t, e->index.index->str.s);
				if (!f) {
					diag_error(ck->d, E_UNKNOWN_FIELD, e->index.index->span,
					           "no key '%s' in %s", e->index.index->str.s,
					           tstr(ck, t));
					return typed(e, &type_error);
				}
				return typed(e, f->type);
			}
			return typed(e, &type_any);
		}
		diag_error(ck->d, E_TYPE_MISMATCH, e->index.obj->span, "a %s cannot be indexed",
		           tstr(ck, t));
		return typed(e, &type_error);
	}
	case EX_CALL:
		return check_call(ck, e);
	case EX_UNARY: {
		const struct type *t = check_expr(ck, e->unary.operand, NULL);
		if (e->unary.op == OP_NOT)
			return typed(e, expect(ck, e->unary.operand, &type_bool, t, "'!'")
			                    ? &type_bool
			                    : &type_error);
		return typed(e, expect(ck, e->unary.operand, &type_int, t, "'-'") ? &type_int
		                                                                  : &type_error);
	}
	case EX_BINARY:
		return check_binary(ck, e);
	case EX_COND: {
		const struct type *c = check_expr(ck, e->cond.cond, NULL);
		expect(ck, e->cond.cond, &type_bool, c, "the condition of '?:'");
		const struct type *t = check_expr(ck, e->cond.then, expected);
		const struct type *f = check_expr(ck, e->cond.els, expected);
		const struct type *j = type_join(ck->a, t, f);
		if (!j) {
			diag_error(ck->d, E_TYPE_MISMATCH, e->span,
			           "the branches of '?:' have different types: %s and %s",
			           tstr(ck, t), tstr(ck, f));
			return typed(e, &type_error);
		}
		return typed(e, j);
	}
	}
	return typed(e, &type_error);
}

/* ---- arguments ---------------------------------------------------------- */

static const struct kiln_arg *schema_arg(const struct kiln_schema *s, const char *name)
{
	for (const struct kiln_arg *a = s->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static void suggest_arg(struct diag *d, const struct kiln_schema *s, const char *name,
                        const char *const *extra, size_t nextra)
{
	const char *names[96];
	size_t n = 0;
	for (const struct kiln_arg *a = s->args; a && a->name && n < 90; a++)
		names[n++] = a->name;
	for (size_t i = 0; i < nextra && n < 96; i++)
		names[n++] = extra[i];
	diag_suggest(d, names, n, name);
	if (!d->help)
		diag_help(d, "'kiln doc %s' lists its arguments", s->name);
}

static void check_args(struct checker *ck, const struct kiln_schema *s, struct ast_arg *args,
                       struct src_span call_span, const char *what)
{
	const struct kiln_arg *given[64] = {0};
	size_t nschema = 0;
	while (s->args && s->args[nschema].name)
		nschema++;
	size_t pos = 0, extra = 0;
	for (struct ast_arg *a = args; a; a = a->next) {
		const struct kiln_arg *sa;
		if (a->name.len) {
			sa = schema_arg(s, a->name.s);
			if (!sa) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, a->name_span,
				                            "%s '%s' has no argument '%s'", what,
				                            s->name, a->name.s);
				suggest_arg(d, s, a->name.s, NULL, 0);
				check_expr(ck, a->value, NULL);
				continue;
			}
		} else if (pos < nschema) {
			sa = &s->args[pos++];
		} else if (s->variadic && nschema) {
			sa = &s->args[nschema - 1];
			extra++;
		} else {
			diag_error(ck->d, E_ARG_COUNT, a->value->span,
			           "%s '%s' takes at most %zu argument%s", what, s->name, nschema,
			           nschema == 1 ? "" : "s");
			check_expr(ck, a->value, NULL);
			continue;
		}
		size_t idx = (size_t)(sa - s->args);
		if (idx < 64 && given[idx] && !(s->variadic && idx == nschema - 1)) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, a->value->span,
			           "argument '%s' is given twice", sa->name);
			continue;
		}
		if (idx < 64)
			given[idx] = sa;
		const struct type *want = schema_type(ck, sa->type);
		const struct type *got = check_expr(ck, a->value, want);
		char *w = xasprintf("argument '%s'", sa->name);
		expect(ck, a->value, want, got, w);
		free(w);
	}
	for (size_t i = 0; i < nschema && i < 64; i++)
		if (s->args[i].required && !given[i])
			diag_help(diag_error(ck->d, E_MISSING_ARGUMENT, call_span,
			                     "%s '%s' needs argument '%s'", what, s->name,
			                     s->args[i].name),
			          "%s: %s", s->args[i].name, s->args[i].doc);
}

/* ---- tasks -------------------------------------------------------------- */

static void check_body(struct checker *ck, struct ast_node *body);

static void check_notify(struct checker *ck, struct ast_node *attr)
{
	struct ast_expr *v = attr->value;
	struct ast_expr *items = NULL;
	if (v->kind == EX_LIST) {
		items = v->list.items;
	} else if (v->kind == EX_IDENT) {
		items = v;
	} else {
		diag_help(diag_error(ck->d, E_TYPE_MISMATCH, v->span,
		                     "'notify' takes handler names, found an expression"),
		          "write notify = [handler_a, handler_b]");
		return;
	}
	for (struct ast_expr *h = items; h; h = v->kind == EX_LIST ? h->next : NULL) {
		if (h->kind != EX_IDENT) {
			struct diag *d = diag_error(ck->d, E_TYPE_MISMATCH, h->span,
			                            "'notify' takes handler names");
			if (h->kind == EX_STRING)
				diag_help(d, "write the handler's name without quotes: %s",
				          h->str.s);
			continue;
		}
		struct symbol *sym = ck->handlers ? hashmap_get(ck->handlers, h->str.s) : NULL;
		if (!sym) {
			struct diag *d = diag_error(ck->d, E_UNKNOWN_HANDLER, h->span,
			                            "unknown handler '%s'", h->str.s);
			diag_label(d, attr->span, "notified by this task");
			if (ck->handlers) {
				const char **names =
				    xmalloc((hashmap_len(ck->handlers) + 1) * sizeof(*names));
				size_t k = 0;
				for (uint32_t i = 0; i < hashmap_len(ck->handlers); i++)
					if (hashmap_at(ck->handlers, i)->key[0] != '\1')
						names[k++] = hashmap_at(ck->handlers, i)->key;
				diag_suggest(d, names, k, h->str.s);
				free(names);
			}
			if (!d->help)
				diag_help(
				    d,
				    "declare it in the image, role or apply block: handler %s "
				    "{ ... }",
				    h->str.s);
			continue;
		}
		sym->used = true;
		h->sym = sym;
		h->flags = AST_CHECKED;
	}
}

/*
 * The argument a task's label fills: the module's label argument, unless the
 * body sets that argument itself; then the label only describes the task.
 * file "/etc/motd" { ... } sets path; file "motd" { path = "/etc/motd" } does not.
 */
const struct kiln_arg *label_arg(const struct ast_node *task, const struct kiln_schema *s)
{
	if (!task->label || !s || !s->label)
		return NULL;
	for (const struct ast_node *n = task->body; n; n = n->next)
		if (n->kind == N_ATTR && !strcmp(n->name.s, s->label))
			return NULL;
	return schema_arg(s, s->label);
}

/* ---- templates --------------------------------------------------------- */

static void check_tmpl_nodes(struct checker *ck, struct tmpl_node *n)
{
	for (; n; n = n->next) {
		switch (n->kind) {
		case TM_TEXT:
			break;
		case TM_EXPR: {
			const struct type *t = check_expr(ck, n->expr, NULL);
			if (t->kind == T_LIST || t->kind == T_MAP || t->kind == T_OBJECT)
				diag_help(diag_error(ck->d, E_TYPE_MISMATCH, n->expr->span,
				                     "cannot put a %s into the text", tstr(ck, t)),
				          "loop over it with {%% for x in ... %%}, or join it: "
				          "{{ join(\", \", xs) }}");
			break;
		}
		case TM_FOR: {
			const struct type *t = check_expr(ck, n->expr, NULL);
			const struct type *key = &type_int, *elem = &type_any;
			if (t->kind == T_LIST) {
				elem = t->elem;
			} else if (t->kind == T_MAP || t->kind == T_OBJECT) {
				key = &type_string;
				elem = t->kind == T_MAP ? t->elem : &type_any;
			} else if (t->kind != T_ERROR && t->kind != T_ANY) {
				diag_error(ck->d, E_TYPE_MISMATCH, n->expr->span,
				           "'for' loops over a list or a map, found %s",
				           tstr(ck, t));
			}
			struct scope s;
			scope_enter(ck, &s);
			n->sym = scope_declare(ck->p, &s, n->var, SYM_LOCAL, NULL, n->var_span);
			n->sym->used = true;
			if (n->var2) {
				n->sym2 = scope_declare(ck->p, &s, n->var2, SYM_LOCAL, NULL,
				                        n->var2_span);
				n->sym2->used = true;
				n->sym->type = key;
				n->sym2->type = elem;
			} else {
				n->sym->type = t->kind == T_LIST ? elem : &type_any;
			}
			check_tmpl_nodes(ck, n->body);
			scope_leave(ck, &s);
			break;
		}
		case TM_IF:
			for (struct tmpl_node *b = n; b; b = b->els) {
				if (b->expr)
					expect(ck, b->expr, &type_bool,
					       check_expr(ck, b->expr, NULL), "'{% if %}'");
				check_tmpl_nodes(ck, b->body);
			}
			break;
		}
	}
}

/* template { src = "..." }: read, parse and check the template; keep it on the src attribute. */
static void check_template_src(struct checker *ck, struct ast_node *task, struct ast_node *src)
{
	if (src->value->kind != EX_STRING) {
		if (!(src->value->flags & AST_FAILED))
			diag_help(diag_error(ck->d, E_TYPE_MISMATCH, src->value->span,
			                     "a template's src must be a plain string"),
			          "templates are read when the build is compiled; write the path");
		return;
	}
	const char *dir = ".";
	for (uint32_t i = 0; i < ck->p->nfiles; i++)
		if (ck->p->files[i]->file == task->span.file)
			dir = ck->p->files[i]->dir;
	char *path = path_join(dir, src->value->str.s);
	uint32_t err_id = 0;
	int id = source_load(&ck->p->cx->sm, path, &err_id);
	if (id < 0) {
		diag_help(diag_error(ck->d, E_FILE_NOT_FOUND, src->value->span,
		                     "cannot read template %s: %s", path, strerror(-id)),
		          "paths are relative to the file that names them");
		free(path);
		return;
	}
	free(path);
	struct tmpl *t = template_parse(ck->p, (uint32_t)id);
	check_tmpl_nodes(ck, t->nodes);
	src->sym = t;
}

/* Task attributes every module takes, beside its own arguments. */
static const char *const task_common[] = {"notify", "ignore_errors"};

static void check_task(struct checker *ck, struct ast_node *task)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, task->name.s);
	task->schema = s;
	struct scope loop;
	scope_enter(ck, &loop);
	/* the loop first: its variables are visible in the whole task */
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind != N_FOR)
			continue;
		const struct type *t = check_expr(ck, n->value, NULL);
		const struct type *key = &type_int, *elem = &type_any;
		if (t->kind == T_LIST) {
			elem = t->elem;
		} else if (t->kind == T_MAP || t->kind == T_OBJECT) {
			key = &type_string;
			elem = t->kind == T_MAP ? t->elem : &type_any;
		} else if (t->kind != T_ERROR && t->kind != T_ANY) {
			diag_error(ck->d, E_TYPE_MISMATCH, n->value->span,
			           "'for' loops over a list or a map, found %s", tstr(ck, t));
			elem = &type_error;
		}
		struct symbol *v1 =
		    scope_declare(ck->p, &loop, n->name.s, SYM_LOCAL, NULL, n->name_span);
		v1->used = true;
		if (n->label) {
			struct symbol *v2 = scope_declare(ck->p, &loop, n->label->str.s, SYM_LOCAL,
			                                  NULL, n->label->span);
			v2->used = true;
			n->label->sym = v2;
			v1->type = key;
			v2->type = elem;
		} else {
			v1->type = t->kind == T_LIST
			               ? elem
			               : (t->kind == T_ERROR ? &type_error : &type_any);
		}
		n->sym = v1;
	}
	if (!s) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_MODULE, task->name_span,
		                            "unknown module '%s'", task->name.s);
		size_t n;
		const char *const *names = stdlib_names(SCHEMA_MODULE, &n);
		diag_suggest(d, names, n, task->name.s);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the modules");
	}
	const struct kiln_arg *la = label_arg(task, s);
	if (task->label) {
		const struct type *want = la ? schema_type(ck, la->type) : &type_string;
		const struct type *got = check_expr(ck, task->label, want);
		char *w = la ? xasprintf("the label (argument '%s')", la->name) : NULL;
		expect(ck, task->label, want, got, la ? w : "a task's label");
		free(w);
	}
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind == N_WHEN) {
			const struct type *t = check_expr(ck, n->value, NULL);
			expect(ck, n->value, &type_bool, t, "'when'");
			continue;
		}
		if (n->kind != N_ATTR)
			continue;
		struct ast_node *dup = hashmap_get(&seen, n->name.s);
		if (dup) {
			struct diag *d = diag_error(ck->d, E_DUPLICATE_ARGUMENT, n->name_span,
			                            "argument '%s' is given twice", n->name.s);
			diag_label(d, dup->name_span, "first here");
			continue;
		}
		hashmap_put(&seen, n->name.s, n);
		if (!strcmp(n->name.s, "notify")) {
			check_notify(ck, n);
			continue;
		}
		if (!strcmp(n->name.s, "ignore_errors")) {
			expect(ck, n->value, &type_bool, check_expr(ck, n->value, NULL),
			       "'ignore_errors'");
			continue;
		}
		if (!s) {
			check_expr(ck, n->value, NULL);
			continue;
		}
		const struct kiln_arg *sa = schema_arg(s, n->name.s);
		if (!sa) {
			struct diag *d =
			    diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			               "module '%s' has no argument '%s'", s->name, n->name.s);
			suggest_arg(d, s, n->name.s, task_common,
			            sizeof(task_common) / sizeof(*task_common));
			check_expr(ck, n->value, NULL);
			continue;
		}
		const struct type *want = schema_type(ck, sa->type);
		const struct type *got = check_expr(ck, n->value, want);
		char *w = xasprintf("argument '%s'", sa->name);
		expect(ck, n->value, want, got, w);
		free(w);
		if (s->template_arg && !strcmp(sa->name, s->template_arg))
			check_template_src(ck, task, n);
	}
	if (s) {
		for (const struct kiln_arg *sa = s->args; sa && sa->name; sa++) {
			bool by_label = la == sa;
			if (sa->required && !by_label && !hashmap_get(&seen, sa->name))
				diag_help(diag_error(ck->d, E_MISSING_ARGUMENT, task->name_span,
				                     "module '%s' needs argument '%s'", s->name,
				                     sa->name),
				          "%s: %s", sa->name, sa->doc);
		}
		for (const char *const *g = s->one_of; g && *g; g++) {
			char *group = xstrdup(*g);
			int count = 0;
			for (char *save, *tok = strtok_r(group, "|", &save); tok;
			     tok = strtok_r(NULL, "|", &save)) {
				bool by_label = la && !strcmp(la->name, tok);
				count += by_label || hashmap_get(&seen, tok) != NULL;
			}
			free(group);
			if (count != 1) {
				char *alts = xstrdup(*g);
				for (char *c = alts; *c; c++)
					if (*c == '|')
						*c = '/';
				diag_error(ck->d, E_ONE_OF, task->name_span,
				           "module '%s' needs exactly one of %s, %s", s->name, alts,
				           count ? "not several" : "found none");
				free(alts);
			}
		}
	}
	hashmap_release(&seen);
	scope_leave(ck, &loop);
}

/* "did you mean" among the declared names of one kind (roles, host groups). */
static void suggest_global(struct checker *ck, struct diag *d, enum sym_kind kind, const char *name)
{
	const char *names[256];
	size_t k = 0;
	for (uint32_t i = 0; i < hashmap_len(&ck->p->globals.names) && k < 256; i++) {
		struct symbol *s = hashmap_at(&ck->p->globals.names, i)->value;
		if (s->kind == kind)
			names[k++] = s->name;
	}
	diag_suggest(d, names, k, name);
}

static void check_use(struct checker *ck, struct ast_node *use)
{
	struct symbol *role = scope_lookup(ck->scope, use->name.s);
	if (!role || role->kind != SYM_ROLE) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_ROLE, use->name_span,
		                            "unknown role '%s'", use->name.s);
		suggest_global(ck, d, SYM_ROLE, use->name.s);
		for (struct ast_arg *a = use->args; a; a = a->next)
			check_expr(ck, a->value, NULL);
		return;
	}
	role->used = true;
	use->sym = role;
	struct ast_node *params[64];
	size_t np = 0;
	for (struct ast_node *p = role->decl->params; p && np < 64; p = p->next)
		params[np++] = p;
	bool given[64] = {0};
	size_t pos = 0;
	for (struct ast_arg *a = use->args; a; a = a->next) {
		size_t idx = np;
		if (a->name.len) {
			for (idx = 0; idx < np && strcmp(params[idx]->name.s, a->name.s); idx++)
				;
			if (idx == np) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, a->name_span,
				                            "role '%s' has no parameter '%s'",
				                            role->name, a->name.s);
				const char *names[64];
				for (size_t i = 0; i < np; i++)
					names[i] = params[i]->name.s;
				diag_suggest(d, names, np, a->name.s);
				check_expr(ck, a->value, NULL);
				continue;
			}
		} else if (pos < np) {
			idx = pos++;
		} else {
			diag_error(ck->d, E_ARG_COUNT, a->value->span,
			           "role '%s' takes at most %zu argument%s", role->name, np,
			           np == 1 ? "" : "s");
			check_expr(ck, a->value, NULL);
			continue;
		}
		if (given[idx]) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, a->value->span,
			           "parameter '%s' is given twice", params[idx]->name.s);
			continue;
		}
		given[idx] = true;
		const struct type *want =
		    params[idx]->sym ? ((struct symbol *)params[idx]->sym)->type : &type_any;
		const struct type *got = check_expr(ck, a->value, want);
		char *w = xasprintf("parameter '%s'", params[idx]->name.s);
		expect(ck, a->value, want, got, w);
		free(w);
	}
	for (size_t i = 0; i < np; i++)
		if (!given[i] && !params[i]->value) {
			struct diag *d = diag_error(ck->d, E_MISSING_ARGUMENT, use->span,
			                            "role '%s' needs parameter '%s'", role->name,
			                            params[i]->name.s);
			diag_label(d, params[i]->name_span, "declared here without a default");
		}
}

/* Attributes that a block of this kind takes (config, hosts, apply, image, param). */
struct attr_spec {
	const char *name;
	const char *type;
};

static const struct attr_spec config_attrs[] = {{"entrypoint", "list<string>"},
                                                {"cmd", "list<string>"},
                                                {"env", "map<string>"},
                                                {"workdir", "string"},
                                                {"user", "string"},
                                                {"expose", "list<int|string>"},
                                                {"labels", "map<string>"},
                                                {"volumes", "list<string>"},
                                                {"stop_signal", "string"},
                                                {NULL, NULL}};
static const struct attr_spec connection_attrs[] = {
    {"address", "string"}, /* where to connect: a name or IP (Ansible's ansible_host) */
    {"user", "string"},
    {"port", "int"},
    {"identity_file", "path"},
    {"known_hosts", "path"},
    {"become", "bool"},
    {"vars", "map<any>"},
    {"parallel", "int"},
    {"password", "secret"},
    /* how kiln reaches a host: ssh (the default), or rootfs: the host's name is a
       directory holding a root filesystem, entered like an image's (chroot) */
    {"connection", "enum(ssh, rootfs)"},
    {NULL, NULL}};
static const struct attr_spec image_attrs[] = {{"description", "string"}, {NULL, NULL}};
static const struct attr_spec param_attrs[] = {{"description", "string"}, {NULL, NULL}};

static void check_attrs(struct checker *ck, struct ast_node *body, const struct attr_spec *spec,
                        const char *what)
{
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		const struct attr_spec *a = spec;
		while (a->name && strcmp(a->name, n->name.s))
			a++;
		if (!a->name) {
			struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			                            "%s has no attribute '%s'", what, n->name.s);
			const char *names[32];
			size_t k = 0;
			for (a = spec; a->name && k < 32; a++)
				names[k++] = a->name;
			diag_suggest(d, names, k, n->name.s);
			if (!d->help) {
				struct strbuf sb = STRBUF_INIT;
				for (size_t i = 0; i < k; i++)
					sb_addf(&sb, "%s%s", i ? ", " : "", names[i]);
				diag_help(d, "the attributes are %s", sb.buf);
				sb_release(&sb);
			}
			check_expr(ck, n->value, NULL);
			continue;
		}
		struct ast_node *dup = hashmap_get(&seen, n->name.s);
		if (dup) {
			struct diag *d = diag_error(ck->d, E_DUPLICATE_ARGUMENT, n->name_span,
			                            "attribute '%s' is given twice", n->name.s);
			diag_label(d, dup->name_span, "first here");
			continue;
		}
		hashmap_put(&seen, n->name.s, n);
		const struct type *want = schema_type(ck, a->type);
		char *w = xasprintf("attribute '%s'", n->name.s);
		expect(ck, n->value, want, check_expr(ck, n->value, want), w);
		free(w);
	}
	hashmap_release(&seen);
}

static void check_output(struct checker *ck, struct ast_node *out)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, out->name.s);
	out->schema = s;
	if (!s) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_OUTPUT, out->name_span,
		                            "unknown output '%s'", out->name.s);
		size_t n;
		const char *const *names = stdlib_names(SCHEMA_OUTPUT, &n);
		diag_suggest(d, names, n, out->name.s);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the outputs");
		if (out->label)
			check_expr(ck, out->label, NULL);
		for (struct ast_node *n2 = out->body; n2; n2 = n2->next)
			if (n2->kind == N_ATTR)
				check_expr(ck, n2->value, NULL);
		return;
	}
	const struct kiln_arg *la = s->label ? schema_arg(s, s->label) : NULL;
	if (out->label) {
		const struct type *want = la ? schema_type(ck, la->type) : &type_string;
		expect(ck, out->label, want, check_expr(ck, out->label, want), "the output's path");
	}
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = out->body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		const struct kiln_arg *sa = schema_arg(s, n->name.s);
		if (!sa || (la && sa == la)) {
			struct diag *d =
			    diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			               "output '%s' has no attribute '%s'", s->name, n->name.s);
			suggest_arg(d, s, n->name.s, NULL, 0);
			check_expr(ck, n->value, NULL);
			continue;
		}
		if (hashmap_get(&seen, n->name.s)) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, n->name_span,
			           "attribute '%s' is given twice", n->name.s);
			continue;
		}
		hashmap_put(&seen, n->name.s, n);
		const struct type *want = schema_type(ck, sa->type);
		char *w = xasprintf("attribute '%s'", sa->name);
		expect(ck, n->value, want, check_expr(ck, n->value, want), w);
		free(w);
	}
	for (const struct kiln_arg *sa = s->args; sa && sa->name; sa++)
		if (sa->required && sa != la && !hashmap_get(&seen, sa->name))
			diag_error(ck->d, E_MISSING_ARGUMENT, out->name_span,
			           "output '%s' needs attribute '%s'", s->name, sa->name);
	if (la && la->required && !out->label)
		diag_error(ck->d, E_MISSING_ARGUMENT, out->name_span, "output '%s' needs a path",
		           s->name);
	hashmap_release(&seen);
}

/* Body-level lets: declared in the body's scope, visible to all its items. */
static void declare_lets(struct checker *ck, struct scope *s, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next)
		if (n->kind == N_LET)
			scope_declare(ck->p, s, n->name.s, SYM_LET, n, n->name_span);
}

static void check_body(struct checker *ck, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next) {
		switch (n->kind) {
		case N_TASK:
			check_task(ck, n);
			break;
		case N_USE:
			check_use(ck, n);
			break;
		case N_LET:
			check_let(ck, n->sym);
			break;
		case N_STAGE:
		case N_TEST: {
			struct scope s;
			scope_enter(ck, &s);
			declare_lets(ck, &s, n->body);
			if (n->label)
				expect(ck, n->label, &type_string, check_expr(ck, n->label, NULL),
				       "a test's name");
			check_body(ck, n->body);
			scope_leave(ck, &s);
			break;
		}
		case N_HANDLER:
			check_body(ck, n->body);
			break;
		case N_CONFIG:
			check_attrs(ck, n->body, config_attrs, "config");
			break;
		case N_OUTPUT:
			check_output(ck, n);
			break;
		default:
			break;
		}
	}
}

/* ---- handlers in scope ------------------------------------------------- */

static void collect_handlers(struct checker *ck, struct hashmap *h, struct ast_node *body,
                             struct scope *decl_scope, int depth);

static void collect_from_uses(struct checker *ck, struct hashmap *h, struct ast_node *body,
                              int depth)
{
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind == N_STAGE || n->kind == N_TEST)
			collect_from_uses(ck, h, n->body, depth);
		if (n->kind != N_USE || depth > 32)
			continue;
		struct symbol *role = scope_lookup(&ck->p->globals, n->name.s);
		if (!role || role->kind != SYM_ROLE)
			continue;
		/* each role once: roles that use each other would otherwise take
		   exponential time (the map also holds these "\1ROLE" marks) */
		char *mark = arena_printf(ck->a, "\1%s", role->name);
		if (hashmap_get(h, mark))
			continue;
		hashmap_put(h, mark, role);
		collect_handlers(ck, h, role->decl->body, NULL, depth + 1);
	}
}

/*
 * The handlers a body's tasks may notify: its own (declared as symbols in
 * decl_scope when given) and those of every role it uses, transitively.
 */
static void collect_handlers(struct checker *ck, struct hashmap *h, struct ast_node *body,
                             struct scope *decl_scope, int depth)
{
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_HANDLER)
			continue;
		struct symbol *sym = n->sym;
		if (!sym) {
			struct scope tmp = {0};
			sym = scope_declare(ck->p, decl_scope ? decl_scope : &tmp, n->name.s,
			                    SYM_HANDLER, n, n->name_span);
			hashmap_release(&tmp.names);
		}
		if (!hashmap_get(h, n->name.s))
			hashmap_put(h, n->name.s, sym);
	}
	collect_from_uses(ck, h, body, depth);
}

static void warn_unused_handlers(struct checker *ck, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next)
		if (n->kind == N_HANDLER && n->sym && !((struct symbol *)n->sym)->used)
			diag_help(diag_warning(ck->d, W_UNUSED_HANDLER, n->name_span,
			                       "handler '%s' is never notified", n->name.s),
			          "notify it from a task (notify = [%s]) or remove it", n->name.s);
}

/* ---- declarations ------------------------------------------------------ */

static void check_let(struct checker *ck, struct symbol *sym)
{
	if (!sym || sym->state == 2)
		return;
	if (sym->state == 1) {
		struct diag *d = diag_error(ck->d, E_LET_CYCLE, sym->span,
		                            "the value of '%s' depends on itself", sym->name);
		diag_help(d, "break the cycle: one of the lets must not refer back");
		sym->type = &type_error;
		sym->state = 2;
		return;
	}
	sym->state = 1;
	struct ast_node *n = sym->decl;
	const struct type *declared = n->type ? check_ast_type(ck->p, n->type) : NULL;
	struct scope *saved = ck->scope;
	ck->scope = &ck->p->globals; /* a let sees the names of the file's top level */
	const struct type *t = check_expr(ck, n->value, declared);
	ck->scope = saved;
	if (sym->state == 2) /* a cycle through this let was reported */
		return;
	if (declared)
		expect(ck, n->value, declared, t, "this let");
	sym->type = declared ? declared : t;
	sym->state = 2;
}

static void check_param(struct checker *ck, struct ast_node *n, struct symbol *sym)
{
	const struct type *declared = n->type ? check_ast_type(ck->p, n->type) : NULL;
	if (n->value) {
		const struct type *t = check_expr(ck, n->value, declared);
		if (declared)
			expect(ck, n->value, declared, t, "the default");
		if (!declared)
			declared = t;
		/* a secret's default is env("NAME") and nothing else, whatever the
		   environment holds: the verdict does not depend on it */
		const struct ast_expr *v = n->value;
		bool is_env = v->kind == EX_CALL && !strcmp(v->call.fn->str.s, "env");
		const struct ast_arg *a = is_env ? v->call.args : NULL;
		if (declared->kind == T_SECRET && is_env && a && a->next)
			diag_help(diag_error(ck->d, E_SECRET_DEFAULT,
			                     ((const struct ast_arg *)a->next)->value->span,
			                     "a secret's fallback must not be written in the "
			                     "source"),
			          "remove the second argument of env(); without %s in the "
			          "environment, set it with -var, -var-file or KILN_VAR_%s",
			          a->value->kind == EX_STRING ? a->value->str.s : "the variable",
			          n->name.s);
		else if (declared->kind == T_SECRET && (!a || a->value->kind != EX_STRING))
			diag_help(
			    diag_error(ck->d, E_SECRET_DEFAULT, n->value->span,
			               "a secret's default must not be written in the source"),
			    "take it from the environment: = env(\"NAME\"), or give no "
			    "default and set it with -var, -var-file or KILN_VAR_%s",
			    n->name.s);
	}
	if (sym)
		sym->type = declared ? declared : &type_error;
	check_attrs(ck, n->body, param_attrs, "a param");
}

static void check_role(struct checker *ck, struct ast_node *role)
{
	struct scope s;
	scope_enter(ck, &s);
	for (struct ast_node *p = role->params; p; p = p->next) {
		struct symbol *sym =
		    scope_declare(ck->p, &s, p->name.s, SYM_LOCAL, p, p->name_span);
		sym->used = true;
		struct scope *inner = ck->scope;
		ck->scope = s.parent; /* defaults see the globals, not other parameters */
		check_param(ck, p, sym);
		ck->scope = inner;
	}
	declare_lets(ck, &s, role->body);
	struct hashmap handlers = HASHMAP_INIT;
	struct hashmap *saved = ck->handlers;
	collect_handlers(ck, &handlers, role->body, &s, 0);
	ck->handlers = &handlers;
	check_body(ck, role->body);
	ck->handlers = saved;
	hashmap_release(&handlers);
	scope_leave(ck, &s);
}

static void check_from(struct checker *ck, struct ast_node *image)
{
	struct ast_expr *from = image->value;
	struct ast_expr *fn = from->kind == EX_CALL ? from->call.fn : from;
	if (fn->kind == EX_MEMBER && fn->member.obj->kind == EX_IDENT &&
	    !strcmp(fn->member.obj->str.s, "image"))
		fn = fn->member.obj; /* image.NAME */
	const char *name = from->kind == EX_MEMBER ? from->member.name
	                   : fn->kind == EX_IDENT  ? fn->str.s
	                                           : NULL;
	if (from->kind == EX_ERROR)
		return;
	if (!name) {
		diag_help(diag_error(ck->d, E_UNKNOWN_BASE, from->span,
		                     "'from' takes an image's name or a base such as debian(...)"),
		          "e.g. image app from base { ... } or image base from busybox() { ... }");
		return;
	}
	struct symbol *sym = scope_lookup(&ck->p->globals, name);
	if (from->kind != EX_CALL && sym && sym->kind == SYM_IMAGE) {
		from->sym = sym;
		sym->used = true;
		return;
	}
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_BASE, name);
	if (!s) {
		struct diag *d =
		    diag_error(ck->d, E_UNKNOWN_BASE, from->kind == EX_CALL ? fn->span : from->span,
		               "'%s' is neither an image nor a base", name);
		const char *names[512];
		size_t k = 0, nb;
		const char *const *bases = stdlib_names(SCHEMA_BASE, &nb);
		for (size_t i = 0; i < nb && k < 512; i++)
			names[k++] = bases[i];
		for (uint32_t i = 0; i < hashmap_len(&ck->p->globals.names) && k < 512; i++) {
			struct symbol *g = hashmap_at(&ck->p->globals.names, i)->value;
			if (g->kind == SYM_IMAGE && g->decl != image)
				names[k++] = g->name;
		}
		diag_suggest(d, names, k, name);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the bases");
		return;
	}
	check_args(ck, s, from->kind == EX_CALL ? from->call.args : NULL, from->span, "base");
}

/*
 * An image's or an apply block's body: its lets in a scope of their own, its
 * handlers (and its roles') the ones its tasks may notify, its attributes.
 */
static void check_block_body(struct checker *ck, struct ast_node *block,
                             const struct attr_spec *attrs, const char *what)
{
	struct scope s;
	scope_enter(ck, &s);
	declare_lets(ck, &s, block->body);
	struct hashmap handlers = HASHMAP_INIT;
	struct hashmap *saved = ck->handlers;
	collect_handlers(ck, &handlers, block->body, &s, 0);
	ck->handlers = &handlers;
	check_attrs(ck, block->body, attrs, what);
	check_body(ck, block->body);
	ck->handlers = saved;
	hashmap_release(&handlers);
	warn_unused_handlers(ck, block->body);
	scope_leave(ck, &s);
}

static void check_image(struct checker *ck, struct ast_node *image)
{
	check_from(ck, image);
	check_block_body(ck, image, image_attrs, "an image");
}

static void check_hosts(struct checker *ck, struct ast_node *hosts)
{
	check_attrs(ck, hosts->body, connection_attrs, "a host group");
	for (struct ast_node *n = hosts->body; n; n = n->next) {
		if (n->kind == N_HOST) {
			expect(ck, n->label, &type_string, check_expr(ck, n->label, NULL),
			       "a host name");
			check_attrs(ck, n->body, connection_attrs, "a host");
		} else if (n->kind == N_GROUP_REF) {
			struct symbol *g = scope_lookup(&ck->p->globals, n->name.s);
			if (!g || g->kind != SYM_GROUP) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_GROUP, n->name_span,
				                            "unknown host group '%s'", n->name.s);
				size_t k;
				const char *const *names = scope_names(&ck->p->globals, &k);
				diag_suggest(d, names, k, n->name.s);
			} else {
				g->used = true;
				n->sym = g;
			}
		}
	}
}

static void check_apply(struct checker *ck, struct ast_node *ap)
{
	struct symbol *g = scope_lookup(&ck->p->globals, ap->name.s);
	if (!g || g->kind != SYM_GROUP) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_GROUP, ap->name_span,
		                            "unknown host group '%s'", ap->name.s);
		suggest_global(ck, d, SYM_GROUP, ap->name.s);
		if (!d->help)
			diag_help(d,
			          "declare it: hosts %s { \"host.example.com\" }, or load an "
			          "inventory file",
			          ap->name.s);
	} else {
		g->used = true;
		ap->sym = g;
	}
	check_block_body(ck, ap, connection_attrs, "an apply block");
}

/* Does a 'use' in body (or in the roles it uses, transitively) lead to target? */
static bool role_reaches(struct checker *ck, struct ast_node *body, const struct ast_node *target,
                         struct hashmap *seen)
{
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_USE)
			continue;
		struct symbol *r = scope_lookup(&ck->p->globals, n->name.s);
		if (!r || r->kind != SYM_ROLE)
			continue;
		if (r->decl == target)
			return true;
		if (hashmap_get(seen, r->name))
			continue;
		hashmap_put(seen, r->name, r);
		if (role_reaches(ck, r->decl->body, target, seen))
			return true;
	}
	return false;
}

/* Roles that use themselves, directly or through others (E2015), found before lowering. */
static void check_role_cycles(struct checker *ck)
{
	struct hashmap reported = HASHMAP_INIT; /* roles of a cycle already reported */
	for (uint32_t f = 0; f < ck->p->nfiles; f++)
		for (struct ast_node *role = ck->p->files[f]->items; role; role = role->next) {
			if (role->kind != N_ROLE || hashmap_get(&reported, role->name.s))
				continue;
			for (struct ast_node *u = role->body; u; u = u->next) {
				if (u->kind != N_USE)
					continue;
				struct symbol *r = scope_lookup(&ck->p->globals, u->name.s);
				if (!r || r->kind != SYM_ROLE)
					continue;
				struct hashmap seen = HASHMAP_INIT;
				bool cycle =
				    r->decl == role || role_reaches(ck, r->decl->body, role, &seen);
				if (cycle) {
					diag_help(
					    diag_error(ck->d, E_ROLE_CYCLE, u->span,
					               "role '%s' uses itself through 'use %s'",
					               role->name.s, u->name.s),
					    "a role cannot use a role that leads back to it");
					/* one report per cycle: its other roles are not reported
					 * again */
					hashmap_put(&reported, role->name.s, role);
					hashmap_put(&reported, r->name, r);
					for (uint32_t i = 0; i < hashmap_len(&seen); i++)
						hashmap_put(&reported, hashmap_at(&seen, i)->key,
						            role);
				}
				hashmap_release(&seen);
			}
		}
	hashmap_release(&reported);
}

static bool in_main_file(const struct program *p, uint32_t file)
{
	for (uint32_t i = 0; i < p->nmain; i++)
		if (p->files[i]->file == file)
			return true;
	return false;
}

void check_program(struct program *p)
{
	struct checker ck = {
	    .p = p,
	    .d = &p->cx->diags,
	    .a = p->a,
	    .scope = &p->globals,
	    .type_cache = HASHMAP_INIT,
	};
	/* params first: their types are used everywhere */
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			if (n->kind == N_PARAM)
				check_param(&ck, n, n->sym);
	/* roles next, wherever they are declared: a 'use' checks its arguments
	   against the role's parameter types */
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			if (n->kind == N_ROLE)
				check_role(&ck, n);
	check_role_cycles(&ck);
	for (uint32_t f = 0; f < p->nfiles; f++) {
		for (struct ast_node *n = p->files[f]->items; n; n = n->next) {
			switch (n->kind) {
			case N_LET:
				check_let(&ck, n->sym);
				break;
			case N_IMAGE:
				check_image(&ck, n);
				break;
			case N_HOSTS:
				check_hosts(&ck, n);
				break;
			case N_APPLY:
				check_apply(&ck, n);
				break;
			default:
				break;
			}
		}
	}
	/* roles' handlers are checked once, where the role is declared */
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			if (n->kind == N_ROLE)
				warn_unused_handlers(&ck, n->body);
	/* names nothing uses, in the files named on the command line (not after
	   errors: a broken declaration hides its uses) */
	for (uint32_t i = 0; !diag_has_errors(ck.d) && i < hashmap_len(&p->globals.names); i++) {
		struct symbol *s = hashmap_at(&p->globals.names, i)->value;
		if (s->used || (s->kind != SYM_LET && s->kind != SYM_ROLE && s->kind != SYM_PARAM))
			continue;
		if (s->kind == SYM_ROLE && !in_main_file(p, s->span.file))
			continue; /* a library of roles need not use them all */
		diag_help(diag_warning(ck.d, W_UNUSED, s->span, "%s '%s' is never used",
		                       sym_kind_name(s->kind), s->name),
		          "remove it, or use it");
	}
	hashmap_release(&ck.type_cache);
}

const struct type *check_standalone(struct program *p, struct ast_expr *e)
{
	struct scope empty = {0};
	struct checker ck = {
	    .p = p,
	    .d = &p->cx->diags,
	    .a = p->a,
	    .scope = &empty,
	    .type_cache = HASHMAP_INIT,
	};
	const struct type *t = check_expr(&ck, e, NULL);
	hashmap_release(&ck.type_cache);
	return t;
}
