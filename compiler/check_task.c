/*
 * check_task: tasks and the arguments of modules, functions and bases; the
 * templates a task reads; the roles a body uses.
 */
#include "check_int.h"

#include "builtins.h"
#include "lang.h"
#include "path.h"
#include "template.h"

#include <stdlib.h>
#include <string.h>

/* ---- arguments ---------------------------------------------------------- */

const struct kiln_arg *ck_schema_arg(const struct kiln_schema *s, const char *name)
{
	for (const struct kiln_arg *a = s->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

void ck_suggest_arg(struct diag *d, const struct kiln_schema *s, const char *name,
                    const char *const *extra, size_t nextra)
{
	const char *names[96];
	size_t n = 0;
	for (const struct kiln_arg *a = s->args; a && a->name && n < 90; a++)
		names[n++] = a->name;
	for (size_t i = 0; i < nextra && n < 96; i++)
		names[n++] = extra[i];
	diag_suggest(d, names, n, name);
	if (!d->help)
		diag_help(d, "'kiln doc %s' lists its arguments", s->name);
}

/*
 * Is attribute n the first of its name in a body? seen holds the names met so
 * far; a second one is reported (E3006, WHAT 'NAME' is given twice) next to
 * the first.
 */
bool ck_first_time(struct checker *ck, struct hashmap *seen, struct ast_node *n, const char *what)
{
	struct ast_node *dup = hashmap_get(seen, n->name.s);
	if (dup) {
		struct diag *d = diag_error(ck->d, E_DUPLICATE_ARGUMENT, n->name_span,
		                            "%s '%s' is given twice", what, n->name.s);
		diag_label(d, dup->name_span, "first here");
		return false;
	}
	hashmap_put(seen, n->name.s, n);
	return true;
}

void check_args(struct checker *ck, const struct kiln_schema *s, struct ast_arg *args,
                struct src_span call_span, const char *what)
{
	const struct kiln_arg *given[64] = {0};
	size_t nschema = 0;
	while (s->args && s->args[nschema].name)
		nschema++;
	size_t pos = 0, extra = 0;
	for (struct ast_arg *a = args; a; a = a->next) {
		const struct kiln_arg *sa;
		if (a->name.len) {
			sa = ck_schema_arg(s, a->name.s);
			if (!sa) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, a->name_span,
				                            "%s '%s' has no argument '%s'", what,
				                            s->name, a->name.s);
				ck_suggest_arg(d, s, a->name.s, NULL, 0);
				check_expr(ck, a->value, NULL);
				continue;
			}
		} else if (pos < nschema) {
			sa = &s->args[pos++];
		} else if (s->variadic && nschema) {
			sa = &s->args[nschema - 1];
			extra++;
		} else {
			diag_error(ck->d, E_ARG_COUNT, a->value->span,
			           "%s '%s' takes at most %zu argument%s", what, s->name, nschema,
			           nschema == 1 ? "" : "s");
			check_expr(ck, a->value, NULL);
			continue;
		}
		size_t idx = (size_t)(sa - s->args);
		if (idx < 64 && given[idx] && !(s->variadic && idx == nschema - 1)) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, a->value->span,
			           "argument '%s' is given twice", sa->name);
			continue;
		}
		if (idx < 64)
			given[idx] = sa;
		const struct type *want = ck_schema_type(ck, sa->type);
		const struct type *got = check_expr(ck, a->value, want);
		char wb[128], *w = ck_what(wb, sizeof(wb), "argument '", sa->name, "'");
		ck_expect(ck, a->value, want, got, w);
		if (w != wb)
			free(w);
	}
	for (size_t i = 0; i < nschema && i < 64; i++)
		if (s->args[i].required && !given[i])
			diag_help(diag_error(ck->d, E_MISSING_ARGUMENT, call_span,
			                     "%s '%s' needs argument '%s'", what, s->name,
			                     s->args[i].name),
			          "%s: %s", s->args[i].name, s->args[i].doc);
}

/* ---- tasks -------------------------------------------------------------- */

static void check_notify(struct checker *ck, struct ast_node *attr)
{
	struct ast_expr *v = attr->value;
	struct ast_expr *items = NULL;
	if (v->kind == EX_LIST) {
		items = v->list.items;
	} else if (v->kind == EX_IDENT) {
		items = v;
	} else {
		diag_help(diag_error(ck->d, E_TYPE_MISMATCH, v->span,
		                     "'notify' takes handler names, found an expression"),
		          "write notify = [handler_a, handler_b]");
		return;
	}
	for (struct ast_expr *h = items; h; h = v->kind == EX_LIST ? h->next : NULL) {
		if (h->kind != EX_IDENT) {
			struct diag *d = diag_error(ck->d, E_TYPE_MISMATCH, h->span,
			                            "'notify' takes handler names");
			if (h->kind == EX_STRING)
				diag_help(d, "write the handler's name without quotes: %s",
				          h->str.s);
			continue;
		}
		struct symbol *sym = ck->handlers ? hashmap_get(ck->handlers, h->str.s) : NULL;
		if (!sym) {
			struct diag *d = diag_error(ck->d, E_UNKNOWN_HANDLER, h->span,
			                            "unknown handler '%s'", h->str.s);
			diag_label(d, attr->span, "notified by this task");
			if (ck->handlers) {
				const char **names =
				    xmalloc((hashmap_len(ck->handlers) + 1) * sizeof(*names));
				size_t k = 0;
				for (uint32_t i = 0; i < hashmap_len(ck->handlers); i++)
					if (hashmap_at(ck->handlers, i)->key[0] != '\1')
						names[k++] = hashmap_at(ck->handlers, i)->key;
				diag_suggest(d, names, k, h->str.s);
				free(names);
			}
			if (!d->help)
				diag_help(
				    d,
				    "declare it in the image, role or apply block: handler %s "
				    "{ ... }",
				    h->str.s);
			continue;
		}
		sym->used = true;
		h->sym = sym;
		h->flags = AST_CHECKED;
	}
}

/*
 * The argument a task's label fills: the module's label argument, unless the
 * body sets that argument itself; then the label only describes the task.
 * file "/etc/motd" { ... } sets path; file "motd" { path = "/etc/motd" } does not.
 */
const struct kiln_arg *label_arg(const struct ast_node *task, const struct kiln_schema *s)
{
	if (!task->label || !s || !s->label)
		return NULL;
	for (const struct ast_node *n = task->body; n; n = n->next)
		if (n->kind == N_ATTR && !strcmp(n->name.s, s->label))
			return NULL;
	return ck_schema_arg(s, s->label);
}

/*
 * The types of a loop's variables over a value of type t: the key (a list's
 * index, a map's key) and the element. A value that is neither a list nor a
 * map is reported at span; then false, with key int and element any.
 */
static bool loop_types(struct checker *ck, const struct type *t, struct src_span span,
                       const struct type **ret_key, const struct type **ret_elem)
{
	*ret_key = &type_int;
	*ret_elem = &type_any;
	if (t->kind == T_LIST) {
		*ret_elem = t->elem;
	} else if (t->kind == T_MAP || t->kind == T_OBJECT) {
		*ret_key = &type_string;
		*ret_elem = t->kind == T_MAP ? t->elem : &type_any;
	} else if (t->kind != T_ERROR && t->kind != T_ANY) {
		diag_error(ck->d, E_TYPE_MISMATCH, span,
		           "'for' loops over a list or a map, found %s", ck_tstr(ck, t));
		return false;
	}
	return true;
}

/* ---- templates --------------------------------------------------------- */

static void check_tmpl_nodes(struct checker *ck, struct tmpl_node *n)
{
	for (; n; n = n->next) {
		switch (n->kind) {
		case TM_TEXT:
			break;
		case TM_EXPR: {
			const struct type *t = check_expr(ck, n->expr, NULL);
			if (t->kind == T_LIST || t->kind == T_MAP || t->kind == T_OBJECT)
				diag_help(diag_error(ck->d, E_TYPE_MISMATCH, n->expr->span,
				                     "cannot put a %s into the text",
				                     ck_tstr(ck, t)),
				          "loop over it with {%% for x in ... %%}, or join it: "
				          "{{ join(\", \", xs) }}");
			break;
		}
		case TM_FOR: {
			const struct type *t = check_expr(ck, n->expr, NULL);
			const struct type *key, *elem;
			loop_types(ck, t, n->expr->span, &key, &elem);
			struct scope s;
			ck_scope_enter(ck, &s);
			n->sym = scope_declare(ck->p, &s, n->var, SYM_LOCAL, NULL, n->var_span);
			n->sym->used = true;
			if (n->var2) {
				n->sym2 = scope_declare(ck->p, &s, n->var2, SYM_LOCAL, NULL,
				                        n->var2_span);
				n->sym2->used = true;
				n->sym->type = key;
				n->sym2->type = elem;
			} else {
				n->sym->type = t->kind == T_LIST ? elem : &type_any;
			}
			check_tmpl_nodes(ck, n->body);
			ck_scope_leave(ck, &s);
			break;
		}
		case TM_IF:
			for (struct tmpl_node *b = n; b; b = b->els) {
				if (b->expr)
					ck_expect(ck, b->expr, &type_bool,
					          check_expr(ck, b->expr, NULL), "'{% if %}'");
				check_tmpl_nodes(ck, b->body);
			}
			break;
		}
	}
}

/* template { src = "..." }: read, parse and check the template; keep it on the src attribute. */
static void check_template_src(struct checker *ck, struct ast_node *task, struct ast_node *src)
{
	if (src->value->kind != EX_STRING) {
		if (!(src->value->flags & AST_FAILED))
			diag_help(diag_error(ck->d, E_TYPE_MISMATCH, src->value->span,
			                     "a template's src must be a plain string"),
			          "templates are read when the build is compiled; write the path");
		return;
	}
	const char *dir = ".";
	for (uint32_t i = 0; i < ck->p->nfiles; i++)
		if (ck->p->files[i]->file == task->span.file)
			dir = ck->p->files[i]->dir;
	char *path = path_join(dir, src->value->str.s);
	uint32_t err_id = 0;
	int id = source_load(&ck->p->cx->sm, path, &err_id);
	if (id < 0) {
		diag_help(diag_error(ck->d, E_FILE_NOT_FOUND, src->value->span,
		                     "cannot read template %s: %s", path, strerror(-id)),
		          "paths are relative to the file that names them");
		free(path);
		return;
	}
	free(path);
	struct tmpl *t = template_parse(ck->p, (uint32_t)id);
	check_tmpl_nodes(ck, t->nodes);
	src->sym = t;
}

void check_task(struct checker *ck, struct ast_node *task)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, task->name.s);
	task->schema = s;
	struct scope loop;
	ck_scope_enter(ck, &loop);
	/* the loop first: its variables are visible in the whole task */
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind != N_FOR)
			continue;
		const struct type *t = check_expr(ck, n->value, NULL);
		const struct type *key, *elem;
		if (!loop_types(ck, t, n->value->span, &key, &elem))
			elem = &type_error;
		struct symbol *v1 =
		    scope_declare(ck->p, &loop, n->name.s, SYM_LOCAL, NULL, n->name_span);
		v1->used = true;
		if (n->label) {
			struct symbol *v2 = scope_declare(ck->p, &loop, n->label->str.s, SYM_LOCAL,
			                                  NULL, n->label->span);
			v2->used = true;
			n->label->sym = v2;
			v1->type = key;
			v2->type = elem;
		} else {
			v1->type = t->kind == T_LIST
			               ? elem
			               : (t->kind == T_ERROR ? &type_error : &type_any);
		}
		n->sym = v1;
	}
	if (!s) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_MODULE, task->name_span,
		                            "unknown module '%s'", task->name.s);
		size_t n;
		const char *const *names = stdlib_names(SCHEMA_MODULE, &n);
		diag_suggest(d, names, n, task->name.s);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the modules");
	}
	const struct kiln_arg *la = label_arg(task, s);
	if (task->label) {
		const struct type *want = la ? ck_schema_type(ck, la->type) : &type_string;
		const struct type *got = check_expr(ck, task->label, want);
		char wb[128],
		    *w = la ? ck_what(wb, sizeof(wb), "the label (argument '", la->name, "')")
		            : NULL;
		ck_expect(ck, task->label, want, got, la ? w : "a task's label");
		if (w != wb)
			free(w);
	}
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = task->body; n; n = n->next) {
		if (n->kind == N_WHEN) {
			const struct type *t = check_expr(ck, n->value, NULL);
			ck_expect(ck, n->value, &type_bool, t, "'when'");
			continue;
		}
		if (n->kind != N_ATTR)
			continue;
		if (!ck_first_time(ck, &seen, n, "argument"))
			continue;
		if (!strcmp(n->name.s, "notify")) {
			check_notify(ck, n);
			continue;
		}
		if (!strcmp(n->name.s, "ignore_errors")) {
			ck_expect(ck, n->value, &type_bool, check_expr(ck, n->value, NULL),
			          "'ignore_errors'");
			continue;
		}
		if (!s) {
			check_expr(ck, n->value, NULL);
			continue;
		}
		const struct kiln_arg *sa = ck_schema_arg(s, n->name.s);
		if (!sa) {
			struct diag *d =
			    diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			               "module '%s' has no argument '%s'", s->name, n->name.s);
			/* beside its own arguments, every module takes stdlib/lang.c's */
			const char *task_common[8];
			size_t ncommon = 0;
			for (const struct kiln_attr *a = stdlib_task_attrs; a->name && ncommon < 8;
			     a++)
				task_common[ncommon++] = a->name;
			ck_suggest_arg(d, s, n->name.s, task_common, ncommon);
			check_expr(ck, n->value, NULL);
			continue;
		}
		const struct type *want = ck_schema_type(ck, sa->type);
		const struct type *got = check_expr(ck, n->value, want);
		char wb[128], *w = ck_what(wb, sizeof(wb), "argument '", sa->name, "'");
		ck_expect(ck, n->value, want, got, w);
		if (w != wb)
			free(w);
		if (s->template_arg && !strcmp(sa->name, s->template_arg))
			check_template_src(ck, task, n);
	}
	if (s) {
		for (const struct kiln_arg *sa = s->args; sa && sa->name; sa++) {
			bool by_label = la == sa;
			if (sa->required && !by_label && !hashmap_get(&seen, sa->name))
				diag_help(diag_error(ck->d, E_MISSING_ARGUMENT, task->name_span,
				                     "module '%s' needs argument '%s'", s->name,
				                     sa->name),
				          "%s: %s", sa->name, sa->doc);
		}
		for (const char *const *g = s->one_of; g && *g; g++) {
			char *group = xstrdup(*g);
			int count = 0;
			for (char *save, *tok = strtok_r(group, "|", &save); tok;
			     tok = strtok_r(NULL, "|", &save)) {
				bool by_label = la && !strcmp(la->name, tok);
				count += by_label || hashmap_get(&seen, tok) != NULL;
			}
			free(group);
			if (count != 1) {
				char *alts = xstrdup(*g);
				for (char *c = alts; *c; c++)
					if (*c == '|')
						*c = '/';
				diag_error(ck->d, E_ONE_OF, task->name_span,
				           "module '%s' needs exactly one of %s, %s", s->name, alts,
				           count ? "not several" : "found none");
				free(alts);
			}
		}
	}
	hashmap_release(&seen);
	ck_scope_leave(ck, &loop);
}

void check_use(struct checker *ck, struct ast_node *use)
{
	struct symbol *role = scope_lookup(ck->scope, use->name.s);
	if (!role || role->kind != SYM_ROLE) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_ROLE, use->name_span,
		                            "unknown role '%s'", use->name.s);
		ck_suggest_global(ck, d, SYM_ROLE, use->name.s);
		for (struct ast_arg *a = use->args; a; a = a->next)
			check_expr(ck, a->value, NULL);
		return;
	}
	role->used = true;
	use->sym = role;
	struct ast_node *params[64];
	size_t np = 0;
	for (struct ast_node *p = role->decl->params; p && np < 64; p = p->next)
		params[np++] = p;
	bool given[64] = {0};
	size_t pos = 0;
	for (struct ast_arg *a = use->args; a; a = a->next) {
		size_t idx = np;
		if (a->name.len) {
			for (idx = 0; idx < np && strcmp(params[idx]->name.s, a->name.s); idx++)
				;
			if (idx == np) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, a->name_span,
				                            "role '%s' has no parameter '%s'",
				                            role->name, a->name.s);
				const char *names[64];
				for (size_t i = 0; i < np; i++)
					names[i] = params[i]->name.s;
				diag_suggest(d, names, np, a->name.s);
				check_expr(ck, a->value, NULL);
				continue;
			}
		} else if (pos < np) {
			idx = pos++;
		} else {
			diag_error(ck->d, E_ARG_COUNT, a->value->span,
			           "role '%s' takes at most %zu argument%s", role->name, np,
			           np == 1 ? "" : "s");
			check_expr(ck, a->value, NULL);
			continue;
		}
		if (given[idx]) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, a->value->span,
			           "parameter '%s' is given twice", params[idx]->name.s);
			continue;
		}
		given[idx] = true;
		const struct type *want =
		    params[idx]->sym ? ((struct symbol *)params[idx]->sym)->type : &type_any;
		const struct type *got = check_expr(ck, a->value, want);
		char wb[128], *w = ck_what(wb, sizeof(wb), "parameter '", params[idx]->name.s, "'");
		ck_expect(ck, a->value, want, got, w);
		if (w != wb)
			free(w);
	}
	for (size_t i = 0; i < np; i++)
		if (!given[i] && !params[i]->value) {
			struct diag *d = diag_error(ck->d, E_MISSING_ARGUMENT, use->span,
			                            "role '%s' needs parameter '%s'", role->name,
			                            params[i]->name.s);
			diag_label(d, params[i]->name_span, "declared here without a default");
		}
}
