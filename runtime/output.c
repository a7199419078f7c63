/*
 * output: output_write() picks the writer for the output's type (by its
 * schema, stdlib/out_TYPE.c); the rest
 * of this file is what the writers share (output_impl.h). Byte sinks are
 * in output_sink.c, tar streams in output_tarw.c, temporary names renamed
 * into place in output_tmp.c.
 */
#include "output_impl.h"

#include "arena.h"
#include "atomic.h"
#include "builtins.h"
#include "path.h"
#include "plan_format.h"
#include "plan_view.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* ---- output_write ---------------------------------------------------------------------- */

/* every implementation; output_write finds one by the schema of the output's type */
static const struct output_impl *const impls[] = {
    &output_oci_impl,      &output_docker_archive_impl, &output_tar_impl,
    &output_checksum_impl, &output_manifest_impl,
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
	return p ? path_join(ctx->local_root, p) : NULL;
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

/* ---- the image configuration ----------------------------------------------------------- */

static const char *go_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	static struct utsname u;
	return uname(&u) == 0 ? u.machine : "unknown";
#endif
}

static char *rfc3339(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static int want_string(json_t *v, const char *key, struct rt_error *err)
{
	if (json_is_string(v))
		return 0;
	return rt_error_set(err, -EINVAL, "config.%s: expected a string%s", key,
	                    json_is_object(v) ? " (an expression left unevaluated)" : "");
}

static int want_strings(json_t *v, const char *key, struct rt_error *err)
{
	if (!json_is_array(v))
		return rt_error_set(err, -EINVAL, "config.%s: expected a list of strings", key);
	size_t i;
	json_t *x;
	json_array_foreach (v, i, x) {
		int r = want_string(x, key, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The plan's config (entrypoint, cmd, env, ...) as the OCI config's "config" object. */
static int runtime_config(json_t *pc, json_t *oc, struct rt_error *err)
{
	static const struct {
		const char *plan, *oci;
	} lists[] = {{"entrypoint", "Entrypoint"}, {"cmd", "Cmd"}},
	  strs[] = {{"workdir", "WorkingDir"}, {"user", "User"}, {"stop_signal", "StopSignal"}};
	int r;
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(pc, lists[i].plan);
		if (!v || json_is_null(v))
			continue;
		if ((r = want_strings(v, lists[i].plan, err)) < 0)
			return r;
		json_object_set(oc, lists[i].oci, v);
	}
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(pc, strs[i].plan);
		if (!v || json_is_null(v))
			continue;
		if ((r = want_string(v, strs[i].plan, err)) < 0)
			return r;
		json_object_set(oc, strs[i].oci, v);
	}
	json_t *env = json_object_get(pc, "env");
	if (env && !json_is_null(env)) {
		if (!json_is_object(env))
			return rt_error_set(err, -EINVAL, "config.env: expected a map of strings");
		size_t n = json_object_size(env), k = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *key;
		json_t *v;
		json_object_foreach (env, key, v) {
			if ((r = want_string(v, "env", err)) < 0) {
				free(keys);
				return r;
			}
			keys[k++] = key;
		}
		qsort(keys, n, sizeof(*keys), cmp_str);
		json_t *list = json_array();
		for (size_t i = 0; i < n; i++) {
			char *kv = xasprintf("%s=%s", keys[i],
			                     json_string_value(json_object_get(env, keys[i])));
			json_array_append_new(list, json_string(kv));
			free(kv);
		}
		free(keys);
		json_object_set_new(oc, "Env", list);
	}
	json_t *expose = json_object_get(pc, "expose");
	if (expose && !json_is_null(expose)) {
		if (!json_is_array(expose))
			return rt_error_set(err, -EINVAL, "config.expose: expected a list");
		json_t *ports = json_object();
		size_t i;
		json_t *v;
		json_array_foreach (expose, i, v) {
			char *p;
			if (json_is_integer(v) && json_integer_value(v) > 0 &&
			    json_integer_value(v) < 65536)
				p = xasprintf("%lld/tcp", (long long)json_integer_value(v));
			else if (json_is_string(v) && *json_string_value(v))
				p = strchr(json_string_value(v), '/')
				        ? xstrdup(json_string_value(v))
				        : xasprintf("%s/tcp", json_string_value(v));
			else {
				json_decref(ports);
				return rt_error_set(err, -EINVAL,
				                    "config.expose: expected port numbers or "
				                    "\"PORT/PROTO\" strings");
			}
			json_object_set_new(ports, p, json_object());
			free(p);
		}
		json_object_set_new(oc, "ExposedPorts", ports);
	}
	json_t *labels = json_object_get(pc, "labels");
	if (labels && !json_is_null(labels)) {
		if (!json_is_object(labels))
			return rt_error_set(err, -EINVAL,
			                    "config.labels: expected a map of strings");
		const char *key;
		json_t *v;
		json_object_foreach (labels, key, v) {
			if ((r = want_string(v, "labels", err)) < 0)
				return r;
		}
		json_object_set(oc, "Labels", labels);
	}
	json_t *volumes = json_object_get(pc, "volumes");
	if (volumes && !json_is_null(volumes)) {
		if ((r = want_strings(volumes, "volumes", err)) < 0)
			return r;
		json_t *vols = json_object();
		size_t i;
		json_t *v;
		json_array_foreach (volumes, i, v)
			json_object_set_new(vols, json_string_value(v), json_object());
		json_object_set_new(oc, "Volumes", vols);
	}
	return 0;
}

/* What made layer i: the base, a parent image's layer, or one of this image's stages. */
static char *layer_history(const struct output_ctx *ctx, size_t i)
{
	struct plan_image iv = plan_image_view(ctx->image);
	json_t *stages = iv.stages;
	size_t ns = json_array_size(stages);
	if (ns <= ctx->nlayers && i >= ctx->nlayers - ns) {
		json_t *st = json_array_get(stages, i - (ctx->nlayers - ns));
		const char *name = plan_block_view(st).name;
		return xasprintf("kiln stage %s", name ? name : "?");
	}
	const char *base = iv.from_base;
	const char *parent = iv.from_image;
	if (i == 0 && base) {
		json_t *args = iv.from_args;
		size_t n;
		char *a = args ? out_json_text(args, &n) : xstrdup("{}");
		char *s = xasprintf("kiln base %s %s", base, a);
		free(a);
		return s;
	}
	if (parent)
		return xasprintf("kiln image %s, layer %zu", parent, i);
	return xasprintf("kiln layer %zu", i);
}

json_t *out_image_config(const struct output_ctx *ctx, struct rt_error *err)
{
	int64_t epoch;
	int r = out_epoch(&epoch, err);
	if (r < 0)
		return NULL;
	if (r == 0)
		epoch = (int64_t)time(NULL);
	char *created = rfc3339(epoch);
	json_t *oc = json_object();
	json_t *pc = json_object_get(ctx->image, PLAN_K_CONFIG);
	if (pc && !json_is_object(pc)) {
		rt_error_set(err, -EINVAL, "image config: expected an object");
		goto fail;
	}
	if (pc && runtime_config(pc, oc, err) < 0)
		goto fail;
	json_t *diff_ids = json_array(), *history = json_array();
	for (size_t i = 0; i < ctx->nlayers; i++) {
		json_array_append_new(diff_ids, json_string(ctx->layers[i].diff_id));
		char *by = layer_history(ctx, i);
		json_array_append_new(
		    history, json_pack("{s:s, s:s}", "created", created, "created_by", by));
		free(by);
	}
	json_t *cfg =
	    json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:o}", "architecture", go_arch(), "os",
	              "linux", "created", created, "config", oc, "rootfs", "type", "layers",
	              "diff_ids", diff_ids, "history", history);
	free(created);
	if (!cfg)
		abort();
	return cfg;
fail:
	free(created);
	json_decref(oc);
	return NULL;
}
