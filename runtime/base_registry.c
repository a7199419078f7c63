/*
 * base_registry: registry(ref, insecure, ca_file) -> an image pulled from a
 * registry (registry_client.c), its layers applied in the destination.
 *
 * Blobs are cached by digest in CACHE/registry/blobs/sha256/ (each verified
 * against its digest as it streams, and written under a temporary name first:
 * a blob that does not match is refused and nothing is cached), and the digest
 * a tag last resolved to in CACHE/registry/refs/. A manifest list or OCI index
 * is resolved to linux and the build machine's architecture. The layers are
 * applied by the oci() base (base_oci.c), on a layout of hard links to the
 * cached blobs made for the run: the same digest checks, safe extraction and
 * whiteouts. A base pulled once builds offline afterwards: a digest pin needs
 * no network when its blobs are cached, and a tag falls back to the digest it
 * last resolved to when the registry cannot be reached. ctx->out gets the
 * manifest's "digest" (bake.c keys the stage cache with it) and, from oci(),
 * the image's runtime "config".
 */
#include "base_int.h"
#include "plan_format.h"
#include "cache.h"

#include "arena.h"
#include "hex.h"
#include "registry_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEST_MAX 4
#define JSON_MAX (4 * 1024 * 1024)

struct pull {
	struct base_run *b;
	const char *refs; /* as the plan wrote it */
	struct reg_ref ref;
	struct reg_opts opts;
	struct reg_client *c; /* opened when first needed */
	char *dir;            /* CACHE/registry */
	char *blobs;          /* CACHE/registry/blobs/sha256 */
	bool offline;         /* the registry could not be reached */
	json_t *fetched;      /* digests of the layers, for the known record */
};

static bool good_digest(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static void on_progress(void *data, const char *line)
{
	struct pull *p = data;
	base_progress(p->b, "%s", line);
}

static int client(struct pull *p)
{
	if (p->c)
		return 0;
	return reg_open(&p->ref, &p->opts, &p->c, p->b->err);
}

static char *blob_path(struct pull *p, const char *digest)
{
	return xasprintf("%s/%s", p->blobs, digest + 7);
}

/* A cached blob's bytes when its digest is right (else NULL: absent or damaged). */
static char *cached_json(struct pull *p, const char *digest, size_t *ret_len)
{
	char *path = blob_path(p, digest);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > JSON_MAX) {
		close(fd);
		return NULL;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	char hex[65];
	if (got != (size_t)st.st_size || sha256_hex(buf, got, hex) < 0 || strcmp(hex, digest + 7)) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*ret_len = got;
	return buf;
}

/* Write a verified manifest's bytes into the cache under its digest. */
static int cache_json(struct pull *p, const char *digest, const char *data, size_t len)
{
	char *path = blob_path(p, digest);
	char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	int r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = rt_error_errno(p->b->err, -errno, "registry(): create %s", tmp);
		goto out;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(p->b->err, -errno, "registry(): write %s", tmp);
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = rt_error_errno(p->b->err, -errno, "registry(): close %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = rt_error_errno(p->b->err, -errno, "registry(): rename %s", tmp);
out:
	if (r < 0)
		(void)unlink(tmp);
	free(tmp);
	free(path);
	return r;
}

/* A manifest or index by digest: from the cache, else from the registry. */
static int get_json(struct pull *p, const char *digest, json_t **ret)
{
	size_t len = 0;
	char *data = cached_json(p, digest, &len);
	int r;
	if (!data) {
		char *mt = NULL;
		char got[72];
		if ((r = client(p)) < 0)
			return r;
		if ((r = reg_manifest_get(p->c, digest, &data, &len, &mt, got, p->b->err)) < 0)
			return r;
		free(mt);
		if ((r = cache_json(p, digest, data, len)) < 0) {
			free(data);
			return r;
		}
	}
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	free(data);
	if (!json_is_object(j)) {
		json_decref(j);
		return rt_error_set(p->b->err, -EINVAL, "registry(): %s: %.19s... is not JSON",
		                    p->refs, digest);
	}
	*ret = j;
	return 0;
}

static char *ref_record(struct pull *p)
{
	char *key = xasprintf("%s/%s:%s", p->ref.registry, p->ref.repo, p->ref.tag);
	char hex[65];
	sha256_hex(key, strlen(key), hex);
	free(key);
	return xasprintf("%s/refs/%s.json", p->dir, hex);
}

/* The digest the reference names: its pin, or what the tag resolves to now (online),
   or what it resolved to last (offline). */
static int resolve(struct pull *p, char ret[72])
{
	if (p->ref.digest) {
		snprintf(ret, 72, "%s", p->ref.digest);
		return 0;
	}
	char *rec = ref_record(p);
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	int r = client(p);
	if (r == 0)
		r = reg_manifest_get(p->c, p->ref.tag, &data, &len, &mt, ret, p->b->err);
	if (r == -EIO || r == -EAGAIN) {
		json_error_t je;
		json_t *j = json_load_file(rec, 0, &je);
		const char *d = json_string_value(json_object_get(j, "digest"));
		if (good_digest(d)) {
			base_progress(p->b,
			              "%s: registry unreachable (%s); using %s, what the tag last "
			              "resolved to",
			              p->refs, p->b->err->msg, d);
			snprintf(ret, 72, "%s", d);
			p->offline = true;
			r = 0;
		}
		json_decref(j);
		goto out;
	}
	if (r < 0)
		goto out;
	if ((r = cache_json(p, ret, data, len)) < 0)
		goto out;
	json_t *j = json_pack("{s:s, s:s}", "ref", p->refs, "digest", ret);
	char *tmp = xasprintf("%s.%d.tmp", rec, (int)getpid());
	if (json_dump_file(j, tmp, JSON_SORT_KEYS) < 0 || rename(tmp, rec) < 0)
		(void)unlink(tmp); /* only the offline fallback misses it */
	free(tmp);
	json_decref(j);
	base_progress(p->b, "%s resolves to %s", p->refs, ret);
out:
	free(data);
	free(mt);
	free(rec);
	return r;
}

/* A layer or config blob: from the cache when there, else fetched and verified. */
static int get_blob(struct pull *p, json_t *desc, const char *what)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	json_t *js = json_object_get(desc, "size");
	if (!good_digest(digest) || !json_is_integer(js) || json_integer_value(js) < 0)
		return rt_error_set(p->b->err, -EINVAL,
		                    "registry(): %s: the %s has no valid sha256 digest and size",
		                    p->refs, what);
	char *path = blob_path(p, digest);
	struct stat st;
	int r = 0;
	if (stat(path, &st) == 0 && st.st_size == json_integer_value(js)) {
		free(path);
		return 0; /* verified again by oci() before it is applied */
	}
	if ((r = client(p)) < 0) {
		free(path);
		return r;
	}
	if (p->offline) {
		free(path);
		return rt_error_set(p->b->err, -EHOSTUNREACH,
		                    "registry(): %s: the registry cannot be reached and the %s "
		                    "(%.19s...) is not cached",
		                    p->refs, what, digest);
	}
	char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	base_progress(p->b, "fetching the %s %.19s... (%lld bytes)", what, digest,
	              (long long)json_integer_value(js));
	r = reg_blob_fetch(p->c, digest, json_integer_value(js), tmp, p->b->err);
	if (r == 0 && rename(tmp, path) < 0)
		r = rt_error_errno(p->b->err, -errno, "registry(): rename %s", tmp);
	if (r < 0) {
		(void)unlink(tmp);
		if (r == -EBADMSG) {
			char msg[sizeof(p->b->err->msg)];
			snprintf(msg, sizeof(msg), "%s", p->b->err->msg);
			rt_error_set(p->b->err, r, "registry(): %s: the %s: %s", p->refs, what,
			             msg);
		}
	}
	free(tmp);
	free(path);
	return r;
}

static int mkdirs(struct pull *p)
{
	char *refs = xasprintf("%s/refs", p->dir);
	int r = base_mkdir_p(p->blobs, 0755, p->b->err);
	if (r == 0)
		r = base_mkdir_p(refs, 0755, p->b->err);
	free(refs);
	return r;
}

/* A layout of hard links to the cached blobs, for oci(). */
static int make_view(struct pull *p, const char *view, const char *mdigest, int64_t msize,
                     json_t *manifest)
{
	char *sha = xasprintf("%s/blobs/sha256", view);
	int r = base_mkdir_p(sha, 0755, p->b->err);
	json_t *all = json_array();
	json_array_append_new(all, json_string(mdigest));
	json_array_append(all, json_object_get(json_object_get(manifest, "config"), "digest"));
	size_t i;
	json_t *l;
	json_array_foreach (json_object_get(manifest, "layers"), i, l)
		json_array_append(all, json_object_get(l, "digest"));
	json_t *d;
	json_array_foreach (all, i, d) {
		if (r < 0)
			break;
		const char *dg = json_string_value(d);
		char *from = blob_path(p, dg), *to = xasprintf("%s/%s", sha, dg + 7);
		if (link(from, to) < 0 && errno != EEXIST)
			r = rt_error_errno(p->b->err, -errno, "registry(): link %s", from);
		free(from);
		free(to);
	}
	json_decref(all);
	const char *mt = json_string_value(json_object_get(manifest, "mediaType"));
	json_t *index =
	    json_pack("{s:i, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
	              mt ? mt : "application/vnd.oci.image.manifest.v1+json", "digest", mdigest,
	              "size", (json_int_t)msize);
	char *ip = xasprintf("%s/index.json", view), *lp = xasprintf("%s/oci-layout", view);
	json_t *lay = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
	if (r == 0 && (json_dump_file(index, ip, 0) < 0 || json_dump_file(lay, lp, 0) < 0))
		r = rt_error_set(p->b->err, -EIO, "registry(): cannot write %s", ip);
	json_decref(lay);
	json_decref(index);
	free(ip);
	free(lp);
	free(sha);
	return r;
}

static void rm_view(const char *view)
{
	char *sha = xasprintf("%s/blobs/sha256", view), *blobs = xasprintf("%s/blobs", view);
	int dfd = open(sha, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				(void)unlinkat(dfd, e->d_name, 0);
		if (d)
			closedir(d);
		else
			close(dfd);
	}
	rmdir(sha);
	rmdir(blobs);
	char *ip = xasprintf("%s/index.json", view), *lp = xasprintf("%s/oci-layout", view);
	unlink(ip);
	unlink(lp);
	rmdir(view);
	free(ip);
	free(lp);
	free(sha);
	free(blobs);
}

int base_registry(struct base_run *b)
{
	const char *arg, *ca;
	int r = base_arg_string(b, "ref", NULL, &arg);
	if (r == 0)
		r = base_arg_string(b, "ca_file", NULL, &ca);
	if (r < 0)
		return r;
	if (!arg || !*arg)
		return rt_error_set(b->err, -EINVAL, "registry(): argument 'ref' is required");
	struct pull p = {.b = b, .refs = arg, .fetched = json_array()};
	char *ca_path = ca && *ca ? base_local_path(b, ca) : NULL;
	char *view = NULL;
	json_t *top = NULL, *manifest = NULL;
	p.opts = (struct reg_opts){
	    .insecure = json_is_true(json_object_get(b->args, "insecure")),
	    .ca_file = ca_path,
	    .progress = on_progress,
	    .progress_data = &p,
	};
	p.dir = xasprintf("%s/registry", b->cache_dir);
	p.blobs = xasprintf("%s/blobs/sha256", p.dir);
	if ((r = reg_ref_parse(arg, &p.ref, b->err)) < 0) {
		char msg[sizeof(b->err->msg)];
		snprintf(msg, sizeof(msg), "%s", b->err->msg);
		rt_error_set(b->err, r, "registry(): %s", msg);
		goto out;
	}
	if ((r = mkdirs(&p)) < 0)
		goto out;
	char digest[72];
	if ((r = resolve(&p, digest)) < 0) {
		char msg[sizeof(b->err->msg)];
		snprintf(msg, sizeof(msg), "%s", b->err->msg);
		rt_error_set(b->err, r, "registry(): %s: %s", arg, msg);
		goto out;
	}
	if ((r = get_json(&p, digest, &top)) < 0)
		goto out;
	/* an index: the manifest for linux on this machine */
	char mdigest[72];
	snprintf(mdigest, sizeof(mdigest), "%s", digest);
	json_t *cur = json_incref(top);
	for (int depth = 0; json_object_get(cur, "manifests"); depth++) {
		json_t *ms = json_object_get(cur, "manifests"), *m, *pick = NULL;
		size_t i;
		json_array_foreach (ms, i, m) {
			json_t *pf = json_object_get(m, "platform");
			const char *os = json_string_value(json_object_get(pf, "os"));
			const char *ar = json_string_value(json_object_get(pf, "architecture"));
			if (os && ar && !strcmp(os, "linux") && !strcmp(ar, base_host_arch())) {
				pick = m;
				break;
			}
		}
		if (!pick && json_array_size(ms) == 1)
			pick = json_array_get(ms, 0);
		const char *d = json_string_value(json_object_get(pick, "digest"));
		if (!pick || !good_digest(d) || depth == NEST_MAX) {
			json_decref(cur);
			r = rt_error_set(b->err, -ENOENT,
			                 "registry(): %s: no image for linux/%s in its index", arg,
			                 base_host_arch());
			goto out;
		}
		snprintf(mdigest, sizeof(mdigest), "%s", d);
		json_t *next = NULL;
		r = get_json(&p, mdigest, &next);
		json_decref(cur);
		if (r < 0)
			goto out;
		cur = next;
	}
	manifest = cur;
	json_t *layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers) || !json_is_object(json_object_get(manifest, "config"))) {
		r = rt_error_set(b->err, -EINVAL,
		                 "registry(): %s: %.19s... is not an image manifest", arg, mdigest);
		goto out;
	}
	if ((r = get_blob(&p, json_object_get(manifest, "config"), "config")) < 0)
		goto out;
	size_t i;
	json_t *l;
	json_array_foreach (layers, i, l) {
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		if ((r = get_blob(&p, l, what)) < 0)
			goto out;
		json_array_append(p.fetched, json_object_get(l, "digest"));
	}
	if (p.c)
		reg_known_add(b->cache_dir, p.ref.host, p.ref.repo, p.fetched);
	size_t mlen = 0;
	char *mb = cached_json(&p, mdigest, &mlen);
	free(mb);
	view = xasprintf("%s/view-XXXXXX", p.dir);
	if (!mkdtemp(view)) {
		r = rt_error_errno(b->err, -errno, "registry(): mkdtemp %s", view);
		free(view);
		view = NULL;
		goto out;
	}
	if ((r = make_view(&p, view, mdigest, (int64_t)mlen, manifest)) < 0)
		goto out;
	base_progress(b, "%s: %s, %zu layers", arg, mdigest, json_array_size(layers));
	json_t *oargs = json_pack("{s:s}", "path", view);
	struct base_run ob = *b;
	ob.name = "oci";
	ob.args = oargs;
	r = base_oci(&ob);
	json_decref(oargs);
	if (r == 0 && b->ctx->out)
		json_object_set_new(b->ctx->out, "digest", json_string(mdigest));
	if (r < 0) {
		char msg[sizeof(b->err->msg)];
		snprintf(msg, sizeof(msg), "%s", b->err->msg);
		rt_error_set(b->err, r, "registry(): %s: %s", arg, msg);
	}
out:
	if (r < 0 && r != -EINTR && strncmp(b->err->msg, "registry()", 10)) {
		char msg[sizeof(b->err->msg)];
		snprintf(msg, sizeof(msg), "%s", b->err->msg);
		rt_error_set(b->err, r, "registry(): %s: %s", arg, msg);
	}
	if (view)
		rm_view(view);
	free(view);
	reg_close(p.c);
	reg_ref_release(&p.ref);
	json_decref(top);
	json_decref(manifest);
	json_decref(p.fetched);
	free(p.dir);
	free(p.blobs);
	free(ca_path);
	return r;
}

int base_registry_resolve(const struct base_ctx *ctx, json_t *from, char ret[72],
                          struct rt_error *err)
{
	json_t *args = json_object_get(from, PLAN_K_ARGS);
	const char *arg = json_string_value(json_object_get(args, "ref"));
	const char *ca = json_string_value(json_object_get(args, "ca_file"));
	if (!arg || !*arg)
		return rt_error_set(err, -EINVAL, "registry(): argument 'ref' is required");
	char *cache_dir = cache_dir_default(ctx->cache_dir);
	struct base_run b = {
	    .ctx = ctx, .name = "registry", .args = args, .cache_dir = cache_dir, .err = err};
	struct pull p = {.b = &b, .refs = arg};
	char *ca_path = ca && *ca ? base_local_path(&b, ca) : NULL;
	p.opts = (struct reg_opts){
	    .insecure = json_is_true(json_object_get(args, "insecure")),
	    .ca_file = ca_path,
	    .progress = on_progress,
	    .progress_data = &p,
	};
	p.dir = xasprintf("%s/registry", cache_dir);
	p.blobs = xasprintf("%s/blobs/sha256", p.dir);
	int r = reg_ref_parse(arg, &p.ref, err);
	if (r == 0)
		r = mkdirs(&p);
	if (r == 0)
		r = resolve(&p, ret);
	reg_close(p.c);
	reg_ref_release(&p.ref);
	free(p.dir);
	free(p.blobs);
	free(ca_path);
	free(cache_dir);
	return r;
}

const struct base_impl base_registry_impl = {"registry", base_registry};
