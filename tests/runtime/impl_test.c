/*
 * impl_test: every base and output schema (stdlib/base_*.c, out_*.c) has
 * exactly one implementation in the runtime, and every implementation a
 * schema; base_create and output_write find them by the schema.
 */
#include "base.h"
#include "builtins.h"
#include "check.h"
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct rt_error err = {0};
	int r = base_check_impls(&err);
	if (r < 0)
		fprintf(stderr, "bases: %s\n", err.msg);
	CHECK(r == 0);
	r = output_check_impls(&err);
	if (r < 0)
		fprintf(stderr, "outputs: %s\n", err.msg);
	CHECK(r == 0);

	/* a base the stdlib does not know is refused by name, before anything is made */
	json_t *from = json_pack("{s:s,s:{}}", "base", "no-such-base", "args");
	struct base_ctx bc = {0};
	CHECK(base_create(&bc, from, "/nonexistent", &err) == -EINVAL);
	CHECK(strstr(err.msg, "unknown base 'no-such-base'") != NULL);
	json_decref(from);
	/* an argument the schema does not list is refused */
	from = json_pack("{s:s,s:{s:s}}", "base", "scratch", "args", "path", "x");
	CHECK(base_create(&bc, from, "/nonexistent", &err) == -EINVAL);
	CHECK(strstr(err.msg, "unknown argument 'path'") != NULL);
	json_decref(from);

	json_t *out = json_pack("{s:s,s:s}", "type", "no-such-output", "path", "x");
	struct output_ctx oc = {.output = out};
	CHECK(output_write(&oc, &err) == -EINVAL);
	CHECK(strstr(err.msg, "'no-such-output' is not supported") != NULL);
	json_decref(out);
	return CHECK_DONE();
}
