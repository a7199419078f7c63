/*
 * parser_impl: state shared by the lexer (lexer.l), the grammar (parser.y)
 * and the AST constructors (ast.c). Private to grammar/.
 */
#ifndef KILN_PARSER_IMPL_H
#define KILN_PARSER_IMPL_H

#include "ast.h"
#include "diag.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdint.h>

/* Brackets and interpolations nest at most this deep. */
#define PARSE_MAX_NEST 256

/* Semantic value of a string piece from the lexer. */
struct tok_str {
	const char *s;
	uint32_t len;
	bool strip; /* from a <<- heredoc: strip the common indentation */
};

/* The string being lexed (saved on the stack while an interpolation runs). */
struct str_ctx {
	int state;          /* the flex start condition to return to */
	uint32_t start;     /* offset of the opening quote or << */
	bool in_interp;     /* a ${ has been seen: next piece is STR_MID or STR_TAIL */
	bool strip;         /* <<- heredoc */
	const char *marker; /* heredoc terminator */
	uint32_t marker_len;
	bool bad_marker; /* opened by a marker line with text after it (reported) */
};

struct parser {
	struct arena *arena;
	struct diag_sink *diags;
	struct source_file *src;
	uint32_t file;
	void *scanner;

	/* lexer */
	uint32_t offset;    /* bytes consumed so far */
	uint32_t tok_start; /* start of a token built over several rules */
	struct strbuf sb;   /* text of the string being lexed */
	struct str_ctx cur;
	struct str_ctx interp[PARSE_MAX_NEST];
	int ninterp;
	struct {
		char c;
		bool dead; /* error recovery dropped it: its closer is dropped too */
		uint32_t off;
	} open[PARSE_MAX_NEST]; /* unclosed brackets, innermost last */
	int nopen;
	bool synth;             /* closers are being made up for a mismatch: report it once */
	uint32_t synth_off;     /* where the last made-up closer stands (+1; 0: none) */
	bool fatal;             /* stop: report nothing more from the parser */
	bool lex_err_pending;   /* the lexer reported an error while reading the lookahead */
	uint32_t ntokens;       /* tokens lexed so far */
	uint32_t echo_until;    /* no syntax error up to this token: an error was just said */
	uint32_t last_err_off;  /* where the parser last reported an error (+1; 0: none) */
	int prev_tok, last_tok; /* the token before the last one lexed, and that one */
	struct src_span prev_span, last_span;

	struct ast_file *result;
	struct ast_expr *result_expr; /* EXPR_START: the expression parsed */
	uint32_t start, end;          /* the bytes to lex: [start, end) of the file */
	char *range_buf;              /* a copy of them when start > 0 (with two NULs after) */
	int start_tok;                /* a token to hand the parser first (VARS_START), or 0 */

	/* identifiers, stored once each in the arena */
	struct interned {
		const char *s; /* NULL: an empty slot */
		uint32_t hash, len;
	} * names;
	uint32_t names_cap, names_len;
};

/* The arena copy of identifier s[0..n), the same pointer for the same name. */
const char *parse_intern(struct parser *ps, const char *s, size_t n);

/* Error recovery dropped the opening bracket at off: drop its closer too (lexer.l). */
void kiln_bracket_dropped(struct parser *ps, uint32_t off);

/* Lexer entry points (lexer.l). */
int kiln_lex_init(struct parser *ps);
void kiln_lex_destroy(struct parser *ps);
/* The display name of a token number ("'param'", "identifier"); parser.y. */
const char *kiln_token_name(int tok);

#endif
