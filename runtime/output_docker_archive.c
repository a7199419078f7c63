/*
 * output docker-archive: the tar that `docker load` (and skopeo's
 * docker-archive: transport) reads: each layer's uncompressed tar as
 * DIFFID/layer.tar, the image config as CONFIGDIGEST.json, and
 * manifest.json naming them with the image's RepoTags. A tag "name:tag" is
 * used as written, "1.0" becomes IMAGE:1.0 and "name" without a tag
 * name:latest; no tag is IMAGE:latest (IMAGE: the image's name, lowercase).
 * Entries have owner 0 and mtime SOURCE_DATE_EPOCH (or 0), so the archive is
 * reproducible like its layers.
 */
#include "output_impl.h"

#include "arena.h"
#include "plan_view.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *repo_tag(const struct output_ctx *ctx, const char *tag)
{
	const char *slash = strrchr(tag, '/');
	const char *colon = strrchr(tag, ':');
	if (colon && (!slash || colon > slash))
		return xstrdup(tag);
	if (slash)
		return xasprintf("%s:latest", tag);
	const char *name = plan_image_view(ctx->image).name;
	char *s = xasprintf("%s:%s", name && *name ? name : "kiln", tag);
	for (char *c = s; *c && *c != ':'; c++)
		*c = (char)tolower((unsigned char)*c);
	return s;
}

int output_docker_archive(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	struct out_tmp tmp = {0};
	struct out_sink sink = {0};
	struct out_tar tar = {0};
	json_t *tags = NULL, *config = NULL, *manifest = NULL, *repo_tags = json_array();
	json_t *layer_names = json_array();
	char *text = NULL;
	size_t len;
	int fd = -1, r;
	int64_t epoch = 0;

	if (!ctx->nlayers) {
		r = rt_error_set(err, -EINVAL, "docker-archive %s: the image has no layers", final);
		goto out;
	}
	if ((r = out_epoch(&epoch, err)) < 0)
		goto out;
	if (!(tags = out_tags(ctx, err)) || !(config = out_image_config(ctx, err))) {
		r = err->code;
		goto out;
	}
	size_t i;
	json_t *tag;
	json_array_foreach (tags, i, tag) {
		char *rt = repo_tag(ctx, json_string_value(tag));
		json_array_append_new(repo_tags, json_string(rt));
		free(rt);
	}
	if ((r = out_tmp_file(&tmp, final, &fd, err)) < 0 ||
	    (r = out_sink_init(&sink, fd, OUT_COMP_NONE, 0, false, err)) < 0 ||
	    (r = out_tar_open(&tar, &sink, err)) < 0)
		goto out;
	for (i = 0; i < ctx->nlayers; i++) {
		const struct layer *l = &ctx->layers[i];
		const char *hex = strncmp(l->diff_id, "sha256:", 7) ? l->diff_id : l->diff_id + 7;
		char *dir = xasprintf("%s/", hex), *name = xasprintf("%s/layer.tar", hex);
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(ctx->layers[j].diff_id, l->diff_id);
		if (!dup && ((r = out_tar_add_dir(&tar, dir, (time_t)epoch, err)) < 0 ||
		             (r = out_tar_add_file(&tar, name, l->path, (time_t)epoch, err)) < 0)) {
			free(dir);
			free(name);
			goto out;
		}
		json_array_append_new(layer_names, json_string(name));
		free(dir);
		free(name);
	}
	text = out_json_text(config, &len);
	char hex[65], config_name[80];
	out_sha256_hex(text, len, hex);
	snprintf(config_name, sizeof(config_name), "%s.json", hex);
	if ((r = out_tar_add_mem(&tar, config_name, text, len, (time_t)epoch, err)) < 0)
		goto out;
	free(text);
	manifest = json_pack("[{s:s, s:O, s:O}]", "Config", config_name, "RepoTags", repo_tags,
	                     "Layers", layer_names);
	text = out_json_text(manifest, &len);
	if ((r = out_tar_add_mem(&tar, "manifest.json", text, len, (time_t)epoch, err)) < 0 ||
	    (r = out_tar_close(&tar, err)) < 0 || (r = out_sink_finish(&sink, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	char digest[80];
	snprintf(digest, sizeof(digest), "sha256:%s", sink.out_hex);
	out_artifact_add(ctx, "docker-archive", digest, sink.out_bytes,
	                 json_pack("{s:O, s:s+}", "tags", repo_tags, "image_id", "sha256:", hex));
out:
	free(text);
	out_tar_release(&tar);
	out_sink_release(&sink);
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	json_decref(manifest);
	json_decref(config);
	json_decref(tags);
	json_decref(repo_tags);
	json_decref(layer_names);
	free(final);
	return r;
}

const struct output_impl output_docker_archive_impl = {"docker-archive", output_docker_archive};
