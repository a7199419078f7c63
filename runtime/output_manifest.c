/*
 * output manifest: a JSON record of the build, as Packer's manifest
 * post-processor writes one: which image, from which source, when, and
 * every artifact written before this output (type, path, size, digest and
 * what the writer added, such as tags). Two-space indentation, sorted keys,
 * a final newline:
 *
 *   {"artifacts": [{"digest": "sha256:...", "path": "out/app.tar.zst",
 *                   "size": 1234, "type": "tar", ...}, ...],
 *    "build_time": 1700000000, "custom_data": {...}, "image": "app",
 *    "kiln_version": "0.1.0", "source": "web.img:40:1", "source_date_epoch": null,
 *    "source_file": "web.img"}
 *
 * build_time is the image time (output.h: SOURCE_DATE_EPOCH when set, else
 * 0), never the time of writing, so the file is reproducible;
 * source_date_epoch is null when SOURCE_DATE_EPOCH is not set.
 */
#include "output_impl.h"

#include "arena.h"
#include "plan_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int output_manifest(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp tmp = {0};
	char *text = NULL, *file = NULL;
	json_t *m = NULL;
	int fd = -1;
	int64_t epoch = 0;
	int r = out_epoch(&epoch, err);
	if (r < 0)
		goto out;
	bool have_epoch = r > 0;
	json_t *custom = out_arg(ctx, "custom_data");
	if (custom && !json_is_object(custom)) {
		r = rt_error_set(err, -EINVAL, "custom_data: expected a map");
		goto out;
	}
	struct plan_image iv = plan_image_view(ctx->image);
	const char *name = iv.name, *source = iv.source;
	if (source) { /* "FILE:LINE:COL" -> FILE */
		file = xstrdup(source);
		for (int k = 0; k < 2; k++) {
			char *colon = strrchr(file, ':');
			if (colon)
				*colon = '\0';
		}
	}
	m = json_pack("{s:s, s:s?, s:s?, s:s?, s:o, s:I, s:O}", "kiln_version", KILN_VERSION,
	              "image", name, "source", source, "source_file", file, "source_date_epoch",
	              have_epoch ? json_integer(epoch) : json_null(), "build_time",
	              (json_int_t)epoch, "artifacts",
	              ctx->artifacts ? ctx->artifacts : json_array());
	if (!m)
		abort();
	if (!ctx->artifacts) /* json_pack took a new reference of the empty array */
		json_decref(json_object_get(m, "artifacts"));
	if (custom)
		json_object_set(m, "custom_data", custom);
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		abort();
	size_t len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL; the text is not used as a string again */
	if ((r = out_tmp_file(&tmp, final, &fd, err)) < 0 ||
	    (r = out_write_all(fd, text, len, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	char hex[65], digest[80];
	out_sha256_hex(text, len, hex);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	out_artifact_add(ctx, "manifest", digest, len, NULL);
out:
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	json_decref(m);
	free(text);
	free(file);
	free(final);
	return r;
}

const struct output_impl output_manifest_impl = {"manifest", output_manifest};
