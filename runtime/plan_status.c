/*
 * plan_status: what apply would do; see plan_status.h. Keys come from cache.c
 * (cache_base_key, cache_stage_key) with the secrets each stage reads as keyed
 * hashes (secret.h); records and their differences from cache.c.
 */
#include "plan_status.h"

#include "hex.h"

#include "base.h"

#include "arena.h"
#include "builtins.h"
#include "cache.h"
#include "path.h"
#include "plan_format.h"
#include "plan_view.h"
#include "secret.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KILN_VERSION_TEXT "kiln " KILN_VERSION

/* What the keys of one computation share: the secret key, read once. */
struct keyer {
	const struct status_opts *o;
	unsigned char mac_key[SECRET_KEY_LEN];
	int mac_state;  /* 0 not read, 1 read, -1 absent or refused */
	char *mac_why;  /* why it was refused */
	json_t *params; /* name -> sha256 of each non-secret param's value */
	json_t *records;
};

/* The names of the secrets a stage reads: its tasks and the handlers they notify
   (and those these notify in turn). */
static json_t *stage_secret_names(json_t *stage, json_t *handlers)
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
	return names;
}

bool plan_status_reads_secret(json_t *stage, json_t *handlers)
{
	json_t *names = stage_secret_names(stage, handlers);
	bool yes = json_object_size(names) > 0;
	json_decref(names);
	return yes;
}

/* name -> keyed hash of each secret the stage reads; NULL when they cannot be hashed
   (no secret key: *why, or NULL when there is none yet). */
static json_t *stage_macs(struct keyer *k, json_t *stage, json_t *handlers, char **why)
{
	json_t *names = stage_secret_names(stage, handlers);
	json_t *macs = json_object();
	if (json_object_size(names) && k->mac_state == 0) {
		struct rt_error err = {0};
		int r = secret_key_load(k->o->cache_dir, k->o->create_key, k->mac_key, &err);
		k->mac_state = r < 0 ? -1 : 1;
		if (r < 0 && r != -ENOENT)
			k->mac_why = xstrdup(err.msg);
	}
	if (json_object_size(names) && k->mac_state < 0) {
		*why = k->mac_why ? xstrdup(k->mac_why) : NULL;
		json_decref(names);
		json_decref(macs);
		return NULL;
	}
	const char *name;
	json_t *t;
	json_object_foreach (names, name, t) {
		json_t *v = k->o->secrets ? json_object_get(k->o->secrets, name) : NULL;
		if (!json_is_string(v)) {
			*why = xasprintf("secret param '%s' has no value here", name);
			json_decref(names);
			json_decref(macs);
			return NULL;
		}
		char *mac = secret_mac(k->mac_key, name, json_string_value(v));
		json_object_set_new(macs, name, json_string(mac));
		free(mac);
	}
	json_decref(names);
	return macs;
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

/* ---- outputs ------------------------------------------------------------------------ */

/* A digest of what is at path: names, types, sizes, mtimes and inodes of it and of
   everything under it (contents are not read: as make and git's index do). NULL
   when nothing is there. */
static void fingerprint_walk(struct strbuf *sb, const char *path, const char *rel, int depth)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	sb_addf(sb, "%s\n%o %lld %lld.%09ld %llu\n", rel, (unsigned)st.st_mode,
	        (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	        (unsigned long long)st.st_ino);
	if (!S_ISDIR(st.st_mode) || depth > 16)
		return;
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		if (strcmp(d, ".") && strcmp(d, "..")) {
			char *child = xasprintf("%s/%s", path, d);
			char *crel = xasprintf("%s/%s", rel, d);
			fingerprint_walk(sb, child, crel, depth + 1);
			free(child);
			free(crel);
		}
		free(names[i]);
	}
	free(names);
}

static char *fingerprint(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	fingerprint_walk(&sb, path, ".", 0);
	char hexd[65];
	cache_sha256_hex(sb.buf ? sb.buf : "", sb.len, hexd);
	sb_release(&sb);
	return xstrdup(hexd);
}

static char *output_record_path(const char *cache_dir, const char *final)
{
	char h[65];
	cache_sha256_hex(final, strlen(final), h);
	return xasprintf("%s/outputs/%s.json", cache_dir, h);
}

/* The key of an output: the image's key, the image (its config, its other outputs),
   the output and SOURCE_DATE_EPOCH. */
static char *output_key(const char *image_key, json_t *img, json_t *out)
{
	json_t *v = json_pack("{s:s, s:s, s:O, s:O, s:s}", "kiln", KILN_VERSION_TEXT, "image_key",
	                      image_key, "image", img, "output", out, "epoch",
	                      getenv("SOURCE_DATE_EPOCH") ? getenv("SOURCE_DATE_EPOCH") : "");
	json_t *clean = json_deep_copy(v);
	json_decref(v);
	/* sources (positions in the files) do not change an output */
	json_object_del(json_object_get(clean, "image"), PLAN_K_SOURCE);
	json_object_del(json_object_get(clean, "output"), PLAN_K_SOURCE);
	char *s = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(clean);
	char h[65];
	cache_sha256_hex(s, strlen(s), h);
	free(s);
	return xstrdup(h);
}

static void output_state(const struct status_opts *o, struct output_status *os)
{
	if (!os->key) {
		os->why = xstrdup("the image is not cached");
		return;
	}
	char *rp = output_record_path(o->cache_dir, os->final);
	json_t *rec = json_load_file(rp, 0, NULL);
	free(rp);
	char *fp = fingerprint(os->final);
	const char *rkey = json_string_value(json_object_get(rec, "key"));
	const char *rfp = json_string_value(json_object_get(rec, "fingerprint"));
	const char *rpath = json_string_value(json_object_get(rec, "path"));
	if (!rec || !rkey || !rpath || strcmp(rpath, os->final))
		os->why = xstrdup("not written before");
	else if (!fp)
		os->why = xstrdup("missing");
	else if (strcmp(rkey, os->key))
		os->why = xstrdup("its image changed");
	else if (!rfp || strcmp(rfp, fp))
		os->why = xstrdup("changed since it was written");
	else
		os->current = true;
	free(fp);
	json_decref(rec);
}

int plan_status_outputs_written(const char *cache_dir, const struct image_status *is,
                                struct rt_error *err)
{
	int r = 0;
	for (size_t i = 0; i < is->noutputs && r >= 0; i++) {
		const struct output_status *os = &is->outputs[i];
		char *fp = os->key ? fingerprint(os->final) : NULL;
		if (!fp)
			continue;
		if ((r = cache_mkdir(cache_dir, "outputs", err)) < 0) {
			free(fp);
			break;
		}
		json_t *rec =
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "path", os->final, "key", os->key,
		              "fingerprint", fp, "image", is->name, "type", os->type);
		char *rp = output_record_path(cache_dir, os->final);
		r = cache_write_json(rp, rec, err);
		free(rp);
		json_decref(rec);
		free(fp);
	}
	return r;
}

/* ---- images ------------------------------------------------------------------------- */

static void image_stages(struct keyer *k, json_t *img, struct image_status *is,
                         const struct image_status *parent)
{
	const struct status_opts *o = k->o;
	struct plan_image iv = plan_image_view(img);
	char *prev = NULL;
	char *prev_why = NULL;
	json_t *base_rec = json_object();
	char *after = NULL;
	if (iv.from_image) {
		prev = parent && parent->key ? xstrdup(parent->key) : NULL;
		if (!prev)
			prev_why = xasprintf("image %s is not cached", iv.from_image);
		after = xasprintf("image %s", iv.from_image);
	} else {
		struct rt_error kerr = {0};
		json_t *from = json_object_get(img, PLAN_K_FROM);
		prev = cache_base_key(from, o->root, base_rec, &kerr);
		if (!prev)
			prev_why = xstrdup(kerr.msg[0] ? kerr.msg : "its base cannot be keyed");
		/* a registry tag: the key follows the digest it resolves to, not the tag */
		const char *bname = json_string_value(json_object_get(from, PLAN_K_BASE));
		char digest[72];
		struct base_ctx bc = {.cache_dir = o->cache_dir, .local_root = o->root};
		if (prev && bname && !strcmp(bname, "registry") &&
		    base_registry_resolve(&bc, from, digest, &kerr) == 0) {
			char *both = xasprintf("%s\n%s", prev, digest);
			char hex[65];
			sha256_hex(both, strlen(both), hex);
			free(both);
			free(prev);
			prev = xstrdup(hex);
			json_object_set_new(base_rec, "digest", json_string(digest));
		}
		if (prev) {
			is->base_key = xstrdup(prev);
			is->base_record = json_copy(base_rec);
			json_object_set_new(is->base_record, "kiln_version",
			                    json_string(KILN_VERSION));
			json_object_set_new(is->base_record, "image", json_string(is->name));
			json_object_set_new(is->base_record, "stage", json_string("(base)"));
			char *hit = !o->no_cache && !o->refresh_base
			                ? cache_lookup(o->cache_dir, prev)
			                : NULL;
			is->base_cached = hit != NULL;
			free(hit);
		}
		after = xstrdup("base");
	}
	bool miss = false;
	const char *first_built = NULL;
	size_t i;
	json_t *stage;
	is->nstages = json_array_size(iv.stages);
	is->stages = xcalloc(is->nstages ? is->nstages : 1, sizeof(*is->stages));
	json_array_foreach (iv.stages, i, stage) {
		struct stage_status *ss = &is->stages[i];
		ss->name = plan_block_view(stage).name;
		if (prev && has_local_task(stage)) {
			free(prev);
			prev = NULL;
			prev_why =
			    xasprintf("stage %s has a 'local' task (never cached)", ss->name);
		}
		if (prev) {
			char *why = NULL;
			json_t *macs = stage_macs(k, stage, iv.handlers, &why);
			if (macs) {
				struct rt_error kerr = {0};
				json_t *rec = i == 0 ? json_copy(base_rec) : json_object();
				ss->key = cache_stage_key(prev, stage, iv.handlers, macs, o->root,
				                          rec, &kerr);
				if (ss->key) {
					json_object_set_new(rec, "image", json_string(is->name));
					json_object_set_new(rec, "stage", json_string(ss->name));
					json_object_set_new(rec, "after", json_string(after));
					json_object_set(rec, "params", k->params);
					ss->record = json_incref(rec);
				} else {
					why = xstrdup(kerr.msg);
				}
				json_decref(rec);
			} else if (!why) {
				why = xstrdup("not built before");
			}
			json_decref(macs);
			free(prev);
			prev = ss->key ? xstrdup(ss->key) : NULL;
			if (!prev)
				prev_why = why;
			else
				free(why);
		}
		free(after);
		after = xasprintf("stage %s", ss->name);
		char *hit = ss->key && !miss && !o->no_cache && !o->refresh_base
		                ? cache_lookup(o->cache_dir, ss->key)
		                : NULL;
		if (hit) {
			ss->cached = true;
			free(hit);
			continue;
		}
		if (o->refresh_base)
			ss->why = xstrdup("--refresh-base");
		else if (o->no_cache)
			ss->why = xstrdup("--no-cache");
		else if (!ss->key)
			ss->why = xstrdup(prev_why ? prev_why : "not cached");
		else if (miss)
			ss->why = xasprintf("stage %s is built before it", first_built);
		else
			ss->why = cache_record_diff(
			    cache_latest_record(k->records, is->name, ss->name), ss->record);
		if (!miss)
			first_built = ss->name;
		miss = true;
	}
	free(after);
	free(prev_why);
	json_decref(base_rec);
	is->key = prev; /* the last stage's key, or the base's without stages */
}

static void image_outputs(const struct status_opts *o, json_t *img, struct image_status *is)
{
	struct plan_image iv = plan_image_view(img);
	is->noutputs = json_array_size(iv.outputs);
	is->outputs = xcalloc(is->noutputs ? is->noutputs : 1, sizeof(*is->outputs));
	bool stages_cached = true;
	for (size_t i = 0; i < is->nstages; i++)
		stages_cached &= is->stages[i].cached;
	size_t i;
	json_t *out;
	json_array_foreach (iv.outputs, i, out) {
		struct plan_output ov = plan_output_view(out);
		struct output_status *os = &is->outputs[i];
		os->type = ov.type;
		os->path = ov.path;
		char *local = path_from_root(o->root, ov.path ? ov.path : "");
		os->final = path_normalize(local);
		free(local);
		os->key = is->key ? output_key(is->key, img, out) : NULL;
		if (o->no_cache || o->refresh_base)
			os->why = xstrdup(o->no_cache ? "--no-cache" : "--refresh-base");
		else
			output_state(o, os);
	}
	bool all = stages_cached && is->key;
	for (i = 0; i < is->noutputs; i++)
		all &= is->outputs[i].current;
	is->current = all;
	/* an image that is not current writes all its outputs (checksum and manifest
	   cover the others) */
	for (i = 0; i < is->noutputs && !all; i++) {
		if (is->outputs[i].current) {
			is->outputs[i].current = false;
			is->outputs[i].why =
			    xstrdup(stages_cached ? "another output of the image is written"
			                          : "its image is built");
		}
	}
}

static json_t *param_digests(json_t *plan)
{
	json_t *d = json_object();
	const char *name;
	json_t *p;
	json_object_foreach (json_object_get(plan, PLAN_K_PARAMS), name, p) {
		if (json_object_get(p, PLAN_K_SECRET))
			continue; /* a secret is in the stage's key as a keyed hash only */
		char *s =
		    json_dumps(json_object_get(p, PLAN_K_VALUE) ? json_object_get(p, PLAN_K_VALUE)
		                                                : json_null(),
		               JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		char h[65];
		cache_sha256_hex(s ? s : "", s ? strlen(s) : 0, h);
		free(s);
		json_object_set_new(d, name, json_string(h));
	}
	return d;
}

int plan_status_compute(json_t *plan, const struct status_opts *o, struct plan_status *ret,
                        struct rt_error *err)
{
	(void)err;
	*ret = (struct plan_status){0};
	struct keyer k = {.o = o,
	                  .params = param_digests(plan),
	                  .records = cache_records(o->cache_dir, "stages")};
	json_t *images = plan_images(plan);
	ret->nimages = json_array_size(images);
	ret->images = xcalloc(ret->nimages ? ret->nimages : 1, sizeof(*ret->images));
	size_t i;
	json_t *img;
	json_array_foreach (images, i, img) {
		struct image_status *is = &ret->images[i];
		struct plan_image iv = plan_image_view(img);
		is->name = iv.name;
		is->from_image = iv.from_image;
		image_stages(&k, img, is,
		             iv.from_image ? plan_status_image(ret, iv.from_image) : NULL);
		image_outputs(o, img, is);
	}
	/* every layer of an image's tree in the cache (parents come first) */
	for (i = 0; i < ret->nimages; i++) {
		struct image_status *is = &ret->images[i];
		struct image_status *p =
		    is->from_image ? plan_status_image(ret, is->from_image) : NULL;
		bool all = p ? p->chain_cached : is->base_cached;
		for (size_t j = 0; j < is->nstages; j++)
			all &= is->stages[j].cached;
		is->chain_cached = all;
	}
	/* needed: not current, or an image built from it needs its tree, which cannot be
	   unpacked from the cache (children come after their parents in the plan) */
	for (size_t n = ret->nimages; n-- > 0;) {
		struct image_status *is = &ret->images[n];
		is->needed = is->needed || !is->current;
		struct image_status *p =
		    is->from_image ? plan_status_image(ret, is->from_image) : NULL;
		if (p && is->needed && !p->chain_cached)
			p->needed = true;
	}
	for (i = 0; i < ret->nimages; i++) {
		struct image_status *is = &ret->images[i];
		for (size_t j = 0; j < is->nstages; j++)
			is->stages[j].cached ? ret->cached++ : ret->to_build++;
		for (size_t j = 0; j < is->noutputs; j++)
			is->outputs[j].current ? ret->up_to_date++ : ret->to_write++;
	}
	size_t j;
	json_t *ap;
	json_array_foreach (json_object_get(plan, PLAN_K_APPLIES), j, ap) {
		ret->apply_tasks += (unsigned)json_array_size(plan_apply_view(ap).tasks);
	}
	explicit_bzero(k.mac_key, sizeof(k.mac_key));
	ret->key_note = k.mac_why;
	json_decref(k.params);
	json_decref(k.records);
	return 0;
}

struct image_status *plan_status_image(struct plan_status *s, const char *name)
{
	for (size_t i = 0; name && i < s->nimages; i++)
		if (s->images[i].name && !strcmp(s->images[i].name, name))
			return &s->images[i];
	return NULL;
}

void plan_status_release(struct plan_status *s)
{
	for (size_t i = 0; i < s->nimages; i++) {
		struct image_status *is = &s->images[i];
		for (size_t j = 0; j < is->nstages; j++) {
			free(is->stages[j].key);
			free(is->stages[j].why);
			json_decref(is->stages[j].record);
		}
		for (size_t j = 0; j < is->noutputs; j++) {
			free(is->outputs[j].key);
			free(is->outputs[j].why);
			free(is->outputs[j].final);
		}
		free(is->stages);
		free(is->outputs);
		free(is->key);
		free(is->base_key);
		json_decref(is->base_record);
	}
	free(s->images);
	free(s->key_note);
	*s = (struct plan_status){0};
}

bool plan_status_pending(const struct plan_status *s)
{
	return s->to_build || s->to_write || s->apply_tasks;
}

static const char *plural(unsigned n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void plan_status_print(FILE *out, const struct plan_status *s, bool color)
{
	const char *green = color ? "\033[32m" : "", *yellow = color ? "\033[33m" : "",
	           *dim = color ? "\033[2m" : "", *off = color ? "\033[0m" : "";
	fprintf(out, "\nCache:\n");
	for (size_t i = 0; i < s->nimages; i++) {
		const struct image_status *is = &s->images[i];
		for (size_t j = 0; j < is->nstages; j++) {
			const struct stage_status *ss = &is->stages[j];
			if (ss->cached)
				fprintf(out, "  %s=%s stage  %s/%s  cached %s(%.12s)%s\n", green,
				        off, is->name, ss->name, dim, ss->key, off);
			else
				fprintf(out, "  %s+%s stage  %s/%s  to build: %s\n", yellow, off,
				        is->name, ss->name, ss->why);
		}
		for (size_t j = 0; j < is->noutputs; j++) {
			const struct output_status *os = &is->outputs[j];
			if (os->current)
				fprintf(out, "  %s=%s output %s %s  up to date\n", green, off,
				        os->type, os->path);
			else
				fprintf(out, "  %s~%s output %s %s  to write: %s\n", yellow, off,
				        os->type, os->path, os->why);
		}
	}
	fprintf(out, "\nPlan: %u %s to build, %u cached; %u %s to write, %u up to date",
	        s->to_build, plural(s->to_build, "stage", "stages"), s->cached, s->to_write,
	        plural(s->to_write, "output", "outputs"), s->up_to_date);
	if (s->apply_tasks)
		fprintf(out, "; %u apply %s to run", s->apply_tasks,
		        plural(s->apply_tasks, "task", "tasks"));
	fprintf(out, "\n%sLegend: = cached or up to date, + stage to build, ~ output to write%s\n",
	        dim, off);
}
