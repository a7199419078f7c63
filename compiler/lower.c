/*
 * lower: checked AST -> the plan (the IR, held as JSON). Roles are expanded
 * with their arguments, loops over values known at compile time unrolled
 * with stable ids, constant 'when's folded, handlers linked to the tasks
 * that notify them, images ordered by their 'from' edges, paths made
 * relative to the build's root directory. Invariant: every step carries its
 * source file:line:col; nothing of the machine (absolute paths, time) and no
 * secret's clear text enters the plan.
 */
#include "lower.h"

#include "check_output.h"
#include "eval.h"
#include "path.h"
#include "strbuf.h"
#include "plan_json.h"
#include "template.h"
#include "builtins.h"
#include "vars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lowerer {
	struct program *p;
	struct diag_sink *d;
	int role_depth;
	const struct ast_node *role_stack[32];
	/* handlers of roles used in the current image: name -> lowered handler */
	json_t *role_handlers;
	/* a 'local' task came earlier in this image: it may make the files that
	   later tasks copy, so their existence is checked at build time */
	bool local_seen;
	/* the paths the build's outputs write (normalized, as keys): a base may
	   read one, so it need not exist before the build */
	json_t *outputs;
	/* paths given to roles' arguments (normalized, as keys) -> index in arg_spans:
	   a missing one is shown where it was given too */
	json_t *role_paths;
	struct src_span arg_spans[64];
	size_t narg_spans;
	/* images lowered so far -> whether their tree can have a kernel (check_output.c) */
	json_t *may_boot;
	/* whether a task of the image being lowered may put a kernel in /boot */
	bool tasks_may_boot;
	/* the last file source_of named, and its name relative to the root */
	uint32_t rel_file;
	char *rel_name;
	/* the current directory, read once, and the root's absolute form (relative_to) */
	char *cwd, *abs_root;
	/* schemas' defaults, parsed once: JSON text -> json_t */
	struct hashmap defaults;
	/* how a task is handed on: a tree of JSON objects, text written by the
	   plan writer (render), or nothing (lint: the plan is dropped) */
	enum { TASKS_TREE, TASKS_TEXT, TASKS_NONE } tasks_as;
	struct plan_json *render;
	struct strbuf render_buf;
	/* how deep the plan's writer puts the task being lowered: its text is laid out
	   so (another depth works too, re-indented when written) */
	unsigned task_depth;
};

/* How deep a task of an image's stage, handler or test, or of an apply's handler, stands
   in the plan: plan{ images[ image{ stages[ stage{ tasks[ task */
enum { TASK_DEPTH = 6 };

/* The members of an object being built, keys in the order they were first set */
struct members {
	struct member {
		const char *key; /* outlives the list (arena, schema or literal) */
		json_t *v;
		/* or, with v NULL, a literal of the source written as it is (text only) */
		const struct ast_expr *lit;
	} * m;
	size_t n, cap;
	struct member *own; /* m's first storage (on the caller's stack): not freed */
};

/* A list whose first cap members are stored in buf */
#define MEMBERS_IN(buf)                                                                            \
	((struct members){.m = (buf), .cap = sizeof(buf) / sizeof(*(buf)), .own = (buf)})

static void members_free(struct members *l)
{
	if (l->m != l->own)
		free(l->m);
}

static bool members_has(const struct members *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->m[i].key, key))
			return true;
	return false;
}

/* Set key to v (taken), replacing an earlier value in its place, as json_object_set_new. */
static void members_set(struct members *l, const char *key, json_t *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->m[i].key, key)) {
			json_decref(l->m[i].v);
			l->m[i].v = v;
			l->m[i].lit = NULL;
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if (l->m == l->own) {
			l->m = xmalloc(l->cap * sizeof(*l->m));
			memcpy(l->m, l->own, l->n * sizeof(*l->m));
		} else {
			l->m = xrealloc(l->m, l->cap * sizeof(*l->m));
		}
	}
	l->m[l->n++] = (struct member){key, v, NULL};
}

/* A literal that needs no evaluation: a string (of a file checked to be UTF-8),
   integer, boolean, null or enum value, checked without error; not for a path or
   a mode, which lowering rewrites. */
static bool plain_literal(struct lowerer *lw, const struct ast_expr *e, const char *type)
{
	if (!(e->flags & AST_CHECKED) || (e->flags & AST_FAILED))
		return false;
	if (type && (!strcmp(type, "path") || !strcmp(type, "mode")))
		return false;
	switch (e->kind) {
	case EX_STRING:
		return source_get(&lw->p->cx->sm, e->span.file)->utf8;
	case EX_INT:
	case EX_BOOL:
	case EX_NULL:
		return true;
	case EX_IDENT: {
		const struct symbol *sym = e->sym;
		return sym && sym->kind == SYM_LOCAL && !sym->decl &&
		       !strcmp(sym->name, "<enum value>");
	}
	default:
		return false;
	}
}

/* The string value of key (a value made or a literal of the source), or NULL */
static const char *members_string(const struct members *l, const char *key)
{
	for (size_t i = 0; key && i < l->n; i++) {
		if (strcmp(l->m[i].key, key))
			continue;
		if (l->m[i].v)
			return json_string_value(l->m[i].v);
		if (l->m[i].lit && l->m[i].lit->kind == EX_STRING)
			return l->m[i].lit->str.s;
		return NULL;
	}
	return NULL;
}

/* Set key to the literal e (members_set, without a value made) */
static void members_set_lit(struct members *l, const char *key, const struct ast_expr *e)
{
	members_set(l, key, NULL);
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->m[i].key, key))
			l->m[i].lit = e;
}

/* What eval_expr gives for a plain literal, written */
static void write_lit(struct plan_json *w, const struct ast_expr *e)
{
	switch (e->kind) {
	case EX_STRING:
	case EX_IDENT:
		plan_json_string(w, e->str.s, e->str.len);
		break;
	case EX_INT:
		plan_json_integer(w, e->i);
		break;
	case EX_BOOL:
		plan_json_bool(w, e->b);
		break;
	default:
		plan_json_null(w);
		break;
	}
}

static void members_clear(struct members *l)
{
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->m[i].v);
	l->n = 0;
}

/* Sort by key: insertion sort, as a task has a handful of members (keys are unique) */
static void members_sort(struct members *l)
{
	for (size_t i = 1; i < l->n; i++) {
		struct member m = l->m[i];
		size_t j = i;
		for (; j > 0 && strcmp(l->m[j - 1].key, m.key) > 0; j--)
			l->m[j] = l->m[j - 1];
		l->m[j] = m;
	}
}

/* The members as a JSON object (taken: the list is left empty) */
static json_t *members_object(struct members *l)
{
	json_t *o = json_object();
	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->m[i].key, l->m[i].v);
	l->n = 0;
	return o;
}

/* Write the members, sorted by key, as an object (the list is left as it is) */
static void members_write(struct plan_json *w, struct members *l)
{
	members_sort(l);
	plan_json_begin_object(w);
	for (size_t i = 0; i < l->n; i++) {
		plan_json_key(w, l->m[i].key);
		if (l->m[i].v)
			plan_json_value(w, l->m[i].v);
		else
			write_lit(w, l->m[i].lit);
	}
	plan_json_end_object(w);
}

static const struct ast_file *file_of(struct program *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->nfiles; i++)
		if (p->files[i]->file == id)
			return p->files[i];
	return NULL;
}

/* Decimal digits of v at the end of buf[24]; returns where they start. */
static char *fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* a, then b (n bytes), then the decimal number v, then c; caller frees. The ids
   and sources of a plan are built here, a hundred thousand times in a big build:
   no printf. A NULL c leaves the number out. */
static char *join_id(const char *a, const char *b, size_t nb, uint64_t v, const char *c)
{
	char num[24], *d = c ? fmt_u64(num + sizeof(num), v) : num + sizeof(num);
	size_t na = strlen(a), nd = (size_t)(num + sizeof(num) - d), nc = c ? strlen(c) : 0;
	char *out = xmalloc(na + nb + nd + nc + 1);
	memcpy(out, a, na);
	memcpy(out + na, b, nb);
	memcpy(out + na + nb, d, nd);
	memcpy(out + na + nb + nd, c ? c : "", nc + 1);
	return out;
}

/* a sep b; caller frees */
static char *join3(const char *a, const char *sep, const char *b)
{
	size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
	char *out = xmalloc(na + ns + nb + 1);
	memcpy(out, a, na);
	memcpy(out + na, sep, ns);
	memcpy(out + na + ns, b, nb + 1);
	return out;
}

/* "web.img:12:5", the file relative to the root */
static json_t *source_of(struct lowerer *lw, struct src_span span)
{
	struct program *p = lw->p;
	struct source_file *f = source_get(&p->cx->sm, span.file);
	uint32_t line, col;
	source_position(f, span.start, &line, &col);
	if (!lw->rel_name || lw->rel_file != span.file) {
		free(lw->rel_name);
		lw->rel_name = path_relative(p->root, f->name);
		lw->rel_file = span.file;
	}
	size_t n = strlen(lw->rel_name);
	char buf[256], *s = n + 24 <= sizeof(buf) ? buf : xmalloc(n + 24);
	char num[24], *d;
	memcpy(s, lw->rel_name, n);
	s[n++] = ':';
	d = fmt_u64(num + sizeof(num), line);
	memcpy(s + n, d, (size_t)(num + sizeof(num) - d));
	n += (size_t)(num + sizeof(num) - d);
	s[n++] = ':';
	d = fmt_u64(num + sizeof(num), col);
	memcpy(s + n, d, (size_t)(num + sizeof(num) - d));
	n += (size_t)(num + sizeof(num) - d);
	json_t *j = json_stringn(s, n);
	if (s != buf)
		free(s);
	return j;
}

/* ---- image order --------------------------------------------------------- */

static struct symbol *from_image(const struct ast_node *image)
{
	struct symbol *s = image->value ? image->value->sym : NULL;
	return s && s->kind == SYM_IMAGE ? s : NULL;
}

static void visit(struct lowerer *lw, struct ast_node *image, struct hashmap *state,
                  struct ast_node **stack, size_t depth, struct ast_node ***out, size_t *nout)
{
	static char visiting, done;
	void *st = hashmap_get(state, image->name.s);
	if (st == &done)
		return;
	if (st == &visiting) {
		/* the cycle is the part of the stack from image on */
		size_t k = 0;
		while (k < depth && stack[k] != image)
			k++;
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = k; i < depth; i++)
			sb_addf(&sb, "%s -> ", stack[i]->name.s);
		sb_adds(&sb, image->name.s);
		struct diag *d = diag_error(lw->d, E_IMAGE_CYCLE, image->value->span,
		                            "images are built from each other: %s", sb.buf);
		for (size_t i = k + 1; i < depth && d->nlabels < DIAG_MAX_LABELS; i++)
			diag_label(d, stack[i]->value->span, "'%s' is built from '%s'",
			           stack[i]->name.s,
			           from_image(stack[i]) ? from_image(stack[i])->name : "?");
		diag_help(d, "an image's 'from' must lead back to a base such as debian(...)");
		sb_release(&sb);
		return;
	}
	hashmap_put(state, image->name.s, &visiting);
	stack[depth] = image;
	struct symbol *parent = from_image(image);
	if (parent && depth < 4096)
		visit(lw, parent->decl, state, stack, depth + 1, out, nout);
	hashmap_put(state, image->name.s, &done);
	(*out)[(*nout)++] = image;
}

/* Images in build order (parents first); reports cycles (E2007). Caller frees. */
static struct ast_node **order_images(struct lowerer *lw, size_t *ret_n)
{
	struct program *p = lw->p;
	size_t total = 0;
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			total +=
			    n->kind == N_IMAGE && n->sym && ((struct symbol *)n->sym)->decl == n;
	struct ast_node **out = xmalloc((total + 1) * sizeof(*out));
	struct ast_node **stack = xmalloc((total + 1) * sizeof(*stack));
	size_t n = 0;
	struct hashmap state = HASHMAP_INIT;
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *img = p->files[f]->items; img; img = img->next)
			if (img->kind == N_IMAGE && img->sym &&
			    ((struct symbol *)img->sym)->decl == img && img->value)
				visit(lw, img, &state, stack, 0, &out, &n);
	hashmap_release(&state);
	free(stack);
	*ret_n = n;
	return out;
}

void lower_check_images(struct program *p)
{
	struct lowerer lw = {.p = p, .d = &p->cx->diags};
	size_t n;
	free(order_images(&lw, &n));
}

/* ---- values -------------------------------------------------------------- */

/* p relative to the directory dir, both relative to the current directory: through
   their absolute forms, so "../roles" to "app.conf" goes up through the current
   directory's real name. Caller frees. */
static char *relative_to(struct lowerer *lw, const char *dir, const char *p)
{
	if (!strcmp(dir, ".") && p[0] != '/') {
		/* from the current directory, a path that does not go up out of it is itself
		   (normalized): what the way through the absolute forms gives */
		char *n = path_normalize(p);
		if (!(n[0] == '.' && n[1] == '.' && (n[2] == '/' || !n[2])))
			return n;
		free(n);
	}
	if (!lw->cwd)
		lw->cwd = getcwd(NULL, 0);
	if (!lw->cwd)
		return path_relative(dir, p);
	bool root = dir == lw->p->root;
	if (root && !lw->abs_root)
		lw->abs_root = path_join(lw->cwd, dir);
	char *abs_dir = root ? lw->abs_root : path_join(lw->cwd, dir);
	char *abs_p = path_join(lw->cwd, p);
	char *rel = path_relative(abs_dir, abs_p);
	free(abs_p);
	if (!root)
		free(abs_dir);
	return rel;
}

/* A path on the build machine, relative to the root; checked to exist when asked. */
static json_t *local_path(struct lowerer *lw, const struct ast_expr *e, json_t *v, bool must_exist)
{
	if (!json_is_string(v))
		return v;
	const struct ast_file *f = file_of(lw->p, e->span.file);
	char *full = path_join(f ? f->dir : ".", json_string_value(v));
	if (must_exist) {
		struct stat st;
		if (stat(full, &st) < 0) {
			struct diag *d =
			    diag_error(lw->d, E_FILE_NOT_FOUND, e->span, "no such file: %s", full);
			json_t *given =
			    lw->role_paths ? json_object_get(lw->role_paths, full) : NULL;
			if (given) {
				diag_label(d, lw->arg_spans[json_integer_value(given)],
				           "the role's argument, relative to this file");
				diag_help(d, "a path given to a role is relative to the file of "
				             "the 'use'");
			} else {
				diag_help(d, "paths are relative to the file that names them");
			}
		}
	}
	const char *orig = json_string_value(v);
	/* a path the user wrote absolute stays so; others are relative to the root */
	char *rel = orig[0] == '/' ? xstrdup(full) : relative_to(lw, lw->p->root, full);
	if (orig[0] && orig[strlen(orig) - 1] == '/' && strcmp(rel, "/")) {
		/* a trailing slash means "the directory's contents" to copy: keep it */
		char *slashed = join3(rel, "/", "");
		free(rel);
		rel = slashed;
	}
	json_t *out = json_string(rel);
	free(rel);
	free(full);
	json_decref(v);
	return out;
}

/*
 * A mode in the plan is an int, whatever way it was written (0644, "0644",
 * "u=rw,go=r"): one form, so the same mode gives the same stage key. Takes
 * v; NULL after an error (a value computed here that is no mode: literals
 * were checked before).
 */
static json_t *mode_value(struct lowerer *lw, const struct ast_expr *e, json_t *v)
{
	unsigned mode = 0;
	const char *why =
	    "a mode is an octal number such as 0644 or a string such as \"u=rw,go=r\"";
	int r = -1;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 07777) {
		mode = (unsigned)json_integer_value(v);
		r = 0;
	} else if (json_is_string(v)) {
		r = stdlib_mode_parse(json_string_value(v), &mode, &why);
	}
	if (r < 0) {
		char *shown = json_dumps(v, JSON_ENCODE_ANY);
		diag_help(diag_error(lw->d, E_BAD_MODE, e->span, "%s is not a file mode",
		                     shown ? shown : "this value"),
		          "%s", why);
		free(shown);
		json_decref(v);
		return NULL;
	}
	json_decref(v);
	return json_integer((json_int_t)mode);
}

/* Evaluate e for the plan; NULL after an error (already reported). */
static json_t *value(struct lowerer *lw, const struct env *env, const struct ast_expr *e,
                     const char *type)
{
	struct val v = eval_expr(lw->p, env, e);
	if (!v.json)
		return NULL;
	if (v.deferred) {
		json_t *j = val_to_plan(&v);
		val_release(&v);
		return j;
	}
	if (type && !strcmp(type, "path"))
		return local_path(lw, e, v.json, !lw->local_seen);
	if (type && !strcmp(type, "mode"))
		return mode_value(lw, e, v.json);
	return v.json;
}

static const struct kiln_arg *arg_of(const struct kiln_schema *s, const char *name)
{
	return stdlib_arg(s, name);
}

/*
 * The schema's defaults for the arguments args leaves out (but skip): the plan
 * says every value the call runs with, so a default that changes changes the
 * plan, and with it the stage's key.
 */
static void add_defaults_to(struct lowerer *lw, json_t *args, struct members *list,
                            const struct kiln_schema *s, const char *skip)
{
	for (const struct kiln_arg *a = s ? s->args : NULL; a && a->name; a++) {
		if (!a->def || (skip && !strcmp(a->name, skip)) ||
		    (args ? json_object_get(args, a->name) != NULL : members_has(list, a->name)))
			continue;
		json_t *v = hashmap_get(&lw->defaults, a->def);
		if (!v) {
			v = json_loads(a->def, JSON_DECODE_ANY, NULL);
			if (!v)
				continue;
			hashmap_put(&lw->defaults, a->def, v);
		}
		/* a scalar is shared; a list or map is the plan's own copy */
		v = json_is_array(v) || json_is_object(v) ? json_deep_copy(v) : json_incref(v);
		if (args)
			json_object_set_new(args, a->name, v);
		else
			members_set(list, a->name, v);
	}
}

static void add_defaults(struct lowerer *lw, json_t *args, const struct kiln_schema *s,
                         const char *skip)
{
	add_defaults_to(lw, args, NULL, s, skip);
}

/* ---- tasks --------------------------------------------------------------- */

static void lower_body(struct lowerer *lw, struct ast_node *body, const struct env *env,
                       const char *prefix, const char *role, json_t *tasks);

static void lower_task_once(struct lowerer *lw, struct ast_node *task, const struct env *env,
                            const char *id, const char *role, json_t *tasks)
{
	const struct kiln_schema *s = task->schema;
	/* the task's members and its args', gathered, then made into what tasks_as says */
	struct member tbuf[12], abuf[24];
	struct members t = MEMBERS_IN(tbuf), args = MEMBERS_IN(abuf);
	bool ok = true;
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind == N_WHEN) {
			struct val c = eval_expr(lw->p, env, n->value);
			if (!c.json) {
				ok = false;
				continue;
			}
			if (!c.deferred && !json_is_true(c.json)) {
				/* folded: the task is not part of this build */
				val_release(&c);
				members_clear(&args);
				members_clear(&t);
				members_free(&args);
				members_free(&t);
				return;
			}
			if (c.deferred)
				members_set(&t, PLAN_K_WHEN, val_to_plan(&c));
			val_release(&c);
		}
	}
	/* names from the source, which is valid UTF-8 */
	members_set(&t, PLAN_K_ID, json_string_nocheck(id));
	members_set(&t, PLAN_K_MODULE, json_string_nocheck(task->name.s));
	members_set(&t, PLAN_K_SOURCE, source_of(lw, task->span));
	if (role)
		members_set(&t, PLAN_K_ROLE, json_string_nocheck(role));
	/* a local task's own paths (creates, removes) need not exist yet either */
	if (!strcmp(task->name.s, "local"))
		lw->local_seen = true;
	if (task->label) {
		const struct kiln_arg *la = label_arg(task, s);
		json_t *v = value(lw, env, task->label, la ? la->type : NULL);
		if (!v)
			ok = false;
		else if (la)
			members_set(&args, la->name, v);
		else
			members_set(&t, PLAN_K_LABEL, v);
	}
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		if (!strcmp(n->name.s, "notify")) {
			json_t *names = json_array();
			const struct ast_expr *v = n->value;
			for (const struct ast_expr *h = v->kind == EX_LIST ? v->list.items : v; h;
			     h = v->kind == EX_LIST ? h->next : NULL)
				if (h->kind == EX_IDENT)
					json_array_append_new(names, json_string(h->str.s));
			members_set(&t, PLAN_K_NOTIFY, names);
			continue;
		}
		if (!strcmp(n->name.s, "ignore_errors")) {
			json_t *v = value(lw, env, n->value, NULL);
			if (v)
				members_set(&t, PLAN_K_IGNORE_ERRORS, v);
			continue;
		}
		const struct kiln_arg *a = arg_of(s, n->name.s);
		if (lw->tasks_as != TASKS_TREE && plain_literal(lw, n->value, a ? a->type : NULL)) {
			/* written from the source when the task is: no JSON value made */
			members_set_lit(&args, n->name.s, n->value);
		} else {
			json_t *v = value(lw, env, n->value, a ? a->type : NULL);
			if (!v) {
				ok = false;
				continue;
			}
			members_set(&args, n->name.s, v);
		}
		if (n->sym && s && s->template_arg && !strcmp(n->name.s, s->template_arg)) {
			/* the template's text, rendered with the task's values */
			struct val content = template_render(lw->p, env, n->sym);
			if (!content.json)
				ok = false;
			else
				members_set(&args, "content", val_to_plan(&content));
			val_release(&content);
		}
	}
	add_defaults_to(lw, NULL, &args, s, NULL);
	if (s && s->on_build_machine)
		lw->local_seen = true;
	if (ok && !lw->tasks_may_boot)
		lw->tasks_may_boot =
		    check_task_may_boot(s, members_string(&args, s ? s->writes : NULL));
	if (ok && lw->tasks_as == TASKS_TREE) {
		members_set(&t, PLAN_K_ARGS, members_object(&args));
		json_array_append_new(tasks, members_object(&t));
	} else if (ok && lw->tasks_as == TASKS_TEXT) {
		/* the task's text, written now: no tree of it is built, sorted and freed */
		struct plan_json *w = lw->render;
		sb_reset(&lw->render_buf);
		plan_json_init_mem(w, &lw->render_buf, lw->task_depth);
		members_sort(&t);
		plan_json_begin_object(w);
		bool args_done = false;
		for (size_t i = 0; i <= t.n; i++) {
			if (!args_done && (i == t.n || strcmp(PLAN_K_ARGS, t.m[i].key) < 0)) {
				plan_json_key(w, PLAN_K_ARGS);
				members_write(w, &args);
				args_done = true;
			}
			if (i == t.n)
				break;
			plan_json_key(w, t.m[i].key);
			plan_json_value(w, t.m[i].v);
		}
		plan_json_end_object(w);
		plan_json_flush_mem(w);
		json_array_append_new(
		    tasks, plan_json_raw(lw->render_buf.buf, lw->render_buf.len, lw->task_depth));
	}
	members_clear(&args);
	members_clear(&t);
	members_free(&args);
	members_free(&t);
}

static void lower_task(struct lowerer *lw, struct ast_node *task, const struct env *env,
                       const char *id, const char *role, json_t *tasks)
{
	struct ast_node *loop = NULL;
	for (struct ast_node *n = task->body; n; n = n->next)
		if (n->kind == N_FOR)
			loop = n;
	if (!loop) {
		lower_task_once(lw, task, env, id, role, tasks);
		return;
	}
	struct val it = eval_expr(lw->p, env, loop->value);
	if (!it.json)
		return;
	if (it.deferred) {
		diag_help(diag_error(lw->d, E_NOT_CONSTANT, loop->value->span,
		                     "the list a 'for' loops over must be known before the build"),
		          "loop over params, lets and literals; facts and secrets are known only "
		          "while the image is built");
		val_release(&it);
		return;
	}
	struct symbol *kv = loop->sym, *vv = loop->label ? loop->label->sym : NULL;
	struct env e1 = {.parent = env, .sym = kv}, e2 = {.parent = &e1, .sym = vv};
	if (json_is_array(it.json)) {
		size_t i;
		json_t *item;
		json_array_foreach (it.json, i, item) {
			char *sub = join_id(id, "[", 1, i, "]");
			if (vv) {
				e1.v = (struct val){json_integer((json_int_t)i), false, it.secret};
				e2.v = (struct val){item, false, it.secret};
				lower_task_once(lw, task, &e2, sub, role, tasks);
				json_decref(e1.v.json);
			} else {
				e1.v = (struct val){item, false, it.secret};
				lower_task_once(lw, task, &e1, sub, role, tasks);
			}
			free(sub);
		}
	} else if (!json_is_object(it.json)) {
		diag_error(lw->d, E_EVAL_FAILED, loop->value->span,
		           "'for' needs a list or a map here, not this value");
	} else if (json_is_object(it.json)) {
		const char *k;
		json_t *item;
		json_object_foreach (it.json, k, item) {
			char *sub = join_id(id, "[", 1, 0, NULL), *sub2 = join3(sub, k, "]");
			free(sub);
			sub = sub2;
			e1.v = (struct val){json_string(k), false, it.secret};
			e2.v = (struct val){item, false, it.secret};
			lower_task_once(lw, task, vv ? &e2 : &e1, sub, role, tasks);
			json_decref(e1.v.json);
			free(sub);
		}
	}
	val_release(&it);
}

/* A relative path written in the directory from, as the same path written in the
   directory to (a trailing slash kept). Caller frees. */
static char *rebase_path(struct lowerer *lw, const char *path, const char *from, const char *to)
{
	char *full = path_join(from, path);
	char *rel = relative_to(lw, to, full);
	size_t n = strlen(path);
	if (n && path[n - 1] == '/' && strcmp(rel, "/")) {
		char *slashed = join3(rel, "/", "");
		free(rel);
		rel = slashed;
	}
	free(full);
	return rel;
}

/* A role's path argument is relative to the file of the 'use' that gives it
   (the caller's); the role's body resolves paths against the role's file, so
   the value is rewritten to name the same file from there. */
static json_t *rebase_arg(struct lowerer *lw, const struct type *t, json_t *v,
                          const struct ast_expr *arg, const struct ast_node *role)
{
	if (t && t->kind == T_LIST && t->elem && t->elem->kind == T_PATH && json_is_array(v)) {
		json_t *copy = json_copy(v); /* v may be a param's value, shared */
		json_decref(v);
		v = copy;
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *item = json_incref(json_array_get(v, i));
			json_array_set_new(v, i, rebase_arg(lw, t->elem, item, arg, role));
		}
		return v;
	}
	if (!t || t->kind != T_PATH || !json_is_string(v) || json_string_value(v)[0] == '/')
		return v;
	const struct ast_file *from = file_of(lw->p, arg->span.file);
	const struct ast_file *to = file_of(lw->p, role->span.file);
	if (!from || !to)
		return v;
	char *rel = rebase_path(lw, json_string_value(v), from->dir, to->dir);
	if (lw->narg_spans < sizeof(lw->arg_spans) / sizeof(lw->arg_spans[0])) {
		char *full = path_join(to->dir, rel);
		if (!lw->role_paths)
			lw->role_paths = json_object();
		if (!json_object_get(lw->role_paths, full)) {
			lw->arg_spans[lw->narg_spans] = arg->span;
			json_object_set_new(lw->role_paths, full,
			                    json_integer((json_int_t)lw->narg_spans++));
		}
		free(full);
	}
	json_t *out = json_string(rel);
	free(rel);
	json_decref(v);
	return out;
}

/* The bindings of a role's parameters for one 'use'. Caller frees the chain with free_env. */
static struct env *bind_role(struct lowerer *lw, struct ast_node *use, struct ast_node *role,
                             const struct env *env, bool *ok)
{
	struct env *chain = NULL;
	size_t pos = 0;
	for (struct ast_node *param = role->params; param; param = param->next, pos++) {
		const struct ast_expr *arg = NULL;
		size_t i = 0;
		for (struct ast_arg *a = use ? use->args : NULL; a; a = a->next, i++) {
			if (a->name.len ? !strcmp(a->name.s, param->name.s) : i == pos) {
				arg = a->value;
				break;
			}
		}
		struct val v;
		if (arg) {
			v = eval_expr(lw->p, env, arg);
			if (v.json && !v.deferred)
				v.json = rebase_arg(lw, ((struct symbol *)param->sym)->type, v.json,
				                    arg, role);
		} else if (param->value)
			v = eval_expr(lw->p, NULL, param->value);
		else
			v = (struct val){NULL, false, false};
		if (!v.json)
			*ok = false;
		struct env *b = xcalloc(1, sizeof(*b));
		b->parent = chain;
		b->sym = param->sym;
		b->v = v;
		chain = b;
	}
	return chain;
}

static void free_env(struct env *e, const struct env *stop)
{
	while (e && e != stop) {
		struct env *next = (struct env *)e->parent;
		val_release(&e->v);
		free(e);
		e = next;
	}
}

static json_t *lower_handler(struct lowerer *lw, struct ast_node *h, const struct env *env,
                             const char *prefix, const char *role)
{
	json_t *tasks = json_array();
	char *id = join3(prefix, ".handler.", h->name.s);
	unsigned depth = lw->task_depth;
	lw->task_depth = TASK_DEPTH;
	lower_body(lw, h->body, env, id, role, tasks);
	lw->task_depth = depth;
	json_t *out = json_pack("{s:s,s:o,s:o}", PLAN_K_NAME, h->name.s, PLAN_K_SOURCE,
	                        source_of(lw, h->span), PLAN_K_TASKS, tasks);
	if (role)
		json_object_set_new(out, PLAN_K_ROLE, json_string(role));
	free(id);
	return out;
}

static void lower_use(struct lowerer *lw, struct ast_node *use, const struct env *env,
                      const char *id, json_t *tasks)
{
	struct symbol *rs = use->sym;
	if (!rs)
		return;
	struct ast_node *role = rs->decl;
	for (int i = 0; i < lw->role_depth; i++)
		if (lw->role_stack[i] == role || lw->role_depth >= 31) {
			diag_help(diag_error(lw->d, E_ROLE_CYCLE, use->span,
			                     "role '%s' uses itself, through the roles it uses",
			                     role->name.s),
			          "a role cannot use a role that leads back to it");
			return;
		}
	bool ok = true;
	/* the arguments are the caller's values (its role parameters, loop
	   variables); the role's body sees only its parameters and the globals */
	struct env *bound = bind_role(lw, use, role, env, &ok);
	if (ok) {
		lw->role_stack[lw->role_depth++] = role;
		char *prefix = join3(id, ":", role->name.s);
		lower_body(lw, role->body, bound, prefix, role->name.s, tasks);
		/* the role's handlers join the image's, with the first use's arguments */
		for (struct ast_node *h = role->body; h; h = h->next)
			if (h->kind == N_HANDLER && lw->role_handlers &&
			    !json_object_get(lw->role_handlers, h->name.s))
				json_object_set_new(
				    lw->role_handlers, h->name.s,
				    lower_handler(lw, h, bound, prefix, role->name.s));
		free(prefix);
		lw->role_depth--;
	}
	free_env(bound, NULL);
}

static void lower_body(struct lowerer *lw, struct ast_node *body, const struct env *env,
                       const char *prefix, const char *role, json_t *tasks)
{
	size_t i = 0;
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_TASK && n->kind != N_USE)
			continue;
		char *id = join_id(prefix, ".", 1, i++, "");
		if (n->kind == N_TASK)
			lower_task(lw, n, env, id, role, tasks);
		else
			lower_use(lw, n, env, id, tasks);
		free(id);
	}
}

/* ---- blocks -------------------------------------------------------------- */

static json_t *lower_attrs(struct lowerer *lw, struct ast_node *body, const struct env *env)
{
	json_t *o = json_object();
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		json_t *v = value(lw, env, n->value, NULL);
		if (v)
			json_object_set_new(o, n->name.s, v);
	}
	return o;
}

/* The path an output writes, joined with its file's directory; NULL when not a string. */
static char *output_path(struct lowerer *lw, const struct ast_expr *e, const json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const struct ast_file *f = file_of(lw->p, e->span.file);
	return path_join(f ? f->dir : ".", json_string_value(v));
}

/* Does the path v, written at e, name what an output of the build writes? */
static bool is_output(struct lowerer *lw, const struct ast_expr *e, const json_t *v)
{
	char *full = output_path(lw, e, v);
	bool found = full && lw->outputs && json_object_get(lw->outputs, full);
	free(full);
	return found;
}

static void collect_outputs(struct lowerer *lw)
{
	struct program *p = lw->p;
	lw->outputs = json_object();
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *img = p->files[f]->items; img; img = img->next)
			for (struct ast_node *n = img->kind == N_IMAGE ? img->body : NULL; n;
			     n = n->next) {
				if (n->kind != N_OUTPUT || !n->label || n->label->kind != EX_STRING)
					continue;
				json_t *v = json_string(n->label->str.s);
				char *full = output_path(lw, n->label, v);
				if (full)
					json_object_set_new(lw->outputs, full, json_true());
				free(full);
				json_decref(v);
			}
}

static json_t *lower_from(struct lowerer *lw, struct ast_node *image)
{
	struct symbol *parent = from_image(image);
	if (parent)
		return json_pack("{s:s}", PLAN_K_IMAGE, parent->name);
	const struct ast_expr *f = image->value;
	const char *base = f->kind == EX_CALL && f->call.fn->kind == EX_IDENT ? f->call.fn->str.s
	                   : f->kind == EX_IDENT                              ? f->str.s
	                                                                      : NULL;
	const struct kiln_schema *s = base ? stdlib_lookup(SCHEMA_BASE, base) : NULL;
	if (!s)
		return json_null();
	json_t *args = json_object();
	const struct ast_expr *from = image->value;
	size_t pos = 0;
	for (const struct ast_arg *a = from->kind == EX_CALL ? from->call.args : NULL; a;
	     a = a->next) {
		const struct kiln_arg *sa = a->name.len ? arg_of(s, a->name.s) : &s->args[pos++];
		if (!sa || !sa->name)
			continue;
		json_t *v = value(lw, NULL, a->value, NULL);
		if (v && !strcmp(sa->type, "path"))
			v = local_path(lw, a->value, v, !is_output(lw, a->value, v));
		if (v)
			json_object_set_new(args, sa->name, v);
	}
	add_defaults(lw, args, s, NULL);
	return json_pack("{s:s,s:o}", PLAN_K_BASE, s->name, PLAN_K_ARGS, args);
}

/*
 * The schema's checks of its arguments' strings (kiln_arg.check: an image reference, ...),
 * on the values computed: an error at the literal that holds the string, or at the
 * attribute.
 */
static void check_strings(struct lowerer *lw, const struct kiln_schema *s, struct ast_node *body,
                          json_t *args)
{
	for (struct ast_node *n = body; s && n; n = n->next) {
		const struct kiln_arg_check *a = NULL;
		for (const struct kiln_arg_check *c = s->checks; n->kind == N_ATTR && c && c->arg;
		     c++)
			if (!strcmp(c->arg, n->name.s))
				a = c;
		json_t *v = a ? json_object_get(args, n->name.s) : NULL;
		if (!v)
			continue;
		const struct ast_expr *item =
		    n->value->kind == EX_LIST ? n->value->list.items : NULL;
		for (size_t i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
			json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
			const struct ast_expr *at = item ? item : n->value;
			const char *why = json_is_string(x) ? a->check(json_string_value(x)) : NULL;
			if (why)
				diag_help(diag_error(lw->d, E_BAD_REFERENCE, at->span,
				                     "%s '%s' is not a valid image reference",
				                     a->arg, json_string_value(x)),
				          "%s (as docker, podman and skopeo read references), e.g. "
				          "\"registry.example.com/team/app:1.0\"",
				          why);
			if (item)
				item = item->next;
		}
	}
}

static json_t *lower_output(struct lowerer *lw, struct ast_node *out)
{
	json_t *o = json_object();
	json_object_set_new(o, PLAN_K_TYPE, json_string(out->name.s));
	json_object_set_new(o, PLAN_K_SOURCE, source_of(lw, out->span));
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, out->name.s);
	const struct kiln_arg *la = s && s->label ? stdlib_arg(s, s->label) : NULL;
	if (out->label) {
		json_t *v = value(lw, NULL, out->label, NULL);
		/* a label of type path is a file relative to its .img; others stay as written */
		if (v && la && strcmp(la->type, "path"))
			json_object_set_new(o, PLAN_K_PATH, v);
		else if (v)
			json_object_set_new(o, PLAN_K_PATH, local_path(lw, out->label, v, false));
	}
	json_t *args = lower_attrs(lw, out->body, NULL);
	check_strings(lw, s, out->body, args);
	check_output_args(lw->d, s, out, args);
	/* the label's argument is the output's "path", beside its args */
	add_defaults(lw, args, s, s ? s->label : NULL);
	json_object_set_new(o, PLAN_K_ARGS, args);
	return o;
}

static json_t *lower_image(struct lowerer *lw, struct ast_node *image)
{
	json_t *img = json_object();
	const char *name = image->name.s;
	json_object_set_new(img, PLAN_K_NAME, json_string(name));
	json_object_set_new(img, PLAN_K_SOURCE, source_of(lw, image->span));
	json_object_set_new(img, PLAN_K_FROM, lower_from(lw, image));
	json_t *stages = json_array(), *handlers = json_array(), *outputs = json_array(),
	       *tests = json_array();
	lw->role_handlers = json_object();
	lw->local_seen = false;
	lw->tasks_may_boot = false;
	json_t *attrs = lower_attrs(lw, image->body, NULL);
	if (json_object_get(attrs, "description"))
		json_object_set(img, PLAN_K_DESCRIPTION, json_object_get(attrs, "description"));
	json_decref(attrs);
	for (struct ast_node *n = image->body; n; n = n->next) {
		switch (n->kind) {
		case N_STAGE: {
			json_t *tasks = json_array();
			char *prefix = join3(name, ".", n->name.s);
			lower_body(lw, n->body, NULL, prefix, NULL, tasks);
			free(prefix);
			json_array_append_new(stages,
			                      json_pack("{s:s,s:o,s:o}", PLAN_K_NAME, n->name.s,
			                                PLAN_K_SOURCE, source_of(lw, n->span),
			                                PLAN_K_TASKS, tasks));
			break;
		}
		case N_HANDLER:
			json_array_append_new(handlers, lower_handler(lw, n, NULL, name, NULL));
			break;
		case N_CONFIG:
			json_object_set_new(img, PLAN_K_CONFIG, lower_attrs(lw, n->body, NULL));
			check_output_config(lw->d, n, json_object_get(img, PLAN_K_CONFIG));
			break;
		case N_OUTPUT:
			json_array_append_new(outputs, lower_output(lw, n));
			break;
		case N_TEST: {
			json_t *tasks = json_array();
			char *prefix = join_id(name, ".test", 5, json_array_size(tests), "");
			lower_body(lw, n->body, NULL, prefix, NULL, tasks);
			free(prefix);
			json_t *label =
			    n->label ? value(lw, NULL, n->label, NULL) : json_string("");
			json_array_append_new(
			    tests,
			    json_pack("{s:o,s:o,s:o}", PLAN_K_NAME, label ? label : json_string(""),
			              PLAN_K_SOURCE, source_of(lw, n->span), PLAN_K_TASKS, tasks));
			break;
		}
		default:
			break;
		}
	}
	/* role handlers after the image's own, in the order of first use */
	const char *k;
	json_t *h;
	json_object_foreach (lw->role_handlers, k, h) {
		bool shadowed = false;
		size_t i;
		json_t *own;
		json_array_foreach (handlers, i, own) {
			shadowed |=
			    !strcmp(json_string_value(json_object_get(own, PLAN_K_NAME)), k);
		}
		if (!shadowed)
			json_array_append(handlers, h);
	}
	json_decref(lw->role_handlers);
	lw->role_handlers = NULL;
	/* a disk that must boot an image that can have no kernel: apply would refuse it */
	struct symbol *parent = from_image(image);
	if (!lw->may_boot)
		lw->may_boot = json_object();
	json_object_set_new(
	    lw->may_boot, name,
	    json_boolean(check_output_boot(lw->d, image, json_object_get(img, PLAN_K_FROM),
	                                   !parent || json_object_get(lw->may_boot, parent->name) !=
	                                                  json_false(),
	                                   lw->tasks_may_boot, outputs)));
	json_object_set_new(img, PLAN_K_STAGES, stages);
	json_object_set_new(img, PLAN_K_HANDLERS, handlers);
	json_object_set_new(img, PLAN_K_OUTPUTS, outputs);
	json_object_set_new(img, PLAN_K_TESTS, tests);
	return img;
}

/* ---- hosts ----------------------------------------------------------------- */

/* Where the plan goes: a tree (plan) or a stream (w), member by member in key order. */
struct lower_out {
	json_t *plan;
	struct plan_json *w;
	json_t *array; /* the array being filled (a tree) */
};

/* A group's plan entry (new reference). */
static json_t *lower_group(struct lowerer *lw, struct symbol *s)
{
	if (s->inventory)
		return json_incref(s->inventory);
	json_t *hosts = json_object(), *children = json_array();
	for (struct ast_node *n = s->decl->body; n; n = n->next) {
		if (n->kind == N_HOST) {
			json_t *name = value(lw, NULL, n->label, NULL);
			if (name && json_is_string(name))
				json_object_set_new(hosts, json_string_value(name),
				                    lower_attrs(lw, n->body, NULL));
			json_decref(name);
		} else if (n->kind == N_GROUP_REF) {
			json_array_append_new(children, json_string(n->name.s));
		}
	}
	return json_pack("{s:o,s:o,s:o,s:o}", PLAN_K_HOSTS, hosts, PLAN_K_CHILDREN, children,
	                 PLAN_K_VARS, lower_attrs(lw, s->decl->body, NULL), PLAN_K_SOURCE,
	                 source_of(lw, s->decl->span));
}

static int cmp_symbol_names(const void *a, const void *b)
{
	return strcmp((*(struct symbol *const *)a)->name, (*(struct symbol *const *)b)->name);
}

/* The groups: an object, written one group at a time in name order to a stream. */
static void lower_groups(struct lowerer *lw, struct lower_out *o)
{
	struct program *p = lw->p;
	size_t n = 0, len = hashmap_len(&p->globals.names);
	struct symbol **groups = xmalloc((len ? len : 1) * sizeof(*groups));
	for (uint32_t i = 0; i < len; i++) {
		struct symbol *s = hashmap_at(&p->globals.names, i)->value;
		if (s->kind == SYM_GROUP)
			groups[n++] = s;
	}
	if (o->w) {
		qsort(groups, n, sizeof(*groups), cmp_symbol_names);
		plan_json_key(o->w, PLAN_K_GROUPS);
		plan_json_begin_object(o->w);
		for (size_t i = 0; i < n; i++) {
			json_t *g = lower_group(lw, groups[i]);
			plan_json_key(o->w, groups[i]->name);
			plan_json_value(o->w, g);
			json_decref(g);
		}
		plan_json_end_object(o->w);
	} else {
		json_t *obj = json_object();
		for (size_t i = 0; i < n; i++)
			json_object_set_new(obj, groups[i]->name, lower_group(lw, groups[i]));
		json_object_set_new(o->plan, PLAN_K_GROUPS, obj);
	}
	free(groups);
}

static json_t *lower_apply(struct lowerer *lw, struct ast_node *ap)
{
	json_t *tasks = json_array(), *handlers = json_array();
	char *prefix = join3("apply", ".", ap->name.s);
	lw->role_handlers = json_object();
	lw->local_seen = false; /* a 'local' task of an image makes no file for a host */
	/* plan{ applies[ apply{ tasks[ task */
	lw->task_depth = 4;
	lower_body(lw, ap->body, NULL, prefix, NULL, tasks);
	lw->task_depth = TASK_DEPTH;
	for (struct ast_node *n = ap->body; n; n = n->next)
		if (n->kind == N_HANDLER)
			json_array_append_new(handlers, lower_handler(lw, n, NULL, prefix, NULL));
	const char *k;
	json_t *h;
	json_object_foreach (lw->role_handlers, k, h) {
		json_array_append(handlers, h);
	}
	json_decref(lw->role_handlers);
	lw->role_handlers = NULL;
	free(prefix);
	return json_pack("{s:s,s:o,s:o,s:o,s:o}", PLAN_K_TARGET, ap->name.s, PLAN_K_SOURCE,
	                 source_of(lw, ap->span), PLAN_K_CONNECTION,
	                 lower_attrs(lw, ap->body, NULL), PLAN_K_TASKS, tasks, PLAN_K_HANDLERS,
	                 handlers);
}

/* ---- the program ------------------------------------------------------------- */

/* Not named by -except? */
static bool selected_except(const struct lower_opts *o, const char *name)
{
	for (size_t i = 0; o && i < o->nexcept; i++)
		if (!strcmp(o->except[i], name))
			return false;
	return true;
}

static bool selected(const struct lower_opts *o, const char *name)
{
	if (!o)
		return true;
	for (size_t i = 0; i < o->nexcept; i++)
		if (!strcmp(o->except[i], name))
			return false;
	if (!o->nonly)
		return true;
	for (size_t i = 0; i < o->nonly; i++)
		if (!strcmp(o->only[i], name))
			return true;
	return false;
}

static void out_member(struct lower_out *o, const char *key, json_t *v)
{
	if (o->w) {
		plan_json_key(o->w, key);
		plan_json_value(o->w, v);
		json_decref(v);
	} else {
		json_object_set_new(o->plan, key, v);
	}
}

/* An array member whose elements come one by one (out_element), each freed once written. */
static void out_begin_array(struct lower_out *o, const char *key)
{
	if (o->w) {
		plan_json_key(o->w, key);
		plan_json_begin_array(o->w);
	} else {
		o->array = json_array();
		json_object_set_new(o->plan, key, o->array);
	}
}

static void out_element(struct lower_out *o, json_t *v)
{
	if (o->w) {
		plan_json_value(o->w, v);
		json_decref(v);
	} else {
		json_array_append_new(o->array, v);
	}
}

static void out_end_array(struct lower_out *o)
{
	if (o->w)
		plan_json_end_array(o->w);
	o->array = NULL;
}

/*
 * Lower the program into o. The members come in the order of their keys, so
 * that a stream is the sorted text; each image is written and freed before
 * the next is lowered (apply blocks too). Diagnostics are sorted when printed, so the order of
 * lowering does not show.
 */
static void lower_into(struct program *p, const struct lower_opts *opts, struct lower_out *o)
{
	struct lowerer lw = {.p = p, .d = &p->cx->diags, .task_depth = TASK_DEPTH};
	if (o->w && (o->w->fd >= 0 || o->w->mem)) {
		lw.tasks_as = TASKS_TEXT;
		lw.render = xmalloc(sizeof(*lw.render));
	} else if (o->w) {
		lw.tasks_as = TASKS_NONE;
	}
	size_t nimages;
	struct ast_node **images = order_images(&lw, &nimages);
	collect_outputs(&lw);
	check_output_paths(p);

	/* -only / -except: an image needs the images it is built from */
	struct hashmap want = HASHMAP_INIT;
	static char yes;
	static char no;
	/* -except: the image and every image built from it (parents come first) */
	for (size_t i = 0; i < nimages; i++) {
		struct symbol *parent = from_image(images[i]);
		if (!selected_except(opts, images[i]->name.s) ||
		    (parent && hashmap_get(&want, parent->name) == &no))
			hashmap_put(&want, images[i]->name.s, &no);
	}
	/* -only: the image and what it is built from */
	for (size_t i = nimages; i-- > 0;) {
		const char *name = images[i]->name.s;
		if (hashmap_get(&want, name) == &no)
			continue;
		if (selected(opts, name) || hashmap_get(&want, name) == &yes) {
			hashmap_put(&want, name, &yes);
			struct symbol *parent = from_image(images[i]);
			if (parent && hashmap_get(&want, parent->name) != &no)
				hashmap_put(&want, parent->name, &yes);
		}
	}
	for (size_t i = 0; opts && i < opts->nonly + opts->nexcept; i++) {
		const char *name = i < opts->nonly ? opts->only[i] : opts->except[i - opts->nonly];
		struct symbol *s = scope_lookup(&p->globals, name);
		if (!s || s->kind != SYM_IMAGE) {
			struct diag *d =
			    diag_file_error(&p->cx->diags, E_NO_IMAGES_SELECTED, p->cmdline,
			                    "%s=%s: no image '%s' in this build",
			                    i < opts->nonly ? "-only" : "-except", name, name);
			size_t n;
			const char *const *names = scope_names(&p->globals, &n);
			diag_suggest(d, names, n, name);
		}
	}

	/* in key order: applies, files, format_version, groups, images, kiln_version, params */
	/* with -only or -except no apply block runs; the files are checked all the same */
	bool run_applies = !opts || (!opts->nonly && !opts->nexcept);
	out_begin_array(o, PLAN_K_APPLIES);
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *n = p->files[f]->items; n; n = n->next)
			if (n->kind == N_APPLY && n->sym) {
				json_t *japply = lower_apply(&lw, n);
				if (run_applies)
					out_element(o, japply);
				else
					json_decref(japply);
			}
	out_end_array(o);
	json_t *files = json_array();
	for (uint32_t i = 0; i < p->nfiles; i++) {
		char *rel = path_relative(p->root, source_get(&p->cx->sm, p->files[i]->file)->name);
		json_array_append_new(files, json_string(rel));
		free(rel);
	}
	out_member(o, PLAN_K_FILES, files);
	out_member(o, PLAN_K_FORMAT_VERSION, json_integer(PLAN_FORMAT_VERSION));
	lower_groups(&lw, o);
	out_begin_array(o, PLAN_K_IMAGES);
	for (size_t i = 0; i < nimages; i++)
		if (hashmap_get(&want, images[i]->name.s) == &yes)
			out_element(o, lower_image(&lw, images[i]));
	out_end_array(o);
	out_member(o, PLAN_K_KILN_VERSION, json_string(KILN_VERSION));
	/* the params, one at a time in name order to a stream */
	size_t nparams = 0, nnames = hashmap_len(&p->globals.names);
	struct symbol **params = xmalloc((nnames ? nnames : 1) * sizeof(*params));
	for (uint32_t i = 0; i < nnames; i++) {
		struct symbol *s = hashmap_at(&p->globals.names, i)->value;
		if (s->kind == SYM_PARAM &&
		    s->source) /* no value: only in lint, whose plan is dropped */
			params[nparams++] = s;
	}
	if (o->w) {
		qsort(params, nparams, sizeof(*params), cmp_symbol_names);
		plan_json_key(o->w, PLAN_K_PARAMS);
		plan_json_begin_object(o->w);
	}
	json_t *jparams = o->w ? NULL : json_object();
	for (size_t i = 0; i < nparams; i++) {
		json_t *entry = vars_param_plan(p, params[i]);
		json_object_set_new(entry, PLAN_K_TYPE,
		                    json_string(type_str(p->a, params[i]->type)));
		if (o->w) {
			plan_json_key(o->w, params[i]->name);
			plan_json_value(o->w, entry);
			json_decref(entry);
		} else {
			json_object_set_new(jparams, params[i]->name, entry);
		}
	}
	if (o->w)
		plan_json_end_object(o->w);
	else
		json_object_set_new(o->plan, PLAN_K_PARAMS, jparams);
	free(params);
	hashmap_release(&want);
	json_decref(lw.outputs);
	json_decref(lw.role_paths);
	json_decref(lw.may_boot);
	free(lw.rel_name);
	free(lw.cwd);
	free(lw.abs_root);
	for (uint32_t i = 0; i < hashmap_len(&lw.defaults); i++)
		json_decref(hashmap_at(&lw.defaults, i)->value);
	hashmap_release(&lw.defaults);
	free(lw.render);
	sb_release(&lw.render_buf);
	free(images);
}

json_t *lower_program(struct program *p, const struct lower_opts *opts)
{
	struct lower_out o = {.plan = json_object()};
	lower_into(p, opts, &o);
	return o.plan;
}

void lower_program_write(struct program *p, const struct lower_opts *opts, struct plan_json *w)
{
	struct lower_out o = {.w = w};
	plan_json_begin_object(w);
	lower_into(p, opts, &o);
	plan_json_end_object(w);
}
