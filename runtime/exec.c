/*
 * exec: the executor; see exec.h. The run (its work directory, signals and
 * secrets), facts, tasks and handlers, and apply blocks on hosts; images are
 * baked by bake.c (exec_int.h is what the two share).
 */
#include "exec.h"
#include "exec_int.h"

#include "arena.h"
#include "builtins.h"
#include "cache.h"
#include "conn.h"
#include "output.h"
#include "path.h"
#include "plan_expr.h"
#include "plan_format.h"
#include "plan_view.h"
#include "secret.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

double exec_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

/* ---- the work directory ------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -rf without following symlinks or leaving the file system. */
void exec_rm_tree(const char *path)
{
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Remove the work directories of applies whose kiln is gone (killed). */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "apply-", 6))
			continue;
		char *pidfile = xasprintf("%s/%s/pid", base, e->d_name);
		FILE *f = fopen(pidfile, "r");
		long pid = 0;
		if (f) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		free(pidfile);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		char *dir = xasprintf("%s/%s", base, e->d_name);
		exec_rm_tree(dir);
		free(dir);
	}
	closedir(d);
}

static int make_work(struct executor *x, struct rt_error *err)
{
	const char *base = x->o->work_dir ? x->o->work_dir : getenv("KILN_WORK_DIR");
	if (!base || !*base)
		base = "/var/tmp/kiln";
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return rt_error_errno(err, -errno, "cannot create the work directory %s", base);
	remove_stale(base);
	x->work_base = xstrdup(base);
	x->work = xasprintf("%s/apply-XXXXXX", base);
	if (!mkdtemp(x->work))
		return rt_error_errno(err, -errno, "cannot create a directory in %s", base);
	char *pidfile = xasprintf("%s/pid", x->work);
	FILE *f = fopen(pidfile, "w");
	if (f) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	free(pidfile);
	return 0;
}

/* ---- signals -------------------------------------------------------------------- */

static void on_signal(int sig)
{
	rt_interrupted = sig; /* the command exits 128 + sig */
}

static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

/* ---- secrets -------------------------------------------------------------------- */

/* Every secret the plan names has its value in the table the caller gave (read by
   the compiler's reader); each joins the redactor. */
static int take_secrets(struct executor *x, json_t *plan)
{
	x->secrets = json_object();
	const char *name;
	json_t *p;
	int missing = 0;
	json_object_foreach (json_object_get(plan, PLAN_K_PARAMS), name, p) {
		if (!json_object_get(p, PLAN_K_SECRET))
			continue;
		json_t *v = json_object_get(x->o->secrets, name);
		if (!json_is_string(v)) {
			char *msg = xasprintf("secret param '%s' has no value; set it with -var, "
			                      "-var-file or KILN_VAR_%s",
			                      name, name);
			events_error(x->ev, "apply", msg);
			free(msg);
			missing++;
			continue;
		}
		json_object_set(x->secrets, name, v);
		events_add_secret(x->ev, json_string_value(v));
	}
	return missing ? -1 : 0;
}

/* ---- facts ------------------------------------------------------------------------- */

static char *os_release_value(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len > n && !strncmp(l, key, n) && l[n] == '=') {
			const char *v = l + n + 1;
			size_t vl = len - n - 1;
			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
				v++;
				vl -= 2;
			}
			return xstrndup(v, vl);
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The target's facts, from its /etc/os-release and the machine. */
json_t *exec_gather_facts(struct conn *c)
{
	char *text = NULL;
	size_t len = 0;
	struct rt_error err = {0};
	if (c->ops->read(c, "/etc/os-release", 64 * 1024, &text, &len, &err) < 0 &&
	    c->ops->read(c, "/usr/lib/os-release", 64 * 1024, &text, &len, &err) < 0)
		text = xstrdup("");
	char *id = os_release_value(text, "ID");
	char *like = os_release_value(text, "ID_LIKE");
	char *version = os_release_value(text, "VERSION_ID");
	char *codename = os_release_value(text, "VERSION_CODENAME");
	char *family = like ? xstrndup(like, strcspn(like, " ")) : xstrdup(id ? id : "unknown");
	struct utsname u;
	uname(&u);
	const char *arch = !strcmp(u.machine, "x86_64")    ? "amd64"
	                   : !strcmp(u.machine, "aarch64") ? "arm64"
	                                                   : u.machine;
	json_t *facts =
	    json_pack("{s:{s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:s}", "os", "family", family,
	              "distribution", id ? id : "unknown", "version", version ? version : "",
	              "codename", codename ? codename : "", "id", id ? id : "unknown", "arch", arch,
	              "hostname", "kiln-build", "kernel", u.release);
	free(id);
	free(like);
	free(version);
	free(codename);
	free(family);
	free(text);
	return facts;
}

/* ---- tasks ------------------------------------------------------------------------- */

/* A task's name for people: module plus its label or its label argument, redacted
   before it is shortened (a cut secret would not be recognised). */
static char *task_what(const struct events *ev, json_t *task, json_t *args)
{
	struct plan_task t = plan_task_view(task);
	const char *module = t.module;
	json_t *label = t.label;
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, module);
	json_t *main_arg = s && s->label ? json_object_get(args, s->label) : NULL;
	if (json_is_string(label)) {
		char *l = events_redact(ev, json_string_value(label));
		char *r = xasprintf("%s \"%s\"", module, l);
		free(l);
		return r;
	}
	if (json_is_string(main_arg)) {
		char *v = events_redact(ev, json_string_value(main_arg));
		size_t n = strcspn(v, "\n");
		char *r = xasprintf("%s %.*s%s", module, (int)(n > 70 ? 70 : n), v,
		                    n > 70 || v[n] ? "..." : "");
		free(v);
		return r;
	}
	return xstrdup(module);
}

static char *redact_for_module(const void *ev, const char *text)
{
	return events_redact(ev, text);
}

/* Run one task; false when it failed and the image must stop. */
/* Open a rootfs connection with the status thread held still (events_hold). */
int exec_open_rootfs(struct executor *x, const char *dir, struct conn **ret, struct rt_error *err)
{
	events_hold(x->ev);
	int r = conn_rootfs_open(dir, ret, err);
	events_release(x->ev);
	return r;
}

static bool run_task(struct stage_run *sr, json_t *task)
{
	struct executor *x = sr->x;
	struct expr_env env = {sr->facts, x->secrets};
	struct rt_error err = {0};
	struct task_result res = {0};
	struct task_event te = {sr->image, sr->stage, task, NULL, NULL};
	struct plan_task t = plan_task_view(task);
	/* plan sources are relative to the root: show them as the user names the files */
	const char *psrc = t.source;
	char *shown_src = psrc && strcmp(x->o->root, ".") ? path_join(x->o->root, psrc) : NULL;
	te.source = shown_src;
	double t0 = exec_now_ms();
	bool ok = true;

	json_t *args = expr_resolve(&env, t.args, &err);
	/* a value computed from a secret (upper(secret), "user:${secret}") is as
	   secret as the secret: it joins the redactor before anything is printed */
	const char *ak;
	json_t *av;
	json_object_foreach (t.args, ak, av) {
		json_t *rv = args ? json_object_get(args, ak) : NULL;
		if (json_is_string(rv) && plan_has_secret(av))
			events_add_secret(x->ev, json_string_value(rv));
	}
	char *what = task_what(x->ev, task, args ? args : t.args);
	te.what = what;
	events_task_start(x->ev, &te);
	json_t *when = t.when;
	if (!args) {
		task_failed(&res, "%s", err.msg);
	} else if (when) {
		json_t *w = expr_resolve(&env, when, &err);
		if (!w)
			task_failed(&res, "%s", err.msg);
		else if (!json_is_true(w))
			res.status = TASK_SKIPPED, res.msg = xstrdup("when is false");
		json_decref(w);
	}
	if (args && res.status == TASK_OK && !res.msg) {
		const char *module = t.module;
		const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, module);
		bool local = s && s->on_build_machine;
		/* paths computed now are held to the rules the plan's own paths passed */
		if (plan_check_resolved_args(module, t.args, args, x->climb, &err) < 0)
			task_failed(&res, "%s", err.msg);
		else if (local && !x->local && conn_local_open(x->o->root, &x->local, &err) < 0) {
			task_failed(&res, "%s", err.msg);
		} else if (!s || !s->run) {
			task_failed(&res, "module '%s' cannot run yet", module ? module : "?");
		} else {
			/* in --check a module cannot change the target, guard or no guard */
			struct conn *target = local ? x->local : sr->conn;
			struct conn *ro = x->o->check ? conn_check_open(target) : NULL;
			struct task_ctx ctx = {
			    .conn = ro ? ro : target,
			    .args = args,
			    .local_root = x->o->root,
			    .facts = sr->facts,
			    .check = x->o->check,
			    /* a diff of a file that holds a secret would show it */
			    .diff = x->o->diff && !plan_has_secret(t.args),
			    .in_image = true,
			    .redact = redact_for_module,
			    .redact_data = x->ev,
			};
			if (s->run(&ctx, &res) < 0 && res.status != TASK_FAILED)
				task_failed(&res, "kiln failed to run the module");
			conn_free(ro);
		}
	}
	json_decref(args);
	if (rt_interrupted && res.status != TASK_FAILED)
		task_failed(&res, "interrupted");

	/* what is printed passes the redactor: no secret in a message or an error */
	char *msg = events_redact(x->ev, res.msg), *tail = events_redact(x->ev, res.stderr_tail);
	char *cmd = events_redact(x->ev, res.cmd), *diff = events_redact(x->ev, res.diff);
	free(res.msg);
	free(res.stderr_tail);
	free(res.cmd);
	free(res.diff);
	res.msg = msg;
	res.stderr_tail = tail;
	res.cmd = cmd;
	res.diff = diff;
	events_task_end(x->ev, &te, &res, exec_now_ms() - t0);

	if (sr->testing && res.status == TASK_CHANGED)
		res.status = TASK_OK;
	switch (res.status) {
	case TASK_OK:
		sr->recap->ok++;
		break;
	case TASK_CHANGED:
		sr->recap->changed++;
		break;
	case TASK_SKIPPED:
		sr->recap->skipped++;
		break;
	case TASK_FAILED:
		if (conn_ssh_unreachable(sr->conn)) { /* the host went away: not a failed task */
			sr->recap->unreachable = 1;
			ok = false;
			break;
		}
		sr->recap->failed++;
		if (!t.ignore_errors)
			ok = false;
		break;
	}
	if (res.status == TASK_CHANGED) {
		size_t i;
		json_t *h;
		json_array_foreach (t.notify, i, h) {
			json_object_set_new(sr->notified, json_string_value(h), json_true());
		}
	}
	task_result_release(&res);
	free(what);
	free(shown_src);
	return ok;
}

bool exec_run_tasks(struct stage_run *sr, json_t *tasks)
{
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		if (rt_interrupted || !run_task(sr, t))
			return false;
	}
	return true;
}

/* The handlers notified in this stage, once each, in the order they are defined. */
bool exec_run_handlers(struct stage_run *sr, json_t *handlers)
{
	size_t i;
	json_t *h;
	json_array_foreach (handlers, i, h) {
		struct plan_block hv = plan_block_view(h);
		const char *name = hv.name;
		if (!json_object_get(sr->notified, name))
			continue;
		json_object_del(sr->notified, name);
		char *stage = xasprintf("handler %s", name);
		const char *saved = sr->stage;
		sr->stage = stage;
		bool ok = exec_run_tasks(sr, hv.tasks);
		sr->stage = saved;
		free(stage);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- apply blocks: hosts ------------------------------------------------------------ */

/* The hosts of a group and of its child groups, each once: name -> attributes. */
static void collect_hosts(json_t *groups, const char *group, json_t *vars, json_t *out, int depth)
{
	struct plan_group g = plan_group_view(groups, group);
	if (!g.json || depth > 32)
		return;
	json_t *merged = json_deep_copy(vars);
	json_object_update(merged, g.vars);
	const char *name;
	json_t *attrs;
	json_object_foreach (g.hosts, name, attrs) {
		if (json_object_get(out, name))
			continue;
		json_t *h = json_deep_copy(merged);
		json_object_update(h, attrs); /* a host's own attributes win over its group's */
		json_object_set_new(out, name, h);
	}
	size_t i;
	json_t *child;
	json_array_foreach (g.children, i, child) {
		collect_hosts(groups, json_string_value(child), merged, out, depth + 1);
	}
	json_decref(merged);
}

/* Configure one host: the apply block's tasks, then the handlers they notified. */
static bool apply_host(struct executor *x, json_t *ap, const char *host, json_t *attrs,
                       struct recap *recap)
{
	struct rt_error err = {0};
	const char *conn_kind = json_string_value(json_object_get(attrs, PLAN_K_CONNECTION));
	events_image(x->ev, host, conn_kind ? conn_kind : "ssh");
	bool ssh = !conn_kind || strcmp(conn_kind, "rootfs");
	char *dir = ssh ? NULL : path_from_root(x->o->root, host);
	struct stage_run sr = {.x = x, .image = host, .stage = "apply", .recap = recap};
	struct plan_apply av = plan_apply_view(ap);
	json_t *tasks = av.tasks;
	events_stage(x->ev, host, "apply", json_array_size(tasks));
	bool ok = false;
	int r;
	if (ssh) {
		struct expr_env env = {NULL, x->secrets};
		json_t *ra = expr_resolve(&env, attrs, &err);
		r = ra ? conn_ssh_open_host(host, ra, x->o->root, x->o->accept_new_host_keys,
		                            &sr.conn, &err)
		       : -EINVAL;
		json_decref(ra);
	} else {
		r = exec_open_rootfs(x, dir, &sr.conn, &err);
	}
	if (r == -EHOSTUNREACH) {
		/* Ansible's word: the host was not reached, nothing ran on it */
		char *msg = xasprintf("unreachable: %s", err.msg);
		events_error(x->ev, host, msg);
		free(msg);
		recap->unreachable = 1;
	} else if (r < 0) {
		char *msg = xasprintf("error[E5002]: %s", err.msg);
		events_error(x->ev, host, msg);
		free(msg);
	} else {
		sr.facts = exec_gather_facts(sr.conn);
		sr.notified = json_object();
		ok = exec_run_tasks(&sr, tasks) && exec_run_handlers(&sr, av.handlers);
		json_decref(sr.notified);
		json_decref(sr.facts);
		sr.conn = conn_free(sr.conn);
	}
	free(dir);
	return ok && !rt_interrupted;
}

static int apply_hosts(struct executor *x, json_t *plan, struct recap **recaps, size_t *nrecaps)
{
	int status = 0;
	size_t i;
	json_t *ap;
	json_array_foreach (plan_applies(plan), i, ap) {
		struct plan_apply av = plan_apply_view(ap);
		json_t *hosts = json_object();
		json_t *vars = json_deep_copy(av.connection);
		collect_hosts(plan_groups(plan), av.target, vars, hosts, 0);
		json_decref(vars);
		const char *name;
		json_t *attrs;
		json_object_foreach (hosts, name, attrs) {
			if (rt_interrupted)
				break;
			*recaps = xrealloc(*recaps, (*nrecaps + 1) * sizeof(**recaps));
			struct recap *r = &(*recaps)[(*nrecaps)++];
			*r = (struct recap){.name = name}; /* the recap names the host */
			double t0 = exec_now_ms();
			if (!apply_host(x, ap, name, attrs, r)) {
				r->aborted = !r->unreachable;
				status = 1;
			}
			r->seconds = (exec_now_ms() - t0) / 1000;
		}
		/* names are borrowed from hosts: keep it until the recap is printed */
		json_array_append_new(x->keep, hosts);
	}
	return status;
}

int apply_plan(json_t *plan, const struct apply_opts *o)
{
	struct executor x = {.o = o, .ev = o->events, .cache_lock = -1, .work_lock = -1};
	struct rt_error err = {0};
	/* a plan is checked whole before anything is touched: a hand-edited one
	   that escapes the root or names an unknown module does nothing */
	if (plan_validate(plan, &err) < 0) {
		char *msg = xasprintf(
		    "%s (a plan is used as kiln compile wrote it: compile it again)", err.msg);
		events_error(x.ev, "apply", msg);
		free(msg);
		return -1;
	}
	x.climb = plan_path_climb(plan);
	struct sigaction old_int, old_term;
	rt_interrupted = 0;
	catch_signals(&old_int, &old_term);

	json_t *images = plan_images(plan);
	size_t nstages = 0, ntasks = 0, i;
	json_t *img;
	json_array_foreach (images, i, img) {
		size_t j;
		json_t *s;
		json_array_foreach (plan_image_view(img).stages, j, s) {
			nstages++;
			ntasks += json_array_size(plan_block_view(s).tasks);
		}
	}
	events_plan(x.ev, json_array_size(images), nstages, ntasks);
	int status = 0;
	x.keep = json_array();
	if (take_secrets(&x, plan) < 0) {
		status = 1;
		goto out;
	}
	if (make_work(&x, &err) < 0) {
		events_error(x.ev, "apply", err.msg);
		status = -1;
		goto out;
	}
	x.cache_dir = cache_dir_default(o->cache_dir);
	/* two applies on one cache or work directory: the second waits or stops here */
	if (!o->check && (cache_lock(x.cache_dir, "cache directory", true, o->lock_timeout,
	                             &x.cache_lock, &err) < 0 ||
	                  cache_lock(x.work_base, "work directory", false, o->lock_timeout,
	                             &x.work_lock, &err) < 0)) {
		events_error(x.ev, "apply", err.msg);
		status = 1;
		goto out;
	}
	struct status_opts so = {.root = o->root,
	                         .cache_dir = x.cache_dir,
	                         .secrets = x.secrets,
	                         .create_key = !o->check,
	                         .no_cache = o->no_cache,
	                         .refresh_base = o->refresh_base};
	plan_status_compute(plan, &so, &x.status, &err);
	if (x.status.key_note)
		events_note(x.ev, "apply", "the stage cache is not used: %s", x.status.key_note);
	x.nimages = json_array_size(images);
	x.images = xcalloc(x.nimages ? x.nimages : 1, sizeof(*x.images));
	struct recap *recaps = xcalloc(x.nimages ? x.nimages : 1, sizeof(*recaps));
	json_t *artifacts = json_array();
	json_array_foreach (images, i, img) {
		struct image_state *st = &x.images[i];
		st->name = plan_image_view(img).name;
		recaps[i].name = st->name;
		double t0 = exec_now_ms();
		if (!rt_interrupted)
			st->ok = bake_image(&x, plan, img, st, &recaps[i], artifacts);
		recaps[i].seconds = (exec_now_ms() - t0) / 1000;
		recaps[i].aborted = !st->ok;
		if (!st->ok)
			status = 1;
		/* a tree is kept only while an image still to come is built from it (then it is
		   kept in the cache, or removed) */
		for (size_t d = 0; d <= i; d++) {
			struct image_state *ds = &x.images[d];
			bool needed = false;
			for (size_t k = i + 1; k < x.nimages && ds->ok; k++) {
				const char *p =
				    plan_image_view(json_array_get(images, k)).from_image;
				needed |= p && !strcmp(p, ds->name);
			}
			if (!needed && ds->rootfs) {
				struct image_status *is = plan_status_image(&x.status, ds->name);
				bake_drop_tree(&x, ds, ds->ok && !o->check && is ? is->key : NULL);
				free(ds->rootfs);
				ds->rootfs = NULL;
			}
		}
	}
	size_t nrecaps = x.nimages;
	if (!rt_interrupted && apply_hosts(&x, plan, &recaps, &nrecaps))
		status = 1;
	if (rt_interrupted) {
		events_error(x.ev, "apply", "interrupted: stopped, nothing half-written is left");
		status = 1;
	}
	events_recap(x.ev, recaps, nrecaps);
	json_decref(artifacts);
	free(recaps);
	for (size_t k = 0; k < x.nimages; k++) {
		if (x.images[k].rootfs && x.images[k].overlay) /* not left mounted */
			bake_drop_tree(&x, &x.images[k], NULL);
		free(x.images[k].rootfs);
		free(x.images[k].key);
		for (size_t l = 0; l < x.images[k].nlayers; l++)
			layer_release(&x.images[k].layers[l]);
		free(x.images[k].layers);
	}
	free(x.images);
out:
	x.local = conn_free(x.local);
	if (x.cache_lock >= 0)
		close(x.cache_lock);
	if (x.work_lock >= 0)
		close(x.work_lock);
	free(x.work_base);
	if (x.work) {
		exec_rm_tree(x.work);
		free(x.work);
	}
	json_decref(x.secrets);
	plan_status_release(&x.status);
	json_decref(x.keep);
	free(x.cache_dir);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}
