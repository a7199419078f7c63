/*
 * copy: put a file or a directory tree from the build machine, or a given
 * content, at a path on the target (Ansible's copy, Packer's file
 * provisioner). The label fills dest unless the body sets it.
 */
#include "entries.h"
#include "modlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct kiln_arg args[] = {
    {"src", "path", false, NULL,
     "file or directory on the build machine, relative to the .img file; "
     "\"dir/\" copies the directory's contents, \"dir\" the directory itself"},
    {"content", "string|secret", false, NULL, "the content of dest, instead of src"},
    {"dest", "string", true, NULL,
     "path on the target; a path ending in / is a directory the file goes into"},
    {"mode", "mode", false, NULL, "permission bits of what is copied, e.g. 0644"},
    {"owner", "string", false, NULL, "user owning what is copied"},
    {"group", "string", false, NULL, "group owning what is copied"},
    {0},
};

static const char *const one_of[] = {"src|content", NULL};

/* Diffs stop showing file contents past this much text. */
#define COPY_DIFF_MAX (1u << 20)
/* Directory levels a copied tree may have. */
#define COPY_DEPTH_MAX 128

struct copy {
	const struct task_ctx *ctx;
	struct task_result *res;
	struct mod_attrs want;
	struct mod_changes ch;
};

static void diff_content(struct copy *cp, const char *path, const char *old, size_t olen,
                         const char *new, size_t nlen)
{
	if (!cp->ctx->diff)
		return;
	if (cp->ch.diff.len > COPY_DIFF_MAX || olen > COPY_DIFF_MAX / 4 || nlen > COPY_DIFF_MAX / 4)
		mod_diff(&cp->ch, "%s %s (%zu bytes)", old ? "~" : "+", path, nlen);
	else
		mod_diff_text(&cp->ch, path, old, old ? olen : 0, new, nlen);
}

/* dest holds data, with mode new_mode if it is created and no mode was asked for. */
static int put_file(struct copy *cp, const char *dest, const char *data, size_t len,
                    mode_t new_mode)
{
	const struct task_ctx *ctx = cp->ctx;
	struct conn_stat st;
	struct rt_error err = {0};
	char *old = NULL;
	size_t olen = 0;
	int r = 0;

	if (ctx->conn->ops->stat(ctx->conn, dest, false, &st, &err) < 0)
		return mod_fail(cp->res, &err);
	if (st.exists && S_ISDIR(st.mode)) {
		task_failed(cp->res, "cannot copy a file to %s: it is a directory", dest);
		return -1;
	}
	bool reg = st.exists && S_ISREG(st.mode);
	if (reg && st.size == (off_t)len &&
	    ctx->conn->ops->read(ctx->conn, dest, MOD_FILE_MAX, &old, &olen, &err) < 0)
		return mod_fail(cp->res, &err);
	if (reg && old && olen == len && !memcmp(old, data, len)) {
		r = mod_fix_attrs(ctx, cp->res, dest, &st, &cp->want, &cp->ch);
		goto out;
	}
	if (reg && !old && ctx->diff && st.size <= (off_t)(COPY_DIFF_MAX / 4) &&
	    ctx->conn->ops->read(ctx->conn, dest, MOD_FILE_MAX, &old, &olen, &err) < 0) {
		r = mod_fail(cp->res, &err);
		goto out;
	}
	mod_note(&cp->ch, !st.exists ? "created %s" : reg ? "changed %s" : "replaced %s", dest);
	diff_content(cp, dest, reg ? (old ? old : "") : NULL, olen, data, len);
	struct conn_attrs a = {cp->want.mode, cp->want.uid, cp->want.gid};
	if (a.mode == (mode_t)-1 && !reg)
		a.mode = new_mode;
	if (!ctx->check && ctx->conn->ops->write(ctx->conn, dest, data, len, &a, &err) < 0) {
		r = mod_fail(cp->res, &err);
		goto out;
	}
	if (reg)
		r = mod_fix_attrs(ctx, cp->res, dest, &st, &cp->want, &cp->ch);
out:
	free(old);
	return r;
}

static int put_link(struct copy *cp, const char *dest, const char *target)
{
	const struct task_ctx *ctx = cp->ctx;
	struct conn_stat st;
	struct rt_error err = {0};
	char *old = NULL;
	int r = 0;

	if (ctx->conn->ops->stat(ctx->conn, dest, false, &st, &err) < 0)
		return mod_fail(cp->res, &err);
	if (st.exists && S_ISDIR(st.mode)) {
		task_failed(cp->res, "cannot copy a symlink to %s: it is a directory", dest);
		return -1;
	}
	if (st.exists && S_ISLNK(st.mode) &&
	    ctx->conn->ops->readlink(ctx->conn, dest, &old, &err) < 0)
		return mod_fail(cp->res, &err);
	if (!old || strcmp(old, target)) {
		mod_note(&cp->ch, "linked %s -> %s", dest, target);
		mod_diff(&cp->ch, "+ %s -> %s", dest, target);
		if (ctx->check)
			goto out;
		if (ctx->conn->ops->symlink(ctx->conn, target, dest, &err) < 0 ||
		    ctx->conn->ops->stat(ctx->conn, dest, false, &st, &err) < 0) {
			r = mod_fail(cp->res, &err);
			goto out;
		}
	}
	struct mod_attrs owner = {(mode_t)-1, cp->want.uid, cp->want.gid};
	r = mod_fix_attrs(ctx, cp->res, dest, &st, &owner, &cp->ch);
out:
	free(old);
	return r;
}

/* dest is a directory (a symlink to one counts), made with new_mode if missing; only its
   owner is brought to what was asked (mode applies to files). */
static int put_dir(struct copy *cp, const char *dest, mode_t new_mode)
{
	const struct task_ctx *ctx = cp->ctx;
	struct conn_stat st;
	struct rt_error err = {0};

	if (ctx->conn->ops->stat(ctx->conn, dest, true, &st, &err) < 0)
		return mod_fail(cp->res, &err);
	struct mod_attrs owner = {(mode_t)-1, cp->want.uid, cp->want.gid};
	if (st.exists) {
		if (!S_ISDIR(st.mode)) {
			task_failed(cp->res, "cannot copy a directory to %s: it is not a directory",
			            dest);
			return -1;
		}
		if (ctx->conn->ops->stat(ctx->conn, dest, false, &st, &err) < 0)
			return mod_fail(cp->res, &err);
		return S_ISLNK(st.mode) ? 0
		                        : mod_fix_attrs(ctx, cp->res, dest, &st, &owner, &cp->ch);
	}
	mod_note(&cp->ch, "created directory %s", dest);
	mod_diff(&cp->ch, "+ directory %s", dest);
	if (ctx->check)
		return 0;
	char *parent = mod_dirname(dest);
	struct conn_attrs a = {new_mode, owner.uid, owner.gid};
	int r = conn_mkdir_p(ctx->conn, parent, &CONN_ATTRS_DEFAULT, &err);
	if (r >= 0)
		r = ctx->conn->ops->mkdir(ctx->conn, dest, &a, &err);
	free(parent);
	return r < 0 ? mod_fail(cp->res, &err) : 0;
}

static int read_local(struct copy *cp, const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		task_failed(cp->res, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((size_t)st.st_size > MOD_FILE_MAX) {
		close(fd);
		task_failed(cp->res, "%s is too big to copy (%lld bytes)", path,
		            (long long)st.st_size);
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 == cap) {
			if (cap > MOD_FILE_MAX) {
				free(buf);
				close(fd);
				task_failed(cp->res, "%s is too big to copy", path);
				return -1;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			task_failed(cp->res, "cannot read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int put_local_file(struct copy *cp, const char *local, const char *dest, mode_t mode)
{
	char *data;
	size_t len;
	if (read_local(cp, local, &data, &len) < 0)
		return -1;
	int r = put_file(cp, dest, data, len, mode & 07777);
	free(data);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything inside the local directory dir goes into dest (which exists, or would). */
static int copy_tree(struct copy *cp, const char *dir, const char *dest, int depth)
{
	if (depth > COPY_DEPTH_MAX) {
		task_failed(cp->res, "%s: more than %d directory levels", dir, COPY_DEPTH_MAX);
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d) {
		task_failed(cp->res, "cannot read directory %s: %s", dir, strerror(errno));
		return -1;
	}
	size_t n = 0, cap = 16;
	char **names = xmalloc(cap * sizeof(*names));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap)
			names = xrealloc(names, (cap *= 2) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);

	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		char *src = mod_path_join(dir, names[i]);
		char *dst = mod_path_join(dest, names[i]);
		struct stat st;
		if (lstat(src, &st) < 0) {
			r = -1, task_failed(cp->res, "cannot stat %s: %s", src, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			r = put_dir(cp, dst, st.st_mode & 07777);
			if (r == 0)
				r = copy_tree(cp, src, dst, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			r = put_local_file(cp, src, dst, st.st_mode);
		} else if (S_ISLNK(st.st_mode)) {
			char buf[4096];
			ssize_t l = readlink(src, buf, sizeof(buf) - 1);
			if (l < 0) {
				r = -1, task_failed(cp->res, "cannot read link %s: %s", src,
				                    strerror(errno));
			} else {
				buf[l] = '\0';
				r = put_link(cp, dst, buf);
			}
		} else {
			r = -1,
			task_failed(cp->res, "cannot copy %s: not a file, directory or symlink",
			            src);
		}
		free(src);
		free(dst);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* A file goes to dest, or into it when dest ends with / (made if missing) or is a directory. */
static char *file_dest(struct copy *cp, const char *dest, const char *name)
{
	const struct task_ctx *ctx = cp->ctx;
	struct conn_stat st;
	struct rt_error err = {0};
	size_t dl = strlen(dest);
	bool slash = dl && dest[dl - 1] == '/';

	if (ctx->conn->ops->stat(ctx->conn, dest, true, &st, &err) < 0) {
		mod_fail(cp->res, &err);
		return NULL;
	}
	if (slash || (st.exists && S_ISDIR(st.mode))) {
		if (!name) {
			task_failed(cp->res, "dest %s is a directory: content needs a file name",
			            dest);
			return NULL;
		}
		if (!st.exists && put_dir(cp, dest, 0755) < 0)
			return NULL;
		return mod_path_join(dest, name);
	}
	/* a dest that resolves is in a directory: only a new one needs its directory checked */
	if (st.exists)
		return mod_path_clean(dest);
	char *dir = mod_dirname(dest);
	if (ctx->conn->ops->stat(ctx->conn, dir, true, &st, &err) < 0) {
		mod_fail(cp->res, &err);
	} else if (!st.exists && ctx->check) {
		/* in check mode an earlier task may be the one that would make it */
		task_changed(cp->res, "would create %s (its directory %s is not there yet)", dest,
		             dir);
	} else if (!st.exists || !S_ISDIR(st.mode)) {
		task_failed(cp->res, "directory %s does not exist (end dest with / to create it)",
		            dir);
	} else {
		free(dir);
		return mod_path_clean(dest);
	}
	free(dir);
	return NULL;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	struct copy cp = {.ctx = ctx, .res = res, .ch = MOD_CHANGES_INIT};
	const char *dest = task_arg_str(ctx, "dest", "");
	const char *content = task_arg_str(ctx, "content", NULL);
	const char *src = task_arg_str(ctx, "src", NULL);
	char *local = NULL, *to = NULL, *name = NULL;
	int r = -1;

	if (dest[0] != '/')
		return task_failed(res, "dest '%s' is not absolute", dest);
	if (mod_attrs_from_args(ctx, res, &cp.want) < 0)
		goto out;
	if (content) {
		to = file_dest(&cp, dest, NULL);
		if (to)
			r = put_file(&cp, to, content, strlen(content), 0644);
	} else if (src && *src) {
		local = mod_local_path(ctx, src);
		struct stat st;
		if (stat(local, &st) < 0) {
			task_failed(res, "src %s: %s", local, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			/* "dir/" copies what is inside, "dir" the directory itself */
			bool contents = src[strlen(src) - 1] == '/';
			name = mod_basename(local);
			to = contents ? mod_path_clean(dest) : mod_path_join(dest, name);
			char *clean = mod_path_clean(dest);
			r = put_dir(&cp, clean, 0755);
			free(clean);
			if (r == 0 && !contents)
				r = put_dir(&cp, to, st.st_mode & 07777);
			if (r == 0)
				r = copy_tree(&cp, local, to, 0);
		} else if (S_ISREG(st.st_mode)) {
			name = mod_basename(local);
			to = file_dest(&cp, dest, name);
			if (to)
				r = put_local_file(&cp, local, to, st.st_mode);
		} else {
			task_failed(res, "src %s is not a file or a directory", local);
		}
	} else {
		task_failed(res, "copy needs src or content");
	}
	if (r == 0) {
		char *ok = xasprintf("%s is up to date", to ? to : dest);
		mod_finish(ctx, res, &cp.ch, ok);
		free(ok);
	}
out:
	mod_changes_release(&cp.ch);
	free(local);
	free(to);
	free(name);
	return 0;
}

const struct kiln_schema mod_copy_schema = {
    .kind = SCHEMA_MODULE,
    .name = "copy",
    .doc = "copy files from the build machine, or a given content, to the target",
    .label = "dest",
    .args = args,
    .inputs = (const char *const[]){"src", NULL},
    .one_of = one_of,
    .example =
        "copy \"upload the app\" { src = \"app/\", dest = \"/srv/app/\", owner = \"www-data\" }",
    .run = run,
};
