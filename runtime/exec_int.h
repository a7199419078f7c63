/*
 * exec_int: what the executor's parts share (exec.c: the run, tasks, hosts;
 * bake.c: images). Private to the runtime.
 */
#ifndef KILN_EXEC_INT_H
#define KILN_EXEC_INT_H

#include "conn.h"
#include "exec.h"
#include "plan_status.h"
#include "secret.h"

#include <jansson.h>
#include <stdbool.h>

struct image_state {
	const char *name;
	char *key;    /* the cache key of its last stage (images built from it start there) */
	char *rootfs; /* the finished tree (kept for images built from it) */
	struct layer *layers; /* base first */
	size_t nlayers;
	json_t
	    *base_config; /* the runtime config its base image had (oci(), registry()), or NULL */
	bool ok;
	bool overlay; /* rootfs is an overlay mount over a tree kept in the cache */
};

struct executor {
	const struct apply_opts *o;
	struct events *ev;
	char *work;      /* this run's directory */
	json_t *secrets; /* name -> value */
	struct image_state *images;
	size_t nimages;
	struct conn *local; /* the build machine, for 'local' tasks */
	char *cache_dir;
	char *work_base;           /* the work directory (this run's is under it) */
	int cache_lock, work_lock; /* their locks (cache_lock), or -1 */
	json_t *keep;              /* values whose strings the recap borrows */
	struct plan_status status; /* the keys, what is cached and up to date */
	int climb;                 /* plan_path_climb: how far up the root paths may lead */
	struct cache_remote *cache_to, *cache_from; /* the shared stage cache, or NULL */
};

struct stage_run {
	struct executor *x;
	const char *image;
	const char *stage;
	struct conn *conn;
	json_t *facts;
	json_t *notified; /* handler name -> true */
	struct recap *recap;
	bool failed;
	bool testing; /* a test block: it checks, so 'changed' counts as ok */
};

/* Milliseconds of a monotonic clock. */
double exec_now_ms(void);
/* Remove a tree (what can be removed of it). */
void exec_rm_tree(const char *path);
/* The facts of the target c (os, arch, hostname, kernel). */
json_t *exec_gather_facts(struct conn *c);
/* Whether a plan value (a task, its arguments, its condition) reads a fact. */
bool exec_uses_facts(json_t *v);
/* Open a rootfs connection with the status thread held still (events_hold). */
int exec_open_rootfs(struct executor *x, const char *dir, struct conn **ret, struct rt_error *err);
/* Run tasks in order, then the handlers they notified; false when one failed and
   the image (or host) must stop. */
bool exec_run_tasks(struct stage_run *sr, json_t *tasks);
bool exec_run_handlers(struct stage_run *sr, json_t *handlers);

/* bake.c: an image's tree is no longer needed: kept in the cache as the tree of key (its
   last stage's; NULL: not kept) when it is a plain directory on the cache's file system,
   else removed (an overlay mount unmounted first). */
void bake_drop_tree(struct executor *x, struct image_state *st, const char *key);

/* bake.c: one image (its base or its parent's tree, its stages, its tests, its
   outputs); false when it failed (its events say why). */
bool bake_image(struct executor *x, json_t *plan, json_t *img, struct image_state *st,
                struct recap *recap, json_t *artifacts);

#endif
