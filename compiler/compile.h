/*
 * compile: the front half of kiln, in order. Today: read each file, parse
 * it, check its structure. Name resolution, type checking, lowering and the
 * plan join here, in this order, as they are built.
 */
#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "arena.h"
#include "diag.h"
#include "source.h"

#include <stdio.h>

struct compile_ctx {
	struct arena arena; /* AST and strings of the whole compilation */
	struct source_map sm;
	struct diag_sink diags;
};

enum compile_dump { DUMP_NONE, DUMP_TOKENS, DUMP_AST };

struct compile_opts {
	enum compile_dump dump;
	FILE *dump_out;
};

void compile_ctx_init(struct compile_ctx *cx, unsigned max_errors);
void compile_ctx_release(struct compile_ctx *cx);

/*
 * Check one file: read, lex, parse, check structure. Diagnostics go to
 * cx->diags. Returns 0 when the file has no errors, -1 otherwise.
 */
int kiln_lint_file(struct compile_ctx *cx, const char *path, const struct compile_opts *opts);

#endif
