/*
 * secret: the stage cache's keyed hashes of secrets; see secret.h.
 */
#include "secret.h"

#include "arena.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_key(int fd, const char *path, unsigned char key[SECRET_KEY_LEN],
                    struct rt_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return rt_error_errno(err, -errno, "cannot read %s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 07777) != 0600 ||
	    st.st_size != SECRET_KEY_LEN)
		return rt_error_set(err, -EPERM,
		                    "%s is not a regular file of %d bytes owned by this user "
		                    "with mode 0600: remove it, a new one is made",
		                    path, SECRET_KEY_LEN);
	size_t got = 0;
	while (got < SECRET_KEY_LEN) {
		ssize_t n = read(fd, key + got, SECRET_KEY_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return rt_error_errno(err, n < 0 ? -errno : -EIO, "cannot read %s", path);
		got += (size_t)n;
	}
	return 0;
}

static int fill_random(unsigned char *buf, size_t len, struct rt_error *err)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_error_errno(err, -errno, "getrandom");
		got += (size_t)n;
	}
	return 0;
}

/* Write a new key under a name of our own, then link it in place: whoever links
   first wins, and nobody reads a half-written key. */
static int create_key(const char *cache_dir, const char *path, struct rt_error *err)
{
	if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
		return rt_error_errno(err, -errno, "cannot create the cache directory %s",
		                      cache_dir);
	unsigned char key[SECRET_KEY_LEN], tag[8];
	if (fill_random(key, sizeof(key), err) < 0 || fill_random(tag, sizeof(tag), err) < 0)
		return -1;
	char *tmp = xasprintf("%s/.secret-key.%02x%02x%02x%02x%02x%02x%02x%02x", cache_dir, tag[0],
	                      tag[1], tag[2], tag[3], tag[4], tag[5], tag[6], tag[7]);
	int r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = rt_error_errno(err, -errno, "cannot create %s", tmp);
		goto out;
	}
	size_t done = 0;
	while (done < sizeof(key)) {
		ssize_t n = write(fd, key + done, sizeof(key) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(err, -errno, "cannot write %s", tmp);
			break;
		}
		done += (size_t)n;
	}
	if (r == 0 && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		r = rt_error_errno(err, -errno, "cannot write %s", tmp);
	close(fd);
	if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
		r = rt_error_errno(err, -errno, "cannot create %s", path);
	unlink(tmp);
out:
	explicit_bzero(key, sizeof(key));
	free(tmp);
	return r;
}

int secret_key_load(const char *cache_dir, bool create, unsigned char key[SECRET_KEY_LEN],
                    struct rt_error *err)
{
	char *path = xasprintf("%s/secret-key", cache_dir);
	int r;
	for (int attempt = 0;; attempt++) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd >= 0) {
			r = read_key(fd, path, key, err);
			close(fd);
			break;
		}
		if (errno == ELOOP) {
			r = rt_error_set(err, -EPERM,
			                 "%s is a symbolic link: remove it, a new key is made",
			                 path);
			break;
		}
		if (errno != ENOENT || attempt > 0) {
			r = rt_error_errno(err, -errno, "cannot read %s", path);
			break;
		}
		if (!create) {
			r = -ENOENT;
			break;
		}
		if ((r = create_key(cache_dir, path, err)) < 0)
			break;
	}
	free(path);
	return r;
}

/* in_expr: v is inside a plan expression ({"$expr": ...}), where {"secret": NAME}
   reads a secret and {"const": ...} is a plain value */
static void refs(json_t *v, json_t *names, bool in_expr, int depth)
{
	if (depth > 1000)
		return;
	if (json_is_object(v)) {
		if (json_object_size(v) == 1) {
			const char *k = json_object_iter_key(json_object_iter(v));
			json_t *x = json_object_iter_value(json_object_iter(v));
			if (!in_expr && !strcmp(k, "$expr")) {
				refs(x, names, true, depth + 1);
				return;
			}
			if (in_expr && !strcmp(k, "secret") && json_is_string(x)) {
				json_object_set_new(names, json_string_value(x), json_true());
				return;
			}
			if (in_expr && !strcmp(k, "const"))
				return;
		}
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			refs(x, names, in_expr, depth + 1);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			refs(x, names, in_expr, depth + 1);
		}
	}
}

void secret_refs(json_t *v, json_t *names)
{
	refs(v, names, false, 0);
}

char *secret_mac(const unsigned char key[SECRET_KEY_LEN], const char *name, const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value);
	unsigned char *msg = xmalloc(nl + vl);
	memcpy(msg, name, nl); /* with its NUL: "ab"+"c" is not "a"+"bc" */
	memcpy(msg + nl, value, vl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, SECRET_KEY_LEN, msg, nl + vl, md, &n);
	explicit_bzero(msg, nl + vl);
	free(msg);
	char *hex = xmalloc(2 * n + 1);
	hex_encode(md, n, hex);
	return hex;
}
