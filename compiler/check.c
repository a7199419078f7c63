/*
 * check: resolve names and check types, in one walk over every file.
 * Input: the program's ASTs with globals declared. Output: each EX_IDENT's
 * symbol and each expression's type stored in the AST; diagnostics E2xxx
 * (names) and E3xxx (types). Invariant: an expression that failed has type
 * T_ERROR, which fits everywhere, so one mistake yields one report.
 *
 * This file holds the entry points; check_scope.c the scopes and handlers,
 * check_expr.c the expressions and types, check_task.c the tasks and the
 * arguments of calls, check_decl.c the declarations (check_int.h ties them).
 */
#include "check_int.h"

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
	/* the top-level lets of imported files before their importers' (files are in the
	   order they were found, importers first): a let of a file then mostly finds the
	   imported lets it uses checked, and a long chain of lets across an import costs no
	   deep recursion (LET_MAX_CHAIN) */
	for (uint32_t f = p->nfiles; f-- > 1;)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			if (n->kind == N_LET)
				check_let(&ck, n->sym);
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
				ck_warn_unused_handlers(&ck, n->body);
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
