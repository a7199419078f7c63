/*
 * plan_binop: the binary operators of the language on known values, the same
 * at compile time (compiler/eval.c folds what it can) and at apply time
 * (runtime/expr.c finishes with facts and secrets).
 */
#ifndef KILN_PLAN_BINOP_H
#define KILN_PLAN_BINOP_H

#include <jansson.h>

enum plan_binop_status {
	PLAN_BINOP_OK,
	PLAN_BINOP_TYPES,    /* the operator does not apply to these values */
	PLAN_BINOP_DIV_ZERO, /* '/' or '%' by zero */
	PLAN_BINOP_OVERFLOW, /* an int result out of range */
	PLAN_BINOP_UNKNOWN,  /* not an operator */
};

/*
 * a OP b, OP one of == != < <= > >= && || + - * / %. Returns a new reference,
 * or NULL with *status (never NULL) saying why; each caller words its error.
 * && and || here see both values: short-circuiting is the caller's.
 */
json_t *plan_binop(const char *op, json_t *a, json_t *b, enum plan_binop_status *status);
/* Is op one of the operators above? */
int plan_binop_known(const char *op);

#endif
