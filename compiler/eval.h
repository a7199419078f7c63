/*
 * eval: compute values at compile time. Input: checked expressions and the
 * bindings of loop variables and role parameters. Output: a struct val —
 * a JSON value, or, when the expression depends on facts or secrets, the
 * plan expression the runtime evaluates at apply time (see
 * docs/plan-format.md). Errors (a function failing, an index out of range)
 * are reported as E4002 and give a val with json == NULL.
 */
#ifndef KILN_EVAL_H
#define KILN_EVAL_H

#include "program.h"

struct env {
	const struct env *parent;
	const struct symbol *sym;
	struct val v;
};

struct val eval_expr(struct program *p, const struct env *env, const struct ast_expr *e);
/* Release a val's reference. */
void val_release(struct val *v);
/* {"$expr": tree} for a deferred value, the value itself otherwise (new reference). */
json_t *val_to_plan(const struct val *v);
/* {"key": v}, taking v; NULL when v is NULL: json_pack("{s:o}") without parsing a
   format, for the many small objects of deferred expressions. key is ASCII. */
static inline json_t *json_obj1(const char *key, json_t *v)
{
	if (!v)
		return NULL;
	json_t *o = json_object();
	if (!o || json_object_set_new_nocheck(o, key, v) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
/* Does a JSON value fit a type? (for values from -var and var-files) */
bool val_fits(const struct type *t, const json_t *v);
/* A value as text for messages and plans; secrets as "(secret)". Caller frees. */
char *val_show(const struct val *v);

#endif
