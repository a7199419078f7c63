/*
 * group: a group on the target, present or absent (Ansible's group). The
 * label fills name unless the body sets name; then it describes the task:
 * group "wheel" {} is the group wheel, while in group "add the admins"
 * { name = "wheel" } the label is a description.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "the group's name; the task's label fills it"},
    {"gid", "int", false, NULL, "the group id; default: the next free one"},
    {"system", "bool", false, "false", "a system group (gid below GID_MIN)"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the group exists"},
    {0},
};

/* Is id the gid of a line of l other than name's? Returns that line's index or -1. */
static long gid_owner(const struct mod_lines *l, unsigned long id, const char *name)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu", id);
	for (size_t i = 0; i < l->n; i++) {
		char *n = mod_field(l->v[i], 0), *g = mod_field(l->v[i], 2);
		bool hit = !strcmp(g, buf) && strcmp(n, name);
		free(n);
		free(g);
		if (hit)
			return (long)i;
	}
	return -1;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *name = task_arg_str(ctx, "name", "");
	bool present = strcmp(task_arg_str(ctx, "state", "present"), "absent") != 0;
	long long want_gid = task_arg_int(ctx, "gid", -1);
	struct mod_lines grp = {0}, gsh = {0}, grp0 = {0}, gsh0 = {0}, pw = {0};
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct rt_error err = {0};
	bool have_grp, have_gsh, have_pw;

	if (!mod_valid_account_name(name))
		return task_failed(res, "invalid group name '%s'", name);
	if (want_gid != -1 && (want_gid < 0 || want_gid >= 4294967295LL))
		return task_failed(res, "invalid gid %lld", want_gid);
	if (mod_lines_read(ctx->conn, "/etc/group", &grp, &have_grp, &err) < 0 ||
	    mod_lines_read(ctx->conn, "/etc/group", &grp0, &have_grp, &err) < 0 ||
	    mod_lines_read(ctx->conn, "/etc/gshadow", &gsh, &have_gsh, &err) < 0 ||
	    mod_lines_read(ctx->conn, "/etc/gshadow", &gsh0, &have_gsh, &err) < 0) {
		mod_fail(res, &err);
		goto out;
	}
	if (!have_grp) {
		task_failed(res, "the target has no /etc/group");
		goto out;
	}
	long gi = mod_entry_find(&grp, name);
	long si = mod_entry_find(&gsh, name);
	if (present) {
		if (want_gid >= 0) {
			long o = gid_owner(&grp, (unsigned long)want_gid, name);
			if (o >= 0) {
				char *on = mod_field(grp.v[o], 0);
				task_failed(res, "gid %lld is the group %s's", want_gid, on);
				free(on);
				goto out;
			}
		}
		if (gi < 0) {
			unsigned long gid = (unsigned long)want_gid;
			if (want_gid < 0) {
				struct mod_id_range r;
				mod_id_range(ctx->conn, true, &r);
				if (mod_id_next(&grp, NULL, &r, task_arg_bool(ctx, "system", false),
				                &gid) < 0) {
					task_failed(res, "no free gid left for group %s", name);
					goto out;
				}
			}
			char *line = xasprintf("%s:x:%lu:", name, gid);
			mod_lines_insert(&grp, grp.n, line);
			free(line);
			if (have_gsh && si < 0) {
				line = xasprintf("%s:!::", name);
				mod_lines_insert(&gsh, gsh.n, line);
				free(line);
			}
			mod_note(&ch, "created group %s (gid %lu)", name, gid);
		} else if (want_gid >= 0) {
			char *old = mod_field(grp.v[gi], 2);
			char buf[32];
			snprintf(buf, sizeof(buf), "%lld", want_gid);
			if (strcmp(old, buf)) {
				char *line = mod_field_set(grp.v[gi], 2, buf);
				mod_lines_set(&grp, (size_t)gi, line);
				free(line);
				mod_note(&ch, "gid of %s %s -> %s", name, old, buf);
			}
			free(old);
		}
	} else if (gi >= 0) {
		/* as groupdel: never the primary group of a user */
		char *gid = mod_field(grp.v[gi], 2);
		if (mod_lines_read(ctx->conn, "/etc/passwd", &pw, &have_pw, &err) < 0) {
			free(gid);
			mod_fail(res, &err);
			goto out;
		}
		for (size_t i = 0; i < pw.n; i++) {
			char *g = mod_field(pw.v[i], 3);
			bool prim = !strcmp(g, gid);
			free(g);
			if (prim) {
				char *u = mod_field(pw.v[i], 0);
				task_failed(
				    res,
				    "cannot remove group %s: it is the primary group of user %s",
				    name, u);
				free(u);
				free(gid);
				goto out;
			}
		}
		free(gid);
		mod_lines_remove(&grp, (size_t)gi);
		if (si >= 0)
			mod_lines_remove(&gsh, (size_t)si);
		mod_note(&ch, "removed group %s", name);
	}
	if (ch.n) {
		if (mod_update_file(ctx, res, "/etc/group", &grp0, &grp, false, &ch) < 0)
			goto out;
		if (have_gsh &&
		    mod_update_file(ctx, res, "/etc/gshadow", &gsh0, &gsh, true, &ch) < 0)
			goto out;
	}
	mod_finish(ctx, res, &ch, present ? "the group exists as asked" : "no such group");
out:
	mod_changes_release(&ch);
	mod_lines_release(&grp);
	mod_lines_release(&gsh);
	mod_lines_release(&grp0);
	mod_lines_release(&gsh0);
	mod_lines_release(&pw);
	return 0;
}

const struct kiln_schema mod_group_schema = {
    .kind = SCHEMA_MODULE,
    .name = "group",
    .doc = "create, change or remove a group",
    .label = "name",
    .args = args,
    .example = "group \"wheel\" { system = true }",
    .run = run,
    .writes = "-",
};
