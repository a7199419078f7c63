/*
 * ast: the parser's product. Every node carries a byte-offset span. Nodes
 * live in the compilation's arena and are built only by the ast_* constructors
 * that the grammar actions call; lists are linked through `next`.
 *
 * Expressions are struct ast_expr; everything else (declarations, blocks,
 * attributes, clauses) is a struct ast_node whose `kind` says which fields
 * are used (see the table above enum ast_kind).
 */
#ifndef KILN_AST_H
#define KILN_AST_H

#include "arena.h"
#include "source.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The deepest expression the front end accepts (keeps every later pass's recursion bounded). */
#define AST_MAX_DEPTH 1000

enum ast_expr_kind {
	EX_ERROR, /* stands for an expression that failed to parse */
	EX_NULL,
	EX_BOOL,
	EX_INT,
	EX_STRING,   /* a string without interpolation: str */
	EX_TEMPLATE, /* an interpolated string: parts (EX_STRING and expressions) */
	EX_IDENT,    /* a name: str */
	EX_LIST,     /* items */
	EX_MAP,      /* entries */
	EX_MEMBER,   /* obj.name */
	EX_INDEX,    /* obj[index] */
	EX_CALL,     /* fn(args) */
	EX_UNARY,    /* op operand */
	EX_BINARY,   /* lhs op rhs */
	EX_COND,     /* cond ? then : els */
};

/* ast_expr.flags, set by the checker */
enum {
	AST_CHECKED = 1, /* the checker has seen it */
	AST_FAILED = 2,  /* it has an error (reported once): later passes skip it */
	AST_SECRET = 4,  /* its value derives from a secret */
};

enum ast_op {
	OP_NOT,
	OP_NEG,
	OP_OR,
	OP_AND,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
};

struct ast_str {
	const char *s; /* NUL-terminated, may contain NUL only if len says so */
	uint32_t len;
};

/*
 * Every node that can be in a list has `void *next` as its first member, so
 * one append (ast_list_add) serves all lists; walk them with a typed pointer:
 * for (struct ast_node *n = body; n; n = n->next)
 */
struct ast_entry { /* a map entry: key = value */
	void *next;
	struct ast_str key;
	struct src_span key_span;
	struct ast_expr *value;
};

struct ast_arg { /* a call argument: [name =] value */
	void *next;
	struct ast_str name; /* empty for positional arguments */
	struct src_span name_span;
	struct ast_expr *value;
};

struct ast_expr {
	void *next; /* in a list or template */
	struct src_span span;
	enum ast_expr_kind kind;
	uint16_t depth; /* 1 + the deepest child's depth */
	/* filled by the compiler's checker */
	uint8_t flags; /* AST_CHECKED, AST_FAILED, AST_SECRET */
	void *sym;     /* the symbol an EX_IDENT names */
	union {
		bool b;
		int64_t i;
		struct ast_str str; /* EX_STRING, EX_IDENT */
		struct {
			struct ast_expr *parts;
		} tmpl;
		struct {
			struct ast_expr *items;
		} list;
		struct {
			struct ast_entry *entries;
		} map;
		struct {
			struct ast_expr *obj;
			const char *name;
			uint32_t name_start,
			    name_end; /* the name's bytes, in the expression's file */
		} member;
		struct {
			struct ast_expr *obj, *index;
		} index;
		struct {
			struct ast_expr *fn;
			struct ast_arg *args;
		} call;
		struct {
			enum ast_op op;
			struct ast_expr *operand;
		} unary;
		struct {
			enum ast_op op;
			struct ast_expr *lhs, *rhs;
		} binary;
		struct {
			struct ast_expr *cond, *then, *els;
		} cond;
	};
};

enum ast_type_kind { TY_NAMED, TY_LIST, TY_MAP, TY_OBJECT, TY_ENUM };

struct ast_type {
	enum ast_type_kind kind;
	struct src_span span;
	struct ast_str name;      /* TY_NAMED: bool, int, ...; others: list, map, object, enum */
	struct ast_type *elem;    /* TY_LIST, TY_MAP */
	struct ast_field *fields; /* TY_OBJECT */
	struct ast_enum_value *values; /* TY_ENUM */
};

struct ast_field {
	void *next;
	struct ast_str name;
	struct src_span name_span;
	struct ast_type *type;
};

struct ast_enum_value {
	void *next;
	struct ast_str name;
	struct src_span span;
};

/*
 * kind        name         label     type value     params/args body
 * N_PARAM     param name   -         type default   -           attrs
 * N_LET       let name     -         type value     -           -
 * N_IMPORT    -            path      -    -         -           -
 * N_ROLE      role name    -         -    -         params      items
 * N_IMAGE     image name   -         -    from expr -           items
 * N_STAGE     stage name   -         -    -         -           items
 * N_TASK      module name  label?    -    -         -           items
 * N_USE       role name    -         -    -         args        -
 * N_HANDLER   handler name -         -    -         -           items
 * N_CONFIG    -            -         -    -         -           items
 * N_OUTPUT    output kind  path      -    -         -           attrs
 * N_TEST      -            test name -    -         -           items
 * N_HOSTS     group name   -         -    -         -           entries
 * N_HOST      -            host name -    -         -           attrs
 * N_GROUP_REF group name   -         -    -         -           -
 * N_INVENTORY -            path      -    -         -           -
 * N_APPLY     target group -         -    -         -           items
 * N_ATTR      attr name    -         -    value     -           -
 * N_FOR       loop var     2nd var?  -    iterable  -           -
 * N_WHEN      -            -         -    condition -           -
 * (N_FOR's label is the second loop variable, as an EX_IDENT.)
 * N_ERROR     (a part that failed to parse)
 */
#define AST_KINDS(X)                                                                               \
	X(N_ERROR, "error")                                                                        \
	X(N_PARAM, "param")                                                                        \
	X(N_LET, "let")                                                                            \
	X(N_IMPORT, "import")                                                                      \
	X(N_ROLE, "role")                                                                          \
	X(N_IMAGE, "image")                                                                        \
	X(N_STAGE, "stage")                                                                        \
	X(N_TASK, "task")                                                                          \
	X(N_USE, "use")                                                                            \
	X(N_HANDLER, "handler")                                                                    \
	X(N_CONFIG, "config")                                                                      \
	X(N_OUTPUT, "output")                                                                      \
	X(N_TEST, "test")                                                                          \
	X(N_HOSTS, "hosts")                                                                        \
	X(N_HOST, "host")                                                                          \
	X(N_GROUP_REF, "group")                                                                    \
	X(N_INVENTORY, "inventory")                                                                \
	X(N_APPLY, "apply")                                                                        \
	X(N_ATTR, "attribute")                                                                     \
	X(N_FOR, "for")                                                                            \
	X(N_WHEN, "when")

enum ast_kind {
#define X(k, s) k,
	AST_KINDS(X)
#undef X
};

struct ast_node {
	void *next;
	struct src_span span;
	enum ast_kind kind;
	struct src_span name_span;
	struct ast_str name;
	struct ast_expr *label;
	struct ast_expr *value;
	union {
		struct ast_type *type;   /* N_PARAM, N_LET */
		struct ast_node *params; /* N_ROLE: N_PARAM nodes */
		struct ast_arg *args;    /* N_USE */
	};
	struct ast_node *body;
	/* filled by the compiler's checker */
	union {
		const void *schema; /* N_TASK, N_OUTPUT: the stdlib's schema */
		void *sym;          /* a declaration's or a reference's symbol */
	};
};

struct ast_file {
	uint32_t file;
	const char *dir; /* the directory relative paths in this file start from */
	struct src_span span;
	struct ast_node *items;
};

/* A list under construction: O(1) append, used by grammar actions. */
struct ast_list {
	void *head, *tail;
};

const char *ast_kind_name(enum ast_kind kind);
const char *ast_op_str(enum ast_op op);

/* Print the tree, one node per line with its span as line:col-line:col. */
void ast_dump(FILE *out, struct source_file *f, const struct ast_file *ast);

#endif
