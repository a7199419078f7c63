/*
 * output registry: push the image to a registry (registry_client.c). The
 * image is the OCI layout an earlier oci output of the same build wrote (so
 * the pushed digest is the layout's), or else one written to a temporary
 * directory. Order: each blob (layers, then the config) is skipped when the
 * repository has it (HEAD), mounted from another repository of the same
 * registry when kiln saw it there (CACHE/registry/known), else uploaded; then
 * the manifest by its digest; only then the tags. A push that fails half way
 * leaves no tag on a half-pushed image, and a rerun skips what is there. The
 * artifact: {"type": "registry", "path": REF, "digest", "size", "tags",
 * "ref": "REGISTRY/REPO@DIGEST", "uploaded", "skipped", "mounted"}.
 */
#include "output_impl.h"

#include "arena.h"
#include "path.h"
#include "plan_expr.h"
#include "plan_view.h"
#include "registry_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"

struct push {
	const struct output_ctx *ctx;
	const char *refs; /* the reference as the plan wrote it, for messages */
	struct reg_ref ref;
	struct reg_client *c;
	char *layout;    /* the OCI layout pushed */
	char *tmpdir;    /* the temporary directory holding it, or NULL */
	json_t *digests; /* every blob's digest */
};

static int read_file(const char *path, size_t max, char **ret, size_t *ret_len,
                     struct rt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
		close(fd);
		return rt_error_set(err, -EFBIG, "%s: missing or larger than %zu bytes", path, max);
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = out_read(fd, buf, (size_t)st.st_size, path, err);
	close(fd);
	if (n < 0 || n != st.st_size) {
		free(buf);
		return n < 0 ? (int)n : rt_error_set(err, -EIO, "%s: short read", path);
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

static bool good_digest(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* The layout to push: the last oci artifact of this build, or a new one in a temporary
   directory. *ret_digest: the manifest's digest when known (else NULL). */
static int find_layout(struct push *p, const char **ret_digest, struct rt_error *err)
{
	const struct output_ctx *ctx = p->ctx;
	size_t i;
	json_t *a;
	*ret_digest = NULL;
	json_array_foreach (ctx->artifacts, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *path = json_string_value(json_object_get(a, "path"));
		if (type && path && !strcmp(type, "oci")) {
			free(p->layout);
			p->layout = path_from_root(ctx->local_root, path);
			*ret_digest = json_string_value(json_object_get(a, "digest"));
		}
	}
	if (p->layout)
		return 0;
	const char *t = getenv("TMPDIR");
	p->tmpdir = xasprintf("%s/kiln-push-XXXXXX", t && *t ? t : "/var/tmp");
	if (!mkdtemp(p->tmpdir)) {
		int r = rt_error_errno(err, -errno, "mkdtemp %s", p->tmpdir);
		free(p->tmpdir);
		p->tmpdir = NULL;
		return r;
	}
	p->layout = xasprintf("%s/layout", p->tmpdir);
	json_t *out = json_pack("{s:s, s:s, s:{}}", "type", "oci", "path", p->layout, "args");
	struct output_ctx oc = *ctx;
	oc.output = out;
	oc.artifacts = NULL;
	int r = output_oci(&oc, err);
	json_decref(out);
	return r;
}

/* Push one blob of the layout: skipped, mounted or uploaded. */
static int push_blob(struct push *p, const char *digest, unsigned *uploaded, unsigned *skipped,
                     unsigned *mounted, struct rt_error *err)
{
	if (!good_digest(digest))
		return rt_error_set(err, -EINVAL,
		                    "%s: the layout names a blob '%.80s' kiln cannot push",
		                    p->layout, digest ? digest : "(none)");
	size_t i;
	json_t *d;
	json_array_foreach (p->digests, i, d)
		if (!strcmp(json_string_value(d), digest))
			return 0;
	json_array_append_new(p->digests, json_string(digest));
	int r = reg_blob_exists(p->c, digest, err);
	if (r < 0)
		return r;
	if (r == 1) {
		(*skipped)++;
		return 0;
	}
	char *from = reg_known_repo(p->ctx->cache_dir, p->ref.host, digest);
	if (from && strcmp(from, p->ref.repo)) {
		r = reg_blob_mount(p->c, digest, from, err);
		free(from);
		if (r < 0)
			return r;
		if (r == 1) {
			(*mounted)++;
			return 0;
		}
	} else {
		free(from);
	}
	char *path = xasprintf("%s/blobs/sha256/%s", p->layout, digest + 7);
	r = reg_blob_upload(p->c, digest, path, err);
	free(path);
	if (r >= 0)
		(*uploaded)++;
	return r;
}

/* The tags to push: args.tags (a string or a list), else the reference's tag. */
static json_t *push_tags(struct push *p, json_t *args, struct rt_error *err)
{
	json_t *t = json_object_get(args, "tags"), *list = json_array();
	if (json_is_string(t))
		json_array_append(list, t);
	else if (json_is_array(t))
		json_array_extend(list, t);
	else if (t && !json_is_null(t)) {
		json_decref(list);
		rt_error_set(err, -EINVAL, "registry %s: tags: expected a list of strings",
		             p->refs);
		return NULL;
	}
	if (!json_array_size(list) && p->ref.tag)
		json_array_append_new(list, json_string(p->ref.tag));
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		struct reg_ref tr;
		struct rt_error e;
		const char *s = json_string_value(v);
		char *probe = s ? xasprintf("x/x:%s", s) : NULL;
		int r = probe ? reg_ref_parse(probe, &tr, &e) : -EINVAL;
		free(probe);
		if (r < 0 || strchr(s, '/') || strchr(s, '@')) {
			rt_error_set(err, -EINVAL,
			             "registry %s: tags: '%s' is not a valid tag (letters, digits, "
			             "'_', '.', '-'; at most 128)",
			             p->refs, s ? s : "(not a string)");
			json_decref(list);
			return NULL;
		}
		reg_ref_release(&tr);
	}
	return list;
}

int output_registry(const struct output_ctx *ctx, struct rt_error *err)
{
	struct push p = {.ctx = ctx, .refs = out_plan_path(ctx), .digests = json_array()};
	struct expr_env env = {NULL, ctx->secrets};
	json_t *args = NULL, *tags = NULL, *manifest = NULL, *index = NULL;
	char *mtext = NULL, *itext = NULL, *ca = NULL;
	size_t mlen = 0, ilen = 0;
	unsigned uploaded = 0, skipped = 0, mounted = 0;
	bool tagging = false;
	int r;

	if ((r = reg_ref_parse(p.refs, &p.ref, err)) < 0)
		goto out;
	if (p.ref.digest) {
		r = rt_error_set(err, -EINVAL,
		                 "registry %s: push to a repository (and tags), not to a digest",
		                 p.refs);
		goto out;
	}
	/* resolve the args' expressions (the password); no message below quotes them */
	json_t *raw = plan_output_view(ctx->output).args;
	if (!raw)
		args = json_object();
	else if (!(args = expr_resolve(&env, raw, err))) {
		r = err->code ? err->code : -EINVAL;
		goto out;
	}
	if (!(tags = push_tags(&p, args, err))) {
		r = err->code;
		goto out;
	}
	json_t *jca = json_object_get(args, "ca_file");
	if (json_is_string(jca) && *json_string_value(jca))
		ca = path_from_root(ctx->local_root, json_string_value(jca));
	const char *user = json_string_value(json_object_get(args, "username"));
	const char *pass = json_string_value(json_object_get(args, "password"));
	if (json_object_get(args, "password") && !json_is_null(json_object_get(args, "password")) &&
	    (!user || !*user)) {
		r = rt_error_set(err, -EINVAL, "registry %s: a password needs a username", p.refs);
		goto out;
	}
	struct reg_opts o = {
	    .insecure = json_is_true(json_object_get(args, "insecure")),
	    .ca_file = ca,
	    .username = user,
	    .password = pass,
	    .push = true,
	};

	const char *want = NULL;
	if ((r = find_layout(&p, &want, err)) < 0)
		goto out;
	char *ipath = xasprintf("%s/index.json", p.layout);
	r = read_file(ipath, 4 << 20, &itext, &ilen, err);
	free(ipath);
	if (r < 0)
		goto out;
	json_error_t je;
	index = json_loadb(itext, ilen, 0, &je);
	json_t *ms = json_object_get(index, "manifests"), *chosen = NULL, *m;
	size_t i;
	json_array_foreach (ms, i, m) {
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (!chosen || (want && d && !strcmp(d, want)))
			chosen = m;
	}
	const char *mdigest = json_string_value(json_object_get(chosen, "digest"));
	const char *mtype = json_string_value(json_object_get(chosen, "mediaType"));
	if (!good_digest(mdigest)) {
		r = rt_error_set(err, -EINVAL, "registry %s: %s/index.json names no image", p.refs,
		                 p.layout);
		goto out;
	}
	char *mpath = xasprintf("%s/blobs/sha256/%s", p.layout, mdigest + 7);
	r = read_file(mpath, 4 << 20, &mtext, &mlen, err);
	free(mpath);
	if (r < 0)
		goto out;
	manifest = json_loadb(mtext, mlen, 0, &je);
	json_t *layers = json_object_get(manifest, "layers");
	json_t *config = json_object_get(manifest, "config");
	if (!json_is_array(layers) || !json_is_object(config)) {
		r = rt_error_set(err, -EINVAL,
		                 "registry %s: %s: the manifest %.19s... is not an image manifest",
		                 p.refs, p.layout, mdigest);
		goto out;
	}
	if ((r = reg_open(&p.ref, &o, &p.c, err)) < 0)
		goto out;
	uint64_t total = mlen;
	json_t *l;
	json_array_foreach (layers, i, l) {
		r = push_blob(&p, json_string_value(json_object_get(l, "digest")), &uploaded,
		              &skipped, &mounted, err);
		if (r < 0)
			goto fail;
		total += (uint64_t)json_integer_value(json_object_get(l, "size"));
	}
	r = push_blob(&p, json_string_value(json_object_get(config, "digest")), &uploaded, &skipped,
	              &mounted, err);
	if (r < 0)
		goto fail;
	total += (uint64_t)json_integer_value(json_object_get(config, "size"));
	/* every blob is in: the manifest by its digest, then the tags */
	const char *mt = json_string_value(json_object_get(manifest, "mediaType"));
	if (!mt)
		mt = mtype ? mtype : MT_MANIFEST;
	if ((r = reg_manifest_put(p.c, mdigest, mt, mtext, mlen, err)) < 0)
		goto fail;
	json_t *tag;
	tagging = true;
	json_array_foreach (tags, i, tag)
		if ((r = reg_manifest_put(p.c, json_string_value(tag), mt, mtext, mlen, err)) < 0)
			goto fail;
	reg_known_add(ctx->cache_dir, p.ref.host, p.ref.repo, p.digests);
	char *full = xasprintf("%s/%s@%s", p.ref.registry, p.ref.repo, mdigest);
	out_artifact_add(ctx, "registry", mdigest, total,
	                 json_pack("{s:O, s:s, s:I, s:I, s:I}", "tags", tags, "ref", full,
	                           "uploaded", (json_int_t)uploaded, "skipped", (json_int_t)skipped,
	                           "mounted", (json_int_t)mounted));
	free(full);
	goto out;
fail:
	/* name where it stopped; the registry's tags are untouched when a blob failed */
	if (r != -EINTR) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		rt_error_set(err, r,
		             "push failed: %s (%u blobs uploaded, %u there already: a rerun "
		             "skips them%s)",
		             msg, uploaded, skipped + mounted,
		             tagging ? "" : "; no tag was written");
	}
out:
	reg_close(p.c);
	reg_ref_release(&p.ref);
	if (p.tmpdir) {
		int dfd = open(p.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)out_rm_rf(dfd, "layout");
			close(dfd);
		}
		(void)rmdir(p.tmpdir);
	}
	json_decref(p.digests);
	json_decref(manifest);
	json_decref(index);
	json_decref(tags);
	if (args) {
		json_t *pw = json_object_get(args, "password");
		if (json_is_string(pw)) /* jansson owns the bytes; wipe what we can */
			json_string_set(pw, "");
	}
	json_decref(args);
	free(mtext);
	free(itext);
	free(ca);
	free(p.tmpdir);
	free(p.layout);
	return r;
}

const struct output_impl output_registry_impl = {"registry", output_registry};
