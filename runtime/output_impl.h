/*
 * output_impl: what layer.c and the output_*.c files share, and nothing
 * else includes. Byte sinks (a file descriptor behind an optional gzip or
 * zstd compressor, with sha256 digests of what goes in and what comes out),
 * tar streams on a sink (libarchive, pax where ustar is not enough),
 * temporary names renamed into place, and the tree walk that writes a root
 * filesystem or a layer into a tar stream.
 *
 * Order: out_tmp_file() -> out_sink_init() -> out_tar_open() -> entries
 * -> out_tar_close() -> out_sink_finish() -> out_tmp_commit(); then
 * out_sink_release() and out_tmp_release() in every case (the latter removes
 * the temporary when it was not committed). Long loops check rt_interrupted
 * and stop with -EINTR.
 */
#ifndef KILN_OUTPUT_IMPL_H
#define KILN_OUTPUT_IMPL_H

#include "atomic.h"
#include "output.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ---- sinks (output_sink.c) ------------------------------------------------------------ */

enum { OUT_FILE_BUF = 1 << 18 }; /* the buffer for reading files */

enum out_comp { OUT_COMP_NONE, OUT_COMP_GZIP, OUT_COMP_ZSTD };

/*
 * How a layer is compressed: everything the compressed bytes depend on
 * besides the input (the number of threads does not change them). Two
 * int32s, no padding: a cache of compressed blobs can hash or compare it
 * whole.
 */
struct out_comp_settings {
	int32_t comp;  /* enum out_comp */
	int32_t level; /* the compressor's level; 0: its default (OUT_GZIP_DEFAULT_LEVEL, zstd 3) */
};

/*
 * gzip's level when none is given (libdeflate's levels 1 to 9): 6 for tar
 * outputs, 1 for OCI layers (crane and ko compress layers at level 1 too):
 * libdeflate's level 1 is 2.3 times as fast as its 6, for layers some 8%
 * larger, 5% smaller than zlib's level 1 makes (bench/README.md).
 */
enum { OUT_GZIP_DEFAULT_LEVEL = 6, OUT_GZIP_LAYER_LEVEL = 1 };

/*
 * The compressor and the level the bytes of comp at level (0: the default)
 * come from, for the keys of caches of compressed bytes: "gzip libdeflate-1.14
 * level=6" (the library's version: another version compresses differently).
 */
void out_comp_key(enum out_comp comp, int level, char *buf, size_t cap);

/* Threads a compressor runs: $KILN_JOBS if set (1 to 256), else the CPUs this process may use. */
unsigned out_threads(void);

struct out_sink_state;

struct out_sink {
	int fd; /* not owned: the caller closes it */
	enum out_comp comp;
	uint64_t in_bytes;  /* bytes given to out_sink_write */
	uint64_t out_bytes; /* bytes written to fd */
	char in_hex[65];    /* after finish: sha256 of the bytes given (if asked) */
	char out_hex[65];   /* after finish: sha256 of the bytes written */
	struct out_sink_state *st;
};

/* level: the compressor's (0: its default). hash_input: also digest the bytes given. */
int out_sink_init(struct out_sink *s, int fd, enum out_comp comp, int level, bool hash_input,
                  struct rt_error *err);
int out_sink_write(struct out_sink *s, const void *buf, size_t n, struct rt_error *err);
/* Flush the compressor and the buffers; fills in_hex and out_hex. */
int out_sink_finish(struct out_sink *s, struct rt_error *err);
void out_sink_release(struct out_sink *s);

/* ---- tar streams (output_tarw.c) ------------------------------------------------------ */

struct archive;

struct out_tar {
	struct archive *a;
	struct out_sink *sink;
	struct rt_error werr;  /* the sink's failure, which libarchive sees as a write error */
	void *loc, *saved_loc; /* locale_t: UTF-8 names while writing (see out_tar_open) */
};

/*
 * A pax (restricted: ustar headers where they suffice) tar stream on sink.
 * Until out_tar_release, the calling thread's LC_CTYPE is C.UTF-8, so that
 * a UTF-8 name is written as such whatever the process's locale; a name
 * that is not UTF-8 is kept as bytes (hdrcharset=BINARY).
 */
int out_tar_open(struct out_tar *t, struct out_sink *sink, struct rt_error *err);
/* err from the sink's failure or libarchive's message about what; returns < 0. */
int out_tar_fail(struct out_tar *t, const char *what, struct rt_error *err);
/* A regular file entry with the bytes of buf (mode 0644, owner 0, mtime). */
int out_tar_add_mem(struct out_tar *t, const char *name, const void *buf, size_t len, time_t mtime,
                    struct rt_error *err);
/* A regular file entry with the content of the file at path, streamed. */
int out_tar_add_file(struct out_tar *t, const char *name, const char *path, time_t mtime,
                     struct rt_error *err);
int out_tar_add_dir(struct out_tar *t, const char *name, time_t mtime, struct rt_error *err);
/* Write the end of the archive (not the sink's end). */
int out_tar_close(struct out_tar *t, struct rt_error *err);
void out_tar_release(struct out_tar *t);

/* ---- temporary names (output_tmp.c) --------------------------------------------------- */

struct out_tmp {
	char *final; /* the destination */
	char *tmp;   /* the temporary name beside it; NULL once committed, or when final is a
	                character device or FIFO that is written through */
	bool is_dir;
	bool no_sync;       /* set by the caller: a work file that need not survive a crash */
	const char *marker; /* a directory is replaced only if empty or holding this file */
	struct atomic_file af;
};

/*
 * Create a temporary file (mode 0666 & ~umask) beside final, whose directories are
 * created (base/atomic.h: a random name, O_EXCL|O_NOFOLLOW, leftovers of a killed kiln
 * removed). A directory or socket at final is refused before anything is written; a
 * character device or FIFO is written through (*ret_fd is it, t->tmp NULL).
 */
int out_tmp_file(struct out_tmp *t, const char *final, int *ret_fd, struct rt_error *err);
/*
 * The same with a directory (mode 0777 & ~umask). A directory at final is replaced only
 * if it is empty or holds the file marker (e.g. "oci-layout"), else refused (-EEXIST).
 */
int out_tmp_dir(struct out_tmp *t, const char *final, const char *marker, struct rt_error *err);
/* Sync, then put tmp in place of final, atomically replacing what was there. */
int out_tmp_commit(struct out_tmp *t, struct rt_error *err);
/* Remove the temporary if it is still there; free the names. */
void out_tmp_release(struct out_tmp *t);

/* ---- helpers -------------------------------------------------------------------------- */

/* Remove name under dfd and everything below it, without following symlinks. */
int out_rm_rf(int dfd, const char *name);
/* Write all of buf to fd. */
int out_write_all(int fd, const void *buf, size_t n, struct rt_error *err);
/* read(2) that retries when a signal interrupts it, unless rt_interrupted is set: the
 * number of bytes read, or < 0 with err filled (what names the file). */
ssize_t out_read(int fd, void *buf, size_t n, const char *what, struct rt_error *err);
/* Digest (md_name: "sha256", "sha512") of the file at path: hex and size. */
int out_hash_file(const char *path, const char *md_name, char *ret_hex, size_t hexcap,
                  uint64_t *ret_size, struct rt_error *err);
/* Hex of a sha256 of buf (65 bytes). */
void out_sha256_hex(const void *buf, size_t n, char ret_hex[65]);
/* The output's path, resolved against ctx->local_root (caller frees); NULL if none. */
char *out_final_path(const struct output_ctx *ctx);
/* The output's path as the plan wrote it. */
const char *out_plan_path(const struct output_ctx *ctx);
/* An argument of the output, or NULL. */
json_t *out_arg(const struct output_ctx *ctx, const char *name);
/* The output's tags (args.tag: a string or a list) as a new array; ["latest"] when absent. */
json_t *out_tags(const struct output_ctx *ctx, struct rt_error *err);
/* Append {"type","path","digest","size"} (and the extra object's keys) to ctx->artifacts. */
void out_artifact_add(const struct output_ctx *ctx, const char *type, const char *digest,
                      uint64_t size, json_t *extra);
/* The image's config blob (OCI image config, also what docker load reads), in
 * output_config.c. New reference. */
json_t *out_image_config(const struct output_ctx *ctx, struct rt_error *err);
/* A compact JSON text with sorted keys (malloc'd), its length in *ret_len. */
char *out_json_text(json_t *v, size_t *ret_len);

/* ---- outputs (output_*.c) ------------------------------------------------------------- */

int output_oci(const struct output_ctx *ctx, struct rt_error *err);
int output_docker_archive(const struct output_ctx *ctx, struct rt_error *err);
int output_tar(const struct output_ctx *ctx, struct rt_error *err);
int output_checksum(const struct output_ctx *ctx, struct rt_error *err);
int output_manifest(const struct output_ctx *ctx, struct rt_error *err);
int output_disk(const struct output_ctx *ctx, struct rt_error *err);
int output_vagrant(const struct output_ctx *ctx, struct rt_error *err);
int output_registry(const struct output_ctx *ctx, struct rt_error *err);

/*
 * An output's implementation, defined in its output_NAME.c beside the
 * function: name is its schema's (stdlib/out_NAME.c). output.c lists them
 * and finds one by the schema of the plan's output type.
 */
struct output_impl {
	const char *name;
	int (*write)(const struct output_ctx *ctx, struct rt_error *err);
};
extern const struct output_impl output_oci_impl, output_docker_archive_impl, output_tar_impl,
    output_checksum_impl, output_manifest_impl, output_disk_impl, output_vagrant_impl,
    output_registry_impl;

/* ---- layers (layer.c) ----------------------------------------------------------------- */

/*
 * Write the tree under dir into t: every entry (prev NULL) or only the
 * changes since prev, with whiteouts for removed entries. Entries sorted,
 * owners numeric, mtimes clamped to the image time (out_epoch); does not close t.
 */
int layer_stream(const char *dir, const struct layer_snap *prev, struct out_tar *t,
                 struct rt_error *err);

/*
 * What a writer that cuts the stream (output_tar.c's chunks) is told: before each entry
 * (path relative to the root), where *skip may be set to LAYER_SKIP (the entry is not
 * written: the hook has written its bytes another way) or, for a directory,
 * LAYER_SKIP_TREE (neither it nor anything below it; the hook answers for the hard links
 * that are not seen then); after an entry's last byte, padding included, went to the
 * sink; and when a written entry is the first name of an inode with several (linked,
 * may be NULL: later names are written as links to it). before and after return < 0
 * with err filled to stop the walk.
 */
enum { LAYER_SKIP = 1, LAYER_SKIP_TREE = 2 };
struct layer_hooks {
	void *data;
	int (*before)(void *data, const char *path, bool is_dir, int *skip, struct rt_error *err);
	int (*after)(void *data, const char *path, struct rt_error *err);
	void (*linked)(void *data, const char *path);
};
int layer_stream_hooked(const char *dir, const struct layer_snap *prev,
                        const struct layer_hooks *hooks, struct out_tar *t, struct rt_error *err);
/* The order of the walk: byte order of paths with '/' below every other byte. */
int layer_path_cmp(const char *a, const char *b);

#endif
