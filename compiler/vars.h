/* vars: the params' values from -var, -var-file, KILN_VAR_name and defaults; see vars.c. */
#ifndef KILN_VARS_H
#define KILN_VARS_H

#include "program.h"

/* Give every global param a value (E3008, E4001, E4004, W4001). */
void vars_resolve(struct program *p);
/* A param's entry in the plan: its value, or for a secret, where it comes from. */
json_t *vars_param_plan(const struct symbol *sym);

#endif
