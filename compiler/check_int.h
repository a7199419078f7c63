/*
 * check_int: what the files of the checker share (check.c, check_scope.c,
 * check_expr.c, check_task.c, check_decl.c). Private to them; the compiler's
 * other passes use program.h.
 */
#ifndef KILN_CHECK_INT_H
#define KILN_CHECK_INT_H

#include "program.h"

#include "builtins.h"

struct checker {
	struct program *p;
	struct diag_sink *d;
	struct arena *a;
	struct scope *scope;       /* innermost scope */
	struct hashmap *handlers;  /* handlers a 'notify' may name here */
	struct hashmap type_cache; /* stdlib type strings, parsed once */
	unsigned let_depth;        /* lets being checked, one inside the other (check_let) */
};

/* check_scope.c: scopes, "did you mean" among globals, handlers in scope. */
void ck_scope_enter(struct checker *ck, struct scope *s);
void ck_scope_leave(struct checker *ck, struct scope *s);
void ck_suggest_global(struct checker *ck, struct diag *d, enum sym_kind kind, const char *name);
void ck_collect_handlers(struct checker *ck, struct hashmap *h, struct ast_node *body,
                         struct scope *decl_scope, int depth);
void ck_warn_unused_handlers(struct checker *ck, struct ast_node *body);

/* check_expr.c: types and expressions. */
const struct type *ck_schema_type(struct checker *ck, const char *text);
const char *ck_tstr(struct checker *ck, const struct type *t);
bool ck_expect(struct checker *ck, const struct ast_expr *e, const struct type *want,
               const struct type *got, const char *what);
/* pre name post, in buf when it fits (else malloc'd): what ck_expect names, made
   for every argument without printf; free it when it is not buf. */
char *ck_what(char *buf, size_t cap, const char *pre, const char *name, const char *post);
const struct type *check_expr(struct checker *ck, struct ast_expr *e, const struct type *expected);

/* check_task.c: arguments, tasks, templates, 'use'. */
const struct kiln_arg *ck_schema_arg(const struct kiln_schema *s, const char *name);
void ck_suggest_arg(struct diag *d, const struct kiln_schema *s, const char *name,
                    const char *const *extra, size_t nextra);
/* Is attribute n the first of its name in a body (seen)? Else reported: E3006. */
bool ck_first_time(struct checker *ck, struct hashmap *seen, struct ast_node *n, const char *what);
/* Check arguments of a call against a schema (function, base). */
void check_args(struct checker *ck, const struct kiln_schema *s, struct ast_arg *args,
                struct src_span call_span, const char *what);
void check_task(struct checker *ck, struct ast_node *task);
void check_use(struct checker *ck, struct ast_node *use);

/* check_decl.c: declarations and the bodies of their blocks. */
void check_let(struct checker *ck, struct symbol *sym);
void check_param(struct checker *ck, struct ast_node *n, struct symbol *sym);
void check_role(struct checker *ck, struct ast_node *role);
void check_role_cycles(struct checker *ck);
void check_image(struct checker *ck, struct ast_node *image);
void check_hosts(struct checker *ck, struct ast_node *hosts);
void check_apply(struct checker *ck, struct ast_node *ap);

#endif
