/*
 * exec: the executor; see exec.h. Per image: the base (or a copy of the
 * parent image's tree), facts, then each stage with one rootfs connection
 * (namespaces set up once per stage), its tasks in order, then the handlers
 * its changed tasks notified (once each, in the order they are defined);
 * a layer per stage when an output needs layers; tests; outputs.
 */
#include "exec.h"

#include "arena.h"
#include "base.h"
#include "builtins.h"
#include "cache.h"
#include "conn.h"
#include "extract.h"
#include "hex.h"
#include "output.h"
#include "path.h"
#include "plan_expr.h"
#include "plan_format.h"
#include "plan_view.h"
#include "secret.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct image_state {
	const char *name;
	char *key;    /* the cache key of its last stage (images built from it start there) */
	char *rootfs; /* the finished tree (kept for images built from it) */
	struct layer *layers; /* base first */
	size_t nlayers;
	bool ok;
};

struct executor {
	const struct apply_opts *o;
	struct events *ev;
	char *work;      /* this run's directory */
	json_t *secrets; /* name -> value */
	struct image_state *images;
	size_t nimages;
	struct conn *local; /* the build machine, for 'local' tasks */
	char *cache_dir;
	json_t *keep;                          /* values whose strings the recap borrows */
	unsigned char mac_key[SECRET_KEY_LEN]; /* the stage cache's key for secrets */
	int mac_key_state;                     /* 0 not read yet, 1 read, -1 refused or absent */
	int climb; /* plan_path_climb: how far up the root paths may lead */
};

static double now_ms(void)
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
static void rm_tree(const char *path)
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
		rm_tree(dir);
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

/* The secrets a stage reads (its tasks and the handlers they notify), each as its
   keyed hash: name -> hex HMAC. NULL when the stage cannot be keyed (*why says why). */
static json_t *stage_secrets(struct executor *x, json_t *stage, json_t *handlers, char **why)
{
	json_t *names = json_object();
	json_t *notified = json_object();
	size_t i, j;
	json_t *t, *h;
	json_array_foreach (json_object_get(stage, PLAN_K_TASKS), i, t) {
		json_array_foreach (json_object_get(t, PLAN_K_NOTIFY), j, h) {
			if (json_is_string(h))
				json_object_set_new(notified, json_string_value(h), json_true());
		}
	}
	secret_refs(json_object_get(stage, PLAN_K_TASKS), names);
	/* a notified handler's tasks may notify others in turn */
	json_t *done = json_object();
	for (bool more = true; more;) {
		more = false;
		json_array_foreach (handlers, i, h) {
			const char *hn = json_string_value(json_object_get(h, PLAN_K_NAME));
			if (!hn || !json_object_get(notified, hn) || json_object_get(done, hn))
				continue;
			json_object_set_new(done, hn, json_true());
			more = true;
			secret_refs(json_object_get(h, PLAN_K_TASKS), names);
			json_array_foreach (json_object_get(h, PLAN_K_TASKS), j, t) {
				size_t k;
				json_t *n;
				json_array_foreach (json_object_get(t, PLAN_K_NOTIFY), k, n) {
					if (json_is_string(n))
						json_object_set_new(notified, json_string_value(n),
						                    json_true());
				}
			}
		}
	}
	json_decref(done);
	json_decref(notified);
	json_t *macs = json_object();
	if (json_object_size(names) && x->mac_key_state <= 0) {
		struct rt_error err = {0};
		/* check mode writes nothing, the key neither: without one, nothing is cached;
		   a key that cannot be used is reported once */
		int r = x->mac_key_state < 0
		            ? -EPERM
		            : secret_key_load(x->cache_dir, !x->o->check, x->mac_key, &err);
		if (r < 0) {
			*why = r == -ENOENT || x->mac_key_state < 0 ? NULL : xstrdup(err.msg);
			x->mac_key_state = -1;
			json_decref(names);
			json_decref(macs);
			return NULL;
		}
		x->mac_key_state = 1;
	}
	const char *name;
	json_object_foreach (names, name, t) {
		json_t *v = json_object_get(x->secrets, name);
		char *mac = secret_mac(x->mac_key, name, v ? json_string_value(v) : "");
		json_object_set_new(macs, name, json_string(mac));
		free(mac);
	}
	json_decref(names);
	return macs;
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
static json_t *gather_facts(struct conn *c)
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

struct stage_run {
	struct executor *x;
	const char *image;
	const char *stage;
	struct conn *conn;
	json_t *facts;
	json_t *notified; /* handler name -> true */
	struct recap *recap;
	bool failed;
	bool testing; /* a test block: it checks, so 'changed' counts as ok */
};

/* Run one task; false when it failed and the image must stop. */
/* Open a rootfs connection with the status thread held still (events_hold). */
static int open_rootfs(struct executor *x, const char *dir, struct conn **ret, struct rt_error *err)
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
	double t0 = now_ms();
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
	events_task_end(x->ev, &te, &res, now_ms() - t0);

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

static bool run_tasks(struct stage_run *sr, json_t *tasks)
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
static bool run_handlers(struct stage_run *sr, json_t *handlers)
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
		bool ok = run_tasks(sr, hv.tasks);
		sr->stage = saved;
		free(stage);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- images ------------------------------------------------------------------------ */

static struct image_state *find_image(struct executor *x, const char *name)
{
	for (size_t i = 0; i < x->nimages; i++)
		if (!strcmp(x->images[i].name, name))
			return &x->images[i];
	return NULL;
}

/* cp -a parent/. child/: the copy keeps owners, modes, links and special files. */
static int copy_tree(const char *from, const char *to, struct rt_error *err)
{
	char *src = xasprintf("%s/.", from);
	const char *argv[] = {"cp", "-a", "--reflink=auto", src, to, NULL};
	int r = rt_run(argv, err);
	free(src);
	if (r < 0)
		return r;
	if (r)
		return rt_error_set(err, -EIO, "copying %s to %s failed", from, to);
	return 0;
}

static bool needs_layers(json_t *plan)
{
	size_t i, j;
	json_t *img, *out;
	json_array_foreach (plan_images(plan), i, img) {
		json_array_foreach (plan_image_view(img).outputs, j, out) {
			const struct kiln_schema *s =
			    stdlib_lookup(SCHEMA_OUTPUT, plan_output_view(out).type);
			if (s && s->needs_layers)
				return true;
		}
	}
	return false;
}

static char *from_text(json_t *from)
{
	json_t *img = json_object_get(from, PLAN_K_IMAGE);
	if (img)
		return xasprintf("image %s", json_string_value(img));
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s(", json_string_value(json_object_get(from, PLAN_K_BASE)));
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach (json_object_get(from, PLAN_K_ARGS), k, v) {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		sb_addf(&sb, "%s%s=%s", n++ ? ", " : "", k, s ? s : "?");
		free(s);
	}
	sb_addc(&sb, ')');
	return sb_detach(&sb);
}

static void base_progress(void *data, const char *line)
{
	struct stage_run *sr = data;
	events_note(sr->x->ev, sr->image, "%s", line);
}

static int add_layer(struct executor *x, struct image_state *st, const char *dir,
                     struct layer_snap **snap, struct rt_error *err)
{
	char *tar = xasprintf("%s/%s.layer%zu.tar", x->work, st->name, st->nlayers);
	struct layer l = {0};
	int r = layer_write(dir, *snap, tar, &l, err);
	free(tar);
	if (r < 0)
		return r;
	st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
	st->layers[st->nlayers++] = l;
	layer_snap_free(*snap);
	*snap = NULL;
	return layer_snapshot(dir, snap, err);
}

/* Replay a cached stage: unpack its layer; it is also the image's layer for outputs. */
static int replay(struct executor *x, struct image_state *st, const char *tar, bool layers,
                  struct rt_error *err)
{
	int fd = open(st->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot open %s", st->rootfs);
	unsigned char digest[32];
	struct extract_opts eo = {
	    .flags = EXTRACT_WHITEOUTS, .label = "cached stage", .sha256_out = digest};
	int r = extract_path(fd, tar, &eo, NULL, err);
	close(fd);
	if (r < 0 || !layers)
		return r;
	struct layer l = {.path = xstrdup(tar)};
	strcpy(l.diff_id, "sha256:");
	hex_encode(digest, 32, l.diff_id + 7);
	struct stat sb;
	l.size = stat(tar, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
	st->layers[st->nlayers++] = l;
	(void)x;
	return 0;
}

static bool has_local_task(json_t *stage)
{
	size_t i;
	json_t *t;
	json_array_foreach (plan_block_view(stage).tasks, i, t) {
		const struct kiln_schema *s =
		    stdlib_lookup(SCHEMA_MODULE, plan_task_view(t).module);
		if (s && s->on_build_machine)
			return true;
	}
	return false;
}

/* What the steps of one image's bake share. */
struct bake_run {
	struct executor *x;
	struct image_state *st;
	struct plan_image iv;
	struct stage_run sr;     /* the stage (or test) being run, its facts */
	bool layers;             /* an output needs the image's layers */
	struct layer_snap *snap; /* the tree as the last layer left it */
	struct rt_error err;
};

/* A step could not go on (not a task that failed): say why (E5002). */
static bool bake_failed(struct bake_run *b)
{
	b->sr.conn = conn_free(b->sr.conn);
	json_decref(b->sr.notified);
	b->sr.notified = NULL;
	char *msg = xasprintf("error[E5002]: %s", b->err.msg[0] ? b->err.msg : "failed");
	events_error(b->x->ev, b->st->name, msg);
	free(msg);
	return false;
}

/* The image's tree to start from: a copy of its parent image's (with its key and
   layers), or its base, made by the base's implementation. */
static bool bake_base(struct bake_run *b, json_t *from)
{
	struct executor *x = b->x;
	struct image_state *st = b->st;
	if (b->iv.from_image) {
		struct image_state *parent = find_image(x, b->iv.from_image);
		if (!parent || !parent->ok) {
			events_error(x->ev, st->name, "its parent image was not built");
			return false;
		}
		if (copy_tree(parent->rootfs, st->rootfs, &b->err) < 0)
			return bake_failed(b);
		st->key = parent->key ? xstrdup(parent->key) : NULL;
		for (size_t i = 0; b->layers && i < parent->nlayers; i++) {
			struct layer l = parent->layers[i];
			l.path = xstrdup(l.path);
			st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
			st->layers[st->nlayers++] = l;
		}
		return true;
	}
	struct base_ctx bc = {.cache_dir = x->o->cache_dir,
	                      .local_root = x->o->root,
	                      .progress = base_progress,
	                      .progress_data = &b->sr};
	double t0 = now_ms();
	if (base_create(&bc, from, st->rootfs, &b->err) < 0)
		return bake_failed(b);
	events_note(x->ev, st->name, "base ready (%.1f s)", (now_ms() - t0) / 1000);
	/* NULL (a file it read is gone since): this build is not cached */
	struct rt_error kerr = {0};
	st->key = cache_base_key(from, x->o->root, &kerr);
	/* the base's layer is the whole tree (snap is NULL) */
	if (b->layers && add_layer(x, st, st->rootfs, &b->snap, &b->err) < 0)
		return bake_failed(b);
	return true;
}

/* The stage cache's key of a stage after the tree st->key names; NULL when the stage
   is not cached (a note says why when the reason is worth telling). */
static char *stage_key(struct bake_run *b, json_t *stage)
{
	struct rt_error kerr = {0};
	char *why = NULL;
	char *key = NULL;
	json_t *macs = stage_secrets(b->x, stage, b->iv.handlers, &why);
	if (macs)
		key =
		    cache_stage_key(b->st->key, stage, b->iv.handlers, macs, b->x->o->root, &kerr);
	else if (why)
		events_note(b->x->ev, b->st->name, "the stage cache is not used: %s", why);
	json_decref(macs);
	free(why);
	return key;
}

/* A stage found in the stage cache: its layer unpacked on the tree, its tasks ok. */
static bool replay_stage(struct bake_run *b, const char *hit, const char *key, size_t ntasks)
{
	struct image_state *st = b->st;
	if (replay(b->x, st, hit, b->layers, &b->err) < 0)
		return bake_failed(b);
	layer_snap_free(b->snap);
	b->snap = NULL;
	if (layer_snapshot(st->rootfs, &b->snap, &b->err) < 0)
		return bake_failed(b);
	b->sr.recap->ok += (unsigned)ntasks;
	events_note(b->x->ev, st->name, "cached (%.12s): %zu task%s replayed, nothing changed", key,
	            ntasks, ntasks == 1 ? "" : "s");
	return true;
}

/* A stage that ran: its layer (when outputs need layers or the cache stores it), stored
   under key (when not NULL); a cache that cannot be written is only noted. */
static bool store_stage(struct bake_run *b, const char *key)
{
	struct image_state *st = b->st;
	if (!b->layers && !key)
		return true;
	if (add_layer(b->x, st, st->rootfs, &b->snap, &b->err) < 0)
		return bake_failed(b);
	struct rt_error cerr = {0};
	if (key && cache_store(b->x->cache_dir, key, st->layers[st->nlayers - 1].path, &cerr) < 0)
		events_note(b->x->ev, st->name, "the stage cache is not written: %s", cerr.msg);
	else if (key)
		events_note(b->x->ev, st->name, "stored in the stage cache (%.12s)", key);
	if (!b->layers)
		layer_release(&st->layers[--st->nlayers]);
	return true;
}

/* Each stage in order, with one rootfs connection: its tasks, then the handlers they
   notified. False when a task failed (its events said so) or a step could not go on. */
static bool bake_stages(struct bake_run *b)
{
	struct executor *x = b->x;
	struct image_state *st = b->st;
	struct stage_run *sr = &b->sr;
	/* the stage cache: replay stages whose key is stored, until the first miss;
	   a stage with a 'local' task (its effects are on the build machine) ends it */
	/* check mode replays cached stages too (so it reports what would change
	   after them), but stores nothing */
	bool caching = st->key != NULL;
	bool keyed = true;
	size_t i;
	json_t *stage;
	json_array_foreach (b->iv.stages, i, stage) {
		struct plan_block sv = plan_block_view(stage);
		size_t ntasks = json_array_size(sv.tasks);
		sr->stage = sv.name;
		events_stage(x->ev, st->name, sr->stage, ntasks);
		/* every stage gets its key (to store its result); only an unbroken run of
		   hits from the first stage is replayed */
		if (has_local_task(stage))
			keyed = false;
		char *key = keyed && st->key ? stage_key(b, stage) : NULL;
		char *hit = caching && key ? cache_lookup(x->cache_dir, key) : NULL;
		free(st->key);
		st->key = key;
		if (hit) {
			bool ok = replay_stage(b, hit, key, ntasks);
			free(hit);
			if (!ok)
				return false;
			continue;
		}
		caching = false;
		if (!b->snap && layer_snapshot(st->rootfs, &b->snap, &b->err) < 0)
			return bake_failed(b);
		if (open_rootfs(x, st->rootfs, &sr->conn, &b->err) < 0)
			return bake_failed(b);
		if (!sr->facts)
			sr->facts = gather_facts(sr->conn);
		sr->notified = json_object();
		bool ok = run_tasks(sr, sv.tasks) && run_handlers(sr, b->iv.handlers);
		json_decref(sr->notified);
		sr->notified = NULL;
		sr->conn = conn_free(sr->conn);
		if (!ok)
			return false;
		if (x->o->check)
			free(st->key),
			    st->key = key = NULL; /* a checked stage is not the built one */
		if (!store_stage(b, key))
			return false;
	}
	return true;
}

/* The image's tests, on a throwaway copy of the tree: what they leave behind
   (logs, pid files) is not part of the image. False when one failed. */
static bool bake_tests(struct bake_run *b)
{
	struct executor *x = b->x;
	struct stage_run *sr = &b->sr;
	if (!json_array_size(b->iv.tests))
		return true;
	char *test_root = xasprintf("%s/%s.test", x->work, b->st->name);
	if (mkdir(test_root, 0755) < 0 || copy_tree(b->st->rootfs, test_root, &b->err) < 0) {
		free(test_root);
		return bake_failed(b);
	}
	bool ok = true;
	sr->testing = true;
	size_t i;
	json_t *test;
	json_array_foreach (b->iv.tests, i, test) {
		struct plan_block tv = plan_block_view(test);
		char *stage_name = xasprintf("test %s", tv.name);
		sr->stage = stage_name;
		if (open_rootfs(x, test_root, &sr->conn, &b->err) < 0) {
			free(stage_name);
			rm_tree(test_root);
			free(test_root);
			return bake_failed(b);
		}
		if (!sr->facts)
			sr->facts = gather_facts(sr->conn);
		sr->notified = json_object();
		ok = run_tasks(sr, tv.tasks);
		json_decref(sr->notified);
		sr->notified = NULL;
		sr->conn = conn_free(sr->conn);
		free(stage_name);
		if (!ok)
			break;
	}
	sr->testing = false;
	rm_tree(test_root);
	free(test_root);
	return ok;
}

/* The image's outputs, each an artifact; false when one cannot be written (E5003)
   or the run was interrupted. */
static bool bake_outputs(struct bake_run *b, json_t *img, json_t *artifacts)
{
	struct image_state *st = b->st;
	size_t i;
	json_t *out;
	json_array_foreach (b->iv.outputs, i, out) {
		if (rt_interrupted)
			break;
		struct plan_output ov = plan_output_view(out);
		struct output_ctx oc = {
		    .image = img,
		    .output = out,
		    .local_root = b->x->o->root,
		    .rootfs_dir = st->rootfs,
		    .layers = st->layers,
		    .nlayers = st->nlayers,
		    .artifacts = artifacts,
		};
		double t0 = now_ms();
		size_t before = json_array_size(artifacts);
		if (output_write(&oc, &b->err) < 0) {
			char *msg =
			    xasprintf("error[E5003]: %s %s: %s", ov.type, ov.path, b->err.msg);
			events_error(b->x->ev, st->name, msg);
			free(msg);
			return false;
		}
		json_t *a = json_array_get(artifacts, json_array_size(artifacts) - 1);
		events_artifact(b->x->ev, st->name, ov.type, ov.path,
		                json_array_size(artifacts) > before
		                    ? json_string_value(json_object_get(a, "digest"))
		                    : NULL,
		                now_ms() - t0);
	}
	return !rt_interrupted;
}

/* One image: its base (or its parent's tree), its stages, its tests, its outputs. */
static bool bake(struct executor *x, json_t *plan, json_t *img, struct image_state *st,
                 struct recap *recap, json_t *artifacts)
{
	json_t *from = json_object_get(img, PLAN_K_FROM);
	char *what = from_text(from);
	events_image(x->ev, st->name, what);
	free(what);
	st->rootfs = xasprintf("%s/%s.rootfs", x->work, st->name);
	if (mkdir(st->rootfs, 0755) < 0) {
		events_error(x->ev, st->name, "cannot create the image's directory");
		return false;
	}
	struct bake_run b = {
	    .x = x,
	    .st = st,
	    .iv = plan_image_view(img),
	    .sr = {.x = x, .image = st->name, .stage = "base", .recap = recap},
	    .layers = needs_layers(plan),
	};
	bool ok = bake_base(&b, from) && bake_stages(&b) && bake_tests(&b);
	layer_snap_free(b.snap);
	b.snap = NULL;
	if (ok && x->o->check)
		events_note(x->ev, st->name, "check mode: no artifacts written");
	else if (ok)
		ok = bake_outputs(&b, img, artifacts);
	json_decref(b.sr.facts);
	return ok;
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
		r = open_rootfs(x, dir, &sr.conn, &err);
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
		sr.facts = gather_facts(sr.conn);
		sr.notified = json_object();
		ok = run_tasks(&sr, tasks) && run_handlers(&sr, av.handlers);
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
			double t0 = now_ms();
			if (!apply_host(x, ap, name, attrs, r)) {
				r->aborted = !r->unreachable;
				status = 1;
			}
			r->seconds = (now_ms() - t0) / 1000;
		}
		/* names are borrowed from hosts: keep it until the recap is printed */
		json_array_append_new(x->keep, hosts);
	}
	return status;
}

int apply_plan(json_t *plan, const struct apply_opts *o)
{
	struct executor x = {.o = o, .ev = o->events};
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
	x.nimages = json_array_size(images);
	x.images = xcalloc(x.nimages ? x.nimages : 1, sizeof(*x.images));
	struct recap *recaps = xcalloc(x.nimages ? x.nimages : 1, sizeof(*recaps));
	json_t *artifacts = json_array();
	json_array_foreach (images, i, img) {
		struct image_state *st = &x.images[i];
		st->name = plan_image_view(img).name;
		recaps[i].name = st->name;
		double t0 = now_ms();
		if (!rt_interrupted)
			st->ok = bake(&x, plan, img, st, &recaps[i], artifacts);
		recaps[i].seconds = (now_ms() - t0) / 1000;
		recaps[i].aborted = !st->ok;
		if (!st->ok)
			status = 1;
		/* the tree is kept only while an image still to come is built from it */
		bool needed = false;
		for (size_t k = i + 1; k < x.nimages && st->ok; k++) {
			const char *p = plan_image_view(json_array_get(images, k)).from_image;
			needed |= p && !strcmp(p, st->name);
		}
		if (!needed && st->rootfs) {
			rm_tree(st->rootfs);
			free(st->rootfs);
			st->rootfs = NULL;
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
		free(x.images[k].rootfs);
		free(x.images[k].key);
		for (size_t l = 0; l < x.images[k].nlayers; l++)
			layer_release(&x.images[k].layers[l]);
		free(x.images[k].layers);
	}
	free(x.images);
out:
	x.local = conn_free(x.local);
	if (x.work) {
		rm_tree(x.work);
		free(x.work);
	}
	json_decref(x.secrets);
	explicit_bzero(x.mac_key, sizeof(x.mac_key));
	json_decref(x.keep);
	free(x.cache_dir);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return status;
}
