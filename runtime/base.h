/*
 * base: the root filesystems images start from. Input: the plan's "from"
 * ({"base": NAME, "args": {...}}). Output: a populated directory. Downloads
 * and debootstrap results are cached under the cache directory, keyed by
 * their arguments, so a second build does not download again.
 *
 *   debian(suite, variant, mirror, components, include)  debootstrap
 *   busybox()          a minimal rootfs from Debian's busybox-static
 *   tarball(path)      a root filesystem tarball from the build machine
 *   oci(path, tag)     an OCI image layout (another kiln build's output)
 *   scratch()          an empty directory
 *
 * Archives are extracted so that no entry lands outside the directory: no
 * absolute names, no "..", no hard link leaving the root, no write through a
 * symlink; an OCI blob whose digest does not match is refused.
 *
 * The cache directory is ctx->cache_dir; when that is NULL, $KILN_CACHE_DIR,
 * else /var/cache/kiln for root, else $XDG_CACHE_HOME/kiln or ~/.cache/kiln.
 * debian() keeps there debian/KEY.tar.zst + KEY.json (the finished tree, KEY
 * the SHA-256 of its canonical arguments, mirror and architecture included)
 * and debian/debs/ (the downloaded .debs); entries never expire: remove the
 * directory to start afresh. busybox() copies the build machine's
 * /bin/busybox (Debian's busybox-static).
 *
 * dest must be an existing, empty directory; on failure it is left empty.
 * Errors name the base ("tarball(): '...': entry '../x': refused: '..'
 * component"). rt_interrupted stops a base with -EINTR (debootstrap's whole
 * process group is stopped and nothing it mounted stays mounted).
 */
#ifndef KILN_BASE_H
#define KILN_BASE_H

#include "rt.h"

#include <jansson.h>
#include <stdbool.h>

struct base_ctx {
	const char *cache_dir;  /* e.g. /var/cache/kiln, created if missing; NULL: see above */
	const char *local_root; /* plan paths (tarball, oci) are relative to it */
	/* progress: called now and then with a line for a person; may be NULL */
	void (*progress)(void *data, const char *line);
	void *progress_data;
	/* may be NULL; else the base sets there "config" (the runtime config of the image
	   it started from, an OCI config's "config" object: oci(), registry()) and "digest"
	   (the manifest a registry reference resolved to) */
	json_t *out;
	bool refresh; /* make the base again, not from its own cache (--refresh-base) */
};

/*
 * Whether every base schema (stdlib/base_*.c) has exactly one implementation
 * and every implementation a schema: 0, or < 0 with *err naming the first
 * that does not.
 */
int base_check_impls(struct rt_error *err);

/* Fill the empty directory dest with the base described by from. */
int base_create(const struct base_ctx *ctx, json_t *from, const char *dest, struct rt_error *err);

/*
 * For a registry() base (from: the plan's "from"): the manifest digest its reference
 * names now: a pin itself, a tag as the registry answers (recorded in the cache), or,
 * when the registry cannot be reached, what the tag last resolved to. The stage keys
 * of the image follow it, so a tag that moved rebuilds (plan_status.c).
 */
int base_registry_resolve(const struct base_ctx *ctx, json_t *from, char ret[72],
                          struct rt_error *err);

#endif
