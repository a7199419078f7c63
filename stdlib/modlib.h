/*
 * modlib: what the modules (stdlib/mod_*.c) share beyond runtime/task.h:
 * resolving mode/owner/group arguments, bringing a path's metadata to them,
 * collecting what changed into a result's message and diff, running a
 * command and reporting its failure, paths, and the target's account files
 * (/etc/passwd, /etc/group, ...) as lists of lines. Internal to stdlib/.
 * Defined in modlib.c, modlib_task.c, modlib_diff.c and modlib_account.c.
 *
 * Convention: a helper that can fail on the target fills res with
 * TASK_FAILED and a one-line message and returns -1; the module then stops
 * and returns 0 (a failed task is a result, not kiln's own failure).
 */
#ifndef KILN_MODLIB_H
#define KILN_MODLIB_H

#include "module.h"

#include "arena.h"
#include "strbuf.h"

/* The largest file a module reads whole from the target or the build machine. */
#define MOD_FILE_MAX ((size_t)1 << 30)
/* The largest text file (account files, lineinfile, unit files) a module edits. */
#define MOD_TEXT_MAX ((size_t)64 << 20)

/* ---- what changed ----------------------------------------------------------------------- */

struct mod_changes {
	struct strbuf what; /* "created /x, mode 0644 -> 0600, ...": the message */
	struct strbuf diff; /* the diff text */
	size_t n;           /* changes noted */
	size_t shown;       /* of which in what */
};

#define MOD_CHANGES_INIT                                                                           \
	{                                                                                          \
		STRBUF_INIT, STRBUF_INIT, 0, 0                                                     \
	}

/* Note one change for the message (joined with ", "); the first notes are kept, later
   ones only counted once the message is long. */
void mod_note(struct mod_changes *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a line (or more) to the diff text. */
void mod_diff(struct mod_changes *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a unified diff of a file's old and new content (binary files get one line). */
void mod_diff_text(struct mod_changes *ch, const char *path, const char *old, size_t oldlen,
                   const char *new, size_t newlen);
/* Set res from ch: TASK_CHANGED with the notes (prefixed "would " in check mode is left to
   the notes) and the diff if ctx->diff, or TASK_OK with ok_msg when nothing changed.
   Releases ch. Returns 0. */
int mod_finish(const struct task_ctx *ctx, struct task_result *res, struct mod_changes *ch,
               const char *ok_msg);
void mod_changes_release(struct mod_changes *ch);

/* res = failed with err's message; returns -1. */
int mod_fail(struct task_result *res, const struct rt_error *err);

/* The task's argument name, or NULL when it is missing or null. */
json_t *mod_arg(const struct task_ctx *ctx, const char *name);

/* ---- ownership and permissions ------------------------------------------------------------ */

/* What the task asks for; -1 fields: leave as they are. */
struct mod_attrs {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Resolve the mode, owner and group arguments against the target's account files. */
int mod_attrs_from_args(const struct task_ctx *ctx, struct task_result *res, struct mod_attrs *ret);
/* Bring path's mode and owner to want where they differ from st (path's current lstat, or
   stat when follow was used); chmod is skipped for symlinks. Notes changes in ch; in check
   mode only notes. */
int mod_fix_attrs(const struct task_ctx *ctx, struct task_result *res, const char *path,
                  const struct conn_stat *st, const struct mod_attrs *want, struct mod_changes *ch);
/* A mode's permission bits as "0644" (static buffer per call site: pass buf[8]). */
const char *mod_mode_str(mode_t mode, char buf[8]);

/* ---- commands ----------------------------------------------------------------------------- */

/* Free an exec result's buffers (the stdlib does not link the runtime's code). */
void mod_exec_res_free(struct exec_res *r);
/* argv as a shell-quoted command line (malloc'd). */
char *mod_argv_str(const char *const *argv);
/* The last n lines of text (malloc'd). */
char *mod_tail_lines(const char *text, size_t len, int n);
/*
 * Run req on the target. On success (ran, status 0) returns 0 with *ret filled (caller
 * frees with mod_exec_res_free). If it could not run, or exited non-zero, fills res as
 * failed ("WHAT failed with status N: last stderr line"), with res->cmd, exit_status and
 * stderr_tail, and returns -1 (ret released). what: a short name, e.g. "apt-get install".
 */
int mod_exec(const struct task_ctx *ctx, struct task_result *res, const struct exec_req *req,
             const char *what, struct exec_res *ret);
/* Record a command's line, status, the tails of its stdout and stderr and both in full
   in res (for a task that is a command). */
void mod_record_cmd(struct task_result *res, const char *const *argv, const struct exec_res *er);

/*
 * A task that is a command (command, shell, local): honours creates, removes, chdir, env and
 * stdin, runs argv, and reports changed, or failed with the status and the stderr tail.
 */
int mod_command_task(const struct task_ctx *ctx, struct task_result *res, const char *const *argv);

/* ---- paths -------------------------------------------------------------------------------- */

/* a/b with one slash between (malloc'd). */
char *mod_path_join(const char *a, const char *b);
/* The directory part ("/" for "/x", "." for "x") (malloc'd). */
char *mod_dirname(const char *path);
/* The last component, ignoring trailing slashes (malloc'd). */
char *mod_basename(const char *path);
/* A path of the build machine: local_root/rel unless rel is absolute (malloc'd). */
char *mod_local_path(const struct task_ctx *ctx, const char *rel);
/* Lexically normalise an absolute target path: no "//", ".", trailing "/"; ".." pops (malloc'd). */
char *mod_path_clean(const char *path);
/*
 * Follow path's final symlinks (at most 40) inside the target, as the file module does with
 * follow: *ret is the path that is not a symlink (possibly missing). Relative link targets
 * resolve against the link's directory. Returns 0 or < 0 with err.
 */
int mod_follow(struct conn *c, const char *path, char **ret, struct rt_error *err);
/* mod_follow, and *ret_st: the lstat of *ret (the one mod_follow made), so a caller need not
   make it again. */
int mod_follow_stat(struct conn *c, const char *path, char **ret, struct conn_stat *ret_st,
                    struct rt_error *err);

/* ---- text files as lines ------------------------------------------------------------------ */

struct mod_lines {
	char **v; /* each line without its newline (malloc'd) */
	size_t n, cap;
	bool final_nl; /* the text ended with a newline (or was empty) */
};

void mod_lines_split(struct mod_lines *l, const char *text, size_t len);
/* The lines joined, each followed by "\n" (the last one too, unless !final_nl). */
char *mod_lines_join(const struct mod_lines *l, size_t *ret_len);
void mod_lines_insert(struct mod_lines *l, size_t at, const char *line);
void mod_lines_remove(struct mod_lines *l, size_t at);
void mod_lines_set(struct mod_lines *l, size_t at, const char *line);
void mod_lines_release(struct mod_lines *l);
/* Read a text file of the target into l; a missing file gives no lines and *ret_exists false. */
int mod_lines_read(struct conn *c, const char *path, struct mod_lines *l, bool *ret_exists,
                   struct rt_error *err);

/* ---- account files: /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow -------------------- */

/* Field i (0-based) of a colon-separated line, or "" (malloc'd). */
char *mod_field(const char *line, int i);
/* The line with field i replaced (fields missing up to i are added empty) (malloc'd). */
char *mod_field_set(const char *line, int i, const char *value);
/* Index of the line whose first field is name, or -1. */
long mod_entry_find(const struct mod_lines *l, const char *name);
/* Is name in a comma-separated member list? */
bool mod_member_has(const char *list, const char *name);
/* The list with name added or removed (malloc'd). */
char *mod_member_add(const char *list, const char *name);
char *mod_member_remove(const char *list, const char *name);

/* UID_MIN, UID_MAX, SYS_UID_MIN, SYS_UID_MAX (or the GID ones) of the target's
   /etc/login.defs, with Debian's defaults 1000, 60000, 100, 999. */
struct mod_id_range {
	unsigned long min, max, sys_min, sys_max;
};
void mod_id_range(struct conn *c, bool group, struct mod_id_range *ret);
/* A free id in field 2 of l (and not in avoid, may be NULL): a regular one is one more than
   the highest in [min, max] (or the first free one), a system one the highest free one in
   [sys_min, sys_max]. Returns 0, or -ENOSPC. */
int mod_id_next(const struct mod_lines *l, const struct mod_lines *avoid,
                const struct mod_id_range *r, bool system, unsigned long *ret);
bool mod_id_used(const struct mod_lines *l, unsigned long id);
/* A valid user or group name: [a-z_][a-z0-9_.-]* (a final $ allowed), at most 32 bytes. */
bool mod_valid_account_name(const char *name);
/* Write a file of the target only if its content changes; note it and diff it (unless
   secret: then only "PATH: changed"). Returns 1 if it changed, 0 if not, -1 failed. */
int mod_update_file(const struct task_ctx *ctx, struct task_result *res, const char *path,
                    const struct mod_lines *before, const struct mod_lines *after, bool secret,
                    struct mod_changes *ch);

#endif
