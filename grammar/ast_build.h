/*
 * ast_build: the constructors the grammar actions call (one per action),
 * and the structure check that runs after parsing. Private to grammar/.
 */
#ifndef KILN_AST_BUILD_H
#define KILN_AST_BUILD_H

#include "ast.h"
#include "parser_impl.h"

struct ast_list ast_list_empty(void);
/* Append item (any node type whose first member after the header is `next`). */
struct ast_list ast_list_add(struct ast_list l, void *item);

void ast_file_done(struct parser *ps, struct ast_list items, struct src_span span);

struct ast_node *ast_error(struct parser *ps, struct src_span span);
/* A keyword where a name belongs: reported (E1001), returned as the name. */
struct tok_str ast_keyword_name(struct parser *ps, struct src_span span);
struct ast_node *ast_param(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                           struct ast_type *type, struct ast_expr *def, struct ast_node *attrs,
                           struct src_span span);
struct ast_node *ast_let(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                         struct ast_type *type, struct ast_expr *value, struct src_span span);
struct ast_node *ast_labelled(struct parser *ps, enum ast_kind kind, struct ast_expr *label,
                              struct src_span span);
struct ast_node *ast_role(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                          struct ast_list params, struct ast_list body, struct src_span span);
struct ast_node *ast_image(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                           struct ast_expr *from, struct ast_list body, struct src_span span);
/* stage, handler, config, test, task, hosts, apply: NAME (may be NULL) [label] { body } */
struct ast_node *ast_block(struct parser *ps, enum ast_kind kind, const struct tok_str *name,
                           struct src_span name_span, struct ast_expr *label, struct ast_list body,
                           struct src_span span);
struct ast_node *ast_output(struct parser *ps, const struct tok_str *kind,
                            struct src_span kind_span, struct ast_expr *path,
                            struct ast_node *attrs, struct src_span span);
struct ast_node *ast_host(struct parser *ps, struct ast_expr *name, struct ast_node *attrs,
                          struct src_span span);
struct ast_node *ast_named(struct parser *ps, enum ast_kind kind, const struct tok_str *name,
                           struct src_span name_span, struct src_span span);
struct ast_node *ast_attr(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                          struct ast_expr *value, struct src_span span);
struct ast_node *ast_for(struct parser *ps, const struct tok_str *var, struct src_span var_span,
                         const struct tok_str *var2, struct src_span var2_span,
                         struct ast_expr *iter, struct src_span span);
struct ast_node *ast_when(struct parser *ps, struct ast_expr *cond, struct src_span span);
struct ast_node *ast_use(struct parser *ps, const struct tok_str *name, struct src_span name_span,
                         struct ast_list args, struct src_span span);

struct ast_type *ast_type_named(struct parser *ps, const struct tok_str *name,
                                struct src_span span);
struct ast_type *ast_type_generic(struct parser *ps, const struct tok_str *name,
                                  struct ast_type *elem, struct src_span span);
struct ast_type *ast_type_object(struct parser *ps, struct ast_list fields, struct src_span span);
struct ast_type *ast_type_enum(struct parser *ps, const struct tok_str *name,
                               struct ast_list values, struct src_span span);
struct ast_field *ast_field_new(struct parser *ps, const struct tok_str *name,
                                struct src_span name_span, struct ast_type *type);
struct ast_enum_value *ast_enum_value_new(struct parser *ps, const struct tok_str *name,
                                          struct src_span span);

struct ast_expr *ast_expr_error(struct parser *ps, struct src_span span);
struct ast_expr *ast_int(struct parser *ps, int64_t v, struct src_span span);
struct ast_expr *ast_bool(struct parser *ps, bool v, struct src_span span);
struct ast_expr *ast_null(struct parser *ps, struct src_span span);
struct ast_expr *ast_ident(struct parser *ps, const struct tok_str *name, struct src_span span);
struct ast_expr *ast_string(struct parser *ps, const struct tok_str *s, struct src_span span);
struct ast_expr *ast_template(struct parser *ps, const struct tok_str *head, struct ast_list parts,
                              const struct tok_str *tail, struct src_span tail_span,
                              struct src_span span);
struct ast_list ast_tmpl_add(struct parser *ps, struct ast_list parts, const struct tok_str *mid,
                             struct src_span mid_span, struct ast_expr *e);
struct ast_expr *ast_paren(struct parser *ps, struct ast_expr *e, struct src_span span);
struct ast_expr *ast_list_expr(struct parser *ps, struct ast_list items, struct src_span span);
struct ast_expr *ast_map(struct parser *ps, struct ast_list entries, struct src_span span);
struct ast_entry *ast_entry_new(struct parser *ps, const struct tok_str *key,
                                struct src_span key_span, struct ast_expr *value);
struct ast_expr *ast_member(struct parser *ps, struct ast_expr *obj, const struct tok_str *name,
                            struct src_span name_span, struct src_span span);
struct ast_expr *ast_index(struct parser *ps, struct ast_expr *obj, struct ast_expr *index,
                           struct src_span span);
struct ast_expr *ast_call(struct parser *ps, struct ast_expr *fn, struct ast_list args,
                          struct src_span span);
struct ast_arg *ast_arg_new(struct parser *ps, const struct tok_str *name,
                            struct src_span name_span, struct ast_expr *value);
struct ast_expr *ast_unary(struct parser *ps, enum ast_op op, struct ast_expr *e,
                           struct src_span span);
struct ast_expr *ast_binary(struct parser *ps, enum ast_op op, struct ast_expr *l,
                            struct ast_expr *r, struct src_span span);
struct ast_expr *ast_cond(struct parser *ps, struct ast_expr *c, struct ast_expr *t,
                          struct ast_expr *e, struct src_span span);

/* After parsing: which items each block may hold, clause counts, params (E1012-E1014). */
void ast_check_structure(struct parser *ps, const struct ast_file *file);

#endif
