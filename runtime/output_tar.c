/*
 * output tar: the finished root filesystem (ctx->rootfs_dir) as one tar
 * archive, compressed as args.compression says or, for "auto", as the
 * path's extension says: .gz and .tgz gzip (libdeflate, level 6), .zst and .tzst
 * zstd (level 3, with a checksum), else none.
 * Entries as in a layer (layer.c): sorted, numeric owners, mtimes clamped
 * to the image time. The artifact's digest is the sha256 of the file.
 *
 * A compressed tarball is a sequence of chunks, each compressed on its own (a
 * zstd frame, a gzip member: every decompressor reads them as one stream),
 * each holding whole tar entries, the end of the archive a chunk of its own.
 * Where a chunk ends depends on the entries only, never on the cache: after
 * entry E when the chunk holds at least CHUNK_MIN bytes of tar and the hash of
 * E's path has its low bits zero (one entry in CHUNK_ODDS), or when it holds
 * CHUNK_MAX bytes. Deciding on the entry that ends the chunk, not on the next
 * one, makes a chunk's extent a function of its own entries: when a build changes
 * a few paths, the chunks around them change, and from the first boundary after
 * them (a hash boundary: about CHUNK_ODDS entries on) the chunks are the same
 * as before. The tree's last entries end a chunk because the tree ends there:
 * such a chunk is never reused (in a tree that grew it would have gone on).
 *
 * Reuse: each compressed chunk is kept in the cache's blob store (cache.h:
 * cache_blob_*) under the sha256 of its tar bytes and the compression
 * settings, and the list of the tarball's chunks (first and last path, tar
 * digest) is recorded under the diff_ids of the image's layers, with an index
 * by every prefix of them (CACHE/tarchunks). A rebuild finds the list of the
 * longest common prefix of layers; the paths that can differ between that tree
 * and this one are those of the layers past the common prefix, the old ones
 * and the new ones (each path with everything below it: a whiteout or a file
 * that replaced a directory removes a subtree). Writing the tree, a chunk that
 * would start at the first path of a recorded chunk whose range holds no such
 * path has the same entries, so the same tar bytes: its compressed bytes are
 * copied from the cache (checked against their digest while copied) and its
 * entries are walked past unread. The bytes written are those of a clean build
 * whatever the cache held: a chunk's bytes depend on its entries and the
 * settings only; a cached chunk that does not match its digest (or a walk that
 * disagrees with the list) makes the whole tarball be written again without
 * reuse. The list needs the layers (an image with an oci or docker-archive
 * output has them); without them the tarball is chunked all the same, not reused.
 * The cache's files for this (blobs, their records, lists, indexes, paths) are
 * written without fsync: a crash can only lose them (a recompression) or leave
 * one that does not parse or does not match its digest (the same).
 */
#include "output_impl.h"

#include "arena.h"
#include "atomic.h"
#include "cache.h"
#include "hex.h"
#include "path.h"
#include "strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	CHUNK_MIN = 2 << 20,  /* a chunk ends at a hash boundary once it holds this much tar */
	CHUNK_MAX = 16 << 20, /* ... and after the entry that takes it past this */
	CHUNK_ODDS = 16,      /* one path in this many is a hash boundary (a power of 2) */
	COPY_BUF = 1 << 20,
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int pick_compression(const struct output_ctx *ctx, const char *path, enum out_comp *ret,
                            struct rt_error *err)
{
	const char *c = json_string_value(out_arg(ctx, "compression"));
	if (!c || !strcmp(c, "auto")) {
		if (ends_with(path, ".gz") || ends_with(path, ".tgz"))
			*ret = OUT_COMP_GZIP;
		else if (ends_with(path, ".zst") || ends_with(path, ".tzst"))
			*ret = OUT_COMP_ZSTD;
		else
			*ret = OUT_COMP_NONE;
	} else if (!strcmp(c, "none")) {
		*ret = OUT_COMP_NONE;
	} else if (!strcmp(c, "gzip")) {
		*ret = OUT_COMP_GZIP;
	} else if (!strcmp(c, "zstd")) {
		*ret = OUT_COMP_ZSTD;
	} else {
		return rt_error_set(err, -EINVAL,
		                    "compression '%s': expected auto, none, gzip or zstd", c);
	}
	return 0;
}

/* FNV-1a of a path: whether it is a hash boundary. */
static bool hash_boundary(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return ((h >> 17) & (CHUNK_ODDS - 1)) == 0;
}

/* ---- the paths of layers ---------------------------------------------------------------- */

/* Append the paths a layer tar changes to list: entries, whiteouts' targets, opaque
   directories (names relative to the root, no trailing '/'). */
static int layer_paths(const char *tar, json_t *list, struct rt_error *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return rt_error_set(err, -ENOMEM, "libarchive: cannot create a reader");
	archive_read_support_format_tar(a);
	int r = 0;
	if (archive_read_open_filename(a, tar, 1 << 16) != ARCHIVE_OK) {
		r = rt_error_set(err, -EIO, "%s: %s", tar, archive_error_string(a));
		goto out;
	}
	struct archive_entry *e;
	struct strbuf sb = STRBUF_INIT;
	int ar;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *p = archive_entry_pathname(e);
		if (!p)
			continue;
		while (!strncmp(p, "./", 2))
			p += 2;
		while (*p == '/')
			p++;
		sb_reset(&sb);
		sb_adds(&sb, p);
		while (sb.len && sb.buf[sb.len - 1] == '/')
			sb.buf[--sb.len] = '\0';
		char *slash = strrchr(sb.buf, '/');
		char *base = slash ? slash + 1 : sb.buf;
		if (!strcmp(base, ".wh..wh..opq")) {
			sb.len = slash ? (size_t)(slash - sb.buf) : 0;
			sb.buf[sb.len] = '\0';
		} else if (!strncmp(base, ".wh.", 4)) {
			memmove(base, base + 4, strlen(base + 4) + 1);
			sb.len -= 4;
		}
		if (sb.len)
			json_array_append_new(list, json_string(sb.buf));
		(void)archive_read_data_skip(a);
	}
	sb_release(&sb);
	if (ar != ARCHIVE_EOF)
		r = rt_error_set(err, -EIO, "%s: %s", tar, archive_error_string(a));
out:
	archive_read_free(a);
	return r;
}

/* CACHE/tarchunks/paths/HEX of a diff_id ("sha256:HEX"), malloc'd. */
static char *paths_file(const char *cache_dir, const char *diff_id)
{
	const char *h = strchr(diff_id, ':');
	return xasprintf("%s/tarchunks/paths/%s", cache_dir, h ? h + 1 : diff_id);
}

/* The changed paths of layer l: from the cache when listed before, else read from its tar
   (and kept). NULL when neither can be had. */
static json_t *layer_paths_cached(const char *cache_dir, const char *diff_id, const char *tar)
{
	char *pf = paths_file(cache_dir, diff_id);
	json_t *v = json_load_file(pf, 0, NULL);
	if (!json_is_array(v) && tar) {
		json_decref(v);
		v = json_array();
		struct rt_error e = {0};
		if (layer_paths(tar, v, &e) < 0) {
			json_decref(v);
			v = NULL;
		} else if (cache_mkdir(cache_dir, "tarchunks", &e) >= 0 &&
		           cache_mkdir(cache_dir, "tarchunks/paths", &e) >= 0) {
			(void)cache_write_json_flags(pf, v, ATOMIC_NO_SYNC, &e);
		}
	}
	free(pf);
	if (!json_is_array(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- the writer ------------------------------------------------------------------------ */

struct tarw {
	const struct output_ctx *ctx;
	int fd;              /* the output */
	int cfd;             /* the chunk being compressed: a temporary file */
	const char *tmp_dir; /* where the chunks are compressed (the cache's blobs, if any) */
	struct out_comp_settings cs;
	char settings[160]; /* what the compressed bytes depend on besides the tar bytes */
	const char *cache_dir;
	EVP_MD_CTX *md, *cmd; /* the file's sha256; a copied chunk's */
	uint64_t off;         /* bytes in the file */
	uint64_t tar_bytes;
	struct out_tar tar;
	struct out_sink sink;
	bool open; /* a chunk is being written */
	struct strbuf first, last;
	/* reuse */
	json_t *old;    /* the recorded chunks of the tree of the common layers, or NULL */
	char **changed; /* paths that may differ from that tree, in walk order */
	size_t nchanged;
	const char *skip_last; /* walking past a copied chunk up to this path */
	bool skip_links;       /* ... which holds the first name of a hard-linked inode */
	unsigned links;        /* such first names in the chunk being written */
	json_t *chunks;        /* this tarball's list */
	unsigned reused, written;
	uint64_t reused_bytes;
	unsigned char *buf;
};

static void chunk_settings(const struct tarw *w, char *buf, size_t cap, int64_t epoch)
{
	/* the compressor by name and version (out_comp_key): another one's bytes differ */
	char comp[96];
	out_comp_key((enum out_comp)w->cs.comp, (int)w->cs.level, comp, sizeof(comp));
	snprintf(buf, cap, "tar-chunk v1 %s epoch=%lld", comp, (long long)epoch);
}

/* An unnamed file for a chunk's compressed bytes in dir (O_TMPFILE, else a name
   removed at once); -errno on failure. */
static int chunk_tmpfile(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd >= 0 ? fd : -errno;
	char *t = xasprintf("%s/.kiln-chunk-XXXXXX", dir);
	fd = mkostemp(t, O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		(void)unlink(t);
	free(t);
	return fd >= 0 ? fd : -e;
}

static int chunk_open(struct tarw *w, const char *path, struct rt_error *err)
{
	w->cfd = chunk_tmpfile(w->tmp_dir);
	if (w->cfd < 0)
		return rt_error_errno(err, w->cfd, "create a temporary file in %s", w->tmp_dir);
	int r = out_sink_init(&w->sink, w->cfd, (enum out_comp)w->cs.comp, w->cs.level, true, err);
	if (r < 0)
		return r;
	w->tar.sink = &w->sink;
	w->open = true;
	w->links = 0;
	sb_reset(&w->first);
	sb_adds(&w->first, path);
	return 0;
}

/* End the chunk being written: its compressed bytes appended to the output (and its
   digest), kept in the cache, listed (not the archive's end: trailer). by_rule: it ended
   at a boundary, not at the tree's end. */
static int chunk_close(struct tarw *w, bool by_rule, bool trailer, struct rt_error *err)
{
	int r = out_sink_finish(&w->sink, err);
	w->open = false;
	uint64_t len = w->sink.out_bytes;
	for (uint64_t at = 0; r >= 0 && at < len;) {
		size_t k = len - at < COPY_BUF ? (size_t)(len - at) : COPY_BUF;
		ssize_t n = pread(w->cfd, w->buf, k, (off_t)at);
		if (n < 0 && errno == EINTR && !rt_interrupted)
			continue;
		if (n <= 0) {
			r = n < 0 ? rt_error_errno(err, -errno, "read a compressed chunk back")
			          : rt_error_set(err, -EIO, "a compressed chunk shrank");
			break;
		}
		EVP_DigestUpdate(w->md, w->buf, (size_t)n);
		r = out_write_all(w->fd, w->buf, (size_t)n, err);
		at += (uint64_t)n;
	}
	if (r >= 0 && !trailer && w->cache_dir) {
		/* kept by content: a name made at once with all the bytes; the digest is checked
		   when it is used, so a crash that loses them costs a recompression only */
		struct rt_error ce = {0};
		char *key = cache_blob_key(w->sink.in_hex, w->settings);
		char *bp = cache_blob_path(w->cache_dir, w->sink.out_hex);
		char *proc = xasprintf("/proc/self/fd/%d", w->cfd);
		if ((linkat(AT_FDCWD, proc, AT_FDCWD, bp, AT_SYMLINK_FOLLOW) == 0 ||
		     errno == EEXIST))
			(void)cache_blob_record(w->cache_dir, key, w->sink.out_hex, len,
			                        "tar chunk", &ce);
		free(proc);
		free(bp);
		free(key);
	}
	close(w->cfd);
	w->cfd = -1;
	if (r < 0)
		return r;
	w->off += len;
	w->tar_bytes += w->sink.in_bytes;
	if (!trailer) {
		char digest[80];
		snprintf(digest, sizeof(digest), "sha256:%s", w->sink.out_hex);
		json_array_append_new(
		    w->chunks, json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:b}", "first",
		                         w->first.buf, "last", w->last.buf, "tar", w->sink.in_hex,
		                         "tar_size", (json_int_t)w->sink.in_bytes, "digest", digest,
		                         "size", (json_int_t)len, "boundary", by_rule));
		w->written++;
	}
	out_sink_release(&w->sink);
	return 0;
}

/* Whether a path in the list of changed ones is in [first, last] or holds first below it. */
static bool range_touched(const struct tarw *w, const char *first, const char *last)
{
	size_t lo = 0, hi = w->nchanged;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (layer_path_cmp(w->changed[mid], first) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->nchanged && layer_path_cmp(w->changed[lo], last) <= 0)
		return true;
	/* an ancestor of first: its subtree (which holds first) may differ */
	char *anc = xstrdup(first);
	bool hit = false;
	for (char *s = strrchr(anc, '/'); s && !hit; s = strrchr(anc, '/')) {
		*s = '\0';
		size_t l = 0, h = w->nchanged;
		while (l < h && !hit) {
			size_t mid = l + (h - l) / 2;
			int c = layer_path_cmp(w->changed[mid], anc);
			if (!c)
				hit = true;
			else if (c < 0)
				l = mid + 1;
			else
				h = mid;
		}
	}
	free(anc);
	return hit;
}

/* The recorded chunk that starts at path, or NULL. */
static json_t *old_chunk_at(const struct tarw *w, const char *path)
{
	size_t lo = 0, hi = json_array_size(w->old);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		json_t *c = json_array_get(w->old, mid);
		const char *f = json_string_value(json_object_get(c, "first"));
		int cmp = f ? layer_path_cmp(f, path) : -1;
		if (!cmp)
			return c;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Copy the cached compressed chunk c into the output when it can stand for the entries
   from path on: 1 (copied), 0 (not reusable), < 0 (-EAGAIN: the cache's bytes are not the
   recorded ones; the tarball is written again without reuse). */
static int try_reuse(struct tarw *w, const char *path, struct rt_error *err)
{
	json_t *c = old_chunk_at(w, path);
	const char *last = json_string_value(json_object_get(c, "last"));
	const char *tar = json_string_value(json_object_get(c, "tar"));
	const char *digest = json_string_value(json_object_get(c, "digest"));
	json_int_t size = json_integer_value(json_object_get(c, "size"));
	if (!c || !last || !tar || !digest || strncmp(digest, "sha256:", 7) ||
	    strlen(digest) != 71 || size <= 0 || !json_is_true(json_object_get(c, "boundary")) ||
	    range_touched(w, path, last))
		return 0;
	char *key = cache_blob_key(tar, w->settings);
	uint64_t have = 0;
	char *blob = cache_blob_find(w->cache_dir, key, digest + 7, &have);
	free(key);
	int fd = blob && have == (uint64_t)size ? open(blob, O_RDONLY | O_CLOEXEC) : -1;
	free(blob);
	if (fd < 0)
		return 0;
	EVP_DigestInit_ex(w->cmd, EVP_sha256(), NULL);
	uint64_t left = (uint64_t)size;
	int r = 0;
	while (left > 0 && r >= 0) {
		ssize_t n = out_read(fd, w->buf, left < COPY_BUF ? (size_t)left : COPY_BUF,
		                     "a cached tar chunk", err);
		if (n <= 0) {
			r = n < 0 ? (int)n
			          : rt_error_set(err, -EAGAIN, "a cached tar chunk shrank");
			break;
		}
		EVP_DigestUpdate(w->cmd, w->buf, (size_t)n);
		EVP_DigestUpdate(w->md, w->buf, (size_t)n);
		r = out_write_all(w->fd, w->buf, (size_t)n, err);
		left -= (uint64_t)n;
	}
	close(fd);
	if (r < 0)
		return r;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dn = 0;
	char hexd[65];
	EVP_DigestFinal_ex(w->cmd, d, &dn);
	hex_encode(d, 32, hexd);
	if (strcmp(hexd, digest + 7))
		return rt_error_set(err, -EAGAIN, "cached tar chunk %.19s: its bytes changed",
		                    digest);
	w->off += (uint64_t)size;
	w->tar_bytes += (uint64_t)json_integer_value(json_object_get(c, "tar_size"));
	json_array_append(w->chunks, c);
	w->reused++;
	w->reused_bytes += (uint64_t)size;
	w->skip_last = strcmp(path, last) ? last : NULL;
	json_t *links = json_object_get(c, "links");
	w->skip_links = !json_is_integer(links) || json_integer_value(links) != 0;
	return 1;
}

/* Whether everything below directory dir sorts before last (so it is all in the chunk
   that ends there): last is not dir or below it, and sorts after dir. */
static bool tree_before(const char *dir, const char *last)
{
	size_t n = strlen(dir);
	if (!strncmp(last, dir, n) && (last[n] == '/' || !last[n]))
		return false;
	return layer_path_cmp(dir, last) < 0;
}

static int hook_before(void *data, const char *path, bool is_dir, int *skip, struct rt_error *err)
{
	struct tarw *w = data;
	if (w->skip_last) {
		int c = layer_path_cmp(path, w->skip_last);
		if (c > 0)
			return rt_error_set(
			    err, -EAGAIN, "a reused tar chunk ends at /%s, not seen", w->skip_last);
		/* a directory wholly inside a chunk without hard links is not walked */
		*skip = is_dir && !w->skip_links && tree_before(path, w->skip_last)
		            ? LAYER_SKIP_TREE
		            : LAYER_SKIP;
		if (!c)
			w->skip_last = NULL;
		return 0;
	}
	if (w->open)
		return 0;
	if (w->old) {
		int r = try_reuse(w, path, err);
		if (r < 0)
			return r;
		if (r > 0) {
			*skip = is_dir && w->skip_last && !w->skip_links &&
			                tree_before(path, w->skip_last)
			            ? LAYER_SKIP_TREE
			            : LAYER_SKIP;
			return 0;
		}
	}
	return chunk_open(w, path, err);
}

static void hook_linked(void *data, const char *path)
{
	struct tarw *w = data;
	(void)path;
	w->links++;
}

static int hook_after(void *data, const char *path, struct rt_error *err)
{
	struct tarw *w = data;
	sb_reset(&w->last);
	sb_adds(&w->last, path);
	uint64_t n = w->sink.in_bytes;
	if (n >= CHUNK_MAX || (n >= CHUNK_MIN && hash_boundary(path)))
		return chunk_close(w, true, false, err);
	return 0;
}

/* hex sha256 of the settings and the first n diff_ids (malloc'd). */
static char *layers_key(const struct tarw *w, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, w->settings);
	for (size_t i = 0; i < n; i++) {
		sb_addc(&sb, '\n');
		sb_adds(&sb, w->ctx->layers[i].diff_id);
	}
	char h[65];
	cache_sha256_hex(sb.buf, sb.len, h);
	sb_release(&sb);
	return xstrdup(h);
}

static const char *str_or(json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static int cmp_path_ptr(const void *a, const void *b)
{
	return layer_path_cmp(*(char *const *)a, *(char *const *)b);
}

/* Find the recorded list of the longest common prefix of layers, and the paths that may
   differ from its tree. Leaves w->old NULL when there is none. */
static void find_old(struct tarw *w, json_t **ret_rec)
{
	const struct output_ctx *ctx = w->ctx;
	json_t *rec = NULL;
	for (size_t i = ctx->nlayers; i > 0 && !rec; i--) {
		char *k = layers_key(w, i);
		char *ip = xasprintf("%s/tarchunks/prefix/%s", w->cache_dir, k);
		free(k);
		json_t *idx = json_load_file(ip, 0, NULL);
		free(ip);
		const char *name = json_string_value(json_object_get(idx, "list"));
		if (name && strspn(name, "0123456789abcdef") == 64 && strlen(name) == 64) {
			char *rp = xasprintf("%s/tarchunks/%s.json", w->cache_dir, name);
			rec = json_load_file(rp, 0, NULL);
			free(rp);
		}
		json_decref(idx);
	}
	json_t *layers = json_object_get(rec, "layers");
	if (!rec || !json_is_array(layers) ||
	    strcmp(str_or(json_object_get(rec, "settings")), w->settings)) {
		json_decref(rec);
		return;
	}
	size_t common = 0;
	while (common < ctx->nlayers && common < json_array_size(layers) &&
	       !strcmp(str_or(json_array_get(layers, common)), ctx->layers[common].diff_id))
		common++;
	json_t *changed = json_array();
	bool ok = true;
	for (size_t i = common; i < json_array_size(layers) && ok; i++) {
		const char *id = json_string_value(json_array_get(layers, i));
		json_t *p = id ? layer_paths_cached(w->cache_dir, id, NULL) : NULL;
		ok = p != NULL;
		json_array_extend(changed, p);
		json_decref(p);
	}
	for (size_t i = common; i < ctx->nlayers && ok; i++) {
		json_t *p =
		    layer_paths_cached(w->cache_dir, ctx->layers[i].diff_id, ctx->layers[i].path);
		ok = p != NULL;
		json_array_extend(changed, p);
		json_decref(p);
	}
	if (ok) {
		w->nchanged = json_array_size(changed);
		w->changed = xmalloc((w->nchanged + 1) * sizeof(*w->changed));
		for (size_t i = 0; i < w->nchanged; i++)
			w->changed[i] = xstrdup(json_string_value(json_array_get(changed, i)));
		qsort(w->changed, w->nchanged, sizeof(*w->changed), cmp_path_ptr);
		w->old = json_object_get(rec, "chunks");
		*ret_rec = rec;
	} else {
		json_decref(rec);
	}
	json_decref(changed);
}

/* Record this tarball's chunks under its layers, indexed by every prefix of them, and
   list each layer's paths for the rebuilds to come. Failures only lose the record. */
static void record_chunks(struct tarw *w)
{
	const struct output_ctx *ctx = w->ctx;
	struct rt_error e = {0};
	if (!ctx->nlayers || cache_mkdir(w->cache_dir, "tarchunks", &e) < 0 ||
	    cache_mkdir(w->cache_dir, "tarchunks/prefix", &e) < 0)
		return;
	json_t *layers = json_array();
	for (size_t i = 0; i < ctx->nlayers; i++) {
		json_array_append_new(layers, json_string(ctx->layers[i].diff_id));
		json_decref(
		    layer_paths_cached(w->cache_dir, ctx->layers[i].diff_id, ctx->layers[i].path));
	}
	char *name = layers_key(w, ctx->nlayers);
	json_t *rec = json_pack("{s:s, s:o, s:O}", "settings", w->settings, "layers", layers,
	                        "chunks", w->chunks);
	char *rp = xasprintf("%s/tarchunks/%s.json", w->cache_dir, name);
	if (cache_write_json_flags(rp, rec, ATOMIC_NO_SYNC, &e) >= 0) {
		json_t *idx = json_pack("{s:s}", "list", name);
		for (size_t i = 1; i <= ctx->nlayers; i++) {
			char *k = layers_key(w, i);
			char *ip = xasprintf("%s/tarchunks/prefix/%s", w->cache_dir, k);
			(void)cache_write_json_flags(ip, idx, ATOMIC_NO_SYNC, &e);
			free(ip);
			free(k);
		}
		json_decref(idx);
	}
	free(rp);
	json_decref(rec);
	free(name);
}

/* One try at the chunked tarball into fd (empty); reuse: from the cache's lists. */
static int write_chunked(struct tarw *w, bool reuse, struct rt_error *err)
{
	json_t *rec = NULL;
	int64_t epoch = 0;
	int r = out_epoch(&epoch, err);
	if (r < 0)
		return r;
	chunk_settings(w, w->settings, sizeof(w->settings), epoch);
	if (reuse && w->cache_dir && w->ctx->nlayers)
		find_old(w, &rec);
	struct layer_hooks hooks = {w, hook_before, hook_after, hook_linked};
	if ((r = out_tar_open(&w->tar, &w->sink, err)) < 0 ||
	    (r = layer_stream_hooked(w->ctx->rootfs_dir, NULL, &hooks, &w->tar, err)) < 0)
		goto out;
	if (w->skip_last) {
		r = rt_error_set(err, -EAGAIN, "a reused tar chunk ends at /%s, not seen",
		                 w->skip_last);
		goto out;
	}
	/* the tree's end ends the last chunk; the archive's end is a chunk of its own */
	if ((w->open && (r = chunk_close(w, false, false, err)) < 0) ||
	    (r = chunk_open(w, "", err)) < 0 || (r = out_tar_close(&w->tar, err)) < 0 ||
	    (r = chunk_close(w, false, true, err)) < 0)
		goto out;
	if (w->cache_dir)
		record_chunks(w);
out:
	json_decref(rec);
	return r;
}

static void tarw_reset(struct tarw *w)
{
	/* after a failure the sink may be gone: nothing more is written, not even the end
	   (libarchive's close still runs, and frees what it holds: archive_write_fail would
	   leave its output's buffer behind) */
	w->tar.sink = NULL;
	out_tar_release(&w->tar);
	out_sink_release(&w->sink);
	for (size_t i = 0; i < w->nchanged; i++)
		free(w->changed[i]);
	free(w->changed);
	w->changed = NULL;
	w->nchanged = 0;
	w->old = NULL;
	w->skip_last = NULL;
	w->open = false;
	if (w->cfd >= 0)
		close(w->cfd);
	w->cfd = -1;
	json_decref(w->chunks);
	w->chunks = json_array();
	w->reused = w->written = 0;
	w->reused_bytes = w->off = w->tar_bytes = 0;
	EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
}

static int output_tar_chunked(const struct output_ctx *ctx, const char *final, enum out_comp comp,
                              struct rt_error *err)
{
	static const char *const comp_names[] = {"none", "gzip", "zstd"};
	struct tarw w = {.ctx = ctx, .cache_dir = ctx->cache_dir, .fd = -1, .cfd = -1};
	char *tmp_dir = NULL;
	w.cs.comp = (int32_t)comp;
	w.md = EVP_MD_CTX_new();
	w.cmd = EVP_MD_CTX_new();
	w.buf = xmalloc(COPY_BUF);
	struct out_tmp tmp = {0};
	int r = -ENOMEM;
	if (!w.md || !w.cmd) {
		r = rt_error_set(err, -ENOMEM, "sha256: cannot initialise a digest");
		goto out;
	}
	struct rt_error ce = {0};
	if (w.cache_dir && (cache_mkdir(w.cache_dir, "blobs", &ce) < 0 ||
	                    cache_mkdir(w.cache_dir, "blobs/sha256", &ce) < 0))
		w.cache_dir = NULL; /* no cache: nothing kept, nothing reused */
	tmp_dir = w.cache_dir ? xasprintf("%s/blobs/sha256", w.cache_dir) : path_dirname(final);
	w.tmp_dir = tmp_dir;
	for (int attempt = 0; attempt < 2; attempt++) {
		tarw_reset(&w);
		if ((r = out_tmp_file(&tmp, final, &w.fd, err)) < 0)
			goto out;
		r = write_chunked(&w, attempt == 0, err);
		if (r != -EAGAIN)
			break;
		/* the cache disagreed with its records: again, compressing everything */
		if (ctx->notes)
			json_array_append_new(
			    ctx->notes,
			    json_sprintf("%s: written again without the cache", err->msg));
		close(w.fd);
		w.fd = -1;
		out_tmp_release(&tmp);
		memset(&tmp, 0, sizeof(tmp));
	}
	if (r < 0)
		goto out;
	close(w.fd);
	w.fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dn = 0;
	char hexd[65], digest[80];
	EVP_DigestFinal_ex(w.md, d, &dn);
	hex_encode(d, 32, hexd);
	snprintf(digest, sizeof(digest), "sha256:%s", hexd);
	out_artifact_add(ctx, "tar", digest, w.off,
	                 json_pack("{s:s, s:I}", "compression", comp_names[comp], "tar_size",
	                           (json_int_t)w.tar_bytes));
	if (ctx->notes)
		json_array_append_new(
		    ctx->notes,
		    json_sprintf("%u of %u chunks reused from the cache (%.1f MB), %u compressed",
		                 w.reused, w.reused + w.written, (double)w.reused_bytes / 1e6,
		                 w.written));
out:
	tarw_reset(&w);
	json_decref(w.chunks);
	if (w.fd >= 0)
		close(w.fd);
	out_tmp_release(&tmp);
	EVP_MD_CTX_free(w.md);
	EVP_MD_CTX_free(w.cmd);
	free(w.buf);
	free(tmp_dir);
	sb_release(&w.first);
	sb_release(&w.last);
	return r;
}

int output_tar(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp tmp = {0};
	struct out_sink sink = {0};
	struct out_tar tar = {0};
	enum out_comp comp;
	int fd = -1;
	int r = pick_compression(ctx, final, &comp, err);
	if (r < 0)
		goto out;
	if (!ctx->rootfs_dir) {
		r = rt_error_set(err, -EINVAL, "tar %s: no root filesystem to write", final);
		goto out;
	}
	if (comp != OUT_COMP_NONE) {
		r = output_tar_chunked(ctx, final, comp, err);
		goto out;
	}
	if ((r = out_tmp_file(&tmp, final, &fd, err)) < 0 ||
	    (r = out_sink_init(&sink, fd, comp, 0, false, err)) < 0 ||
	    (r = out_tar_open(&tar, &sink, err)) < 0 ||
	    (r = layer_stream(ctx->rootfs_dir, NULL, &tar, err)) < 0 ||
	    (r = out_tar_close(&tar, err)) < 0 || (r = out_sink_finish(&sink, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", sink.out_hex);
	out_artifact_add(
	    ctx, "tar", digest, sink.out_bytes,
	    json_pack("{s:s, s:I}", "compression", "none", "tar_size", (json_int_t)sink.in_bytes));
out:
	out_tar_release(&tar);
	out_sink_release(&sink);
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	free(final);
	return r;
}

const struct output_impl output_tar_impl = {"tar", output_tar};
