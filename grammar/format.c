/*
 * format: kiln fmt's layout. Works from the token stream of the real lexer,
 * plus the AST for the one thing tokens do not say (which '<' and '>' belong
 * to a type). Comments are not tokens: they are read back from the bytes
 * between two tokens, which hold only white space and comments. So nothing
 * but white space can change, and the parser needed no trivia of its own.
 *
 * The layout (docs/language.md, "Layout"):
 *   - the line breaks of the source stay; more than one blank line becomes
 *     one, and blank lines after an opening bracket, before a closing one and
 *     at the ends of the file go;
 *   - two spaces per open bracket (several opened on one line count once); a
 *     line that goes on with an operator (or after one) one more;
 *   - one space around binary operators, '=' and the ternary's '?' ':', after
 *     ',' ';' ':' and inside '{ }' on one line; none inside '( )' '[ ]', around
 *     '.', after a unary operator, before a call's '(' or an index's '[', and
 *     around the '<' '>' of a type (list<string>);
 *   - the '=' of consecutive NAME = VALUE lines of a block line up;
 *   - comments stay where they were (a trailing one one space after the
 *     code); strings, interpolated strings and heredocs are copied byte for
 *     byte.
 */
#include "format.h"

#include "ast.h"
#include "parse.h"
#include "parser.h"
#include "parser_impl.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

int kiln_scan(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);

enum piece_kind { PK_TOKEN, PK_ATOM, PK_LINE_COMMENT, PK_BLOCK_COMMENT };

enum {
	F_TYPE = 1,    /* inside a type */
	F_UNARY = 2,   /* a prefix '-' or '!' */
	F_TERNARY = 4, /* the ':' of a ? b : c */
};

/* A token, a string (copied as it is), or a comment, with the newlines before it. */
struct piece {
	uint8_t kind, flags;
	int tok;
	uint32_t start, end;
	uint32_t nl;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

static void add_piece(struct pieces *p, uint8_t kind, int tok, uint32_t start, uint32_t end,
                      uint32_t *nl)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = (struct piece){kind, 0, tok, start, end, *nl};
	*nl = 0;
}

/* The bytes [from, to) between two tokens: white space and comments. */
static int add_gap(struct pieces *p, const char *t, uint32_t from, uint32_t to, uint32_t *nl)
{
	uint32_t i = from;
	if (i == 0 && to >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3))
		i = 3; /* a byte order mark */
	while (i < to) {
		char c = t[i];
		if (c == '\n') {
			(*nl)++;
			i++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == '#' || (c == '/' && i + 1 < to && t[i + 1] == '/')) {
			uint32_t j = i;
			while (j < to && t[j] != '\n')
				j++;
			uint32_t e = j;
			while (e > i && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r'))
				e--;
			add_piece(p, PK_LINE_COMMENT, 0, i, e, nl);
			i = j;
		} else if (c == '/' && i + 1 < to && t[i + 1] == '*') {
			const char *e = NULL;
			for (uint32_t j = i + 2; j + 1 < to && !e; j++)
				if (t[j] == '*' && t[j + 1] == '/')
					e = t + j + 2;
			if (!e)
				return -1;
			add_piece(p, PK_BLOCK_COMMENT, 0, i, (uint32_t)(e - t), nl);
			i = (uint32_t)(e - t);
		} else {
			return -1; /* not white space: the lexer skipped something it reported */
		}
	}
	return 0;
}

/* Tokens and comments of the file, strings (interpolated ones whole) as one piece. */
static int read_pieces(struct arena *a, struct diag_sink *diags, uint32_t file, struct pieces *out)
{
	struct source_file *src = source_get(diags->sm, file);
	struct parser ps = {
	    .arena = a,
	    .diags = diags,
	    .src = src,
	    .file = file,
	    .end = src->len,
	};
	if (kiln_lex_init(&ps) < 0)
		return -1;
	uint32_t prev_end = 0, nl = 0, str_start = 0;
	int depth = 0, r = 0;
	for (;;) {
		YYSTYPE v;
		YYLTYPE loc;
		int t = kiln_scan(&v, &loc, ps.scanner);
		if (ps.fatal) {
			r = -1;
			break;
		}
		if (t == 0) {
			r = add_gap(out, src->text, prev_end, src->len, &nl);
			break;
		}
		if (depth == 0 && add_gap(out, src->text, prev_end, loc.start, &nl) < 0) {
			r = -1;
			break;
		}
		prev_end = loc.end;
		if (t == STR_HEAD) {
			if (depth++ == 0)
				str_start = loc.start;
		} else if (t == STR_TAIL) {
			if (--depth == 0)
				add_piece(out, PK_ATOM, STRING, str_start, loc.end, &nl);
		} else if (depth == 0) {
			add_piece(out, t == STRING ? PK_ATOM : PK_TOKEN, t, loc.start, loc.end,
			          &nl);
		}
	}
	kiln_lex_destroy(&ps);
	free(ps.names);
	return r;
}

/* ---- what each token is ------------------------------------------------------------- */

struct spans {
	struct src_span *v;
	size_t n, cap;
};

static void collect_types(const struct ast_node *n, struct spans *s)
{
	for (; n; n = n->next) {
		const struct ast_type *ty = NULL;
		if (n->kind == N_PARAM || n->kind == N_LET)
			ty = n->type;
		else if (n->kind == N_ROLE)
			collect_types(n->params, s);
		if (ty) {
			if (s->n == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 32;
				s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
			}
			s->v[s->n++] = ty->span;
		}
		collect_types(n->body, s);
	}
}

static int cmp_span(const void *a, const void *b)
{
	const struct src_span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static bool is_opener(const struct piece *p)
{
	return p && p->kind == PK_TOKEN && (p->tok == '(' || p->tok == '[' || p->tok == '{');
}

static bool is_closer(const struct piece *p)
{
	return p && p->kind == PK_TOKEN && (p->tok == ')' || p->tok == ']' || p->tok == '}');
}

/* Can p end an operand (so a '-' after it subtracts, a '(' after it calls)? */
static bool ends_operand(const struct piece *p)
{
	if (!p)
		return false;
	if (p->kind == PK_ATOM)
		return true;
	if (p->kind != PK_TOKEN)
		return false;
	switch (p->tok) {
	case IDENT:
	case INT:
	case TRUE:
	case FALSE:
	case NUL:
	case ')':
	case ']':
	case '}':
		return true;
	default:
		return false;
	}
}

/* A binary operator (or '=', '?', a ternary ':', '.'): a line may go on after or with it. */
static bool is_binary(const struct piece *p)
{
	if (!p || p->kind != PK_TOKEN || (p->flags & (F_UNARY | F_TYPE)))
		return false;
	switch (p->tok) {
	case '+':
	case '-':
	case '*':
	case '/':
	case '%':
	case '<':
	case '>':
	case '=':
	case '?':
	case '.':
	case EQ:
	case NE:
	case LE:
	case GE:
	case ANDAND:
	case OROR:
		return true;
	case ':':
		return (p->flags & F_TERNARY) != 0;
	default:
		return false;
	}
}

static void mark(struct pieces *ps, struct spans *types)
{
	if (types->n)
		qsort(types->v, types->n, sizeof(*types->v), cmp_span);
	size_t ti = 0;
	int qdepth = 0;
	uint32_t q[PARSE_MAX_NEST + 2] = {0}; /* open '?' per bracket depth */
	const struct piece *prev = NULL;
	for (size_t i = 0; i < ps->n; i++) {
		struct piece *p = &ps->v[i];
		if (p->kind == PK_LINE_COMMENT || p->kind == PK_BLOCK_COMMENT)
			continue;
		while (ti < types->n && types->v[ti].end <= p->start)
			ti++;
		if (ti < types->n && types->v[ti].start <= p->start)
			p->flags |= F_TYPE;
		if (p->kind == PK_TOKEN) {
			if (p->tok == '!' || (p->tok == '-' && !ends_operand(prev)))
				p->flags |= F_UNARY;
			if (is_opener(p) && qdepth < PARSE_MAX_NEST + 1)
				q[++qdepth] = 0;
			else if (is_closer(p) && qdepth > 0)
				qdepth--;
			else if (p->tok == '?')
				q[qdepth]++;
			else if (p->tok == ':' && !(p->flags & F_TYPE) && q[qdepth] > 0) {
				q[qdepth]--;
				p->flags |= F_TERNARY;
			}
		}
		prev = p;
	}
}

/* One space between prev and cur on one line, or none? */
static bool want_space(const struct piece *prev, const struct piece *cur)
{
	if (cur->kind == PK_LINE_COMMENT || cur->kind == PK_BLOCK_COMMENT ||
	    prev->kind == PK_BLOCK_COMMENT)
		return true;
	int pt = prev->kind == PK_TOKEN ? prev->tok : -1;
	int ct = cur->kind == PK_TOKEN ? cur->tok : -1;
	if (ct == ',' || ct == ';' || ct == ')' || ct == ']')
		return false;
	if (pt == '(' || pt == '[' || pt == '.' || ct == '.')
		return false;
	if (prev->flags & F_UNARY)
		return false;
	if (((cur->flags & F_TYPE) && (ct == '<' || ct == '>')) ||
	    ((prev->flags & F_TYPE) && pt == '<'))
		return false;
	if (ct == ':' && !(cur->flags & F_TERNARY))
		return false;
	if (ct == '(' || ct == '[')
		return !ends_operand(prev);
	if (pt == '{' && ct == '}')
		return false;
	return true;
}

/* ---- lines ------------------------------------------------------------------------------ */

struct line {
	uint32_t indent;
	size_t off, len; /* in the text buffer */
	int key;         /* NAME = VALUE: the length of NAME; else -1 */
	int pad;         /* spaces after NAME, to line the '=' up */
	int comment;     /* where a trailing comment starts in the text; else -1 */
	int cpad;        /* spaces before it, to line it up */
	bool blank;      /* a blank line before it */
	bool multi;      /* holds a newline (a heredoc, a comment over several lines) */
};

struct layout {
	const char *src;
	struct strbuf text;
	struct line *lines;
	size_t nlines, cap;
	struct open {
		uint32_t line;   /* the line it opened on */
		uint32_t indent; /* that line's indent */
		uint32_t inner;  /* the indent of the lines inside */
	} stack[PARSE_MAX_NEST + 2];
	int depth;
	uint32_t npieces; /* on the current line */
	uint32_t base;    /* the current line's indent, or less once it closes a bracket
	                     opened on an earlier line: where a block it opens starts */
	bool first_ident; /* the current line starts with an identifier */
};

static void new_line(struct layout *l, const struct piece *first, const struct piece *prev,
                     bool blank)
{
	uint32_t indent;
	struct open *top = l->depth > 0 ? &l->stack[l->depth - 1] : NULL;
	if (is_closer(first))
		indent = top ? top->indent : 0;
	else
		indent = (top ? top->inner : 0) + (is_binary(prev) || is_binary(first));
	if (l->nlines == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->lines = xrealloc(l->lines, l->cap * sizeof(*l->lines));
	}
	l->lines[l->nlines++] = (struct line){indent, l->text.len, 0, -1, 0, -1, 0, blank, false};
	l->npieces = 0;
	l->base = indent;
	l->first_ident = first->kind == PK_TOKEN && first->tok == IDENT;
}

static void put(struct layout *l, const char *s, size_t n)
{
	struct line *ln = &l->lines[l->nlines - 1];
	sb_add(&l->text, s, n);
	ln->len += n;
	if (memchr(s, '\n', n))
		ln->multi = true;
}

static void place(struct layout *l, const struct piece *p, const struct piece *prev)
{
	const char *s = l->src + p->start;
	size_t n = p->end - p->start;
	bool ends_nl = prev && prev->kind == PK_ATOM && l->src[prev->end - 1] == '\n';
	uint32_t nl = p->nl + ends_nl;
	if (!prev) {
		new_line(l, p, NULL, false);
	} else if (nl > 0 || prev->kind == PK_LINE_COMMENT) {
		new_line(l, p, prev, nl >= 2 && !is_opener(prev) && !is_closer(p));
	} else if (want_space(prev, p)) {
		put(l, " ", 1);
	}
	struct line *ln = &l->lines[l->nlines - 1];
	if (l->npieces == 1 && l->first_ident && p->kind == PK_TOKEN && p->tok == '=')
		ln->key =
		    (int)ln->len - 1; /* NAME = VALUE: the '=' lines up with its neighbours' */
	if (p->kind == PK_LINE_COMMENT && l->npieces > 0)
		ln->comment = (int)ln->len;
	if (p->kind == PK_ATOM && n > 0 && s[n - 1] == '\n')
		n--; /* a heredoc's last newline: the next line breaks it */
	put(l, s, n);
	l->npieces++;
	if (is_opener(p) && l->depth < PARSE_MAX_NEST + 1) {
		struct open *top = l->depth > 0 ? &l->stack[l->depth - 1] : NULL;
		uint32_t line = (uint32_t)l->nlines - 1;
		uint32_t inner = top && top->line == line ? top->inner : l->base + 1;
		l->stack[l->depth++] = (struct open){line, l->base, inner};
	} else if (is_closer(p) && l->depth > 0) {
		struct open *o = &l->stack[--l->depth];
		if (o->line != l->nlines - 1 && o->indent < l->base)
			l->base = o->indent;
	}
}

/* The column a line's trailing comment starts at, unaligned (in code points). */
static uint32_t column(const struct layout *l, const struct line *ln)
{
	uint32_t w = 2 * ln->indent + (uint32_t)(ln->key >= 0 ? ln->pad : 0);
	const char *t = l->text.buf + ln->off;
	for (int i = 0; i < ln->comment; i++)
		w += ((unsigned char)t[i] & 0xC0) != 0x80;
	return w;
}

/* The '=' of consecutive NAME = VALUE lines at one indent line up, then the
   trailing comments of consecutive lines. */
static void align(struct layout *l)
{
	size_t i = 0;
	while (i < l->nlines) {
		if (l->lines[i].key < 0) {
			i++;
			continue;
		}
		size_t j = i + 1;
		int width = l->lines[i].key;
		while (j < l->nlines && l->lines[j].key >= 0 && !l->lines[j].blank &&
		       l->lines[j].indent == l->lines[i].indent && !l->lines[j - 1].multi) {
			if (l->lines[j].key > width)
				width = l->lines[j].key;
			j++;
		}
		for (size_t k = i; k < j; k++)
			l->lines[k].pad = width - l->lines[k].key;
		i = j;
	}
	/* then the trailing comments of consecutive lines */
	i = 0;
	while (i < l->nlines) {
		if (l->lines[i].comment < 0 || l->lines[i].multi) {
			i++;
			continue;
		}
		size_t j = i;
		uint32_t width = 0;
		while (j < l->nlines && l->lines[j].comment >= 0 && !l->lines[j].multi &&
		       (j == i || !l->lines[j].blank)) {
			uint32_t w = column(l, &l->lines[j]);
			width = w > width ? w : width;
			j++;
		}
		for (size_t k = i; k < j; k++)
			l->lines[k].cpad = (int)(width - column(l, &l->lines[k]));
		i = j;
	}
}

static char *render(struct layout *l, size_t *ret_len)
{
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < l->nlines; i++) {
		const struct line *ln = &l->lines[i];
		if (ln->blank && i > 0)
			sb_addc(&out, '\n');
		for (uint32_t k = 0; k < ln->indent; k++)
			sb_add(&out, "  ", 2);
		const char *t = l->text.buf + ln->off;
		size_t at = 0;
		if (ln->key >= 0) {
			/* NAME, padding, then " = ..." */
			sb_add(&out, t, (size_t)ln->key);
			for (int k = 0; k < ln->pad; k++)
				sb_addc(&out, ' ');
			at = (size_t)ln->key;
		}
		if (ln->comment >= 0) {
			sb_add(&out, t + at, (size_t)ln->comment - at);
			for (int k = 0; k < ln->cpad; k++)
				sb_addc(&out, ' ');
			at = (size_t)ln->comment;
		}
		sb_add(&out, t + at, ln->len - at);
		sb_addc(&out, '\n');
	}
	*ret_len = out.len;
	return sb_detach(&out); /* "" for a file without tokens or comments */
}

char *format_source(struct arena *a, struct diag_sink *diags, uint32_t file, bool var_file,
                    size_t *ret_len)
{
	unsigned errors = diags->nerrors;
	struct parse_opts po = {.var_file = var_file};
	struct ast_file *ast = parse_source(a, diags, file, &po);
	if (diags->nerrors > errors)
		return NULL;
	struct pieces ps = {0};
	if (read_pieces(a, diags, file, &ps) < 0) {
		free(ps.v);
		diag_file_error(diags, E_FILE_UNREADABLE, file, "cannot format: the lexer failed");
		return NULL;
	}
	struct spans types = {0};
	collect_types(ast->items, &types);
	mark(&ps, &types);
	free(types.v);

	struct layout l = {.src = source_get(diags->sm, file)->text, .text = STRBUF_INIT};
	const struct piece *prev = NULL;
	for (size_t i = 0; i < ps.n; i++) {
		place(&l, &ps.v[i], prev);
		prev = &ps.v[i];
	}
	align(&l);
	char *out = render(&l, ret_len);
	free(l.lines);
	sb_release(&l.text);
	free(ps.v);
	return out;
}
