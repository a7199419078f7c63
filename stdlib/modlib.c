/*
 * modlib: the helpers of stdlib/module.h and stdlib/modlib.h that every
 * module uses: mkdir -p, ownership and permissions, commands, paths and
 * text files as lines. Results, arguments and changes are in modlib_task.c,
 * the unified diff in modlib_diff.c, the target's ids and account files in
 * modlib_account.c. Everything reaches the target only through the
 * connection's primitives, so it works on a rootfs and over SSH alike.
 */
#include "modlib.h"

#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ==== mkdir -p ============================================================================= */

int conn_mkdir_p(struct conn *c, const char *path, const struct conn_attrs *attrs,
                 struct rt_error *err)
{
	if (!path || path[0] != '/')
		return rt_error_set(err, -EINVAL, "'%s' is not an absolute path", path ? path : "");
	char *p = mod_path_clean(path);
	int r = 0;
	/* Visit each prefix: "/a", "/a/b", ... */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (p[1]) {
			struct conn_stat st;
			r = c->ops->stat(c, p, true, &st, err);
			if (r < 0)
				goto out;
			if (!st.exists) {
				r = c->ops->mkdir(c, p, attrs, err);
				if (r == -EEXIST) {
					r = c->ops->stat(c, p, true, &st, err);
					if (r < 0)
						goto out;
					if (!S_ISDIR(st.mode))
						goto notdir;
				} else if (r < 0) {
					goto out;
				}
			} else if (!S_ISDIR(st.mode)) {
				goto notdir;
			}
		}
		*s = saved;
		if (!saved)
			break;
	}
	r = 0;
	goto out;
notdir:
	r = rt_error_set(err, -ENOTDIR, "'%s' exists and is not a directory", p);
out:
	free(p);
	return r;
}

/* ==== ownership and permissions ============================================================ */

const char *mod_mode_str(mode_t mode, char buf[8])
{
	snprintf(buf, 8, "%04o", (unsigned)(mode & 07777));
	return buf;
}

int mod_attrs_from_args(const struct task_ctx *ctx, struct task_result *res, struct mod_attrs *ret)
{
	struct mod_attrs a = {(mode_t)-1, (uid_t)-1, (gid_t)-1};
	struct rt_error err = {0};

	if (mod_arg(ctx, "mode")) {
		a.mode = task_arg_mode(ctx, "mode");
		if (a.mode == (mode_t)-1) {
			task_failed(res, "invalid mode: give an octal number such as 0644 or an "
			                 "absolute symbolic mode such as u=rw,go=r");
			return -1;
		}
	}
	const char *owner = task_arg_str(ctx, "owner", NULL);
	if (owner && target_uid(ctx->conn, owner, &a.uid, &err) < 0)
		return mod_fail(res, &err);
	const char *group = task_arg_str(ctx, "group", NULL);
	if (group && target_gid(ctx->conn, group, &a.gid, &err) < 0)
		return mod_fail(res, &err);
	*ret = a;
	return 0;
}

int mod_fix_attrs(const struct task_ctx *ctx, struct task_result *res, const char *path,
                  const struct conn_stat *st, const struct mod_attrs *want, struct mod_changes *ch)
{
	struct rt_error err = {0};
	char b1[8], b2[8];

	if (want->mode != (mode_t)-1 && !S_ISLNK(st->mode) &&
	    (st->mode & 07777) != (want->mode & 07777)) {
		mod_note(ch, "%s mode %s -> %s", path, mod_mode_str(st->mode, b1),
		         mod_mode_str(want->mode, b2));
		mod_diff(ch, "%s: mode %s -> %s", path, b1, b2);
		if (!ctx->check && ctx->conn->ops->chmod(ctx->conn, path, want->mode, &err) < 0)
			return mod_fail(res, &err);
	}
	uid_t uid = want->uid != (uid_t)-1 && want->uid != st->uid ? want->uid : (uid_t)-1;
	gid_t gid = want->gid != (gid_t)-1 && want->gid != st->gid ? want->gid : (gid_t)-1;
	if (uid != (uid_t)-1 || gid != (gid_t)-1) {
		if (uid != (uid_t)-1) {
			mod_note(ch, "%s owner %u -> %u", path, (unsigned)st->uid, (unsigned)uid);
			mod_diff(ch, "%s: owner %u -> %u", path, (unsigned)st->uid, (unsigned)uid);
		}
		if (gid != (gid_t)-1) {
			mod_note(ch, "%s group %u -> %u", path, (unsigned)st->gid, (unsigned)gid);
			mod_diff(ch, "%s: group %u -> %u", path, (unsigned)st->gid, (unsigned)gid);
		}
		if (!ctx->check && ctx->conn->ops->chown(ctx->conn, path, uid, gid, &err) < 0)
			return mod_fail(res, &err);
		/* chown clears set-id bits of files: put back the mode asked for */
		if (!ctx->check && want->mode != (mode_t)-1 && (want->mode & 06000) &&
		    !S_ISLNK(st->mode) &&
		    ctx->conn->ops->chmod(ctx->conn, path, want->mode, &err) < 0)
			return mod_fail(res, &err);
	}
	return 0;
}

/* ==== commands ============================================================================= */

void mod_exec_res_free(struct exec_res *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	*r = (struct exec_res){0};
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		            "_-./=:,+@%",
		            *s))
			return true;
	return false;
}

char *mod_argv_str(const char *const *argv)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			sb_addc(&sb, ' ');
		if (!needs_quotes(argv[i])) {
			sb_adds(&sb, argv[i]);
			continue;
		}
		sb_addc(&sb, '\'');
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\'')
				sb_adds(&sb, "'\\''");
			else
				sb_addc(&sb, *p);
		}
		sb_addc(&sb, '\'');
	}
	return sb_detach(&sb);
}

char *mod_tail_lines(const char *text, size_t len, int n)
{
	if (!text)
		return xstrdup("");
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	size_t start = len;
	int lines = 0;
	while (start > 0) {
		if (text[start - 1] == '\n' && ++lines == n)
			break;
		start--;
	}
	return xstrndup(text + start, len - start);
}

void mod_record_cmd(struct task_result *res, const char *const *argv, const struct exec_res *er)
{
	free(res->cmd);
	res->cmd = mod_argv_str(argv);
	res->exit_status = er->status;
	free(res->stderr_tail);
	res->stderr_tail = mod_tail_lines(er->err, er->err_len, 20);
	free(res->stdout_tail);
	res->stdout_tail = mod_tail_lines(er->out, er->out_len, 20);
	free(res->stdout_full);
	res->stdout_full = er->out ? xstrndup(er->out, er->out_len) : NULL;
	free(res->stderr_full);
	res->stderr_full = er->err ? xstrndup(er->err, er->err_len) : NULL;
}

/* text with the secrets blanked out (malloc'd): before it is shortened. */
static char *redacted(const struct task_ctx *ctx, const char *text)
{
	return ctx->redact ? ctx->redact(ctx->redact_data, text) : xstrdup(text);
}

/* The last non-empty line of text, redacted, then cut to 200 bytes (malloc'd). */
static char *last_line(const struct task_ctx *ctx, const char *text, size_t len)
{
	char *l = mod_tail_lines(text, len, 1);
	char *t = redacted(ctx, l);
	free(l);
	if (strlen(t) > 200)
		t[200] = '\0';
	return t;
}

int mod_exec(const struct task_ctx *ctx, struct task_result *res, const struct exec_req *req,
             const char *what, struct exec_res *ret)
{
	struct rt_error err = {0};
	struct exec_res er = {0};

	if (ctx->conn->ops->exec(ctx->conn, req, &er, &err) < 0) {
		free(res->cmd);
		res->cmd = mod_argv_str(req->argv);
		res->exit_status = -1;
		task_failed(res, "%s: %s", what, err.msg);
		mod_exec_res_free(&er);
		return -1;
	}
	if (er.status != 0) {
		mod_record_cmd(res, req->argv, &er);
		char *l = last_line(ctx, er.err, er.err_len);
		if (!*l) {
			free(l);
			l = last_line(ctx, er.out, er.out_len);
		}
		task_failed(res, "%s failed with status %d%s%s", what, er.status, *l ? ": " : "",
		            l);
		free(l);
		mod_exec_res_free(&er);
		return -1;
	}
	*ret = er;
	return 0;
}

/* ==== paths ================================================================================ */

char *mod_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (!*b)
		return xstrndup(a, la);
	if (la == 1 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *mod_dirname(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return xstrndup(path, n);
}

char *mod_basename(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	return xstrndup(path + s, n - s);
}

char *mod_local_path(const struct task_ctx *ctx, const char *rel)
{
	return path_from_root(ctx->local_root, rel);
}

char *mod_path_clean(const char *path)
{
	size_t n = strlen(path);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	bool abs = path[0] == '/';
	if (abs)
		out[o++] = '/';
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t l = (size_t)(e - p);
		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.' && abs) {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--;
		} else {
			if (o > (size_t)abs)
				out[o++] = '/';
			memcpy(out + o, p, l);
			o += l;
		}
		p = e;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return out;
}

int mod_follow(struct conn *c, const char *path, char **ret, struct rt_error *err)
{
	struct conn_stat st;
	return mod_follow_stat(c, path, ret, &st, err);
}

int mod_follow_stat(struct conn *c, const char *path, char **ret, struct conn_stat *ret_st,
                    struct rt_error *err)
{
	char *cur = mod_path_clean(path);
	for (int i = 0; i < 40; i++) {
		struct conn_stat st;
		int r = c->ops->stat(c, cur, false, &st, err);
		if (r < 0) {
			free(cur);
			return r;
		}
		if (!st.exists || !S_ISLNK(st.mode)) {
			*ret = cur;
			*ret_st = st;
			return 0;
		}
		char *target;
		r = c->ops->readlink(c, cur, &target, err);
		if (r < 0) {
			free(cur);
			return r;
		}
		char *next;
		if (target[0] == '/') {
			next = mod_path_clean(target);
		} else {
			char *dir = mod_dirname(cur);
			char *j = mod_path_join(dir, target);
			next = mod_path_clean(j);
			free(j);
			free(dir);
		}
		free(target);
		free(cur);
		cur = next;
	}
	free(cur);
	return rt_error_set(err, -ELOOP, "too many levels of symbolic links at '%s'", path);
}

/* ==== text files as lines ================================================================== */

static void lines_grow(struct mod_lines *l)
{
	if (l->n < l->cap)
		return;
	l->cap = l->cap ? l->cap * 2 : 32;
	l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
}

void mod_lines_split(struct mod_lines *l, const char *text, size_t len)
{
	size_t i = 0;
	l->final_nl = true;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		lines_grow(l);
		l->v[l->n++] = xstrndup(text + i, e - i);
		if (!nl)
			l->final_nl = false;
		i = e + 1;
	}
}

char *mod_lines_join(const struct mod_lines *l, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		sb_adds(&sb, l->v[i]);
		if (i + 1 < l->n || l->final_nl)
			sb_addc(&sb, '\n');
	}
	*ret_len = sb.len;
	return sb_detach(&sb);
}

void mod_lines_insert(struct mod_lines *l, size_t at, const char *line)
{
	lines_grow(l);
	if (at > l->n)
		at = l->n;
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*l->v));
	l->v[at] = xstrdup(line);
	l->n++;
	if (at == l->n - 1)
		l->final_nl = true; /* a line added at the end ends with a newline */
}

void mod_lines_remove(struct mod_lines *l, size_t at)
{
	free(l->v[at]);
	memmove(l->v + at, l->v + at + 1, (l->n - at - 1) * sizeof(*l->v));
	l->n--;
	if (l->n == 0)
		l->final_nl = true;
}

void mod_lines_set(struct mod_lines *l, size_t at, const char *line)
{
	char *s = xstrdup(line);
	free(l->v[at]);
	l->v[at] = s;
}

void mod_lines_release(struct mod_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct mod_lines){0};
}

int mod_lines_read(struct conn *c, const char *path, struct mod_lines *l, bool *ret_exists,
                   struct rt_error *err)
{
	char *data = NULL;
	size_t len = 0;
	*l = (struct mod_lines){.final_nl = true};
	int r = c->ops->read(c, path, MOD_TEXT_MAX, &data, &len, err);
	if (r == -ENOENT) {
		*ret_exists = false;
		return 0;
	}
	if (r < 0)
		return r;
	*ret_exists = true;
	mod_lines_split(l, data, len);
	free(data);
	return 0;
}

/* ==== command tasks ======================================================================== */

/* Does path exist on the target? -1: res failed. */
static int path_exists(const struct task_ctx *ctx, struct task_result *res, const char *path)
{
	struct conn_stat st;
	struct rt_error err = {0};
	if (ctx->conn->ops->stat(ctx->conn, path, true, &st, &err) < 0)
		return mod_fail(res, &err);
	return st.exists;
}

int mod_command_task(const struct task_ctx *ctx, struct task_result *res, const char *const *argv)
{
	const char *creates = task_arg_str(ctx, "creates", NULL);
	const char *removes = task_arg_str(ctx, "removes", NULL);
	int r;

	if (creates) {
		r = path_exists(ctx, res, creates);
		if (r < 0)
			return 0;
		if (r)
			return task_ok(res, "skipped: %s exists", creates);
	}
	if (removes) {
		r = path_exists(ctx, res, removes);
		if (r < 0)
			return 0;
		if (!r)
			return task_ok(res, "skipped: %s does not exist", removes);
	}

	char *line = mod_argv_str(argv);
	if (ctx->check) {
		task_changed(res, "would run: %s", line);
		if (ctx->diff)
			res->diff = xasprintf("would run: %s\n", line);
		free(line);
		return 0;
	}

	/* env: NAME=VALUE strings */
	json_t *env = mod_arg(ctx, "env");
	size_t nenv = env && json_is_object(env) ? json_object_size(env) : 0;
	char **envv = xcalloc(nenv + 1, sizeof(*envv));
	size_t k = 0;
	const char *key;
	json_t *val;
	if (nenv)
		json_object_foreach (env, key, val) {
			if (json_is_string(val))
				envv[k++] = xasprintf("%s=%s", key, json_string_value(val));
			else if (json_is_integer(val))
				envv[k++] =
				    xasprintf("%s=%lld", key, (long long)json_integer_value(val));
			else if (json_is_boolean(val))
				envv[k++] =
				    xasprintf("%s=%s", key, json_is_true(val) ? "true" : "false");
		}
	const char *in = task_arg_str(ctx, "stdin", NULL);
	struct exec_req req = {
	    .argv = argv,
	    .env = (const char *const *)envv,
	    .cwd = task_arg_str(ctx, "chdir", NULL),
	    .input = in,
	    .input_len = in ? strlen(in) : 0,
	};
	struct rt_error err = {0};
	struct exec_res er = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0) {
		free(res->cmd);
		res->cmd = xstrdup(line);
		res->exit_status = -1;
		task_failed(res, "cannot run '%s': %s", line, err.msg);
		goto out;
	}
	mod_record_cmd(res, argv, &er);
	free(res->output);
	res->output = xstrndup(er.out ? er.out : "", er.out_len);
	if (er.status != 0) {
		char *l = last_line(ctx, er.err, er.err_len);
		task_failed(res, "exited with status %d%s%s", er.status, *l ? ": " : "", l);
		free(l);
	} else {
		char *shown = redacted(ctx, line);
		task_changed(res, "ran: %.200s", shown);
		free(shown);
		if (ctx->diff)
			res->diff = xasprintf("ran: %s\n", line);
	}
out:
	mod_exec_res_free(&er);
	for (size_t i = 0; i < k; i++)
		free(envv[i]);
	free(envv);
	free(line);
	return 0;
}
