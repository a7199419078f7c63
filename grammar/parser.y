/*
 * parser.y: the kiln grammar. Tokens from lexer.l in, struct ast_file out.
 * Invariants: every action is one ast_* call; lists are left-recursive so the
 * parser stack stays shallow; a syntax error never stops the parse before
 * --max-errors: `error` rules resynchronise at body items, bracket closers
 * and top-level items, and the broken part becomes an N_ERROR/EX_ERROR node.
 */
%code requires {
#include "ast.h"
#include "ast_build.h"
#include "parser_impl.h"
}

%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, struct parser *ps);
}

%code {
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                              \
	do {                                                                     \
		if (N) {                                                         \
			(Cur).file = YYRHSLOC(Rhs, 1).file;                      \
			(Cur).start = YYRHSLOC(Rhs, 1).start;                    \
			(Cur).end = YYRHSLOC(Rhs, N).end;                        \
		} else {                                                         \
			(Cur).file = YYRHSLOC(Rhs, 0).file;                      \
			(Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;          \
		}                                                                \
	} while (0)

static void yyerror(YYLTYPE *loc, struct parser *ps, const char *msg);

/* Does off start a line after the one of the last reported error? A new
   mistake on the same line is most often the first one's echo. */
static bool on_later_line(const struct parser *ps, uint32_t off)
{
	if (!ps->last_err_off || off < ps->last_err_off)
		return false;
	return memchr(ps->src->text + ps->last_err_off - 1, '\n', off - (ps->last_err_off - 1)) != NULL;
}

/* After an error rule: give up once --max-errors is reached. */
#define RECOVERED()                                                              \
	do {                                                                     \
		if (diag_too_many(ps->diags) || ps->fatal)                       \
			YYABORT;                                                 \
	} while (0)

/*
 * After `LIST error`: when the lookahead is known and starts the next item,
 * the parser will make progress, so the next mistake may be reported at
 * once (without it, bison stays silent for three more tokens). Without a
 * lookahead (a default reduction) it must not: that could loop.
 */
#define RECOVERED_AT(ok)                                                         \
	do {                                                                     \
		RECOVERED();                                                     \
		if (yychar != YYEMPTY && (ok) && on_later_line(ps, yylloc.start)) \
			yyerrok;                                                 \
	} while (0)

#define STARTS_ITEM(t)                                                           \
	((t) == PARAM || (t) == LET || (t) == IMPORT || (t) == ROLE || (t) == IMAGE ||    \
	 (t) == HOSTS || (t) == INVENTORY || (t) == APPLY || (t) == END)
#define STARTS_BODY_ITEM(t)                                                      \
	((t) == IDENT || (t) == FOR || (t) == WHEN || (t) == USE || (t) == STAGE ||      \
	 (t) == HANDLER || (t) == CONFIG || (t) == OUTPUT || (t) == TEST || (t) == LET || \
	 (t) == '}')

#define STARTS_HOST_ENTRY(t)                                                     \
	((t) == STRING || (t) == STR_HEAD || (t) == IDENT || (t) == '}' || (t) == ',' || (t) == ';')

/* After an error rule that consumed a closing token: report the next error at once. */
#define RECOVERED_OK()                                                           \
	do {                                                                     \
		RECOVERED();                                                     \
		yyerrok;                                                         \
	} while (0)
}

%define api.pure full
%define api.location.type {struct src_span}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {struct parser *ps}

/* Error recovery throws away an opening bracket: throw its closer away too,
   so the blocks around it keep their shape. */
%destructor { kiln_bracket_dropped(ps, (@$).start); } '{' '(' '['


%initial-action {
	@$ = (struct src_span){ps->file, 0, 0};
}

%union {
	struct tok_str str;
	int64_t num;
	struct ast_expr *expr;
	struct ast_node *node;
	struct ast_type *type;
	struct ast_list list;
	struct ast_arg *arg;
	struct ast_entry *entry;
	struct ast_field *field;
	struct ast_enum_value *ev;
}

%token END 0 "end of file"
%token <str> IDENT "identifier"
%token <str> STRING "string"
%token <str> STR_HEAD "start of an interpolated string"
%token <str> STR_MID "part of an interpolated string"
%token <str> STR_TAIL "end of an interpolated string"
%token <num> INT "integer"
%token PARAM "'param'" LET "'let'" IMPORT "'import'" ROLE "'role'" IMAGE "'image'"
%token FROM "'from'" STAGE "'stage'" HANDLER "'handler'" FOR "'for'" IN "'in'"
%token WHEN "'when'" USE "'use'" CONFIG "'config'" OUTPUT "'output'" TEST "'test'"
%token HOSTS "'hosts'" INVENTORY "'inventory'" APPLY "'apply'"
%token TRUE "'true'" FALSE "'false'" NUL "'null'" OBJECT "'object'"
%token VARS_START "start of a var-file"
%token EXPR_START "start of an expression"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='" ANDAND "'&&'" OROR "'||'"

%right '?' ':'
%left OROR
%left ANDAND
%left EQ NE
%left '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence '!' UMINUS

%type <list> items body host_entries list_items list_list map_entries args arg_list
%type <list> tmpl_parts role_params role_param_list type_fields enum_values
%type <node> item param let import role image hosts inventory apply body_item task
%type <node> host_entry role_param opt_attr_block
%type <expr> expr postfix primary string opt_default
%type <str> name
%type <type> type opt_type
%type <arg> arg
%type <entry> map_entry
%type <field> type_field
%type <ev> enum_value

%%

file
	: items                         { ast_file_done(ps, $1, @$); }
	| VARS_START body               { ast_file_done(ps, $2, @$); }
	| EXPR_START expr               { ps->result_expr = $2; }
	;

/* ---- top level ------------------------------------------------------- */

items
	: %empty                        { $$ = ast_list_empty(); }
	| items item                    { $$ = ast_list_add($1, $2); }
	| items ','                     { $$ = $1; }
	| items ';'                     { $$ = $1; }
	| items error                   { $$ = $1; RECOVERED_AT(STARTS_ITEM(yychar)); }
	;

item
	: param | let | import | role | image | hosts | inventory | apply
	/* a broken header: skip to its '{' and keep the body's own structure */
	| IMAGE error '{' body '}'      { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| ROLE error '{' body '}'       { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| APPLY error '{' body '}'      { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| HOSTS error '{' host_entries '}' { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	;

/* param -> 'param' NAME [':' type] ['=' expr] ['{' attr* '}'] */
param
	: PARAM name opt_type opt_default opt_attr_block
					{ $$ = ast_param(ps, &$2, @2, $3, $4, $5, @$); }
	;

opt_type
	: %empty                        { $$ = NULL; }
	| ':' type                      { $$ = $2; }
	;

opt_default
	: %empty                        { $$ = NULL; }
	| '=' expr                      { $$ = $2; }
	;

opt_attr_block
	: %empty                        { $$ = NULL; }
	| '{' body '}'                  { $$ = ast_block(ps, N_CONFIG, NULL, @$, NULL, $2, @$); }
	;

/* let -> 'let' NAME [':' type] '=' expr */
let
	: LET name opt_type '=' expr    { $$ = ast_let(ps, &$2, @2, $3, $5, @$); }
	;

/* import -> 'import' string */
import
	: IMPORT string                 { $$ = ast_labelled(ps, N_IMPORT, $2, @$); }
	;

/* role -> 'role' NAME ['(' params ')'] '{' body '}' */
role
	: ROLE name '(' role_params ')' '{' body '}'
					{ $$ = ast_role(ps, &$2, @2, $4, $7, @$); }
	| ROLE name '{' body '}'        { $$ = ast_role(ps, &$2, @2, ast_list_empty(), $4, @$); }
	;

role_params
	: %empty                        { $$ = ast_list_empty(); }
	| role_param_list               { $$ = $1; }
	| role_param_list ','           { $$ = $1; }
	;

role_param_list
	: role_param                    { $$ = ast_list_add(ast_list_empty(), $1); }
	| role_param_list ',' role_param { $$ = ast_list_add($1, $3); }
	;

role_param
	: IDENT opt_type opt_default    { $$ = ast_param(ps, &$1, @1, $2, $3, NULL, @$); }
	;

/* image -> 'image' NAME 'from' expr '{' body '}' */
image
	: IMAGE name FROM expr '{' body '}'
					{ $$ = ast_image(ps, &$2, @2, $4, $6, @$); }
	;

/* hosts -> 'hosts' NAME '{' (string ['{' attr* '}'] | NAME | NAME '=' expr)* '}' */
hosts
	: HOSTS name '{' host_entries '}'
					{ $$ = ast_block(ps, N_HOSTS, &$2, @2, NULL, $4, @$); }
	;

host_entries
	: %empty                        { $$ = ast_list_empty(); }
	| host_entries host_entry       { $$ = ast_list_add($1, $2); }
	| host_entries ','              { $$ = $1; }
	| host_entries ';'              { $$ = $1; }
	| host_entries error            { $$ = $1; RECOVERED_AT(STARTS_HOST_ENTRY(yychar)); }
	;

host_entry
	: string opt_attr_block         { $$ = ast_host(ps, $1, $2, @$); }
	| IDENT                         { $$ = ast_named(ps, N_GROUP_REF, &$1, @1, @$); }
	| IDENT '=' expr                { $$ = ast_attr(ps, &$1, @1, $3, @$); }
	;

/* inventory -> 'inventory' string */
inventory
	: INVENTORY string              { $$ = ast_labelled(ps, N_INVENTORY, $2, @$); }
	;

/* apply -> 'apply' GROUP '{' body '}' */
apply
	: APPLY name '{' body '}'       { $$ = ast_block(ps, N_APPLY, &$2, @2, NULL, $4, @$); }
	;

/* ---- bodies: one grammar for every block; ast_check_structure() says
 *      which items each kind of block may hold ------------------------- */

body
	: %empty                        { $$ = ast_list_empty(); }
	| body body_item                { $$ = ast_list_add($1, $2); }
	| body ','                      { $$ = $1; }
	| body ';'                      { $$ = $1; }
	| body error                    { $$ = ast_list_add($1, ast_error(ps, @2));
					  RECOVERED_AT(STARTS_BODY_ITEM(yychar)); }
	;

body_item
	: IDENT '=' expr                { $$ = ast_attr(ps, &$1, @1, $3, @$); }
	| task
	| FOR name IN expr              { $$ = ast_for(ps, &$2, @2, NULL, @$, $4, @$); }
	| FOR name ',' name IN expr     { $$ = ast_for(ps, &$2, @2, &$4, @4, $6, @$); }
	| WHEN expr                     { $$ = ast_when(ps, $2, @$); }
	| USE IDENT                     { $$ = ast_use(ps, &$2, @2, ast_list_empty(), @$); }
	| USE IDENT '(' args ')'        { $$ = ast_use(ps, &$2, @2, $4, @$); }
	| STAGE name '{' body '}'       { $$ = ast_block(ps, N_STAGE, &$2, @2, NULL, $4, @$); }
	| HANDLER name '{' body '}'     { $$ = ast_block(ps, N_HANDLER, &$2, @2, NULL, $4, @$); }
	| CONFIG '{' body '}'           { $$ = ast_block(ps, N_CONFIG, NULL, @1, NULL, $3, @$); }
	| OUTPUT IDENT string opt_attr_block
					{ $$ = ast_output(ps, &$2, @2, $3, $4, @$); }
	| TEST string '{' body '}'      { $$ = ast_block(ps, N_TEST, NULL, @1, $2, $4, @$); }
	| LET name opt_type '=' expr    { $$ = ast_let(ps, &$2, @2, $3, $5, @$); }
	/* a broken header: skip to its '{' and keep the body's own structure */
	| STAGE error '{' body '}'      { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| HANDLER error '{' body '}'    { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| TEST error '{' body '}'       { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	| OUTPUT error '{' body '}'     { $$ = ast_error(ps, @$); RECOVERED_OK(); }
	;

/* task -> MODULE [string] '{' body '}' */
task
	: IDENT '{' body '}'            { $$ = ast_block(ps, N_TASK, &$1, @1, NULL, $3, @$); }
	| IDENT string '{' body '}'     { $$ = ast_block(ps, N_TASK, &$1, @1, $2, $4, @$); }
	;

/* A declared name. A keyword there is reported and taken as the name, so the
   rest of the declaration parses and no further error follows from it. */
name
	: IDENT
	| keyword                       { $$ = ast_keyword_name(ps, @1); }
	;

keyword
	: PARAM | LET | IMPORT | ROLE | IMAGE | FROM | STAGE | HANDLER | FOR | IN | WHEN | USE
	| CONFIG | OUTPUT | TEST | HOSTS | INVENTORY | APPLY | TRUE | FALSE | NUL | OBJECT
	;

/* ---- types ----------------------------------------------------------- */

/* type -> NAME | NAME '<' type '>' | 'object' '{' field, ... '}' | 'enum' '(' NAME, ... ')' */
type
	: IDENT                         { $$ = ast_type_named(ps, &$1, @$); }
	| IDENT '<' type '>'            { $$ = ast_type_generic(ps, &$1, $3, @$); }
	| OBJECT '{' type_fields '}'    { $$ = ast_type_object(ps, $3, @$); }
	| IDENT '(' enum_values ')'     { $$ = ast_type_enum(ps, &$1, $3, @$); }
	;

/* fields separated by ',' or nothing (newlines), as map entries are */
type_fields
	: %empty                        { $$ = ast_list_empty(); }
	| type_fields type_field        { $$ = ast_list_add($1, $2); }
	| type_fields ','               { $$ = $1; }
	;

type_field
	: IDENT ':' type                { $$ = ast_field_new(ps, &$1, @1, $3); }
	;

enum_values
	: enum_value                    { $$ = ast_list_add(ast_list_empty(), $1); }
	| enum_values ',' enum_value    { $$ = ast_list_add($1, $3); }
	;

enum_value
	: IDENT                         { $$ = ast_enum_value_new(ps, &$1, @1); }
	;

/* ---- expressions ----------------------------------------------------- */

expr
	: expr '?' expr ':' expr        { $$ = ast_cond(ps, $1, $3, $5, @$); }
	| expr OROR expr                { $$ = ast_binary(ps, OP_OR, $1, $3, @$); }
	| expr ANDAND expr              { $$ = ast_binary(ps, OP_AND, $1, $3, @$); }
	| expr EQ expr                  { $$ = ast_binary(ps, OP_EQ, $1, $3, @$); }
	| expr NE expr                  { $$ = ast_binary(ps, OP_NE, $1, $3, @$); }
	| expr '<' expr                 { $$ = ast_binary(ps, OP_LT, $1, $3, @$); }
	| expr LE expr                  { $$ = ast_binary(ps, OP_LE, $1, $3, @$); }
	| expr '>' expr                 { $$ = ast_binary(ps, OP_GT, $1, $3, @$); }
	| expr GE expr                  { $$ = ast_binary(ps, OP_GE, $1, $3, @$); }
	| expr '+' expr                 { $$ = ast_binary(ps, OP_ADD, $1, $3, @$); }
	| expr '-' expr                 { $$ = ast_binary(ps, OP_SUB, $1, $3, @$); }
	| expr '*' expr                 { $$ = ast_binary(ps, OP_MUL, $1, $3, @$); }
	| expr '/' expr                 { $$ = ast_binary(ps, OP_DIV, $1, $3, @$); }
	| expr '%' expr                 { $$ = ast_binary(ps, OP_MOD, $1, $3, @$); }
	| '!' expr                      { $$ = ast_unary(ps, OP_NOT, $2, @$); }
	| '-' expr %prec UMINUS         { $$ = ast_unary(ps, OP_NEG, $2, @$); }
	| postfix
	;

postfix
	: primary
	| postfix '.' IDENT             { $$ = ast_member(ps, $1, &$3, @3, @$); }
	| postfix '[' expr ']'          { $$ = ast_index(ps, $1, $3, @$); }
	| postfix '(' args ')'          { $$ = ast_call(ps, $1, $3, @$); }
	| postfix '(' error ')'         { $$ = ast_expr_error(ps, @$); RECOVERED_OK(); }
	;

primary
	: INT                           { $$ = ast_int(ps, $1, @$); }
	| TRUE                          { $$ = ast_bool(ps, true, @$); }
	| FALSE                         { $$ = ast_bool(ps, false, @$); }
	| NUL                           { $$ = ast_null(ps, @$); }
	| string
	| IDENT                         { $$ = ast_ident(ps, &$1, @$); }
	| '(' expr ')'                  { $$ = ast_paren(ps, $2, @$); }
	| '(' error ')'                 { $$ = ast_expr_error(ps, @$); RECOVERED_OK(); }
	| '[' list_items ']'            { $$ = ast_list_expr(ps, $2, @$); }
	| '[' error ']'                 { $$ = ast_expr_error(ps, @$); RECOVERED_OK(); }
	| '{' map_entries '}'           { $$ = ast_map(ps, $2, @$); }
	| '{' error '}'                 { $$ = ast_expr_error(ps, @$); RECOVERED_OK(); }
	;

string
	: STRING                        { $$ = ast_string(ps, &$1, @$); }
	| STR_HEAD tmpl_parts STR_TAIL  { $$ = ast_template(ps, &$1, $2, &$3, @3, @$); }
	;

tmpl_parts
	: expr                          { $$ = ast_list_add(ast_list_empty(), $1); }
	| tmpl_parts STR_MID expr       { $$ = ast_tmpl_add(ps, $1, &$2, @2, $3); }
	;

list_items
	: %empty                        { $$ = ast_list_empty(); }
	| list_list                     { $$ = $1; }
	| list_list ','                 { $$ = $1; }
	;

list_list
	: expr                          { $$ = ast_list_add(ast_list_empty(), $1); }
	| list_list ',' expr            { $$ = ast_list_add($1, $3); }
	;

map_entries
	: %empty                        { $$ = ast_list_empty(); }
	| map_entries map_entry         { $$ = ast_list_add($1, $2); }
	| map_entries ','               { $$ = $1; }
	;

map_entry
	: IDENT '=' expr                { $$ = ast_entry_new(ps, &$1, @1, $3); }
	| IDENT ':' expr                { $$ = ast_entry_new(ps, &$1, @1, $3); }
	| STRING '=' expr               { $$ = ast_entry_new(ps, &$1, @1, $3); }
	| STRING ':' expr               { $$ = ast_entry_new(ps, &$1, @1, $3); }
	;

args
	: %empty                        { $$ = ast_list_empty(); }
	| arg_list                      { $$ = $1; }
	| arg_list ','                  { $$ = $1; }
	;

arg_list
	: arg                           { $$ = ast_list_add(ast_list_empty(), $1); }
	| arg_list ',' arg              { $$ = ast_list_add($1, $3); }
	;

arg
	: expr                          { $$ = ast_arg_new(ps, NULL, @1, $1); }
	| IDENT '=' expr                { $$ = ast_arg_new(ps, &$1, @1, $3); }
	;

%%

/* ---- syntax errors ------------------------------------------------------ */

static const char *const keywords[] = {
	"param", "let", "import", "role", "image", "from", "stage", "handler", "for", "in",
	"when", "use", "config", "output", "test", "hosts", "inventory", "apply",
	"true", "false", "null", "object",
};

/* The tokens that can start an expression are listed as one "expression". */
static bool starts_expr(yysymbol_kind_t s)
{
	switch (s) {
	case YYSYMBOL_INT:
	case YYSYMBOL_IDENT:
	case YYSYMBOL_STRING:
	case YYSYMBOL_STR_HEAD:
	case YYSYMBOL_TRUE:
	case YYSYMBOL_FALSE:
	case YYSYMBOL_NUL:
		return true;
	default:;
	}
	const char *n = yysymbol_name(s);
	return !strcmp(n, "'('") || !strcmp(n, "'['") || !strcmp(n, "'{'") ||
	       !strcmp(n, "'!'") || !strcmp(n, "'-'");
}

static bool is_sym(yysymbol_kind_t s, const char *name)
{
	return !strcmp(yysymbol_name(s), name);
}

static bool is_keyword(yysymbol_kind_t s)
{
	const char *n = yysymbol_name(s);
	size_t len = strlen(n);
	if (len < 3 || n[0] != '\'' || n[len - 1] != '\'')
		return false;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++)
		if (len - 2 == strlen(keywords[i]) && !strncmp(n + 1, keywords[i], len - 2))
			return true;
	return false;
}

/* Operators that may follow an expression: not worth listing as "expected". */
static bool is_operator(yysymbol_kind_t s)
{
	switch (s) {
	case YYSYMBOL_OROR:
	case YYSYMBOL_ANDAND:
	case YYSYMBOL_EQ:
	case YYSYMBOL_NE:
	case YYSYMBOL_LE:
	case YYSYMBOL_GE:
		return true;
	default:;
	}
	const char *n = yysymbol_name(s);
	return strlen(n) == 3 && n[0] == '\'' && strchr("?<>+-*/%.[(", n[1]);
}

/* "identifier 'foo'", "integer 42", "'{'", "end of file" */
static void describe(struct parser *ps, struct strbuf *sb, yysymbol_kind_t tok, const YYLTYPE *loc)
{
	if (tok == YYSYMBOL_IDENT || tok == YYSYMBOL_INT) {
		uint32_t len = loc->end - loc->start;
		sb_addf(sb, "%s '%.*s%s'", tok == YYSYMBOL_IDENT ? "identifier" : "integer",
			(int)(len > 40 ? 40 : len), ps->src->text + loc->start, len > 40 ? "..." : "");
	} else if (tok == YYSYMBOL_STR_HEAD) {
		sb_adds(sb, "string");
	} else {
		sb_adds(sb, yysymbol_name(tok));
	}
}

static int yyreport_syntax_error(const yypcontext_t *ctx, struct parser *ps)
{
	if (ps->fatal || ps->lex_err_pending || ps->ntokens <= ps->echo_until)
		return 0;
	yysymbol_kind_t tok = yypcontext_token(ctx);
	const YYLTYPE *loc = yypcontext_location(ctx);
	ps->last_err_off = loc->start + 1;
	yysymbol_kind_t exp[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);

	struct strbuf msg = STRBUF_INIT;
	sb_adds(&msg, "unexpected ");
	describe(ps, &msg, tok, loc);

	/* the expected tokens, with expression starters folded into one word */
	const char *names[YYNTOKENS];
	int nn = 0;
	bool expr = false, eq = false, colon = false, after_expr = false;
	bool ident = false;
	for (int i = 0; i < n; i++) {
		expr |= exp[i] == YYSYMBOL_INT;
		after_expr |= exp[i] == YYSYMBOL_OROR;
		ident |= exp[i] == YYSYMBOL_IDENT;
	}
	for (int i = 0; i < n; i++) {
		if (expr && starts_expr(exp[i]))
			continue;
		/* where a name is expected, keywords are too (to report them as names) */
		if (ident && !expr && is_keyword(exp[i]))
			continue;
		if (after_expr && is_operator(exp[i]))
			continue;
		eq |= is_sym(exp[i], "'='");
		colon |= is_sym(exp[i], "':'");
		if (exp[i] == YYSYMBOL_STR_HEAD || exp[i] == YYSYMBOL_STR_MID ||
		    exp[i] == YYSYMBOL_STR_TAIL)
			continue;
		names[nn++] = yysymbol_name(exp[i]);
	}
	if (expr)
		names[nn++] = "expression";
	if (nn > 0 && nn <= 6) {
		sb_adds(&msg, ", expected ");
		for (int i = 0; i < nn; i++) {
			if (i > 0)
				sb_adds(&msg, i == nn - 1 ? " or " : ", ");
			sb_adds(&msg, names[i]);
		}
	}

	struct diag *d;
	if (tok == YYSYMBOL_YYEOF) {
		d = diag_error(ps->diags, E_UNEXPECTED_EOF, *loc, "%s", msg.buf);
	} else {
		d = diag_error(ps->diags, E_UNEXPECTED_TOKEN, *loc, "%s", msg.buf);
	}

	/* hints for the common slips */
	bool top_level = tok == YYSYMBOL_IMAGE || tok == YYSYMBOL_PARAM || tok == YYSYMBOL_ROLE ||
			 tok == YYSYMBOL_HOSTS || tok == YYSYMBOL_APPLY || tok == YYSYMBOL_IMPORT ||
			 tok == YYSYMBOL_INVENTORY;
	if (is_sym(tok, "'='") && (ps->prev_tok == WHEN || ps->prev_tok == FOR)) {
		diag_help(d, "'%s' is a clause, not an attribute: write it without '='",
			  ps->prev_tok == WHEN ? "when" : "for");
	} else if (top_level && ps->nopen > 0 && ps->open[ps->nopen - 1].c != '$') {
		char c = ps->open[ps->nopen - 1].c;
		uint32_t off = ps->open[ps->nopen - 1].off;
		diag_label(d, (struct src_span){ps->file, off, off + 1}, "this '%c' is still open", c);
		diag_help(d, "a '%c' is missing before %s", c == '(' ? ')' : c == '[' ? ']' : '}',
			  yysymbol_name(tok));
	} else if (is_sym(tok, "':'") && eq && !colon) {
		diag_help(d, "attributes are written NAME = VALUE");
	} else if (ps->prev_tok == IDENT &&
		   (tok == YYSYMBOL_IDENT || is_sym(tok, "'{'") || is_sym(tok, "'('"))) {
		char word[64];
		uint32_t len = ps->prev_span.end - ps->prev_span.start;
		if (len < sizeof(word)) {
			memcpy(word, ps->src->text + ps->prev_span.start, len);
			word[len] = '\0';
			const char *kw = diag_closest(keywords, sizeof(keywords) / sizeof(*keywords), word);
			if (kw)
				diag_help(d, "did you mean the keyword '%s'?", kw);
		}
	}
	sb_release(&msg);
	return 0;
}

static void yyerror(YYLTYPE *loc, struct parser *ps, const char *msg)
{
	/* bison calls this only when its stack is exhausted */
	if (ps->fatal)
		return;
	diag_error(ps->diags, E_TOO_DEEP, *loc,
		   "expression nested too deeply (%s); split it with 'let'", msg);
	ps->fatal = true;
}

const char *kiln_token_name(int tok)
{
	return yysymbol_name(YYTRANSLATE(tok));
}
