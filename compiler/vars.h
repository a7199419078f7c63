/* vars: the params' values from -var, -var-file, KILN_VAR_name and defaults; see vars.c. */
#ifndef KILN_VARS_H
#define KILN_VARS_H

#include "program.h"

/* Give every global param a value (E3008, E4001, E4004, W4001); the secrets' values
   go to p->secrets (name -> string), never into a symbol. */
void vars_resolve(struct program *p);
/* A param's entry in the plan: its value, or for a secret, where it comes from. */
json_t *vars_param_plan(const struct program *p, const struct symbol *sym);
/* The secrets of a plan.json: each secret param of params (the plan's "params")
   gets its value into p->secrets by the rules of vars_resolve, from p->vars,
   KILN_VAR_name or the env("NAME") default the plan records (E4001, E4004, W4001). */
void vars_plan_secrets(struct program *p, json_t *params);

#endif
