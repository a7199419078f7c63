/*
 * plan_view: plan.json read, checked and looked at (docs/plan-format.md).
 *
 * plan_read loads a file and refuses another format version; plan_validate
 * checks a whole plan before anything acts on it, and names the JSON path of
 * the first thing wrong ("images[0].stages: expected a list, got a string").
 * The views are read-only: borrowed pointers into a plan that passed
 * plan_validate, valid while the plan lives.
 */
#ifndef KILN_PLAN_VIEW_H
#define KILN_PLAN_VIEW_H

#include "rt.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Read and check the format version; NULL with *reterr (malloc'd) on failure. */
json_t *plan_read(const char *path, char **reterr);

/*
 * 0 when the plan is well formed, or -EINVAL with err->msg "plan: PATH: what,
 * what to do". Checks: format_version; the shape of every part; names are
 * identifiers; modules, bases, outputs and functions exist and every argument
 * is in the schema with its type; build-machine paths are normalised and stay
 * inside the build's directories; expression trees are well formed.
 */
int plan_validate(json_t *plan, struct rt_error *err);

/* How many ".." a relative build-machine path of this plan may start with: as
   many as the furthest of its files (0 for a plan compiled in its directory). */
int plan_path_climb(json_t *plan);
/*
 * The build-machine paths a task's deferred arguments resolved to at apply
 * time, held to plan_validate's rules: module's path arguments whose plan
 * value (in plan_args) was deferred, as resolved in args. 0, or -EINVAL with
 * err->msg "plan: args.NAME: ...".
 */
int plan_check_resolved_args(const char *module, json_t *plan_args, json_t *args, int climb,
                             struct rt_error *err);

/* Does v (a plan value) hold a deferred part that reads a secret? */
bool plan_has_secret(json_t *v);

/* Is s an identifier of the language ([A-Za-z_][A-Za-z0-9_-]*, the lexer's ID)? */
bool plan_is_identifier(const char *s);

/* ---- views ---------------------------------------------------------------- */

/* A stage, handler or test: a named list of tasks. */
struct plan_block {
	json_t *json;
	const char *name;
	const char *source;
	const char *role; /* handlers of a role; else NULL */
	json_t *tasks;    /* list */
};

struct plan_task {
	json_t *json;
	const char *id;
	const char *module;
	const char *source;
	const char *role; /* NULL outside roles */
	json_t *args;     /* object; values may be {"$expr": ...} */
	json_t *label;    /* NULL, a string or a deferred value */
	json_t *when;     /* NULL or a deferred value */
	json_t *notify;   /* list of handler names, or NULL */
	bool ignore_errors;
};

struct plan_output {
	json_t *json;
	const char *type;
	const char *path; /* relative to the root, or absolute */
	const char *source;
	json_t *args; /* object */
};

struct plan_image {
	json_t *json;
	const char *name;
	const char *source;
	const char *from_image; /* built from this image of the plan, or NULL */
	const char *from_base;  /* or from this base, with from_args */
	json_t *from_args;
	json_t *stages, *handlers, *outputs, *tests; /* lists */
	json_t *config;                              /* object or NULL */
};

struct plan_group {
	json_t *json;
	const char *name;
	const char *source;
	json_t *hosts;    /* object: host name -> attributes */
	json_t *children; /* list of group names */
	json_t *vars;     /* object */
};

struct plan_apply {
	json_t *json;
	const char *target; /* a group */
	const char *source;
	json_t *connection; /* object */
	json_t *tasks, *handlers;
};

json_t *plan_images(json_t *plan);  /* list */
json_t *plan_groups(json_t *plan);  /* object */
json_t *plan_applies(json_t *plan); /* list */
json_t *plan_params(json_t *plan);  /* object */

struct plan_image plan_image_view(json_t *image);
struct plan_block plan_block_view(json_t *block);
struct plan_task plan_task_view(json_t *task);
struct plan_output plan_output_view(json_t *output);
struct plan_group plan_group_view(json_t *groups, const char *name);
struct plan_apply plan_apply_view(json_t *apply);

#endif
