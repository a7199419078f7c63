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
#include "utf8.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long an importer's diagnostics wait for a pause in the input, at most. */
#define LSP_STALE_MAX_MS 1000.0

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

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
	char *uri, *path, *text; /* path: normalized, or the URI when it is not file:// */
	size_t len;
	json_int_t version; /* the editor's, -1 when it sent none */
	bool stale;         /* an import changed: publish its diagnostics again when idle */
	char **imports;     /* the paths it imports, once known (imports_known) */
	size_t nimports;
	bool imports_known;
};

struct server {
	FILE *in, *out;
	struct doc *docs;
	size_t ndocs, cap;
	char **roots; /* the workspace folders (initialize's workspaceFolders or rootUri) */
	size_t nroots;
	bool initialized, shutdown, exited;
	bool document_changes; /* the client takes a WorkspaceEdit's documentChanges */
	double stale_since;    /* when a document became stale while none was, 0: none is */
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

/* The normalized path of a file:// URI (malloc'd), or NULL (NULL, another scheme). */
static char *uri_path(const char *uri)
{
	char *p = uri ? lsp_uri_to_path(uri) : NULL;
	char *n = p ? path_normalize(p) : NULL;
	free(p);
	return n;
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

/* A JSON string of any bytes (a file's name, a message quoting a file on disk): invalid
   UTF-8 becomes U+FFFD, as kiln lint --diagnostics=json writes it; jansson refuses it. */
static json_t *clean_string(const char *s)
{
	size_t n = strlen(s);
	if (utf8_validate((const unsigned char *)s, n) == n)
		return json_stringn(s, n);
	char *buf = malloc(3 * n + 1);
	size_t len = 0;
	for (size_t i = 0; buf && i < n;) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0) {
			memcpy(buf + len, "\xEF\xBF\xBD", 3);
			len += 3;
			i++;
		} else {
			memcpy(buf + len, s + i, k);
			len += k;
			i += k;
		}
	}
	json_t *j = buf ? json_stringn(buf, len) : json_string("");
	free(buf);
	return j;
}

/* One of kiln lint's diagnostics as LSP's Diagnostic; prefix (or NULL) starts its message. */
static json_t *diagnostic_json(struct compile_ctx *cx, const struct diag *dg, const char *prefix)
{
	struct source_file *f = source_get(&cx->sm, dg->span.file);
	uint32_t start = dg->has_span ? dg->span.start : 0, end = dg->has_span ? dg->span.end : 0;
	json_t *o = json_object();
	json_object_set_new(o, "range", range_json(f, start, end));
	json_object_set_new(o, "severity", json_integer(dg->severity == DIAG_ERROR ? 1 : 2));
	json_object_set_new(o, "code", json_string(diag_code_str(dg->code)));
	json_object_set_new(o, "source", json_string("kiln"));
	char *msg = NULL;
	if (asprintf(&msg, "%s%s%s%s", prefix ? prefix : "", dg->message,
	             dg->help ? "\nhelp: " : "", dg->help ? dg->help : "") < 0)
		msg = NULL;
	json_object_set_new(o, "message", clean_string(msg ? msg : dg->message));
	free(msg);
	if (dg->nlabels) {
		json_t *rel = json_array();
		for (int i = 0; i < dg->nlabels; i++) {
			const struct diag_label *l = &dg->labels[i];
			struct source_file *lf = source_get(&cx->sm, l->span.file);
			char *uri = uri_of(lf->name);
			json_array_append_new(
			    rel, json_pack("{s:{s:s, s:o}, s:o}", "location", "uri", uri ? uri : "",
			                   "range", range_json(lf, l->span.start, l->span.end),
			                   "message", clean_string(l->text ? l->text : "")));
			free(uri);
		}
		json_object_set_new(o, "relatedInformation", rel);
	}
	return o;
}

/*
 * Lint d as kiln lint would (the text in memory, under its path) and publish.
 * The other open documents are texts that stand for their paths (cx.texts), so
 * an import of one of them reads the editor's text, not the file on disk.
 */
static void publish_diagnostics(struct server *s, struct doc *d)
{
	struct compile_ctx cx;
	compile_ctx_init(&cx, 0);
	compile_set_stdin(&cx, d->path, d->text, d->len);
	/* read when imported, in the order kiln lint reads the files */
	struct compile_text *texts = calloc(s->ndocs ? s->ndocs : 1, sizeof(*texts));
	for (size_t i = 0; texts && i < s->ndocs; i++)
		if (&s->docs[i] != d && s->docs[i].path[0] == '/')
			texts[cx.ntexts++] =
			    (struct compile_text){s->docs[i].path, s->docs[i].text, s->docs[i].len};
	cx.texts = texts;
	const char *paths[] = {d->path};
	struct compile_opts opts = {0};
	kiln_lint(&cx, paths, 1, &opts);
	/* in kiln lint's order, as --diagnostics=json lists them */
	struct diag **sorted = diag_sorted(&cx.diags);
	json_t *list = json_array();
	for (size_t i = 0; i < cx.diags.n; i++) {
		const struct diag *dg = sorted[i];
		if (dg->span.file == cx.stdin_id - 1) {
			json_array_append_new(list, diagnostic_json(&cx, dg, NULL));
		} else {
			/* in an imported file: shown at the document's start, naming it */
			struct source_file *f = source_get(&cx.sm, dg->span.file);
			char *prefix;
			if (asprintf(&prefix, "in %s: ", f->name) < 0)
				prefix = NULL;
			json_t *o = diagnostic_json(&cx, dg, prefix);
			free(prefix);
			json_object_set_new(o, "range",
			                    json_pack("{s:{s:i,s:i}, s:{s:i,s:i}}", "start", "line",
			                              0, "character", 0, "end", "line", 0,
			                              "character", 0));
			json_array_append_new(list, o);
		}
	}
	free(sorted);
	free(texts);
	compile_ctx_release(&cx);
	send_notification(s, "textDocument/publishDiagnostics",
	                  json_pack("{s:s, s:o}", "uri", d->uri, "diagnostics", list));
}

/* ---- units: a document and the files it imports, parsed in one context ---- */

/* One file of a unit. */
struct ufile {
	char *path;
	struct source_file *f;
	struct ast_file *ast; /* NULL: it could not be read */
	unsigned mark;        /* == the unit's gen: visited by the current walk */
	bool searched;        /* references: already searched */
};

/*
 * Files parsed together, each once: the document a request names, what it
 * imports and, for references, the files that import it. An open document's
 * text is the editor's, any other file is read from disk. Nodes of one unit
 * can be compared by address.
 */
struct unit {
	struct server *s;
	struct compile_ctx cx;
	struct ufile *files;
	size_t n, cap;
	unsigned gen;
};

/* A declaration: a node of file `file` of a unit. */
struct decl {
	size_t file;
	struct ast_node *node;
};

static struct doc *doc_at_path(struct server *s, const char *path)
{
	for (size_t i = 0; i < s->ndocs; i++)
		if (!strcmp(s->docs[i].path, path))
			return &s->docs[i];
	return NULL;
}

static void unit_init(struct unit *u, struct server *s)
{
	*u = (struct unit){.s = s};
	compile_ctx_init(&u->cx, 0);
}

static void unit_release(struct unit *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->files[i].path);
	free(u->files);
	compile_ctx_release(&u->cx);
}

/* The index of path's file in u, read and parsed on first use; -1 when it cannot be read. */
static int unit_file(struct unit *u, const char *path)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->files[i].path, path))
			return u->files[i].ast ? (int)i : -1;
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 8;
		struct ufile *v = realloc(u->files, cap * sizeof *v);
		if (!v)
			return -1;
		u->files = v;
		u->cap = cap;
	}
	char *p = strdup(path);
	if (!p)
		return -1;
	struct ufile *uf = &u->files[u->n++];
	*uf = (struct ufile){.path = p};
	struct doc *d = doc_at_path(u->s, path);
	uint32_t id, err;
	if (d) {
		id = source_add(&u->cx.sm, path, d->text, d->len);
	} else {
		int r = source_load(&u->cx.sm, path, &err);
		if (r < 0)
			return -1;
		id = (uint32_t)r;
	}
	uf->f = source_get(&u->cx.sm, id);
	struct parse_opts opts = {0};
	uf->ast = parse_source(&u->cx.arena, &u->cx.diags, id, &opts);
	return (int)(u->n - 1);
}

/* The file d's text in u (an open document always reads). */
static size_t unit_doc(struct unit *u, struct doc *d)
{
	int i = unit_file(u, d->path);
	return i < 0 ? 0 : (size_t)i;
}

/* The path an import node of file i names (malloc'd), or NULL when n is not one. */
static char *import_path(struct unit *u, size_t i, struct ast_node *n)
{
	if (n->kind != N_IMPORT || !n->label || n->label->kind != EX_STRING || !n->label->str.s)
		return NULL;
	char *dir = path_dirname(u->files[i].path);
	char *p = path_join(dir, n->label->str.s);
	free(dir);
	return p;
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
	/* a name is a letter or '_', then letters, digits, '_' and '-' (restart-nginx) */
	size_t a = off, b = off;
	while (a > 0 && (is_word(d->text[a - 1]) || d->text[a - 1] == '-'))
		a--;
	while (b < d->len && (is_word(d->text[b]) || d->text[b] == '-'))
		b++;
	while (a < b && (d->text[a] == '-' || (d->text[a] >= '0' && d->text[a] <= '9')))
		a++;
	while (b > a && d->text[b - 1] == '-')
		b--;
	if (off < a || off > b)
		a = b = off;
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

/* The span of a declaration's name (its whole span when it has none). */
static struct src_span decl_span(struct ast_node *n)
{
	return n->name_span.end > n->name_span.start ? n->name_span : n->span;
}

static struct ast_node *top_decl(struct ast_file *ast, const char *name)
{
	for (struct ast_node *n = ast->items; n; n = n->next)
		if (is_decl(n->kind) && name_is(n, name))
			return n;
	return NULL;
}

/*
 * Walk the files file i imports and theirs, depth-first in import order,
 * each once: visit(u, j, ctx) for each, before what it imports. Stops and
 * returns true when visit does, or when an import names the path `stop`
 * (which is then not read).
 */
static bool walk_imports(struct unit *u, size_t i, const char *stop,
                         bool (*visit)(struct unit *u, size_t j, void *ctx), void *ctx)
{
	u->files[i].mark = u->gen;
	for (struct ast_node *n = u->files[i].ast->items; n; n = n->next) {
		char *p = import_path(u, i, n);
		if (!p)
			continue;
		bool hit = stop && !strcmp(p, stop);
		int j = hit ? -1 : unit_file(u, p);
		free(p);
		if (hit)
			return true;
		if (j < 0 || u->files[j].mark == u->gen)
			continue;
		if ((visit && visit(u, (size_t)j, ctx)) ||
		    walk_imports(u, (size_t)j, stop, visit, ctx))
			return true;
	}
	return false;
}

struct find_top {
	const char *name;
	struct decl *ret;
};

static bool visit_top_decl(struct unit *u, size_t j, void *ctx)
{
	struct find_top *ft = ctx;
	struct ast_node *m = top_decl(u->files[j].ast, ft->name);
	if (m)
		*ft->ret = (struct decl){j, m};
	return m != NULL;
}

/* The top-level declaration of name in the files file i imports and theirs, depth-first. */
static bool imported(struct unit *u, size_t i, const char *name, struct decl *ret)
{
	struct find_top ft = {name, ret};
	u->gen++;
	return walk_imports(u, i, NULL, visit_top_decl, &ft);
}

/* The declaration of name that off in file i sees: the file's own, else an import's. */
static bool resolve(struct unit *u, size_t i, size_t off, const char *name, struct decl *ret)
{
	struct ast_node *best = NULL;
	int depth = -1;
	find_decl(u->files[i].ast->items, off, name, 0, &best, &depth);
	if (best) {
		*ret = (struct decl){i, best};
		return true;
	}
	return imported(u, i, name, ret);
}

/* Whether file i imports path, directly or through its imports. */
static bool depends(struct unit *u, size_t i, const char *path)
{
	u->gen++;
	return walk_imports(u, i, path, NULL, NULL);
}

/* The URI of file i: an open document's own, else the file's. */
static char *unit_uri(struct unit *u, size_t i)
{
	struct doc *d = doc_at_path(u->s, u->files[i].path);
	return d ? strdup(d->uri) : uri_of(u->files[i].path);
}

static json_t *location_json(struct unit *u, size_t i, struct src_span sp)
{
	char *uri = unit_uri(u, i);
	json_t *r = json_pack("{s:s, s:o}", "uri", uri ? uri : "", "range",
	                      range_json(u->files[i].f, sp.start, sp.end));
	free(uri);
	return r;
}

/* ---- requests ---- */

/* A workspace folder's path, from a file:// URI. */
static void add_root(struct server *s, const char *uri)
{
	char *p = uri_path(uri);
	char **v = p ? realloc(s->roots, (s->nroots + 1) * sizeof *v) : NULL;
	if (!v) {
		free(p);
		return;
	}
	s->roots = v;
	s->roots[s->nroots++] = p;
}

static json_t *do_initialize(struct server *s, json_t *params)
{
	size_t i;
	json_t *f, *folders = member(params, "workspaceFolders");
	json_array_foreach (folders, i, f)
		add_root(s, json_string_value(json_object_get(f, "uri")));
	if (!s->nroots)
		add_root(s, json_string_value(member(params, "rootUri")));
	if (!s->nroots && json_is_string(member(params, "rootPath"))) {
		char *uri = uri_of(json_string_value(member(params, "rootPath")));
		add_root(s, uri);
		free(uri);
	}
	s->document_changes =
	    json_is_true(member(params, "capabilities.workspace.workspaceEdit.documentChanges"));

	json_t *caps =
	    json_pack("{s:{s:b, s:i}, s:b, s:{s:[s,s,s]}, s:b, s:b, s:b}", "textDocumentSync",
	              "openClose", 1, "change", 2, "hoverProvider", 1, "completionProvider",
	              "triggerCharacters", ".", "=", " ", "definitionProvider", 1,
	              "documentFormattingProvider", 1, "documentSymbolProvider", 1);
	json_object_set_new(caps, "referencesProvider", json_true());
	/* prepareRename only for a client that says it sends it */
	json_object_set_new(
	    caps, "renameProvider",
	    json_is_true(member(params, "capabilities.textDocument.rename.prepareSupport"))
	        ? json_pack("{s:b}", "prepareProvider", 1)
	        : json_true());
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

static json_t *do_symbols(struct server *s, struct doc *d)
{
	struct unit u;
	unit_init(&u, s);
	size_t i = unit_doc(&u, d);
	json_t *r = symbols(u.files[i].f, u.files[i].ast->items);
	unit_release(&u);
	return r;
}

/* A request at a name: the name, its span, and the document's unit (file `file`). */
struct at {
	char *word;
	size_t ws, we;
	struct unit u;
	size_t file;
};

/* The name at off in d and d's unit; false when no name is there. */
static bool at_open(struct server *s, struct doc *d, size_t off, struct at *a)
{
	a->word = word_at(d, off, &a->ws, &a->we);
	if (!a->word)
		return false;
	unit_init(&a->u, s);
	a->file = unit_doc(&a->u, d);
	return true;
}

static void at_close(struct at *a)
{
	free(a->word);
	unit_release(&a->u);
}

/* at_open, and the declaration of the name there in *dc; false (closed) when there is none. */
static bool at_decl(struct server *s, struct doc *d, size_t off, struct at *a, struct decl *dc)
{
	if (!at_open(s, d, off, a))
		return false;
	if (resolve(&a->u, a->file, off, a->word, dc))
		return true;
	at_close(a);
	return false;
}

static json_t *do_definition(struct server *s, struct doc *d, size_t off)
{
	struct at a;
	struct decl dc;
	if (!at_decl(s, d, off, &a, &dc))
		return json_null();
	json_t *r = location_json(&a.u, dc.file, decl_span(dc.node));
	at_close(&a);
	return r;
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

/*
 * Markdown for declaration dc of name, seen from file `from`: its kind, type
 * and where it is declared; a param's default and where its value comes
 * from, a let's value.
 */
static char *decl_markdown(struct unit *u, size_t from, struct decl dc, const char *name)
{
	struct ast_node *n = dc.node;
	struct source_file *f = u->files[dc.file].f;
	char *type = n->type && (n->kind == N_PARAM || n->kind == N_LET)
	                 ? span_text(f, n->type->span)
	                 : NULL;
	char *value = n->value && (n->kind == N_PARAM || n->kind == N_LET)
	                  ? span_text(f, n->value->span)
	                  : NULL;
	uint32_t line, col;
	source_position(f, decl_span(n).start, &line, &col);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		free(type);
		free(value);
		return NULL;
	}
	fprintf(m, "**%s %s**", ast_kind_name(n->kind), name);
	if (type)
		fprintf(m, ": `%s`", type);
	if (n->kind == N_PARAM && !value)
		fprintf(m, " (required)");
	if (dc.file == from)
		fprintf(m, "\n\nDeclared at line %u.", line);
	else
		fprintf(m, "\n\nDeclared in `%s`, line %u.", u->files[dc.file].path, line);
	if (n->kind == N_PARAM)
		fprintf(m, " Its value comes from `-var %s=VALUE`, a `-var-file`, `KILN_VAR_%s`%s.",
		        name, name, value ? ", else the default" : "");
	if (value)
		fprintf(m, "\n\n%s: `%s`", n->kind == N_PARAM ? "Default" : "Value", value);
	fclose(m);
	free(type);
	free(value);
	return buf;
}

static json_t *do_hover(struct server *s, struct doc *d, size_t off)
{
	struct at at;
	if (!at_open(s, d, off, &at))
		return json_null();
	const char *word = at.word;
	size_t ws = at.ws, we = at.we, i = at.file;
	struct source_file *f = at.u.files[i].f;
	struct ast_node *items = at.u.files[i].ast->items;
	json_t *r = NULL;
	struct ast_node *task = enclosing(items, off, N_TASK);
	const struct kiln_schema *sc = NULL;
	if (task && task->name.len) {
		char *mod = str_of(task->name);
		sc = stdlib_lookup(SCHEMA_MODULE, mod);
		free(mod);
	}
	if (sc && in_span(task->name_span, off)) {
		r = hover_json(f, schema_markdown(sc), ws, we);
	} else if (sc) {
		/* an argument's name: NAME = value inside the task */
		struct ast_node *attr = enclosing(task->body, off, N_ATTR);
		bool on_name = attr && in_span(attr->name_span, off);
		const struct kiln_arg *a = on_name ? stdlib_arg(sc, word) : NULL;
		if (a)
			r = hover_json(f, arg_markdown(sc, a), ws, we);
		for (const struct kiln_attr *t = stdlib_task_attrs; !r && on_name && t->name; t++) {
			char *md;
			if (!strcmp(t->name, word) &&
			    asprintf(&md, "**%s**: `%s` (every task)\n\n%s", t->name, t->type,
			             t->doc) >= 0)
				r = hover_json(f, md, ws, we);
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
			r = hover_json(f, schema_markdown(fn), ws, we);
	}
	struct decl dc;
	if (!r && resolve(&at.u, i, off, word, &dc))
		r = hover_json(f, decl_markdown(&at.u, i, dc, word), ws, we);
	at_close(&at);
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

static bool visit_add_names(struct unit *u, size_t j, void *items)
{
	add_names(items, u->files[j].ast->items, SIZE_MAX);
	return false;
}

/* The names in scope at off in file i: its own, then its imports'. */
static void add_scope(struct unit *u, size_t i, json_t *items, size_t off)
{
	add_names(items, u->files[i].ast->items, off);
	u->gen++;
	walk_imports(u, i, NULL, visit_add_names, items);
}

static json_t *do_completion(struct server *s, struct doc *d, size_t off)
{
	struct unit u;
	unit_init(&u, s);
	size_t ui = unit_doc(&u, d);
	struct ast_node *top = u.files[ui].ast->items;
	json_t *items = json_array();
	struct ast_node *task = enclosing(top, off, N_TASK);
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
		add_handlers(items, top, off);
	} else if (sc && eq) {
		/* after NAME = : the argument's enum values, and names in scope */
		const struct kiln_arg *ka = arg ? stdlib_arg(sc, arg) : NULL;
		if (ka)
			add_enum_values(items, ka->type);
		add_scope(&u, ui, items, off);
	} else if (sc) {
		for (const struct kiln_arg *a = sc->args; a && a->name; a++)
			add_item(items, a->name, 5, a->type, a->doc);
		add_attrs(items, stdlib_task_attrs);
	} else if (eq) {
		add_scope(&u, ui, items, off);
		const struct kiln_schema *const *fns;
		size_t n = stdlib_all(SCHEMA_FUNCTION, &fns);
		for (size_t i = 0; i < n; i++)
			add_item(items, fns[i]->name, 3, "function", fns[i]->doc);
	} else if (enclosing(top, off, N_CONFIG)) {
		add_attrs(items, stdlib_config_attrs);
	} else {
		const struct kiln_schema *const *mods;
		size_t n = stdlib_all(SCHEMA_MODULE, &mods);
		for (size_t i = 0; i < n; i++)
			add_item(items, mods[i]->name, 9, "module", mods[i]->doc);
		add_scope(&u, ui, items, off);
		for (const struct kiln_attr *k = stdlib_keywords; k->name; k++)
			add_item(items, k->name, 14, "keyword", k->doc);
	}
	free(arg);
	unit_release(&u);
	return json_pack("{s:b, s:o}", "isIncomplete", 0, "items", items);
}

/* ---- references, rename, code actions ---- */

/* A place that names a declaration: a span of file `file` of a unit. */
struct ref {
	size_t file;
	struct src_span sp;
};

struct refs {
	struct unit *u;
	const char *name;
	struct decl target;
	size_t file;    /* the file searched */
	int via_import; /* whether the names it does not declare are the target's: -1 not known */
	struct ref *v;
	size_t n, cap;
};

static void refs_add(struct refs *r, struct src_span sp)
{
	struct ast_node *best = NULL;
	int depth = -1;
	find_decl(r->u->files[r->file].ast->items, sp.start, r->name, 0, &best, &depth);
	if (best && best != r->target.node)
		return;
	if (!best) {
		if (r->via_import < 0) {
			struct decl dc;
			r->via_import =
			    imported(r->u, r->file, r->name, &dc) && dc.node == r->target.node;
		}
		if (!r->via_import)
			return;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ref *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct ref){r->file, sp};
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
		if (n == r->target.node ||
		    ((n->kind == N_USE || n->kind == N_GROUP_REF) && name_is(n, r->name)))
			refs_add(r, decl_span(n));
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

static void refs_search(struct refs *r, size_t file)
{
	r->u->files[file].searched = true;
	r->file = file;
	r->via_import = -1;
	refs_nodes(r, r->u->files[file].ast->items);
}

static void add_path(char ***v, size_t *n, char *p)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv) {
		free(p);
		return;
	}
	*v = nv;
	(*v)[(*n)++] = p;
}

/* How much of the workspace folders references and rename look at. */
enum { WS_MAX_FILES = 10000, WS_MAX_ENTRIES = 200000, WS_MAX_DEPTH = 32 };

/*
 * The .img files below dir, outside hidden folders and without following
 * symbolic links to folders, while *budget (directory entries) lasts and
 * the list holds fewer than WS_MAX_FILES.
 */
static void list_imgs(const char *dir, int depth, char ***v, size_t *n, size_t *budget)
{
	DIR *dp = depth < WS_MAX_DEPTH ? opendir(dir) : NULL;
	if (!dp)
		return;
	for (struct dirent *e; *budget && *n < WS_MAX_FILES && (e = readdir(dp));) {
		(*budget)--;
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		char *p = path_join(dir, e->d_name);
		if (e->d_type == DT_DIR) {
			list_imgs(p, depth + 1, v, n, budget);
		} else if (l > 4 && !strcmp(e->d_name + l - 4, ".img")) {
			add_path(v, n, p);
			p = NULL;
		}
		free(p);
	}
	closedir(dp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every place that names the declaration of the name at off in d: in the
 * file that declares it and, when it is a top-level declaration, in every
 * open document and every .img file of the workspace folders that imports
 * that file, directly or through others.
 */
static bool find_refs(struct unit *u, struct doc *d, size_t off, struct refs *r)
{
	size_t ws, we;
	char *word = word_at(d, off, &ws, &we);
	*r = (struct refs){.u = u, .name = word};
	if (!word || !resolve(u, unit_doc(u, d), off, word, &r->target))
		return false;
	refs_search(r, r->target.file);
	if (top_decl(u->files[r->target.file].ast, word) != r->target.node)
		return true; /* inside a role or an image: only its file sees it */
	struct server *s = u->s;
	char **paths = NULL;
	size_t np = 0, budget = WS_MAX_ENTRIES;
	for (size_t i = 0; i < s->ndocs; i++)
		add_path(&paths, &np, strdup(s->docs[i].path));
	size_t nopen = np;
	for (size_t i = 0; i < s->nroots; i++)
		list_imgs(s->roots[i], 0, &paths, &np, &budget);
	qsort(paths + nopen, np - nopen, sizeof *paths, cmp_str);
	char *tpath = strdup(u->files[r->target.file].path);
	for (size_t i = 0; i < np; i++) {
		int j = paths[i] && tpath ? unit_file(u, paths[i]) : -1;
		if (j >= 0 && !u->files[j].searched && depends(u, (size_t)j, tpath))
			refs_search(r, (size_t)j);
		free(paths[i]);
	}
	free(paths);
	free(tpath);
	return true;
}

static json_t *do_references(struct server *s, struct doc *d, size_t off, json_t *params)
{
	struct unit u;
	unit_init(&u, s);
	struct refs r;
	json_t *list = json_array();
	bool with_decl = json_is_true(member(params, "context.includeDeclaration"));
	if (find_refs(&u, d, off, &r)) {
		struct src_span ds = decl_span(r.target.node);
		for (size_t i = 0; i < r.n; i++) {
			if (!with_decl && r.v[i].file == r.target.file &&
			    r.v[i].sp.start == ds.start)
				continue;
			json_array_append_new(list, location_json(&u, r.v[i].file, r.v[i].sp));
		}
	}
	free(r.v);
	free((char *)r.name);
	unit_release(&u);
	return list;
}

/* The words the lexer keeps for itself, and facts: not names a rename may give. */
static const char *const reserved[] = {
    "param",     "let",   "import", "role",  "image",  "from",   "stage", "handler",
    "for",       "in",    "when",   "use",   "config", "output", "test",  "hosts",
    "inventory", "apply", "true",   "false", "null",   "object", "facts", NULL,
};

static bool valid_name(const char *name)
{
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      name[0] == '_'))
		return false;
	for (const char *c = name; *c; c++)
		if (!is_word(*c) && *c != '-')
			return false;
	for (const char *const *k = reserved; *k; k++)
		if (!strcmp(*k, name))
			return false;
	return true;
}

/*
 * Whether new_name is already taken where the references are: a declaration
 * of it that one of them would then name instead (in its scope or an
 * import), or a top-level one in a file that sees the target's file. Says
 * where in *e.
 */
static bool name_taken(struct unit *u, struct refs *r, const char *new_name, struct rpc_err *e)
{
	struct decl other = {0};
	bool taken = false;
	bool top = top_decl(u->files[r->target.file].ast, r->name) == r->target.node;
	struct src_span ds = decl_span(r->target.node);
	for (size_t i = 0; i < r->n && !taken; i++) {
		size_t off = r->v[i].sp.start;
		/* the declaration itself: what the block around it declares, not what it does */
		if (r->v[i].file == r->target.file && off == ds.start)
			off = top || !r->target.node->span.start ? SIZE_MAX
			                                         : r->target.node->span.start - 1;
		taken = resolve(u, r->v[i].file, off, new_name, &other);
	}
	for (size_t j = 0; j < u->n && !taken && top; j++) {
		if (u->files[j].searched && (other.node = top_decl(u->files[j].ast, new_name)))
			other.file = j, taken = true;
	}
	if (taken) {
		uint32_t line, col;
		source_position(u->files[other.file].f, decl_span(other.node).start, &line, &col);
		e->code = RPC_REQUEST_FAILED;
		snprintf(e->msg, sizeof e->msg,
		         "params.newName: '%s' is already taken: %s %s is declared at %s:%u:%u "
		         "and would be confused with it; choose another name",
		         new_name, ast_kind_name(other.node->kind), new_name,
		         u->files[other.file].path, line, col);
	}
	return taken;
}

/* The WorkspaceEdit that writes new_name at every reference, file by file. */
static json_t *rename_edit(struct server *s, struct unit *u, struct refs *r, const char *new_name)
{
	json_t *changes = json_object(), *doc_changes = json_array();
	for (size_t j = 0; j < u->n; j++) {
		json_t *edits = json_array();
		for (size_t i = 0; i < r->n; i++)
			if (r->v[i].file == j)
				json_array_append_new(
				    edits, json_pack("{s:o, s:s}", "range",
				                     range_json(u->files[j].f, r->v[i].sp.start,
				                                r->v[i].sp.end),
				                     "newText", new_name));
		if (!json_array_size(edits)) {
			json_decref(edits);
			continue;
		}
		char *uri = unit_uri(u, j);
		struct doc *d = doc_at_path(s, u->files[j].path);
		json_t *version = d && d->version >= 0 ? json_integer(d->version) : json_null();
		json_array_append_new(doc_changes, json_pack("{s:{s:s, s:o}, s:O}", "textDocument",
		                                             "uri", uri ? uri : "", "version",
		                                             version, "edits", edits));
		json_object_set_new(changes, uri ? uri : "", edits);
		free(uri);
	}
	if (s->document_changes) {
		json_decref(changes);
		return json_pack("{s:o}", "documentChanges", doc_changes);
	}
	json_decref(doc_changes);
	return json_pack("{s:o}", "changes", changes);
}

/* The name at off and its range when it can be renamed, else null. */
static json_t *do_prepare_rename(struct server *s, struct doc *d, size_t off)
{
	struct at a;
	struct decl dc;
	if (!at_decl(s, d, off, &a, &dc))
		return json_null();
	json_t *r = json_pack("{s:o, s:s}", "range",
	                      range_json(a.u.files[a.file].f, (uint32_t)a.ws, (uint32_t)a.we),
	                      "placeholder", a.word);
	at_close(&a);
	return r;
}

static json_t *do_rename(struct server *s, struct doc *d, size_t off, json_t *params,
                         struct rpc_err *e)
{
	const char *new_name;
	if (!get_string(params, "newName", &new_name, e))
		return NULL;
	if (!valid_name(new_name)) {
		fail(e, RPC_INVALID_PARAMS,
		     "params.newName: '%s' is not a name (a letter or '_', then letters, digits, "
		     "'_' and '-'; not a keyword)",
		     new_name);
		return NULL;
	}
	struct unit u;
	unit_init(&u, s);
	struct refs r;
	json_t *res = NULL;
	if (!find_refs(&u, d, off, &r))
		fail(e, RPC_REQUEST_FAILED, "%s",
		     "no param, let, role, handler, image, stage or hosts group here to rename");
	else if (strcmp(new_name, r.name) && name_taken(&u, &r, new_name, e))
		res = NULL;
	else
		res = rename_edit(s, &u, &r, new_name);
	free(r.v);
	free((char *)r.name);
	unit_release(&u);
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

static json_int_t doc_version(json_t *params)
{
	json_t *v = member(params, "textDocument.version");
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* The paths open document d imports, parsed once per text. */
static void doc_imports(struct doc *d)
{
	if (d->imports_known)
		return;
	d->imports_known = true;
	struct compile_ctx cx;
	compile_ctx_init(&cx, 0);
	uint32_t id = source_add(&cx.sm, d->path, d->text, d->len);
	struct parse_opts opts = {0};
	struct ast_file *ast = parse_source(&cx.arena, &cx.diags, id, &opts);
	char *dir = path_dirname(d->path);
	for (struct ast_node *n = ast->items; n; n = n->next)
		if (n->kind == N_IMPORT && n->label && n->label->kind == EX_STRING &&
		    n->label->str.s)
			add_path(&d->imports, &d->nimports, path_join(dir, n->label->str.s));
	free(dir);
	compile_ctx_release(&cx);
}

/*
 * Whether the file `from` imports target, directly or through other files:
 * an open document's imports as doc_imports() knows them, another file's
 * read and parsed in u. seen: the files walked so far.
 */
static bool imports_path(struct unit *u, const char *from, const char *target, char ***seen,
                         size_t *nseen)
{
	for (size_t i = 0; i < *nseen; i++)
		if (!strcmp((*seen)[i], from))
			return false;
	add_path(seen, nseen, strdup(from));
	struct doc *d = doc_at_path(u->s, from);
	char **v = NULL, **owned = NULL;
	size_t n = 0, nowned = 0;
	if (d) {
		doc_imports(d);
		v = d->imports;
		n = d->nimports;
	} else {
		int j = unit_file(u, from);
		for (struct ast_node *x = j >= 0 ? u->files[j].ast->items : NULL; x; x = x->next) {
			char *p = import_path(u, (size_t)j, x);
			if (p)
				add_path(&owned, &nowned, p);
		}
		v = owned;
		n = nowned;
	}
	bool hit = false;
	for (size_t i = 0; i < n && !hit; i++)
		hit = !strcmp(v[i], target) || imports_path(u, v[i], target, seen, nseen);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	return hit;
}

/*
 * Mark stale the open documents (but `except`) that import path, directly or
 * through other files: its text changed, or it was closed and is read from
 * disk again. Their diagnostics are published again once no message waits
 * (lsp_serve), so typing in an imported file is answered at the speed of
 * its own re-check.
 */
static void mark_importers(struct server *s, const char *path, struct doc *except)
{
	struct unit u;
	unit_init(&u, s);
	for (size_t i = 0; i < s->ndocs; i++) {
		char **seen = NULL;
		size_t nseen = 0;
		if (&s->docs[i] != except &&
		    imports_path(&u, s->docs[i].path, path, &seen, &nseen)) {
			if (!s->stale_since)
				s->stale_since = now_ms();
			s->docs[i].stale = true;
		}
		for (size_t k = 0; k < nseen; k++)
			free(seen[k]);
		free(seen);
	}
	unit_release(&u);
}

static void forget_imports(struct doc *d)
{
	for (size_t i = 0; i < d->nimports; i++)
		free(d->imports[i]);
	free(d->imports);
	d->imports = NULL;
	d->nimports = 0;
	d->imports_known = false;
}

static bool did_open(struct server *s, json_t *params, struct rpc_err *e)
{
	const char *uri, *text;
	if (!get_string(params, "textDocument.uri", &uri, e) ||
	    !get_string(params, "textDocument.text", &text, e))
		return false;
	/* untitled:...: linted under that name, imports from the cwd */
	char *path = uri_path(uri);
	if (!path)
		path = strdup(uri);
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
		forget_imports(d);
	}
	d->path = path;
	d->len = json_string_length(member(params, "textDocument.text"));
	d->text = malloc(d->len + 1);
	memcpy(d->text, text, d->len);
	d->text[d->len] = 0;
	d->version = doc_version(params);
	publish_diagnostics(s, d);
	mark_importers(s, d->path, d);
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
	d->version = doc_version(params);
	forget_imports(d);
	publish_diagnostics(s, d);
	mark_importers(s, d->path, d);
	return true;
}

static bool did_close(struct server *s, json_t *params, struct rpc_err *e)
{
	struct doc *d = request_doc(s, params, e);
	if (!d)
		return false;
	char *uri = d->uri, *path = d->path;
	free(d->text);
	forget_imports(d);
	*d = s->docs[--s->ndocs];
	/* clear what the editor shows for it */
	send_notification(s, "textDocument/publishDiagnostics",
	                  json_pack("{s:s, s:[]}", "uri", uri, "diagnostics"));
	/* its importers read it from disk again */
	mark_importers(s, path, NULL);
	free(uri);
	free(path);
	return true;
}

/* Workspace folders added and removed (params.event.added, .removed). */
static bool did_change_folders(struct server *s, json_t *params, struct rpc_err *e)
{
	json_t *added = member(params, "event.added"), *removed = member(params, "event.removed");
	if (!json_is_array(added) || !json_is_array(removed))
		return fail(e, RPC_INVALID_PARAMS, "%s",
		            "params.event.added, params.event.removed: expected arrays");
	size_t i;
	json_t *f;
	json_array_foreach (removed, i, f) {
		char *n = uri_path(json_string_value(json_object_get(f, "uri")));
		for (size_t k = 0; n && k < s->nroots; k++) {
			if (!strcmp(s->roots[k], n)) {
				free(s->roots[k]);
				s->roots[k--] = s->roots[--s->nroots];
			}
		}
		free(n);
	}
	json_array_foreach (added, i, f)
		add_root(s, json_string_value(json_object_get(f, "uri")));
	return true;
}

/* Files changed on disk (params.changes[].uri): their open importers are checked again. */
static bool did_change_files(struct server *s, json_t *params, struct rpc_err *e)
{
	json_t *changes = json_object_get(params, "changes");
	if (!json_is_array(changes))
		return fail(e, RPC_INVALID_PARAMS, "%s", "params.changes: expected an array");
	size_t i;
	json_t *c;
	json_array_foreach (changes, i, c) {
		char *n = uri_path(json_string_value(json_object_get(c, "uri")));
		/* an open document is the editor's text, whatever the disk says */
		if (n && !doc_at_path(s, n))
			mark_importers(s, n, NULL);
		free(n);
	}
	return true;
}

/* ---- dispatch ---- */

/* A request's answer: its result (new reference), or NULL with *e set. */
static json_t *request(struct server *s, const char *method, json_t *params, struct rpc_err *e)
{
	if (!strcmp(method, "initialize")) {
		s->initialized = true;
		return do_initialize(s, params);
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
	    "textDocument/rename",     "textDocument/prepareRename",  "textDocument/codeAction",
	};
	size_t which = 0, nreq = sizeof doc_requests / sizeof *doc_requests;
	while (which < nreq && strcmp(method, doc_requests[which]))
		which++;
	if (which == nreq) {
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
	if (which != 3 && which != 4 && which != 8 && !request_offset(d, params, &off, e))
		return NULL;
	switch (which) {
	case 0:
		return do_hover(s, d, off);
	case 1:
		return do_completion(s, d, off);
	case 2:
		return do_definition(s, d, off);
	case 3:
		return do_formatting(d, e);
	case 4:
		return do_symbols(s, d);
	case 5:
		return do_references(s, d, off, params);
	case 6:
		return do_rename(s, d, off, params, e);
	case 7:
		return do_prepare_rename(s, d, off);
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
	else if (!strcmp(method, "workspace/didChangeWorkspaceFolders"))
		ok = did_change_folders(s, params, &e);
	else if (!strcmp(method, "workspace/didChangeWatchedFiles"))
		ok = did_change_files(s, params, &e);
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
	json_t *msg = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
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

/* Whether a message waits on in (a stream without a descriptor: never). */
static bool input_waits(FILE *in)
{
	int fd = fileno(in);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return fd >= 0 && poll(&p, 1, 0) > 0;
}

/* Publish the diagnostics of one stale document; false when none is. */
static bool publish_stale(struct server *s)
{
	for (size_t i = 0; i < s->ndocs; i++) {
		if (s->docs[i].stale) {
			s->docs[i].stale = false;
			publish_diagnostics(s, &s->docs[i]);
			return true;
		}
	}
	s->stale_since = 0;
	return false;
}

/* Whether stale documents have waited too long for a pause in the input. */
static bool stale_overdue(struct server *s)
{
	return s->stale_since && now_ms() - s->stale_since > LSP_STALE_MAX_MS;
}

int lsp_serve(FILE *in, FILE *out)
{
	struct server s = {.in = in, .out = out};
	/* unbuffered, so that poll() on its descriptor tells whether a message waits */
	setvbuf(in, NULL, _IONBF, 0);
	while (!s.exited) {
		while ((!input_waits(in) || stale_overdue(&s)) && publish_stale(&s))
			;
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
		forget_imports(&s.docs[i]);
	}
	free(s.docs);
	for (size_t i = 0; i < s.nroots; i++)
		free(s.roots[i]);
	free(s.roots);
	return s.exited && s.shutdown ? 0 : 1;
}
