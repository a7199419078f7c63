/*
 * base_int: what base.c shares with the bases (base_debian.c, base_busybox.c,
 * base_tarball.c, base_oci.c). Not for other parts of kiln: they use base.h.
 * base.c checks the plan's "from", resolves the cache directory, opens the
 * empty destination and, when a base fails, empties it again.
 */
#ifndef KILN_BASE_INT_H
#define KILN_BASE_INT_H

#include "base.h"

#include <stdbool.h>
#include <sys/types.h>

struct base_run {
	const struct base_ctx *ctx;
	const char *name;      /* "debian", ... */
	json_t *args;          /* the plan's arguments (an object; never NULL) */
	const char *dest;      /* the directory to fill */
	int dest_fd;           /* it, opened O_RDONLY | O_DIRECTORY */
	const char *cache_dir; /* resolved: ctx, KILN_CACHE_DIR or the default */
	struct rt_error *err;
};

/* A line for the ctx's progress callback (if any), prefixed with the base's name. */
void base_progress(const struct base_run *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Argument accessors: *ret is the argument's value, or def when the plan
 * leaves it out. A value of the wrong type is -EINVAL with *b->err set.
 */
int base_arg_string(const struct base_run *b, const char *name, const char *def, const char **ret);
/* A list of strings; *ret is a new reference (an empty array when absent and no def). */
int base_arg_strings(const struct base_run *b, const char *name, json_t **ret);

/* A path of the plan: absolute, or relative to ctx->local_root (or the cwd). Caller frees. */
char *base_local_path(const struct base_run *b, const char *path);

/* mkdir -p with mode for the directories it makes. */
int base_mkdir_p(const char *path, mode_t mode, struct rt_error *err);

/*
 * Run argv (looked up in PATH) with stdin from /dev/null, collect its
 * stdout (at most 1 MiB; stderr is dropped) and wait. Returns its exit
 * status (0-255, or 128 + a signal) and *ret_out (malloc'd, NUL-terminated),
 * or < 0 when it could not run: -ENOENT when argv[0] is not found.
 */
int base_capture(const char *const *argv, char **ret_out, struct rt_error *err);

/* The build machine's architecture as OCI platforms name it ("amd64", "arm64", ...):
   what oci() and registry() pick in an index of several platforms. */
const char *base_host_arch(void);

/* The bases. Each fills b->dest_fd's directory, or returns < 0 with *b->err. */
int base_debian(struct base_run *b);
int base_busybox(struct base_run *b);
int base_tarball(struct base_run *b);
int base_oci(struct base_run *b);
int base_registry(struct base_run *b);

/*
 * A base's implementation, defined in its base_NAME.c beside the function: name
 * is its schema's (stdlib/base_NAME.c), which says what arguments it takes.
 * base.c lists them and finds one by its schema.
 */
struct base_impl {
	const char *name;
	int (*create)(struct base_run *b);
};
extern const struct base_impl base_debian_impl, base_busybox_impl, base_tarball_impl, base_oci_impl,
    base_scratch_impl, base_registry_impl;

/*
 * The build machine's Debian mirror: the first "deb" URI of apt's sources
 * under apt_dir (normally "/etc/apt": sources.list, then sources.list.d's
 * *.list and *.sources in name order) whose last path component is "debian"
 * (http://deb.debian.org/debian, http://ftp.fr.debian.org/debian, ...), or
 * NULL when none is configured. Caller frees.
 */
char *base_debian_default_mirror(const char *apt_dir);

#endif
