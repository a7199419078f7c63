/*
 * bake: one image of the plan (see exec.h). Its base (or a copy of the parent
 * image's tree), then each stage with one rootfs connection (its tasks in
 * order, then the handlers its changed tasks notified), with the stage cache
 * (key, lookup, replay, store); a layer per stage when an output needs layers;
 * tests on a throwaway copy; outputs.
 */
#include "exec_int.h"

#include "arena.h"
#include "base.h"
#include "builtins.h"
#include "cache.h"
#include "cache_remote.h"
#include "extract.h"
#include "hex.h"
#include "output.h"
#include "plan_format.h"
#include "plan_view.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		st->base_config = json_incref(parent->base_config);
		for (size_t i = 0; b->layers && i < parent->nlayers; i++) {
			struct layer l = parent->layers[i];
			l.path = xstrdup(l.path);
			st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
			st->layers[st->nlayers++] = l;
		}
		return true;
	}
	json_t *bout = json_object();
	struct base_ctx bc = {.cache_dir = x->o->cache_dir,
	                      .local_root = x->o->root,
	                      .progress = base_progress,
	                      .progress_data = &b->sr,
	                      .out = bout};
	double t0 = exec_now_ms();
	if (base_create(&bc, from, st->rootfs, &b->err) < 0) {
		json_decref(bout);
		return bake_failed(b);
	}
	events_note(x->ev, st->name, "base ready (%.1f s)", (exec_now_ms() - t0) / 1000);
	st->base_config = json_incref(json_object_get(bout, "config"));
	/* NULL (a file it read is gone since): this build is not cached */
	struct rt_error kerr = {0};
	st->key = cache_base_key(from, x->o->root, &kerr);
	/* a registry tag: the key follows the digest it resolved to, not the tag */
	const char *digest = json_string_value(json_object_get(bout, "digest"));
	if (st->key && digest) {
		char *both = xasprintf("%s\n%s", st->key, digest);
		char hex[65];
		sha256_hex(both, strlen(both), hex);
		free(both);
		free(st->key);
		st->key = xstrdup(hex);
	}
	json_decref(bout);
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
	json_t *macs = exec_stage_secrets(b->x, stage, b->iv.handlers, &why);
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

/* Whether a stage (its tasks and the handlers they notify) reads a secret. */
static bool reads_secret(struct bake_run *b, json_t *stage)
{
	char *why = NULL;
	json_t *macs = exec_stage_secrets(b->x, stage, b->iv.handlers, &why);
	bool yes = !macs || json_object_size(macs) > 0;
	json_decref(macs);
	free(why);
	return yes;
}

/* The shared stage cache (--cache-to): push a stage's entry; a failure is only noted. */
static void remote_store(struct bake_run *b, json_t *stage, const char *key, const char *tar)
{
	if (!b->x->cache_to || !key || b->x->o->check)
		return;
	if (reads_secret(b, stage)) {
		events_note(b->x->ev, b->st->name,
		            "not pushed to the shared cache: the stage reads "
		            "a secret");
		return;
	}
	struct rt_error e = {0};
	if (cache_remote_put(b->x->cache_to, key, tar, &e) < 0)
		events_note(b->x->ev, b->st->name, "the shared cache is not written: %s", e.msg);
}

/* The shared stage cache (--cache-from): the local entry of key, fetched when missing. */
static char *remote_lookup(struct bake_run *b, const char *key)
{
	if (!b->x->cache_from || b->x->o->check) /* check mode writes no cache */
		return NULL;
	struct rt_error e = {0};
	int r = cache_remote_get(b->x->cache_from, b->x->cache_dir, key, &e);
	if (r < 0)
		events_note(b->x->ev, b->st->name, "the shared cache is not read: %s", e.msg);
	if (r <= 0)
		return NULL;
	events_note(b->x->ev, b->st->name, "fetched from the shared cache (%.12s)", key);
	return cache_lookup(b->x->cache_dir, key);
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
		if (!hit && caching && key)
			hit = remote_lookup(b, key);
		free(st->key);
		st->key = key;
		if (hit) {
			bool ok = replay_stage(b, hit, key, ntasks);
			if (ok)
				remote_store(b, stage, key, hit);
			free(hit);
			if (!ok)
				return false;
			continue;
		}
		caching = false;
		if (!b->snap && layer_snapshot(st->rootfs, &b->snap, &b->err) < 0)
			return bake_failed(b);
		if (exec_open_rootfs(x, st->rootfs, &sr->conn, &b->err) < 0)
			return bake_failed(b);
		if (!sr->facts)
			sr->facts = exec_gather_facts(sr->conn);
		sr->notified = json_object();
		bool ok = exec_run_tasks(sr, sv.tasks) && exec_run_handlers(sr, b->iv.handlers);
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
		if (key) {
			char *stored = cache_lookup(x->cache_dir, key);
			if (stored)
				remote_store(b, stage, key, stored);
			free(stored);
		}
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
		if (exec_open_rootfs(x, test_root, &sr->conn, &b->err) < 0) {
			free(stage_name);
			exec_rm_tree(test_root);
			free(test_root);
			return bake_failed(b);
		}
		if (!sr->facts)
			sr->facts = exec_gather_facts(sr->conn);
		sr->notified = json_object();
		ok = exec_run_tasks(sr, tv.tasks);
		json_decref(sr->notified);
		sr->notified = NULL;
		sr->conn = conn_free(sr->conn);
		free(stage_name);
		if (!ok)
			break;
	}
	sr->testing = false;
	exec_rm_tree(test_root);
	free(test_root);
	return ok;
}

/* The image's outputs, each an artifact; false when one cannot be written (E5003)
   or the run was interrupted. Artifacts first, then the records of them (checksum,
   then manifest: stdlib's records level), each group in the order declared, so a
   record covers every other output wherever it is declared. */
static bool bake_outputs(struct bake_run *b, json_t *plan, json_t *img, json_t *all)
{
	struct image_state *st = b->st;
	json_t *artifacts = json_array(); /* this image's: what its records cover */
	bool ok = true;
	for (int level = 0; level <= 2 && ok; level++) {
		size_t i;
		json_t *out;
		json_array_foreach (b->iv.outputs, i, out) {
			if (rt_interrupted)
				break;
			struct plan_output ov = plan_output_view(out);
			const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, ov.type);
			if ((s ? s->records : 0) != level)
				continue;
			struct output_ctx oc = {
			    .plan = plan,
			    .image = img,
			    .output = out,
			    .local_root = b->x->o->root,
			    .rootfs_dir = st->rootfs,
			    .layers = st->layers,
			    .nlayers = st->nlayers,
			    .artifacts = artifacts,
			    .secrets = b->x->secrets,
			    .base_config = st->base_config,
			    .cache_dir = b->x->cache_dir,
			};
			double t0 = exec_now_ms();
			size_t before = json_array_size(artifacts);
			if (output_write(&oc, &b->err) < 0) {
				char *msg = xasprintf("error[E5003]: %s %s: %s", ov.type, ov.path,
				                      b->err.msg);
				events_error(b->x->ev, st->name, msg);
				free(msg);
				ok = false;
				break;
			}
			json_t *a = json_array_get(artifacts, json_array_size(artifacts) - 1);
			events_artifact(b->x->ev, st->name, ov.type, ov.path,
			                json_array_size(artifacts) > before
			                    ? json_string_value(json_object_get(a, "digest"))
			                    : NULL,
			                exec_now_ms() - t0);
		}
	}
	json_array_extend(all, artifacts);
	json_decref(artifacts);
	return ok && !rt_interrupted;
}

/* One image: its base (or its parent's tree), its stages, its tests, its outputs. */
bool bake_image(struct executor *x, json_t *plan, json_t *img, struct image_state *st,
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
		ok = bake_outputs(&b, plan, img, artifacts);
	json_decref(b.sr.facts);
	return ok;
}
