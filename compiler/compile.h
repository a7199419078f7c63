/*
 * compile: the front half of kiln, in order (see compile.c): load, parse,
 * declare, check, order, then for compile also vars and lower to the plan.
 */
#ifndef KILN_COMPILE_H
#define KILN_COMPILE_H

#include "arena.h"
#include "diag.h"
#include "source.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* A text that stands for the file at `name` (an editor's open document). */
struct compile_text {
	const char *name, *text;
	size_t len;
};

struct compile_ctx {
	struct arena arena; /* ASTs, symbols and strings of the whole compilation */
	struct source_map sm;
	struct diag_sink diags;
	uint32_t stdin_id; /* 1 + the id of the file read from standard input, or 0 */
	/* texts read instead of the files they name, when a path given or imported names
	   one (the caller's array, kept until the compilation ends): each enters the source
	   map when it is loaded, as a file read from disk would, so the diagnostics come in
	   the same order (kiln lsp: the other open documents) */
	const struct compile_text *texts;
	size_t ntexts;
};

enum compile_dump { DUMP_NONE, DUMP_TOKENS, DUMP_AST };

/* One -var NAME=VALUE (file == NULL) or -var-file FILE, in command-line order. */
struct compile_var {
	const char *name, *value;
	const char *file;
};

struct compile_opts {
	enum compile_dump dump; /* lint: print tokens or the AST of each file instead */
	bool syntax_only;       /* lint: parse and check structure, no names or types */
	FILE *dump_out;
	const struct compile_var *vars;
	size_t nvars;
	const char *const *only, *const *except; /* image names (-only, -except) */
	size_t nonly, nexcept;
	/* -i FILE: Ansible INI inventories, read as `inventory "FILE"` lines are */
	const char *const *inventories;
	size_t ninventories;
};

void compile_ctx_init(struct compile_ctx *cx, unsigned max_errors);
void compile_ctx_release(struct compile_ctx *cx);
/* Text read from standard input, named `name` in diagnostics: a file given or
   imported by that path is this text, and its relative imports resolve from
   name's directory (kiln lint - --stdin-filename NAME). Likewise a path given or imported
   that names a text already in cx's source map (source_add) is that text, not the file. */
void compile_set_stdin(struct compile_ctx *cx, const char *name, const char *text, size_t len);

/* Check files as compile does, without -var values: a param without a value leaves
   what depends on it unchecked. Returns 0 without errors, -1 with. */
int kiln_lint(struct compile_ctx *cx, const char *const *paths, size_t n,
              const struct compile_opts *opts);
/* Lint one source already in cx's source map, alone (imports are not read):
   parse, declare, check. For the fuzzer. */
int kiln_lint_source(struct compile_ctx *cx, uint32_t file);
/* Check, give params their values, lower. A path that starts with '<' may name a text
   already in cx's source map (source_add; kiln run's task). On success *ret_plan is the plan and,
   when ret_secrets is not NULL, *ret_secrets the secret params' values (name -> string), which
   never enter the plan: apply gets them in process. */
int kiln_compile(struct compile_ctx *cx, const char *const *paths, size_t n,
                 const struct compile_opts *opts, json_t **ret_plan, json_t **ret_secrets);
/* kiln_compile writing the plan to w as it is lowered, one image at a time (plan_json.h),
   without the whole plan in memory. Returns 0, or -1 with errors in cx's sink (then
   what w got is not a plan). */
struct plan_json;
int kiln_compile_write(struct compile_ctx *cx, const char *const *paths, size_t n,
                       const struct compile_opts *opts, struct plan_json *w);
/* The secret params' values for a plan read from plan.json, by the rules of compile:
   opts' -var and -var-file, KILN_VAR_name, the var-file the plan names (relative to
   root) or its env("NAME") default. Returns 0 and *ret_secrets (name -> string), or
   -1 with errors in cx's sink (a secret without a value is E4001). */
int kiln_plan_secrets(struct compile_ctx *cx, json_t *plan, const char *root,
                      const struct compile_opts *opts, json_t **ret_secrets);

#endif
