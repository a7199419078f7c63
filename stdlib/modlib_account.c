/*
 * modlib_account: the target's users and groups: ids by name (target_uid,
 * target_gid of stdlib/module.h) and the account files (/etc/passwd,
 * /etc/shadow, /etc/group, /etc/gshadow) read and written as lines by the
 * user and group modules (modlib.h).
 */
#include "modlib.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
