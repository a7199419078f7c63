/*
 * modlib: the helpers of runtime/task.h and stdlib/modlib.h that every
 * module uses: results, arguments, the target's ids, mkdir -p, a unified
 * diff, changes collected into a message, commands, paths and line-based
 * editing of the account files. Everything reaches the target only through
 * the connection's primitives, so it works on a rootfs and over SSH alike.
 */
#include "modlib.h"

#include "builtins.h"
#include "path.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ==== results ============================================================================== */

void task_result_release(struct task_result *res)
{
	if (!res)
		return;
	free(res->msg);
	free(res->diff);
	free(res->cmd);
	free(res->stderr_tail);
	*res = (struct task_result){0};
}

static int set_result(struct task_result *res, enum task_status status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int set_result(struct task_result *res, enum task_status status, const char *fmt, va_list ap)
{
	res->status = status;
	free(res->msg);
	res->msg = xvasprintf(fmt, ap);
	/* one line for a person */
	for (char *p = res->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return 0;
}

int task_ok(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_OK, fmt, ap);
	va_end(ap);
	return 0;
}

int task_changed(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_CHANGED, fmt, ap);
	va_end(ap);
	return 0;
}

int task_failed(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_FAILED, fmt, ap);
	va_end(ap);
	return 0;
}

int mod_fail(struct task_result *res, const struct rt_error *err)
{
	task_failed(res, "%s", err->msg[0] ? err->msg : strerror(-err->code));
	return -1;
}

/* ==== arguments ============================================================================ */

static json_t *arg(const struct task_ctx *ctx, const char *name)
{
	json_t *v = ctx->args ? json_object_get(ctx->args, name) : NULL;
	return v && !json_is_null(v) ? v : NULL;
}

const char *task_arg_str(const struct task_ctx *ctx, const char *name, const char *def)
{
	json_t *v = arg(ctx, name);
	return v && json_is_string(v) ? json_string_value(v) : def;
}

bool task_arg_bool(const struct task_ctx *ctx, const char *name, bool def)
{
	json_t *v = arg(ctx, name);
	if (v && json_is_boolean(v))
		return json_is_true(v);
	if (v && json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "true") || !strcmp(s, "yes"))
			return true;
		if (!strcmp(s, "false") || !strcmp(s, "no"))
			return false;
	}
	return def;
}

long long task_arg_int(const struct task_ctx *ctx, const char *name, long long def)
{
	json_t *v = arg(ctx, name);
	if (v && json_is_integer(v))
		return json_integer_value(v);
	if (v && json_is_string(v)) {
		char *end;
		errno = 0;
		long long n = strtoll(json_string_value(v), &end, 10);
		if (!errno && end != json_string_value(v) && !*end)
			return n;
	}
	return def;
}

mode_t task_arg_mode(const struct task_ctx *ctx, const char *name)
{
	json_t *v = arg(ctx, name);
	if (v && json_is_integer(v)) {
		long long n = json_integer_value(v);
		return n >= 0 && n <= 07777 ? (mode_t)n : (mode_t)-1;
	}
	/* the plan holds ints; a string is a value known only while building (a fact) */
	unsigned m;
	const char *why;
	if (v && json_is_string(v) && stdlib_mode_parse(json_string_value(v), &m, &why) == 0)
		return (mode_t)m;
	return (mode_t)-1;
}

/* ==== the target's users and groups ======================================================== */

static bool parse_id(const char *s, unsigned long *ret)
{
	if (!*s || strlen(s) > 10)
		return false;
	unsigned long n = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n >= UINT32_MAX)
		return false;
	*ret = n;
	return true;
}

/* The id (field 2) of the entry name in file, by reading it through c. */
static int lookup_id(struct conn *c, const char *file, const char *what, const char *name,
                     unsigned long *ret, struct rt_error *err)
{
	if (!name || !*name)
		return rt_error_set(err, -EINVAL, "empty %s name", what);
	if (parse_id(name, ret))
		return 0;
	struct mod_lines l = {0};
	bool exists;
	int r = mod_lines_read(c, file, &l, &exists, err);
	if (r < 0)
		return r;
	long i = mod_entry_find(&l, name);
	if (i < 0) {
		r = rt_error_set(err, -ENOENT, "no %s '%s' on the target (%s)", what, name, file);
	} else {
		char *f = mod_field(l.v[i], 2);
		if (parse_id(f, ret))
			r = 0;
		else
			r = rt_error_set(err, -EINVAL, "%s: bad id for '%s'", file, name);
		free(f);
	}
	mod_lines_release(&l);
	return r;
}

int target_uid(struct conn *c, const char *user, uid_t *ret, struct rt_error *err)
{
	unsigned long id = 0;
	int r = lookup_id(c, "/etc/passwd", "user", user, &id, err);
	if (r == 0)
		*ret = (uid_t)id;
	return r;
}

int target_gid(struct conn *c, const char *group, gid_t *ret, struct rt_error *err)
{
	unsigned long id = 0;
	int r = lookup_id(c, "/etc/group", "group", group, &id, err);
	if (r == 0)
		*ret = (gid_t)id;
	return r;
}

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

/* ==== unified diff ========================================================================= */

struct dline {
	const char *s;
	size_t len; /* with its '\n', if it has one */
};

static struct dline *split_dlines(const char *t, size_t len, size_t *ret_n)
{
	size_t n = 0, cap = 16;
	struct dline *v = xmalloc(cap * sizeof(*v));
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) + 1 : len - i;
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct dline){t + i, l};
		i += l;
	}
	*ret_n = n;
	return v;
}

static bool dline_eq(const struct dline *a, const struct dline *b)
{
	return a->len == b->len && !memcmp(a->s, b->s, a->len);
}

/* Limits: beyond them, a diff says how many lines changed instead of which. */
#define DIFF_MAX_LINES 200000
#define DIFF_MAX_D 1000

/*
 * Myers' O(ND) greedy algorithm on a[0..n) and b[0..m), keeping V of every round for the
 * walk back. Writes the edit script into ops (' ', '-', '+'), returns its length, or -1
 * when the distance exceeds DIFF_MAX_D.
 */
static long myers(const struct dline *a, long n, const struct dline *b, long m, char *ops)
{
	long dmax = n + m < DIFF_MAX_D ? n + m : DIFF_MAX_D;
	long **trace = xcalloc((size_t)dmax + 1, sizeof(*trace));
	long found = -1, len = -1;

	for (long d = 0; d <= dmax && found < 0; d++) {
		long *v = xmalloc((size_t)(2 * d + 1) * sizeof(*v));
		long *pv = d ? trace[d - 1] : NULL; /* indexed k + (d - 1) */
		trace[d] = v;
		for (long k = -d; k <= d; k += 2) {
			long x;
			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				x = pv[k + 1 + d - 1]; /* down: b[y] inserted */
			else
				x = pv[k - 1 + d - 1] + 1; /* right: a[x] deleted */
			long y = x - k;
			while (x < n && y < m && dline_eq(&a[x], &b[y]))
				x++, y++;
			v[k + d] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0)
		goto out;

	/* Walk back from (n, m), writing the script from its end. */
	len = 0;
	{
		long x = n, y = m, pos = n + m + found; /* upper bound of the script's length */
		char *rev = xmalloc((size_t)pos + 1);
		long r = 0;
		for (long d = found; d > 0; d--) {
			long *pv = trace[d - 1];
			long k = x - y, pk;
			if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				pk = k + 1;
			else
				pk = k - 1;
			long px = pv[pk + d - 1], py = px - pk;
			long mx = pk == k + 1 ? px : px + 1; /* after the one edit */
			while (x > mx) {
				rev[r++] = ' ';
				x--, y--;
			}
			rev[r++] = pk == k + 1 ? '+' : '-';
			x = px, y = py;
		}
		while (x > 0) {
			rev[r++] = ' ';
			x--;
		}
		for (long i = 0; i < r; i++)
			ops[i] = rev[r - 1 - i];
		len = r;
		free(rev);
	}
out:
	for (long d = 0; d <= dmax; d++)
		free(trace[d]);
	free(trace);
	return len;
}

static void add_hunk_line(struct strbuf *sb, char op, const struct dline *l)
{
	sb_addc(sb, op);
	sb_add(sb, l->s, l->len);
	if (!l->len || l->s[l->len - 1] != '\n')
		sb_adds(sb, "\n\\ No newline at end of file\n");
}

static void add_range(struct strbuf *sb, char sign, size_t before, size_t count)
{
	/* GNU diff: an empty range names the line before it */
	sb_addf(sb, "%c%zu", sign, count ? before + 1 : before);
	if (count != 1)
		sb_addf(sb, ",%zu", count);
}

#define DIFF_CONTEXT 3

char *text_diff(const char *label_a, const char *a, size_t alen, const char *label_b, const char *b,
                size_t blen)
{
	struct strbuf sb = STRBUF_INIT;

	if (alen == blen && (!alen || !memcmp(a, b, alen)))
		return sb_detach(&sb);
	if (memchr(a, '\0', alen) || memchr(b, '\0', blen)) {
		sb_addf(&sb, "Binary files %s and %s differ\n", label_a, label_b);
		return sb_detach(&sb);
	}
	size_t na, nb;
	struct dline *la = split_dlines(a, alen, &na);
	struct dline *lb = split_dlines(b, blen, &nb);

	/* Common head and tail need no search. */
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && dline_eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && dline_eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	size_t ma = na - pre - suf, mb = nb - pre - suf;

	sb_addf(&sb, "--- %s\n+++ %s\n", label_a, label_b);
	char *ops = NULL;
	long mlen = -1;
	if (ma + mb <= DIFF_MAX_LINES) {
		ops = xmalloc(pre + suf + ma + mb + 1);
		memset(ops, ' ', pre);
		mlen = myers(la + pre, (long)ma, lb + pre, (long)mb, ops + pre);
	}
	if (mlen < 0) {
		sb_addf(&sb, "@@ -%zu,%zu +%zu,%zu @@ %zu lines changed (too many to show)\n",
		        pre + 1, ma, pre + 1, mb, ma > mb ? ma : mb);
		goto out;
	}
	size_t nops = pre + (size_t)mlen + suf;
	memset(ops + pre + mlen, ' ', suf);

	/* Group the script into hunks with DIFF_CONTEXT lines around each change. */
	size_t i = 0, ai = 0, bi = 0; /* position in ops, and in a and b */
	while (true) {
		size_t c = i;
		while (c < nops && ops[c] == ' ')
			c++;
		if (c == nops)
			break;
		size_t hs = c >= i + DIFF_CONTEXT ? c - DIFF_CONTEXT : i;
		/* lines of a and b before hs */
		for (size_t j = i; j < hs; j++)
			ai++, bi++;
		size_t he = c;
		while (true) {
			while (he < nops && ops[he] != ' ')
				he++;
			size_t run = he;
			while (run < nops && ops[run] == ' ')
				run++;
			if (run < nops && run - he <= 2 * DIFF_CONTEXT) {
				he = run;
				continue;
			}
			he = run - he > DIFF_CONTEXT ? he + DIFF_CONTEXT : run;
			break;
		}
		size_t ca = 0, cb = 0;
		for (size_t j = hs; j < he; j++) {
			ca += ops[j] != '+';
			cb += ops[j] != '-';
		}
		sb_adds(&sb, "@@ ");
		add_range(&sb, '-', ai, ca);
		sb_addc(&sb, ' ');
		add_range(&sb, '+', bi, cb);
		sb_adds(&sb, " @@\n");
		for (size_t j = hs; j < he; j++) {
			if (ops[j] == ' ') {
				add_hunk_line(&sb, ' ', &la[ai]);
				ai++, bi++;
			} else if (ops[j] == '-') {
				add_hunk_line(&sb, '-', &la[ai++]);
			} else {
				add_hunk_line(&sb, '+', &lb[bi++]);
			}
		}
		i = he;
	}
out:
	free(ops);
	free(la);
	free(lb);
	return sb_detach(&sb);
}

/* ==== changes ============================================================================== */

/* Past this, the message only counts further changes. */
#define NOTES_MAX 400

void mod_note(struct mod_changes *ch, const char *fmt, ...)
{
	ch->n++;
	if (ch->what.len >= NOTES_MAX)
		return;
	ch->shown++;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	if (ch->what.len)
		sb_adds(&ch->what, ", ");
	sb_adds(&ch->what, s);
	free(s);
}

void mod_diff(struct mod_changes *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_adds(&ch->diff, s);
	if (ch->diff.len && ch->diff.buf[ch->diff.len - 1] != '\n')
		sb_addc(&ch->diff, '\n');
	free(s);
}

void mod_diff_text(struct mod_changes *ch, const char *path, const char *old, size_t oldlen,
                   const char *new, size_t newlen)
{
	char *la = xasprintf("%s (before)", path);
	char *lb = xasprintf("%s (after)", path);
	char *d =
	    text_diff(la, old ? old : "", old ? oldlen : 0, lb, new ? new : "", new ? newlen : 0);
	sb_adds(&ch->diff, d);
	free(d);
	free(la);
	free(lb);
}

void mod_changes_release(struct mod_changes *ch)
{
	sb_release(&ch->what);
	sb_release(&ch->diff);
	ch->n = ch->shown = 0;
}

int mod_finish(const struct task_ctx *ctx, struct task_result *res, struct mod_changes *ch,
               const char *ok_msg)
{
	if (!ch->n) {
		task_ok(res, "%s", ok_msg);
	} else {
		if (ch->n > ch->shown)
			task_changed(res, "%s%s, and %zu more", ctx->check ? "would change: " : "",
			             ch->what.buf, ch->n - ch->shown);
		else
			task_changed(res, "%s%s", ctx->check ? "would change: " : "",
			             ch->what.buf ? ch->what.buf : "changed");
		if (ctx->diff) {
			free(res->diff);
			res->diff = sb_detach(&ch->diff);
		}
	}
	mod_changes_release(ch);
	return 0;
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

	if (arg(ctx, "mode")) {
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

/* ==== account files ======================================================================== */

char *mod_field(const char *line, int i)
{
	const char *p = line;
	for (int k = 0; k < i; k++) {
		p = strchr(p, ':');
		if (!p)
			return xstrdup("");
		p++;
	}
	const char *e = strchr(p, ':');
	return e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
}

char *mod_field_set(const char *line, int i, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = line;
	int k = 0;
	for (; k < i; k++) {
		const char *e = strchr(p, ':');
		if (!e) {
			sb_adds(&sb, p);
			p = NULL;
			break;
		}
		sb_add(&sb, p, (size_t)(e - p) + 1);
		p = e + 1;
	}
	if (!p) {
		for (k++; k <= i; k++)
			sb_addc(&sb, ':');
		sb_adds(&sb, value);
		return sb_detach(&sb);
	}
	sb_adds(&sb, value);
	const char *e = strchr(p, ':');
	if (e)
		sb_adds(&sb, e);
	return sb_detach(&sb);
}

long mod_entry_find(const struct mod_lines *l, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, n) && l->v[i][n] == ':')
			return (long)i;
	return -1;
}

bool mod_member_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

char *mod_member_add(const char *list, const char *name)
{
	if (mod_member_has(list, name))
		return xstrdup(list);
	return *list ? xasprintf("%s,%s", list, name) : xstrdup(name);
}

char *mod_member_remove(const char *list, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l && !(l == n && !strncmp(p, name, n))) {
			if (sb.len)
				sb_addc(&sb, ',');
			sb_add(&sb, p, l);
		}
		if (!e)
			break;
		p = e + 1;
	}
	return sb_detach(&sb);
}

void mod_id_range(struct conn *c, bool group, struct mod_id_range *ret)
{
	*ret = (struct mod_id_range){1000, 60000, 100, 999};
	struct mod_lines l;
	bool exists;
	struct rt_error err;
	if (mod_lines_read(c, "/etc/login.defs", &l, &exists, &err) < 0)
		return;
	const char *keys[4] = {"UID_MIN", "UID_MAX", "SYS_UID_MIN", "SYS_UID_MAX"};
	const char *gkeys[4] = {"GID_MIN", "GID_MAX", "SYS_GID_MIN", "SYS_GID_MAX"};
	unsigned long *vals[4] = {&ret->min, &ret->max, &ret->sys_min, &ret->sys_max};
	for (size_t i = 0; i < l.n; i++) {
		const char *s = l.v[i];
		while (*s == ' ' || *s == '\t')
			s++;
		for (int k = 0; k < 4; k++) {
			const char *key = group ? gkeys[k] : keys[k];
			size_t kl = strlen(key);
			if (strncmp(s, key, kl) || (s[kl] != ' ' && s[kl] != '\t'))
				continue;
			char *end;
			unsigned long v = strtoul(s + kl, &end, 10);
			if (end != s + kl && v < UINT32_MAX)
				*vals[k] = v;
		}
	}
	mod_lines_release(&l);
}

bool mod_id_used(const struct mod_lines *l, unsigned long id)
{
	if (!l)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		char *f = mod_field(l->v[i], 2);
		unsigned long v;
		bool used = parse_id(f, &v) && v == id;
		free(f);
		if (used)
			return true;
	}
	return false;
}

int mod_id_next(const struct mod_lines *l, const struct mod_lines *avoid,
                const struct mod_id_range *r, bool system, unsigned long *ret)
{
	if (system) {
		for (unsigned long id = r->sys_max; id >= r->sys_min && id > 0; id--)
			if (!mod_id_used(l, id) && !mod_id_used(avoid, id)) {
				*ret = id;
				return 0;
			}
		return -ENOSPC;
	}
	unsigned long high = 0;
	bool any = false;
	for (size_t i = 0; i < l->n; i++) {
		char *f = mod_field(l->v[i], 2);
		unsigned long v;
		if (parse_id(f, &v) && v >= r->min && v <= r->max && (!any || v > high))
			high = v, any = true;
		free(f);
	}
	unsigned long id = any ? high + 1 : r->min;
	if (id <= r->max && !mod_id_used(avoid, id)) {
		*ret = id;
		return 0;
	}
	for (id = r->min; id <= r->max; id++)
		if (!mod_id_used(l, id) && !mod_id_used(avoid, id)) {
			*ret = id;
			return 0;
		}
	return -ENOSPC;
}

bool mod_valid_account_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.')
			continue;
		if (c == '$' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

int mod_update_file(const struct task_ctx *ctx, struct task_result *res, const char *path,
                    const struct mod_lines *before, const struct mod_lines *after, bool secret,
                    struct mod_changes *ch)
{
	size_t la, lb;
	char *a = mod_lines_join(before, &la);
	char *b = mod_lines_join(after, &lb);
	int r = 0;
	if (la == lb && !memcmp(a, b, la))
		goto out;
	r = 1;
	if (secret)
		mod_diff(ch, "%s: changed (not shown: it holds password hashes)", path);
	else
		mod_diff_text(ch, path, a, la, b, lb);
	if (!ctx->check) {
		struct rt_error err = {0};
		if (ctx->conn->ops->write(ctx->conn, path, b, lb, &CONN_ATTRS_DEFAULT, &err) < 0)
			r = mod_fail(res, &err);
	}
out:
	free(a);
	free(b);
	return r;
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
	json_t *env = arg(ctx, "env");
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
