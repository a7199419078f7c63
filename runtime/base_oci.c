/*
 * base_oci: oci(path, tag) -> the image's layers applied in order in the
 * destination. Input: an OCI image layout (oci-layout, index.json, blobs/),
 * e.g. another kiln build's output. The image is picked by tag (annotation
 * org.opencontainers.image.ref.name); a nested index picks the build
 * machine's platform. Invariant: every blob is checked against its
 * descriptor (size and digest) before anything is written, and each layer's
 * bytes are hashed again while they are extracted; a mismatch is refused.
 * Layers go through extract.c with whiteouts (.wh.NAME, .wh..wh..opq).
 */
#include "base_int.h"

#include "arena.h"
#include "extract.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define JSON_MAX (4 * 1024 * 1024) /* index, manifest and config blobs */
#define NEST_MAX 4                 /* indexes within indexes */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct desc {
	char digest[8 + 129]; /* "sha256:<hex>" */
	const char *alg;      /* "sha256" or "sha512" (points into a static string) */
	const char *hex;      /* points into digest */
	int64_t size;
	const char *media_type; /* borrowed from the JSON, may be "" */
};

struct oci {
	struct base_run *b;
	const char *layout; /* the layout's path, for messages */
	int fd;             /* the layout's directory */
};

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* A descriptor's digest and size; what = how errors name it ("layer 2"). */
static int parse_desc(struct oci *o, json_t *j, const char *what, struct desc *d)
{
	json_t *jd = json_object_get(j, "digest"), *js = json_object_get(j, "size");
	json_t *jm = json_object_get(j, "mediaType");
	if (!json_is_object(j) || !json_is_string(jd) || !json_is_integer(js) ||
	    json_integer_value(js) < 0)
		return rt_error_set(o->b->err, -EINVAL,
		                    "oci(): '%s': the descriptor of the %s has no valid digest and "
		                    "size",
		                    o->layout, what);
	const char *dig = json_string_value(jd);
	size_t hexlen = 0;
	if (!strncmp(dig, "sha256:", 7)) {
		d->alg = "sha256";
		hexlen = 64;
	} else if (!strncmp(dig, "sha512:", 7)) {
		d->alg = "sha512";
		hexlen = 128;
	}
	/* The digest names a file: nothing but lowercase hex may reach the path. */
	if (!hexlen || !is_hex(dig + 7, hexlen))
		return rt_error_set(
		    o->b->err, -EINVAL,
		    "oci(): '%s': the %s has an unsupported or malformed digest '%.80s'", o->layout,
		    what, dig);
	snprintf(d->digest, sizeof(d->digest), "%s", dig);
	d->hex = d->digest + 7;
	d->size = json_integer_value(js);
	d->media_type = json_is_string(jm) ? json_string_value(jm) : "";
	return 0;
}

static int open_blob(struct oci *o, const struct desc *d, const char *what, int *ret_fd)
{
	char rel[200];
	snprintf(rel, sizeof(rel), "blobs/%s/%s", d->alg, d->hex);
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	long fd = syscall(SYS_openat2, o->fd, rel, &how, sizeof(how));
	if (fd < 0)
		return rt_error_errno(o->b->err, -errno, "oci(): '%s': cannot open the %s (%s)",
		                      o->layout, what, rel);
	struct stat st;
	if (fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close((int)fd);
		return rt_error_set(o->b->err, -EINVAL, "oci(): '%s': the %s (%s) is not a file",
		                    o->layout, what, rel);
	}
	*ret_fd = (int)fd;
	return 0;
}

static int mismatch(struct oci *o, const struct desc *d, const char *what, const char *why)
{
	return rt_error_set(o->b->err, -EBADMSG,
	                    "oci(): '%s': the %s (%.19s...) %s: refused, nothing written",
	                    o->layout, what, d->digest, why);
}

/*
 * Read a blob (at most max bytes, or stream it when ret_data is NULL) and
 * check its size and digest.
 */
static int check_blob(struct oci *o, const struct desc *d, const char *what, size_t max,
                      char **ret_data)
{
	if (ret_data && d->size > (int64_t)max)
		return rt_error_set(o->b->err, -EFBIG,
		                    "oci(): '%s': the %s is too large (%lld bytes)", o->layout,
		                    what, (long long)d->size);
	int fd;
	int r = open_blob(o, d, what, &fd);
	if (r < 0)
		return r;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *alg = !strcmp(d->alg, "sha256") ? EVP_sha256() : EVP_sha512();
	char *data = ret_data ? xmalloc((size_t)d->size + 1) : NULL;
	char buf[64 * 1024];
	int64_t total = 0;
	if (!md || !EVP_DigestInit_ex(md, alg, NULL)) {
		r = rt_error_set(o->b->err, -ENOMEM, "oci(): cannot start a digest");
		goto out;
	}
	for (;;) {
		if (rt_interrupted) {
			r = rt_error_set(o->b->err, -EINTR, "oci(): interrupted");
			goto out;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(o->b->err, -errno, "oci(): '%s': cannot read the %s",
			                   o->layout, what);
			goto out;
		}
		if (n == 0)
			break;
		if (total + n > d->size) {
			r = mismatch(o, d, what, "is larger than its descriptor says");
			goto out;
		}
		if (data)
			memcpy(data + total, buf, (size_t)n);
		total += n;
		EVP_DigestUpdate(md, buf, (size_t)n);
	}
	if (total != d->size) {
		r = mismatch(o, d, what, "is smaller than its descriptor says");
		goto out;
	}
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_DigestFinal_ex(md, sum, &len);
	hex_encode(sum, len, hex);
	if (strcmp(hex, d->hex)) {
		r = mismatch(o, d, what, "does not match its digest");
		goto out;
	}
	if (data) {
		data[total] = '\0';
		*ret_data = data;
		data = NULL;
	}
out:
	free(data);
	EVP_MD_CTX_free(md);
	close(fd);
	return r;
}

static int blob_json(struct oci *o, const struct desc *d, const char *what, json_t **ret)
{
	char *data;
	int r = check_blob(o, d, what, JSON_MAX, &data);
	if (r < 0)
		return r;
	json_error_t je;
	json_t *j = json_loadb(data, (size_t)d->size, 0, &je);
	free(data);
	if (!json_is_object(j)) {
		json_decref(j);
		return rt_error_set(o->b->err, -EINVAL, "oci(): '%s': the %s is not a JSON object",
		                    o->layout, what);
	}
	*ret = j;
	return 0;
}

/* A small file of the layout (oci-layout, index.json) as JSON. */
static int layout_json(struct oci *o, const char *name, json_t **ret)
{
	int fd = openat(o->fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return rt_error_set(o->b->err, -ENOENT,
			                    "oci(): '%s' is not an OCI image layout (no %s)",
			                    o->layout, name);
		return rt_error_errno(o->b->err, -errno, "oci(): cannot open '%s/%s'", o->layout,
		                      name);
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return rt_error_errno(o->b->err, -errno, "oci(): cannot read '%s/%s'", o->layout,
		                      name);
	}
	json_error_t je;
	json_t *j = json_loadf(f, 0, &je);
	fclose(f);
	if (!json_is_object(j)) {
		json_decref(j);
		return rt_error_set(o->b->err, -EINVAL, "oci(): '%s/%s' is not valid: %s",
		                    o->layout, name, je.text);
	}
	*ret = j;
	return 0;
}

static const char *ref_name(json_t *m)
{
	json_t *ann = json_object_get(m, "annotations");
	return json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
}

/* "app:1.0" -> "1.0"; "registry:5000/app" -> NULL (that ':' is a port). */
static const char *tag_part(const char *ref)
{
	const char *colon = strrchr(ref, ':');
	if (!colon || strchr(colon, '/'))
		return NULL;
	return colon + 1;
}

/* The manifest of index.json named by tag (exactly, or by its tag part), or the only one. */
static int pick_by_tag(struct oci *o, json_t *manifests, const char *tag, json_t **ret)
{
	size_t i, n = json_array_size(manifests);
	json_t *m, *found = NULL;
	if (!n)
		return rt_error_set(o->b->err, -ENOENT, "oci(): '%s' holds no image", o->layout);
	if (!tag) {
		if (n == 1) {
			*ret = json_array_get(manifests, 0);
			return 0;
		}
	} else {
		json_array_foreach (manifests, i, m) {
			const char *ref = ref_name(m);
			if (ref && !strcmp(ref, tag)) {
				*ret = m;
				return 0;
			}
		}
		size_t hits = 0;
		json_array_foreach (manifests, i, m) {
			const char *ref = ref_name(m), *rt = ref ? tag_part(ref) : NULL;
			const char *tt = tag_part(tag);
			if (ref && ((tt && !strcmp(ref, tt)) || (rt && !strcmp(rt, tag)))) {
				found = m;
				hits++;
			}
		}
		if (hits == 1) {
			*ret = found;
			return 0;
		}
	}
	char tags[512] = "";
	size_t len = 0;
	json_array_foreach (manifests, i, m) {
		const char *ref = ref_name(m);
		int w = snprintf(tags + len, sizeof(tags) - len, "%s'%s'", len ? ", " : "",
		                 ref ? ref : "(untagged)");
		if (w < 0 || (size_t)w >= sizeof(tags) - len)
			break;
		len += (size_t)w;
	}
	if (!tag)
		return rt_error_set(o->b->err, -EINVAL,
		                    "oci(): '%s' holds %zu images; give tag = one of %s", o->layout,
		                    n, tags);
	return rt_error_set(o->b->err, -ENOENT, "oci(): no image tagged '%s' in '%s' (tags: %s)",
	                    tag, o->layout, tags);
}

/* In a nested index: the manifest for linux on this machine's architecture. */
static json_t *pick_platform(json_t *manifests)
{
	size_t i;
	json_t *m;
	if (json_array_size(manifests) == 1)
		return json_array_get(manifests, 0);
	json_array_foreach (manifests, i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));
		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, base_host_arch()))
			return m;
	}
	return NULL;
}

static bool is_index(const char *mt)
{
	return !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST);
}

/* Follow the chosen descriptor through nested indexes to a manifest; *ret is a new ref. */
static int load_manifest(struct oci *o, json_t *chosen, json_t **ret)
{
	json_t *held = NULL; /* the index the current descriptor lives in */
	int r = 0;
	for (int depth = 0;; depth++) {
		struct desc d;
		r = parse_desc(o, chosen, "manifest", &d);
		if (r < 0)
			break;
		json_t *j;
		r = blob_json(o, &d, is_index(d.media_type) ? "index" : "manifest", &j);
		if (r < 0)
			break;
		const char *mt = json_string_value(json_object_get(j, "mediaType"));
		if (!mt)
			mt = d.media_type;
		if (!is_index(mt) && !json_object_get(j, "manifests")) {
			json_decref(held);
			*ret = j;
			return 0;
		}
		json_decref(held);
		held = j;
		if (depth == NEST_MAX) {
			r = rt_error_set(o->b->err, -ELOOP,
			                 "oci(): '%s': indexes nested too deeply", o->layout);
			break;
		}
		chosen = pick_platform(json_object_get(j, "manifests"));
		if (!chosen) {
			r = rt_error_set(o->b->err, -ENOENT,
			                 "oci(): '%s': no image for linux/%s in the index",
			                 o->layout, base_host_arch());
			break;
		}
	}
	json_decref(held);
	return r;
}

static int apply_layer(struct oci *o, const struct desc *d, size_t i, size_t n)
{
	char what[64], label[700];
	snprintf(what, sizeof(what), "layer %zu", i + 1);
	snprintf(label, sizeof(label), "oci(): '%s': layer %zu of %zu", o->layout, i + 1, n);
	int fd;
	int r = open_blob(o, d, what, &fd);
	if (r < 0)
		return r;
	unsigned char sum[32];
	bool check = !strcmp(d->alg, "sha256");
	struct extract_opts opts = {
	    .flags = EXTRACT_WHITEOUTS | EXTRACT_ROOT_META,
	    .label = label,
	    .sha256_out = check ? sum : NULL,
	};
	struct extract_stats st = {0};
	r = extract_fd(o->b->dest_fd, fd, &opts, &st, o->b->err);
	close(fd);
	if (r < 0)
		return r;
	if (check) {
		char hex[65];
		hex_encode(sum, 32, hex);
		if (strcmp(hex, d->hex))
			return rt_error_set(o->b->err, -EBADMSG,
			                    "oci(): '%s': %s changed while it was read: refused",
			                    o->layout, what);
	}
	base_progress(o->b, "layer %zu/%zu: %llu entries, %llu whiteouts", i + 1, n,
	              (unsigned long long)st.entries, (unsigned long long)st.whiteouts);
	return 0;
}

int base_oci(struct base_run *b)
{
	const char *arg, *tag;
	int r = base_arg_string(b, "path", NULL, &arg);
	if (r == 0)
		r = base_arg_string(b, "tag", NULL, &tag);
	if (r < 0)
		return r;
	if (!arg || !arg[0])
		return rt_error_set(b->err, -EINVAL, "oci(): argument 'path' is required");
	char *layout = base_local_path(b, arg);
	struct oci o = {.b = b, .layout = layout, .fd = -1};
	json_t *lay = NULL, *index = NULL, *manifest = NULL, *config = NULL;
	struct desc *layers = NULL;
	size_t nlayers = 0;

	o.fd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o.fd < 0) {
		r = rt_error_errno(b->err, -errno, "oci(): cannot open '%s'", layout);
		goto out;
	}
	r = layout_json(&o, "oci-layout", &lay);
	if (r < 0)
		goto out;
	if (!json_is_string(json_object_get(lay, "imageLayoutVersion"))) {
		r = rt_error_set(b->err, -EINVAL,
		                 "oci(): '%s/oci-layout' has no imageLayoutVersion", layout);
		goto out;
	}
	r = layout_json(&o, "index.json", &index);
	if (r < 0)
		goto out;
	json_t *chosen = NULL;
	r = pick_by_tag(&o, json_object_get(index, "manifests"), tag, &chosen);
	if (r < 0)
		goto out;
	r = load_manifest(&o, chosen, &manifest);
	if (r < 0)
		goto out;

	struct desc cfg;
	r = parse_desc(&o, json_object_get(manifest, "config"), "config", &cfg);
	if (r < 0)
		goto out;
	r = blob_json(&o, &cfg, "config", &config);
	if (r < 0)
		goto out;
	json_t *jl = json_object_get(manifest, "layers");
	if (!json_is_array(jl)) {
		r = rt_error_set(b->err, -EINVAL, "oci(): '%s': the manifest has no layers",
		                 layout);
		goto out;
	}
	nlayers = json_array_size(jl);
	layers = xcalloc(nlayers ? nlayers : 1, sizeof(*layers));
	/* Every layer is checked before the first is applied. */
	for (size_t i = 0; i < nlayers; i++) {
		char what[32];
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		r = parse_desc(&o, json_array_get(jl, i), what, &layers[i]);
		if (r == 0)
			r = check_blob(&o, &layers[i], what, 0, NULL);
		if (r < 0)
			goto out;
	}
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (json_is_array(diff_ids) && json_array_size(diff_ids) != nlayers) {
		r = rt_error_set(b->err, -EINVAL,
		                 "oci(): '%s': the config lists %zu layers, the manifest %zu",
		                 layout, json_array_size(diff_ids), nlayers);
		goto out;
	}
	base_progress(b, "%s: %zu layers checked", layout, nlayers);
	for (size_t i = 0; i < nlayers && r == 0; i++)
		r = apply_layer(&o, &layers[i], i, nlayers);
	/* the image's runtime config, which the plan's config extends */
	json_t *rc = json_object_get(config, "config");
	if (r == 0 && b->ctx->out && json_is_object(rc))
		json_object_set(b->ctx->out, "config", rc);
out:
	if (o.fd >= 0)
		close(o.fd);
	json_decref(lay);
	json_decref(index);
	json_decref(manifest);
	json_decref(config);
	free(layers);
	free(layout);
	return r;
}

const struct base_impl base_oci_impl = {"oci", base_oci};
