/*
 * view: reading plan.json, the read-only views of its parts, and the
 * questions several readers ask of a plan value; see plan_view.h.
 */
#include "plan_format.h"
#include "plan_view.h"

#include "arena.h"

#include <string.h>

json_t *plan_read(const char *path, char **reterr)
{
	json_error_t e;
	/* a key given twice would let a reader see one value and kiln use the other */
	json_t *plan = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!plan) {
		/* jansson quotes the bytes it stopped at: no control character is printed */
		for (char *c = e.text; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		*reterr = e.line > 0 ? xasprintf("%s:%d:%d: not a plan: %s", path, e.line, e.column,
		                                 e.text)
		                     : xasprintf("%s: %s", path, e.text);
		return NULL;
	}
	json_t *v = json_object_get(plan, PLAN_K_FORMAT_VERSION);
	if (!json_is_integer(v) || !json_is_array(json_object_get(plan, PLAN_K_IMAGES))) {
		*reterr = xasprintf("%s: not a kiln plan (no format_version or images)", path);
		json_decref(plan);
		return NULL;
	}
	if (json_integer_value(v) != PLAN_FORMAT_VERSION) {
		*reterr = xasprintf("%s: format_version %" JSON_INTEGER_FORMAT
		                    ": this kiln reads plan format %d; compile it again",
		                    path, json_integer_value(v), PLAN_FORMAT_VERSION);
		json_decref(plan);
		return NULL;
	}
	return plan;
}

bool plan_is_identifier(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* Does a tree read a secret? A "const" holds plain values and a "map"'s keys are names. */
static bool tree_has_secret(json_t *t, int depth)
{
	if (depth > 1000)
		return true; /* not a tree the compiler writes: assume the worst */
	if (json_is_array(t)) {
		size_t i;
		json_t *x;
		json_array_foreach (t, i, x) {
			if (tree_has_secret(x, depth + 1))
				return true;
		}
		return false;
	}
	if (!json_is_object(t))
		return false;
	if (json_object_size(t) == 1) {
		const char *k = json_object_iter_key(json_object_iter(t));
		json_t *a = json_object_iter_value(json_object_iter(t));
		if (!strcmp(k, PLAN_E_SECRET))
			return true;
		if (!strcmp(k, PLAN_E_CONST) || !strcmp(k, PLAN_E_FACT))
			return false;
		if (!strcmp(k, PLAN_E_MAP) && json_is_object(a)) {
			const char *mk;
			json_t *x;
			json_object_foreach (a, mk, x) {
				if (tree_has_secret(x, depth + 1))
					return true;
			}
			return false;
		}
		return tree_has_secret(a, depth + 1);
	}
	/* not one tree: look everywhere */
	const char *k;
	json_t *x;
	json_object_foreach (t, k, x) {
		if (!strcmp(k, PLAN_E_SECRET) || tree_has_secret(x, depth + 1))
			return true;
	}
	return false;
}

bool plan_has_secret(json_t *v)
{
	if (json_is_object(v)) {
		json_t *e = json_object_get(v, PLAN_K_EXPR);
		if (e && json_object_size(v) == 1)
			return tree_has_secret(e, 0);
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			if (plan_has_secret(x))
				return true;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			if (plan_has_secret(x))
				return true;
		}
	}
	return false;
}

/* ---- views ---------------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

json_t *plan_images(json_t *plan)
{
	return json_object_get(plan, PLAN_K_IMAGES);
}

json_t *plan_groups(json_t *plan)
{
	return json_object_get(plan, PLAN_K_GROUPS);
}

json_t *plan_applies(json_t *plan)
{
	return json_object_get(plan, PLAN_K_APPLIES);
}

json_t *plan_params(json_t *plan)
{
	return json_object_get(plan, PLAN_K_PARAMS);
}

struct plan_image plan_image_view(json_t *image)
{
	json_t *from = json_object_get(image, PLAN_K_FROM);
	return (struct plan_image){
	    .json = image,
	    .name = str(image, PLAN_K_NAME),
	    .source = str(image, PLAN_K_SOURCE),
	    .from_image = str(from, PLAN_K_IMAGE),
	    .from_base = str(from, PLAN_K_BASE),
	    .from_args = json_object_get(from, PLAN_K_ARGS),
	    .stages = json_object_get(image, PLAN_K_STAGES),
	    .handlers = json_object_get(image, PLAN_K_HANDLERS),
	    .outputs = json_object_get(image, PLAN_K_OUTPUTS),
	    .tests = json_object_get(image, PLAN_K_TESTS),
	    .config = json_object_get(image, PLAN_K_CONFIG),
	};
}

struct plan_block plan_block_view(json_t *block)
{
	return (struct plan_block){
	    .json = block,
	    .name = str(block, PLAN_K_NAME),
	    .source = str(block, PLAN_K_SOURCE),
	    .role = str(block, PLAN_K_ROLE),
	    .tasks = json_object_get(block, PLAN_K_TASKS),
	};
}

struct plan_task plan_task_view(json_t *task)
{
	return (struct plan_task){
	    .json = task,
	    .id = str(task, PLAN_K_ID),
	    .module = str(task, PLAN_K_MODULE),
	    .source = str(task, PLAN_K_SOURCE),
	    .role = str(task, PLAN_K_ROLE),
	    .args = json_object_get(task, PLAN_K_ARGS),
	    .label = json_object_get(task, PLAN_K_LABEL),
	    .when = json_object_get(task, PLAN_K_WHEN),
	    .notify = json_object_get(task, PLAN_K_NOTIFY),
	    .ignore_errors = json_is_true(json_object_get(task, PLAN_K_IGNORE_ERRORS)),
	};
}

struct plan_output plan_output_view(json_t *output)
{
	return (struct plan_output){
	    .json = output,
	    .type = str(output, PLAN_K_TYPE),
	    .path = str(output, PLAN_K_PATH),
	    .source = str(output, PLAN_K_SOURCE),
	    .args = json_object_get(output, PLAN_K_ARGS),
	};
}

struct plan_group plan_group_view(json_t *groups, const char *name)
{
	json_t *g = json_object_get(groups, name);
	return (struct plan_group){
	    .json = g,
	    .name = g ? name : NULL,
	    .source = str(g, PLAN_K_SOURCE),
	    .hosts = json_object_get(g, PLAN_K_HOSTS),
	    .children = json_object_get(g, PLAN_K_CHILDREN),
	    .vars = json_object_get(g, PLAN_K_VARS),
	};
}

struct plan_apply plan_apply_view(json_t *apply)
{
	return (struct plan_apply){
	    .json = apply,
	    .target = str(apply, PLAN_K_TARGET),
	    .source = str(apply, PLAN_K_SOURCE),
	    .connection = json_object_get(apply, PLAN_K_CONNECTION),
	    .tasks = json_object_get(apply, PLAN_K_TASKS),
	    .handlers = json_object_get(apply, PLAN_K_HANDLERS),
	};
}
