/*
 * cache_remote: the stage cache in a registry repository (cache_remote.h).
 */
#include "cache_remote.h"

#include "arena.h"
#include "cache.h"
#include "hex.h"
#include "registry_client.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.kiln.stage.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct cache_remote {
	struct reg_ref ref;
	struct reg_opts o;
	struct reg_client *c;
	bool down; /* it could not be reached: not tried again in this run */
};

struct cache_remote *cache_remote_new(const char *ref, bool insecure, struct rt_error *err)
{
	if (!ref)
		return NULL;
	struct cache_remote *cr = xcalloc(1, sizeof(*cr));
	if (reg_ref_parse(ref, &cr->ref, err) < 0) {
		free(cr);
		return NULL;
	}
	if (cr->ref.digest) {
		rt_error_set(err, -EINVAL, "'%s': the stage cache is a repository, not a digest",
		             ref);
		cache_remote_free(cr);
		return NULL;
	}
	cr->o.insecure = insecure;
	cr->o.push = true;
	return cr;
}

void cache_remote_free(struct cache_remote *cr)
{
	if (!cr)
		return;
	reg_close(cr->c);
	reg_ref_release(&cr->ref);
	free(cr);
}

static int client(struct cache_remote *cr, struct rt_error *err)
{
	return cr->c ? 0 : reg_open(&cr->ref, &cr->o, &cr->c, err);
}

/* A registry that cannot be reached is given up for the rest of the run. */
static int gone(struct cache_remote *cr, int r)
{
	if (r == -EIO || r == -EAGAIN)
		cr->down = true;
	return r;
}

static bool hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int cache_remote_get(struct cache_remote *cr, const char *cache_dir, const char *key,
                     struct rt_error *err)
{
	if (!hex64(key) || cr->down)
		return 0;
	int r = client(cr, err);
	if (r < 0)
		return r;
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	char digest[72];
	r = reg_manifest_get(cr->c, key, &data, &len, &mt, digest, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return gone(cr, r);
	json_error_t je;
	json_t *m = json_loadb(data, len, 0, &je);
	json_t *cfg = json_object_get(m, "config");
	json_t *l0 = json_array_get(json_object_get(m, "layers"), 0);
	const char *cmt = json_string_value(json_object_get(cfg, "mediaType"));
	const char *ld = json_string_value(json_object_get(l0, "digest"));
	json_t *ls = json_object_get(l0, "size");
	char *tmp = NULL;
	if (!cmt || strcmp(cmt, MT_CONFIG) || !ld || !json_is_integer(ls) ||
	    json_array_size(json_object_get(m, "layers")) != 1) {
		r = rt_error_set(err, -EINVAL, "%s/%s:%.12s is not a kiln stage", cr->ref.registry,
		                 cr->ref.repo, key);
		goto out;
	}
	char *dir = xasprintf("%s/stages", cache_dir);
	(void)mkdir(cache_dir, 0700);
	(void)mkdir(dir, 0700);
	tmp = xasprintf("%s/.remote-%d.tar", dir, (int)getpid());
	free(dir);
	r = reg_blob_fetch(cr->c, ld, json_integer_value(ls), tmp, err);
	if (r == 0) {
		/* the record says where the entry came from: its inputs stayed on the machine
		   that built it */
		json_t *rec = json_pack("{s:s}", "source", "--cache-from");
		r = cache_store(cache_dir, key, tmp, rec, err);
		json_decref(rec);
	}
	(void)unlink(tmp);
	if (r == 0)
		r = 1;
out:
	free(tmp);
	json_decref(m);
	free(data);
	free(mt);
	return r;
}

/* The sha256 of a file, "sha256:..." in ret, and its size. */
static int file_digest(const char *path, char ret[72], uint64_t *ret_size, struct rt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "open %s", path);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char *buf = xmalloc(1 << 16);
	uint64_t total = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(err, -errno, "read %s", path);
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	unsigned char sum[32];
	unsigned len = 0;
	EVP_DigestFinal_ex(md, sum, &len);
	char hex[65];
	hex_encode(sum, 32, hex);
	snprintf(ret, 72, "sha256:%s", hex);
	*ret_size = total;
	EVP_MD_CTX_free(md);
	free(buf);
	close(fd);
	return r;
}

/* Upload a small blob from memory (through a temporary file: the client uploads
   files) when the repository lacks it; its digest in ret. */
static int put_small(struct cache_remote *cr, const char *data, size_t len, char ret[72],
                     struct rt_error *err)
{
	char hex[65];
	sha256_hex(data, len, hex);
	snprintf(ret, 72, "sha256:%s", hex);
	int r = reg_blob_exists(cr->c, ret, err);
	if (r != 0)
		return r < 0 ? r : 0;
	const char *t = getenv("TMPDIR");
	char *tmp = xasprintf("%s/kiln-stage-config-XXXXXX", t && *t ? t : "/tmp");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		r = rt_error_errno(err, -errno, "mkstemp %s", tmp);
		free(tmp);
		return r;
	}
	if (write(fd, data, len) != (ssize_t)len)
		r = rt_error_errno(err, -errno, "write %s", tmp);
	close(fd);
	if (r == 0)
		r = reg_blob_upload(cr->c, ret, tmp, err);
	(void)unlink(tmp);
	free(tmp);
	return r;
}

int cache_remote_put(struct cache_remote *cr, const char *key, const char *layer_tar,
                     struct rt_error *err)
{
	if (!hex64(key) || cr->down)
		return 0;
	int r = client(cr, err);
	if (r < 0)
		return r;
	char ld[72], cd[72];
	uint64_t lsize = 0;
	if ((r = file_digest(layer_tar, ld, &lsize, err)) < 0)
		return r;
	r = reg_blob_exists(cr->c, ld, err);
	if (r == 0)
		r = reg_blob_upload(cr->c, ld, layer_tar, err);
	if (r < 0)
		return gone(cr, r);
	json_t *cfg = json_pack("{s:s}", "key", key);
	char *ctext = json_dumps(cfg, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(cfg);
	size_t clen = strlen(ctext);
	r = put_small(cr, ctext, clen, cd, err);
	free(ctext);
	if (r < 0)
		return r;
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion",
	                      2, "mediaType", MT_MANIFEST, "config", "mediaType", MT_CONFIG,
	                      "digest", cd, "size", (json_int_t)clen, "layers", "mediaType",
	                      MT_LAYER, "digest", ld, "size", (json_int_t)lsize);
	char *mtext = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(m);
	r = reg_manifest_put(cr->c, key, MT_MANIFEST, mtext, strlen(mtext), err);
	free(mtext);
	return r;
}
