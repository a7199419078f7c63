/*
 * output tar: the finished root filesystem (ctx->rootfs_dir) as one tar
 * archive, compressed as args.compression says or, for "auto", as the
 * path's extension says: .gz and .tgz gzip (zlib, level 6), .zst and .tzst
 * zstd (libzstd, level 3, two worker threads, with a checksum), else none.
 * Entries as in a layer (layer.c): sorted, numeric owners, mtimes clamped
 * to SOURCE_DATE_EPOCH. The artifact's digest is the sha256 of the file.
 */
#include "output_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int pick_compression(const struct output_ctx *ctx, const char *path, enum out_comp *ret,
                            struct rt_error *err)
{
	const char *c = json_string_value(out_arg(ctx, "compression"));
	if (!c || !strcmp(c, "auto")) {
		if (ends_with(path, ".gz") || ends_with(path, ".tgz"))
			*ret = OUT_COMP_GZIP;
		else if (ends_with(path, ".zst") || ends_with(path, ".tzst"))
			*ret = OUT_COMP_ZSTD;
		else
			*ret = OUT_COMP_NONE;
	} else if (!strcmp(c, "none")) {
		*ret = OUT_COMP_NONE;
	} else if (!strcmp(c, "gzip")) {
		*ret = OUT_COMP_GZIP;
	} else if (!strcmp(c, "zstd")) {
		*ret = OUT_COMP_ZSTD;
	} else {
		return rt_error_set(err, -EINVAL,
		                    "compression '%s': expected auto, none, gzip or zstd", c);
	}
	return 0;
}

int output_tar(const struct output_ctx *ctx, struct rt_error *err)
{
	static const char *const comp_names[] = {"none", "gzip", "zstd"};
	char *final = out_final_path(ctx);
	struct out_tmp tmp = {0};
	struct out_sink sink = {0};
	struct out_tar tar = {0};
	enum out_comp comp;
	int fd = -1;
	int r = pick_compression(ctx, final, &comp, err);
	if (r < 0)
		goto out;
	if (!ctx->rootfs_dir) {
		r = rt_error_set(err, -EINVAL, "tar %s: no root filesystem to write", final);
		goto out;
	}
	if ((r = out_tmp_file(&tmp, final, &fd, err)) < 0 ||
	    (r = out_sink_init(&sink, fd, comp, 0, false, err)) < 0 ||
	    (r = out_tar_open(&tar, &sink, err)) < 0 ||
	    (r = layer_stream(ctx->rootfs_dir, NULL, &tar, err)) < 0 ||
	    (r = out_tar_close(&tar, err)) < 0 || (r = out_sink_finish(&sink, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", sink.out_hex);
	out_artifact_add(ctx, "tar", digest, sink.out_bytes,
	                 json_pack("{s:s, s:I}", "compression", comp_names[comp], "tar_size",
	                           (json_int_t)sink.in_bytes));
out:
	out_tar_release(&tar);
	out_sink_release(&sink);
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	free(final);
	return r;
}

const struct output_impl output_tar_impl = {"tar", output_tar};
