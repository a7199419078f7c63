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
#include "cache_remote.h"
#include "conn.h"
#include "host_pattern.h"
#include "output.h"
#include "path.h"
#include "plan_expr.h"
#include "plan_format.h"
#include "plan_view.h"
#include "secret.h"
#include "strbuf.h"
#include "workdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
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

static int make_work(struct executor *x, struct rt_error *err)
{
	const char *base = x->o->work_dir ? x->o->work_dir : getenv("KILN_WORK_DIR");
	if (!base || !*base)
		base = "/var/tmp/kiln";
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return rt_error_errno(err, -errno, "cannot create the work directory %s", base);
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

/* What facts are made of: os-release's text, and the machine's names. */
struct fact_src {
	char *os_release;
	char *hostname;
	char *machine;
	char *kernel;
};

/* The line at *p (up to a newline) as a new string; *p moves past it. */
static char *take_line(const char **p)
{
	size_t n = strcspn(*p, "\n");
	char *ret = xstrndup(*p, n);
	*p += n + ((*p)[n] == '\n');
	return ret;
}

/* A host over SSH: everything in one command, so one round trip. It prints os-release, a
   marker line, then uname's node name, machine and kernel release, one per line. */
static int remote_fact_src(struct conn *c, struct fact_src *f)
{
	static const char marker[] = "\n@kiln-facts@\n";
	const char *argv[] = {"/bin/sh", "-c",
	                      "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release "
	                      "2>/dev/null; printf '\\n@kiln-facts@\\n'; uname -n; uname -m; "
	                      "uname -r",
	                      NULL};
	struct exec_req req = {.argv = argv, .timeout_s = 60};
	struct exec_res res = {0};
	struct rt_error err = {0};
	if (c->ops->exec(c, &req, &res, &err) < 0)
		return -1;
	const char *m = res.status == 0 && res.out ? strstr(res.out, marker) : NULL;
	if (!m) {
		exec_res_release(&res);
		return -1;
	}
	f->os_release = xstrndup(res.out, (size_t)(m - res.out));
	const char *p = m + strlen(marker);
	f->hostname = take_line(&p);
	f->machine = take_line(&p);
	f->kernel = take_line(&p);
	exec_res_release(&res);
	return 0;
}

/* A root filesystem (or the build machine): os-release read from the target, the machine
   is this one. */
static void local_fact_src(struct conn *c, struct fact_src *f)
{
	size_t len = 0;
	struct rt_error err = {0};
	if (c->ops->read(c, "/etc/os-release", 64 * 1024, &f->os_release, &len, &err) < 0 &&
	    c->ops->read(c, "/usr/lib/os-release", 64 * 1024, &f->os_release, &len, &err) < 0)
		f->os_release = NULL;
	struct utsname u;
	uname(&u);
	f->hostname = xstrdup("kiln-build");
	f->machine = xstrdup(u.machine);
	f->kernel = xstrdup(u.release);
}

bool exec_uses_facts(json_t *v)
{
	size_t i;
	const char *k;
	json_t *e;
	if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			if (exec_uses_facts(e))
				return true;
		}
	} else if (json_is_object(v)) {
		json_object_foreach (v, k, e) {
			if (!strcmp(k, PLAN_E_FACT) || exec_uses_facts(e))
				return true;
		}
	}
	return false;
}

/* The target's facts: its os-release, architecture, host name and kernel. Over SSH they
   come from one command on the host; in a root filesystem os-release is read from the
   tree and the rest is the build machine's. */
json_t *exec_gather_facts(struct conn *c)
{
	struct fact_src f = {0};
	if (strcmp(c->ops->name, "ssh") || remote_fact_src(c, &f) < 0)
		local_fact_src(c, &f);
	const char *text = f.os_release ? f.os_release : "";
	char *id = os_release_value(text, "ID");
	char *like = os_release_value(text, "ID_LIKE");
	char *version = os_release_value(text, "VERSION_ID");
	char *codename = os_release_value(text, "VERSION_CODENAME");
	char *family = like ? xstrndup(like, strcspn(like, " ")) : xstrdup(id ? id : "unknown");
	const char *arch = !strcmp(f.machine, "x86_64")    ? "amd64"
	                   : !strcmp(f.machine, "aarch64") ? "arm64"
	                                                   : f.machine;
	json_t *facts =
	    json_pack("{s:{s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:s}", "os", "family", family,
	              "distribution", id ? id : "unknown", "version", version ? version : "",
	              "codename", codename ? codename : "", "id", id ? id : "unknown", "arch", arch,
	              "hostname", f.hostname, "kernel", f.kernel);
	free(id);
	free(like);
	free(version);
	free(codename);
	free(family);
	free(f.os_release);
	free(f.hostname);
	free(f.machine);
	free(f.kernel);
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

/* -v: a command's output, passed on line by line as it arrives. */
struct live_output {
	struct events *ev;
	const struct task_event *te;
	struct strbuf part[2]; /* stdout's and stderr's line so far */
};

static void live_line(struct live_output *lo, int i)
{
	events_output(lo->ev, lo->te, i + 1, lo->part[i].buf ? lo->part[i].buf : "");
	sb_reset(&lo->part[i]);
}

static void live_add(void *data, int stream, const char *p, size_t n)
{
	struct live_output *lo = data;
	int i = stream == 2;
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		sb_add(&lo->part[i], p, k);
		/* a line without an end is shown in pieces of 64 KiB */
		if (nl || lo->part[i].len >= 65536)
			live_line(lo, i);
		k += nl != NULL;
		p += k;
		n -= k;
	}
}

static void live_end(struct live_output *lo)
{
	for (int i = 0; i < 2; i++) {
		if (lo->part[i].len)
			live_line(lo, i);
		sb_release(&lo->part[i]);
	}
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

/*
 * Does the task's ignore_errors let its failure pass? A deferred value (computed from
 * facts) is computed now, with the task's facts, as `when` is; one that cannot be computed
 * lets nothing pass, and says why after the failure's message.
 */
static bool failure_ignored(const struct expr_env *env, json_t *task, struct task_result *res)
{
	json_t *ie = json_object_get(task, PLAN_K_IGNORE_ERRORS);
	if (!json_is_object(ie))
		return json_is_true(ie);
	struct rt_error err = {0};
	json_t *v = expr_resolve(env, ie, &err);
	bool ignored = json_is_true(v);
	if (!v) {
		char *msg =
		    xasprintf("%s (ignore_errors: %s)", res->msg ? res->msg : "failed", err.msg);
		free(res->msg);
		res->msg = msg;
	}
	json_decref(v);
	return ignored;
}

static bool run_task(struct stage_run *sr, json_t *task)
{
	struct executor *x = sr->x;
	/* a host's facts are gathered when a task first needs them */
	if (!sr->facts && sr->conn && exec_uses_facts(task))
		sr->facts = exec_gather_facts(sr->conn);
	struct expr_env env = {sr->facts, x->secrets};
	struct rt_error err = {0};
	struct task_result res = {0};
	struct task_event te = {sr->image, sr->stage, task, NULL, NULL, false};
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
			/* -v: what commands print is shown as it comes */
			struct live_output lo = {.ev = x->ev, .te = &te};
			struct conn *live = events_verbose(x->ev)
			                        ? conn_stream_open(ro ? ro : target, live_add, &lo)
			                        : NULL;
			struct task_ctx ctx = {
			    .conn = live ? live
			            : ro ? ro
			                 : target,
			    .args = args,
			    .local_root = x->o->root,
			    .facts = sr->facts,
			    .check = x->o->check,
			    /* a diff of a file that holds a secret would show it */
			    .diff = x->o->diff && !plan_has_secret(t.args),
			    /* services run only on a live host (over SSH); an image or a
			       root filesystem host runs none */
			    .in_image = strcmp(sr->conn->ops->name, "ssh") != 0,
			    .work_dir = x->work,
			    .redact = redact_for_module,
			    .redact_data = x->ev,
			};
			if (s->run(&ctx, &res) < 0 && res.status != TASK_FAILED)
				task_failed(&res, "kiln failed to run the module");
			live_end(&lo);
			conn_free(live);
			conn_free(ro);
		}
	}
	json_decref(args);
	if (rt_interrupted && res.status != TASK_FAILED)
		task_failed(&res, "interrupted");
	if (res.status == TASK_FAILED)
		te.ignored = failure_ignored(&env, task, &res);

	/* what is printed passes the redactor: no secret in a message or an error */
	char *msg = events_redact(x->ev, res.msg), *tail = events_redact(x->ev, res.stderr_tail);
	char *cmd = events_redact(x->ev, res.cmd), *diff = events_redact(x->ev, res.diff);
	char *out_tail = events_redact(x->ev, res.stdout_tail);
	char *out = events_redact(x->ev, res.stdout_full),
	     *errs = events_redact(x->ev, res.stderr_full);
	free(res.msg);
	free(res.stderr_tail);
	free(res.cmd);
	free(res.diff);
	free(res.stdout_tail);
	free(res.stdout_full);
	free(res.stderr_full);
	res.msg = msg;
	res.stderr_tail = tail;
	res.cmd = cmd;
	res.diff = diff;
	res.stdout_tail = out_tail;
	res.stdout_full = out;
	res.stderr_full = errs;
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
		/* Ansible's recap: a failure that ignore_errors lets pass is "ignored" */
		if (te.ignored) {
			sr->recap->ignored++;
			break;
		}
		sr->recap->failed++;
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
		recap
		    ->failed++; /* it answered and refused (a host key, a login): not unreachable */
	} else {
		/* facts: when a task first reads one (run_task), as Ansible's gather_facts */
		sr.notified = json_object();
		ok = exec_run_tasks(&sr, tasks) && exec_run_handlers(&sr, av.handlers);
		json_decref(sr.notified);
		json_decref(sr.facts);
		sr.conn = conn_free(sr.conn);
	}
	free(dir);
	return ok && !rt_interrupted;
}

/*
 * Hosts run in parallel, at most --forks at once, each in a forked worker
 * process rather than a thread:
 *   - a rootfs host's connection clones kiln raw (namespaces); in a process
 *     with other busy threads the clone could inherit a lock one of them held
 *     (malloc's, stdio's), and deadlock;
 *   - libssh and OpenSSL keep per-process state; a worker owns its one session
 *     outright and nothing is shared between hosts;
 *   - a worker learns secrets computed from its host's values and redacts with
 *     them before any byte leaves it; the parent only relays whole records
 *     (events_relay_*), so lines of different hosts never mix and nothing is
 *     printed unredacted;
 *   - a host whose worker crashes or hangs costs that host only.
 * A worker sends its recap as its last record and exits; the parent reads the
 * workers' pipes with poll, and on SIGINT/SIGTERM passes SIGTERM on.
 */
enum { REC_RESULT = 'R' };

struct worker {
	pid_t pid;
	int fd;
	struct events_relay *relay;
	size_t recap; /* index in *recaps */
	double t0;
};

static void worker_main(struct executor *x, json_t *ap, const char *host, json_t *attrs, int fd)
{
	events_relay_to(x->ev, fd, host);
	struct recap r = {.name = host};
	bool ok = apply_host(x, ap, host, attrs, &r);
	json_t *res =
	    json_pack("{s:b,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "ok", ok, "ok_tasks", r.ok, "changed",
	              r.changed, "failed", r.failed, "skipped", r.skipped, "unreachable",
	              r.unreachable, "rescued", r.rescued, "ignored", r.ignored);
	char *s = json_dumps(res, JSON_COMPACT);
	events_relay_send(x->ev, REC_RESULT, s);
	free(s);
	json_decref(res);
	x->local = conn_free(x->local);
	_exit(ok ? 0 : 1);
}

static int start_worker(struct executor *x, json_t *ap, const char *host, json_t *attrs,
                        struct worker *w, struct rt_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return rt_error_errno(err, -errno, "cannot make a pipe for host %s", host);
	events_flush(x->ev);
	fflush(stdout);
	fflush(stderr);
	events_hold(x->ev); /* the status thread holds no lock the worker would inherit */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* a worker dies with kiln, however kiln dies (and its rootfs holder, its
		   commands with it): none works on, unseen, for a kiln that is gone */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		close(p[0]);
		worker_main(x, ap, host, attrs, p[1]);
	}
	int e = errno;
	events_release(x->ev);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return rt_error_errno(err, -e, "cannot start a worker for host %s", host);
	}
	w->pid = pid;
	w->fd = p[0];
	w->relay = events_relay_new();
	w->t0 = exec_now_ms();
	return 0;
}

/* A worker's pipe reached its end: wait for it and fill its recap; false when the
   host failed. */
static bool finish_worker(struct executor *x, struct worker *w, struct recap *r)
{
	close(w->fd);
	int st = 0;
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	r->seconds = (exec_now_ms() - w->t0) / 1000;
	const char *res = events_relay_result(w->relay);
	json_t *j = res ? json_loads(res, 0, NULL) : NULL;
	bool ok = false;
	if (j) {
		ok = json_is_true(json_object_get(j, "ok"));
		r->ok = (unsigned)json_integer_value(json_object_get(j, "ok_tasks"));
		r->changed = (unsigned)json_integer_value(json_object_get(j, "changed"));
		r->failed = (unsigned)json_integer_value(json_object_get(j, "failed"));
		r->skipped = (unsigned)json_integer_value(json_object_get(j, "skipped"));
		r->unreachable = (unsigned)json_integer_value(json_object_get(j, "unreachable"));
		r->rescued = (unsigned)json_integer_value(json_object_get(j, "rescued"));
		r->ignored = (unsigned)json_integer_value(json_object_get(j, "ignored"));
		json_decref(j);
	} else {
		char *msg = WIFSIGNALED(st) ? xasprintf("kiln's worker for this host was killed by "
		                                        "signal %d before it finished",
		                                        WTERMSIG(st))
		                            : xasprintf("kiln's worker for this host ended (status "
		                                        "%d) without a result",
		                                        WEXITSTATUS(st));
		events_error(x->ev, r->name, msg);
		free(msg);
		r->failed++;
	}
	r->aborted = !ok && !r->unreachable;
	events_relay_free(w->relay);
	w->relay = NULL;
	return ok;
}

/*
 * A block of one rootfs host runs in kiln's own process: there is nothing to run beside
 * it, and a worker would cost a fork and a pipe record (a write, a wake-up of the
 * parent, a read and a copy) for every event. What a worker is for does not apply: a
 * rootfs connection is files under a root fd (no libssh or OpenSSL state), its
 * namespace holder is a raw clone, safe where no status thread runs beside it (not on
 * a terminal), and with one host there is no other host to keep apart. Events, text
 * lines ("[HOST] ..."), redaction and the recap are as a worker's.
 */
static bool runs_inline(struct executor *x, size_t n, json_t *attrs)
{
	const char *kind = json_string_value(json_object_get(attrs, PLAN_K_CONNECTION));
	return n == 1 && kind && !strcmp(kind, "rootfs") && !events_live(x->ev);
}

static bool run_inline(struct executor *x, json_t *ap, const char *host, json_t *attrs,
                       struct recap *r)
{
	double t0 = exec_now_ms();
	events_set_target(x->ev, host);
	bool ok = apply_host(x, ap, host, attrs, r);
	events_set_target(x->ev, NULL);
	r->seconds = (exec_now_ms() - t0) / 1000;
	r->aborted = !ok && !r->unreachable;
	return ok;
}

/* One apply block's hosts, at most forks at once; false when one failed. */
static bool run_block(struct executor *x, json_t *ap, json_t *hosts, struct recap **recaps,
                      size_t *nrecaps)
{
	size_t n = json_object_size(hosts), first = *nrecaps;
	if (!n)
		return true;
	*recaps = xrealloc(*recaps, (*nrecaps + n) * sizeof(**recaps));
	const char **names = xcalloc(n, sizeof(*names));
	json_t **attrs = xcalloc(n, sizeof(*attrs));
	size_t k = 0;
	const char *name;
	json_t *a;
	json_object_foreach (hosts, name, a) {
		names[k] = name;
		attrs[k] = a;
		/* the recap names the host; names are borrowed from hosts (kept by the caller) */
		(*recaps)[first + k] = (struct recap){.name = name};
		k++;
	}
	*nrecaps += n;
	if (runs_inline(x, n, attrs[0])) {
		bool ok = run_inline(x, ap, names[0], attrs[0], &(*recaps)[first]);
		free(names);
		free(attrs);
		return ok;
	}
	unsigned forks = x->o->forks ? x->o->forks : 10;
	struct worker *ws = xcalloc(forks, sizeof(*ws));
	struct pollfd *pfds = xcalloc(forks, sizeof(*pfds));
	size_t next = 0, running = 0, shown_done = SIZE_MAX, shown_running = 0;
	bool ok = true, stopping = false;
	while (next < n || running) {
		while (!rt_interrupted && next < n && running < forks) {
			struct rt_error err = {0};
			struct worker *w = &ws[running];
			w->recap = first + next;
			if (start_worker(x, ap, names[next], attrs[next], w, &err) < 0) {
				events_error(x->ev, names[next], err.msg);
				(*recaps)[first + next].failed++;
				(*recaps)[first + next].aborted = true;
				ok = false;
			} else {
				running++;
			}
			next++;
		}
		if (rt_interrupted && !stopping) {
			/* a signal to kiln alone (not its process group) reaches the workers too */
			for (size_t i = 0; i < running; i++)
				kill(ws[i].pid, SIGTERM);
			stopping = true;
		}
		if (!running)
			break;
		if (next - running != shown_done || running != shown_running) {
			shown_done = next - running;
			shown_running = running;
			char *progress = xasprintf("apply %s: %zu of %zu host%s done, %zu running",
			                           plan_apply_view(ap).target, shown_done, n,
			                           n == 1 ? "" : "s", running);
			events_progress(x->ev, progress);
			free(progress);
		}
		for (size_t i = 0; i < running; i++)
			pfds[i] = (struct pollfd){.fd = ws[i].fd, .events = POLLIN};
		if (poll(pfds, running, 200) < 0 && errno != EINTR)
			break;
		for (size_t i = running; i-- > 0;) {
			if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (events_relay_read(x->ev, ws[i].relay, ws[i].fd) > 0)
				continue;
			if (!finish_worker(x, &ws[i], &(*recaps)[ws[i].recap]))
				ok = false;
			ws[i] = ws[--running];
		}
	}
	/* a worker still running here (poll failed) is stopped and collected */
	for (size_t i = 0; i < running; i++) {
		kill(ws[i].pid, SIGKILL);
		finish_worker(x, &ws[i], &(*recaps)[ws[i].recap]);
		ok = false;
	}
	free(pfds);
	free(ws);
	free(names);
	free(attrs);
	return ok;
}

/* The hosts an apply block touches, in order, narrowed by --limit (limit: the hosts
   the pattern selects, or NULL): name -> attributes. */
static json_t *block_hosts(json_t *plan, json_t *ap, json_t *limit)
{
	struct plan_apply av = plan_apply_view(ap);
	json_t *attrs = json_object();
	json_t *vars = json_deep_copy(av.connection);
	collect_hosts(plan_groups(plan), av.target, vars, attrs, 0);
	json_decref(vars);
	json_t *in = NULL;
	if (limit) {
		in = json_object();
		size_t i;
		json_t *h;
		json_array_foreach (limit, i, h) {
			json_object_set_new(in, json_string_value(h), json_true());
		}
	}
	json_t *order = host_pattern_group_hosts(plan_groups(plan), av.target);
	json_t *out = json_object();
	size_t i;
	json_t *h;
	json_array_foreach (order, i, h) {
		const char *name = json_string_value(h);
		json_t *a = json_object_get(attrs, name);
		if (a && (!in || json_object_get(in, name)))
			json_object_set(out, name, a);
	}
	json_decref(order);
	json_decref(in);
	json_decref(attrs);
	return out;
}

/* --limit: the hosts the pattern selects among the plan's (NULL: no --limit); an
   error when it selects none. */
static int limit_hosts(json_t *plan, const char *pattern, json_t **ret, struct rt_error *err)
{
	*ret = NULL;
	if (!pattern)
		return 0;
	*ret = host_pattern_select(plan_groups(plan), pattern, err);
	return *ret ? 0 : -EINVAL;
}

static int apply_hosts(struct executor *x, json_t *plan, json_t *limit, struct recap **recaps,
                       size_t *nrecaps)
{
	int status = 0;
	size_t i;
	json_t *ap;
	json_array_foreach (plan_applies(plan), i, ap) {
		if (rt_interrupted)
			break;
		json_t *hosts = block_hosts(plan, ap, limit);
		if (!run_block(x, ap, hosts, recaps, nrecaps))
			status = 1;
		/* names are borrowed from hosts: keep it until the recap is printed */
		json_array_append_new(x->keep, hosts);
	}
	return status;
}

int apply_list_hosts(json_t *plan, const char *limit, FILE *out)
{
	struct rt_error err = {0};
	json_t *sel;
	if (plan_validate(plan, &err) < 0 || limit_hosts(plan, limit, &sel, &err) < 0) {
		fprintf(stderr, "kiln apply: error: %s\n", err.msg);
		return 1;
	}
	size_t i;
	json_t *ap;
	json_array_foreach (plan_applies(plan), i, ap) {
		struct plan_apply av = plan_apply_view(ap);
		json_t *hosts = block_hosts(plan, ap, sel);
		size_t n = json_object_size(hosts);
		fprintf(out, "%sapply #%zu (%s): %s\n  hosts (%zu):\n", i ? "\n" : "", i + 1,
		        av.target, av.source ? av.source : "?", n);
		const char *name;
		json_t *a;
		json_object_foreach (hosts, name, a) {
			fprintf(out, "    %s\n", name);
		}
		json_decref(hosts);
	}
	json_decref(sel);
	return fflush(out) == 0 ? 0 : 1;
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
	/* --limit is checked before anything is done: a pattern that selects no host
	   is a mistake, not an empty run */
	json_t *limit = NULL;
	if (limit_hosts(plan, o->limit, &limit, &err) < 0) {
		events_error(x.ev, "apply", err.msg);
		return 1;
	}
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
	/* no image to bake (kiln plan and kiln run ask for it; a plan of apply blocks only is
	   so too): no work directory, no lock of the cache or work directory, no stage
	   status, none of which the hosts use */
	bool hosts_only = o->hosts_only || !json_array_size(images);
	int status = 0;
	x.keep = json_array();
	if (take_secrets(&x, plan) < 0) {
		status = 1;
		goto out;
	}
	if (!hosts_only && make_work(&x, &err) < 0) {
		events_error(x.ev, "apply", err.msg);
		status = -1;
		goto out;
	}
	x.cache_dir = cache_dir_default(o->cache_dir);
	x.cache_to = cache_remote_new(o->cache_to, o->cache_insecure, &err);
	if (!x.cache_to && o->cache_to) {
		events_error(x.ev, "apply", err.msg);
		status = -1;
		goto out;
	}
	x.cache_from = cache_remote_new(o->cache_from, o->cache_insecure, &err);
	if (!x.cache_from && o->cache_from) {
		events_error(x.ev, "apply", err.msg);
		status = -1;
		goto out;
	}
	/* two applies on one cache or work directory: the second waits or stops here */
	if (!hosts_only && !o->check &&
	    (cache_lock(x.cache_dir, "cache directory", true, o->lock_timeout, &x.cache_lock,
	                &err) < 0 ||
	     cache_lock(x.work_base, "work directory", false, o->lock_timeout, &x.work_lock, &err) <
	         0)) {
		events_error(x.ev, "apply", err.msg);
		status = 1;
		goto out;
	}
	/* under the lock (or in check mode, beside live runs): what killed applies left */
	if (!o->hosts_only)
		workdir_clean(x.work_base, x.work, x.ev);
	struct status_opts so = {.root = o->root,
	                         .cache_dir = x.cache_dir,
	                         .secrets = x.secrets,
	                         .create_key = !o->check,
	                         .no_cache = o->no_cache,
	                         .refresh_base = o->refresh_base};
	if (!hosts_only)
		plan_status_compute(plan, &so, &x.status, &err);
	if (x.status.key_note)
		events_note(x.ev, "apply", "the stage cache is not used: %s", x.status.key_note);
	x.nimages = hosts_only ? 0 : json_array_size(images);
	x.images = xcalloc(x.nimages ? x.nimages : 1, sizeof(*x.images));
	struct recap *recaps = xcalloc(x.nimages ? x.nimages : 1, sizeof(*recaps));
	json_t *artifacts = json_array();
	json_array_foreach (images, i, img) {
		if (i >= x.nimages)
			break; /* hosts_only */
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
	if (!rt_interrupted && apply_hosts(&x, plan, limit, &recaps, &nrecaps))
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
		json_decref(x.images[k].base_config);
		for (size_t l = 0; l < x.images[k].nlayers; l++)
			layer_release(&x.images[k].layers[l]);
		free(x.images[k].layers);
	}
	free(x.images);
out:
	cache_remote_free(x.cache_to);
	cache_remote_free(x.cache_from);
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
	json_decref(limit);
	free(x.cache_dir);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}
