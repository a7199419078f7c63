/* template: kiln templates ({{ }}, {% for %}, {% if %}), checked and rendered at compile time; see
 * template.c. */
#ifndef KILN_TEMPLATE_H
#define KILN_TEMPLATE_H

#include "eval.h"
#include "program.h"

enum tmpl_kind { TM_TEXT, TM_EXPR, TM_FOR, TM_IF };

struct tmpl_node {
	struct tmpl_node *next;
	enum tmpl_kind kind;
	struct src_span span;
	const char *text; /* TM_TEXT: into the file's text, len bytes */
	uint32_t len;
	struct ast_expr *expr;  /* TM_EXPR; TM_FOR's list; TM_IF's condition (NULL: else) */
	const char *var, *var2; /* TM_FOR */
	struct src_span var_span, var2_span;
	struct symbol *sym, *sym2; /* TM_FOR's loop variables, set by the checker */
	struct tmpl_node *body;    /* TM_FOR, TM_IF */
	struct tmpl_node *els;     /* TM_IF: the next branch (elif: expr set; else: expr NULL) */
};

struct tmpl {
	uint32_t file;
	struct tmpl_node *nodes;
	bool failed;
};

/* Parse a loaded template file (E1016). Never returns NULL. */
struct tmpl *template_parse(struct program *p, uint32_t file);
/* The rendered text: a string, a deferred tree, or json == NULL after an error. */
struct val template_render(struct program *p, const struct env *env, const struct tmpl *t);

#endif
