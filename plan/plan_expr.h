/*
 * plan_expr: evaluate the plan's deferred values ({"$expr": TREE}, see
 * docs/plan-format.md) at apply time, against the target's facts and the
 * secrets' values. Input: a plan value. Output: a plain JSON value.
 */
#ifndef KILN_PLAN_EXPR_H
#define KILN_PLAN_EXPR_H

#include "rt.h"

#include <jansson.h>

struct expr_env {
	json_t *facts;   /* the target's facts, an object */
	json_t *secrets; /* name -> string, read from their sources at apply time */
};

/* v with every {"$expr": ...} inside it evaluated (new reference), or NULL with *err. */
json_t *expr_resolve(const struct expr_env *env, json_t *v, struct rt_error *err);

#endif
