/*
 * check_scope: names and the scopes that hold them; the handlers a task may
 * notify.
 */
#include "check_int.h"

#include <string.h>

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

void ck_scope_enter(struct checker *ck, struct scope *s)
{
	*s = (struct scope){.parent = ck->scope, .names = HASHMAP_INIT};
	ck->scope = s;
}

void ck_scope_leave(struct checker *ck, struct scope *s)
{
	ck->scope = s->parent;
	hashmap_release(&s->names);
}

/* "did you mean" among the declared names of one kind (roles, host groups). */
void ck_suggest_global(struct checker *ck, struct diag *d, enum sym_kind kind, const char *name)
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

/* ---- handlers in scope ------------------------------------------------- */

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
		ck_collect_handlers(ck, h, role->decl->body, NULL, depth + 1);
	}
}

/*
 * The handlers a body's tasks may notify: its own (declared as symbols in
 * decl_scope when given) and those of every role it uses, transitively.
 */
void ck_collect_handlers(struct checker *ck, struct hashmap *h, struct ast_node *body,
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

void ck_warn_unused_handlers(struct checker *ck, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next)
		if (n->kind == N_HANDLER && n->sym && !((struct symbol *)n->sym)->used)
			diag_help(diag_warning(ck->d, W_UNUSED_HANDLER, n->name_span,
			                       "handler '%s' is never notified", n->name.s),
			          "notify it from a task (notify = [%s]) or remove it", n->name.s);
}
