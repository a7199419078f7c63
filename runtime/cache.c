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
#include "workdir.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

/* The sha256 (hex) of a file or tree of the build machine, as hash_path sees it. */
static int digest_path(const char *path, char ret_hex[65], struct rt_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	int r = hash_path(md, path, 0, err);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	if (r == 0)
		hex_encode(d, n, ret_hex);
	return r;
}

void cache_sha256_hex(const void *buf, size_t len, char ret_hex[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL);
	hex_encode(d, n, ret_hex);
}

/* The sha256 (hex) of a plan value as the key sees it (canonical JSON, no sources). */
static void digest_json(json_t *v, char ret_hex[65])
{
	json_t *clean = without_sources(v);
	char *s = json_dumps(clean, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(clean);
	cache_sha256_hex(s ? s : "", s ? strlen(s) : 0, ret_hex);
	free(s);
}

/*
 * The files of the build machine that a call reads, as its schema says (its
 * inputs): each one's argument name and the digest of its bytes; each also
 * appended to files ({"path", "sha256"}) when not NULL.
 */
static int hash_inputs(EVP_MD_CTX *md, const struct kiln_schema *s, json_t *args,
                       const char *local_root, json_t *files, struct rt_error *err)
{
	for (const char *const *in = s ? s->inputs : NULL; in && *in; in++) {
		json_t *v = json_object_get(args, *in);
		if (!json_is_string(v))
			continue;
		const char *p = json_string_value(v);
		char *path = path_from_root(local_root, p);
		char hexd[65];
		int r = digest_path(path, hexd, err);
		free(path);
		if (r < 0)
			return r;
		EVP_DigestUpdate(md, *in, strlen(*in) + 1);
		EVP_DigestUpdate(md, hexd, 65);
		if (files)
			json_array_append_new(files,
			                      json_pack("{s:s, s:s}", "path", p, "sha256", hexd));
	}
	return 0;
}

/* The inputs of tasks (a plan's array of tasks), as their modules' schemas name them. */
static int hash_task_inputs(EVP_MD_CTX *md, json_t *tasks, const char *local_root, json_t *files,
                            struct rt_error *err)
{
	int r = 0;
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		const struct kiln_schema *s = stdlib_lookup(
		    SCHEMA_MODULE, json_string_value(json_object_get(t, PLAN_K_MODULE)));
		if (r == 0)
			r = hash_inputs(md, s, json_object_get(t, PLAN_K_ARGS), local_root, files,
			                err);
		/* a task on the build machine has effects outside the image */
		if (s && s->on_build_machine)
			EVP_DigestUpdate(md, "on the build machine", 21);
	}
	return r;
}

static char *finish_key(EVP_MD_CTX *md, int r)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	return r < 0 ? NULL : hex(d, n);
}

char *cache_base_key(json_t *from, const char *local_root, json_t *record, struct rt_error *err)
{
	/* the image time is in every layer's mtimes (output.h): a layer replayed from the
	   cache is the one a fresh build of the same time writes */
	int64_t epoch = 0;
	if (out_epoch(&epoch, err) < 0)
		return NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, "kiln " KILN_VERSION, sizeof("kiln " KILN_VERSION));
	char when[32];
	snprintf(when, sizeof(when), "time %lld", (long long)epoch);
	EVP_DigestUpdate(md, when, strlen(when) + 1);
	if (record)
		json_object_set_new(record, "image_time", json_integer(epoch));
	hash_json(md, "from", from);
	/* what the base reads from the build machine (a tarball, an OCI layout) */
	const char *base = json_string_value(json_object_get(from, PLAN_K_BASE));
	json_t *files = json_array();
	int r = hash_inputs(md, stdlib_lookup(SCHEMA_BASE, base),
	                    json_object_get(from, PLAN_K_ARGS), local_root, files, err);
	if (record) {
		char fh[65];
		digest_json(from, fh);
		json_object_set_new(record, "base", json_string(fh));
		json_object_set_new(record, "base_files", json_incref(files));
	}
	json_decref(files);
	return finish_key(md, r);
}

char *cache_stage_key(const char *prev, json_t *stage, json_t *handlers, json_t *secrets,
                      const char *local_root, json_t *record, struct rt_error *err)
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
	json_t *files = json_array();
	int r = hash_task_inputs(md, json_object_get(stage, PLAN_K_TASKS), local_root, files, err);
	size_t i;
	json_t *h;
	json_array_foreach (handlers, i, h) {
		if (r == 0)
			r = hash_task_inputs(md, json_object_get(h, PLAN_K_TASKS), local_root,
			                     files, err);
	}
	if (record) {
		/* the key's inputs, each by name with a digest: what plan diffs against */
		json_object_set_new(record, "kiln_version", json_string(KILN_VERSION));
		json_object_set_new(record, "parent", json_string(prev));
		json_t *tasks = json_array();
		json_t *t;
		json_array_foreach (json_object_get(stage, PLAN_K_TASKS), i, t) {
			char th[65];
			digest_json(t, th);
			json_t *id = json_object_get(t, PLAN_K_ID);
			json_array_append_new(
			    tasks,
			    json_pack("{s:O, s:s}", "id", id ? id : json_null(), "sha256", th));
		}
		json_object_set_new(record, "tasks", tasks);
		char hh[65];
		digest_json(handlers, hh);
		json_object_set_new(record, "handlers", json_string(hh));
		json_object_set_new(record, "files", json_incref(files));
		json_object_set(record, "secrets", secrets);
	}
	json_decref(files);
	return finish_key(md, r);
}

char *cache_lookup(const char *cache_dir, const char *key)
{
	char *path = xasprintf("%s/stages/%s.tar", cache_dir, key);
	if (access(path, R_OK) == 0)
		return path;
	free(path);
	return NULL;
}

void cache_touch(const char *cache_dir, const char *key)
{
	/* the record's time is when the entry was last used: prune goes by it */
	char *path = xasprintf("%s/stages/%s.json", cache_dir, key);
	(void)utimensat(AT_FDCWD, path, NULL, 0);
	free(path);
}

int cache_mkdir(const char *cache_dir, const char *sub, struct rt_error *err)
{
	char *dir = xasprintf("%s/%s", cache_dir, sub);
	int r = 0;
	if ((mkdir(cache_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST))
		r = rt_error_errno(err, -errno, "cannot create the cache directory %s", dir);
	free(dir);
	return r;
}

int cache_write_json(const char *path, json_t *v, struct rt_error *err)
{
	return cache_write_json_flags(path, v, 0, err);
}

int cache_write_json_flags(const char *path, json_t *v, unsigned flags, struct rt_error *err)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	struct atomic_file af;
	int r = atomic_file_open(&af, path, 0600, ATOMIC_NO_DIRECT | flags, err);
	if (r >= 0) {
		int w = fd_write_all(af.fd, text, strlen(text));
		if (w < 0)
			r = rt_error_errno(err, w, "cannot write %s", path);
		else
			r = atomic_file_commit(&af, err);
	}
	atomic_file_abort(&af);
	free(text);
	return r;
}

int cache_copy_file(const char *from, const char *to, mode_t mode, struct rt_error *err)
{
	struct atomic_file af;
	int r = atomic_file_open(&af, to, mode, ATOMIC_NO_DIRECT, err);
	int in = r < 0 ? -1 : open(from, O_RDONLY | O_CLOEXEC);
	if (r >= 0 && in < 0)
		r = rt_error_errno(err, -errno, "cannot read %s", from);
	char buf[1 << 16];
	ssize_t n = 0;
	while (r >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		int w = fd_write_all(af.fd, buf, (size_t)n);
		if (w < 0)
			r = rt_error_errno(err, w, "cannot write %s", to);
	}
	if (r >= 0 && n < 0)
		r = rt_error_errno(err, -errno, "cannot read %s", from);
	if (r >= 0)
		r = atomic_file_commit(&af, err);
	if (in >= 0)
		close(in);
	atomic_file_abort(&af);
	return r;
}

char *cache_blob_key(const char *src_hex, const char *settings)
{
	char *text = xasprintf("%s\n%s", src_hex, settings);
	char h[65];
	cache_sha256_hex(text, strlen(text), h);
	free(text);
	return xstrdup(h);
}

char *cache_blob_path(const char *cache_dir, const char *hex)
{
	return xasprintf("%s/blobs/sha256/%s", cache_dir, hex);
}

char *cache_blob_find(const char *cache_dir, const char *key, const char *want_hex,
                      uint64_t *ret_size)
{
	char *rp = xasprintf("%s/blobs/%s.json", cache_dir, key);
	json_t *d = json_load_file(rp, 0, NULL);
	const char *digest = json_string_value(json_object_get(d, "digest"));
	json_int_t size = json_integer_value(json_object_get(d, "size"));
	char *path = NULL;
	struct stat sb;
	if (digest && !strncmp(digest, "sha256:", 7) && strlen(digest) == 71 &&
	    strspn(digest + 7, "0123456789abcdef") == 64 &&
	    (!want_hex || !strcmp(digest + 7, want_hex))) {
		path = cache_blob_path(cache_dir, digest + 7);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (json_int_t)sb.st_size == size) {
			*ret_size = (uint64_t)size;
			(void)utimensat(AT_FDCWD, rp, NULL, 0); /* used now (cache prune) */
		} else {
			free(path);
			path = NULL;
		}
	}
	json_decref(d);
	free(rp);
	return path;
}

int cache_blob_record(const char *cache_dir, const char *key, const char *hex, uint64_t size,
                      const char *what, struct rt_error *err)
{
	char *rp = xasprintf("%s/blobs/%s.json", cache_dir, key);
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	json_t *d =
	    json_pack("{s:s, s:I, s:s}", "digest", digest, "size", (json_int_t)size, "what", what);
	int r = cache_write_json(rp, d, err);
	json_decref(d);
	free(rp);
	return r;
}

int cache_store(const char *cache_dir, const char *key, const char *layer_tar, json_t *record,
                struct rt_error *err)
{
	int r = cache_mkdir(cache_dir, "stages", err);
	if (r < 0)
		return r;
	char *final = xasprintf("%s/stages/%s.tar", cache_dir, key);
	/* a hard link when the work directory is on the cache's file system (the work
	   file is not written again): no copy of a base's hundreds of megabytes */
	char *tmp = xasprintf("%s/stages/.%s.kiln-link.%ld", cache_dir, key, (long)getpid());
	(void)unlink(tmp);
	if (link(layer_tar, tmp) == 0 && chmod(tmp, 0600) == 0 && rename(tmp, final) == 0)
		r = 0;
	else
		r = cache_copy_file(layer_tar, final, 0600, err);
	(void)unlink(tmp);
	free(tmp);
	free(final);
	if (r < 0 || !record)
		return r;
	/* the record of the key's inputs, beside the layer (never a secret: those are
	   keyed hashes) */
	json_t *rec = json_copy(record);
	json_object_set_new(rec, "key", json_string(key));
	json_object_set_new(rec, "created", json_integer((json_int_t)time(NULL)));
	char *path = xasprintf("%s/stages/%s.json", cache_dir, key);
	r = cache_write_json(path, rec, err);
	free(path);
	json_decref(rec);
	return r;
}

/* ---- records --------------------------------------------------------------------------- */

json_t *cache_records(const char *cache_dir, const char *sub)
{
	json_t *all = json_array();
	char *dir = xasprintf("%s/%s", cache_dir, sub);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct stat sb;
		json_t *rec = stat(path, &sb) == 0 ? json_load_file(path, 0, NULL) : NULL;
		if (json_is_object(rec)) {
			json_object_set_new(rec, "_used",
			                    json_real((double)sb.st_mtim.tv_sec +
			                              (double)sb.st_mtim.tv_nsec / 1e9));
			json_object_set_new(rec, "_file", json_string(e->d_name));
			json_array_append(all, rec);
		}
		json_decref(rec);
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	return all;
}

json_t *cache_latest_record(json_t *records, const char *image, const char *stage)
{
	json_t *best = NULL;
	double when = -1;
	size_t i;
	json_t *r;
	json_array_foreach (records, i, r) {
		const char *im = json_string_value(json_object_get(r, "image"));
		const char *st = json_string_value(json_object_get(r, "stage"));
		double t = json_real_value(json_object_get(r, "_used"));
		if (im && st && !strcmp(im, image) && !strcmp(st, stage) && t > when) {
			best = r;
			when = t;
		}
	}
	return best;
}

/* The entry of list (of {"id"/"path"/name, "sha256"}) whose field f is name. */
static json_t *find_by(json_t *list, const char *f, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach (list, i, e) {
		const char *v = json_string_value(json_object_get(e, f));
		if (v && !strcmp(v, name))
			return e;
	}
	return NULL;
}

static bool same(json_t *a, json_t *b, const char *k)
{
	json_t *x = json_object_get(a, k), *y = json_object_get(b, k);
	return x == y || json_equal(x, y); /* both absent, or equal */
}

/* The first entry of now (by field f) that is not in old with the same digest. */
static char *list_change(json_t *old, json_t *now, const char *f, const char *what)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(now, f[0] == 'i' ? "tasks" : "files"), i, e) {
		const char *name = json_string_value(json_object_get(e, f));
		if (!name)
			continue;
		json_t *o = find_by(json_object_get(old, f[0] == 'i' ? "tasks" : "files"), f, name);
		if (!o)
			return xasprintf("%s %s added", what, name);
		if (!same(o, e, "sha256"))
			return xasprintf("%s %s changed", what, name);
	}
	json_array_foreach (json_object_get(old, f[0] == 'i' ? "tasks" : "files"), i, e) {
		const char *name = json_string_value(json_object_get(e, f));
		if (name &&
		    !find_by(json_object_get(now, f[0] == 'i' ? "tasks" : "files"), f, name))
			return xasprintf("%s %s removed", what, name);
	}
	return NULL;
}

/* The first name of object k whose value differs between old and now. */
static char *map_change(json_t *old, json_t *now, const char *k, const char *what)
{
	json_t *o = json_object_get(old, k), *n = json_object_get(now, k);
	const char *name;
	json_t *v;
	json_object_foreach (n, name, v) {
		json_t *w = json_object_get(o, name);
		if (!w || !json_equal(v, w))
			return xasprintf("%s %s changed", what, name);
	}
	json_object_foreach (o, name, v) {
		if (!json_object_get(n, name))
			return xasprintf("%s %s changed", what, name);
	}
	return NULL;
}

char *cache_record_diff(json_t *old, json_t *now)
{
	if (!old)
		return xstrdup("not built before");
	char *why;
	if (!same(old, now, "kiln_version"))
		return xstrdup("kiln version changed");
	if (!same(old, now, "base") || !same(old, now, "base_files"))
		return xstrdup("base changed");
	if (!same(old, now, "parent")) {
		/* what the stage starts from: "base", "image NAME" or "stage NAME" */
		const char *after = json_string_value(json_object_get(now, "after"));
		if (!after || !strcmp(after, "base"))
			return xstrdup("base changed");
		return xasprintf("%s changed", after);
	}
	if ((why = map_change(old, now, "secrets", "param")))
		return why;
	bool tasks_differ = !same(old, now, "tasks");
	/* a param's value is in the tasks' arguments: it is named when a task changed */
	if (tasks_differ && (why = map_change(old, now, "params", "param")))
		return why;
	if ((why = list_change(old, now, "id", "task")))
		return why;
	if (tasks_differ)
		return xstrdup("tasks reordered");
	if ((why = list_change(old, now, "path", "file")))
		return why;
	if (!same(old, now, "handlers"))
		return xstrdup("handlers changed");
	return xstrdup("inputs changed");
}

/* ---- locks ----------------------------------------------------------------------------- */

/* The pid of another live kiln with an apply-X/pid under the work directory dir, or 0. */
static long work_holder(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long found = 0;
	while (d && !found && (e = readdir(d))) {
		if (strncmp(e->d_name, "apply-", 6))
			continue;
		char *run = xasprintf("%s/%s", dir, e->d_name);
		pid_t pid = workdir_run_pid(run);
		free(run);
		if (pid > 0 && pid != getpid())
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

int cache_lock(const char *dir, const char *what, bool use_file, double timeout, int *ret_fd,
               struct rt_error *err)
{
	*ret_fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rt_error_errno(err, -errno, "cannot create the %s %s", what, dir);
	/* the cache holds a lock file with the holder's pid; a work directory is locked
	   itself (it must stay empty between applies): its holder is the live kiln of an
	   apply-X/pid under it */
	char *path = use_file ? xasprintf("%s/lock", dir) : xstrdup(dir);
	int fd = use_file ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
	                  : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = -errno;
		free(path);
		return rt_error_errno(err, e, "cannot open the lock of the %s %s", what, dir);
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = -errno;
			close(fd);
			free(path);
			return rt_error_errno(err, e, "cannot lock %s", dir);
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double waited = (double)(now.tv_sec - start.tv_sec) +
		                (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (waited >= timeout || rt_interrupted) {
			char buf[32] = {0};
			ssize_t n = use_file ? pread(fd, buf, sizeof(buf) - 1, 0) : 0;
			long pid = n > 0 ? strtol(buf, NULL, 10) : use_file ? 0 : work_holder(dir);
			close(fd);
			free(path);
			char holder[48] = "another kiln";
			if (pid > 0)
				snprintf(holder, sizeof(holder), "another kiln (pid %ld)", pid);
			if (timeout > 0)
				return rt_error_set(
				    err, -EBUSY,
				    "%s still uses the %s %s after %.0f s of waiting; "
				    "wait for it to end, or give a longer --lock-timeout",
				    holder, what, dir, timeout);
			return rt_error_set(err, -EBUSY,
			                    "%s is using the %s %s; wait for it to end, or give "
			                    "--lock-timeout=SECS to wait for it",
			                    holder, what, dir);
		}
		struct timespec step = {0, 50 * 1000 * 1000};
		nanosleep(&step, NULL);
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (use_file && ftruncate(fd, 0) == 0)
		(void)pwrite(fd, pid, (size_t)n, 0);
	if (use_file) /* the cache's: what killed kilns left is theirs to remove now */
		(void)cache_clean_temps(dir);
	free(path);
	*ret_fd = fd;
	return 0;
}

/* ---- ls and prune ---------------------------------------------------------------------- */

static double mtime_of(const char *path, uint64_t *size)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return -1;
	if (size)
		*size = (uint64_t)sb.st_size;
	return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
}

static void add_entry(json_t *list, const char *kind, const char *key, const char *what,
                      uint64_t size, double used, json_t *files)
{
	json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:f, s:o}", "kind", kind, "key",
	                                      key, "what", what, "size", (json_int_t)size, "used",
	                                      used, "files", files));
}

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_bytes += (uint64_t)sb->st_blocks * 512;
	return 0;
}

/*
 * An entry kept with a record (stages, blobs, trees): listed when its data is there (a file,
 * or a tree's directory, sized by its blocks), last used when the record says. Takes data
 * and rec (freed). True when listed.
 */
static bool add_recorded(json_t *list, const char *kind, const char *key, const char *what,
                         json_t *record, char *data, char *rec)
{
	uint64_t size = 0;
	bool there;
	if (!strcmp(kind, "tree")) {
		tree_bytes = 0;
		there = nftw(data, add_size, 32, FTW_PHYS | FTW_MOUNT) == 0;
		size = tree_bytes;
	} else {
		there = mtime_of(data, &size) >= 0;
	}
	if (there)
		add_entry(list, kind, key, what, size,
		          json_real_value(json_object_get(record, "_used")),
		          json_pack("[s,s]", data, rec));
	free(data);
	free(rec);
	return there;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

json_t *cache_list(const char *cache_dir)
{
	json_t *list = json_array();
	/* stages: the layer and its record */
	json_t *recs = cache_records(cache_dir, "stages");
	size_t i;
	json_t *r;
	json_t *seen = json_object();
	json_array_foreach (recs, i, r) {
		const char *key = json_string_value(json_object_get(r, "key"));
		const char *file = json_string_value(json_object_get(r, "_file"));
		if (!key || !file || strlen(file) != strlen(key) + 5 ||
		    strncmp(file, key, strlen(key)))
			continue;
		char *what = xasprintf("%s/%s", json_string_value(json_object_get(r, "image")),
		                       json_string_value(json_object_get(r, "stage")));
		if (add_recorded(list, "stage", key, what, r,
		                 xasprintf("%s/stages/%s.tar", cache_dir, key),
		                 xasprintf("%s/stages/%s", cache_dir, file)))
			json_object_set_new(seen, key, json_true());
		free(what);
	}
	json_decref(recs);
	/* layers stored without a record (by an older kiln) */
	char *dir = xasprintf("%s/stages", cache_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n != 68 || strcmp(e->d_name + 64, ".tar"))
			continue;
		char *key = xstrndup(e->d_name, 64);
		if (!json_object_get(seen, key)) {
			char *tar = xasprintf("%s/%s", dir, e->d_name);
			uint64_t size = 0;
			double used = mtime_of(tar, &size);
			add_entry(list, "stage", key, "(no record)", size, used,
			          json_pack("[s]", tar));
			free(tar);
		}
		free(key);
	}
	if (d)
		closedir(d);
	free(dir);
	json_decref(seen);
	/* compressed layer blobs */
	json_t *blobs = cache_records(cache_dir, "blobs");
	json_array_foreach (blobs, i, r) {
		const char *digest = json_string_value(json_object_get(r, "digest"));
		const char *file = json_string_value(json_object_get(r, "_file"));
		if (!digest || strncmp(digest, "sha256:", 7) || strchr(digest + 7, '/') || !file)
			continue;
		char *key = xstrndup(file, strlen(file) - 5);
		const char *kind = json_string_value(json_object_get(r, "what"));
		char *what = xasprintf("%s %.19s", kind ? kind : "layer", digest);
		add_recorded(list, "blob", key, what, r,
		             xasprintf("%s/blobs/sha256/%s", cache_dir, digest + 7),
		             xasprintf("%s/blobs/%s", cache_dir, file));
		free(what);
		free(key);
	}
	json_decref(blobs);
	/* images' finished trees, kept for the images built on them */
	json_t *trees = cache_records(cache_dir, "trees");
	json_array_foreach (trees, i, r) {
		const char *key = json_string_value(json_object_get(r, "key"));
		const char *im = json_string_value(json_object_get(r, "image"));
		if (!key || !im || strlen(key) != 64 || strchr(key, '/'))
			continue;
		add_recorded(list, "tree", key, im, r, xasprintf("%s/trees/%s", cache_dir, key),
		             xasprintf("%s/trees/%s.json", cache_dir, key));
	}
	json_decref(trees);
	/* the chunk lists of tar outputs (output_tar.c), one entry: its chunks are blobs */
	char *lists = xasprintf("%s/tarchunks", cache_dir);
	struct stat lsb;
	tree_bytes = 0;
	if (lstat(lists, &lsb) == 0 && S_ISDIR(lsb.st_mode) &&
	    nftw(lists, add_size, 32, FTW_PHYS | FTW_MOUNT) == 0)
		add_entry(list, "tar-lists", "tarchunks", "chunk lists of tar outputs", tree_bytes,
		          (double)lsb.st_mtim.tv_sec + (double)lsb.st_mtim.tv_nsec / 1e9,
		          json_pack("[s]", lists));
	free(lists);
	/* bases with a cache of their own (debian) */
	dir = xasprintf("%s/debian", cache_dir);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 9 || strcmp(e->d_name + n - 8, ".tar.zst"))
			continue;
		char *tar = xasprintf("%s/%s", dir, e->d_name);
		char *key = xstrndup(e->d_name, n - 8);
		char *rec = xasprintf("%s/%s.json", dir, key);
		json_t *j = json_load_file(rec, 0, NULL);
		const char *suite = json_string_value(json_object_get(j, "suite"));
		char *what = xasprintf("debian %s", suite ? suite : "");
		uint64_t size = 0;
		double used = mtime_of(tar, &size);
		add_entry(list, "base", key, what, size, used, json_pack("[s,s]", tar, rec));
		json_decref(j);
		free(what);
		free(rec);
		free(key);
		free(tar);
	}
	if (d)
		closedir(d);
	free(dir);
	return list;
}

static int by_used(const void *a, const void *b)
{
	double x = json_real_value(json_object_get(*(json_t *const *)a, "used"));
	double y = json_real_value(json_object_get(*(json_t *const *)b, "used"));
	return x < y ? -1 : x > y;
}

int cache_prune(const char *cache_dir, double older_than, uint64_t max_size, bool all,
                unsigned *ret_removed, uint64_t *ret_freed)
{
	json_t *list = cache_list(cache_dir);
	size_t n = json_array_size(list);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = json_array_get(list, i);
		total += (uint64_t)json_integer_value(json_object_get(v[i], "size"));
	}
	qsort(v, n, sizeof(*v), by_used); /* least recently used first */
	double now = (double)time(NULL);
	*ret_removed = 0;
	*ret_freed = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = (uint64_t)json_integer_value(json_object_get(v[i], "size"));
		double used = json_real_value(json_object_get(v[i], "used"));
		bool old = older_than >= 0 && now - used > older_than;
		bool over = max_size != UINT64_MAX && total > max_size;
		if (!all && !old && !over)
			continue;
		size_t j;
		json_t *f;
		json_array_foreach (json_object_get(v[i], "files"), j, f) {
			const char *path = json_string_value(f);
			struct stat sb;
			if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
				nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
			else
				(void)unlink(path);
		}
		total -= size;
		*ret_freed += size;
		(*ret_removed)++;
	}
	free(v);
	json_decref(list);
	return 0;
}
