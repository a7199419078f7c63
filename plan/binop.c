/*
 * binop: the language's binary operators on JSON values; see plan_binop.h.
 * Ints compare and compute with overflow checks; strings compare bytewise
 * and '+' joins them; '+' joins two lists; == and != compare any values.
 */
#include "plan_binop.h"

#include "arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">=", "&&",
                                  "||", "+",  "-", "*",  "/", "%"};

int plan_binop_known(const char *op)
{
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(*ops); i++)
		if (!strcmp(op, ops[i]))
			return 1;
	return 0;
}

static json_t *failed(enum plan_binop_status *status, enum plan_binop_status why)
{
	*status = why;
	return NULL;
}

static json_t *compare(const char *op, int c)
{
	if (op[0] == '<')
		return json_boolean(op[1] ? c <= 0 : c < 0);
	return json_boolean(op[1] ? c >= 0 : c > 0);
}

static json_t *arith(char op, json_int_t x, json_int_t y, enum plan_binop_status *status)
{
	json_int_t z = 0;
	bool ovf = false;
	switch (op) {
	case '+':
		ovf = __builtin_add_overflow(x, y, &z);
		break;
	case '-':
		ovf = __builtin_sub_overflow(x, y, &z);
		break;
	case '*':
		ovf = __builtin_mul_overflow(x, y, &z);
		break;
	default: /* '/' and '%' */
		if (y == 0)
			return failed(status, PLAN_BINOP_DIV_ZERO);
		if (y == -1 && x == INT64_MIN)
			return failed(status, PLAN_BINOP_OVERFLOW);
		z = op == '/' ? x / y : x % y;
	}
	if (ovf)
		return failed(status, PLAN_BINOP_OVERFLOW);
	return json_integer(z);
}

json_t *plan_binop(const char *op, json_t *a, json_t *b, enum plan_binop_status *status)
{
	*status = PLAN_BINOP_OK;
	if (!plan_binop_known(op))
		return failed(status, PLAN_BINOP_UNKNOWN);
	if (!strcmp(op, "=="))
		return json_boolean(json_equal(a, b));
	if (!strcmp(op, "!="))
		return json_boolean(!json_equal(a, b));
	if (!strcmp(op, "&&"))
		return json_boolean(json_is_true(a) && json_is_true(b));
	if (!strcmp(op, "||"))
		return json_boolean(json_is_true(a) || json_is_true(b));
	bool cmp = op[0] == '<' || op[0] == '>';
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		if (cmp)
			return compare(op, x < y ? -1 : x > y);
		return arith(op[0], x, y, status);
	}
	if (json_is_string(a) && json_is_string(b)) {
		if (cmp)
			return compare(op, strcmp(json_string_value(a), json_string_value(b)));
		if (op[0] == '+') {
			char *s = xasprintf("%s%s", json_string_value(a), json_string_value(b));
			json_t *r = json_string(s);
			free(s);
			return r;
		}
	}
	if (op[0] == '+' && json_is_array(a) && json_is_array(b)) {
		json_t *r = json_deep_copy(a);
		json_array_extend(r, b);
		return r;
	}
	return failed(status, PLAN_BINOP_TYPES);
}
