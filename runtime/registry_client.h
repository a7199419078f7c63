/*
 * registry_client: a small client of the OCI distribution API (v2), on
 * libcurl. References are parsed by the distribution grammar (docker.io
 * defaults: "debian" is docker.io/library/debian:latest, served by
 * registry-1.docker.io). Blobs and manifests: HEAD, GET (verified against
 * their digest while they stream), PUT; blob uploads monolithic or chunked
 * (PATCH with Content-Range), and cross-repository mounts. Transient
 * failures (no connection, 5xx, 429) are retried with backoff.
 *
 * Auth: anonymous; basic (the caller's username and password, or the
 * credentials of the auth file: $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json, as skopeo, podman and docker read them); the
 * bearer-token flow (WWW-Authenticate: Bearer realm, service, scope) with
 * those credentials. TLS is verified (the system's CAs, or ca_file); plain
 * HTTP only when insecure is set. No message holds a password or a token.
 */
#ifndef KILN_REGISTRY_CLIENT_H
#define KILN_REGISTRY_CLIENT_H

#include "rt.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reg_ref {
	char *registry; /* as written: "docker.io", "127.0.0.1:5000" */
	char *host;     /* what is contacted: "registry-1.docker.io", "127.0.0.1:5000" */
	char *repo;     /* "library/debian" */
	char *tag;      /* "bookworm"; "latest" when neither tag nor digest is given */
	char *digest;   /* "sha256:..." or NULL */
};

/* Parse s ("debian", "ghcr.io/o/r:1", "reg:5000/a/b@sha256:..."). -EINVAL with
   a message naming what is wrong. */
int reg_ref_parse(const char *s, struct reg_ref *ret, struct rt_error *err);
void reg_ref_release(struct reg_ref *r);

struct reg_opts {
	bool insecure;        /* plain HTTP */
	const char *ca_file;  /* NULL: the system's CAs */
	const char *username; /* NULL: from the auth file, if any */
	const char *password;
	bool push; /* ask for push access (tokens' scope) */
	void (*progress)(void *data, const char *line);
	void *progress_data;
};

struct reg_client;

int reg_open(const struct reg_ref *ref, const struct reg_opts *o, struct reg_client **ret,
             struct rt_error *err);
void reg_close(struct reg_client *c);

/* Counters of what went over the wire, for reports and tests. */
struct reg_stats {
	unsigned blobs_uploaded, blobs_skipped, blobs_mounted, blobs_fetched, requests;
	uint64_t bytes_up, bytes_down;
};
const struct reg_stats *reg_stats(const struct reg_client *c);

/* Whether the repository holds the blob: 1, 0, or < 0. */
int reg_blob_exists(struct reg_client *c, const char *digest, struct rt_error *err);
/* Mount the blob from repository from_repo of the same registry: 1 mounted, 0 not
   (the registry opened an upload instead, which is cancelled), or < 0. */
int reg_blob_mount(struct reg_client *c, const char *digest, const char *from_repo,
                   struct rt_error *err);
/* Upload the file at path, whose sha256 is digest: monolithic, or in chunks when it is
   larger than the chunk size ($KILN_REGISTRY_CHUNK_SIZE, default 32 MiB). */
int reg_blob_upload(struct reg_client *c, const char *digest, const char *path,
                    struct rt_error *err);
/* Fetch a blob into the file dest (created; removed again on failure), checking its
   size (when size >= 0) and digest as it streams. -EBADMSG on a mismatch. */
int reg_blob_fetch(struct reg_client *c, const char *digest, int64_t size, const char *dest,
                   struct rt_error *err);

/* PUT a manifest under reference (a tag or its digest). */
int reg_manifest_put(struct reg_client *c, const char *reference, const char *media_type,
                     const char *data, size_t len, struct rt_error *err);
/* GET a manifest or index by reference; *ret_data (malloc'd, NUL-terminated),
   its media type (malloc'd) and "sha256:..." digest of the bytes. When reference
   is a digest, the bytes must match it (-EBADMSG otherwise). */
int reg_manifest_get(struct reg_client *c, const char *reference, char **ret_data, size_t *ret_len,
                     char **ret_media_type, char ret_digest[72], struct rt_error *err);

/*
 * Where blobs were last seen on a registry, so a push can mount a blob from
 * another repository of it: CACHE/registry/known/HOST.json ({digest: repo}).
 * reg_known_repo returns the repository (malloc'd) or NULL; reg_known_add
 * records repo for every digest of the array (best effort: a failure to
 * write is ignored, the record only saves uploads).
 */
char *reg_known_repo(const char *cache_dir, const char *host, const char *digest);
void reg_known_add(const char *cache_dir, const char *host, const char *repo, json_t *digests);

#endif
