/*
 * compile: the front half of kiln, in order. Input: the files named on the
 * command line and their options. Output: diagnostics, and for compile the
 * plan. Invariant: a program with errors is never lowered.
 *
 *   load      read each file and every file it imports (E0xxx, E2008)
 *   parse     tokens -> AST, structure (E1xxx)
 *   declare   the top-level names of every file (E2003)
 *   check     names and types, module arguments (E2xxx, E3xxx)
 *   order     images by their 'from' edges (E2007)
 *   vars      params' values from -var, -var-file, KILN_VAR_, defaults (E4xxx)
 *   lower     the plan (E4xxx)
 */
#include "compile.h"

#include "ast.h"
#include "eval.h"
#include "inventory.h"
#include "lower.h"
#include "plan_json.h"
#include "parse.h"
#include "path.h"
#include "program.h"
#include "vars.h"

#include <errno.h>
#include <stdlib.h>
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

void compile_set_stdin(struct compile_ctx *cx, const char *name, const char *text, size_t len)
{
	cx->stdin_id = source_add(&cx->sm, name, text, len) + 1;
}

/* Read path; on failure queue E0001-E0003 (with a label at `from`, an import) and return -1. */
static int load(struct compile_ctx *cx, const char *path, const struct src_span *from,
                uint32_t *ret_id)
{
	/* a text the caller put in the source map itself (kiln run's task: "<kiln run>", the
	   language server's open documents) */
	for (uint32_t i = 0; i < cx->sm.n; i++) {
		if (cx->sm.files[i]->loaded && !strcmp(cx->sm.files[i]->name, path)) {
			*ret_id = i;
			return 0;
		}
	}
	uint32_t err_id = 0;
	if (cx->stdin_id && !strcmp(source_get(&cx->sm, cx->stdin_id - 1)->name, path)) {
		*ret_id = cx->stdin_id - 1;
		return 0;
	}
	for (size_t i = 0; i < cx->ntexts; i++) {
		if (!strcmp(cx->texts[i].name, path)) {
			*ret_id = source_add(&cx->sm, path, cx->texts[i].text, cx->texts[i].len);
			return 0;
		}
	}
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
		d = diag_file_error(&cx->diags, E_FILE_TOO_LARGE, err_id,
		                    "file is larger than %u MiB", SOURCE_MAX_SIZE / (1024 * 1024));
		break;
	case EINVAL:
		d = diag_file_error(&cx->diags, E_FILE_UNREADABLE, err_id,
		                    "not a regular file (a device, socket or pipe)");
		break;
	default:
		d = diag_file_error(&cx->diags, E_FILE_UNREADABLE, err_id, "cannot read: %s",
		                    strerror(-r));
		if (-r == ENOENT)
			diag_help(d,
			          from ? "the path of an import is relative to the file that "
			                 "imports it"
			               : "check the path; it is relative to the current directory");
		break;
	}
	if (from)
		diag_label(d, *from, "imported here");
	return -1;
}

/* ---- one file alone: lint --dump, lint --syntax-only --------------------- */

static int dump_file(struct compile_ctx *cx, const char *path, const struct compile_opts *opts)
{
	uint32_t id;
	if (load(cx, path, NULL, &id) < 0)
		return -1;
	struct parse_opts po = {0};
	if (opts->dump == DUMP_NONE) {
		parse_source(&cx->arena, &cx->diags, id, &po);
		return 0;
	}
	if (opts->dump == DUMP_TOKENS)
		po.dump_tokens = opts->dump_out;
	struct ast_file *ast = parse_source(&cx->arena, &cx->diags, id, &po);
	if (opts->dump == DUMP_AST)
		ast_dump(opts->dump_out, source_get(&cx->sm, id), ast);
	return 0;
}

/* ---- the program ------------------------------------------------------- */

static struct symbol facts_symbol = {.name = "facts", .kind = SYM_FACTS, .used = true};

static void add_file(struct program *p, struct ast_file *f)
{
	p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
	p->files[p->nfiles++] = f;
}

static struct ast_file *parse_path(struct program *p, const char *path, const struct src_span *from)
{
	uint32_t id;
	if (load(p->cx, path, from, &id) < 0)
		return NULL;
	struct ast_file *f = parse_source(p->a, &p->cx->diags, id, NULL);
	char *dir = path_dirname(path);
	f->dir = arena_strdup(p->a, dir);
	free(dir);
	return f;
}

static int file_index(struct program *p, const char *path)
{
	char *norm = path_normalize(path);
	int found = -1;
	for (uint32_t i = 0; i < p->nfiles && found < 0; i++) {
		char *other = path_normalize(source_get(&p->cx->sm, p->files[i]->file)->name);
		if (!strcmp(other, norm))
			found = (int)i;
		free(other);
	}
	free(norm);
	return found;
}

/* Where file i's imports lead: the index of each, or -1 (unreadable). */
struct import_edge {
	uint32_t from, to;
	struct ast_node *node;
};

static void report_import_cycles(struct program *p, struct import_edge *edges, size_t nedges)
{
	/* colour each file: 0 new, 1 on the path, 2 done; a back edge is a cycle */
	uint8_t *colour = xcalloc(p->nfiles, 1);
	uint32_t *stack = xmalloc(p->nfiles * sizeof(*stack));
	size_t *next = xcalloc(p->nfiles, sizeof(*next));
	for (uint32_t root = 0; root < p->nfiles; root++) {
		if (colour[root])
			continue;
		size_t depth = 0;
		stack[depth++] = root;
		colour[root] = 1;
		while (depth) {
			uint32_t f = stack[depth - 1];
			size_t e = next[f];
			while (e < nedges && edges[e].from != f)
				e++;
			if (e == nedges) {
				colour[f] = 2;
				depth--;
				continue;
			}
			next[f] = e + 1;
			uint32_t to = edges[e].to;
			if (colour[to] == 1) {
				struct strbuf sb = STRBUF_INIT;
				size_t k = 0;
				while (stack[k] != to)
					k++;
				for (size_t i = k; i < depth; i++)
					sb_addf(
					    &sb, "%s -> ",
					    source_get(&p->cx->sm, p->files[stack[i]]->file)->name);
				sb_adds(&sb, source_get(&p->cx->sm, p->files[to]->file)->name);
				diag_help(diag_error(&p->cx->diags, E_IMPORT_CYCLE,
				                     edges[e].node->span,
				                     "files import each other: %s", sb.buf),
				          "move what both need into a third file that both import");
				sb_release(&sb);
			} else if (colour[to] == 0) {
				colour[to] = 1;
				stack[depth++] = to;
			}
		}
	}
	free(colour);
	free(stack);
	free(next);
}

/* Load the main files, then what they import, breadth first. */
static void load_program(struct program *p, const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (file_index(p, paths[i]) >= 0)
			continue;
		struct ast_file *f = parse_path(p, paths[i], NULL);
		if (f)
			add_file(p, f);
	}
	p->nmain = p->nfiles;
	struct import_edge *edges = NULL;
	size_t nedges = 0;
	for (uint32_t i = 0; i < p->nfiles; i++) {
		for (struct ast_node *imp = p->files[i]->items; imp; imp = imp->next) {
			if (imp->kind != N_IMPORT)
				continue;
			if (imp->label->kind != EX_STRING) {
				diag_help(diag_error(&p->cx->diags, E_TYPE_MISMATCH,
				                     imp->label->span,
				                     "an import's path must be a plain string"),
				          "write the path without ${...}");
				continue;
			}
			char *path = path_join(p->files[i]->dir, imp->label->str.s);
			int to = file_index(p, path);
			if (to < 0) {
				struct ast_file *f = parse_path(p, path, &imp->label->span);
				if (f) {
					add_file(p, f);
					to = (int)p->nfiles - 1;
				}
			}
			free(path);
			if (to >= 0) {
				edges = xrealloc(edges, (nedges + 1) * sizeof(*edges));
				edges[nedges++] = (struct import_edge){i, (uint32_t)to, imp};
			}
		}
	}
	report_import_cycles(p, edges, nedges);
	free(edges);
}

/* Read an Ansible INI inventory into inv: every inventory of the program (`inventory
   "FILE"` lines, then -i FILE) is one, as Ansible merges the inventories it is given. */
static void read_inventory(struct program *p, const char *path, const struct src_span *from,
                           struct inventory *inv)
{
	uint32_t id;
	if (load(p->cx, path, from, &id) < 0)
		return;
	struct source_file *src = source_get(&p->cx->sm, id);
	uint32_t line = 0, col = 0;
	char *msg = NULL;
	char *rel = path_relative(p->root, src->name);
	inventory_set_source(inv, rel);
	free(rel);
	if (inventory_read_ini(inv, src->text, src->len, &line, &col, &msg) < 0) {
		uint32_t start, len;
		source_line(src, line, &start, &len);
		start += col - 1 < len ? col - 1 : 0;
		diag_error(&p->cx->diags, E_BAD_VAR_FILE, (struct src_span){id, start, start + 1},
		           "not an Ansible INI inventory: %s", msg);
		free(msg);
	}
}

/* The groups of the program's inventories, declared at the first `inventory` line. */
static void declare_inventory(struct program *p, struct inventory *inv, struct src_span span)
{
	json_t *groups = inventory_plan_groups(inv);
	const char *name;
	json_t *g;
	json_object_foreach (groups, name, g) {
		struct symbol *s =
		    scope_declare(p, &p->globals, arena_strdup(p->a, name), SYM_GROUP, NULL, span);
		if (!s->inventory && !s->decl)
			s->inventory = json_incref(g);
	}
	json_decref(groups);
}

static void declare_globals(struct program *p, const struct compile_opts *opts)
{
	struct inventory *inv = NULL;
	struct src_span inv_span = {0};
	for (uint32_t i = 0; i < p->nfiles; i++) {
		for (struct ast_node *n = p->files[i]->items; n; n = n->next) {
			enum sym_kind kind;
			switch (n->kind) {
			case N_PARAM:
				kind = SYM_PARAM;
				break;
			case N_LET:
				kind = SYM_LET;
				break;
			case N_ROLE:
				kind = SYM_ROLE;
				break;
			case N_IMAGE:
				kind = SYM_IMAGE;
				break;
			case N_HOSTS:
				kind = SYM_GROUP;
				break;
			case N_INVENTORY:
				if (n->label->kind != EX_STRING) {
					diag_error(&p->cx->diags, E_TYPE_MISMATCH, n->label->span,
					           "an inventory's path must be a plain string");
					continue;
				}
				if (!inv) {
					inv = inventory_new();
					inventory_require_names(inv);
					inv_span = n->span;
				}
				char *path = path_join(p->files[i]->dir, n->label->str.s);
				read_inventory(p, path, &n->label->span, inv);
				free(path);
				continue;
			default:
				continue;
			}
			scope_declare(p, &p->globals, n->name.s, kind, n, n->name_span);
		}
	}
	for (size_t i = 0; opts && i < opts->ninventories; i++) {
		if (!inv) {
			inv = inventory_new();
			inventory_require_names(inv);
			inv_span = (struct src_span){p->cmdline, 0, 0};
		}
		read_inventory(p, opts->inventories[i], NULL, inv);
	}
	if (inv)
		declare_inventory(p, inv, inv_span);
	inventory_free(inv);
}

/* -var-file FILE: kiln syntax (NAME = VALUE lines) or, for *.json or text starting with '{', JSON.
 */
static void load_var_file(struct program *p, const char *path)
{
	uint32_t id;
	if (load(p->cx, path, NULL, &id) < 0)
		return;
	struct source_file *src = source_get(&p->cx->sm, id);
	src->sensitive = true; /* its values may be secrets: never shown in a diagnostic */
	const char *t = src->text;
	while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
		t++;
	size_t plen = strlen(path);
	if (*t == '{' || (plen > 5 && !strcmp(path + plen - 5, ".json"))) {
		json_error_t err;
		json_t *j = json_loadb(src->text, src->len, 0, &err);
		if (!j || !json_is_object(j)) {
			uint32_t off = j ? 0 : (uint32_t)err.position;
			diag_error(&p->cx->diags, E_BAD_VAR_FILE, (struct src_span){id, off, off},
			           "var-file is not a JSON object: %s",
			           j ? "found another value" : err.text);
			json_decref(j);
			return;
		}
		const char *k;
		json_t *v;
		json_object_foreach (j, k, v) {
			p->vars = xrealloc(p->vars, (p->nvars + 1) * sizeof(*p->vars));
			p->vars[p->nvars++] = (struct var_setting){.name = arena_strdup(p->a, k),
			                                           .json = json_incref(v),
			                                           .origin = src->name};
		}
		json_decref(j);
		return;
	}
	struct parse_opts po = {.var_file = true};
	struct ast_file *f = parse_source(p->a, &p->cx->diags, id, &po);
	for (struct ast_node *n = f->items; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		check_standalone(p, n->value);
		p->vars = xrealloc(p->vars, (p->nvars + 1) * sizeof(*p->vars));
		p->vars[p->nvars++] = (struct var_setting){
		    .name = n->name.s, .expr = n->value, .origin = src->name, .span = n->span};
	}
}

static void program_init(struct program *p, struct compile_ctx *cx)
{
	*p = (struct program){.cx = cx, .a = &cx->arena, .globals = {.names = HASHMAP_INIT}};
	p->facts = &facts_symbol;
	p->cmdline = UINT32_MAX;
	for (uint32_t i = 0; i < cx->sm.n; i++)
		if (!strcmp(cx->sm.files[i]->name, "<command line>"))
			p->cmdline = i;
	if (p->cmdline == UINT32_MAX)
		p->cmdline = source_add(&cx->sm, "<command line>", "", 0);
}

static void program_release(struct program *p)
{
	for (uint32_t i = 0; i < hashmap_len(&p->globals.names); i++) {
		struct symbol *s = hashmap_at(&p->globals.names, i)->value;
		val_release(&s->value);
		json_decref(s->inventory);
	}
	for (uint32_t i = 0; i < p->nvars; i++)
		json_decref(p->vars[i].json);
	free(p->vars);
	hashmap_release(&p->var_index);
	json_decref(p->secrets);
	hashmap_release(&p->globals.names);
	free(p->files);
}

/* The -var and -var-file settings, in command-line order (var-files are read here). */
static void add_settings(struct program *p, const struct compile_opts *opts)
{
	for (size_t i = 0; opts && i < opts->nvars; i++) {
		const struct compile_var *v = &opts->vars[i];
		if (v->file) {
			load_var_file(p, v->file);
			continue;
		}
		p->vars = xrealloc(p->vars, (p->nvars + 1) * sizeof(*p->vars));
		p->vars[p->nvars++] =
		    (struct var_setting){.name = v->name, .text = v->value, .origin = "var"};
	}
}

/* Load, parse, declare, check: what lint and compile share. */
static void front(struct program *p, const char *const *paths, size_t n,
                  const struct compile_opts *opts)
{
	load_program(p, paths, n);
	char *root = path_dirname(n ? paths[0] : ".");
	p->root = arena_strdup(p->a, root);
	free(root);
	declare_globals(p, opts);
	check_program(p);
	lower_check_images(p);
}

/* The lower_opts of compile options. */
static struct lower_opts lower_opts_of(const struct compile_opts *opts)
{
	struct lower_opts lo = {0};
	if (opts) {
		lo.only = opts->only;
		lo.nonly = opts->nonly;
		lo.except = opts->except;
		lo.nexcept = opts->nexcept;
	}
	return lo;
}

int kiln_lint_source(struct compile_ctx *cx, uint32_t file)
{
	unsigned errors = cx->diags.nerrors;
	struct program p;
	program_init(&p, cx);
	struct ast_file *f = parse_source(p.a, &cx->diags, file, NULL);
	f->dir = ".";
	add_file(&p, f);
	p.nmain = 1;
	p.root = ".";
	/* imports are not followed: the text stands alone */
	declare_globals(&p, NULL);
	check_program(&p);
	lower_check_images(&p);
	program_release(&p);
	return cx->diags.nerrors == errors ? 0 : -1;
}

int kiln_lint(struct compile_ctx *cx, const char *const *paths, size_t n,
              const struct compile_opts *opts)
{
	unsigned errors = cx->diags.nerrors;
	if (opts && (opts->dump != DUMP_NONE || opts->syntax_only)) {
		for (size_t i = 0; i < n; i++)
			dump_file(cx, paths[i], opts);
		return cx->diags.nerrors == errors ? 0 : -1;
	}
	/* the files named are one build, as kiln compile reads them */
	struct program p;
	program_init(&p, cx);
	front(&p, paths, n, opts);
	add_settings(&p, opts);
	if (!diag_has_errors(&cx->diags)) {
		/* lower as compile does, for what it checks (files on disk, values);
		   a param without a value leaves what depends on it unchecked */
		p.lint = true;
		vars_resolve(&p);
		if (!diag_has_errors(&cx->diags)) {
			/* one image at a time, nothing written */
			struct plan_json *w = xmalloc(sizeof(*w));
			plan_json_init(w, -1);
			lower_program_write(&p, NULL, w);
			free(w);
		}
	}
	program_release(&p);
	return cx->diags.nerrors == errors ? 0 : -1;
}

int kiln_compile(struct compile_ctx *cx, const char *const *paths, size_t n,
                 const struct compile_opts *opts, json_t **ret_plan, json_t **ret_secrets)
{
	struct program p;
	program_init(&p, cx);
	front(&p, paths, n, opts);
	add_settings(&p, opts);
	json_t *plan = NULL;
	/* values are resolved even after errors, so a missing param is reported with them */
	vars_resolve(&p);
	if (!diag_has_errors(&cx->diags)) {
		struct lower_opts lo = lower_opts_of(opts);
		plan = lower_program(&p, &lo);
	}
	json_t *secrets = json_incref(p.secrets);
	program_release(&p);
	if (diag_has_errors(&cx->diags)) {
		json_decref(plan);
		json_decref(secrets);
		return -1;
	}
	*ret_plan = plan;
	if (ret_secrets)
		*ret_secrets = secrets;
	else
		json_decref(secrets);
	return 0;
}

int kiln_compile_write(struct compile_ctx *cx, const char *const *paths, size_t n,
                       const struct compile_opts *opts, struct plan_json *w)
{
	struct program p;
	program_init(&p, cx);
	front(&p, paths, n, opts);
	add_settings(&p, opts);
	/* values are resolved even after errors, so a missing param is reported with them */
	vars_resolve(&p);
	if (!diag_has_errors(&cx->diags)) {
		struct lower_opts lo = lower_opts_of(opts);
		lower_program_write(&p, &lo, w);
	}
	program_release(&p);
	return diag_has_errors(&cx->diags) ? -1 : 0;
}

int kiln_plan_secrets(struct compile_ctx *cx, json_t *plan, const char *root,
                      const struct compile_opts *opts, json_t **ret_secrets)
{
	unsigned errors = cx->diags.nerrors;
	struct program p;
	program_init(&p, cx);
	p.root = root;
	add_settings(&p, opts);
	/* a secret that came from a var-file and that apply's settings do not name is
	   read from that file (relative to the root) again, below apply's settings */
	uint32_t nown = p.nvars;
	json_t *params = json_object_get(plan, PLAN_K_PARAMS);
	json_t *loaded = json_object();
	const char *name;
	json_t *entry;
	json_object_foreach (params, name, entry) {
		json_t *ref = json_object_get(entry, PLAN_K_SECRET);
		const char *from = json_string_value(json_object_get(ref, PLAN_K_FROM));
		const char *file = json_string_value(json_object_get(ref, PLAN_K_FILE));
		if (!from || strcmp(from, "var-file") || !file || json_object_get(loaded, file))
			continue;
		bool named = false;
		for (uint32_t i = 0; i < nown && !named; i++)
			named = !strcmp(p.vars[i].name, name);
		if (named)
			continue;
		json_object_set_new(loaded, file, json_true());
		char *path = path_join(root, file);
		load_var_file(&p, arena_strdup(p.a, path));
		free(path);
	}
	json_decref(loaded);
	if (p.nvars > nown) {
		/* first, so that apply's own settings win; used, so unnoticed */
		uint32_t nrec = p.nvars - nown;
		struct var_setting *v = xmalloc(p.nvars * sizeof(*v));
		memcpy(v, p.vars + nown, nrec * sizeof(*v));
		memcpy(v + nrec, p.vars, nown * sizeof(*v));
		for (uint32_t i = 0; i < nrec; i++)
			v[i].used = true;
		free(p.vars);
		p.vars = v;
	}
	vars_plan_secrets(&p, params);
	json_t *secrets = json_incref(p.secrets);
	program_release(&p);
	if (cx->diags.nerrors != errors) {
		json_decref(secrets);
		return -1;
	}
	*ret_secrets = secrets;
	return 0;
}
