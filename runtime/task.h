/*
 * task: how the executor runs one module on one target. The module's run
 * function lives beside its schema in stdlib/mod_NAME.c (struct kiln_schema
 * .run); the helpers declared here are in stdlib/modlib.c, so the stdlib
 * needs only the runtime's headers, not its code. Modules are idempotent: they look first, change
 * only what differs, and say whether they changed anything. With ctx->check they change nothing and
 * report what they would change; with ctx->diff they describe the change.
 */
#ifndef KILN_TASK_H
#define KILN_TASK_H

#include "conn.h"

#include <jansson.h>

enum task_status { TASK_OK, TASK_CHANGED, TASK_FAILED, TASK_SKIPPED };

struct task_ctx {
	struct conn *conn;      /* the target */
	json_t *args;           /* the task's arguments: checked, every value evaluated */
	const char *local_root; /* the build machine's directory that plan paths are relative to */
	json_t *facts;          /* the target's facts (object), for modules that need them */
	bool check;             /* change nothing; report what would change */
	bool diff;              /* describe the change in res->diff */
	bool in_image;          /* an image build (services are not started, only enabled) */
};

struct task_result {
	enum task_status status;
	char *msg;  /* one line for a person: what changed, why it failed, or a note */
	char *diff; /* unified diff or a description of the change (ctx->diff) */
	/* a command that failed */
	char *cmd;         /* the command line */
	int exit_status;   /* its status */
	char *stderr_tail; /* the last lines of its stderr */
};

void task_result_release(struct task_result *res);

/* Set status and a printf message; returns 0 (a result is not a C error). */
int task_ok(struct task_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int task_changed(struct task_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int task_failed(struct task_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A module's behaviour: fill res; return < 0 only for kiln's own failures. */
typedef int (*kiln_mod_run)(struct task_ctx *ctx, struct task_result *res);

/* Argument helpers: the value, or def when the argument is absent or null. */
const char *task_arg_str(const struct task_ctx *ctx, const char *name, const char *def);
bool task_arg_bool(const struct task_ctx *ctx, const char *name, bool def);
long long task_arg_int(const struct task_ctx *ctx, const char *name, long long def);
/* A mode argument ("0644" or an int): (mode_t)-1 when absent. */
mode_t task_arg_mode(const struct task_ctx *ctx, const char *name);

/* The target's user and group ids, by name or number, from its /etc/passwd and /etc/group. */
int target_uid(struct conn *c, const char *user, uid_t *ret, struct rt_error *err);
int target_gid(struct conn *c, const char *group, gid_t *ret, struct rt_error *err);

/* mkdir -p inside the target, through c's primitives. */
int conn_mkdir_p(struct conn *c, const char *path, const struct conn_attrs *attrs,
                 struct rt_error *err);

/* A unified diff of two texts, labelled a and b (malloc'd). */
char *text_diff(const char *label_a, const char *a, size_t alen, const char *label_b, const char *b,
                size_t blen);

#endif
