/*
 * parse: run the lexer and the parser over one source file, then check the
 * structure of what parsed. Input: a loaded source file. Output: an AST,
 * partial on errors, and diagnostics in the sink.
 */
#include "parse.h"

#include "ast_build.h"
#include "parser.h"
#include "parser_impl.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int kiln_scan(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

const char *parse_intern(struct parser *ps, const char *s, size_t n)
{
	if (ps->names_len * 2 >= ps->names_cap) {
		uint32_t cap = ps->names_cap ? ps->names_cap * 2 : 256;
		struct interned *slots = xcalloc(cap, sizeof(*slots));
		for (uint32_t i = 0; i < ps->names_cap; i++) {
			if (!ps->names[i].s)
				continue;
			uint32_t j = ps->names[i].hash & (cap - 1);
			while (slots[j].s)
				j = (j + 1) & (cap - 1);
			slots[j] = ps->names[i];
		}
		free(ps->names);
		ps->names = slots;
		ps->names_cap = cap;
	}
	uint32_t h = hash(s, n), j = h & (ps->names_cap - 1);
	while (ps->names[j].s) {
		/* the hash and length first: a whole comparison only for a likely match */
		if (ps->names[j].hash == h && ps->names[j].len == n &&
		    !memcmp(ps->names[j].s, s, n))
			return ps->names[j].s;
		j = (j + 1) & (ps->names_cap - 1);
	}
	ps->names_len++;
	ps->names[j] = (struct interned){arena_strndup(ps->arena, s, n), h, (uint32_t)n};
	return ps->names[j].s;
}

int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct parser *ps)
{
	if (ps->start_tok) {
		int t = ps->start_tok;
		ps->start_tok = 0;
		*lloc = (struct src_span){ps->file, 0, 0};
		return t;
	}
	unsigned errors = ps->diags->nerrors;
	int t = ps->fatal ? 0 : kiln_scan(lval, lloc, ps->scanner);
	/* the lexer explained a mistake while reading this token: a syntax error
	   on it would only repeat the same mistake */
	ps->lex_err_pending = ps->diags->nerrors > errors;
	if (ps->fatal)
		t = 0;
	if (t == 0)
		*lloc = (struct src_span){ps->file, ps->end, ps->end};
	ps->ntokens++;
	ps->prev_tok = ps->last_tok;
	ps->prev_span = ps->last_span;
	ps->last_tok = t;
	ps->last_span = *lloc;
	return t;
}

static void dump_tokens(struct parser *ps, FILE *out)
{
	YYSTYPE v;
	YYLTYPE loc;
	int t;
	do {
		memset(&v, 0, sizeof(v));
		t = yylex(&v, &loc, ps);
		uint32_t l1, c1, l2, c2;
		source_position(ps->src, loc.start, &l1, &c1);
		source_position(ps->src, loc.end, &l2, &c2);
		fprintf(out, "%u:%u-%u:%u %s", l1, c1, l2, c2, kiln_token_name(t));
		switch (t) {
		case IDENT:
			fprintf(out, " %s", v.str.s);
			break;
		case INT:
			fprintf(out, " %" PRId64, v.num);
			break;
		case STRING:
		case STR_HEAD:
		case STR_MID:
		case STR_TAIL:
			fputc(' ', out);
			for (uint32_t i = 0; i < v.str.len; i++) {
				unsigned char c = (unsigned char)v.str.s[i];
				if (c == '\n')
					fputs("\\n", out);
				else if (c == '\t')
					fputs("\\t", out);
				else if (c == '"' || c == '\\')
					fprintf(out, "\\%c", c);
				else if (c < 0x20 || c == 0x7f)
					fprintf(out, "\\x%02x", c);
				else
					fputc(c, out);
			}
			break;
		default:
			break;
		}
		fputc('\n', out);
	} while (t != 0);
}

/* Only whitespace and comments? (decided after a clean parse found no items) */
struct ast_file *parse_source(struct arena *a, struct diag_sink *diags, uint32_t file,
                              const struct parse_opts *opts)
{
	struct source_file *src = source_get(diags->sm, file);
	struct ast_file *ast = arena_alloc(a, sizeof(*ast));
	ast->file = file;
	ast->span = (struct src_span){file, 0, src->len};

	const char *nul = memchr(src->text, '\0', src->len);
	if (nul) {
		uint32_t off = (uint32_t)(nul - src->text);
		diag_help(
		    diag_file_error(diags, E_FILE_BINARY, file,
		                    "file holds a NUL byte at offset %u: it is binary, not kiln "
		                    "source",
		                    off),
		    "kiln reads UTF-8 text files (.img)");
		return ast;
	}
	size_t bad = utf8_validate((const unsigned char *)src->text, src->len);
	if (bad < src->len) {
		struct diag *d =
		    diag_error(diags, E_INVALID_UTF8,
		               (struct src_span){file, (uint32_t)bad, (uint32_t)bad + 1},
		               "invalid UTF-8: byte 0x%02x", (unsigned char)src->text[bad]);
		diag_help(d, "kiln source is UTF-8; convert the file, e.g. "
		             "iconv -f LATIN1 -t UTF-8");
		return ast;
	}
	src->utf8 = true;

	struct parser ps = {
	    .arena = a,
	    .diags = diags,
	    .src = src,
	    .file = file,
	    .result = ast,
	    .end = src->len,
	};
	if (kiln_lex_init(&ps) < 0) {
		diag_file_error(diags, E_FILE_UNREADABLE, file, "cannot start the lexer");
		return ast;
	}
	if (opts && opts->dump_tokens) {
		dump_tokens(&ps, opts->dump_tokens);
	} else if (opts && opts->var_file) {
		ps.start_tok = VARS_START;
		yyparse(&ps);
		for (struct ast_node *n = ast->items; n; n = n->next)
			if (n->kind != N_ATTR && n->kind != N_ERROR)
				diag_help(diag_error(diags, E_MISPLACED, n->span,
				                     "a var-file holds only NAME = VALUE lines"),
				          "declarations belong in .img files");
	} else {
		unsigned errors_before = diags->nerrors;
		yyparse(&ps);
		ast_check_structure(&ps, ast);
		if (!ast->items && diags->nerrors == errors_before)
			diag_help(diag_file_warning(diags, W_EMPTY_FILE, file,
			                            "file holds no declarations"),
			          "a build file declares at least one image, role, hosts or "
			          "apply block");
	}
	kiln_lex_destroy(&ps);
	free(ps.names);
	return ast;
}

struct ast_expr *parse_expr_range(struct arena *a, struct diag_sink *diags, uint32_t file,
                                  uint32_t start, uint32_t end)
{
	struct source_file *src = source_get(diags->sm, file);
	struct ast_file dummy = {.file = file};
	struct parser ps = {
	    .arena = a,
	    .diags = diags,
	    .src = src,
	    .file = file,
	    .result = &dummy,
	    .start = start,
	    .end = end,
	    .start_tok = EXPR_START,
	};
	ps.range_buf = xmalloc((size_t)(end - start) + 2);
	memcpy(ps.range_buf, src->text + start, end - start);
	ps.range_buf[end - start] = ps.range_buf[end - start + 1] = '\0';
	struct ast_expr *e = NULL;
	if (kiln_lex_init(&ps) == 0) {
		yyparse(&ps);
		e = ps.result_expr;
		kiln_lex_destroy(&ps);
	}
	free(ps.range_buf);
	free(ps.names);
	return e ? e : ast_expr_error(&ps, (struct src_span){file, start, end});
}
