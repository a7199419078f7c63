/*
 * output_config: the image's config blob (output_impl.h), the OCI image
 * config that docker load also reads: architecture, the plan's runtime
 * config merged over its parent images' as Docker's FROM does
 * (effective_config), over the base image's (oci(), registry()), the layers' diff_ids and their
 * history (a parent's entries kept), every time the image time.
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

/* The plan's image named name, or NULL. */
static json_t *plan_image_named(json_t *plan, const char *name)
{
	size_t i;
	json_t *img;
	json_array_foreach (plan_images(plan), i, img) {
		const char *n = plan_image_view(img).name;
		if (n && name && !strcmp(n, name))
			return img;
	}
	return NULL;
}

/* The parent image of img in the plan (built from it), or NULL. */
static json_t *parent_of(json_t *plan, json_t *img)
{
	const char *p = plan_image_view(img).from_image;
	return p && plan ? plan_image_named(plan, p) : NULL;
}

/*
 * An env value with the parent's variables put in, as Docker's ENV does: $NAME and
 * ${NAME} are the parent image's value of NAME (empty when it has none), $$ is a $; any
 * other $ stays. kiln's strings leave $NAME alone (only ${ } interpolates; \${NAME} or
 * '${NAME}' writes it), so PATH = "$PATH:/opt/bin" extends the parent's PATH.
 */
static char *expand_env(const char *v, json_t *parent_env)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = v; *p;) {
		if (p[0] != '$') {
			sb_addc(&sb, *p++);
			continue;
		}
		if (p[1] == '$') {
			sb_addc(&sb, '$');
			p += 2;
			continue;
		}
		bool brace = p[1] == '{';
		const char *n = p + 1 + brace;
		size_t len = 0;
		if ((n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z') || n[0] == '_')
			while ((n[len] >= 'A' && n[len] <= 'Z') ||
			       (n[len] >= 'a' && n[len] <= 'z') ||
			       (n[len] >= '0' && n[len] <= '9') || n[len] == '_')
				len++;
		if (!len || (brace && n[len] != '}')) {
			sb_addc(&sb, *p++);
			continue;
		}
		char *name = xstrndup(n, len);
		const char *pv = json_string_value(json_object_get(parent_env, name));
		free(name);
		if (pv)
			sb_adds(&sb, pv);
		p = n + len + brace;
	}
	return sb_detach(&sb);
}

/*
 * The image's run-time config as Docker builds it from FROM: its parent's (recursively),
 * then its own. env and labels merge (its own win); expose and volumes add up; entrypoint,
 * cmd, workdir, user and stop_signal replace the parent's, and an entrypoint of its own
 * with no cmd drops the parent's cmd. A new reference (plan config shape); an error for a
 * config that is not an object.
 */
static json_t *effective_config(json_t *plan, json_t *img, int depth, struct rt_error *err)
{
	json_t *parent = depth < 64 ? parent_of(plan, img) : NULL;
	json_t *eff = parent ? effective_config(plan, parent, depth + 1, err) : json_object();
	if (!eff)
		return NULL;
	json_t *pc = json_object_get(img, PLAN_K_CONFIG);
	if (!pc || json_is_null(pc))
		return eff;
	if (!json_is_object(pc)) {
		json_decref(eff);
		rt_error_set(err, -EINVAL, "image config: expected an object");
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach (pc, key, v) {
		if (json_is_null(v))
			continue;
		json_t *old = json_object_get(eff, key);
		if (!strcmp(key, "env") && json_is_object(v) && json_is_object(old)) {
			json_t *env = json_copy(old);
			const char *k;
			json_t *x;
			json_object_foreach (v, k, x) {
				if (json_is_string(x)) {
					char *e = expand_env(json_string_value(x), old);
					json_object_set_new(env, k, json_string(e));
					free(e);
				} else {
					json_object_set(env, k,
					                x); /* refused later, with its key */
				}
			}
			json_object_set_new(eff, key, env);
		} else if (!strcmp(key, "env") && json_is_object(v)) {
			json_t *env = json_object();
			const char *k;
			json_t *x;
			json_object_foreach (v, k, x) {
				if (json_is_string(x)) {
					char *e = expand_env(json_string_value(x), NULL);
					json_object_set_new(env, k, json_string(e));
					free(e);
				} else {
					json_object_set(env, k, x);
				}
			}
			json_object_set_new(eff, key, env);
		} else if (!strcmp(key, "labels") && json_is_object(v) && json_is_object(old)) {
			json_t *labels = json_copy(old);
			json_object_update(labels, v);
			json_object_set_new(eff, key, labels);
		} else if ((!strcmp(key, "expose") || !strcmp(key, "volumes")) &&
		           json_is_array(v) && json_is_array(old)) {
			json_t *all = json_copy(old);
			size_t i;
			json_t *x;
			json_array_foreach (v, i, x) {
				bool have = false;
				size_t j;
				json_t *y;
				json_array_foreach (all, j, y) {
					have = have || json_equal(x, y);
				}
				if (!have)
					json_array_append(all, x);
			}
			json_object_set_new(eff, key, all);
		} else {
			json_object_set(eff, key, v);
		}
	}
	json_t *own_cmd = json_object_get(pc, "cmd");
	if (parent && json_object_get(pc, "entrypoint") &&
	    !json_is_null(json_object_get(pc, "entrypoint")) && (!own_cmd || json_is_null(own_cmd)))
		json_object_del(eff, "cmd");
	return eff;
}

/* What made layer i of img's nlayers: its base, one of its stages, or (recursively) one of
   its parent image's, whose history it keeps. */
static char *layer_history(json_t *plan, json_t *img, size_t nlayers, size_t i, int depth)
{
	struct plan_image iv = plan_image_view(img);
	json_t *stages = iv.stages;
	size_t ns = json_array_size(stages);
	if (ns <= nlayers && i >= nlayers - ns) {
		json_t *st = json_array_get(stages, i - (nlayers - ns));
		const char *name = plan_block_view(st).name;
		return xasprintf("kiln stage %s", name ? name : "?");
	}
	const char *base = iv.from_base;
	if (i == 0 && base) {
		json_t *args = iv.from_args;
		size_t n;
		char *a = args ? out_json_text(args, &n) : xstrdup("{}");
		char *s = xasprintf("kiln base %s %s", base, a);
		free(a);
		return s;
	}
	json_t *parent = depth < 64 ? parent_of(plan, img) : NULL;
	if (parent && ns <= nlayers)
		return layer_history(plan, parent, nlayers - ns, i, depth + 1);
	if (iv.from_image)
		return xasprintf("kiln image %s, layer %zu", iv.from_image, i);
	return xasprintf("kiln layer %zu", i);
}

json_t *out_image_config(const struct output_ctx *ctx, struct rt_error *err)
{
	int64_t epoch;
	int r = out_epoch(&epoch, err);
	if (r < 0)
		return NULL;
	char *created = rfc3339(epoch);
	json_t *oc = json_object();
	json_t *pc = effective_config(ctx->plan, ctx->image, 0, err);
	if (!pc || runtime_config(pc, oc, err) < 0) {
		json_decref(pc);
		goto fail;
	}
	json_decref(pc);
	if (json_is_object(ctx->base_config))
		inherit_config(ctx->base_config, oc);
	json_t *diff_ids = json_array(), *history = json_array();
	for (size_t i = 0; i < ctx->nlayers; i++) {
		json_array_append_new(diff_ids, json_string(ctx->layers[i].diff_id));
		char *by = layer_history(ctx->plan, ctx->image, ctx->nlayers, i, 0);
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
