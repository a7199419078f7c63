/*
 * fuzz_plan: plan_validate on arbitrary bytes read as JSON, and, on a plan it
 * accepts, what apply does next without a target: the views, plan_has_secret
 * and the evaluation of every task's arguments (no facts, no secrets). Built as
 * a libFuzzer target (KILN_FUZZ=ON) and, always, as fuzz_plan_replay over the
 * golden plans.
 */
#include "plan_expr.h"
#include "plan_view.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void resolve_tasks(json_t *blocks, const struct expr_env *env)
{
	size_t i, j;
	json_t *b, *t;
	json_array_foreach (blocks, i, b) {
		json_array_foreach (plan_block_view(b).tasks, j, t) {
			struct plan_task tv = plan_task_view(t);
			struct rt_error err = {0};
			(void)plan_has_secret(tv.args);
			json_t *args = expr_resolve(env, tv.args, &err);
			if (args)
				(void)plan_check_resolved_args(tv.module, tv.args, args, 0, &err);
			json_decref(args);
			json_decref(expr_resolve(env, tv.when, &err));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *plan = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct rt_error err = {0};
	if (!plan || plan_validate(plan, &err) < 0) {
		json_decref(plan);
		return 0;
	}
	json_t *facts = json_object(), *secrets = json_object();
	struct expr_env env = {facts, secrets};
	size_t i;
	json_t *img;
	json_array_foreach (plan_images(plan), i, img) {
		struct plan_image iv = plan_image_view(img);
		resolve_tasks(iv.stages, &env);
		resolve_tasks(iv.handlers, &env);
		resolve_tasks(iv.tests, &env);
	}
	json_decref(facts);
	json_decref(secrets);
	json_decref(plan);
	return 0;
}
