/*
 * cache: the stage cache. A stage's result is the layer of changes it made,
 * stored under a key that hashes everything the stage depends on: the key
 * of what it starts from (the base's arguments, or the previous stage, or
 * the parent image's last stage), the stage's tasks and the image's handlers
 * as the plan gives them (source positions left out), the bytes of every
 * build-machine file its tasks, the image's handlers or its base read (the
 * arguments their schemas list as inputs: copy's src, tarball's path, ...),
 * the secrets its tasks and the handlers they notify read (each as a keyed
 * hash, see secret.h; never a value, never a plain hash), and kiln's version. A hit replays the
 * layer instead of running the tasks: a second apply of an unchanged build changes nothing and
 * takes the time of unpacking.
 *
 * Entries live in CACHE_DIR/stages/KEY.tar, written under a temporary name
 * and renamed, so an interrupted store leaves no entry.
 */
#ifndef KILN_CACHE_H
#define KILN_CACHE_H

#include "rt.h"

#include <jansson.h>

/* The cache directory: dir, else $KILN_CACHE_DIR, else /var/cache/kiln (as base.h). Caller frees.
 */
char *cache_dir_default(const char *dir);

/*
 * hex sha256 of the key of what a base image starts from (malloc'd): the call and the
 * bytes of the build machine's files it reads (its schema's inputs, paths relative to
 * local_root), or NULL with *err (such a file is missing).
 */
char *cache_base_key(json_t *from, const char *local_root, struct rt_error *err);
/* The key of a stage (malloc'd), or NULL with *err (a file it reads is missing).
   secrets: name -> secret_mac() of each secret the stage reads. */
char *cache_stage_key(const char *prev, json_t *stage, json_t *handlers, json_t *secrets,
                      const char *local_root, struct rt_error *err);

/* The stored layer of key, or NULL (malloc'd path). */
char *cache_lookup(const char *cache_dir, const char *key);
/* Store a layer tar under key (the file is copied; the original stays). */
int cache_store(const char *cache_dir, const char *key, const char *layer_tar,
                struct rt_error *err);

#endif
