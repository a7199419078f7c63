/*
 * vars: give every param its value. Input: the params' declarations and the
 * settings from the command line (-var, -var-file, in order) and the
 * environment (KILN_VAR_name). Output: each param symbol's value and source.
 *
 * Precedence, as Packer's: the last -var or -var-file that sets a name wins;
 * the command line wins over the environment; the environment over the
 * default. A secret's value never enters the plan: it goes to p->secrets,
 * which apply gets in process, and the plan names where it comes from. A
 * plan.json applied later gets its secrets from vars_plan_secrets, by the
 * same rules, from apply's own settings or the place the plan names.
 */
#include "vars.h"

#include "builtins.h"
#include "eval.h"
#include "path.h"
#include "plan_format.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Convert text from -var or KILN_VAR_ to the param's type; NULL if it does not fit. */
static json_t *from_text(const struct type *t, const char *text)
{
	switch (t->kind) {
	case T_STRING:
	case T_SECRET:
	case T_PATH:
	case T_ANY:
		return json_string(text);
	case T_MODE: {
		/* as a mode is read everywhere: octal digits or an absolute symbolic mode */
		unsigned m;
		const char *why;
		return stdlib_mode_parse(text, &m, &why) == 0 ? json_integer((json_int_t)m) : NULL;
	}
	case T_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (!*text || *end || errno)
			return NULL;
		return json_integer(v);
	}
	case T_BOOL:
		if (!strcmp(text, "true"))
			return json_true();
		if (!strcmp(text, "false"))
			return json_false();
		return NULL;
	case T_ENUM:
		return type_enum_has(t, text) ? json_string(text) : NULL;
	default: {
		/* lists, maps and objects are written as JSON: -var 'ports=[80,443]' */
		json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
		if (j && !val_fits(t, j)) {
			json_decref(j);
			return NULL;
		}
		if (!j && t->kind == T_UNION)
			j = json_string(text);
		return j;
	}
	}
}

static const char *type_text(struct program *p, const struct type *t)
{
	return type_str(p->a, t);
}

/* The secret's source as the plan records it (a var-file relative to the root). */
static json_t *secret_ref(const struct program *p, const struct symbol *sym)
{
	if (!strcmp(sym->source, "env"))
		return json_pack("{s:s,s:s}", PLAN_K_FROM, "env", PLAN_K_VAR, sym->source_detail);
	if (!strcmp(sym->source, "var-file")) {
		const char *f = sym->source_detail;
		char *rel = f[0] == '/' || !p->root ? xstrdup(f) : path_relative(p->root, f);
		json_t *r = json_pack("{s:s,s:s,s:s}", PLAN_K_FROM, "var-file", PLAN_K_FILE, rel,
		                      PLAN_K_NAME, sym->name);
		free(rel);
		return r;
	}
	return json_pack("{s:s,s:s}", PLAN_K_FROM, "var", PLAN_K_NAME, sym->name);
}

json_t *vars_param_plan(const struct program *p, const struct symbol *sym)
{
	json_t *o = json_object();
	json_object_set_new(o, PLAN_K_SOURCE, json_string(sym->source ? sym->source : "none"));
	if (sym->type->kind == T_SECRET)
		json_object_set_new(o, PLAN_K_SECRET, secret_ref(p, sym));
	else if (sym->value.json)
		json_object_set_new(o, PLAN_K_VALUE, val_to_plan(&sym->value));
	return o;
}

static void set_value(struct program *p, struct symbol *sym, json_t *j, const char *source,
                      const char *detail)
{
	sym->source = source;
	sym->source_detail = detail;
	sym->eval_state = 2;
	if (sym->type->kind == T_SECRET) {
		/* the value goes to the table apply gets; the program sees a deferred read */
		if (!p->secrets)
			p->secrets = json_object();
		if (json_is_string(j))
			json_object_set(p->secrets, sym->name, j);
		json_decref(j);
		sym->value = (struct val){json_pack("{s:s}", PLAN_E_SECRET, sym->name), true, true};
	} else {
		sym->value = (struct val){j, false, false};
	}
}

static void bad_value(struct program *p, struct symbol *sym, struct src_span span,
                      const char *origin, const char *text)
{
	struct diag *d = diag_error(
	    &p->cx->diags, E_BAD_VARIABLE, span, "%s: param '%s' expects %s, not '%s'", origin,
	    sym->name, type_text(p, sym->type), sym->type->kind == T_SECRET ? "(secret)" : text);
	if (sym->type->kind == T_LIST || sym->type->kind == T_MAP || sym->type->kind == T_OBJECT)
		diag_help(d, "write lists and maps as JSON: -var '%s=[\"a\", \"b\"]'", sym->name);
}

/* The variable a secret's default reads: NAME of env("NAME"), else NULL (anything
   else, env() with a fallback among them, is E3011, reported by check). */
static const char *secret_default_var(const struct ast_expr *def)
{
	if (!def || def->kind != EX_CALL || strcmp(def->call.fn->str.s, "env"))
		return NULL;
	const struct ast_arg *a = def->call.args;
	if (!a || a->next || a->value->kind != EX_STRING)
		return NULL;
	return a->value->str.s;
}

/* Give sym its value; false when nothing sets it. A param of a plan.json (no
   declaration) has plan_default: the variable its env("NAME") default reads. */
static bool resolve_one(struct program *p, struct symbol *sym, const char *plan_default)
{
	/* the command line, the last setting first: through the index of names, not a
	   look at every setting for every param (a var-file may set thousands) */
	if (p->var_index_of != p->vars || p->var_index_n != p->nvars) {
		hashmap_release(&p->var_index);
		for (uint32_t i = 0; i < p->nvars; i++)
			hashmap_put(&p->var_index, p->vars[i].name, (void *)(uintptr_t)(i + 1));
		p->var_index_of = p->vars;
		p->var_index_n = p->nvars;
	}
	uintptr_t at = (uintptr_t)hashmap_get(&p->var_index, sym->name);
	if (at) {
		struct var_setting *v = &p->vars[at - 1];
		v->used = true;
		json_t *j = NULL;
		if (v->text) {
			j = from_text(sym->type, v->text);
			if (!j) {
				char *origin = xasprintf("-var %s=...", sym->name);
				bad_value(p, sym, sym->span, origin, v->text);
				free(origin);
				return true;
			}
			set_value(p, sym, j, "var", NULL);
			return true;
		}
		if (v->expr) {
			struct val val = eval_expr(p, NULL, v->expr);
			if (!val.json)
				return true;
			if (val.deferred || !val_fits(sym->type, val.json)) {
				char *shown = val_show(&val);
				bad_value(p, sym, v->span, v->origin, shown);
				free(shown);
				val_release(&val);
				return true;
			}
			set_value(p, sym, val.json, "var-file", v->origin);
			return true;
		}
		if (!val_fits(sym->type, v->json)) {
			char *shown = json_dumps(v->json, JSON_ENCODE_ANY | JSON_COMPACT);
			char *origin = xasprintf("var-file %s", v->origin);
			bad_value(p, sym, sym->span, origin, shown ? shown : "?");
			free(origin);
			free(shown);
			return true;
		}
		set_value(p, sym, json_incref(v->json), "var-file", v->origin);
		return true;
	}
	/* the environment */
	char *env_name = xasprintf("KILN_VAR_%s", sym->name);
	const char *text = getenv(env_name);
	if (text) {
		json_t *j = from_text(sym->type, text);
		if (!j)
			bad_value(p, sym, sym->span, env_name, text);
		else
			set_value(p, sym, j, "env", arena_strdup(p->a, env_name));
		free(env_name);
		return true;
	}
	free(env_name);
	/* the default */
	struct ast_expr *def = sym->decl ? sym->decl->value : NULL;
	if (sym->type->kind == T_SECRET) {
		/* only env("NAME") is allowed (E3011 otherwise, whatever the environment
		   holds): the plan keeps the name */
		if (def && !secret_default_var(def))
			return true; /* reported by check */
		const char *var = def ? secret_default_var(def) : plan_default;
		const char *value = var ? getenv(var) : NULL;
		if (!value)
			return false;
		set_value(p, sym, json_string(value), "env", var);
		return true;
	}
	if (!def)
		return false;
	struct val v = eval_expr(p, NULL, def);
	if (!v.json)
		return true; /* reported by eval */
	sym->value = v;
	sym->eval_state = 2;
	sym->source = "default";
	return true;
}

static void report_missing(struct program *p, struct symbol **missing, uint32_t nmissing,
                           uint32_t total_missing)
{
	struct strbuf sb = STRBUF_INIT;
	for (uint32_t i = 0; i < nmissing; i++)
		sb_addf(&sb, "%s'%s'", i ? ", " : "", missing[i]->name);
	if (total_missing > nmissing)
		sb_addf(&sb, " and %u more", total_missing - nmissing);
	struct diag *d = diag_error(
	    &p->cx->diags, E_MISSING_VALUES, missing[0]->span, "%u param%s ha%s no value: %s",
	    total_missing, total_missing == 1 ? "" : "s", total_missing == 1 ? "s" : "ve", sb.buf);
	for (uint32_t i = 1; i < nmissing && i <= DIAG_MAX_LABELS; i++)
		diag_label(d, missing[i]->span, "'%s' has no value either", missing[i]->name);
	diag_help(d,
	          "set each with -var %s=VALUE, a -var-file, or KILN_VAR_%s in the "
	          "environment",
	          missing[0]->name, missing[0]->name);
	sb_release(&sb);
}

/* Settings for names no param declares (for a plan.json: no secret param of it). */
static void report_unused(struct program *p, bool plan)
{
	for (uint32_t i = 0; i < p->nvars; i++) {
		struct var_setting *v = &p->vars[i];
		if (v->used)
			continue;
		struct symbol *sym = scope_lookup(&p->globals, v->name);
		if (sym && sym->kind == SYM_PARAM && (!plan || sym->type->kind == T_SECRET))
			continue; /* used by an earlier setting's param, overridden */
		if (sym && sym->kind == SYM_PARAM) {
			/* a plan.json holds the other params' values as compile gave them; a
			   var-file given again for its secrets sets them too, unremarked */
			if (v->text)
				diag_file_warning(&p->cx->diags, W_VAR_FILE_UNUSED, p->cmdline,
				                  "-var %s: the plan holds param '%s' as it was "
				                  "compiled, ignoring; compile again to change it",
				                  v->name, v->name);
			continue;
		}
		size_t n;
		const char *const *names = scope_names(&p->globals, &n);
		if (v->text) {
			struct diag *d = diag_file_error(
			    &p->cx->diags, E_UNKNOWN_VARIABLE, p->cmdline,
			    "-var %s=...: no param '%s' is declared", v->name, v->name);
			diag_suggest(d, names, n, v->name);
		} else if (v->expr) {
			struct diag *d =
			    diag_warning(&p->cx->diags, W_VAR_FILE_UNUSED, v->span,
			                 "no param '%s' is declared, ignoring", v->name);
			diag_suggest(d, names, n, v->name);
		} else {
			diag_file_warning(&p->cx->diags, W_VAR_FILE_UNUSED, p->cmdline,
			                  "var-file %s: no param '%s' is declared, ignoring",
			                  v->origin, v->name);
		}
	}
}

void vars_resolve(struct program *p)
{
	struct symbol *missing[64];
	uint32_t nmissing = 0, total_missing = 0;
	if (!p->secrets)
		p->secrets = json_object();
	for (uint32_t i = 0; i < hashmap_len(&p->globals.names); i++) {
		struct symbol *sym = hashmap_at(&p->globals.names, i)->value;
		if (sym->kind != SYM_PARAM || sym->type->kind == T_ERROR)
			continue;
		if (!resolve_one(p, sym, NULL)) {
			total_missing++;
			if (nmissing < 64)
				missing[nmissing++] = sym;
		}
	}
	if (total_missing && !p->lint)
		report_missing(p, missing, nmissing, total_missing);
	report_unused(p, false);
}

void vars_plan_secrets(struct program *p, json_t *params)
{
	if (!p->secrets)
		p->secrets = json_object();
	struct src_span span = {p->cmdline, 0, 0};
	const char *name;
	json_t *entry;
	/* every param the plan has, for the messages about settings */
	json_object_foreach (params, name, entry) {
		struct symbol *sym =
		    scope_declare(p, &p->globals, arena_strdup(p->a, name), SYM_PARAM, NULL, span);
		sym->type = json_object_get(entry, PLAN_K_SECRET) ? &type_secret : &type_any;
	}
	json_object_foreach (params, name, entry) {
		json_t *ref = json_object_get(entry, PLAN_K_SECRET);
		if (!ref)
			continue;
		struct symbol *sym = scope_lookup(&p->globals, name);
		/* env("NAME") as the default: the plan records NAME (KILN_VAR_name is read
		   anyway) */
		const char *from = json_string_value(json_object_get(ref, PLAN_K_FROM));
		const char *var = json_string_value(json_object_get(ref, PLAN_K_VAR));
		char *own = xasprintf("KILN_VAR_%s", name);
		const char *plan_default =
		    from && !strcmp(from, "env") && var && strcmp(var, own) ? var : NULL;
		free(own);
		if (resolve_one(p, sym, plan_default))
			continue;
		const char *file = json_string_value(json_object_get(ref, PLAN_K_FILE));
		char *where = !from || !strcmp(from, "var") ? xstrdup("-var")
		              : !strcmp(from, "env")
		                  ? xasprintf("the environment's %s", var ? var : "?")
		                  : xasprintf("var-file %s", file ? file : "?");
		diag_help(diag_file_error(&p->cx->diags, E_MISSING_VALUES, p->cmdline,
		                          "secret param '%s' of the plan has no value (compile "
		                          "took it from %s)",
		                          name, where),
		          "set it for apply as well: -var %s=VALUE, a -var-file, or KILN_VAR_%s in "
		          "the environment",
		          name, name);
		free(where);
	}
	report_unused(p, true);
}
