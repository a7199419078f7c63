/*
 * program: everything the compiler knows about one build, shared by its
 * passes (check.c, eval.c, lower.c). Input: the ASTs of the main files and
 * of everything they import. Symbols live in the compilation's arena.
 */
#ifndef KILN_PROGRAM_H
#define KILN_PROGRAM_H

#include "ast.h"
#include "compile.h"
#include "hashmap.h"
#include "types.h"

#include <jansson.h>

enum sym_kind {
	SYM_PARAM,
	SYM_LET,
	SYM_ROLE,
	SYM_IMAGE,
	SYM_GROUP, /* a hosts group, declared or from an inventory file */
	SYM_HANDLER,
	SYM_LOCAL, /* a loop variable or a role parameter */
	SYM_FACTS, /* the built-in 'facts' */
};

/* A compile-time value: known (json), or known only at apply time (expr). */
struct val {
	json_t *json;  /* the value; for a deferred one, its plan expression */
	bool deferred; /* depends on facts or secrets: evaluated at apply time */
	bool secret;   /* derived from a secret: never shown */
};

struct symbol {
	const char *name;
	enum sym_kind kind;
	struct ast_node *decl;
	struct src_span span; /* of the name */
	const struct type *type;
	bool used;
	int state; /* a let's type: 0 not yet, 1 being checked (cycle check), 2 done */
	/* a param's or global let's value, computed once (vars.c, eval.c) */
	int eval_state; /* 0 not yet, 1 being computed, 2 done */
	struct val value;
	/* a param's source: "default", "env", "var", "var-file" (and which) */
	const char *source;
	const char *source_detail;
	/* SYM_GROUP from an inventory file: its hosts and children (json) */
	json_t *inventory;
};

struct scope {
	struct scope *parent;
	struct hashmap names;
};

struct var_setting {
	const char *name;
	const char *text;      /* -var name=TEXT: converted to the param's type */
	struct ast_expr *expr; /* var-file (kiln syntax): an expression */
	json_t *json;          /* var-file (JSON) */
	const char *origin;    /* "var" or the var-file's path */
	struct src_span span;  /* in a kiln var-file */
	bool used;
};

struct program {
	struct compile_ctx *cx;
	struct arena *a;
	struct ast_file **files;
	uint32_t nfiles;
	uint32_t nmain; /* files named on the command line come first */
	struct scope globals;
	struct symbol *facts;
	/* variables from the command line, in order (later wins) */
	struct var_setting *vars;
	uint32_t nvars;
	/* name -> the last setting of it (index + 1), for vars and nvars as they were
	   when it was made (vars.c) */
	struct hashmap var_index;
	const struct var_setting *var_index_of;
	uint32_t var_index_n;
	json_t *secrets;  /* secret param name -> its value (vars.c); never in the plan */
	uint32_t cmdline; /* source id of "<command line>", for diagnostics without a file */
	const char *root; /* directory of the first main file: plan paths are relative to it */
	bool lint;        /* params may lack values: what depends on them is not checked */
	/* lets being computed, one inside the other (eval.c), and whether a chain longer
	   than LET_MAX_CHAIN was reported */
	unsigned let_depth;
	const struct symbol *let_outer; /* the outermost of them */
	bool let_chain_said;
};

/* The longest chain of lets, each the value of the one before, that kiln checks and
   computes (E2016): each link is a recursion of the checker and of lowering, and the
   stack is finite. */
enum { LET_MAX_CHAIN = 1000 };

/* Check an expression that stands alone (a var-file's value): no names but functions. */
const struct type *check_standalone(struct program *p, struct ast_expr *e);

struct symbol *scope_lookup(const struct scope *s, const char *name);
/* Declare; a duplicate is reported (E2003) and the first one kept. */
struct symbol *scope_declare(struct program *p, struct scope *s, const char *name,
                             enum sym_kind kind, struct ast_node *decl, struct src_span span);
/* Every name visible from s, for "did you mean" (static buffer, *ret_n). */
const char *const *scope_names(const struct scope *s, size_t *ret_n);

/* check*.c: resolve names and check types in every file (E2xxx, E3xxx). */
void check_program(struct program *p);
/* The type written in the source for a param/let/role parameter. */
const struct type *check_ast_type(struct program *p, const struct ast_type *t);

const char *sym_kind_name(enum sym_kind kind);

struct kiln_schema;
struct kiln_arg;
/* The argument a task's label fills, or NULL when the label only describes the task. */
const struct kiln_arg *label_arg(const struct ast_node *task, const struct kiln_schema *s);

#endif
