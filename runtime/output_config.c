/*
 * output_config: the image's config blob (output_impl.h), the OCI image
 * config that docker load also reads: architecture, the plan's runtime
 * config over the base image's (oci(), registry()), the layers' diff_ids and
 * their history.
 */
#include "output_impl.h"

#include "arena.h"
#include "plan_format.h"
#include "plan_view.h"
#include "strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

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

/* Env entries as a map of name -> "NAME=VALUE". */
static void env_into(json_t *list, json_t *map)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		size_t n = strcspn(s, "=");
		char *name = xstrndup(s, n);
		json_object_set(map, name, v);
		free(name);
	}
}

/*
 * The base image's runtime config (oci(), registry()) under the plan's: what the
 * plan sets wins; Env, Labels, ExposedPorts and Volumes are merged by key (the plan's
 * value for a key it names); Entrypoint, Cmd, WorkingDir, User and StopSignal come
 * from the base unless the plan sets them. A plan entrypoint without a cmd drops the
 * base's Cmd (as a Dockerfile ENTRYPOINT does).
 */
static void inherit_config(json_t *bc, json_t *oc)
{
	static const char *const plain[] = {"Entrypoint", "Cmd", "WorkingDir", "User",
	                                    "StopSignal"};
	bool own_entrypoint = json_object_get(oc, "Entrypoint") != NULL;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		json_t *v = json_object_get(bc, plain[i]);
		if (!v || json_is_null(v) || json_object_get(oc, plain[i]))
			continue;
		if (!strcmp(plain[i], "Cmd") && own_entrypoint)
			continue;
		if ((i < 2 && json_is_array(v)) || (i >= 2 && json_is_string(v)))
			json_object_set(oc, plain[i], v);
	}
	json_t *benv = json_object_get(bc, "Env");
	if (json_is_array(benv)) {
		json_t *map = json_object();
		env_into(benv, map);
		env_into(json_object_get(oc, "Env"), map);
		size_t n = json_object_size(map), k = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *key;
		json_t *v;
		json_object_foreach (map, key, v)
			keys[k++] = key;
		qsort(keys, n, sizeof(*keys), cmp_str);
		json_t *list = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(list, json_object_get(map, keys[i]));
		free(keys);
		json_object_set_new(oc, "Env", list);
		json_decref(map);
	}
	static const char *const maps[] = {"Labels", "ExposedPorts", "Volumes"};
	for (size_t i = 0; i < 3; i++) {
		json_t *bm = json_object_get(bc, maps[i]);
		if (!json_is_object(bm))
			continue;
		json_t *m = json_deep_copy(bm);
		json_t *own = json_object_get(oc, maps[i]);
		if (json_is_object(own))
			json_object_update(m, own);
		json_object_set_new(oc, maps[i], m);
	}
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
	json_t *bc = ctx->base_config;
	if (pc && !json_is_object(pc)) {
		rt_error_set(err, -EINVAL, "image config: expected an object");
		goto fail;
	}
	if (pc && runtime_config(pc, oc, err) < 0)
		goto fail;
	if (json_is_object(bc))
		inherit_config(bc, oc);
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
