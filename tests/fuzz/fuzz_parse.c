/*
 * fuzz_parse: lexer + parser + structure check + name and type checker +
 * diagnostics printing on arbitrary bytes. Built as a libFuzzer target (KILN_FUZZ=ON) and, always,
 * as fuzz_replay, which runs the same function over files named on the command line (a regression
 * test over the seed corpus).
 */
#include "compile.h"
#include "parse.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink)
		sink = fopen("/dev/null", "w");
	if (size > SOURCE_MAX_SIZE)
		return 0;
	struct compile_ctx cx;
	compile_ctx_init(&cx, 50);
	uint32_t id = source_add(&cx.sm, "fuzz.img", (const char *)data, size);
	struct ast_file *ast = parse_source(&cx.arena, &cx.diags, id, NULL);
	ast_dump(sink, source_get(&cx.sm, id), ast);
	/* and the checker on whatever parsed (inventory files and templates named
	   in the input are read relative to the current directory, as lint would) */
	kiln_lint_source(&cx, id);
	diag_print(&cx.diags, sink, DIAG_TEXT, true);
	diag_print(&cx.diags, sink, DIAG_JSON, false);
	diag_print(&cx.diags, sink, DIAG_SHORT, false);
	compile_ctx_release(&cx);
	return 0;
}
