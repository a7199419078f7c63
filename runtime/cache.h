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
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The cache directory: dir, else $KILN_CACHE_DIR, else /var/cache/kiln (as base.h). Caller frees.
 */
char *cache_dir_default(const char *dir);

/*
 * hex sha256 of the key of what a base image starts from (malloc'd): the call and the
 * bytes of the build machine's files it reads (its schema's inputs, paths relative to
 * local_root), or NULL with *err (such a file is missing). With record, the key's
 * inputs are set in it ("base": digest of the call, "base_files").
 */
char *cache_base_key(json_t *from, const char *local_root, json_t *record, struct rt_error *err);
/* The key of a stage (malloc'd), or NULL with *err (a file it reads is missing).
   secrets: name -> secret_mac() of each secret the stage reads. With record, the key's
   inputs are set in it: kiln_version, parent (prev), tasks [{id, sha256}], handlers,
   files [{path, sha256}], secrets (the keyed hashes). */
char *cache_stage_key(const char *prev, json_t *stage, json_t *handlers, json_t *secrets,
                      const char *local_root, json_t *record, struct rt_error *err);

/* The stored layer of key, or NULL (malloc'd path). */
char *cache_lookup(const char *cache_dir, const char *key);
/* Mark key's entry as used now (prune removes the least recently used). */
void cache_touch(const char *cache_dir, const char *key);
/* Store a layer tar under key (the file is copied; the original stays), and record
   (the key's inputs, see cache_stage_key) as CACHE_DIR/stages/KEY.json. */
int cache_store(const char *cache_dir, const char *key, const char *layer_tar, json_t *record,
                struct rt_error *err);

/* Create CACHE_DIR/sub (and CACHE_DIR), mode 0700. */
int cache_mkdir(const char *cache_dir, const char *sub, struct rt_error *err);
/* Write v as compact JSON at path, atomically. */
int cache_write_json(const char *path, json_t *v, struct rt_error *err);
/* The same with base/atomic.h flags (ATOMIC_NO_SYNC: a record whose loss costs only work). */
int cache_write_json_flags(const char *path, json_t *v, unsigned flags, struct rt_error *err);
/* Copy a file atomically. */
int cache_copy_file(const char *from, const char *to, mode_t mode, struct rt_error *err);
/* sha256 of buf as hex. */
void cache_sha256_hex(const void *buf, size_t len, char ret_hex[65]);

/*
 * The blob store: compressed bytes kept by content in CACHE/blobs/sha256/HEX (HEX their
 * sha256), each found by a key of what it was made from (CACHE/blobs/KEY.json: {digest,
 * size, what}). OCI layers (output_oci.c) and tar chunks (output_tar.c) share it.
 */
/* The key of a blob made from bytes whose sha256 is src_hex with settings (malloc'd). */
char *cache_blob_key(const char *src_hex, const char *settings);
/* The path of the blob of HEX (malloc'd; it may not exist). */
char *cache_blob_path(const char *cache_dir, const char *hex);
/* The path of key's blob when recorded, present and (want_hex not NULL) of that digest,
   its size in *ret_size; else NULL. Marks the record used. */
char *cache_blob_find(const char *cache_dir, const char *key, const char *want_hex,
                      uint64_t *ret_size);
/* Record key -> the blob of hex (size bytes, already in place); what: for cache ls. */
int cache_blob_record(const char *cache_dir, const char *key, const char *hex, uint64_t size,
                      const char *what, struct rt_error *err);

/* Every record CACHE_DIR/sub/ *.json (an array; each with "_used", its file's mtime in
   seconds, and "_file", its name). */
json_t *cache_records(const char *cache_dir, const char *sub);
/* The most recently used record of records for image's stage (borrowed), or NULL. */
json_t *cache_latest_record(json_t *records, const char *image, const char *stage);
/* Why a stage whose key's inputs are now is not the one of old (NULL: not built before):
   the first input that differs ("task ID changed", "file PATH changed", "base changed",
   "param NAME changed", "kiln version changed", "not built before"). Malloc'd. */
char *cache_record_diff(json_t *old, json_t *now);

/* Lock dir for this process (use_file: DIR/lock, holding the holder's pid; else the
   directory itself, whose holder is the live kiln of an apply-X/pid under it): at once,
   or waiting up to timeout seconds for another kiln that holds it; -EBUSY then, with
   *err naming the holder's pid and the way out. *ret_fd holds the lock until closed.
   what: "cache directory", "work directory". */
int cache_lock(const char *dir, const char *what, bool use_file, double timeout, int *ret_fd,
               struct rt_error *err);

/* The cache's entries, an array of {kind: "stage" | "blob" | "tree" | "tar-lists" | "base",
   key, what (image/stage, layer digest, base), size (bytes), used (seconds since the epoch:
   last use), files}. */
json_t *cache_list(const char *cache_dir);
/* Remove the entries unused for more than older_than seconds (< 0: any age), then the least
   recently used until the rest fits in max_size bytes (UINT64_MAX: any size); all: every
   entry. The caller holds the cache's lock (cache_lock). */
int cache_prune(const char *cache_dir, double older_than, uint64_t max_size, bool all,
                unsigned *ret_removed, uint64_t *ret_freed);

/* Remove the temporaries that killed kilns left in the cache (a pid-named one whose process
   is gone, or started after it was written; an atomic_file one that nobody holds; never
   one inside a kept tree): how many were removed. cache_lock does it for the cache. */
unsigned cache_clean_temps(const char *cache_dir);

#endif
