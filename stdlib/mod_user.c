/*
 * user: a user account on the target, present or absent (Ansible's user).
 * The label fills name unless the body sets name; then it describes the
 * task: user "deploy" { shell = "/bin/bash" } is the account deploy, while
 * in user "add the deploy user" { name = "deploy" } the label is a
 * description.
 */
#include "entries.h"
#include "modlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "the user's login name; the task's label fills it"},
    {"uid", "int", false, NULL, "the user id; default: the next free one"},
    {"group", "string", false, NULL, "the primary group; default: as useradd decides"},
    {"groups", "list<string>", false, NULL,
     "supplementary groups: exactly these, or also these with append = true"},
    {"append", "bool", false, "false", "add the user to groups, leaving its other groups alone"},
    {"comment", "string", false, NULL, "the GECOS field, e.g. the full name"},
    {"shell", "string", false, NULL, "the login shell, e.g. \"/bin/bash\""},
    {"home", "string", false, NULL, "the home directory; default: /home/NAME"},
    {"create_home", "bool", false, "true", "create the home directory when it does not exist"},
    {"system", "bool", false, "false", "a system account (uid below UID_MIN, no aging)"},
    {"password", "secret", false, NULL,
     "the password as a crypt(3) hash, as in /etc/shadow (mkpasswd -m yescrypt)"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the account exists"},
    {0},
};

/* The account files, as read (…0) and as they will be. */
struct db {
	struct mod_lines pw, sh, gr, gs;
	struct mod_lines pw0, sh0, gr0, gs0;
	bool have_sh, have_gs;
};

static void db_release(struct db *db)
{
	struct mod_lines *all[] = {&db->pw,  &db->sh,  &db->gr,  &db->gs,
	                           &db->pw0, &db->sh0, &db->gr0, &db->gs0};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		mod_lines_release(all[i]);
}

static int read_pair(struct conn *c, const char *path, struct mod_lines *l, struct mod_lines *l0,
                     bool *exists, struct rt_error *err)
{
	int r = mod_lines_read(c, path, l, exists, err);
	if (r >= 0)
		r = mod_lines_read(c, path, l0, exists, err);
	return r;
}

/*
 * The shadow file's last-change field: days since 1970 of SOURCE_DATE_EPOCH when set;
 * else, in an image, empty (password aging off: the build's date would make two builds
 * of one image differ, and 0 would force a password change); else today.
 */
static void last_change(const struct task_ctx *ctx, char *buf, size_t cap)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	long long t = sde && *sde ? strtoll(sde, NULL, 10) : (long long)time(NULL);
	if (!(sde && *sde) && ctx->in_image)
		buf[0] = '\0';
	else
		snprintf(buf, cap, "%lld", t / 86400);
}

/* A field value that cannot break the file's format. */
static bool valid_field(const char *s)
{
	return !strpbrk(s, ":\n\r");
}

/* The line index of the group named by name or gid digits, or -1. */
static long find_group(const struct mod_lines *gr, const char *g)
{
	long i = mod_entry_find(gr, g);
	if (i >= 0 || !*g || strspn(g, "0123456789") != strlen(g))
		return i;
	for (size_t k = 0; k < gr->n; k++) {
		char *f = mod_field(gr->v[k], 2);
		bool hit = !strcmp(f, g);
		free(f);
		if (hit)
			return (long)k;
	}
	return -1;
}

/* The default login shell: SHELL= of /etc/default/useradd, else /bin/sh. */
static char *default_shell(struct conn *c)
{
	struct mod_lines l;
	bool exists;
	struct rt_error err;
	char *sh = NULL;
	if (mod_lines_read(c, "/etc/default/useradd", &l, &exists, &err) == 0) {
		for (size_t i = 0; i < l.n && !sh; i++)
			if (!strncmp(l.v[i], "SHELL=", 6) && l.v[i][6] == '/' &&
			    valid_field(l.v[i]))
				sh = xstrdup(l.v[i] + 6);
		mod_lines_release(&l);
	}
	return sh ? sh : xstrdup("/bin/sh");
}

static void set_field(struct mod_lines *l, long i, int f, const char *v)
{
	char *line = mod_field_set(l->v[i], f, v);
	mod_lines_set(l, (size_t)i, line);
	free(line);
}

/* Make name a member of the group at line i of l (and gs), or not. */
static bool set_member(struct mod_lines *l, long i, const char *name, bool member)
{
	char *m = mod_field(l->v[i], 3);
	bool has = mod_member_has(m, name);
	if (has != member) {
		char *n = member ? mod_member_add(m, name) : mod_member_remove(m, name);
		set_field(l, i, 3, n);
		free(n);
	}
	free(m);
	return has != member;
}

static int user_absent(const struct task_ctx *ctx, struct task_result *res, struct db *db,
                       const char *name, struct mod_changes *ch)
{
	long pi = mod_entry_find(&db->pw, name);
	if (pi < 0)
		return 0;
	char *gid = mod_field(db->pw.v[pi], 3);
	mod_lines_remove(&db->pw, (size_t)pi);
	long si = mod_entry_find(&db->sh, name);
	if (si >= 0)
		mod_lines_remove(&db->sh, (size_t)si);
	for (size_t i = 0; i < db->gr.n; i++)
		set_member(&db->gr, (long)i, name, false);
	for (size_t i = 0; i < db->gs.n; i++)
		set_member(&db->gs, (long)i, name, false);
	mod_note(ch, "removed user %s", name);
	/* its own group goes too, if nobody else uses it (userdel with USERGROUPS_ENAB) */
	long gi = mod_entry_find(&db->gr, name);
	if (gi >= 0) {
		char *g = mod_field(db->gr.v[gi], 2), *m = mod_field(db->gr.v[gi], 3);
		bool used = strcmp(g, gid) || *m;
		for (size_t i = 0; i < db->pw.n && !used; i++) {
			char *pg = mod_field(db->pw.v[i], 3);
			used = !strcmp(pg, g);
			free(pg);
		}
		if (!used) {
			mod_lines_remove(&db->gr, (size_t)gi);
			long gsi = mod_entry_find(&db->gs, name);
			if (gsi >= 0)
				mod_lines_remove(&db->gs, (size_t)gsi);
			mod_note(ch, "removed group %s", name);
		}
		free(g);
		free(m);
	}
	free(gid);
	(void)ctx;
	(void)res;
	return 0;
}

static int user_present(const struct task_ctx *ctx, struct task_result *res, struct db *db,
                        const char *name, struct mod_changes *ch, char **ret_home,
                        unsigned long *ret_uid, unsigned long *ret_gid)
{
	const char *comment = task_arg_str(ctx, "comment", NULL);
	const char *home = task_arg_str(ctx, "home", NULL);
	const char *shell = task_arg_str(ctx, "shell", NULL);
	const char *password = task_arg_str(ctx, "password", NULL);
	const char *group = task_arg_str(ctx, "group", NULL);
	bool system = task_arg_bool(ctx, "system", false);
	long long want_uid = task_arg_int(ctx, "uid", -1);
	json_t *groups = json_object_get(ctx->args, "groups");
	bool append = task_arg_bool(ctx, "append", false);
	char day[24];
	last_change(ctx, day, sizeof(day));

	const char *fields[] = {comment, home, shell, password, group};
	for (size_t i = 0; i < 5; i++)
		if (fields[i] && !valid_field(fields[i])) {
			task_failed(res, "a field of user %s holds ':' or a newline", name);
			return -1;
		}
	if (want_uid != -1 && (want_uid < 0 || want_uid >= 4294967295LL)) {
		task_failed(res, "invalid uid %lld", want_uid);
		return -1;
	}
	if (want_uid >= 0) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", want_uid);
		for (size_t i = 0; i < db->pw.n; i++) {
			char *n = mod_field(db->pw.v[i], 0), *u = mod_field(db->pw.v[i], 2);
			bool taken = !strcmp(u, buf) && strcmp(n, name);
			if (taken)
				task_failed(res, "uid %s is the user %s's", buf, n);
			free(n);
			free(u);
			if (taken)
				return -1;
		}
	}

	/* the primary group, when asked for */
	char *gid = NULL;
	if (group) {
		long gi = find_group(&db->gr, group);
		if (gi < 0) {
			task_failed(res, "group '%s' does not exist", group);
			return -1;
		}
		gid = mod_field(db->gr.v[gi], 2);
	}
	/* supplementary groups must exist */
	if (groups && !json_is_null(groups)) {
		size_t i;
		json_t *g;
		json_array_foreach (groups, i, g) {
			if (!json_is_string(g) || find_group(&db->gr, json_string_value(g)) < 0) {
				task_failed(res, "group '%s' does not exist",
				            json_is_string(g) ? json_string_value(g) : "?");
				free(gid);
				return -1;
			}
		}
	}

	long pi = mod_entry_find(&db->pw, name);
	if (pi < 0) {
		struct mod_id_range ur, gr;
		mod_id_range(ctx->conn, false, &ur);
		mod_id_range(ctx->conn, true, &gr);
		unsigned long uid = (unsigned long)want_uid;
		if (want_uid < 0 && mod_id_next(&db->pw, NULL, &ur, system, &uid) < 0) {
			task_failed(res, "no free uid left for user %s", name);
			free(gid);
			return -1;
		}
		if (!gid) {
			/* its own group (useradd with USERGROUPS_ENAB): gid = uid when free */
			long gi = mod_entry_find(&db->gr, name);
			if (gi >= 0) {
				gid = mod_field(db->gr.v[gi], 2);
			} else {
				unsigned long g = uid;
				if (mod_id_used(&db->gr, g) &&
				    mod_id_next(&db->gr, NULL, &gr, system, &g) < 0) {
					task_failed(res, "no free gid left for group %s", name);
					return -1;
				}
				char *line = xasprintf("%s:x:%lu:", name, g);
				mod_lines_insert(&db->gr, db->gr.n, line);
				free(line);
				if (db->have_gs && mod_entry_find(&db->gs, name) < 0) {
					line = xasprintf("%s:!::", name);
					mod_lines_insert(&db->gs, db->gs.n, line);
					free(line);
				}
				gid = xasprintf("%lu", g);
				mod_note(ch, "created group %s (gid %s)", name, gid);
			}
		}
		char *dhome = home ? xstrdup(home) : xasprintf("/home/%s", name);
		char *dshell = shell ? xstrdup(shell) : default_shell(ctx->conn);
		char *line = xasprintf("%s:x:%lu:%s:%s:%s:%s", name, uid, gid,
		                       comment ? comment : "", dhome, dshell);
		mod_lines_insert(&db->pw, db->pw.n, line);
		free(line);
		long si = mod_entry_find(&db->sh, name);
		if (si >= 0)
			mod_lines_remove(&db->sh, (size_t)si);
		if (system)
			line = xasprintf("%s:%s:%s::::::", name, password ? password : "!", day);
		else
			line = xasprintf("%s:%s:%s:0:99999:7:::", name, password ? password : "!",
			                 day);
		mod_lines_insert(&db->sh, db->sh.n, line);
		free(line);
		mod_note(ch, "created user %s (uid %lu)", name, uid);
		free(dshell);
		*ret_home = dhome;
		*ret_uid = uid;
		*ret_gid = strtoul(gid, NULL, 10);
	} else {
		struct {
			int field;
			const char *want;
			const char *what;
		} f[] = {{2, NULL, "uid"},
		         {3, gid, "group"},
		         {4, comment, "comment"},
		         {5, home, "home"},
		         {6, shell, "shell"}};
		char ubuf[32];
		if (want_uid >= 0) {
			snprintf(ubuf, sizeof(ubuf), "%lld", want_uid);
			f[0].want = ubuf;
		}
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			if (!f[i].want)
				continue;
			char *old = mod_field(db->pw.v[pi], f[i].field);
			if (strcmp(old, f[i].want)) {
				set_field(&db->pw, pi, f[i].field, f[i].want);
				mod_note(ch, "%s of %s", f[i].what, name);
			}
			free(old);
		}
		if (password) {
			long si = mod_entry_find(&db->sh, name);
			if (si < 0) {
				char *line =
				    xasprintf("%s:%s:%s:0:99999:7:::", name, password, day);
				mod_lines_insert(&db->sh, db->sh.n, line);
				free(line);
				mod_note(ch, "password of %s", name);
			} else {
				char *old = mod_field(db->sh.v[si], 1);
				if (strcmp(old, password)) {
					set_field(&db->sh, si, 1, password);
					set_field(&db->sh, si, 2, day);
					mod_note(ch, "password of %s", name);
				}
				free(old);
			}
		}
		char *u = mod_field(db->pw.v[pi], 2), *g = mod_field(db->pw.v[pi], 3);
		*ret_home = mod_field(db->pw.v[pi], 5);
		*ret_uid = strtoul(u, NULL, 10);
		*ret_gid = strtoul(g, NULL, 10);
		free(u);
		free(g);
	}
	free(gid);

	if (groups && !json_is_null(groups)) {
		bool changed = false;
		for (size_t i = 0; i < db->gr.n; i++) {
			char *gname = mod_field(db->gr.v[i], 0);
			bool want = false;
			size_t k;
			json_t *g;
			json_array_foreach (groups, k, g) {
				if (find_group(&db->gr, json_string_value(g)) == (long)i)
					want = true;
			}
			if (want || !append) {
				changed |= set_member(&db->gr, (long)i, name, want);
				long si = mod_entry_find(&db->gs, gname);
				if (si >= 0)
					set_member(&db->gs, si, name, want);
			}
			free(gname);
		}
		if (changed)
			mod_note(ch, "groups of %s", name);
	}
	return 0;
}

/* create_home: the home directory, owned by the user, 0755; its parents root's. */
static int make_home(const struct task_ctx *ctx, struct task_result *res, const char *home,
                     unsigned long uid, unsigned long gid, struct mod_changes *ch)
{
	struct conn_stat st;
	struct rt_error err = {0};
	if (home[0] != '/')
		return 0;
	if (ctx->conn->ops->stat(ctx->conn, home, true, &st, &err) < 0)
		return mod_fail(res, &err);
	if (st.exists)
		return 0;
	mod_note(ch, "created home %s", home);
	mod_diff(ch, "+ directory %s", home);
	if (ctx->check)
		return 0;
	char *parent = mod_dirname(home);
	struct conn_attrs a = {0755, (uid_t)uid, (gid_t)gid};
	int r = conn_mkdir_p(ctx->conn, parent, &CONN_ATTRS_DEFAULT, &err);
	if (r >= 0)
		r = ctx->conn->ops->mkdir(ctx->conn, home, &a, &err);
	free(parent);
	return r < 0 ? mod_fail(res, &err) : 0;
}

/* Write the files that changed: groups first, so a new user's group exists before it. */
static int write_db(const struct task_ctx *ctx, struct task_result *res, struct db *db,
                    struct mod_changes *ch)
{
	if (mod_update_file(ctx, res, "/etc/group", &db->gr0, &db->gr, false, ch) < 0)
		return -1;
	if (db->have_gs &&
	    mod_update_file(ctx, res, "/etc/gshadow", &db->gs0, &db->gs, true, ch) < 0)
		return -1;
	if (mod_update_file(ctx, res, "/etc/passwd", &db->pw0, &db->pw, false, ch) < 0)
		return -1;
	size_t l0, l1;
	char *a = mod_lines_join(&db->sh0, &l0), *b = mod_lines_join(&db->sh, &l1);
	bool same = l0 == l1 && !memcmp(a, b, l0);
	free(a);
	free(b);
	if (same)
		return 0;
	if (!db->have_sh) {
		/* a target without /etc/shadow gets one, readable by root only */
		mod_diff(ch, "+ file /etc/shadow");
		if (ctx->check)
			return 0;
		struct rt_error err = {0};
		size_t len;
		char *text = mod_lines_join(&db->sh, &len);
		struct conn_attrs at = {0600, 0, 0};
		int r = ctx->conn->ops->write(ctx->conn, "/etc/shadow", text, len, &at, &err);
		free(text);
		return r < 0 ? mod_fail(res, &err) : 0;
	}
	return mod_update_file(ctx, res, "/etc/shadow", &db->sh0, &db->sh, true, ch) < 0 ? -1 : 0;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *name = task_arg_str(ctx, "name", "");
	bool present = strcmp(task_arg_str(ctx, "state", "present"), "absent") != 0;
	struct db db = {0};
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct rt_error err = {0};
	bool have_pw, have_gr;
	char *home = NULL;

	if (!mod_valid_account_name(name))
		return task_failed(res, "invalid user name '%s'", name);
	if (read_pair(ctx->conn, "/etc/passwd", &db.pw, &db.pw0, &have_pw, &err) < 0 ||
	    read_pair(ctx->conn, "/etc/shadow", &db.sh, &db.sh0, &db.have_sh, &err) < 0 ||
	    read_pair(ctx->conn, "/etc/group", &db.gr, &db.gr0, &have_gr, &err) < 0 ||
	    read_pair(ctx->conn, "/etc/gshadow", &db.gs, &db.gs0, &db.have_gs, &err) < 0) {
		mod_fail(res, &err);
		goto out;
	}
	if (!have_pw || !have_gr) {
		task_failed(res, "the target has no /etc/passwd or /etc/group");
		goto out;
	}
	unsigned long uid = 0, gid = 0;
	if (present) {
		if (user_present(ctx, res, &db, name, &ch, &home, &uid, &gid) < 0)
			goto out;
	} else if (user_absent(ctx, res, &db, name, &ch) < 0) {
		goto out;
	}
	if (ch.n && write_db(ctx, res, &db, &ch) < 0)
		goto out;
	if (present && task_arg_bool(ctx, "create_home", true) &&
	    make_home(ctx, res, home, uid, gid, &ch) < 0)
		goto out;
	mod_finish(ctx, res, &ch, present ? "the user exists as asked" : "no such user");
out:
	free(home);
	mod_changes_release(&ch);
	db_release(&db);
	return 0;
}

const struct kiln_schema mod_user_schema = {
    .kind = SCHEMA_MODULE,
    .name = "user",
    .doc = "create, change or remove a user account",
    .label = "name",
    .args = args,
    .example = "user \"deploy\" { groups = [\"sudo\"], shell = \"/bin/bash\" }",
    .run = run,
    .writes = "-",
};
