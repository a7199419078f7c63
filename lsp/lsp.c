/*
 * lsp: the server. One loop reads a message, answers it and, after a change
 * to a document, publishes that document's diagnostics. Every document is
 * checked alone by kiln_lint, under its own path, so its imports resolve
 * from its directory as kiln lint's would.
 */
#include "lsp.h"

#include "ast.h"
#include "builtins.h"
#include "compile.h"
#include "format.h"
#include "lang.h"
#include "lsp_proto.h"
#include "parse.h"
#include "path.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* JSON-RPC and LSP error codes */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_SERVER_NOT_INITIALIZED = -32002,
	RPC_REQUEST_FAILED = -32803,
};

struct doc {
	char *uri, *path, *text;
	size_t len;
};

struct server {
	FILE *in, *out;
	struct doc *docs;
	size_t ndocs, cap;
	bool initialized, shutdown, exited;
};

/* A request's failure: its code and message (static or from a buffer). */
struct rpc_err {
	int code;
	char msg[512];
};

static void send_json(struct server *s, json_t *msg)
{
	char *body = json_dumps(msg, JSON_COMPACT);
	if (body) {
		lsp_write_message(s->out, body, strlen(body));
		free(body);
	}
	json_decref(msg);
}

static void send_result(struct server *s, json_t *id, json_t *result)
{
	json_t *m = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result",
	                      result ? result : json_null());
	send_json(s, m);
}

static void send_error(struct server *s, json_t *id, int code, const char *msg)
{
	json_t *m = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
	                      id ? id : json_null(), "error", "code", code, "message", msg);
	send_json(s, m);
}

static void send_notification(struct server *s, const char *method, json_t *params)
{
	send_json(
	    s, json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params));
}

static bool fail(struct rpc_err *e, int code, const char *fmt, const char *what)
    __attribute__((format(printf, 3, 0)));

static bool fail(struct rpc_err *e, int code, const char *fmt, const char *what)
{
	e->code = code;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(e->msg, sizeof e->msg, fmt, what);
#pragma GCC diagnostic pop
	return false;
}

/* params' member at a dotted path (e.g. "textDocument.uri"), or NULL. */
static json_t *member(json_t *params, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *v = params;
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (!json_is_object(v))
			return NULL;
		v = json_object_get(v, k);
	}
	return v;
}

static bool get_string(json_t *params, const char *path, const char **ret, struct rpc_err *e)
{
	json_t *v = member(params, path);
	if (!json_is_string(v))
		return fail(e, RPC_INVALID_PARAMS, "params.%s: expected a string", path);
	*ret = json_string_value(v);
	return true;
}

static bool get_uint(json_t *params, const char *path, uint32_t *ret, struct rpc_err *e)
{
	json_t *v = member(params, path);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return fail(e, RPC_INVALID_PARAMS, "params.%s: expected an integer >= 0", path);
	*ret = (uint32_t)json_integer_value(v);
	return true;
}

/* ---- documents ---- */

static struct doc *find_doc(struct server *s, const char *uri)
{
	for (size_t i = 0; i < s->ndocs; i++)
		if (!strcmp(s->docs[i].uri, uri))
			return &s->docs[i];
	return NULL;
}

static char *absolute_path(const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return strdup(path);
	size_t n = strlen(cwd) + strlen(path) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", cwd, path);
	return p;
}

static char *uri_of(const char *path)
{
	char *abs = absolute_path(path);
	char *uri = lsp_path_to_uri(abs ? abs : path);
	free(abs);
	return uri;
}

/* The document a request names (params.textDocument.uri). */
static struct doc *request_doc(struct server *s, json_t *params, struct rpc_err *e)
{
	const char *uri;
	if (!get_string(params, "textDocument.uri", &uri, e))
		return NULL;
	struct doc *d = find_doc(s, uri);
	if (!d)
		fail(e, RPC_INVALID_PARAMS,
		     "params.textDocument.uri: '%s' is not open (didOpen it first)", uri);
	return d;
}

/* The byte offset of params.position in d. */
static bool request_offset(struct doc *d, json_t *params, size_t *ret, struct rpc_err *e)
{
	uint32_t line, ch;
	if (!get_uint(params, "position.line", &line, e) ||
	    !get_uint(params, "position.character", &ch, e))
		return false;
	*ret = lsp_offset(d->text, d->len, line, ch);
	return true;
}

/* ---- positions ---- */

static json_t *position_json(struct source_file *f, uint32_t off)
{
	if (off > f->len)
		off = f->len;
	uint32_t line, col, start, len;
	source_position(f, off, &line, &col);
	source_line(f, line, &start, &len);
	if (start > off)
		start = off;
	return json_pack("{s:i, s:i}", "line", (json_int_t)line - 1, "character",
	                 (json_int_t)lsp_utf16_len(f->text + start, off - start));
}

static json_t *range_json(struct source_file *f, uint32_t start, uint32_t end)
{
	return json_pack("{s:o, s:o}", "start", position_json(f, start), "end",
	                 position_json(f, end < start ? start : end));
}

/* ---- diagnostics ---- */

static json_t *diagnostic_json(struct compile_ctx *cx, const struct diag *dg)
{
	struct source_file *f = source_get(&cx->sm, dg->span.file);
	uint32_t start = dg->has_span ? dg->span.start : 0, end = dg->has_span ? dg->span.end : 0;
	json_t *o = json_object();
	json_object_set_new(o, "range", range_json(f, start, end));
	json_object_set_new(o, "severity", json_integer(dg->severity == DIAG_ERROR ? 1 : 2));
	json_object_set_new(o, "code", json_string(diag_code_str(dg->code)));
	json_object_set_new(o, "source", json_string("kiln"));
	char *msg = NULL;
	if (dg->help && asprintf(&msg, "%s\nhelp: %s", dg->message, dg->help) < 0)
		msg = NULL;
	json_object_set_new(o, "message", json_string(msg ? msg : dg->message));
	free(msg);
	if (dg->nlabels) {
		json_t *rel = json_array();
		for (int i = 0; i < dg->nlabels; i++) {
			const struct diag_label *l = &dg->labels[i];
			struct source_file *lf = source_get(&cx->sm, l->span.file);
			char *uri = uri_of(lf->name);
			json_array_append_new(
			    rel, json_pack("{s:{s:s, s:o}, s:s}", "location", "uri", uri ? uri : "",
			                   "range", range_json(lf, l->span.start, l->span.end),
			                   "message", l->text ? l->text : ""));
			free(uri);
		}
		json_object_set_new(o, "relatedInformation", rel);
	}
	return o;
}

/* Lint d as kiln lint would (the text in memory, under its path) and publish. */
static void publish_diagnostics(struct server *s, struct doc *d)
{
	struct compile_ctx cx;
	compile_ctx_init(&cx, 0);
	compile_set_stdin(&cx, d->path, d->text, d->len);
	const char *paths[] = {d->path};
	struct compile_opts opts = {0};
	kiln_lint(&cx, paths, 1, &opts);
	json_t *list = json_array();
	for (size_t i = 0; i < cx.diags.n; i++) {
		const struct diag *dg = cx.diags.items[i];
		if (dg->span.file == cx.stdin_id - 1) {
			json_array_append_new(list, diagnostic_json(&cx, dg));
		} else {
			/* in an imported file: shown at the document's start, naming it */
			struct source_file *f = source_get(&cx.sm, dg->span.file);
			json_t *o = diagnostic_json(&cx, dg);
			char *msg;
			if (asprintf(&msg, "in %s: %s", f->name, dg->message) >= 0) {
				json_object_set_new(o, "message", json_string(msg));
				free(msg);
			}
			json_object_set_new(o, "range",
			                    json_pack("{s:{s:i,s:i}, s:{s:i,s:i}}", "start", "line",
			                              0, "character", 0, "end", "line", 0,
			                              "character", 0));
			json_array_append_new(list, o);
		}
	}
	compile_ctx_release(&cx);
	send_notification(s, "textDocument/publishDiagnostics",
	                  json_pack("{s:s, s:o}", "uri", d->uri, "diagnostics", list));
}

/* ---- the AST of a document ---- */

struct parsed {
	struct compile_ctx cx;
	struct source_file *f;
	struct ast_file *ast;
};

static void parse_doc(struct doc *d, struct parsed *p)
{
	compile_ctx_init(&p->cx, 0);
	uint32_t id = source_add(&p->cx.sm, d->path, d->text, d->len);
	p->f = source_get(&p->cx.sm, id);
	struct parse_opts opts = {0};
	p->ast = parse_source(&p->cx.arena, &p->cx.diags, id, &opts);
}

static bool in_span(struct src_span sp, size_t off)
{
	return sp.start <= off && off <= sp.end && sp.end > 0;
}

static char *str_of(struct ast_str s)
{
	return strndup(s.s ? s.s : "", s.len);
}

static char *span_text(struct source_file *f, struct src_span sp)
{
	if (sp.end > f->len || sp.start > sp.end)
		return strdup("");
	return strndup(f->text + sp.start, sp.end - sp.start);
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The word (a name) around off, or NULL; its span in *ret_start, *ret_end. */
static char *word_at(struct doc *d, size_t off, size_t *ret_start, size_t *ret_end)
{
	size_t a = off, b = off;
	while (a > 0 && is_word(d->text[a - 1]))
		a--;
	while (b < d->len && is_word(d->text[b]))
		b++;
	*ret_start = a;
	*ret_end = b;
	if (a == b)
		return NULL;
	return strndup(d->text + a, b - a);
}

/* Whether node kind declares a name that references can use. */
static bool is_decl(enum ast_kind k)
{
	return k == N_PARAM || k == N_LET || k == N_ROLE || k == N_HANDLER || k == N_IMAGE ||
	       k == N_STAGE || k == N_HOSTS;
}

static bool name_is(struct ast_node *n, const char *name)
{
	return n->name.s && n->name.len == strlen(name) && !memcmp(n->name.s, name, n->name.len);
}

/*
 * The declaration of name visible at off: the one in the innermost block
 * around off (a role's params and lets, an image's stages), else a top-level
 * one. Depth of the best so far in *best_depth.
 */
static void find_decl(struct ast_node *list, size_t off, const char *name, int depth,
                      struct ast_node **best, int *best_depth)
{
	for (struct ast_node *n = list; n; n = n->next) {
		if (is_decl(n->kind) && name_is(n, name) && depth > *best_depth) {
			*best = n;
			*best_depth = depth;
		}
		if (n->kind == N_ROLE && in_span(n->span, off))
			find_decl(n->params, off, name, depth + 1, best, best_depth);
		if (n->kind != N_PARAM && n->kind != N_LET && n->body && in_span(n->span, off))
			find_decl(n->body, off, name, depth + 1, best, best_depth);
	}
}

/* The innermost node of kind `kind` whose span holds off. */
static struct ast_node *enclosing(struct ast_node *list, size_t off, enum ast_kind kind)
{
	for (struct ast_node *n = list; n; n = n->next) {
		if (!in_span(n->span, off))
			continue;
		struct ast_node *in = NULL;
		if (n->kind != N_PARAM && n->kind != N_LET)
			in = enclosing(n->body, off, kind);
		if (!in && n->kind == N_ROLE)
			in = enclosing(n->params, off, kind);
		if (in)
			return in;
		if (n->kind == kind)
			return n;
	}
	return NULL;
}

/* ---- requests ---- */

static json_t *do_initialize(void)
{
	json_t *caps =
	    json_pack("{s:{s:b, s:i}, s:b, s:{s:[s,s,s]}, s:b, s:b, s:b}", "textDocumentSync",
	              "openClose", 1, "change", 2, "hoverProvider", 1, "completionProvider",
	              "triggerCharacters", ".", "=", " ", "definitionProvider", 1,
	              "documentFormattingProvider", 1, "documentSymbolProvider", 1);
	json_object_set_new(caps, "referencesProvider", json_true());
	json_object_set_new(caps, "renameProvider", json_true());
	json_object_set_new(caps, "codeActionProvider", json_true());
	return json_pack("{s:o, s:{s:s, s:s}}", "capabilities", caps, "serverInfo", "name", "kiln",
	                 "version", KILN_VERSION);
}

static json_t *do_formatting(struct doc *d, struct rpc_err *e)
{
	struct compile_ctx cx;
	compile_ctx_init(&cx, 0);
	uint32_t id = source_add(&cx.sm, d->path, d->text, d->len);
	size_t n;
	char *out = format_source(&cx.arena, &cx.diags, id, false, &n);
	json_t *r = NULL;
	if (!out) {
		fail(e, RPC_REQUEST_FAILED,
		     "%s has syntax errors: kiln fmt formats only a file that parses", d->path);
	} else if (n == d->len && !memcmp(out, d->text, n)) {
		r = json_array();
	} else {
		uint32_t line, ch;
		lsp_position(d->text, d->len, d->len, &line, &ch);
		r = json_pack("[{s:{s:{s:i,s:i}, s:{s:i,s:i}}, s:s%}]", "range", "start", "line", 0,
		              "character", 0, "end", "line", (json_int_t)line, "character",
		              (json_int_t)ch, "newText", out, n);
	}
	free(out);
	compile_ctx_release(&cx);
	return r;
}

/* LSP SymbolKind of a node, or 0 for no symbol. */
static int symbol_kind(enum ast_kind k)
{
	switch (k) {
	case N_PARAM:
		return 7; /* Property */
	case N_LET:
		return 13; /* Variable */
	case N_ROLE:
		return 12; /* Function */
	case N_IMAGE:
		return 5; /* Class */
	case N_STAGE:
		return 3; /* Namespace */
	case N_TASK:
	case N_USE:
		return 6; /* Method */
	case N_HANDLER:
		return 24; /* Event */
	case N_OUTPUT:
	case N_TEST:
	case N_APPLY:
	case N_CONFIG:
	case N_IMPORT:
	case N_INVENTORY:
		return 2; /* Module */
	case N_HOSTS:
		return 18; /* Array */
	case N_HOST:
		return 20; /* Key */
	default:
		return 0;
	}
}

static json_t *symbols(struct source_file *f, struct ast_node *list)
{
	json_t *arr = json_array();
	for (struct ast_node *n = list; n; n = n->next) {
		int kind = symbol_kind(n->kind);
		if (!kind || n->span.end == 0)
			continue;
		char *name;
		if (n->name.len && n->label && n->label->kind == EX_STRING) {
			if (asprintf(&name, "%.*s \"%.*s\"", (int)n->name.len, n->name.s,
			             (int)n->label->str.len, n->label->str.s) < 0)
				name = NULL;
		} else if (n->name.len) {
			name = str_of(n->name);
		} else if (n->label) {
			name = span_text(f, n->label->span);
		} else {
			name = strdup(ast_kind_name(n->kind));
		}
		struct src_span sel =
		    n->name_span.end > n->name_span.start ? n->name_span : n->span;
		if (!in_span(n->span, sel.start) || sel.end > n->span.end)
			sel = n->span;
		json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:o}", "name",
		                      name && *name ? name : ast_kind_name(n->kind), "detail",
		                      ast_kind_name(n->kind), "kind", kind, "range",
		                      range_json(f, n->span.start, n->span.end), "selectionRange",
		                      range_json(f, sel.start, sel.end));
		free(name);
		json_t *kids = json_array();
		if (n->kind == N_ROLE) {
			json_t *ps = symbols(f, n->params);
			json_array_extend(kids, ps);
			json_decref(ps);
		}
		if (n->kind != N_PARAM && n->kind != N_LET) {
			json_t *b = symbols(f, n->body);
			json_array_extend(kids, b);
			json_decref(b);
		}
		if (json_array_size(kids))
			json_object_set(o, "children", kids);
		json_decref(kids);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *do_symbols(struct doc *d)
{
	struct parsed p;
	parse_doc(d, &p);
	json_t *r = symbols(p.f, p.ast->items);
	compile_ctx_release(&p.cx);
	return r;
}

/*
 * The top-level declaration of name in the files path imports (an open
 * document's text, else the file on disk), depth-first, at most `budget`
 * files: its location, or NULL.
 */
static json_t *imported_decl(struct server *s, const char *path, struct ast_node *items,
                             const char *name, int *budget)
{
	char *dir = path_dirname(path);
	json_t *r = NULL;
	for (struct ast_node *n = items; n && !r && *budget > 0; n = n->next) {
		if (n->kind != N_IMPORT || !n->label || n->label->kind != EX_STRING)
			continue;
		(*budget)--;
		char *ipath = path_join(dir, n->label->str.s);
		char *uri = uri_of(ipath);
		struct doc *open = uri ? find_doc(s, uri) : NULL;
		struct compile_ctx cx;
		compile_ctx_init(&cx, 0);
		uint32_t id, err;
		int ok = 1;
		if (open)
			id = source_add(&cx.sm, ipath, open->text, open->len);
		else if ((ok = source_load(&cx.sm, ipath, &err)) >= 0)
			id = (uint32_t)ok;
		if (ok >= 0) {
			struct parse_opts opts = {0};
			struct ast_file *ast = parse_source(&cx.arena, &cx.diags, id, &opts);
			struct source_file *f = source_get(&cx.sm, id);
			for (struct ast_node *m = ast->items; m && !r; m = m->next) {
				if (!is_decl(m->kind) || !name_is(m, name))
					continue;
				struct src_span sp =
				    m->name_span.end > m->name_span.start ? m->name_span : m->span;
				r = json_pack("{s:s, s:o}", "uri", uri ? uri : "", "range",
				              range_json(f, sp.start, sp.end));
			}
			if (!r)
				r = imported_decl(s, ipath, ast->items, name, budget);
		}
		compile_ctx_release(&cx);
		free(uri);
		free(ipath);
	}
	free(dir);
	return r;
}

static json_t *do_definition(struct server *s, struct doc *d, size_t off)
{
	size_t ws, we;
	char *word = word_at(d, off, &ws, &we);
	if (!word)
		return json_null();
	struct parsed p;
	parse_doc(d, &p);
	struct ast_node *best = NULL;
	int depth = -1;
	find_decl(p.ast->items, off, word, 0, &best, &depth);
	json_t *r = NULL;
	if (best) {
		struct src_span sp =
		    best->name_span.end > best->name_span.start ? best->name_span : best->span;
		r = json_pack("{s:s, s:o}", "uri", d->uri, "range",
		              range_json(p.f, sp.start, sp.end));
	} else {
		int budget = 64;
		r = imported_decl(s, d->path, p.ast->items, word, &budget);
	}
	free(word);
	compile_ctx_release(&p.cx);
	return r ? r : json_null();
}

/* Markdown for a schema: its name, doc and arguments. */
static char *schema_markdown(const struct kiln_schema *sc)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return NULL;
	fprintf(m, "**%s** (%s)\n\n%s\n", sc->name, stdlib_kind_name(sc->kind),
	        sc->doc ? sc->doc : "");
	if (sc->label)
		fprintf(m, "\nThe label sets `%s`.\n", sc->label);
	if (sc->args && sc->args[0].name)
		fprintf(m, "\n");
	for (const struct kiln_arg *a = sc->args; a && a->name; a++)
		fprintf(m, "- `%s`: `%s`%s%s%s — %s\n", a->name, a->type,
		        a->required ? " (required)" : "", a->def ? " = " : "", a->def ? a->def : "",
		        a->doc ? a->doc : "");
	if (sc->returns)
		fprintf(m, "\nReturns `%s`.\n", sc->returns);
	if (sc->example)
		fprintf(m, "\n```\n%s\n```\n", sc->example);
	fclose(m);
	return buf;
}

static char *arg_markdown(const struct kiln_schema *sc, const struct kiln_arg *a)
{
	char *s;
	if (asprintf(&s, "**%s.%s**: `%s`%s%s%s\n\n%s", sc->name, a->name, a->type,
	             a->required ? " (required)" : "", a->def ? ", default " : "",
	             a->def ? a->def : "", a->doc ? a->doc : "") < 0)
		return NULL;
	return s;
}

static json_t *hover_json(struct source_file *f, char *md, size_t start, size_t end)
{
	json_t *r = json_pack("{s:{s:s, s:s}, s:o}", "contents", "kind", "markdown", "value",
	                      md ? md : "", "range", range_json(f, (uint32_t)start, (uint32_t)end));
	free(md);
	return r;
}

static json_t *do_hover(struct server *s, struct doc *d, size_t off)
{
	size_t ws, we;
	char *word = word_at(d, off, &ws, &we);
	if (!word)
		return json_null();
	struct parsed p;
	parse_doc(d, &p);
	json_t *r = NULL;
	struct ast_node *task = enclosing(p.ast->items, off, N_TASK);
	const struct kiln_schema *sc = NULL;
	if (task && task->name.len) {
		char *mod = str_of(task->name);
		sc = stdlib_lookup(SCHEMA_MODULE, mod);
		free(mod);
	}
	if (sc && in_span(task->name_span, off)) {
		r = hover_json(p.f, schema_markdown(sc), ws, we);
	} else if (sc) {
		/* an argument's name: NAME = value inside the task */
		struct ast_node *attr = enclosing(task->body, off, N_ATTR);
		bool on_name = attr && in_span(attr->name_span, off);
		const struct kiln_arg *a = on_name ? stdlib_arg(sc, word) : NULL;
		if (a)
			r = hover_json(p.f, arg_markdown(sc, a), ws, we);
		for (const struct kiln_attr *t = stdlib_task_attrs; !r && on_name && t->name; t++) {
			char *md;
			if (!strcmp(t->name, word) &&
			    asprintf(&md, "**%s**: `%s` (every task)\n\n%s", t->name, t->type,
			             t->doc) >= 0)
				r = hover_json(p.f, md, ws, we);
		}
	}
	if (!r) {
		/* a module or function named outside a task's head (e.g. `file` in a list) */
		const struct kiln_schema *fn = NULL;
		size_t after = we;
		while (after < d->len && (d->text[after] == ' ' || d->text[after] == '\t'))
			after++;
		if (after < d->len && d->text[after] == '(')
			fn = stdlib_lookup(SCHEMA_FUNCTION, word);
		if (!fn && after < d->len && d->text[after] == '(')
			fn = stdlib_lookup(SCHEMA_BASE, word);
		if (fn)
			r = hover_json(p.f, schema_markdown(fn), ws, we);
	}
	if (!r) {
		struct ast_node *best = NULL;
		int depth = -1;
		find_decl(p.ast->items, off, word, 0, &best, &depth);
		if (best) {
			char *md = NULL;
			char *type = best->type && (best->kind == N_PARAM || best->kind == N_LET)
			                 ? span_text(p.f, best->type->span)
			                 : NULL;
			char *value = best->value ? span_text(p.f, best->value->span) : NULL;
			uint32_t line, col;
			source_position(p.f, best->span.start, &line, &col);
			const char *what = ast_kind_name(best->kind);
			int w;
			if (best->kind == N_PARAM)
				w = asprintf(&md,
				             "**param %s**%s%s%s%s\n\nDeclared at line %u. Its "
				             "value comes from "
				             "`-var %s=VALUE`, a `-var-file`, `KILN_VAR_%s`%s.",
				             word, type ? ": `" : "", type ? type : "",
				             type ? "`" : "", value ? "" : " (required)", line,
				             word, word, value ? ", else the default" : "");
			else
				w = asprintf(&md, "**%s %s**%s%s%s\n\nDeclared at line %u.", what,
				             word, type ? ": `" : "", type ? type : "",
				             type ? "`" : "", line);
			if (w < 0)
				md = NULL;
			if (md && value && best->kind == N_PARAM) {
				char *m2;
				if (asprintf(&m2, "%s\n\nDefault: `%s`", md, value) >= 0) {
					free(md);
					md = m2;
				}
			} else if (md && value && best->kind == N_LET) {
				char *m2;
				if (asprintf(&m2, "%s\n\nValue: `%s`", md, value) >= 0) {
					free(md);
					md = m2;
				}
			}
			free(type);
			free(value);
			r = hover_json(p.f, md, ws, we);
		} else {
			/* declared in an imported file: say where */
			int budget = 64;
			json_t *loc = imported_decl(s, d->path, p.ast->items, word, &budget);
			char *md = NULL;
			if (loc) {
				char *path =
				    lsp_uri_to_path(json_string_value(json_object_get(loc, "uri")));
				json_int_t line = json_integer_value(json_object_get(
				    json_object_get(json_object_get(loc, "range"), "start"),
				    "line"));
				if (asprintf(&md, "**%s**\n\nDeclared in `%s`, line %lld.", word,
				             path ? path : "?", (long long)line + 1) < 0)
					md = NULL;
				free(path);
				json_decref(loc);
				r = hover_json(p.f, md, ws, we);
			}
		}
	}
	free(word);
	compile_ctx_release(&p.cx);
	return r ? r : json_null();
}

static void add_item(json_t *items, const char *label, int kind, const char *detail,
                     const char *doc)
{
	json_t *o = json_pack("{s:s, s:i}", "label", label, "kind", kind);
	if (detail)
		json_object_set_new(o, "detail", json_string(detail));
	if (doc && *doc)
		json_object_set_new(o, "documentation", json_string(doc));
	json_array_append_new(items, o);
}

/* Names declared in list visible at off (params, lets, roles, handlers, images, stages). */
static void add_names(json_t *items, struct ast_node *list, size_t off)
{
	for (struct ast_node *n = list; n; n = n->next) {
		if (is_decl(n->kind) && n->name.len) {
			char *name = str_of(n->name);
			add_item(items, name,
			         n->kind == N_LET     ? 6
			         : n->kind == N_PARAM ? 10
			                              : 7,
			         ast_kind_name(n->kind), NULL);
			free(name);
		}
		if (n->kind == N_ROLE && in_span(n->span, off))
			add_names(items, n->params, off);
		if (n->kind != N_PARAM && n->kind != N_LET && n->body && in_span(n->span, off))
			add_names(items, n->body, off);
	}
}

/* The enum values of an enum(a, b) type as items. */
static void add_enum_values(json_t *items, const char *type)
{
	const char *p = strstr(type, "enum(");
	if (!p)
		return;
	p += 5;
	while (*p && *p != ')') {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ')' && *e != ' ')
			e++;
		if (e > p) {
			char *v = strndup(p, (size_t)(e - p));
			add_item(items, v, 20, "enum value", NULL);
			free(v);
		}
		p = e;
	}
}

static void add_attrs(json_t *items, const struct kiln_attr *attrs)
{
	for (const struct kiln_attr *a = attrs; a->name; a++)
		add_item(items, a->name, 5, a->type, a->doc);
}

/* Handlers declared in list and the blocks around off (for notify). */
static void add_handlers(json_t *items, struct ast_node *list, size_t off)
{
	for (struct ast_node *n = list; n; n = n->next) {
		if (n->kind == N_HANDLER && n->name.len) {
			char *name = str_of(n->name);
			add_item(items, name, 23, "handler", NULL);
			free(name);
		}
		if (n->kind != N_PARAM && n->kind != N_LET && n->body && in_span(n->span, off))
			add_handlers(items, n->body, off);
	}
}

/* After `facts.` or `facts.os.`: the next level of the facts' names. */
static bool add_facts(json_t *items, struct doc *d, size_t off)
{
	size_t a = off;
	while (a > 0 && (is_word(d->text[a - 1]) || d->text[a - 1] == '.'))
		a--;
	if (off - a < 6 || memcmp(d->text + a, "facts.", 6))
		return false;
	/* the prefix below facts, up to the last dot before the cursor */
	size_t p = a + 6, last = p;
	for (size_t i = p; i < off; i++)
		if (d->text[i] == '.')
			last = i + 1;
	size_t plen = last - p;
	json_t *seen = json_object();
	for (const struct kiln_attr *f = stdlib_facts; f->name; f++) {
		if (strncmp(f->name, d->text + p, plen) || (plen && f->name[plen - 1] != '.'))
			continue;
		const char *rest = f->name + plen;
		size_t n = strcspn(rest, ".");
		char *part = strndup(rest, n);
		if (part && *part && !json_object_get(seen, part)) {
			json_object_set_new(seen, part, json_true());
			add_item(items, part, rest[n] ? 9 : 10, rest[n] ? "object" : f->type,
			         rest[n] ? NULL : f->doc);
		}
		free(part);
	}
	json_decref(seen);
	return true;
}

static json_t *do_completion(struct doc *d, size_t off)
{
	struct parsed p;
	parse_doc(d, &p);
	json_t *items = json_array();
	struct ast_node *task = enclosing(p.ast->items, off, N_TASK);
	const struct kiln_schema *sc = NULL;
	if (task && task->name.len && !in_span(task->name_span, off)) {
		char *mod = str_of(task->name);
		sc = stdlib_lookup(SCHEMA_MODULE, mod);
		free(mod);
	}
	/* the text of the line before the cursor says where we are */
	size_t ls = off;
	while (ls > 0 && d->text[ls - 1] != '\n')
		ls--;
	const char *eq = memchr(d->text + ls, '=', off - ls);
	char *arg = NULL;
	if (eq) {
		size_t a = ls;
		while (a < off && (d->text[a] == ' ' || d->text[a] == '\t'))
			a++;
		size_t b = a;
		while (b < off && is_word(d->text[b]))
			b++;
		arg = strndup(d->text + a, b - a);
	}
	if (add_facts(items, d, off)) {
		/* facts' fields only */
	} else if (sc && eq && arg && !strcmp(arg, "notify")) {
		add_handlers(items, p.ast->items, off);
	} else if (sc && eq) {
		/* after NAME = : the argument's enum values, and names in scope */
		const struct kiln_arg *ka = arg ? stdlib_arg(sc, arg) : NULL;
		if (ka)
			add_enum_values(items, ka->type);
		add_names(items, p.ast->items, off);
	} else if (sc) {
		for (const struct kiln_arg *a = sc->args; a && a->name; a++)
			add_item(items, a->name, 5, a->type, a->doc);
		add_attrs(items, stdlib_task_attrs);
	} else if (eq) {
		add_names(items, p.ast->items, off);
		const struct kiln_schema *const *fns;
		size_t n = stdlib_all(SCHEMA_FUNCTION, &fns);
		for (size_t i = 0; i < n; i++)
			add_item(items, fns[i]->name, 3, "function", fns[i]->doc);
	} else if (enclosing(p.ast->items, off, N_CONFIG)) {
		add_attrs(items, stdlib_config_attrs);
	} else {
		const struct kiln_schema *const *mods;
		size_t n = stdlib_all(SCHEMA_MODULE, &mods);
		for (size_t i = 0; i < n; i++)
			add_item(items, mods[i]->name, 9, "module", mods[i]->doc);
		add_names(items, p.ast->items, off);
		for (const struct kiln_attr *k = stdlib_keywords; k->name; k++)
			add_item(items, k->name, 14, "keyword", k->doc);
	}
	free(arg);
	compile_ctx_release(&p.cx);
	return json_pack("{s:b, s:o}", "isIncomplete", 0, "items", items);
}

/* ---- references, rename, code actions ---- */

struct refs {
	const char *name;
	struct ast_node *items; /* the file's, to resolve each use */
	struct ast_node *target;
	struct src_span *spans;
	size_t n, cap;
};

static void refs_add(struct refs *r, struct src_span sp)
{
	struct ast_node *best = NULL;
	int depth = -1;
	find_decl(r->items, sp.start, r->name, 0, &best, &depth);
	if (best != r->target)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct src_span *v = realloc(r->spans, cap * sizeof *v);
		if (!v)
			return;
		r->spans = v;
		r->cap = cap;
	}
	r->spans[r->n++] = sp;
}

static void refs_expr(struct refs *r, struct ast_expr *e)
{
	if (!e)
		return;
	switch (e->kind) {
	case EX_IDENT:
		if (e->str.len == strlen(r->name) && !memcmp(e->str.s, r->name, e->str.len))
			refs_add(r, e->span);
		break;
	case EX_TEMPLATE:
		for (struct ast_expr *x = e->tmpl.parts; x; x = x->next)
			refs_expr(r, x);
		break;
	case EX_LIST:
		for (struct ast_expr *x = e->list.items; x; x = x->next)
			refs_expr(r, x);
		break;
	case EX_MAP:
		for (struct ast_entry *x = e->map.entries; x; x = x->next)
			refs_expr(r, x->value);
		break;
	case EX_MEMBER:
		refs_expr(r, e->member.obj);
		break;
	case EX_INDEX:
		refs_expr(r, e->index.obj);
		refs_expr(r, e->index.index);
		break;
	case EX_CALL:
		refs_expr(r, e->call.fn);
		for (struct ast_arg *a = e->call.args; a; a = a->next)
			refs_expr(r, a->value);
		break;
	case EX_UNARY:
		refs_expr(r, e->unary.operand);
		break;
	case EX_BINARY:
		refs_expr(r, e->binary.lhs);
		refs_expr(r, e->binary.rhs);
		break;
	case EX_COND:
		refs_expr(r, e->cond.cond);
		refs_expr(r, e->cond.then);
		refs_expr(r, e->cond.els);
		break;
	default:
		break;
	}
}

static void refs_nodes(struct refs *r, struct ast_node *list)
{
	for (struct ast_node *n = list; n; n = n->next) {
		if (n == r->target ||
		    ((n->kind == N_USE || n->kind == N_GROUP_REF) && name_is(n, r->name)))
			refs_add(r, n->name_span.end > n->name_span.start ? n->name_span : n->span);
		if (n->kind != N_FOR) /* a for's label is its second loop variable */
			refs_expr(r, n->label);
		refs_expr(r, n->value);
		if (n->kind == N_USE)
			for (struct ast_arg *a = n->args; a; a = a->next)
				refs_expr(r, a->value);
		if (n->kind == N_ROLE)
			refs_nodes(r, n->params);
		refs_nodes(r, n->body);
	}
}

/* Every place in d's file that names the declaration of the name at off. */
static bool find_refs(struct parsed *p, struct doc *d, size_t off, struct refs *r)
{
	size_t ws, we;
	char *word = word_at(d, off, &ws, &we);
	*r = (struct refs){.name = word, .items = p->ast->items};
	if (!word)
		return false;
	int depth = -1;
	find_decl(p->ast->items, off, word, 0, &r->target, &depth);
	if (!r->target)
		return false;
	refs_nodes(r, p->ast->items);
	return true;
}

static json_t *do_references(struct doc *d, size_t off, json_t *params)
{
	struct parsed p;
	parse_doc(d, &p);
	struct refs r;
	json_t *list = json_array();
	bool with_decl = json_is_true(member(params, "context.includeDeclaration"));
	if (find_refs(&p, d, off, &r)) {
		for (size_t i = 0; i < r.n; i++) {
			struct src_span sp = r.spans[i];
			bool is_decl_span = r.target->name_span.end > r.target->name_span.start &&
			                    sp.start == r.target->name_span.start;
			if (is_decl_span && !with_decl)
				continue;
			json_array_append_new(list, json_pack("{s:s, s:o}", "uri", d->uri, "range",
			                                      range_json(p.f, sp.start, sp.end)));
		}
	}
	free(r.spans);
	free((char *)r.name);
	compile_ctx_release(&p.cx);
	return list;
}

static json_t *do_rename(struct doc *d, size_t off, json_t *params, struct rpc_err *e)
{
	const char *new_name;
	if (!get_string(params, "newName", &new_name, e))
		return NULL;
	bool ok = *new_name && !(new_name[0] >= '0' && new_name[0] <= '9');
	for (const char *c = new_name; *c; c++)
		ok = ok && is_word(*c);
	if (!ok) {
		fail(e, RPC_INVALID_PARAMS,
		     "params.newName: '%s' is not a name (letters, digits and '_', not starting "
		     "with a digit)",
		     new_name);
		return NULL;
	}
	struct parsed p;
	parse_doc(d, &p);
	struct refs r;
	json_t *res = NULL;
	if (find_refs(&p, d, off, &r)) {
		json_t *edits = json_array();
		for (size_t i = 0; i < r.n; i++)
			json_array_append_new(
			    edits, json_pack("{s:o, s:s}", "range",
			                     range_json(p.f, r.spans[i].start, r.spans[i].end),
			                     "newText", new_name));
		res = json_pack("{s:{s:o}}", "changes", d->uri, edits);
	} else {
		fail(e, RPC_REQUEST_FAILED, "%s",
		     "no param, let, role, handler, image, stage or hosts group here to rename");
	}
	free(r.spans);
	free((char *)r.name);
	compile_ctx_release(&p.cx);
	return res;
}

/* Quick fixes: a diagnostic whose help says "did you mean 'x'?" offers to write x. */
static json_t *do_code_action(struct doc *d, json_t *params)
{
	json_t *actions = json_array();
	json_t *diags = member(params, "context.diagnostics");
	size_t i;
	json_t *dg;
	json_array_foreach (diags, i, dg) {
		json_t *msg = json_object_get(dg, "message");
		json_t *range = json_object_get(dg, "range");
		const char *m =
		    json_is_string(msg) ? strstr(json_string_value(msg), "did you mean '") : NULL;
		if (!m || !json_is_object(range))
			continue;
		m += strlen("did you mean '");
		const char *end = strchr(m, '\'');
		if (!end || end == m)
			continue;
		char *fix = strndup(m, (size_t)(end - m));
		char *title = NULL;
		if (fix && asprintf(&title, "Change to '%s'", fix) >= 0) {
			json_t *edit = json_pack("{s:{s:[{s:O, s:s}]}}", "changes", d->uri, "range",
			                         range, "newText", fix);
			json_array_append_new(actions,
			                      json_pack("{s:s, s:s, s:[O], s:o, s:b}", "title",
			                                title, "kind", "quickfix", "diagnostics",
			                                dg, "edit", edit, "isPreferred", 1));
		}
		free(title);
		free(fix);
	}
	return actions;
}

/* ---- notifications that change documents ---- */

static bool did_open(struct server *s, json_t *params, struct rpc_err *e)
{
	const char *uri, *text;
	if (!get_string(params, "textDocument.uri", &uri, e) ||
	    !get_string(params, "textDocument.text", &text, e))
		return false;
	char *path = lsp_uri_to_path(uri);
	if (!path)
		path = strdup(uri); /* untitled:...: linted under that name, imports from the cwd */
	struct doc *d = find_doc(s, uri);
	if (!d) {
		if (s->ndocs == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 8;
			struct doc *v = realloc(s->docs, cap * sizeof *v);
			if (!v) {
				free(path);
				return fail(e, RPC_REQUEST_FAILED, "%s", "out of memory");
			}
			s->docs = v;
			s->cap = cap;
		}
		d = &s->docs[s->ndocs++];
		*d = (struct doc){.uri = strdup(uri)};
	} else {
		free(d->path);
		free(d->text);
	}
	d->path = path;
	d->len = json_string_length(member(params, "textDocument.text"));
	d->text = malloc(d->len + 1);
	memcpy(d->text, text, d->len);
	d->text[d->len] = 0;
	publish_diagnostics(s, d);
	return true;
}

static bool did_change(struct server *s, json_t *params, struct rpc_err *e)
{
	struct doc *d = request_doc(s, params, e);
	if (!d)
		return false;
	json_t *changes = json_object_get(params, "contentChanges");
	if (!json_is_array(changes))
		return fail(e, RPC_INVALID_PARAMS, "%s",
		            "params.contentChanges: expected an array");
	size_t i;
	json_t *c;
	json_array_foreach (changes, i, c) {
		json_t *t = json_object_get(c, "text");
		if (!json_is_string(t))
			return fail(e, RPC_INVALID_PARAMS, "%s",
			            "params.contentChanges[].text: expected a string");
		const char *text = json_string_value(t);
		size_t tn = json_string_length(t);
		json_t *range = json_object_get(c, "range");
		size_t a = 0, b = d->len;
		if (range) {
			uint32_t sl, sc, el, ec;
			if (!get_uint(c, "range.start.line", &sl, e) ||
			    !get_uint(c, "range.start.character", &sc, e) ||
			    !get_uint(c, "range.end.line", &el, e) ||
			    !get_uint(c, "range.end.character", &ec, e))
				return false;
			a = lsp_offset(d->text, d->len, sl, sc);
			b = lsp_offset(d->text, d->len, el, ec);
			if (b < a)
				return fail(
				    e, RPC_INVALID_PARAMS, "%s",
				    "params.contentChanges[].range: the end is before the start");
		}
		size_t n = d->len - (b - a) + tn;
		char *nt = malloc(n + 1);
		if (!nt)
			return fail(e, RPC_REQUEST_FAILED, "%s", "out of memory");
		memcpy(nt, d->text, a);
		memcpy(nt + a, text, tn);
		memcpy(nt + a + tn, d->text + b, d->len - b);
		nt[n] = 0;
		free(d->text);
		d->text = nt;
		d->len = n;
	}
	publish_diagnostics(s, d);
	return true;
}

static bool did_close(struct server *s, json_t *params, struct rpc_err *e)
{
	struct doc *d = request_doc(s, params, e);
	if (!d)
		return false;
	char *uri = d->uri;
	free(d->path);
	free(d->text);
	*d = s->docs[--s->ndocs];
	/* clear what the editor shows for it */
	send_notification(s, "textDocument/publishDiagnostics",
	                  json_pack("{s:s, s:[]}", "uri", uri, "diagnostics"));
	free(uri);
	return true;
}

/* ---- dispatch ---- */

/* A request's answer: its result (new reference), or NULL with *e set. */
static json_t *request(struct server *s, const char *method, json_t *params, struct rpc_err *e)
{
	if (!strcmp(method, "initialize")) {
		s->initialized = true;
		return do_initialize();
	}
	if (!s->initialized) {
		fail(e, RPC_SERVER_NOT_INITIALIZED, "%s: send initialize first", method);
		return NULL;
	}
	if (s->shutdown) {
		fail(e, RPC_INVALID_REQUEST,
		     "%s: the server is shutting down: only exit is accepted", method);
		return NULL;
	}
	if (!strcmp(method, "shutdown")) {
		s->shutdown = true;
		return json_null();
	}
	static const char *const doc_requests[] = {
	    "textDocument/hover",      "textDocument/completion",     "textDocument/definition",
	    "textDocument/formatting", "textDocument/documentSymbol", "textDocument/references",
	    "textDocument/rename",     "textDocument/codeAction",
	};
	size_t which = 0;
	while (which < 8 && strcmp(method, doc_requests[which]))
		which++;
	if (which == 8) {
		fail(e, RPC_METHOD_NOT_FOUND, "unknown method '%s'", method);
		return NULL;
	}
	if (!json_is_object(params)) {
		fail(e, RPC_INVALID_PARAMS, "%s: params must be an object", method);
		return NULL;
	}
	struct doc *d = request_doc(s, params, e);
	if (!d)
		return NULL;
	size_t off = 0;
	if ((which <= 2 || which == 5 || which == 6) && !request_offset(d, params, &off, e))
		return NULL;
	switch (which) {
	case 0:
		return do_hover(s, d, off);
	case 1:
		return do_completion(d, off);
	case 2:
		return do_definition(s, d, off);
	case 3:
		return do_formatting(d, e);
	case 4:
		return do_symbols(d);
	case 5:
		return do_references(d, off, params);
	case 6:
		return do_rename(d, off, params, e);
	default:
		return do_code_action(d, params);
	}
}

static void notification(struct server *s, const char *method, json_t *params)
{
	struct rpc_err e;
	if (!strcmp(method, "exit")) {
		s->exited = true;
		return;
	}
	if (!s->initialized || s->shutdown)
		return;
	bool ok = true;
	if (!json_is_object(params))
		ok = strncmp(method, "textDocument/did", 16) != 0;
	else if (!strcmp(method, "textDocument/didOpen"))
		ok = did_open(s, params, &e);
	else if (!strcmp(method, "textDocument/didChange"))
		ok = did_change(s, params, &e);
	else if (!strcmp(method, "textDocument/didClose"))
		ok = did_close(s, params, &e);
	if (!ok) {
		/* a notification has no answer: tell the user through the log */
		char msg[700];
		snprintf(msg, sizeof msg, "kiln lsp: %s: %s", method,
		         json_is_object(params) ? e.msg : "params must be an object");
		send_notification(s, "window/logMessage",
		                  json_pack("{s:i, s:s}", "type", 1, "message", msg));
	}
}

static void handle(struct server *s, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *msg = json_loadb(body, len, 0, &jerr);
	if (!msg) {
		char m[300];
		snprintf(m, sizeof m, "parse error: %s at byte %d", jerr.text, jerr.position);
		send_error(s, NULL, RPC_PARSE_ERROR, m);
		return;
	}
	json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
	if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id))
		id = NULL;
	json_t *method = json_is_object(msg) ? json_object_get(msg, "method") : NULL;
	json_t *version = json_is_object(msg) ? json_object_get(msg, "jsonrpc") : NULL;
	if (json_is_object(msg) && !method && json_object_get(msg, "id") &&
	    (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
		json_decref(msg); /* a response to a request of ours: none are sent */
		return;
	}
	if (!json_is_object(msg) || !json_is_string(method) || !json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0")) {
		send_error(s, id, RPC_INVALID_REQUEST,
		           !json_is_object(msg) ? "invalid request: a message must be a JSON object"
		           : !json_is_string(method)
		               ? "invalid request: \"method\" must be a string"
		               : "invalid request: \"jsonrpc\" must be \"2.0\"");
		json_decref(msg);
		return;
	}
	const char *m = json_string_value(method);
	json_t *params = json_object_get(msg, "params");
	if (!json_object_get(msg, "id")) {
		notification(s, m, params);
	} else if (!id) {
		send_error(s, NULL, RPC_INVALID_REQUEST,
		           "invalid request: \"id\" must be a string or an integer");
	} else {
		struct rpc_err e = {0};
		json_t *r = request(s, m, params, &e);
		if (r)
			send_result(s, id, r);
		else
			send_error(s, id, e.code, e.msg);
	}
	json_decref(msg);
}

int lsp_serve(FILE *in, FILE *out)
{
	struct server s = {.in = in, .out = out};
	while (!s.exited) {
		char *body;
		size_t len;
		const char *why;
		enum lsp_read r = lsp_read_message(in, &body, &len, &why);
		if (r == LSP_READ_EOF)
			break;
		if (r == LSP_READ_ERROR) {
			char m[200];
			snprintf(m, sizeof m, "parse error: %s", why);
			send_error(&s, NULL, RPC_PARSE_ERROR, m);
			if (feof(in) || ferror(in))
				break;
			continue;
		}
		handle(&s, body, len);
		free(body);
	}
	for (size_t i = 0; i < s.ndocs; i++) {
		free(s.docs[i].uri);
		free(s.docs[i].path);
		free(s.docs[i].text);
	}
	free(s.docs);
	return s.exited && s.shutdown ? 0 : 1;
}
