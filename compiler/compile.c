/* compile: the front half of kiln, in order; see compile.h. */
#include "compile.h"

#include "ast.h"
#include "parse.h"

#include <errno.h>
#include <string.h>

void compile_ctx_init(struct compile_ctx *cx, unsigned max_errors)
{
	*cx = (struct compile_ctx){.arena = ARENA_INIT};
	diag_sink_init(&cx->diags, &cx->sm, max_errors);
}

void compile_ctx_release(struct compile_ctx *cx)
{
	diag_sink_release(&cx->diags);
	source_map_release(&cx->sm);
	arena_release(&cx->arena);
}

/* Read path; on failure queue E0001-E0003 and return -1. */
static int load(struct compile_ctx *cx, const char *path, uint32_t *ret_id)
{
	uint32_t err_id = 0;
	int r = source_load(&cx->sm, path, &err_id);
	if (r >= 0) {
		*ret_id = (uint32_t)r;
		return 0;
	}
	struct diag *d;
	switch (-r) {
	case EISDIR:
		d = diag_file_error(&cx->diags, E_FILE_IS_DIRECTORY, err_id,
				    "is a directory, not a kiln file");
		diag_help(d, "name the .img files: kiln lint %s/*.img", path);
		break;
	case EFBIG:
		diag_file_error(&cx->diags, E_FILE_TOO_LARGE, err_id,
				"file is larger than %u MiB", SOURCE_MAX_SIZE / (1024 * 1024));
		break;
	case EINVAL:
		diag_file_error(&cx->diags, E_FILE_UNREADABLE, err_id,
				"not a regular file (a device, socket or pipe)");
		break;
	default:
		d = diag_file_error(&cx->diags, E_FILE_UNREADABLE, err_id, "cannot read: %s",
				    strerror(-r));
		if (-r == ENOENT)
			diag_help(d, "check the path; it is relative to the current directory");
		break;
	}
	return -1;
}

int kiln_lint_file(struct compile_ctx *cx, const char *path, const struct compile_opts *opts)
{
	unsigned errors = cx->diags.nerrors;
	uint32_t id;
	if (load(cx, path, &id) < 0)
		return -1;

	struct parse_opts po = {0};
	if (opts && opts->dump == DUMP_TOKENS)
		po.dump_tokens = opts->dump_out;
	struct ast_file *ast = parse_source(&cx->arena, &cx->diags, id, &po);
	if (opts && opts->dump == DUMP_AST)
		ast_dump(opts->dump_out, source_get(&cx->sm, id), ast);
	return cx->diags.nerrors == errors ? 0 : -1;
}
