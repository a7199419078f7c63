/*
 * cache_remote: the stage cache shared through a registry repository
 * (`kiln apply --cache-to REF --cache-from REF`). Each stage's entry is an
 * OCI artifact tagged with the stage's key (a hex SHA-256, itself a valid
 * tag): a manifest whose config (application/vnd.kiln.stage.config.v1+json)
 * names the key, and one layer, the stage's uncompressed layer tar
 * (application/vnd.oci.image.layer.v1.tar) as the local cache keeps it
 * (cache.h). A fetched layer is verified against its digest before it enters
 * the local cache. Stages that read a secret are never pushed: their layer
 * may hold what the secret wrote. Failures are the caller's to note: the
 * shared cache only saves work; a registry that cannot be reached is not
 * asked again in the same run.
 */
#ifndef KILN_CACHE_REMOTE_H
#define KILN_CACHE_REMOTE_H

#include "rt.h"

#include <stdbool.h>

struct cache_remote;

/* NULL ref: NULL. insecure: plain HTTP. Credentials as registry_client.h reads them. */
struct cache_remote *cache_remote_new(const char *ref, bool insecure, struct rt_error *err);
void cache_remote_free(struct cache_remote *cr);

/* Fetch the entry of key into cache_dir's stage cache: 1 fetched, 0 not there, < 0. */
int cache_remote_get(struct cache_remote *cr, const char *cache_dir, const char *key,
                     struct rt_error *err);
/* Push the layer tar as key's entry (blobs the repository has are skipped): 0 or < 0. */
int cache_remote_put(struct cache_remote *cr, const char *key, const char *layer_tar,
                     struct rt_error *err);

#endif
