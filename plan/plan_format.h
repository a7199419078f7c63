/*
 * plan_format: the plan's format version and the name of every key of
 * plan.json, in one place (docs/plan-format.md). The compiler writes plans
 * with these names and the runtime reads them with the same ones.
 */
#ifndef KILN_PLAN_FORMAT_H
#define KILN_PLAN_FORMAT_H

/* Incremented by every change an older kiln could misread. */
#define PLAN_FORMAT_VERSION 1

/* top level */
#define PLAN_K_FORMAT_VERSION "format_version"
#define PLAN_K_KILN_VERSION "kiln_version"
#define PLAN_K_FILES "files"
#define PLAN_K_PARAMS "params"
#define PLAN_K_IMAGES "images"
#define PLAN_K_GROUPS "groups"
#define PLAN_K_APPLIES "applies"

/* shared by several objects */
#define PLAN_K_NAME "name"
#define PLAN_K_SOURCE "source"
#define PLAN_K_TASKS "tasks"
#define PLAN_K_HANDLERS "handlers"
#define PLAN_K_ROLE "role"
#define PLAN_K_ARGS "args"
#define PLAN_K_TYPE "type"
#define PLAN_K_PATH "path"

/* params: {"type", "source", "value"} or {"type", "source", "secret": SECRET} */
#define PLAN_K_VALUE "value"
#define PLAN_K_SECRET "secret"
/* a secret's reference: from (env, var, var-file), var, file */
#define PLAN_K_FROM "from"
#define PLAN_K_VAR "var"
#define PLAN_K_FILE "file"

/* images */
#define PLAN_K_DESCRIPTION "description"
#define PLAN_K_STAGES "stages"
#define PLAN_K_CONFIG "config"
#define PLAN_K_OUTPUTS "outputs"
#define PLAN_K_TESTS "tests"
/* an image's "from": {"image": NAME} or {"base": NAME, "args": {...}} */
#define PLAN_K_IMAGE "image"
#define PLAN_K_BASE "base"

/* tasks */
#define PLAN_K_ID "id"
#define PLAN_K_MODULE "module"
#define PLAN_K_LABEL "label"
#define PLAN_K_WHEN "when"
#define PLAN_K_NOTIFY "notify"
#define PLAN_K_IGNORE_ERRORS "ignore_errors"

/* host groups and apply blocks */
#define PLAN_K_HOSTS "hosts"
#define PLAN_K_CHILDREN "children"
#define PLAN_K_VARS "vars"
#define PLAN_K_TARGET "target"
#define PLAN_K_CONNECTION "connection"
/* a host's entry in a group's "hosts" (and an apply's "connection"): how it is
   reached, beside "connection" and "vars" */
#define PLAN_K_ADDRESS "address"
#define PLAN_K_PORT "port"
#define PLAN_K_USER "user"
#define PLAN_K_IDENTITY_FILE "identity_file"

/* a deferred value: {"$expr": TREE}; a tree is an object with one of these keys */
#define PLAN_K_EXPR "$expr"
#define PLAN_E_CONST "const"
#define PLAN_E_FACT "fact"
#define PLAN_E_SECRET "secret"
#define PLAN_E_OP "op"
#define PLAN_E_NOT "not"
#define PLAN_E_NEG "neg"
#define PLAN_E_IF "if"
#define PLAN_E_CONCAT "concat"
#define PLAN_E_CALL "call"
#define PLAN_E_GET "get"
#define PLAN_E_INDEX "index"
#define PLAN_E_LIST "list"
#define PLAN_E_MAP "map"

#endif
