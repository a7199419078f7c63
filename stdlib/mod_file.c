/*
 * file: the state of one path on the target: a file with given content, a
 * directory, a symbolic link, nothing; with its mode and owner (Ansible's
 * file, plus content). The label is the path, unless the body sets path;
 * then it describes the task.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL, "the path on the target; the task's label fills it"},
    {"state", "enum(file, directory, link, absent, touch)", false, "\"file\"",
     "file: a regular file; directory: with its parents; link: a symlink to src; "
     "absent: removed, recursively; touch: created empty, or its times updated"},
    {"content", "string|secret", false, NULL,
     "state = file: the whole content; without it, the file must exist already"},
    {"src", "string", false, NULL, "state = link: the target of the symlink, as it is written"},
    {"mode", "mode", false, NULL, "permission bits, e.g. 0644 or \"0755\""},
    {"owner", "string", false, NULL, "user owning the path (a name, or a uid as digits)"},
    {"group", "string", false, NULL, "group owning the path (a name, or a gid as digits)"},
    {"recurse", "bool", false, "false",
     "state = directory: apply mode, owner and group to everything inside too"},
    {0},
};

static const char *kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "directory";
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISREG(m))
		return "file";
	return "special file";
}

/* The directory of path must exist for a file or link to be made there. */
static int need_parent(const struct task_ctx *ctx, struct task_result *res, const char *path)
{
	char *dir = mod_dirname(path);
	struct conn_stat st;
	struct rt_error err = {0};
	int r = 0;
	if (ctx->conn->ops->stat(ctx->conn, dir, true, &st, &err) < 0)
		r = mod_fail(res, &err);
	else if (!st.exists && ctx->check)
		/* in check mode an earlier task may be the one that would make it */
		r = -1,
		task_changed(res, "would create %s (its directory %s is not there yet)", path, dir);
	else if (!st.exists)
		r = -1,
		task_failed(res, "cannot create %s: directory %s does not exist", path, dir);
	else if (!S_ISDIR(st.mode))
		r = -1, task_failed(res, "cannot create %s: %s is not a directory", path, dir);
	free(dir);
	return r;
}

/* state = file: content replaces the whole file; without it, the file must exist. */
static int ensure_file(const struct task_ctx *ctx, struct task_result *res, const char *path,
                       const struct conn_stat *st, const struct mod_attrs *want,
                       struct mod_changes *ch)
{
	const char *content = task_arg_str(ctx, "content", NULL);
	struct rt_error err = {0};

	if (st->exists && !S_ISREG(st->mode)) {
		task_failed(res, "%s is a %s, not a file", path, kind_name(st->mode));
		return -1;
	}
	if (!content) {
		if (!st->exists) {
			task_failed(res,
			            "%s does not exist (give content to create it, or state = "
			            "touch)",
			            path);
			return -1;
		}
		return mod_fix_attrs(ctx, res, path, st, want, ch);
	}
	size_t clen = strlen(content);
	char *old = NULL;
	size_t olen = 0;
	if (st->exists &&
	    ctx->conn->ops->read(ctx->conn, path, MOD_FILE_MAX, &old, &olen, &err) < 0)
		return mod_fail(res, &err);
	int r = 0;
	bool differs = !st->exists || olen != clen || memcmp(old, content, clen);
	if (differs) {
		if (!st->exists) {
			r = need_parent(ctx, res, path);
			if (r < 0)
				goto out;
		}
		mod_note(ch, st->exists ? "changed %s" : "created %s", path);
		mod_diff_text(ch, path, old, olen, content, clen);
		struct conn_attrs a = {want->mode, want->uid, want->gid};
		if (!ctx->check &&
		    ctx->conn->ops->write(ctx->conn, path, content, clen, &a, &err) < 0) {
			r = mod_fail(res, &err);
			goto out;
		}
		if (!st->exists)
			goto out; /* written with the attributes asked for */
	}
	r = mod_fix_attrs(ctx, res, path, st, want, ch);
out:
	free(old);
	return r;
}

/* recurse: mode and owner of everything below dir, listed by find on the target. */
static int fix_tree(const struct task_ctx *ctx, struct task_result *res, const char *dir,
                    const struct mod_attrs *want, struct mod_changes *ch)
{
	const char *argv[] = {"find", dir, "-mindepth", "1", "-print0", NULL};
	struct exec_req req = {.argv = argv};
	struct exec_res er;
	if (mod_exec(ctx, res, &req, "listing the directory (find)", &er) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < er.out_len && r == 0;) {
		const char *p = er.out + i;
		size_t l = strnlen(p, er.out_len - i);
		i += l + 1;
		if (!l || p[0] != '/')
			continue;
		struct conn_stat st;
		struct rt_error err = {0};
		if (ctx->conn->ops->stat(ctx->conn, p, false, &st, &err) < 0)
			r = mod_fail(res, &err);
		else if (st.exists)
			r = mod_fix_attrs(ctx, res, p, &st, want, ch);
	}
	mod_exec_res_free(&er);
	return r;
}

static int ensure_directory(const struct task_ctx *ctx, struct task_result *res, const char *path,
                            const struct conn_stat *st, const struct mod_attrs *want,
                            struct mod_changes *ch)
{
	struct rt_error err = {0};
	if (!st->exists) {
		mod_note(ch, "created directory %s", path);
		mod_diff(ch, "+ directory %s", path);
		if (ctx->check)
			return 0;
		struct conn_attrs a = {want->mode, want->uid, want->gid};
		if (conn_mkdir_p(ctx->conn, path, &a, &err) < 0)
			return mod_fail(res, &err);
	} else if (!S_ISDIR(st->mode)) {
		task_failed(res, "%s exists and is a %s, not a directory", path,
		            kind_name(st->mode));
		return -1;
	} else if (mod_fix_attrs(ctx, res, path, st, want, ch) < 0) {
		return -1;
	}
	if (task_arg_bool(ctx, "recurse", false) &&
	    (want->mode != (mode_t)-1 || want->uid != (uid_t)-1 || want->gid != (gid_t)-1))
		return fix_tree(ctx, res, path, want, ch);
	return 0;
}

static int ensure_link(const struct task_ctx *ctx, struct task_result *res, const char *path,
                       const struct mod_attrs *want, struct mod_changes *ch)
{
	const char *src = task_arg_str(ctx, "src", NULL);
	struct conn_stat st;
	struct rt_error err = {0};
	char *old = NULL;
	int r = 0;

	if (!src || !*src) {
		task_failed(res, "state = link needs src, the target of the link");
		return -1;
	}
	if (ctx->conn->ops->stat(ctx->conn, path, false, &st, &err) < 0)
		return mod_fail(res, &err);
	if (st.exists && !S_ISLNK(st.mode)) {
		task_failed(res, "%s exists and is a %s: remove it first (state = absent)", path,
		            kind_name(st.mode));
		return -1;
	}
	if (st.exists && ctx->conn->ops->readlink(ctx->conn, path, &old, &err) < 0)
		return mod_fail(res, &err);
	if (!st.exists || strcmp(old, src)) {
		if (!st.exists && need_parent(ctx, res, path) < 0)
			goto fail;
		if (old) {
			mod_note(ch, "%s -> %s (was -> %s)", path, src, old);
			mod_diff(ch, "- %s -> %s\n+ %s -> %s", path, old, path, src);
		} else {
			mod_note(ch, "created %s -> %s", path, src);
			mod_diff(ch, "+ %s -> %s", path, src);
		}
		if (ctx->check)
			goto out;
		if (ctx->conn->ops->symlink(ctx->conn, src, path, &err) < 0)
			goto fail_err;
		if (ctx->conn->ops->stat(ctx->conn, path, false, &st, &err) < 0)
			goto fail_err;
	}
	if (want->uid != (uid_t)-1 || want->gid != (gid_t)-1) {
		struct mod_attrs owner = {(mode_t)-1, want->uid, want->gid};
		r = mod_fix_attrs(ctx, res, path, &st, &owner, ch);
	}
out:
	free(old);
	return r;
fail_err:
	mod_fail(res, &err);
fail:
	free(old);
	return -1;
}

static int ensure_absent(const struct task_ctx *ctx, struct task_result *res, const char *path,
                         struct mod_changes *ch)
{
	struct conn_stat st;
	struct rt_error err = {0};
	if (ctx->conn->ops->stat(ctx->conn, path, false, &st, &err) < 0)
		return mod_fail(res, &err);
	if (!st.exists)
		return 0;
	mod_note(ch, "removed %s %s", kind_name(st.mode), path);
	mod_diff(ch, "- %s %s", kind_name(st.mode), path);
	if (!ctx->check && ctx->conn->ops->remove(ctx->conn, path, true, &err) < 0)
		return mod_fail(res, &err);
	return 0;
}

static int ensure_touch(const struct task_ctx *ctx, struct task_result *res, const char *path,
                        const struct conn_stat *st, const struct mod_attrs *want,
                        struct mod_changes *ch)
{
	struct rt_error err = {0};
	if (!st->exists && need_parent(ctx, res, path) < 0)
		return -1;
	/* as Ansible's touch: the times change on every run, so it always changes */
	mod_note(ch, st->exists ? "touched %s" : "created %s", path);
	if (!st->exists)
		mod_diff(ch, "+ file %s", path);
	else
		mod_diff(ch, "~ %s: times updated", path);
	struct conn_attrs a = {want->mode, want->uid, want->gid};
	if (!ctx->check && ctx->conn->ops->touch(ctx->conn, path, &a, &err) < 0)
		return mod_fail(res, &err);
	if (st->exists)
		return mod_fix_attrs(ctx, res, path, st, want, ch);
	return 0;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *path = task_arg_str(ctx, "path", "");
	const char *state = task_arg_str(ctx, "state", "file");
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct mod_attrs want;
	struct rt_error err = {0};
	char *real = NULL;
	int r;

	if (path[0] != '/')
		return task_failed(res, "path '%s' is not absolute", path);
	char *clean = mod_path_clean(path);
	if (!strcmp(clean, "/") && strcmp(state, "directory")) {
		free(clean);
		return task_failed(res, "refusing to make / anything but a directory");
	}
	if (mod_attrs_from_args(ctx, res, &want) < 0)
		goto out;
	if (!strcmp(state, "absent")) {
		r = ensure_absent(ctx, res, clean, &ch);
	} else if (!strcmp(state, "link")) {
		r = ensure_link(ctx, res, clean, &want, &ch);
	} else {
		/* file, directory and touch act on what a final symlink points to */
		struct conn_stat st;
		if (mod_follow_stat(ctx->conn, clean, &real, &st, &err) < 0) {
			mod_fail(res, &err);
			goto out;
		}
		if (!strcmp(state, "directory"))
			r = ensure_directory(ctx, res, real, &st, &want, &ch);
		else if (!strcmp(state, "touch"))
			r = ensure_touch(ctx, res, real, &st, &want, &ch);
		else if (!strcmp(state, "file"))
			r = ensure_file(ctx, res, real, &st, &want, &ch);
		else
			r = -1, task_failed(res, "unknown state '%s'", state);
	}
	if (r == 0)
		mod_finish(ctx, res, &ch, "");
	if (r == 0 && res->status == TASK_OK) {
		free(res->msg);
		res->msg = xasprintf("%s is as asked (%s)", clean, state);
	}
out:
	mod_changes_release(&ch);
	free(real);
	free(clean);
	return 0;
}

const struct kiln_schema mod_file_schema = {
    .kind = SCHEMA_MODULE,
    .name = "file",
    .doc = "make a path a file with given content, a directory, a symlink, or absent",
    .label = "path",
    .args = args,
    .example = "file \"/srv/app\" { state = directory, owner = \"www-data\", mode = 0755 }",
    .run = run,
    .writes = "path",
};
