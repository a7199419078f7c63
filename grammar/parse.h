/*
 * parse: grammar/'s entry point. Source text in, AST out; diagnostics
 * (E0004, E1xxx, W0001) go to the sink. On syntax errors the AST is partial:
 * the parts that failed are N_ERROR / EX_ERROR nodes, and later passes skip
 * them without reporting again.
 */
#ifndef KILN_PARSE_H
#define KILN_PARSE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

#include <stdbool.h>
#include <stdio.h>

struct parse_opts {
	FILE *dump_tokens; /* non-NULL: print every token here and do not parse */
	bool var_file;     /* a var-file: NAME = VALUE lines, nothing else */
};

/* Parse file `file` of the sink's source map. Never returns NULL. */
struct ast_file *parse_source(struct arena *a, struct diag_sink *diags, uint32_t file,
                              const struct parse_opts *opts);

/*
 * Parse the expression in bytes [start, end) of a loaded file (a template's
 * {{ ... }}); spans point into the file. Never returns NULL: a broken
 * expression is reported and comes back as EX_ERROR.
 */
struct ast_expr *parse_expr_range(struct arena *a, struct diag_sink *diags, uint32_t file,
                                  uint32_t start, uint32_t end);

#endif
