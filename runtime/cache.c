/*
 * cache: the stage cache; see cache.h. Keys are SHA-256 (libcrypto EVP)
 * over canonical JSON (sorted keys, compact) and file contents.
 */
#include "cache.h"

#include "atomic.h"

#include "arena.h"
#include "builtins.h"
#include "hex.h"
#include "output.h"
#include "path.h"
#include "plan_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *cache_dir_default(const char *dir)
{
	if (dir && *dir)
		return xstrdup(dir);
	const char *env = getenv("KILN_CACHE_DIR");
	if (env && *env)
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/var/cache/kiln");
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/kiln", xdg);
	const char *home = getenv("HOME");
	return xasprintf("%s/.cache/kiln", home ? home : "/tmp");
}

static char *hex(const unsigned char *d, unsigned n)
{
	char *s = xmalloc(2 * n + 1);
	hex_encode(d, n, s);
	return s;
}

/* A copy of v without "source" keys: moving a line does not change a stage. */
static json_t *without_sources(json_t *v)
{
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			if (strcmp(k, PLAN_K_SOURCE))
				json_object_set_new(o, k, without_sources(x));
		}
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			json_array_append_new(a, without_sources(x));
		}
		return a;
	}
	return json_incref(v);
}

static void hash_json(EVP_MD_CTX *md, const char *tag, json_t *v)
{
	json_t *clean = without_sources(v);
	char *s = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(clean);
	EVP_DigestUpdate(md, tag, strlen(tag) + 1);
	if (s) {
		EVP_DigestUpdate(md, s, strlen(s) + 1);
		free(s);
	}
}

/* Hash a file or a directory tree of the build machine: names, types, modes, contents. */
static int hash_path(EVP_MD_CTX *md, const char *path, int depth, struct rt_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return rt_error_errno(err, -errno, "cannot read %s", path);
	char meta[64];
	snprintf(meta, sizeof(meta), "%o:%lld", (unsigned)st.st_mode, (long long)st.st_size);
	EVP_DigestUpdate(md, meta, strlen(meta) + 1);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target));
		if (n > 0)
			EVP_DigestUpdate(md, target, (size_t)n);
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return rt_error_errno(err, -errno, "cannot read %s", path);
		char buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(md, buf, (size_t)n);
		close(fd);
		return n < 0 ? rt_error_errno(err, -errno, "cannot read %s", path) : 0;
	}
	if (!S_ISDIR(st.st_mode) || depth > 64)
		return 0;
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return rt_error_errno(err, -errno, "cannot list %s", path);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		if (r == 0 && strcmp(d, ".") && strcmp(d, "..")) {
			EVP_DigestUpdate(md, d, strlen(d) + 1);
			char *child = xasprintf("%s/%s", path, d);
			r = hash_path(md, child, depth + 1, err);
			free(child);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/*
 * The files of the build machine that a call reads, as its schema says (its
 * inputs): each one's argument name and bytes.
 */
static int hash_inputs(EVP_MD_CTX *md, const struct kiln_schema *s, json_t *args,
                       const char *local_root, struct rt_error *err)
{
	for (const char *const *in = s ? s->inputs : NULL; in && *in; in++) {
		json_t *v = json_object_get(args, *in);
		if (!json_is_string(v))
			continue;
		const char *p = json_string_value(v);
		char *path = path_from_root(local_root, p);
		EVP_DigestUpdate(md, *in, strlen(*in) + 1);
		int r = hash_path(md, path, 0, err);
		free(path);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The inputs of tasks (a plan's array of tasks), as their modules' schemas name them. */
static int hash_task_inputs(EVP_MD_CTX *md, json_t *tasks, const char *local_root,
                            struct rt_error *err)
{
	int r = 0;
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		const struct kiln_schema *s = stdlib_lookup(
		    SCHEMA_MODULE, json_string_value(json_object_get(t, PLAN_K_MODULE)));
		if (r == 0)
			r = hash_inputs(md, s, json_object_get(t, PLAN_K_ARGS), local_root, err);
		/* a task on the build machine has effects outside the image */
		if (s && s->on_build_machine)
			EVP_DigestUpdate(md, "on the build machine", 21);
	}
	return r;
}

char *cache_base_key(json_t *from, const char *local_root, struct rt_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "kiln " KILN_VERSION, sizeof("kiln " KILN_VERSION));
	/* the image time is in every layer's mtimes (output.h): a layer replayed from the
	   cache is the one a fresh build of the same time writes */
	int64_t epoch = 0;
	if (out_epoch(&epoch, err) < 0) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	char when[32];
	snprintf(when, sizeof(when), "time %lld", (long long)epoch);
	EVP_DigestUpdate(md, when, strlen(when) + 1);
	hash_json(md, "from", from);
	/* what the base reads from the build machine (a tarball, an OCI layout) */
	const char *base = json_string_value(json_object_get(from, PLAN_K_BASE));
	int r = hash_inputs(md, stdlib_lookup(SCHEMA_BASE, base),
	                    json_object_get(from, PLAN_K_ARGS), local_root, err);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	return r < 0 ? NULL : hex(d, n);
}

char *cache_stage_key(const char *prev, json_t *stage, json_t *handlers, json_t *secrets,
                      const char *local_root, struct rt_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "kiln " KILN_VERSION, sizeof("kiln " KILN_VERSION));
	EVP_DigestUpdate(md, prev, strlen(prev) + 1);
	hash_json(md, "stage", stage);
	hash_json(md, "handlers", handlers);
	/* the keyed hashes of the secrets the stage reads (secret.h): a new password
	   makes a new layer, of the stages that read it only */
	hash_json(md, "secrets", secrets);
	/* what the tasks and the handlers they may notify read from the build machine */
	int r = hash_task_inputs(md, json_object_get(stage, PLAN_K_TASKS), local_root, err);
	size_t i;
	json_t *h;
	json_array_foreach (handlers, i, h) {
		if (r == 0)
			r = hash_task_inputs(md, json_object_get(h, PLAN_K_TASKS), local_root, err);
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	return r < 0 ? NULL : hex(d, n);
}

char *cache_lookup(const char *cache_dir, const char *key)
{
	char *path = xasprintf("%s/stages/%s.tar", cache_dir, key);
	if (access(path, R_OK) == 0)
		return path;
	free(path);
	return NULL;
}

int cache_store(const char *cache_dir, const char *key, const char *layer_tar, struct rt_error *err)
{
	char *dir = xasprintf("%s/stages", cache_dir);
	if ((mkdir(cache_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		int e = -errno;
		free(dir);
		return rt_error_errno(err, e, "cannot create the cache directory %s", cache_dir);
	}
	char *final = xasprintf("%s/%s.tar", dir, key);
	free(dir);
	struct atomic_file af;
	int r = atomic_file_open(&af, final, 0600, ATOMIC_NO_DIRECT, err);
	int in = r < 0 ? -1 : open(layer_tar, O_RDONLY | O_CLOEXEC);
	if (r >= 0 && in < 0)
		r = rt_error_errno(err, -errno, "cannot store a stage in the cache");
	char buf[1 << 16];
	ssize_t n = 0;
	while (r >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		int w = fd_write_all(af.fd, buf, (size_t)n);
		if (w < 0)
			r = rt_error_errno(err, w, "cannot write the cache");
	}
	if (r >= 0 && n < 0)
		r = rt_error_errno(err, -errno, "cannot read %s", layer_tar);
	if (r >= 0)
		r = atomic_file_commit(&af, err);
	if (in >= 0)
		close(in);
	atomic_file_abort(&af);
	free(final);
	return r;
}
