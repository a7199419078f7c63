/*
 * service: whether a service starts at boot and whether it runs now
 * (Ansible's service), through systemd or the init scripts of the target.
 *
 * In an image build nothing runs: enabled is made by hand as systemctl
 * would make it (the symlinks of the unit's [Install] WantedBy=,
 * RequiredBy= and Alias=), or with update-rc.d for an init script; a state
 * is recorded and skipped. On a live host (over SSH) both are real: through
 * systemctl when the host was booted with systemd, else through the init
 * script (/etc/init.d/NAME ACTION, or service NAME ACTION when there is no
 * such file), whose status action says whether the service runs, so a
 * second started or stopped changes nothing.
 * The label fills name unless the body sets name; then it describes the
 * task: service "ssh" { state = restarted } restarts ssh, while in
 * service "start apache" { name = "apache2" } the label is a description.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL,
     "the service, e.g. \"ssh\" or \"apache2\"; the task's label fills it"},
    {"enabled", "bool", false, NULL, "whether it starts at boot"},
    {"state", "enum(started, stopped, restarted, reloaded)", false, NULL,
     "started, stopped: its state now; restarted, reloaded: always act (as handlers do)"},
    {0},
};

static const char *const unit_dirs[] = {"/etc/systemd/system", "/lib/systemd/system",
                                        "/usr/lib/systemd/system", NULL};

/* A name without a unit suffix is a .service. */
static char *unit_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	static const char *const kinds[] = {".service", ".socket", ".timer", ".path",
	                                    ".target",  ".mount",  NULL};
	for (size_t i = 0; dot && kinds[i]; i++)
		if (!strcmp(dot, kinds[i]))
			return xstrdup(name);
	return xasprintf("%s.service", name);
}

static bool valid_service(const char *s)
{
	if (!*s || *s == '.' || *s == '-' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.@\\",
		            *s))
			return false;
	return true;
}

/* The links systemctl enable makes for a unit whose file is at path: "DIR/NAME" ... */
static int install_links(const struct task_ctx *ctx, struct task_result *res, const char *unit,
                         const char *path, struct mod_lines *links)
{
	struct mod_lines l;
	bool exists;
	struct rt_error err = {0};
	if (mod_lines_read(ctx->conn, path, &l, &exists, &err) < 0)
		return mod_fail(res, &err);
	bool install = false;
	for (size_t i = 0; i < l.n; i++) {
		char *line = l.v[i];
		line += strspn(line, " \t");
		if (line[0] == '[') {
			install = !strncmp(line, "[Install]", 9);
			continue;
		}
		if (!install)
			continue;
		const char *kind = NULL;
		size_t kl = 0;
		if (!strncmp(line, "WantedBy=", 9))
			kind = ".wants", kl = 9;
		else if (!strncmp(line, "RequiredBy=", 11))
			kind = ".requires", kl = 11;
		else if (!strncmp(line, "Alias=", 6))
			kind = "", kl = 6;
		if (!kind)
			continue;
		char *save = NULL;
		for (char *w = strtok_r(line + kl, " \t", &save); w;
		     w = strtok_r(NULL, " \t", &save)) {
			if (!valid_service(w))
				continue;
			char *link = *kind ? xasprintf("/etc/systemd/system/%s%s/%s", w, kind, unit)
			                   : xasprintf("/etc/systemd/system/%s", w);
			mod_lines_insert(links, links->n, link);
			free(link);
		}
	}
	mod_lines_release(&l);
	return 0;
}

/* Does a link target name the unit (".../UNIT")? */
static bool ends_with_unit(const char *target, const char *unit)
{
	const char *b = strrchr(target, '/');
	return !strcmp(b ? b + 1 : target, unit);
}

/* enabled, in an image: the unit's links, made or removed. */
static int systemd_enable(const struct task_ctx *ctx, struct task_result *res, const char *unit,
                          const char *path, bool enable, struct mod_changes *ch)
{
	struct mod_lines links = {0};
	struct rt_error err = {0};
	int r = install_links(ctx, res, unit, path, &links);
	if (r < 0)
		return r;
	if (!links.n && enable) {
		mod_lines_release(&links);
		return 0; /* a static unit: nothing to enable */
	}
	int noted = 0;
	for (size_t i = 0; i < links.n && r == 0; i++) {
		const char *link = links.v[i];
		struct conn_stat st;
		char *target = NULL;
		if (ctx->conn->ops->stat(ctx->conn, link, false, &st, &err) < 0) {
			r = mod_fail(res, &err);
			break;
		}
		if (st.exists && S_ISLNK(st.mode) &&
		    ctx->conn->ops->readlink(ctx->conn, link, &target, &err) < 0) {
			r = mod_fail(res, &err);
			break;
		}
		bool there = target && !strcmp(target, path);
		if (enable && !there) {
			if (!noted++)
				mod_note(ch, "enabled %s", unit);
			mod_diff(ch, "+ %s -> %s", link, path);
			if (!ctx->check) {
				char *dir = mod_dirname(link);
				if (conn_mkdir_p(ctx->conn, dir, &CONN_ATTRS_DEFAULT, &err) < 0 ||
				    ctx->conn->ops->symlink(ctx->conn, path, link, &err) < 0)
					r = mod_fail(res, &err);
				free(dir);
			}
		} else if (!enable && st.exists && S_ISLNK(st.mode) && target &&
		           (!strcmp(target, path) || ends_with_unit(target, unit))) {
			if (!noted++)
				mod_note(ch, "disabled %s", unit);
			mod_diff(ch, "- %s -> %s", link, target);
			if (!ctx->check && ctx->conn->ops->remove(ctx->conn, link, false, &err) < 0)
				r = mod_fail(res, &err);
		}
		free(target);
	}
	mod_lines_release(&links);
	return r;
}

/* enabled, with an init script: the /etc/rcN.d links that exist now, found by find. */
static int sysv_enable(const struct task_ctx *ctx, struct task_result *res, const char *name,
                       bool enable, struct mod_changes *ch)
{
	/* find, not a shell loop: check mode lets find look */
	char *pattern = xasprintf("S[0-9][0-9]%s", name);
	const char *list[] = {"find",       "/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d",
	                      "/etc/rc5.d", "-maxdepth",  "1",          "-type",
	                      "l",          "-name",      pattern,      NULL};
	struct exec_req req = {.argv = list};
	struct exec_res er = {0};
	struct rt_error e = {0};
	int rr = ctx->conn->ops->exec(ctx->conn, &req, &er, &e);
	free(pattern);
	if (rr < 0)
		return mod_fail(res, &e);
	/* a missing rcN.d makes find exit 1: what it found still counts */
	bool on = er.out && *er.out;
	mod_exec_res_free(&er);
	if (on == enable)
		return 0;
	mod_note(ch, "%s %s", enable ? "enabled" : "disabled", name);
	mod_diff(ch, "update-rc.d %s %s", name, enable ? "defaults" : "disable");
	if (ctx->check)
		return 0;
	struct conn_stat st;
	struct rt_error err = {0};
	if (ctx->conn->ops->stat(ctx->conn, "/usr/sbin/update-rc.d", true, &st, &err) < 0)
		return mod_fail(res, &err);
	if (!st.exists) {
		task_failed(res,
		            "cannot %s %s: the target has no systemd unit for it and no "
		            "update-rc.d",
		            enable ? "enable" : "disable", name);
		return -1;
	}
	const char *def[] = {"update-rc.d", name, "defaults", NULL};
	const char *en[] = {"update-rc.d", name, enable ? "enable" : "disable", NULL};
	req = (struct exec_req){.argv = def};
	if (enable && mod_exec(ctx, res, &req, "update-rc.d defaults", &er) < 0)
		return -1;
	if (enable)
		mod_exec_res_free(&er);
	req = (struct exec_req){.argv = en};
	if (mod_exec(ctx, res, &req, "update-rc.d", &er) < 0)
		return -1;
	mod_exec_res_free(&er);
	return 0;
}

/* The verb that brings a service to state, given whether it runs now (NULL: nothing to do). */
static const char *state_verb(const char *state, bool active)
{
	if (!strcmp(state, "started"))
		return active ? NULL : "start";
	if (!strcmp(state, "stopped"))
		return active ? "stop" : NULL;
	if (!strcmp(state, "restarted"))
		return "restart";
	if (!strcmp(state, "reloaded"))
		return active ? "reload" : "start";
	return NULL;
}

/* A host booted with systemd: systemctl is-enabled / is-active, then act. */
static int live_systemd(const struct task_ctx *ctx, struct task_result *res, const char *unit,
                        const char *state, json_t *enabled, struct mod_changes *ch)
{
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (enabled && json_is_boolean(enabled)) {
		bool want = json_is_true(enabled);
		const char *q[] = {"systemctl", "is-enabled", unit, NULL};
		struct exec_req req = {.argv = q};
		if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
			return mod_fail(res, &err);
		bool is = er.status == 0;
		mod_exec_res_free(&er);
		if (is != want) {
			mod_note(ch, "%s %s", want ? "enabled" : "disabled", unit);
			const char *a[] = {"systemctl", want ? "enable" : "disable", unit, NULL};
			req = (struct exec_req){.argv = a};
			if (!ctx->check) {
				if (mod_exec(ctx, res, &req, "systemctl", &er) < 0)
					return -1;
				mod_exec_res_free(&er);
			}
		}
	}
	if (!state)
		return 0;
	const char *q[] = {"systemctl", "is-active", "--quiet", unit, NULL};
	struct exec_req req = {.argv = q};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return mod_fail(res, &err);
	bool active = er.status == 0;
	mod_exec_res_free(&er);
	const char *verb = state_verb(state, active);
	if (!verb)
		return 0;
	mod_note(ch, "%s %s", verb, unit);
	if (ctx->check)
		return 0;
	const char *a[] = {"systemctl", verb, unit, NULL};
	req = (struct exec_req){.argv = a};
	if (mod_exec(ctx, res, &req, "systemctl", &er) < 0)
		return -1;
	mod_exec_res_free(&er);
	return 0;
}

/* A host without systemd: its init script, /etc/init.d/NAME ACTION when there is one, else
   service NAME ACTION. Whether it runs is the script's status action (exit 0: running, as
   the LSB says), so started and stopped change only what differs. */
static int live_sysv(const struct task_ctx *ctx, struct task_result *res, const char *name,
                     const char *state, json_t *enabled, struct mod_changes *ch)
{
	struct rt_error err = {0};
	struct exec_res er = {0};
	char *base = xstrdup(name);
	size_t bl = strlen(base);
	if (bl > 8 && !strcmp(base + bl - 8, ".service"))
		base[bl - 8] = 0;
	char *init = xasprintf("/etc/init.d/%s", base);
	struct conn_stat st;
	int r = 0;
	if (ctx->conn->ops->stat(ctx->conn, init, true, &st, &err) < 0) {
		r = mod_fail(res, &err);
		goto out;
	}
	bool script = st.exists && S_ISREG(st.mode);
	if (enabled && (r = sysv_enable(ctx, res, base, json_is_true(enabled), ch)) < 0)
		goto out;
	if (!state)
		goto out;
	const char *by_script[] = {init, "status", NULL};
	const char *by_service[] = {"service", base, "status", NULL};
	struct exec_req req = {.argv = script ? by_script : by_service, .timeout_s = 120};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0) {
		r = mod_fail(res, &err);
		goto out;
	}
	int status = er.status;
	mod_exec_res_free(&er);
	if (!script && (status == 127 || status == 126)) {
		task_failed(res,
		            "cannot manage %s: the host does not run systemd, has no %s and no "
		            "'service' command",
		            base, init);
		r = -1;
		goto out;
	}
	const char *verb = state_verb(state, status == 0);
	if (!verb)
		goto out;
	mod_note(ch, "%s %s", verb, base);
	if (ctx->check)
		goto out;
	const char *act_script[] = {init, verb, NULL};
	const char *act_service[] = {"service", base, verb, NULL};
	req = (struct exec_req){.argv = script ? act_script : act_service, .timeout_s = 600};
	char *what = xasprintf("%s %s", script ? init : "service", verb);
	r = mod_exec(ctx, res, &req, what, &er);
	free(what);
	if (r == 0)
		mod_exec_res_free(&er);
out:
	free(init);
	free(base);
	return r < 0 ? -1 : 0;
}

/* On a live host: through systemd when the host was booted with it (/run/systemd/system is
   there, as sd_booted(3) checks), else through its init scripts. */
static int live(const struct task_ctx *ctx, struct task_result *res, const char *name,
                const char *unit, const char *state, json_t *enabled, struct mod_changes *ch)
{
	struct conn_stat st;
	struct rt_error err = {0};
	if (ctx->conn->ops->stat(ctx->conn, "/run/systemd/system", false, &st, &err) < 0)
		return mod_fail(res, &err);
	if (st.exists && S_ISDIR(st.mode))
		return live_systemd(ctx, res, unit, state, enabled, ch);
	/* not booted with systemd: its init script; with none, systemctl when the unit is
	   there (it says why it cannot), else service NAME */
	size_t nl = strlen(name);
	int bl = nl > 8 && !strcmp(name + nl - 8, ".service") ? (int)nl - 8 : (int)nl;
	char *init = xasprintf("/etc/init.d/%.*s", bl, name);
	int r = ctx->conn->ops->stat(ctx->conn, init, true, &st, &err);
	free(init);
	if (r < 0)
		return mod_fail(res, &err);
	for (size_t i = 0; !st.exists && unit_dirs[i]; i++) {
		char *p = xasprintf("%s/%s", unit_dirs[i], unit);
		struct conn_stat us;
		r = ctx->conn->ops->stat(ctx->conn, p, false, &us, &err);
		free(p);
		if (r < 0)
			return mod_fail(res, &err);
		if (us.exists)
			return live_systemd(ctx, res, unit, state, enabled, ch);
	}
	return live_sysv(ctx, res, name, state, enabled, ch);
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *name = task_arg_str(ctx, "name", "");
	const char *state = task_arg_str(ctx, "state", NULL);
	json_t *enabled = json_object_get(ctx->args, "enabled");
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct rt_error err = {0};
	char *unit = NULL, *path = NULL;
	int r = 0;

	if (!valid_service(name))
		return task_failed(res, "invalid service name '%s'", name);
	if (enabled && !json_is_boolean(enabled))
		enabled = NULL;
	if (!enabled && !state)
		return task_failed(res, "service needs enabled or state");
	unit = unit_name(name);
	if (!ctx->in_image) {
		if (live(ctx, res, name, unit, state, enabled, &ch) == 0)
			mod_finish(ctx, res, &ch, "the service is as asked");
		goto out;
	}
	if (enabled) {
		bool want = json_is_true(enabled);
		for (size_t i = 0; unit_dirs[i] && !path; i++) {
			char *p = xasprintf("%s/%s", unit_dirs[i], unit);
			struct conn_stat st;
			if (ctx->conn->ops->stat(ctx->conn, p, false, &st, &err) < 0) {
				free(p);
				mod_fail(res, &err);
				goto out;
			}
			/* a unit in /etc that is a link (an alias, or masked) is not its file */
			if (st.exists && !S_ISLNK(st.mode))
				path = p;
			else
				free(p);
		}
		if (strchr(unit, '@') && path) {
			task_failed(res, "%s is a template unit: name an instance", unit);
			goto out;
		}
		if (path) {
			r = systemd_enable(ctx, res, unit, path, want, &ch);
		} else {
			char *init = xasprintf("/etc/init.d/%s", name);
			struct conn_stat st;
			r = ctx->conn->ops->stat(ctx->conn, init, true, &st, &err);
			free(init);
			if (r < 0) {
				mod_fail(res, &err);
				goto out;
			}
			if (!st.exists) {
				if (want) {
					task_failed(
					    res,
					    "no systemd unit %s and no /etc/init.d/%s on the "
					    "target",
					    unit, name);
					goto out;
				}
			} else {
				r = sysv_enable(ctx, res, name, want, &ch);
			}
		}
		if (r < 0)
			goto out;
	}
	if (state && !ch.n && !enabled) {
		task_result_release(res);
		res->status = TASK_SKIPPED;
		res->msg = xasprintf("not %s: image build", state);
		goto out;
	}
	mod_finish(ctx, res, &ch,
	           state ? "enabled as asked; not started: image build" : "enabled as asked");
	if (state && res->status == TASK_CHANGED) {
		char *m = xasprintf("%s; not %s: image build", res->msg, state);
		free(res->msg);
		res->msg = m;
	}
out:
	mod_changes_release(&ch);
	free(unit);
	free(path);
	return 0;
}

const struct kiln_schema mod_service_schema = {
    .kind = SCHEMA_MODULE,
    .name = "service",
    .doc = "enable, disable, start, stop, restart or reload a service",
    .label = "name",
    .args = args,
    .example = "service \"ssh\" { state = restarted }; service \"apache at boot\" { name = "
               "\"apache2\", enabled = true }",
    .run = run,
    .writes = "-",
};
