/*
 * module.h: the interface between kiln's modules (stdlib/mod_*.c) and the
 * runtime that runs them — the connection's operations, a command's request
 * and result, a task's context and result. The runtime provides connections
 * (runtime/conn.h opens them); the stdlib's modules use only what is here.
 *
 * conn: a target that tasks act on — a rootfs directory entered with
 * namespaces and chroot (conn_rootfs.c), a host over SSH (conn_ssh.c, later),
 * or the build machine itself (conn_local.c, for the 'local' module).
 * Modules use only these few primitives, so one module serves every target.
 *
 * Order: conn_*_open() -> conn->ops->exec()/read()/write()/... -> conn_free().
 * Paths are absolute paths inside the target. For a rootfs, no operation may
 * reach outside the root through a symlink, "..", or a hard link: file
 * operations resolve paths with openat2(RESOLVE_IN_ROOT) (or an equivalent
 * that provably cannot escape), and commands run chrooted in their own mount,
 * pid, uts and ipc namespaces. None of these functions print; they fill
 * *err and return < 0. A missing file is -ENOENT.
 */
#ifndef KILN_MODULE_H
#define KILN_MODULE_H

#include "rt.h"

#include <jansson.h>
#include <stdbool.h>

#include <stdint.h>
#include <sys/types.h>

struct conn;

/* What exec runs. argv[0] is looked up in the target's PATH. */
struct exec_req {
	const char *const *argv; /* NULL-terminated */
	const char *const *env;  /* NAME=VALUE pairs added to a clean default
	                            environment (PATH, HOME=/root, LANG=C.UTF-8,
	                            DEBIAN_FRONTEND=noninteractive), NULL-terminated, or NULL */
	const char *cwd;         /* in the target; NULL is "/" */
	const void *input;       /* bytes on stdin (then EOF); NULL: /dev/null */
	size_t input_len;
	int timeout_s; /* 0: none; on expiry the command is killed: status 128+SIGKILL */
	/* called with each piece of output as it arrives (stream 1: stdout, 2: stderr), besides
	   collecting it in exec_res; NULL: none (kiln apply -v sets it, modules need not) */
	void (*on_output)(void *data, int stream, const char *p, size_t n);
	void *on_output_data;
};

/* Output beyond this is dropped from the middle: the head and the tail are kept. */
#define EXEC_OUTPUT_MAX (1024 * 1024)

struct exec_res {
	int status; /* exit status 0-255, or 128 + the signal that killed it */
	char *out;  /* stdout, NUL-terminated (malloc'd) */
	size_t out_len;
	char *err; /* stderr, NUL-terminated (malloc'd) */
	size_t err_len;
};

void exec_res_release(struct exec_res *res);

struct conn_stat {
	bool exists;
	mode_t mode; /* type and permission bits (S_IFREG | 0644, ...) */
	uid_t uid;
	gid_t gid;
	off_t size;
};

/* Ownership and permissions a write or mkdir sets; -1 / (mode_t)-1: the default
   (root:root, 0644 for files, 0755 for directories) or, when replacing, the old one. */
struct conn_attrs {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

#define CONN_ATTRS_DEFAULT ((struct conn_attrs){(mode_t)-1, (uid_t)-1, (gid_t)-1})

struct conn_ops {
	const char *name; /* "rootfs", "ssh", "local" */
	/* Run a command to completion. Returns 0 when it ran (whatever its status). */
	int (*exec)(struct conn *c, const struct exec_req *req, struct exec_res *ret,
	            struct rt_error *err);
	/* Read a whole regular file (at most max bytes, else -EFBIG). */
	int (*read)(struct conn *c, const char *path, size_t max, char **ret_data, size_t *ret_len,
	            struct rt_error *err);
	/* Replace a file atomically: write a temporary file in the same directory,
	   fsync, rename. A kill at any moment leaves the old or the new content. */
	int (*write)(struct conn *c, const char *path, const void *data, size_t len,
	             const struct conn_attrs *attrs, struct rt_error *err);
	/* follow: stat the target of a final symlink; else lstat. Missing: 0 and !exists. */
	int (*stat)(struct conn *c, const char *path, bool follow, struct conn_stat *ret,
	            struct rt_error *err);
	/* Create one directory (not its parents); -EEXIST if it is there. */
	int (*mkdir)(struct conn *c, const char *path, const struct conn_attrs *attrs,
	             struct rt_error *err);
	int (*chmod)(struct conn *c, const char *path, mode_t mode, struct rt_error *err);
	/* Change owner (-1 keeps one); a symlink itself, not its target. */
	int (*chown)(struct conn *c, const char *path, uid_t uid, gid_t gid, struct rt_error *err);
	/* Create or atomically replace path with a symlink to target. */
	int (*symlink)(struct conn *c, const char *target, const char *path, struct rt_error *err);
	int (*readlink)(struct conn *c, const char *path, char **ret_target, struct rt_error *err);
	/* Remove a file, link or (recursive) directory; missing is not an error. */
	int (*remove)(struct conn *c, const char *path, bool recursive, struct rt_error *err);
	/* Update a file's modification time to now, creating it empty if missing. */
	int (*touch)(struct conn *c, const char *path, const struct conn_attrs *attrs,
	             struct rt_error *err);
	void (*close)(struct conn *c);
};

struct conn {
	const struct conn_ops *ops;
};

/* Release a connection (takes NULL; returns NULL: c = conn_free(c)). */
struct conn *conn_free(struct conn *c);

/*
 * task: how the executor runs one module on one target. The module's run
 * function lives beside its schema in stdlib/mod_NAME.c (struct kiln_schema
 * .run); the helpers declared here are in modlib*.c. Modules are idempotent: they look first,
 * change only what differs, and say whether they changed anything. With ctx->check they change
 * nothing and report what they would change; with ctx->diff they describe the change.
 */
enum task_status { TASK_OK, TASK_CHANGED, TASK_FAILED, TASK_SKIPPED };

struct task_ctx {
	struct conn *conn;      /* the target */
	json_t *args;           /* the task's arguments: checked, every value evaluated */
	const char *local_root; /* the build machine's directory that plan paths are relative to */
	json_t *facts;          /* the target's facts (object), for modules that need them */
	bool check;             /* change nothing; report what would change */
	bool diff;              /* describe the change in res->diff */
	bool in_image;          /* an image build (services are not started, only enabled) */
	/* the apply's own directory on the build machine (removed when the apply ends), for
	   what a module keeps from one task to the next of one apply; NULL: none */
	const char *work_dir;
	/* text for people with the secrets' values blanked out (malloc'd), applied before
	   text is shortened (a cut secret is no longer recognised); NULL: nothing to hide */
	char *(*redact)(const void *data, const char *text);
	const void *redact_data;
};

struct task_result {
	enum task_status status;
	char *msg;  /* one line for a person: what changed, why it failed, or a note */
	char *diff; /* unified diff or a description of the change (ctx->diff) */
	/* a command's whole stdout (command, shell): kiln run shows it */
	char *output;
	/* a command that failed */
	char *cmd;         /* the command line */
	int exit_status;   /* its status */
	char *stderr_tail; /* the last lines of its stderr */
	char *stdout_tail; /* the last lines of its stdout */
	/* everything a command printed (a command that ran, failed or not; NULL: none),
	   for `kiln apply -v` and --log-file; shown only after redaction */
	char *stdout_full;
	char *stderr_full;
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
/* A mode argument (an int, as the plan holds it; a string as stdlib_mode_parse reads it):
   (mode_t)-1 when absent or not a mode. */
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
