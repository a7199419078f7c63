/*
 * base: the plan's "from" -> a filled root directory. Checks the call
 * ({"base": NAME, "args": {...}}) and its argument names against the base's
 * schema, finds its implementation by that schema, resolves the cache
 * directory, opens the destination (which must be an empty directory) and
 * hands it to the base. Invariant: when a base fails, the destination is
 * left empty again, so a half-made root filesystem is never used.
 */
#include "base_int.h"

#include "arena.h"
#include "builtins.h"
#include "extract.h"
#include "path.h"
#include "plan_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* every implementation; base_create finds one by the schema of the plan's base */
static const struct base_impl *const impls[] = {
    &base_debian_impl, &base_busybox_impl, &base_tarball_impl,
    &base_oci_impl,    &base_scratch_impl, &base_registry_impl,
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

/* The implementation of schema s: the one of its name, or NULL. */
static const struct base_impl *impl_of(const struct kiln_schema *s)
{
	for (size_t i = 0; s && i < N_IMPLS; i++)
		if (!strcmp(impls[i]->name, s->name))
			return impls[i];
	return NULL;
}

int base_check_impls(struct rt_error *err)
{
	const char *names[N_IMPLS];
	for (size_t j = 0; j < N_IMPLS; j++)
		names[j] = impls[j]->name;
	char *msg = stdlib_check_impls(SCHEMA_BASE, names, N_IMPLS);
	if (!msg)
		return 0;
	rt_error_set(err, -ENOSYS, "%s", msg);
	free(msg);
	return -ENOSYS;
}

void base_progress(const struct base_run *b, const char *fmt, ...)
{
	if (!b->ctx->progress)
		return;
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: ", b->name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	b->ctx->progress(b->ctx->progress_data, line);
}

int base_arg_string(const struct base_run *b, const char *name, const char *def, const char **ret)
{
	json_t *v = json_object_get(b->args, name);
	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_string(v))
		return rt_error_set(b->err, -EINVAL, "%s(): argument '%s' must be a string",
		                    b->name, name);
	*ret = json_string_value(v);
	return 0;
}

int base_arg_strings(const struct base_run *b, const char *name, json_t **ret)
{
	json_t *v = json_object_get(b->args, name);
	if (!v || json_is_null(v)) {
		*ret = json_array();
		return 0;
	}
	size_t i;
	json_t *item;
	if (!json_is_array(v))
		goto bad;
	json_array_foreach (v, i, item) {
		if (!json_is_string(item))
			goto bad;
	}
	*ret = json_incref(v);
	return 0;
bad:
	return rt_error_set(b->err, -EINVAL, "%s(): argument '%s' must be a list of strings",
	                    b->name, name);
}

char *base_local_path(const struct base_run *b, const char *p)
{
	return path_from_root(b->ctx->local_root, p);
}

int base_mkdir_p(const char *path, mode_t mode, struct rt_error *err)
{
	char *buf = xstrdup(path);
	int r = 0;
	for (char *s = buf + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST) {
			r = rt_error_errno(err, -errno, "cannot make directory '%s'", buf);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(buf);
	if (r == 0) {
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			r = rt_error_set(err, -ENOTDIR, "'%s' is not a directory", path);
	}
	return r;
}

int base_capture(const char *const *argv, char **ret_out, struct rt_error *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return rt_error_errno(err, -errno, "pipe");
	pid_t pid;
	int r = rt_spawn(argv, pfd[1], &pid, err);
	close(pfd[1]);
	if (r < 0) {
		close(pfd[0]);
		return r;
	}
	size_t cap = 4096, len = 0, max = 1024 * 1024;
	char *out = xmalloc(cap);
	char buf[4096];
	for (;;) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = len + (size_t)n > max ? max - len : (size_t)n;
		if (len + take + 1 > cap) {
			while (len + take + 1 > cap)
				cap *= 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + len, buf, take);
		len += take;
	}
	out[len] = '\0';
	close(pfd[0]);
	r = rt_wait_child(pid, err);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_out = out;
	return r;
}

/* KILN_CACHE_DIR, else /var/cache/kiln as root, else $XDG_CACHE_HOME/kiln or ~/.cache/kiln. */
const char *base_host_arch(void)
{
	static const char *const map[][2] = {
	    {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
	    {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};
	static struct utsname u;
	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(u.machine, map[i][0]))
			return map[i][1];
	return u.machine;
}

static char *default_cache_dir(void)
{
	const char *env = getenv("KILN_CACHE_DIR");
	if (env && env[0])
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/var/cache/kiln");
	env = getenv("XDG_CACHE_HOME");
	if (env && env[0] == '/')
		return xasprintf("%s/kiln", env);
	env = getenv("HOME");
	return xasprintf("%s/.cache/kiln", env && env[0] ? env : "/tmp");
}

static int check_empty(int fd, const char *dest, struct rt_error *err)
{
	int dfd = dup(fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		int r = -errno;
		if (dfd >= 0)
			close(dfd);
		return rt_error_errno(err, r, "cannot read '%s'", dest);
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = rt_error_set(err, -ENOTEMPTY,
			                 "cannot make a base in '%s': the directory is not empty",
			                 dest);
			break;
		}
	}
	closedir(d);
	return r;
}

int base_create(const struct base_ctx *ctx, json_t *from, const char *dest, struct rt_error *err)
{
	json_t *jname = json_object_get(from, PLAN_K_BASE);
	if (!json_is_string(jname))
		return rt_error_set(err, -EINVAL, "the image's 'from' names no base");
	const char *name = json_string_value(jname);
	const struct kiln_schema *schema = stdlib_lookup(SCHEMA_BASE, name);
	const struct base_impl *be = impl_of(schema);
	if (!schema)
		return rt_error_set(err, -EINVAL, "unknown base '%s'", name);
	if (!be)
		return rt_error_set(err, -ENOSYS, "base %s() has no implementation", name);
	json_t *args = json_object_get(from, PLAN_K_ARGS);
	if (args && !json_is_object(args))
		return rt_error_set(err, -EINVAL, "%s(): 'args' must be an object", name);
	json_t *no_args_obj = json_object();
	if (!args)
		args = no_args_obj;
	const char *key;
	json_t *value;
	int r = 0;
	json_object_foreach (args, key, value) {
		if (!stdlib_arg(schema, key)) {
			r = rt_error_set(err, -EINVAL, "%s(): unknown argument '%s'", name, key);
			json_decref(no_args_obj);
			return r;
		}
	}

	char *cache_dir = ctx->cache_dir ? xstrdup(ctx->cache_dir) : default_cache_dir();
	struct base_run b = {
	    .ctx = ctx,
	    .name = name,
	    .args = args,
	    .dest = dest,
	    .dest_fd = -1,
	    .cache_dir = cache_dir,
	    .err = err,
	};
	b.dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b.dest_fd < 0) {
		r = rt_error_errno(err, -errno, "cannot open '%s'", dest);
		goto out;
	}
	r = check_empty(b.dest_fd, dest, err);
	if (r < 0)
		goto out;
	r = be->create(&b);
	if (r < 0) {
		struct rt_error ignored;
		(void)extract_clear_dir(b.dest_fd, &ignored);
	}
out:
	if (b.dest_fd >= 0)
		close(b.dest_fd);
	free(cache_dir);
	json_decref(no_args_obj);
	return r;
}
