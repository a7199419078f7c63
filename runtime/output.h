/*
 * output: the artifacts an image build writes, each under a temporary name
 * in the destination's directory and renamed into place only on success:
 * a failed or interrupted build never leaves a half artifact under the
 * final name.
 *
 *   oci             an OCI image layout (one layer per stage, tag in index.json)
 *   docker-archive  the tar that `docker load` reads
 *   tar             the root filesystem as a tarball (.gz, .zst by extension)
 *   checksum        sha256 (or sha512) sums of the build's other artifacts
 *   manifest        a JSON record of the build's artifacts and digests
 *
 * Layers: after the base and after each stage the executor asks layer.c for
 * the stage's changes (a tar with whiteouts for removed files); outputs put
 * them together. Peak memory does not grow with the tree's size.
 * Reproducible: entries sorted, owners numeric, every time (file mtimes,
 * the config's created, history, archive entries) the image time: 0 (the
 * epoch) unless SOURCE_DATE_EPOCH says otherwise; mtimes above it are clamped.
 */
#ifndef KILN_OUTPUT_H
#define KILN_OUTPUT_H

#include "rt.h"

#include <jansson.h>
#include <stdint.h>

/* A snapshot of a tree's metadata, to find what a stage changed. */
struct layer_snap;

/* Record the tree under dir (paths, types, modes, owners, sizes, mtimes, ctimes). */
int layer_snapshot(const char *dir, struct layer_snap **ret, struct rt_error *err);
void layer_snap_free(struct layer_snap *s);

struct layer {
	char *path;       /* an uncompressed tar of the layer, in the work directory */
	char diff_id[72]; /* "sha256:..." of the uncompressed tar */
	uint64_t size;
};

/*
 * Write the changes of dir since prev (NULL: the whole tree) as a tar at
 * tar_path: new and changed entries, and a whiteout (.wh.NAME) for each
 * removed one. Fills *ret (path is a copy of tar_path).
 */
int layer_write(const char *dir, const struct layer_snap *prev, const char *tar_path,
                struct layer *ret, struct rt_error *err);
void layer_release(struct layer *l);

struct output_ctx {
	json_t *plan;               /* the whole plan (an image's parents); may be NULL */
	json_t *image;              /* the plan's image: name, config, ... */
	json_t *output;             /* the plan's output: type, path, args */
	const char *local_root;     /* output paths are relative to it */
	const char *rootfs_dir;     /* the finished root filesystem */
	const struct layer *layers; /* the image's layers, base first */
	size_t nlayers;
	json_t *artifacts;   /* array: what earlier outputs of this build wrote
	                        ({"type","path","digest","size"}); outputs append to it */
	json_t *secrets;     /* name -> value, for the {"$expr"} in args (may be NULL) */
	json_t *base_config; /* the base image's runtime config, which the plan's extends */
	/* the cache directory: compressed layers are cached there; registry: blobs known
	   to be there (NULL: not cached) */
	const char *cache_dir;
	json_t
	    *notes; /* array: lines an output adds for the events (what it reused); may be NULL */
};

int output_write(const struct output_ctx *ctx, struct rt_error *err);

/*
 * The image time, in seconds since the epoch: SOURCE_DATE_EPOCH when set (returns 1),
 * else 0 (returns 0: the build's own time is never used, so two builds of the same
 * inputs are byte-identical); < 0 when SOURCE_DATE_EPOCH is malformed.
 */
int out_epoch(int64_t *ret, struct rt_error *err);

/*
 * Whether every output schema (stdlib/out_*.c) has exactly one implementation
 * and every implementation a schema: 0, or < 0 with *err naming the first
 * that does not.
 */
int output_check_impls(struct rt_error *err);

#endif
