/*
 * ast: constructors called by the grammar actions, the structure check that
 * follows parsing, and --dump=ast. Input: tokens' values and spans. Output:
 * nodes in the arena. Invariant: every expression's depth is at most
 * AST_MAX_DEPTH; a deeper one is reported once (E1011) and becomes EX_ERROR.
 */
#include "ast_build.h"

#include "utf8.h"

#include <inttypes.h>
#include <string.h>

/* ---- lists ------------------------------------------------------------ */

struct ast_list ast_list_empty(void)
{
	return (struct ast_list){NULL, NULL};
}

struct ast_list ast_list_add(struct ast_list l, void *item)
{
	if (!item)
		return l;
	*(void **)item = NULL;
	if (l.tail)
		*(void **)l.tail = item;
	else
		l.head = item;
	l.tail = item;
	return l;
}

/* ---- nodes ------------------------------------------------------------ */

static struct ast_node *node(struct parser *ps, enum ast_kind kind, struct src_span span)
{
	struct ast_node *n = arena_alloc(ps->arena, sizeof(*n));
	n->kind = kind;
	n->span = span;
	return n;
}

static struct ast_str str_of(struct parser *ps, const struct tok_str *t)
{
	return (struct ast_str){t->s, t->len};
}

void ast_file_done(struct parser *ps, struct ast_list items, struct src_span span)
{
	ps->result->items = items.head;
	ps->result->span = span;
}

struct ast_node *ast_error(struct parser *ps, struct src_span span)
{
	return node(ps, N_ERROR, span);
}

struct tok_str ast_keyword_name(struct parser *ps, struct src_span span)
{
	const char *text = ps->src->text + span.start;
	uint32_t len = span.end - span.start;
	struct diag *d = diag_error(ps->diags, E_UNEXPECTED_TOKEN, span,
	                            "'%.*s' is a keyword; it cannot be a name", (int)len, text);
	diag_help(d, "choose another name, e.g. '%.*s_'", (int)len, text);
	/* a syntax error on the token after it would be its echo */
	ps->echo_until = ps->ntokens + 1;
	return (struct tok_str){parse_intern(ps, text, len), len, false};
}

struct ast_node *ast_param(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                           struct ast_type *type, struct ast_expr *def, struct ast_node *attrs,
                           struct src_span span)
{
	struct ast_node *n = node(ps, N_PARAM, span);
	n->name = str_of(ps, name);
	n->name_span = name_span;
	n->type = type;
	n->value = def;
	n->body = attrs ? attrs->body : NULL;
	return n;
}

struct ast_node *ast_let(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                         struct ast_type *type, struct ast_expr *value, struct src_span span)
{
	struct ast_node *n = node(ps, N_LET, span);
	n->name = str_of(ps, name);
	n->name_span = name_span;
	n->type = type;
	n->value = value;
	return n;
}

struct ast_node *ast_labelled(struct parser *ps, enum ast_kind kind, struct ast_expr *label,
                              struct src_span span)
{
	struct ast_node *n = node(ps, kind, span);
	n->label = label;
	return n;
}

struct ast_node *ast_role(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                          struct ast_list params, struct ast_list body, struct src_span span)
{
	struct ast_node *n = node(ps, N_ROLE, span);
	n->name = str_of(ps, name);
	n->name_span = name_span;
	n->params = params.head;
	n->body = body.head;
	return n;
}

struct ast_node *ast_image(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                           struct ast_expr *from, struct ast_list body, struct src_span span)
{
	struct ast_node *n = node(ps, N_IMAGE, span);
	n->name = str_of(ps, name);
	n->name_span = name_span;
	n->value = from;
	n->body = body.head;
	return n;
}

struct ast_node *ast_block(struct parser *ps, enum ast_kind kind, const struct tok_str *name,
                           struct src_span name_span, struct ast_expr *label, struct ast_list body,
                           struct src_span span)
{
	struct ast_node *n = node(ps, kind, span);
	if (name)
		n->name = str_of(ps, name);
	n->name_span = name_span;
	n->label = label;
	n->body = body.head;
	return n;
}

struct ast_node *ast_output(struct parser *ps, const struct tok_str *kind,
                            struct src_span kind_span, struct ast_expr *path,
                            struct ast_node *attrs, struct src_span span)
{
	struct ast_node *n = node(ps, N_OUTPUT, span);
	n->name = str_of(ps, kind);
	n->name_span = kind_span;
	n->label = path;
	n->body = attrs ? attrs->body : NULL;
	return n;
}

struct ast_node *ast_host(struct parser *ps, struct ast_expr *name, struct ast_node *attrs,
                          struct src_span span)
{
	struct ast_node *n = node(ps, N_HOST, span);
	n->label = name;
	n->body = attrs ? attrs->body : NULL;
	return n;
}

struct ast_node *ast_named(struct parser *ps, enum ast_kind kind, const struct tok_str *name,
                           struct src_span name_span, struct src_span span)
{
	struct ast_node *n = node(ps, kind, span);
	n->name = str_of(ps, name);
	n->name_span = name_span;
	return n;
}

struct ast_node *ast_attr(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                          struct ast_expr *value, struct src_span span)
{
	struct ast_node *n = ast_named(ps, N_ATTR, name, name_span, span);
	n->value = value;
	return n;
}

struct ast_node *ast_for(struct parser *ps, const struct tok_str *var, struct src_span var_span,
                         const struct tok_str *var2, struct src_span var2_span,
                         struct ast_expr *iter, struct src_span span)
{
	struct ast_node *n = ast_named(ps, N_FOR, var, var_span, span);
	if (var2)
		n->label = ast_ident(ps, var2, var2_span);
	n->value = iter;
	return n;
}

struct ast_node *ast_when(struct parser *ps, struct ast_expr *cond, struct src_span span)
{
	struct ast_node *n = node(ps, N_WHEN, span);
	n->value = cond;
	return n;
}

struct ast_node *ast_use(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                         struct ast_list args, struct src_span span)
{
	struct ast_node *n = ast_named(ps, N_USE, name, name_span, span);
	n->args = args.head;
	return n;
}

/* ---- types ------------------------------------------------------------ */

static struct ast_type *type_new(struct parser *ps, enum ast_type_kind kind,
                                 const struct tok_str *name, struct src_span span)
{
	struct ast_type *t = arena_alloc(ps->arena, sizeof(*t));
	t->kind = kind;
	t->name = str_of(ps, name);
	t->span = span;
	return t;
}

struct ast_type *ast_type_named(struct parser *ps, const struct tok_str *name, struct src_span span)
{
	return type_new(ps, TY_NAMED, name, span);
}

struct ast_type *ast_type_generic(struct parser *ps, const struct tok_str *name,
                                  struct ast_type *elem, struct src_span span)
{
	enum ast_type_kind kind = !strcmp(name->s, "map") ? TY_MAP : TY_LIST;
	struct ast_type *t = type_new(ps, kind, name, span);
	t->elem = elem;
	if (strcmp(name->s, "list") && strcmp(name->s, "map"))
		diag_help(diag_error(ps->diags, E_UNEXPECTED_TOKEN, span, "'%s<...>' is not a type",
		                     name->s),
		          "the generic types are list<T> and map<T>");
	return t;
}

struct ast_type *ast_type_object(struct parser *ps, struct ast_list fields, struct src_span span)
{
	static const struct tok_str object = {"object", 6, false};
	struct ast_type *t = type_new(ps, TY_OBJECT, &object, span);
	t->fields = fields.head;
	return t;
}

struct ast_type *ast_type_enum(struct parser *ps, const struct tok_str *name,
                               struct ast_list values, struct src_span span)
{
	struct ast_type *t = type_new(ps, TY_ENUM, name, span);
	t->values = values.head;
	if (strcmp(name->s, "enum"))
		diag_help(diag_error(ps->diags, E_UNEXPECTED_TOKEN, span, "'%s(...)' is not a type",
		                     name->s),
		          "an enumeration is written enum(present, absent); an object type "
		          "object{ name: string, port: int }");
	return t;
}

struct ast_field *ast_field_new(struct parser *ps, const struct tok_str *name,
                                struct src_span name_span, struct ast_type *type)
{
	struct ast_field *f = arena_alloc(ps->arena, sizeof(*f));
	f->name = str_of(ps, name);
	f->name_span = name_span;
	f->type = type;
	return f;
}

struct ast_enum_value *ast_enum_value_new(struct parser *ps, const struct tok_str *name,
                                          struct src_span span)
{
	struct ast_enum_value *v = arena_alloc(ps->arena, sizeof(*v));
	v->name = str_of(ps, name);
	v->span = span;
	return v;
}

/* ---- expressions ------------------------------------------------------ */

static struct ast_expr *expr(struct parser *ps, enum ast_expr_kind kind, struct src_span span)
{
	struct ast_expr *e = arena_alloc(ps->arena, sizeof(*e));
	e->kind = kind;
	e->span = span;
	e->depth = 1;
	return e;
}

struct ast_expr *ast_expr_error(struct parser *ps, struct src_span span)
{
	return expr(ps, EX_ERROR, span);
}

/* Set e's depth from a child's; past AST_MAX_DEPTH report once and give up on e. */
static struct ast_expr *deeper(struct parser *ps, struct ast_expr *e, const struct ast_expr *child)
{
	if (child && child->depth + 1 > e->depth)
		e->depth = (uint16_t)(child->depth + 1);
	if (e->depth > AST_MAX_DEPTH) {
		if (!ps->fatal)
			diag_help(diag_error(ps->diags, E_TOO_DEEP, e->span,
			                     "expression nested more than %d levels deep",
			                     AST_MAX_DEPTH),
			          "split it into smaller parts with 'let'");
		ps->fatal = true;
		struct ast_expr *err = ast_expr_error(ps, e->span);
		err->depth = AST_MAX_DEPTH;
		return err;
	}
	return e;
}

struct ast_expr *ast_int(struct parser *ps, int64_t v, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_INT, span);
	e->i = v;
	return e;
}

struct ast_expr *ast_bool(struct parser *ps, bool v, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_BOOL, span);
	e->b = v;
	return e;
}

struct ast_expr *ast_null(struct parser *ps, struct src_span span)
{
	return expr(ps, EX_NULL, span);
}

struct ast_expr *ast_ident(struct parser *ps, const struct tok_str *name, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_IDENT, span);
	e->str = str_of(ps, name);
	return e;
}

static struct ast_expr *literal(struct parser *ps, const char *s, uint32_t len,
                                struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_STRING, span);
	e->str = (struct ast_str){s, len};
	return e;
}

/*
 * <<- heredocs: remove the indentation common to all lines that hold
 * anything (text or an interpolation) from every line of the literal parts.
 */
static void dedent(struct parser *ps, struct ast_expr *parts)
{
	uint32_t min = UINT32_MAX;
	bool bol = true;
	for (struct ast_expr *p = parts; p; p = p->next) {
		if (p->kind != EX_STRING) {
			if (bol)
				min = 0;
			bol = false;
			continue;
		}
		const char *s = p->str.s;
		uint32_t i = 0, n = p->str.len;
		while (i < n) {
			if (bol) {
				uint32_t w = 0;
				while (i < n && (s[i] == ' ' || s[i] == '\t'))
					i++, w++;
				bool blank = i < n ? s[i] == '\n' : !p->next;
				if (!blank && w < min)
					min = w;
				bol = false;
				continue;
			}
			if (s[i++] == '\n')
				bol = true;
		}
	}
	if (min == UINT32_MAX || min == 0)
		return;
	bol = true;
	for (struct ast_expr *p = parts; p; p = p->next) {
		if (p->kind != EX_STRING) {
			bol = false;
			continue;
		}
		char *out = arena_alloc(ps->arena, p->str.len + 1);
		uint32_t o = 0;
		const char *s = p->str.s;
		for (uint32_t i = 0; i < p->str.len;) {
			if (bol) {
				uint32_t w = 0;
				while (i < p->str.len && w < min && (s[i] == ' ' || s[i] == '\t'))
					i++, w++;
				bol = false;
				continue;
			}
			out[o] = s[i++];
			if (out[o++] == '\n')
				bol = true;
		}
		p->str = (struct ast_str){out, o};
	}
}

struct ast_expr *ast_string(struct parser *ps, const struct tok_str *s, struct src_span span)
{
	struct ast_expr *e = literal(ps, s->s, s->len, span);
	if (s->strip)
		dedent(ps, e);
	return e;
}

struct ast_list ast_tmpl_add(struct parser *ps, struct ast_list parts, const struct tok_str *mid,
                             struct src_span mid_span, struct ast_expr *e)
{
	if (mid->len)
		parts = ast_list_add(parts, literal(ps, mid->s, mid->len, mid_span));
	return ast_list_add(parts, e);
}

struct ast_expr *ast_template(struct parser *ps, const struct tok_str *head, struct ast_list parts,
                              const struct tok_str *tail, struct src_span tail_span,
                              struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_TEMPLATE, span);
	struct ast_expr *first = parts.head;
	if (head->len) {
		struct src_span hs = {span.file, span.start,
		                      first ? first->span.start : span.start};
		struct ast_expr *h = literal(ps, head->s, head->len, hs);
		h->next = parts.head;
		parts.head = h;
	}
	if (tail->len)
		parts = ast_list_add(parts, literal(ps, tail->s, tail->len, tail_span));
	e->tmpl.parts = parts.head;
	if (head->strip)
		dedent(ps, e->tmpl.parts);
	for (struct ast_expr *p = e->tmpl.parts; p; p = p->next)
		e = deeper(ps, e, p);
	return e;
}

/* A bracket the lexer closed for the user (a mismatch it reported): the value
   inside is not what was meant, so it stands as an error, reported once. */
static bool closed_by_lexer(const struct parser *ps, struct src_span span)
{
	return ps->synth_off && span.end + 1 == ps->synth_off;
}

struct ast_expr *ast_paren(struct parser *ps, struct ast_expr *e, struct src_span span)
{
	if (closed_by_lexer(ps, span))
		return ast_expr_error(ps, span);
	return e; /* parentheses only group: the AST keeps the inner span */
}

struct ast_expr *ast_list_expr(struct parser *ps, struct ast_list items, struct src_span span)
{
	if (closed_by_lexer(ps, span))
		return ast_expr_error(ps, span);
	struct ast_expr *e = expr(ps, EX_LIST, span);
	e->list.items = items.head;
	for (struct ast_expr *p = items.head; p; p = p->next)
		e = deeper(ps, e, p);
	return e;
}

struct ast_expr *ast_map(struct parser *ps, struct ast_list entries, struct src_span span)
{
	if (closed_by_lexer(ps, span))
		return ast_expr_error(ps, span);
	struct ast_expr *e = expr(ps, EX_MAP, span);
	e->map.entries = entries.head;
	for (struct ast_entry *p = entries.head; p; p = p->next)
		e = deeper(ps, e, p->value);
	return e;
}

struct ast_entry *ast_entry_new(struct parser *ps, const struct tok_str *key,
                                struct src_span key_span, struct ast_expr *value)
{
	struct ast_entry *en = arena_alloc(ps->arena, sizeof(*en));
	en->key = str_of(ps, key);
	en->key_span = key_span;
	en->value = value;
	return en;
}

struct ast_expr *ast_member(struct parser *ps, struct ast_expr *obj, const struct tok_str *name,
                            struct src_span name_span, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_MEMBER, span);
	e->member.obj = obj;
	e->member.name = name->s;
	e->member.name_start = name_span.start;
	e->member.name_end = name_span.end;
	return deeper(ps, e, obj);
}

struct ast_expr *ast_index(struct parser *ps, struct ast_expr *obj, struct ast_expr *index,
                           struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_INDEX, span);
	e->index.obj = obj;
	e->index.index = index;
	e = deeper(ps, e, obj);
	return deeper(ps, e, index);
}

struct ast_expr *ast_call(struct parser *ps, struct ast_expr *fn, struct ast_list args,
                          struct src_span span)
{
	if (closed_by_lexer(ps, span))
		return ast_expr_error(ps, span);
	struct ast_expr *e = expr(ps, EX_CALL, span);
	e->call.fn = fn;
	e->call.args = args.head;
	e = deeper(ps, e, fn);
	for (struct ast_arg *a = args.head; a && e->kind == EX_CALL; a = a->next)
		e = deeper(ps, e, a->value);
	return e;
}

struct ast_arg *ast_arg_new(struct parser *ps, const struct tok_str *name,
                            struct src_span name_span, struct ast_expr *value)
{
	struct ast_arg *a = arena_alloc(ps->arena, sizeof(*a));
	if (name)
		a->name = str_of(ps, name);
	a->name_span = name_span;
	a->value = value;
	return a;
}

struct ast_expr *ast_unary(struct parser *ps, enum ast_op op, struct ast_expr *operand,
                           struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_UNARY, span);
	e->unary.op = op;
	e->unary.operand = operand;
	return deeper(ps, e, operand);
}

struct ast_expr *ast_binary(struct parser *ps, enum ast_op op, struct ast_expr *l,
                            struct ast_expr *r, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_BINARY, span);
	e->binary.op = op;
	e->binary.lhs = l;
	e->binary.rhs = r;
	e = deeper(ps, e, l);
	return deeper(ps, e, r);
}

struct ast_expr *ast_cond(struct parser *ps, struct ast_expr *c, struct ast_expr *t,
                          struct ast_expr *f, struct src_span span)
{
	struct ast_expr *e = expr(ps, EX_COND, span);
	e->cond.cond = c;
	e->cond.then = t;
	e->cond.els = f;
	e = deeper(ps, e, c);
	e = deeper(ps, e, t);
	return deeper(ps, e, f);
}

/* ---- structure -------------------------------------------------------- */

#define BIT(k) (1u << (k))

/* What each kind of block may hold. */
static unsigned allowed_in(enum ast_kind parent)
{
	switch (parent) {
	case N_IMAGE:
		return BIT(N_ATTR) | BIT(N_STAGE) | BIT(N_HANDLER) | BIT(N_CONFIG) | BIT(N_OUTPUT) |
		       BIT(N_TEST) | BIT(N_LET);
	case N_STAGE:
		return BIT(N_TASK) | BIT(N_USE) | BIT(N_LET);
	case N_TASK:
		return BIT(N_ATTR) | BIT(N_FOR) | BIT(N_WHEN);
	case N_ROLE:
		return BIT(N_TASK) | BIT(N_USE) | BIT(N_HANDLER) | BIT(N_LET);
	case N_HANDLER:
	case N_TEST:
		return BIT(N_TASK);
	case N_APPLY:
		return BIT(N_ATTR) | BIT(N_TASK) | BIT(N_USE) | BIT(N_HANDLER) | BIT(N_LET);
	case N_HOSTS:
		return BIT(N_HOST) | BIT(N_GROUP_REF) | BIT(N_ATTR);
	default: /* config, output, param and host attribute blocks */
		return BIT(N_ATTR);
	}
}

static const char *holds(enum ast_kind parent)
{
	switch (parent) {
	case N_IMAGE:
		return "an image holds attributes, 'stage', 'handler', 'config', 'output', 'test' "
		       "and 'let'";
	case N_STAGE:
		return "a stage holds tasks (MODULE [\"label\"] { ... }), 'use' and 'let'";
	case N_TASK:
		return "a task holds attributes (NAME = VALUE) and 'for' / 'when' clauses";
	case N_ROLE:
		return "a role holds tasks, 'use', 'handler' and 'let'";
	case N_HANDLER:
		return "a handler holds tasks";
	case N_TEST:
		return "a test holds tasks";
	case N_APPLY:
		return "an apply block holds attributes, tasks, 'use', 'handler' and 'let'";
	default:
		return "this block holds only attributes (NAME = VALUE)";
	}
}

static const char *where(enum ast_kind parent)
{
	switch (parent) {
	case N_IMAGE:
		return "an image";
	case N_STAGE:
		return "a stage";
	case N_TASK:
		return "a task";
	case N_ROLE:
		return "a role";
	case N_HANDLER:
		return "a handler";
	case N_TEST:
		return "a test";
	case N_APPLY:
		return "an apply block";
	case N_CONFIG:
		return "a config block";
	case N_OUTPUT:
		return "an output";
	case N_PARAM:
		return "a param";
	case N_HOST:
		return "a host";
	default:
		return "this block";
	}
}

static void check_body(struct parser *ps, const struct ast_node *parent);

static void misplaced(struct parser *ps, const struct ast_node *parent, const struct ast_node *n)
{
	struct diag *d;
	if (n->kind == N_TASK && parent->kind == N_IMAGE) {
		d = diag_error(ps->diags, E_MISPLACED, n->name_span,
		               "task '%s' must be inside a stage", n->name.s);
		diag_help(d, "wrap the image's tasks in a stage: stage NAME { ... }");
		return;
	}
	if (n->kind == N_ATTR)
		d = diag_error(ps->diags, E_MISPLACED, n->name_span,
		               "attribute '%s' is not allowed in %s", n->name.s,
		               where(parent->kind));
	else if (n->kind == N_TASK)
		d = diag_error(ps->diags, E_MISPLACED, n->name_span,
		               "task '%s' is not allowed in %s", n->name.s, where(parent->kind));
	else
		d = diag_error(
		    ps->diags, E_MISPLACED,
		    (struct src_span){n->span.file, n->span.start,
		                      n->span.start + (uint32_t)strlen(ast_kind_name(n->kind))},
		    "'%s' is not allowed in %s", ast_kind_name(n->kind), where(parent->kind));
	diag_help(d, "%s", holds(parent->kind));
}

static void check_param(struct parser *ps, const struct ast_node *p)
{
	if (!p->type && !p->value)
		diag_help(diag_error(ps->diags, E_PARAM_UNTYPED, p->name_span,
		                     "param '%s' has neither a type nor a default", p->name.s),
		          "give it a type (%s: string) or a default (%s = \"...\")", p->name.s,
		          p->name.s);
}

static void check_body(struct parser *ps, const struct ast_node *parent)
{
	unsigned ok = allowed_in(parent->kind);
	const struct ast_node *first_for = NULL, *first_when = NULL;
	for (const struct ast_node *n = parent->body; n; n = n->next) {
		if (n->kind == N_ERROR)
			continue;
		if (!(ok & BIT(n->kind))) {
			misplaced(ps, parent, n);
			continue;
		}
		const struct ast_node **first = n->kind == N_FOR    ? &first_for
		                                : n->kind == N_WHEN ? &first_when
		                                                    : NULL;
		if (first && *first) {
			struct diag *d = diag_error(
			    ps->diags, E_DUPLICATE_CLAUSE,
			    (struct src_span){n->span.file, n->span.start,
			                      n->span.start + (n->kind == N_FOR ? 3 : 4)},
			    "a task has at most one '%s' clause", ast_kind_name(n->kind));
			diag_label(d, (*first)->span, "the first one is here");
			diag_help(d, n->kind == N_WHEN ? "combine the conditions with '&&'"
			                               : "loop over a list built from both");
		} else if (first) {
			*first = n;
		}
		if (n->body || n->kind == N_TASK || n->kind == N_STAGE || n->kind == N_HANDLER)
			check_body(ps, n);
	}
}

void ast_check_structure(struct parser *ps, const struct ast_file *file)
{
	for (const struct ast_node *n = file->items; n; n = n->next) {
		if (n->kind == N_PARAM)
			check_param(ps, n);
		if (n->kind == N_ROLE)
			for (const struct ast_node *p = n->params; p; p = p->next)
				check_param(ps, p);
		if (n->kind != N_ERROR)
			check_body(ps, n);
	}
}

/* ---- names and dump --------------------------------------------------- */

const char *ast_kind_name(enum ast_kind kind)
{
	static const char *const names[] = {
#define X(k, s) s,
	    AST_KINDS(X)
#undef X
	};
	return (unsigned)kind < sizeof(names) / sizeof(*names) ? names[kind] : "?";
}

const char *ast_op_str(enum ast_op op)
{
	static const char *const ops[] = {
	    "!", "-", "||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
	return (unsigned)op < sizeof(ops) / sizeof(*ops) ? ops[op] : "?";
}

struct dumper {
	FILE *out;
	struct source_file *f;
};

static void dump_span(struct dumper *d, struct src_span s)
{
	uint32_t l1, c1, l2, c2;
	source_position(d->f, s.start, &l1, &c1);
	source_position(d->f, s.end, &l2, &c2);
	fprintf(d->out, " @%u:%u-%u:%u\n", l1, c1, l2, c2);
}

static void dump_quoted(FILE *out, const char *s, uint32_t n)
{
	fputc('"', out);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		default:
			if (c < 0x20 || c == 0x7F)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
	}
	fputc('"', out);
}

static void indent(struct dumper *d, int depth, const char *role)
{
	fprintf(d->out, "%*s", depth * 2, "");
	if (role)
		fprintf(d->out, "%s: ", role);
}

static void dump_expr(struct dumper *d, const struct ast_expr *e, int depth, const char *role);

static void dump_type(struct dumper *d, const struct ast_type *t, int depth, const char *role)
{
	indent(d, depth, role);
	fprintf(d->out, "type %s", t->name.s);
	dump_span(d, t->span);
	if (t->elem)
		dump_type(d, t->elem, depth + 1, NULL);
	for (const struct ast_field *f = t->fields; f; f = f->next)
		dump_type(d, f->type, depth + 1, f->name.s);
	for (const struct ast_enum_value *v = t->values; v; v = v->next) {
		indent(d, depth + 1, NULL);
		fprintf(d->out, "value %s", v->name.s);
		dump_span(d, v->span);
	}
}

static void dump_expr(struct dumper *d, const struct ast_expr *e, int depth, const char *role)
{
	indent(d, depth, role);
	switch (e->kind) {
	case EX_ERROR:
		fputs("error", d->out);
		break;
	case EX_NULL:
		fputs("null", d->out);
		break;
	case EX_BOOL:
		fputs(e->b ? "true" : "false", d->out);
		break;
	case EX_INT:
		fprintf(d->out, "int %" PRId64, e->i);
		break;
	case EX_STRING:
		fputs("string ", d->out);
		dump_quoted(d->out, e->str.s, e->str.len);
		break;
	case EX_TEMPLATE:
		fputs("template", d->out);
		break;
	case EX_IDENT:
		fprintf(d->out, "ident %s", e->str.s);
		break;
	case EX_LIST:
		fputs("list", d->out);
		break;
	case EX_MAP:
		fputs("map", d->out);
		break;
	case EX_MEMBER:
		fprintf(d->out, "member .%s", e->member.name);
		break;
	case EX_INDEX:
		fputs("index", d->out);
		break;
	case EX_CALL:
		fputs("call", d->out);
		break;
	case EX_UNARY:
		fprintf(d->out, "unary %s", ast_op_str(e->unary.op));
		break;
	case EX_BINARY:
		fprintf(d->out, "binary %s", ast_op_str(e->binary.op));
		break;
	case EX_COND:
		fputs("cond", d->out);
		break;
	}
	dump_span(d, e->span);
	switch (e->kind) {
	case EX_TEMPLATE:
		for (const struct ast_expr *p = e->tmpl.parts; p; p = p->next)
			dump_expr(d, p, depth + 1, NULL);
		break;
	case EX_LIST:
		for (const struct ast_expr *p = e->list.items; p; p = p->next)
			dump_expr(d, p, depth + 1, NULL);
		break;
	case EX_MAP:
		for (const struct ast_entry *p = e->map.entries; p; p = p->next) {
			indent(d, depth + 1, NULL);
			fputs("key ", d->out);
			dump_quoted(d->out, p->key.s, p->key.len);
			dump_span(d, p->key_span);
			dump_expr(d, p->value, depth + 2, NULL);
		}
		break;
	case EX_MEMBER:
		dump_expr(d, e->member.obj, depth + 1, NULL);
		break;
	case EX_INDEX:
		dump_expr(d, e->index.obj, depth + 1, NULL);
		dump_expr(d, e->index.index, depth + 1, "index");
		break;
	case EX_CALL:
		dump_expr(d, e->call.fn, depth + 1, "fn");
		for (const struct ast_arg *a = e->call.args; a; a = a->next)
			dump_expr(d, a->value, depth + 1, a->name.len ? a->name.s : "arg");
		break;
	case EX_UNARY:
		dump_expr(d, e->unary.operand, depth + 1, NULL);
		break;
	case EX_BINARY:
		dump_expr(d, e->binary.lhs, depth + 1, NULL);
		dump_expr(d, e->binary.rhs, depth + 1, NULL);
		break;
	case EX_COND:
		dump_expr(d, e->cond.cond, depth + 1, "if");
		dump_expr(d, e->cond.then, depth + 1, "then");
		dump_expr(d, e->cond.els, depth + 1, "else");
		break;
	default:
		break;
	}
}

static const char *value_role(enum ast_kind kind)
{
	switch (kind) {
	case N_PARAM:
		return "default";
	case N_IMAGE:
		return "from";
	case N_FOR:
		return "in";
	case N_WHEN:
		return "if";
	default:
		return NULL;
	}
}

static void dump_node(struct dumper *d, const struct ast_node *n, int depth)
{
	indent(d, depth, NULL);
	fputs(ast_kind_name(n->kind), d->out);
	if (n->kind == N_TASK || n->kind == N_OUTPUT)
		fprintf(d->out, " %s", n->name.s);
	else if (n->name.len)
		fprintf(d->out, " %s", n->name.s);
	if (n->kind == N_FOR && n->label)
		fprintf(d->out, ", %s", n->label->str.s);
	dump_span(d, n->span);
	if (n->label && n->kind != N_FOR)
		dump_expr(d, n->label, depth + 1, "label");
	if ((n->kind == N_PARAM || n->kind == N_LET) && n->type)
		dump_type(d, n->type, depth + 1, NULL);
	if (n->value)
		dump_expr(d, n->value, depth + 1, value_role(n->kind));
	if (n->kind == N_ROLE)
		for (const struct ast_node *p = n->params; p; p = p->next)
			dump_node(d, p, depth + 1);
	if (n->kind == N_USE)
		for (const struct ast_arg *a = n->args; a; a = a->next)
			dump_expr(d, a->value, depth + 1, a->name.len ? a->name.s : "arg");
	for (const struct ast_node *c = n->body; c; c = c->next)
		dump_node(d, c, depth + 1);
}

void ast_dump(FILE *out, struct source_file *f, const struct ast_file *ast)
{
	struct dumper d = {out, f};
	fputs("file ", out);
	dump_quoted(out, f->name, (uint32_t)strlen(f->name));
	dump_span(&d, ast->span);
	for (const struct ast_node *n = ast->items; n; n = n->next)
		dump_node(&d, n, 1);
}
