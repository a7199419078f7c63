/*
 * output oci: the image as an OCI image layout directory (image-spec 1.0):
 * oci-layout, index.json naming the manifest once per tag, under blobs/sha256/
 * the layers (the layer tars of ctx->layers, gzip-compressed by default, zstd if
 * args.compression says so: umoci 0.4 reads no zstd layers, skopeo 1.9 does),
 * the image config and the manifest (annotated with the
 * image's description, org.opencontainers.image.description). Each tag is an
 * index entry whose org.opencontainers.image.ref.name is the reference as
 * written ("dcsg/pixels-app:0.1", as skopeo and buildah write it, so
 * `skopeo inspect oci:DIR:dcsg/pixels-app:0.1` finds it); no tag is "latest".
 * Several images or tags written to one layout share it: the entries of the
 * layout already there are kept (with the blobs they need), except those with
 * a ref name this output writes, which it replaces in place. The layout is
 * built in a temporary directory beside the destination and swapped into
 * place under an flock of the parent directory, replacing a previous layout
 * there (a directory with an oci-layout file, or an empty one; any other
 * directory is refused).
 */
#include "output_impl.h"

#include "arena.h"
#include "path.h"
#include "plan_format.h"
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define REF_NAME "org.opencontainers.image.ref.name"
#define DESCRIPTION "org.opencontainers.image.description"
#define MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

enum { COPY_BUF = 1 << 20 };

/* Write buf as a file at path. */
static int write_file(const char *path, const void *buf, size_t len, struct rt_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error_errno(err, -errno, "create %s", path);
	int r = out_write_all(fd, buf, len, err);
	if (close(fd) < 0 && r >= 0)
		r = rt_error_errno(err, -errno, "close %s", path);
	return r;
}

/* A blob with buf's bytes; its descriptor {mediaType, digest, size} in *ret. */
static int blob_mem(const char *layout, const char *media_type, const void *buf, size_t len,
                    json_t **ret, struct rt_error *err)
{
	char hex[65];
	out_sha256_hex(buf, len, hex);
	char *path = xasprintf("%s/blobs/sha256/%s", layout, hex);
	int r = write_file(path, buf, len, err);
	free(path);
	if (r < 0)
		return r;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	*ret = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
	                 (json_int_t)len);
	return 0;
}

/* The layers' compression from args.compression ("gzip" when absent) and
 * args.compression_level (0 when absent: zstd's default, gzip's level for layers). */
static int layer_compression(const struct output_ctx *ctx, struct out_comp_settings *ret,
                             struct rt_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *c = json_string_value(out_arg(ctx, "compression"));
	if (!c || !strcmp(c, "gzip"))
		ret->comp = OUT_COMP_GZIP;
	else if (!strcmp(c, "zstd"))
		ret->comp = OUT_COMP_ZSTD;
	else
		return rt_error_set(err, -EINVAL, "compression '%s': expected gzip or zstd", c);
	json_t *level = out_arg(ctx, "compression_level");
	json_int_t v = json_is_integer(level) ? json_integer_value(level) : 0;
	json_int_t max = ret->comp == OUT_COMP_ZSTD ? 19 : 9;
	if (v < 0 || v > max)
		return rt_error_set(err, -EINVAL,
		                    "compression_level %lld: %s takes 1 to %lld (0: its default)",
		                    (long long)v, c ? c : "gzip", (long long)max);
	/* gzip layers: fast by default (output_impl.h) */
	ret->level = (int32_t)(v || ret->comp != OUT_COMP_GZIP ? v : OUT_GZIP_LAYER_LEVEL);
	return 0;
}

/*
 * The blob cache: a compressed layer is kept in CACHE/blobs/sha256/HEX, found by a
 * key of the uncompressed layer's digest and the compression settings
 * (CACHE/blobs/KEY.json holds its descriptor), so every output and image with the
 * layer compresses it once. The blob is hard-linked into the layout (copied across
 * file systems).
 */
static char *blob_key(const struct layer *l, const char *settings)
{
	char *text = xasprintf("%s\n%s", l->diff_id, settings);
	char h[65];
	cache_sha256_hex(text, strlen(text), h);
	free(text);
	return xstrdup(h);
}

/* Link (or copy) from into to. */
static int link_or_copy(const char *from, const char *to, struct rt_error *err)
{
	(void)unlink(to);
	if (link(from, to) == 0)
		return 0;
	return cache_copy_file(from, to, 0644, err);
}

/* 1 and *ret when the cache has the blob of key (put in the layout), else 0. */
static int blob_from_cache(const char *cache_dir, const char *key, const char *layout, json_t **ret)
{
	char *rp = xasprintf("%s/blobs/%s.json", cache_dir, key);
	json_t *d = json_load_file(rp, 0, NULL);
	free(rp);
	const char *digest = json_string_value(json_object_get(d, "digest"));
	json_int_t size = json_integer_value(json_object_get(d, "size"));
	struct stat sb;
	int r = 0;
	if (digest && !strncmp(digest, "sha256:", 7) && strlen(digest) == 71 &&
	    !strchr(digest + 7, '/')) {
		char *blob = xasprintf("%s/blobs/sha256/%s", cache_dir, digest + 7);
		char *to = xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
		struct rt_error lerr = {0};
		if (stat(blob, &sb) == 0 && (json_int_t)sb.st_size == size &&
		    link_or_copy(blob, to, &lerr) == 0) {
			/* used now (cache prune); not the blob: the layouts share its inode */
			char *rp2 = xasprintf("%s/blobs/%s.json", cache_dir, key);
			(void)utimensat(AT_FDCWD, rp2, NULL, 0);
			free(rp2);
			*ret = json_incref(d);
			r = 1;
		}
		free(blob);
		free(to);
	}
	json_decref(d);
	return r;
}

/* Keep the layout's blob (descriptor d) in the cache under key; failures only lose it. */
static void blob_to_cache(const char *cache_dir, const char *key, const char *layout, json_t *d)
{
	struct rt_error cerr = {0};
	const char *digest = json_string_value(json_object_get(d, "digest"));
	if (!digest || cache_mkdir(cache_dir, "blobs", &cerr) < 0 ||
	    cache_mkdir(cache_dir, "blobs/sha256", &cerr) < 0)
		return;
	char *from = xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
	char *blob = xasprintf("%s/blobs/sha256/%s", cache_dir, digest + 7);
	char *rp = xasprintf("%s/blobs/%s.json", cache_dir, key);
	if (access(blob, F_OK) == 0 || link_or_copy(from, blob, &cerr) == 0)
		(void)cache_write_json(rp, d, &cerr);
	free(from);
	free(blob);
	free(rp);
}

/* A compressed copy of layer l as a blob; its descriptor in *ret. */
static int blob_layer(const char *layout, const struct layer *l, const struct out_comp_settings *cs,
                      json_t **ret, struct rt_error *err)
{
	char *tmp = xasprintf("%s/blobs/sha256/.layer.tmp", layout);
	char *buf = xmalloc(COPY_BUF);
	struct out_sink sink = {0};
	int in = -1, out = -1, r;
	in = open(l->path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = rt_error_errno(err, -errno, "open layer %s", l->path);
		goto done;
	}
	(void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = rt_error_errno(err, -errno, "create %s", tmp);
		goto done;
	}
	if ((r = out_sink_init(&sink, out, (enum out_comp)cs->comp, cs->level, false, err)) < 0)
		goto done;
	for (;;) {
		ssize_t n = out_read(in, buf, COPY_BUF, l->path, err);
		if (n < 0) {
			r = (int)n;
			goto done;
		}
		if (n == 0)
			break;
		if ((r = out_sink_write(&sink, buf, (size_t)n, err)) < 0)
			goto done;
	}
	if ((r = out_sink_finish(&sink, err)) < 0)
		goto done;
	if (close(out) < 0) {
		out = -1;
		r = rt_error_errno(err, -errno, "close %s", tmp);
		goto done;
	}
	out = -1;
	char *path = xasprintf("%s/blobs/sha256/%s", layout, sink.out_hex);
	if (rename(tmp, path) < 0)
		r = rt_error_errno(err, -errno, "rename %s", tmp);
	free(path);
	if (r < 0)
		goto done;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", sink.out_hex);
	*ret = json_pack("{s:s, s:s, s:I}", "mediaType",
	                 cs->comp == OUT_COMP_ZSTD ? MT_LAYER_ZSTD : MT_LAYER_GZIP, "digest",
	                 digest, "size", (json_int_t)sink.out_bytes);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (r < 0)
		(void)unlink(tmp);
	out_sink_release(&sink);
	free(buf);
	free(tmp);
	return r;
}

/* The ref name for a tag: the reference as written ("dcsg/pixels-app:0.1", "1.0"), as
   skopeo and buildah write org.opencontainers.image.ref.name. */
static char *ref_name(const char *tag)
{
	return xstrdup(*tag ? tag : "latest");
}

static const char *entry_ref(json_t *entry)
{
	return json_string_value(json_object_get(json_object_get(entry, "annotations"), REF_NAME));
}

/* Put the blob of digest ("sha256:HEX") from the layout old into new (a hard link, or a
   copy on another file system); the blob's bytes in *ret_text when want_text. */
static int keep_blob(const char *old, const char *new, const char *digest, char **ret_text,
                     struct rt_error *err)
{
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		return rt_error_set(err, -EINVAL, "%s/index.json: a digest that is not sha256: %s",
		                    old, digest ? digest : "(none)");
	char *from = xasprintf("%s/blobs/sha256/%s", old, digest + 7);
	char *to = xasprintf("%s/blobs/sha256/%s", new, digest + 7);
	int r = 0;
	if (access(to, F_OK) != 0 && link(from, to) < 0) {
		const char *argv[] = {"cp", "--reflink=auto", from, to, NULL};
		int st = rt_run(argv, err);
		if (st != 0 && st >= 0)
			r = rt_error_set(err, -EIO, "cannot keep blob %s of %s", digest, old);
		else if (st < 0)
			r = st;
	}
	if (r == 0 && ret_text) {
		json_error_t je;
		json_t *j = json_load_file(from, 0, &je);
		*ret_text = j ? json_dumps(j, 0) : NULL;
		json_decref(j);
	}
	free(from);
	free(to);
	return r;
}

/* Keep what descriptor d of the layout old needs in new: its blob and, for a manifest or
   an index, the blobs they name. */
static int keep_desc(const char *old, const char *new, json_t *d, int depth, struct rt_error *err)
{
	const char *mt = json_string_value(json_object_get(d, "mediaType"));
	bool nested = mt && (!strcmp(mt, MT_MANIFEST) || !strcmp(mt, MT_INDEX) ||
	                     strstr(mt, "manifest") || strstr(mt, "image.index"));
	char *text = NULL;
	int r = keep_blob(old, new, json_string_value(json_object_get(d, "digest")),
	                  nested ? &text : NULL, err);
	if (r < 0 || !text || depth > 8) {
		free(text);
		return r;
	}
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	json_t *cfg = json_object_get(j, "config");
	if (cfg)
		r = keep_desc(old, new, cfg, depth + 1, err);
	static const char *const lists[] = {"layers", "manifests"};
	for (size_t k = 0; k < 2 && r >= 0; k++) {
		size_t i;
		json_t *x;
		json_array_foreach (json_object_get(j, lists[k]), i, x) {
			if ((r = keep_desc(old, new, x, depth + 1, err)) < 0)
				break;
		}
	}
	json_decref(j);
	return r;
}

/*
 * The index of the layout being written (dir) from the one at final, if any: its entries
 * in their order, the one with a ref name of ours replaced by ours (mine: descriptors with
 * their ref name), the others kept with their blobs; ours not there appended.
 */
static int merge_index(const char *final, const char *dir, json_t *mine, json_t *entries,
                       struct rt_error *err)
{
	char *path = xasprintf("%s/index.json", final);
	char *marker = xasprintf("%s/oci-layout", final);
	json_t *old = NULL;
	int r = 0;
	if (access(marker, F_OK) == 0 && access(path, F_OK) == 0) {
		json_error_t je;
		old = json_load_file(path, 0, &je);
		if (!old || !json_is_array(json_object_get(old, "manifests")))
			r = rt_error_set(err, -EINVAL,
			                 "%s: not an OCI index (line %d: %s); remove the layout or "
			                 "write to another path",
			                 path, je.line, old ? "no manifests" : je.text);
	}
	json_t *placed = json_object();
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(old, "manifests"), i, e) {
		if (r < 0)
			break;
		const char *ref = entry_ref(e);
		json_t *m = NULL;
		size_t k;
		json_t *x;
		json_array_foreach (mine, k, x) {
			if (ref && !strcmp(ref, entry_ref(x)))
				m = x;
		}
		if (m) {
			if (!json_object_get(placed, ref)) {
				json_array_append(entries, m);
				json_object_set_new(placed, ref, json_true());
			}
			continue;
		}
		if ((r = keep_desc(final, dir, e, 0, err)) < 0)
			break;
		json_array_append(entries, e);
	}
	json_array_foreach (mine, i, e) {
		if (r >= 0 && !json_object_get(placed, entry_ref(e))) {
			json_array_append(entries, e);
			json_object_set_new(placed, entry_ref(e), json_true());
		}
	}
	json_decref(placed);
	json_decref(old);
	free(path);
	free(marker);
	return r;
}

int output_oci(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp tmp = {0};
	json_t *tags = NULL, *config = NULL, *layers = json_array(), *desc = NULL;
	json_t *manifest = NULL, *index = NULL;
	char *text = NULL;
	size_t len;
	uint64_t total = 0;
	struct out_comp_settings cs;
	int r, lock_fd = -1;

	if (!ctx->nlayers) {
		r = rt_error_set(err, -EINVAL, "oci %s: the image has no layers", final);
		goto out;
	}
	if ((r = layer_compression(ctx, &cs, err)) < 0)
		goto out;
	if (!(tags = out_tags(ctx, err))) {
		r = err->code;
		goto out;
	}
	if ((r = out_tmp_dir(&tmp, final, "oci-layout", err)) < 0)
		goto out;
	char *blobs = xasprintf("%s/blobs", tmp.tmp), *sha = xasprintf("%s/blobs/sha256", tmp.tmp);
	if (mkdir(blobs, 0755) < 0 || mkdir(sha, 0755) < 0)
		r = rt_error_errno(err, -errno, "mkdir %s", sha);
	free(blobs);
	free(sha);
	if (r < 0)
		goto out;
	static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char *p = xasprintf("%s/oci-layout", tmp.tmp);
	r = write_file(p, layout_text, strlen(layout_text), err);
	free(p);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < ctx->nlayers; i++) {
		json_t *d = NULL;
		for (size_t j = 0; j < i && !d; j++) /* the same layer twice: one blob */
			if (!strcmp(ctx->layers[j].diff_id, ctx->layers[i].diff_id))
				d = json_copy(json_array_get(layers, j));
		/* the compression settings are part of the blob cache's key */
		char settings[64];
		out_comp_key((enum out_comp)cs.comp, (int)cs.level, settings, sizeof(settings));
		char *key = ctx->cache_dir ? blob_key(&ctx->layers[i], settings) : NULL;
		bool hit = !d && key && blob_from_cache(ctx->cache_dir, key, tmp.tmp, &d) == 1;
		if (!d && (r = blob_layer(tmp.tmp, &ctx->layers[i], &cs, &d, err)) < 0) {
			free(key);
			goto out;
		}
		if (key && !hit)
			blob_to_cache(ctx->cache_dir, key, tmp.tmp, d);
		free(key);
		json_array_append_new(layers, d);
		total += (uint64_t)json_integer_value(json_object_get(d, "size"));
	}
	if (!(config = out_image_config(ctx, err))) {
		r = err->code;
		goto out;
	}
	text = out_json_text(config, &len);
	if ((r = blob_mem(tmp.tmp, MT_CONFIG, text, len, &desc, err)) < 0)
		goto out;
	total += len;
	free(text);
	text = NULL;
	manifest = json_pack("{s:i, s:s, s:O, s:O}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
	                     "config", desc, "layers", layers);
	json_t *about = json_object_get(ctx->image, PLAN_K_DESCRIPTION);
	if (json_is_string(about) && *json_string_value(about))
		json_object_set_new(manifest, "annotations",
		                    json_pack("{s:O}", DESCRIPTION, about));
	json_decref(desc);
	desc = NULL;
	text = out_json_text(manifest, &len);
	if ((r = blob_mem(tmp.tmp, MT_MANIFEST, text, len, &desc, err)) < 0)
		goto out;
	total += len;
	free(text);
	text = NULL;

	json_t *entries = json_array(), *mine = json_array();
	index = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_INDEX, "manifests",
	                  entries);
	size_t i;
	json_t *tag;
	json_t *seen = json_object();
	json_array_foreach (tags, i, tag) {
		char *ref = ref_name(json_string_value(tag));
		if (!json_object_get(seen, ref)) {
			json_object_set_new(seen, ref, json_true());
			json_t *m = json_deep_copy(desc);
			json_object_set_new(m, "annotations", json_pack("{s:s}", REF_NAME, ref));
			json_array_append_new(mine, m);
		}
		free(ref);
	}
	json_decref(seen);
	/* other images and tags already in the layout stay; the parent directory's flock,
	   held until the new layout is in place, keeps two writers from losing an entry */
	char *parent = path_dirname(final);
	lock_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX) < 0) {
		close(lock_fd);
		lock_fd = -1;
	}
	r = merge_index(final, tmp.tmp, mine, entries, err);
	json_decref(mine);
	if (r < 0)
		goto out;
	text = out_json_text(index, &len);
	p = xasprintf("%s/index.json", tmp.tmp);
	r = write_file(p, text, len, err);
	free(p);
	if (r < 0)
		goto out;
	total += len + strlen(layout_text);
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	out_artifact_add(ctx, "oci", json_string_value(json_object_get(desc, "digest")), total,
	                 json_pack("{s:O}", "tags", tags));
out:
	free(text);
	json_decref(index);
	json_decref(manifest);
	json_decref(desc);
	json_decref(config);
	json_decref(layers);
	json_decref(tags);
	out_tmp_release(&tmp);
	if (lock_fd >= 0)
		close(lock_fd);
	free(final);
	return r;
}

const struct output_impl output_oci_impl = {"oci", output_oci};
