/*
 * check_decl: declarations (params, lets, roles, images, host groups, apply
 * blocks) and the bodies and attributes of their blocks.
 */
#include "check_int.h"

#include "builtins.h"
#include "lang.h"

#include <stdlib.h>
#include <string.h>

/* Attributes that a block of this kind takes (config, hosts, apply, image, param):
   stdlib/lang.h's tables, which kiln doc prints too. */
#define config_attrs stdlib_config_attrs
#define connection_attrs stdlib_connection_attrs
#define image_attrs stdlib_image_attrs
#define param_attrs stdlib_param_attrs

static void check_attrs(struct checker *ck, struct ast_node *body, const struct kiln_attr *spec,
                        const char *what)
{
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		const struct kiln_attr *a = spec;
		while (a->name && strcmp(a->name, n->name.s))
			a++;
		if (!a->name) {
			struct diag *d = diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			                            "%s has no attribute '%s'", what, n->name.s);
			const char *names[32];
			size_t k = 0;
			for (a = spec; a->name && k < 32; a++)
				names[k++] = a->name;
			diag_suggest(d, names, k, n->name.s);
			if (!d->help) {
				struct strbuf sb = STRBUF_INIT;
				for (size_t i = 0; i < k; i++)
					sb_addf(&sb, "%s%s", i ? ", " : "", names[i]);
				diag_help(d, "the attributes are %s", sb.buf);
				sb_release(&sb);
			}
			check_expr(ck, n->value, NULL);
			continue;
		}
		if (!ck_first_time(ck, &seen, n, "attribute"))
			continue;
		const struct type *want = ck_schema_type(ck, a->type);
		char wb[128], *w = ck_what(wb, sizeof(wb), "attribute '", n->name.s, "'");
		ck_expect(ck, n->value, want, check_expr(ck, n->value, want), w);
		if (w != wb)
			free(w);
	}
	hashmap_release(&seen);
}

static void check_output(struct checker *ck, struct ast_node *out)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, out->name.s);
	out->schema = s;
	if (!s) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_OUTPUT, out->name_span,
		                            "unknown output '%s'", out->name.s);
		size_t n;
		const char *const *names = stdlib_names(SCHEMA_OUTPUT, &n);
		diag_suggest(d, names, n, out->name.s);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the outputs");
		if (out->label)
			check_expr(ck, out->label, NULL);
		for (struct ast_node *n2 = out->body; n2; n2 = n2->next)
			if (n2->kind == N_ATTR)
				check_expr(ck, n2->value, NULL);
		return;
	}
	const struct kiln_arg *la = s->label ? ck_schema_arg(s, s->label) : NULL;
	if (out->label) {
		const struct type *want = la ? ck_schema_type(ck, la->type) : &type_string;
		ck_expect(ck, out->label, want, check_expr(ck, out->label, want),
		          "the output's path");
	}
	struct hashmap seen = HASHMAP_INIT;
	for (struct ast_node *n = out->body; n; n = n->next) {
		if (n->kind != N_ATTR)
			continue;
		const struct kiln_arg *sa = ck_schema_arg(s, n->name.s);
		if (!sa || (la && sa == la)) {
			struct diag *d =
			    diag_error(ck->d, E_UNKNOWN_ARGUMENT, n->name_span,
			               "output '%s' has no attribute '%s'", s->name, n->name.s);
			ck_suggest_arg(d, s, n->name.s, NULL, 0);
			check_expr(ck, n->value, NULL);
			continue;
		}
		if (hashmap_get(&seen, n->name.s)) {
			diag_error(ck->d, E_DUPLICATE_ARGUMENT, n->name_span,
			           "attribute '%s' is given twice", n->name.s);
			continue;
		}
		hashmap_put(&seen, n->name.s, n);
		const struct type *want = ck_schema_type(ck, sa->type);
		char wb[128], *w = ck_what(wb, sizeof(wb), "attribute '", sa->name, "'");
		ck_expect(ck, n->value, want, check_expr(ck, n->value, want), w);
		if (w != wb)
			free(w);
	}
	for (const struct kiln_arg *sa = s->args; sa && sa->name; sa++)
		if (sa->required && sa != la && !hashmap_get(&seen, sa->name))
			diag_error(ck->d, E_MISSING_ARGUMENT, out->name_span,
			           "output '%s' needs attribute '%s'", s->name, sa->name);
	if (la && la->required && !out->label)
		diag_error(ck->d, E_MISSING_ARGUMENT, out->name_span, "output '%s' needs a path",
		           s->name);
	hashmap_release(&seen);
}

/* Body-level lets: declared in the body's scope, visible to all its items. */
static void declare_lets(struct checker *ck, struct scope *s, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next)
		if (n->kind == N_LET)
			scope_declare(ck->p, s, n->name.s, SYM_LET, n, n->name_span);
}

static void check_body(struct checker *ck, struct ast_node *body)
{
	for (struct ast_node *n = body; n; n = n->next) {
		switch (n->kind) {
		case N_TASK:
			check_task(ck, n);
			break;
		case N_USE:
			check_use(ck, n);
			break;
		case N_LET:
			check_let(ck, n->sym);
			break;
		case N_STAGE:
		case N_TEST: {
			struct scope s;
			ck_scope_enter(ck, &s);
			declare_lets(ck, &s, n->body);
			if (n->label)
				ck_expect(ck, n->label, &type_string,
				          check_expr(ck, n->label, NULL), "a test's name");
			check_body(ck, n->body);
			ck_scope_leave(ck, &s);
			break;
		}
		case N_HANDLER:
			check_body(ck, n->body);
			break;
		case N_CONFIG:
			check_attrs(ck, n->body, config_attrs, "config");
			break;
		case N_OUTPUT:
			check_output(ck, n);
			break;
		default:
			break;
		}
	}
}

/* ---- declarations ------------------------------------------------------ */

void check_let(struct checker *ck, struct symbol *sym)
{
	if (!sym || sym->state == 2)
		return;
	if (sym->state == 1) {
		struct diag *d = diag_error(ck->d, E_LET_CYCLE, sym->span,
		                            "the value of '%s' depends on itself", sym->name);
		diag_help(d, "break the cycle: one of the lets must not refer back");
		sym->type = &type_error;
		sym->state = 2;
		return;
	}
	if (ck->let_depth >= LET_MAX_CHAIN) {
		struct diag *d = diag_error(ck->d, E_LET_CHAIN, sym->span,
		                            "the value of '%s' ends a chain of more than %d lets, "
		                            "each the value of the one before",
		                            sym->name, LET_MAX_CHAIN);
		diag_help(d, "declare the lets in the order they are used, or shorten the chain "
		             "(a list and a for expression, say)");
		sym->type = &type_error;
		sym->state = 2;
		return;
	}
	sym->state = 1;
	struct ast_node *n = sym->decl;
	const struct type *declared = n->type ? check_ast_type(ck->p, n->type) : NULL;
	struct scope *saved = ck->scope;
	ck->scope = &ck->p->globals; /* a let sees the names of the file's top level */
	ck->let_depth++;
	const struct type *t = check_expr(ck, n->value, declared);
	ck->let_depth--;
	ck->scope = saved;
	if (sym->state == 2) /* a cycle through this let was reported */
		return;
	if (declared)
		ck_expect(ck, n->value, declared, t, "this let");
	sym->type = declared ? declared : t;
	sym->state = 2;
}

void check_param(struct checker *ck, struct ast_node *n, struct symbol *sym)
{
	const struct type *declared = n->type ? check_ast_type(ck->p, n->type) : NULL;
	if (n->value) {
		const struct type *t = check_expr(ck, n->value, declared);
		if (declared)
			ck_expect(ck, n->value, declared, t, "the default");
		if (!declared)
			declared = t;
		/* a secret's default is env("NAME") and nothing else, whatever the
		   environment holds: the verdict does not depend on it */
		const struct ast_expr *v = n->value;
		bool is_env = v->kind == EX_CALL && !strcmp(v->call.fn->str.s, "env");
		const struct ast_arg *a = is_env ? v->call.args : NULL;
		if (declared->kind == T_SECRET && is_env && a && a->next)
			diag_help(diag_error(ck->d, E_SECRET_DEFAULT,
			                     ((const struct ast_arg *)a->next)->value->span,
			                     "a secret's fallback must not be written in the "
			                     "source"),
			          "remove the second argument of env(); without %s in the "
			          "environment, set it with -var, -var-file or KILN_VAR_%s",
			          a->value->kind == EX_STRING ? a->value->str.s : "the variable",
			          n->name.s);
		else if (declared->kind == T_SECRET && (!a || a->value->kind != EX_STRING))
			diag_help(
			    diag_error(ck->d, E_SECRET_DEFAULT, n->value->span,
			               "a secret's default must not be written in the source"),
			    "take it from the environment: = env(\"NAME\"), or give no "
			    "default and set it with -var, -var-file or KILN_VAR_%s",
			    n->name.s);
	}
	if (sym)
		sym->type = declared ? declared : &type_error;
	check_attrs(ck, n->body, param_attrs, "a param");
}

void check_role(struct checker *ck, struct ast_node *role)
{
	struct scope s;
	ck_scope_enter(ck, &s);
	for (struct ast_node *p = role->params; p; p = p->next) {
		struct symbol *sym =
		    scope_declare(ck->p, &s, p->name.s, SYM_LOCAL, p, p->name_span);
		sym->used = true;
		struct scope *inner = ck->scope;
		ck->scope = s.parent; /* defaults see the globals, not other parameters */
		check_param(ck, p, sym);
		ck->scope = inner;
	}
	declare_lets(ck, &s, role->body);
	struct hashmap handlers = HASHMAP_INIT;
	struct hashmap *saved = ck->handlers;
	ck_collect_handlers(ck, &handlers, role->body, &s, 0);
	ck->handlers = &handlers;
	check_body(ck, role->body);
	ck->handlers = saved;
	hashmap_release(&handlers);
	ck_scope_leave(ck, &s);
}

static void check_from(struct checker *ck, struct ast_node *image)
{
	struct ast_expr *from = image->value;
	struct ast_expr *fn = from->kind == EX_CALL ? from->call.fn : from;
	if (fn->kind == EX_MEMBER && fn->member.obj->kind == EX_IDENT &&
	    !strcmp(fn->member.obj->str.s, "image"))
		fn = fn->member.obj; /* image.NAME */
	const char *name = from->kind == EX_MEMBER ? from->member.name
	                   : fn->kind == EX_IDENT  ? fn->str.s
	                                           : NULL;
	if (from->kind == EX_ERROR)
		return;
	if (!name) {
		diag_help(diag_error(ck->d, E_UNKNOWN_BASE, from->span,
		                     "'from' takes an image's name or a base such as debian(...)"),
		          "e.g. image app from base { ... } or image base from busybox() { ... }");
		return;
	}
	struct symbol *sym = scope_lookup(&ck->p->globals, name);
	if (from->kind != EX_CALL && sym && sym->kind == SYM_IMAGE) {
		from->sym = sym;
		sym->used = true;
		return;
	}
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_BASE, name);
	if (!s) {
		struct diag *d =
		    diag_error(ck->d, E_UNKNOWN_BASE, from->kind == EX_CALL ? fn->span : from->span,
		               "'%s' is neither an image nor a base", name);
		const char *names[512];
		size_t k = 0, nb;
		const char *const *bases = stdlib_names(SCHEMA_BASE, &nb);
		for (size_t i = 0; i < nb && k < 512; i++)
			names[k++] = bases[i];
		for (uint32_t i = 0; i < hashmap_len(&ck->p->globals.names) && k < 512; i++) {
			struct symbol *g = hashmap_at(&ck->p->globals.names, i)->value;
			if (g->kind == SYM_IMAGE && g->decl != image)
				names[k++] = g->name;
		}
		diag_suggest(d, names, k, name);
		if (!d->help)
			diag_help(d, "'kiln doc' lists the bases");
		return;
	}
	check_args(ck, s, from->kind == EX_CALL ? from->call.args : NULL, from->span, "base");
}

/*
 * An image's or an apply block's body: its lets in a scope of their own, its
 * handlers (and its roles') the ones its tasks may notify, its attributes.
 */
static void check_block_body(struct checker *ck, struct ast_node *block,
                             const struct kiln_attr *attrs, const char *what)
{
	struct scope s;
	ck_scope_enter(ck, &s);
	declare_lets(ck, &s, block->body);
	struct hashmap handlers = HASHMAP_INIT;
	struct hashmap *saved = ck->handlers;
	ck_collect_handlers(ck, &handlers, block->body, &s, 0);
	ck->handlers = &handlers;
	check_attrs(ck, block->body, attrs, what);
	check_body(ck, block->body);
	ck->handlers = saved;
	hashmap_release(&handlers);
	ck_warn_unused_handlers(ck, block->body);
	ck_scope_leave(ck, &s);
}

void check_image(struct checker *ck, struct ast_node *image)
{
	check_from(ck, image);
	check_block_body(ck, image, image_attrs, "an image");
}

void check_hosts(struct checker *ck, struct ast_node *hosts)
{
	check_attrs(ck, hosts->body, connection_attrs, "a host group");
	for (struct ast_node *n = hosts->body; n; n = n->next) {
		if (n->kind == N_HOST) {
			ck_expect(ck, n->label, &type_string, check_expr(ck, n->label, NULL),
			          "a host name");
			check_attrs(ck, n->body, connection_attrs, "a host");
		} else if (n->kind == N_GROUP_REF) {
			struct symbol *g = scope_lookup(&ck->p->globals, n->name.s);
			if (!g || g->kind != SYM_GROUP) {
				struct diag *d = diag_error(ck->d, E_UNKNOWN_GROUP, n->name_span,
				                            "unknown host group '%s'", n->name.s);
				size_t k;
				const char *const *names = scope_names(&ck->p->globals, &k);
				diag_suggest(d, names, k, n->name.s);
			} else {
				g->used = true;
				n->sym = g;
			}
		}
	}
}

void check_apply(struct checker *ck, struct ast_node *ap)
{
	struct symbol *g = scope_lookup(&ck->p->globals, ap->name.s);
	if (!g || g->kind != SYM_GROUP) {
		struct diag *d = diag_error(ck->d, E_UNKNOWN_GROUP, ap->name_span,
		                            "unknown host group '%s'", ap->name.s);
		ck_suggest_global(ck, d, SYM_GROUP, ap->name.s);
		if (!d->help)
			diag_help(d,
			          "declare it: hosts %s { \"host.example.com\" }, or load an "
			          "inventory file",
			          ap->name.s);
	} else {
		g->used = true;
		ap->sym = g;
	}
	check_block_body(ck, ap, connection_attrs, "an apply block");
}

/* Does a 'use' in body (or in the roles it uses, transitively) lead to target? */
static bool role_reaches(struct checker *ck, struct ast_node *body, const struct ast_node *target,
                         struct hashmap *seen)
{
	for (struct ast_node *n = body; n; n = n->next) {
		if (n->kind != N_USE)
			continue;
		struct symbol *r = scope_lookup(&ck->p->globals, n->name.s);
		if (!r || r->kind != SYM_ROLE)
			continue;
		if (r->decl == target)
			return true;
		if (hashmap_get(seen, r->name))
			continue;
		hashmap_put(seen, r->name, r);
		if (role_reaches(ck, r->decl->body, target, seen))
			return true;
	}
	return false;
}

/* Roles that use themselves, directly or through others (E2015), found before lowering. */
void check_role_cycles(struct checker *ck)
{
	struct hashmap reported = HASHMAP_INIT; /* roles of a cycle already reported */
	for (uint32_t f = 0; f < ck->p->nfiles; f++)
		for (struct ast_node *role = ck->p->files[f]->items; role; role = role->next) {
			if (role->kind != N_ROLE || hashmap_get(&reported, role->name.s))
				continue;
			for (struct ast_node *u = role->body; u; u = u->next) {
				if (u->kind != N_USE)
					continue;
				struct symbol *r = scope_lookup(&ck->p->globals, u->name.s);
				if (!r || r->kind != SYM_ROLE)
					continue;
				struct hashmap seen = HASHMAP_INIT;
				bool cycle =
				    r->decl == role || role_reaches(ck, r->decl->body, role, &seen);
				if (cycle) {
					diag_help(
					    diag_error(ck->d, E_ROLE_CYCLE, u->span,
					               "role '%s' uses itself through 'use %s'",
					               role->name.s, u->name.s),
					    "a role cannot use a role that leads back to it");
					/* one report per cycle: its other roles are not reported
					 * again */
					hashmap_put(&reported, role->name.s, role);
					hashmap_put(&reported, r->name, r);
					for (uint32_t i = 0; i < hashmap_len(&seen); i++)
						hashmap_put(&reported, hashmap_at(&seen, i)->key,
						            role);
				}
				hashmap_release(&seen);
			}
		}
	hashmap_release(&reported);
}
