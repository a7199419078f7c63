/*
 * output: output_write() picks the writer for the output's type (by its
 * schema, stdlib/out_TYPE.c); the rest of this file is the helpers the
 * writers share (output_impl.h). Byte sinks are in output_sink.c, tar
 * streams in output_tarw.c, temporary names renamed into place in
 * output_tmp.c, the image config in output_config.c.
 */
#include "output_impl.h"

#include "builtins.h"
#include "path.h"
#include "plan_view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- output_write ---------------------------------------------------------------------- */

/* every implementation; output_write finds one by the schema of the output's type */
static const struct output_impl *const impls[] = {
    &output_oci_impl,      &output_docker_archive_impl, &output_tar_impl,     &output_checksum_impl,
    &output_manifest_impl, &output_disk_impl,           &output_vagrant_impl, &output_registry_impl,
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

int output_check_impls(struct rt_error *err)
{
	const char *names[N_IMPLS];
	for (size_t j = 0; j < N_IMPLS; j++)
		names[j] = impls[j]->name;
	char *msg = stdlib_check_impls(SCHEMA_OUTPUT, names, N_IMPLS);
	if (!msg)
		return 0;
	rt_error_set(err, -ENOSYS, "%s", msg);
	free(msg);
	return -ENOSYS;
}

int output_write(const struct output_ctx *ctx, struct rt_error *err)
{
	const char *type = plan_output_view(ctx->output).type;
	if (!type)
		return rt_error_set(err, -EINVAL, "output without a type");
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_OUTPUT, type);
	if (!s)
		return rt_error_set(err, -EINVAL, "output type '%s' is not supported", type);
	if (!out_plan_path(ctx))
		return rt_error_set(err, -EINVAL, "output %s without a path", type);
	for (size_t i = 0; i < N_IMPLS; i++)
		if (!strcmp(impls[i]->name, s->name))
			return impls[i]->write(ctx, err);
	return rt_error_set(err, -ENOSYS, "output %s has no implementation", type);
}

/* ---- helpers --------------------------------------------------------------------------- */

int out_epoch(int64_t *ret, struct rt_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*ret = 0; /* the image time when SOURCE_DATE_EPOCH is not set */
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < 0 || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return rt_error_set(err, -EINVAL,
		                    "SOURCE_DATE_EPOCH='%s' is not a number of seconds", s);
	*ret = v;
	return 1;
}

json_t *out_arg(const struct output_ctx *ctx, const char *name)
{
	json_t *v = json_object_get(plan_output_view(ctx->output).args, name);
	return json_is_null(v) ? NULL : v;
}

const char *out_plan_path(const struct output_ctx *ctx)
{
	const char *p = plan_output_view(ctx->output).path;
	if (!p)
		p = json_string_value(out_arg(ctx, "path"));
	return p && *p ? p : NULL;
}

char *out_final_path(const struct output_ctx *ctx)
{
	const char *p = out_plan_path(ctx);
	if (!p)
		return NULL;
	/* normalized, as the writers have always had it: no trailing slash, no "." or ".." */
	char *local = path_from_root(ctx->local_root, p);
	char *final = path_normalize(local);
	free(local);
	return final;
}

json_t *out_tags(const struct output_ctx *ctx, struct rt_error *err)
{
	json_t *tag = out_arg(ctx, "tag");
	json_t *list = json_array();
	if (!tag) {
		json_array_append_new(list, json_string("latest"));
		return list;
	}
	if (json_is_string(tag)) {
		json_array_append(list, tag);
	} else if (json_is_array(tag)) {
		size_t i;
		json_t *v;
		json_array_foreach (tag, i, v) {
			if (!json_is_string(v) || !*json_string_value(v)) {
				json_decref(list);
				rt_error_set(err, -EINVAL, "tag: expected a list of strings");
				return NULL;
			}
			json_array_append(list, v);
		}
	} else {
		json_decref(list);
		rt_error_set(err, -EINVAL, "tag: expected a string or a list of strings");
		return NULL;
	}
	if (!json_array_size(list))
		json_array_append_new(list, json_string("latest"));
	return list;
}

void out_artifact_add(const struct output_ctx *ctx, const char *type, const char *digest,
                      uint64_t size, json_t *extra)
{
	if (!ctx->artifacts) {
		json_decref(extra);
		return;
	}
	json_t *a = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "path", out_plan_path(ctx),
	                      "digest", digest, "size", (json_int_t)size);
	if (extra)
		json_object_update(a, extra);
	json_decref(extra);
	json_array_append_new(ctx->artifacts, a);
}

char *out_json_text(json_t *v, size_t *ret_len)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		abort();
	*ret_len = strlen(s);
	return s;
}
