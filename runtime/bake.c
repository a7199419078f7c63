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
#include "plan_status.h"
#include "plan_view.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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

/* What the steps of one image's bake share. */
struct bake_run {
	struct executor *x;
	struct image_state *st;
	struct image_status *is; /* its keys, what is cached, what is up to date */
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
/* Unpack the cached layer of key on the tree (it is also the image's layer). */
static bool unpack_key(struct bake_run *b, const char *key)
{
	char *hit = key ? cache_lookup(b->x->cache_dir, key) : NULL;
	if (!hit) {
		rt_error_set(&b->err, -ENOENT, "the cache lost the layer %.12s meanwhile",
		             key ? key : "?");
		return bake_failed(b);
	}
	int r = replay(b->x, b->st, hit, b->layers, &b->err);
	free(hit);
	if (r < 0)
		return bake_failed(b);
	cache_touch(b->x->cache_dir, key);
	return true;
}

/* The tree of image p from the cache: its base's layer, then every stage's of it and of
   the images it is built from (plan_status.h: chain_cached). */
static bool unpack_chain(struct bake_run *b, struct image_status *p)
{
	if (p->from_image) {
		if (!unpack_chain(b, plan_status_image(&b->x->status, p->from_image)))
			return false;
	} else if (!unpack_key(b, p->base_key)) {
		return false;
	}
	for (size_t i = 0; i < p->nstages; i++)
		if (!unpack_key(b, p->stages[i].key))
			return false;
	return true;
}

/* The layers of image p's tree from the records of the cache (base's, then every
   stage's of it and of its parents), appended to the image's; false when a record
   lacks the layer's digest or a layer is gone. */
static bool chain_layers(struct bake_run *b, struct image_status *p)
{
	if (p->from_image) {
		if (!chain_layers(b, plan_status_image(&b->x->status, p->from_image)))
			return false;
	}
	for (size_t i = p->from_image ? 1 : 0; i <= p->nstages; i++) {
		const char *key = i == 0 ? p->base_key : p->stages[i - 1].key;
		char *rp = key ? xasprintf("%s/stages/%s.json", b->x->cache_dir, key) : NULL;
		json_t *rec = rp ? json_load_file(rp, 0, NULL) : NULL;
		free(rp);
		const char *diff_id = json_string_value(json_object_get(rec, "diff_id"));
		char *tar =
		    diff_id && strlen(diff_id) < 72 ? cache_lookup(b->x->cache_dir, key) : NULL;
		struct stat sb;
		if (!tar || stat(tar, &sb) < 0) {
			free(tar);
			json_decref(rec);
			return false;
		}
		struct layer l = {.path = tar, .size = (uint64_t)sb.st_size};
		strcpy(l.diff_id, diff_id);
		json_decref(rec);
		struct image_state *st = b->st;
		st->layers = xrealloc(st->layers, (st->nlayers + 1) * sizeof(*st->layers));
		st->layers[st->nlayers++] = l;
		cache_touch(b->x->cache_dir, key);
	}
	return true;
}

/* The tree of parent image name, kept in the cache by an earlier apply (CACHE/trees/KEY,
   KEY its last stage's), as the lower layer of an overlay mount at the image's tree: nothing
   is unpacked or copied. False (nothing done) when there is none or it cannot be mounted. */
static bool mount_kept_tree(struct bake_run *b, const char *name)
{
	struct executor *x = b->x;
	struct image_status *p = plan_status_image(&x->status, name);
	if (!p || !p->key || x->o->no_cache || x->o->refresh_base)
		return false;
	char *lower = xasprintf("%s/trees/%s", x->cache_dir, p->key);
	char *upper = xasprintf("%s.upper", b->st->rootfs),
	     *work = xasprintf("%s.ovl", b->st->rootfs);
	char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	struct stat sb;
	size_t n0 = b->st->nlayers;
	bool ok = stat(lower, &sb) == 0 && S_ISDIR(sb.st_mode) && !strpbrk(lower, ",:") &&
	          (!b->layers || chain_layers(b, p));
	if (ok && !(mkdir(upper, 0755) == 0 && mkdir(work, 0700) == 0 &&
	            mount("overlay", b->st->rootfs, "overlay", MS_NOSUID | MS_NODEV, opts) == 0)) {
		/* kept, but not usable here: said, and the tree is made another way */
		events_note(x->ev, b->st->name,
		            "image %s's tree kept in the cache cannot be mounted (%s): not used",
		            name, strerror(errno));
		ok = false;
	}
	if (!ok) {
		while (b->st->nlayers > n0)
			layer_release(&b->st->layers[--b->st->nlayers]);
		rmdir(upper);
		rmdir(work);
	} else {
		b->st->overlay = true;
		(void)utimensat(AT_FDCWD, lower, NULL, 0); /* used now (cache prune) */
		events_note(x->ev, b->st->name, "image %s mounted from the cache (%.12s)", name,
		            p->key);
		b->st->key = xstrdup("base");
	}
	free(opts);
	free(upper);
	free(work);
	free(lower);
	return ok;
}

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
		if (!parent->rootfs && mount_kept_tree(b, b->iv.from_image))
			return true;
		if (!parent->rootfs) {
			/* the parent had nothing to do: its tree is made of its cached layers */
			double t0 = exec_now_ms();
			if (!unpack_chain(b, plan_status_image(&x->status, b->iv.from_image)))
				return false;
			events_note(x->ev, st->name, "image %s unpacked from the cache (%.1f s)",
			            b->iv.from_image, (exec_now_ms() - t0) / 1000);
			st->key = xstrdup("base");
			return true;
		}
		if (copy_tree(parent->rootfs, st->rootfs, &b->err) < 0)
			return bake_failed(b);
		/* a parent's tree changed by check mode is not the cached one */
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
	if (b->is->base_cached && b->layers) {
		/* the base's layer from the cache: nothing made, nothing written again */
		double t0 = exec_now_ms();
		if (!unpack_key(b, b->is->base_key))
			return false;
		events_note(x->ev, st->name, "base unpacked from the cache (%.1f s)",
		            (exec_now_ms() - t0) / 1000);
		st->key = xstrdup("base");
		/* the runtime config of the image the base started from (oci(), registry()),
		   kept in the base's record */
		char *rec = xasprintf("%s/stages/%s.json", x->cache_dir, b->is->base_key);
		json_t *j = json_load_file(rec, 0, NULL);
		st->base_config = json_incref(json_object_get(j, "base_config"));
		json_decref(j);
		free(rec);
		return true;
	}
	json_t *bout = json_object();
	struct base_ctx bc = {.cache_dir = x->o->cache_dir,
	                      .local_root = x->o->root,
	                      .progress = base_progress,
	                      .progress_data = &b->sr,
	                      .out = bout,
	                      .refresh = x->o->refresh_base};
	double t0 = exec_now_ms();
	if (base_create(&bc, from, st->rootfs, &b->err) < 0) {
		json_decref(bout);
		return bake_failed(b);
	}
	events_note(x->ev, st->name, "base ready (%.1f s)", (exec_now_ms() - t0) / 1000);
	st->base_config = json_incref(json_object_get(bout, "config"));
	if (st->base_config && b->is->base_record)
		json_object_set(b->is->base_record, "base_config", st->base_config);
	json_decref(bout);
	st->key = xstrdup("base"); /* stages may be replayed on it */
	/* the base's layer is the whole tree (snap is NULL); kept in the stage cache under
	   the base's key (not in check mode: nothing is stored then) */
	if (b->layers && add_layer(x, st, st->rootfs, &b->snap, &b->err) < 0)
		return bake_failed(b);
	struct rt_error cerr = {0};
	if (b->layers && b->is->base_record)
		json_object_set_new(b->is->base_record, "diff_id",
		                    json_string(st->layers[st->nlayers - 1].diff_id));
	if (b->layers && b->is->base_key && !x->o->check &&
	    cache_store(x->cache_dir, b->is->base_key, st->layers[st->nlayers - 1].path,
	                b->is->base_record, &cerr) < 0)
		events_note(x->ev, st->name, "the base's layer is not cached: %s", cerr.msg);
	return true;
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
	b->sr.recap->stages_cached++;
	cache_touch(b->x->cache_dir, key);
	events_stage_cached(b->x->ev, st->name, b->sr.stage, key, ntasks);
	return true;
}

/* Whether a stage (its tasks and the handlers they notify) reads a secret. */
static bool reads_secret(struct bake_run *b, json_t *stage)
{
	return plan_status_reads_secret(stage, b->iv.handlers);
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
static bool store_stage(struct bake_run *b, const char *key, json_t *record)
{
	struct image_state *st = b->st;
	if (!b->layers && !key)
		return true;
	if (add_layer(b->x, st, st->rootfs, &b->snap, &b->err) < 0)
		return bake_failed(b);
	struct rt_error cerr = {0};
	if (record) /* the layer's digest: an image built on this one lists it unread */
		json_object_set_new(record, "diff_id",
		                    json_string(st->layers[st->nlayers - 1].diff_id));
	if (key &&
	    cache_store(b->x->cache_dir, key, st->layers[st->nlayers - 1].path, record, &cerr) < 0)
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
	/* the stage cache: replay stages whose key is stored, until the first miss (the
	   keys: plan_status.h); check mode replays cached stages too (so it reports what
	   would change after them), but stores nothing */
	bool caching = st->key != NULL && !x->o->no_cache && !x->o->refresh_base;
	size_t i;
	json_t *stage;
	json_array_foreach (b->iv.stages, i, stage) {
		struct plan_block sv = plan_block_view(stage);
		const struct stage_status *ss = &b->is->stages[i];
		size_t ntasks = json_array_size(sv.tasks);
		sr->stage = sv.name;
		char *hit = caching && ss->key ? cache_lookup(x->cache_dir, ss->key) : NULL;
		if (!hit && caching && ss->key)
			hit = remote_lookup(b, ss->key);
		if (hit) {
			bool ok = replay_stage(b, hit, ss->key, ntasks);
			if (ok)
				remote_store(b, stage, ss->key, hit);
			free(hit);
			if (!ok)
				return false;
			continue;
		}
		events_stage(x->ev, st->name, sr->stage, ntasks);
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
		sr->recap->stages_built++;
		const char *key = ss->key;
		if (x->o->check) { /* a checked stage is not the built one */
			free(st->key);
			st->key = NULL;
			key = NULL;
		}
		if (!store_stage(b, key, ss->record))
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

/* The tree the tests run on, at test_root: an overlay mount over the image's tree (nothing
   copied; what the tests write goes to an upper directory), else a copy of it. */
static int make_test_tree(struct bake_run *b, const char *test_root, bool *overlay)
{
	char *upper = xasprintf("%s.upper", test_root), *work = xasprintf("%s.ovl", test_root);
	char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", b->st->rootfs, upper, work);
	*overlay = !strchr(b->st->rootfs, ',') && !strchr(b->st->rootfs, ':') &&
	           mkdir(upper, 0755) == 0 && mkdir(work, 0700) == 0 &&
	           mount("overlay", test_root, "overlay", MS_NOSUID | MS_NODEV, opts) == 0;
	free(opts);
	free(upper);
	free(work);
	if (*overlay)
		return 0;
	return copy_tree(b->st->rootfs, test_root, &b->err);
}

static void drop_test_tree(struct bake_run *b, const char *test_root, bool overlay)
{
	(void)b;
	if (overlay && umount2(test_root, MNT_DETACH) < 0)
		return; /* still mounted: nothing under it is removed (rm stays on its fs) */
	exec_rm_tree(test_root);
	char *upper = xasprintf("%s.upper", test_root), *work = xasprintf("%s.ovl", test_root);
	exec_rm_tree(upper);
	exec_rm_tree(work);
	free(upper);
	free(work);
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
	bool overlay = false;
	if (mkdir(test_root, 0755) < 0 || make_test_tree(b, test_root, &overlay) < 0) {
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
			drop_test_tree(b, test_root, overlay);
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
	drop_test_tree(b, test_root, overlay);
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
			    .notes = json_array(),
			};
			double t0 = exec_now_ms();
			size_t before = json_array_size(artifacts);
			int wr = output_write(&oc, &b->err);
			size_t ni;
			json_t *note;
			json_array_foreach (oc.notes, ni, note) {
				events_note(b->x->ev, st->name, "%s %s: %s", ov.type, ov.path,
				            json_string_value(note));
			}
			json_decref(oc.notes);
			if (wr < 0) {
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
			b->sr.recap->outputs_written++;
		}
	}
	json_array_extend(all, artifacts);
	json_decref(artifacts);
	return ok && !rt_interrupted;
}

/* An image whose stages are all cached and outputs all up to date: nothing to do. */
static void say_current(struct executor *x, struct image_status *is, json_t *img,
                        struct recap *recap, bool stages)
{
	struct plan_image iv = plan_image_view(img);
	for (size_t i = 0; stages && i < is->nstages; i++) {
		size_t ntasks =
		    json_array_size(plan_block_view(json_array_get(iv.stages, i)).tasks);
		events_stage_cached(x->ev, is->name, is->stages[i].name, is->stages[i].key, ntasks);
		recap->ok += (unsigned)ntasks;
		recap->stages_cached++;
	}
	for (size_t i = 0; i < is->noutputs; i++) {
		events_output_current(x->ev, is->name, is->outputs[i].type, is->outputs[i].path);
		recap->outputs_current++;
	}
}

void bake_drop_tree(struct executor *x, struct image_state *st, const char *key)
{
	char *upper = xasprintf("%s.upper", st->rootfs), *work = xasprintf("%s.ovl", st->rootfs);
	if (st->overlay) {
		st->overlay = false;
		if (umount2(st->rootfs, MNT_DETACH) == 0) {
			exec_rm_tree(st->rootfs);
			exec_rm_tree(upper);
			exec_rm_tree(work);
		}
		free(upper);
		free(work);
		return;
	}
	free(upper);
	free(work);
	struct rt_error err = {0};
	char *dest = key ? xasprintf("%s/trees/%s", x->cache_dir, key) : NULL;
	struct stat sb;
	if (dest && stat(dest, &sb) < 0 && cache_mkdir(x->cache_dir, "trees", &err) == 0 &&
	    rename(st->rootfs, dest) == 0) {
		/* kept: an image built on this one mounts it instead of unpacking layers; the
		   image's older trees go */
		json_t *all = cache_records(x->cache_dir, "trees");
		size_t i;
		json_t *r;
		json_array_foreach (all, i, r) {
			const char *im = json_string_value(json_object_get(r, "image"));
			const char *k = json_string_value(json_object_get(r, "key"));
			if (im && k && !strcmp(im, st->name) && strcmp(k, key) && strlen(k) == 64 &&
			    !strchr(k, '/')) {
				char *old = xasprintf("%s/trees/%s", x->cache_dir, k);
				char *rec = xasprintf("%s.json", old);
				exec_rm_tree(old);
				unlink(rec);
				free(old);
				free(rec);
			}
		}
		json_decref(all);
		char *rec = xasprintf("%s.json", dest);
		json_t *v = json_pack("{s:s, s:s, s:s}", "image", st->name, "key", key,
		                      "kiln_version", KILN_VERSION);
		(void)cache_write_json(rec, v, &err);
		json_decref(v);
		free(rec);
	} else {
		exec_rm_tree(st->rootfs);
	}
	free(dest);
}

/* One image: its base (or its parent's tree), its stages, its tests, its outputs; nothing
   when it is current and no image still to come needs its tree (plan_status.h). */
bool bake_image(struct executor *x, json_t *plan, json_t *img, struct image_state *st,
                struct recap *recap, json_t *artifacts)
{
	json_t *from = json_object_get(img, PLAN_K_FROM);
	char *what = from_text(from);
	events_image(x->ev, st->name, what);
	free(what);
	struct image_status *is = plan_status_image(&x->status, st->name);
	if (!is->needed) {
		say_current(x, is, img, recap, true);
		st->key = xstrdup(is->key);
		return true;
	}
	st->rootfs = xasprintf("%s/%s.rootfs", x->work, st->name);
	if (mkdir(st->rootfs, 0755) < 0) {
		events_error(x->ev, st->name, "cannot create the image's directory");
		return false;
	}
	struct bake_run b = {
	    .x = x,
	    .st = st,
	    .is = is,
	    .iv = plan_image_view(img),
	    .sr = {.x = x, .image = st->name, .stage = "base", .recap = recap},
	    .layers = needs_layers(plan),
	};
	bool ok = bake_base(&b, from) && bake_stages(&b) && bake_tests(&b);
	layer_snap_free(b.snap);
	b.snap = NULL;
	if (ok && x->o->check) {
		events_note(x->ev, st->name, "check mode: no artifacts written");
	} else if (ok && is->current) {
		/* made only for the images built from it */
		say_current(x, is, img, recap, false);
	} else if (ok) {
		ok = bake_outputs(&b, plan, img, artifacts);
		struct rt_error rerr = {0};
		if (ok && plan_status_outputs_written(x->cache_dir, is, &rerr) < 0)
			events_note(x->ev, st->name, "the outputs are not recorded: %s", rerr.msg);
	}
	json_decref(b.sr.facts);
	return ok;
}
